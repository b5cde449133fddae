//! One agent group's networks for MADDPG and DDPG, and the inputs of their critics.
//!
//! Every group has an actor `μ(o_i, i)` shared by its agents (with a one-hot agent id, as IPPO's
//! actor) and a critic shared the same way, each with a target copy:
//! - **MADDPG** (Lowe et al. 2017): the critic is centralised, `Q_i(x, a_1 … a_N)` — every
//!   agent's observation and action in the env, all groups, plus agent i's id. It is needed only
//!   in training; acting uses `μ(o_i)` alone.
//! - **DDPG** (Lillicrap et al. 2016), the paper's independent baseline: `Q_i(o_i, a_i)`.
//!
//! Rows are agent-minor (`env · agents + agent`) as everywhere in shoal.

use std::sync::Arc;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor};

use super::actor::critic_width;
use crate::env::{AgentGroup, EnvSpec};
use crate::error::Result;
use crate::gpu::{GpuContext, SeededInit};
use crate::train::actor_critic::model::{actor_input, Mlp, MlpConfig};
use crate::train::actor_critic::noise::PolicyNoise;
use crate::train::config::TrainConfig;

/// One group's actor and critic, their targets, optimizers and noise streams.
pub struct GroupNets {
    /// The group (name, agents, spaces).
    pub group: AgentGroup,
    /// Column of the group's first agent in the env's `[envs, agents]` reward rows.
    pub reward_offset: usize,
    /// `[agents, agents]` identity: the one-hot agent ids.
    pub agent_ids: Tensor<2>,
    /// The online actor and critic (autodiff) and their targets (no autodiff).
    pub actor: Mlp,
    pub actor_target: Mlp,
    pub critic: Mlp,
    pub critic_target: Mlp,
    pub actor_optim: ModuleOptimizer,
    pub critic_optim: ModuleOptimizer,
    /// Exploration draws of the rollout (one per env step).
    pub rollout_noise: PolicyNoise,
    /// Gumbel draws of the actor update (one per gradient step; discrete actions only).
    pub update_noise: Option<PolicyNoise>,
}

/// The actor's shape for `group`.
pub fn actor_config(group: &AgentGroup, config: &TrainConfig) -> MlpConfig {
    MlpConfig::new(group.obs_dim + group.agents, critic_width(&group.action)).with_hidden(config.hidden).with_layers(config.layers)
}

/// The critic's shape for group `g` of `spec`: centralised (all observations and actions) or
/// independent (the agent's own).
pub fn critic_config(spec: &EnvSpec, g: usize, centralised: bool, config: &TrainConfig) -> MlpConfig {
    let own = &spec.groups[g];
    let seen = if centralised {
        spec.groups.iter().map(|h| h.agents * (h.obs_dim + critic_width(&h.action))).sum()
    } else {
        own.obs_dim + critic_width(&own.action)
    };
    MlpConfig::new(seen + own.agents, 1).with_hidden(config.hidden).with_layers(config.layers)
}

/// Adam (ε 1e-5) with each gradient tensor clipped to `max_grad_norm` (MADDPG's 0.5 per
/// variable), as fused kernels.
pub fn optimizer(ctx: &Arc<GpuContext>, config: &TrainConfig) -> ModuleOptimizer {
    crate::train::actor_critic::adam::adam_clipping_each_tensor(ctx, config.max_grad_norm)
}

impl GroupNets {
    /// Fresh networks for group `g` of `spec` on `device` (autodiff), noise for `envs` envs and
    /// batches of `batch` transitions.
    pub fn new(ctx: &Arc<GpuContext>, spec: &EnvSpec, g: usize, centralised: bool, config: &TrainConfig, init: &SeededInit, device: &Device) -> Result<GroupNets> {
        let group = spec.groups[g].clone();
        let actor = init.draw(actor_config(&group, config).init(device));
        let critic = init.draw(critic_config(spec, g, centralised, config).init(device));
        let seed = config.seed ^ (0x3ADD_9600 + g as u64);
        let update_noise = match group.action {
            crate::env::ActionSpace::Discrete { .. } => Some(PolicyNoise::new(ctx.clone(), &group.action, group.agents, config.batch_size, seed ^ 0x6A3B)?),
            crate::env::ActionSpace::Continuous { .. } => None,
        };
        Ok(GroupNets {
            reward_offset: spec.groups[..g].iter().map(|h| h.agents).sum(),
            agent_ids: Tensor::eye(group.agents, ctx.device()),
            actor_target: actor.valid(),
            critic_target: critic.valid(),
            actor,
            critic,
            actor_optim: optimizer(ctx, config),
            critic_optim: optimizer(ctx, config),
            rollout_noise: PolicyNoise::new(ctx.clone(), &group.action, group.agents, config.envs, seed)?,
            update_noise,
            group,
        })
    }

    /// The actor's raw outputs `[rows · agents, width]` for observations `[rows, agents, obs]`.
    pub fn actor_output(&self, actor: &Mlp, obs: Tensor<3>) -> Tensor<2> {
        actor.forward(actor_input(obs, &self.agent_ids))
    }

    /// Width of one agent's action as the critics see it.
    pub fn action_width(&self) -> usize {
        critic_width(&self.group.action)
    }
}

/// Each group's `[rows, agents, x]` flattened to one `[rows, agents · x]` row per env and
/// repeated for each of `agents` critic rows: `[rows, agents_of_critic, agents · x]`.
pub fn per_critic_row(part: &Tensor<3>, critic_agents: usize) -> Tensor<3> {
    let [rows, agents, width] = part.dims();
    part.clone().reshape([rows, 1, agents * width]).expand([rows, critic_agents, agents * width])
}

/// `[rows, agents, agents · width]`: row `i` holds every agent's `taken` action except its own,
/// which is `own[i]` — what agent i's centralised critic sees when only its own action changes
/// (the MADDPG actor gradient: the others' actions stay those of the replay buffer).
pub fn with_own_action(taken: &Tensor<3>, own: Tensor<3>) -> Tensor<3> {
    let [rows, agents, width] = taken.dims();
    let shape = [rows, agents, agents, width];
    let eye: Tensor<2> = Tensor::eye(agents, &taken.device());
    let mine = eye.reshape([1, agents, agents, 1]).expand(shape);
    let others = mine.clone().neg().add_scalar(1.0);
    let taken = taken.clone().unsqueeze_dim::<4>(1).expand(shape);
    let own = own.unsqueeze_dim::<4>(2).expand(shape);
    (taken * others + own * mine).reshape([rows, agents, agents * width])
}

/// The critic input of group `g`'s agents, `[rows · agents_g, width]`.
/// - centralised: every group's observations, then every group's actions as `action_rows`
///   gives them (`[rows, agents_g, agents_h · width_h]` per group h), then the agent id;
/// - independent: the agent's observation, its action (`action_rows[g]` holding
///   `[rows, agents_g, width_g]`), its id.
pub fn critic_input(nets: &GroupNets, obs: &[Tensor<3>], g: usize, action_rows: Vec<Tensor<3>>, centralised: bool) -> Tensor<2> {
    let [rows, agents, _] = obs[g].dims();
    let ids = nets.agent_ids.clone().unsqueeze_dim::<3>(0).expand([rows, agents, agents]);
    let parts: Vec<Tensor<3>> = if centralised {
        obs.iter().map(|o| per_critic_row(o, agents)).chain(action_rows).chain(std::iter::once(ids)).collect()
    } else {
        let own = action_rows.into_iter().nth(g).expect("one action tensor per group");
        vec![obs[g].clone(), own, ids]
    };
    let joined = Tensor::cat(parts, 2);
    let width = joined.dims()[2];
    joined.reshape([rows * agents, width])
}

/// Every group's actions as group `g`'s critic rows see them when no action is replaced.
pub fn action_rows(actions: &[Tensor<3>], g: usize, centralised: bool) -> Vec<Tensor<3>> {
    let agents = actions[g].dims()[1];
    if centralised {
        actions.iter().map(|a| per_critic_row(a, agents)).collect()
    } else {
        actions.to_vec()
    }
}
