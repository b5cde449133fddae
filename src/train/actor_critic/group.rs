//! One agent group's PPO learner: its networks, optimizer, action noise, input builder, and the
//! rollout it collects. A [`super::trainer::Trainer`] runs one per group of the env — a single
//! one for most envs; one per kind for mpe2's mixed scenarios (adversaries and good agents,
//! speaker and listener), each with its own networks and critic, trained at the same time on the
//! same env steps, each on its own agents' rewards (independent learners between groups, as the
//! MADDPG paper trains its competing teams).

use std::sync::Arc;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use super::adam::{FusedAdam, FusedAdamConfig};
use super::gae::truncation_bootstrap;
use super::inputs::{group_model_config, Inputs};
use super::model::{Action, ActorCritic, ActorCriticConfig};
use super::noise::PolicyNoise;
use super::policy_kernel::RolloutPolicy;
use super::ppo::{normalize, ppo_loss, PpoCoefficients, PpoLoss};
use super::rollout::{Minibatches, Rollout, RolloutBatch};
use crate::env::{BatchedEnv, EnvSpec, StepOutput};
use crate::error::Result;
use crate::gpu::{GpuContext, SeededInit};
use crate::train::config::TrainConfig;

/// Collects the id and rank of every float parameter (for global gradient clipping).
struct FloatParams(Vec<(ParamId, usize)>);

impl ModuleVisitor for FloatParams {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

/// The learner of one agent group.
pub struct GroupLearner {
    /// The group's index in the env's spec.
    pub index: usize,
    /// Its name (`agent`, `adversary`, ...).
    pub name: String,
    /// Index of its first agent among all the env's agents.
    pub first_agent: usize,
    /// Its agents per env.
    pub agents: usize,
    pub(super) model: ActorCritic,
    pub(super) shape: ActorCriticConfig,
    pub(super) optim: ModuleOptimizer,
    /// The fused optimizer behind `optim` (queues the gradient norms before each step).
    pub(super) adam: FusedAdam,
    pub(super) noise: PolicyNoise,
    /// The rollout's policy step as one kernel (`None`: `fused_rollout` off or per-agent
    /// networks; burn's tensor ops then).
    pub(super) rollout_policy: Option<RolloutPolicy>,
    /// Actor and critic inputs from observations.
    pub(super) inputs: Inputs,
}

/// What one group collects over a rollout.
#[derive(Default)]
pub struct GroupRollout {
    actor_x: Vec<Tensor<2>>,
    critic_x: Vec<Tensor<2>>,
    actions: Vec<Action>,
    terms: Rollout,
}

impl GroupLearner {
    /// Group `g` of `env`'s networks (drawn from `init`'s seeded stream) and optimizer.
    pub fn new(ctx: &Arc<GpuContext>, config: &TrainConfig, env: &dyn BatchedEnv, g: usize, init: &SeededInit, device: &Device) -> Result<GroupLearner> {
        let spec = env.spec();
        let group = &spec.groups[g];
        let shape = group_model_config(config, spec, env.obs_layout(), g);
        let model = init.draw(shape.init(device));
        let rollout_policy = if config.fused_rollout { RolloutPolicy::new(ctx.clone(), &shape, config.envs * group.agents) } else { None };
        // Group 0 draws the stream a single-group run always drew.
        let seed = config.seed ^ 0x5EED_0F_AC71 ^ (g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let noise = PolicyNoise::new(ctx.clone(), &group.action, group.agents, config.envs, seed)?;
        let (adam, optim) = optimizer(ctx, config, &model);
        Ok(GroupLearner {
            index: g,
            name: group.name.clone(),
            first_agent: spec.groups[..g].iter().map(|gr| gr.agents).sum(),
            agents: group.agents,
            inputs: Inputs::for_group(env, g, config.algo, ctx.device()),
            model,
            shape,
            optim,
            adam,
            noise,
            rollout_policy,
        })
    }

    /// Re-lists the parameters for Adam after the model was replaced (a checkpoint load
    /// restores the saved parameter ids, which Adam's state is keyed by).
    pub fn reset_optimizer(&mut self, ctx: &Arc<GpuContext>, config: &TrainConfig) {
        (self.adam, self.optim) = optimizer(ctx, config, &self.model);
    }

    /// The group's critic input from its observations and every group's (MAPPO across groups).
    fn critic_x(&self, obs: &[Tensor<3>]) -> Tensor<2> {
        self.inputs.critic_of_groups(obs[self.index].clone(), obs)
    }

    /// The value of every agent of the group from the observations `obs` (all groups).
    pub fn value(&self, policy: &ActorCritic, obs: &[Tensor<3>]) -> Tensor<1> {
        policy.value(self.critic_x(obs)).without_autodiff()
    }

    /// Acts on `obs` (all groups) with `policy` (the group's model off the autodiff graph),
    /// keeping what the update needs in `rollout`. Returns the actions `[envs·agents(, dim)]`.
    pub fn act(&mut self, policy: &ActorCritic, obs: &[Tensor<3>], rollout: &mut GroupRollout) -> Result<Action> {
        let ax = self.inputs.actor(obs[self.index].clone());
        let cx = self.critic_x(obs);
        let noise = self.noise.sample()?;
        let (action, log_prob, value) = match &self.rollout_policy {
            Some(fused) => {
                let step = fused.act(ax.clone(), cx.clone(), noise)?;
                (step.action, step.log_prob, step.value)
            }
            None => {
                let (out, value) = policy.act_with_value(ax.clone(), cx.clone(), Some(noise));
                (out.action, out.log_prob.without_autodiff(), value.without_autodiff())
            }
        };
        rollout.actor_x.push(ax);
        rollout.critic_x.extend(policy.critic_part(cx));
        rollout.actions.push(action.clone());
        rollout.terms.log_probs_and_values(log_prob, value);
        Ok(action)
    }

    /// Books the group's part of an env step: its agents' rewards (bootstrapped at time limits
    /// from the terminal observations when `may_end`) and the episode ends.
    pub fn observe(&self, policy: &ActorCritic, step: &StepOutput, may_end: bool, gamma: f32, envs: usize, rollout: &mut GroupRollout) {
        let (first, agents) = (self.first_agent, self.agents);
        let rows = envs * agents;
        let per_agent = |flag: Tensor<1>| flag.unsqueeze_dim::<2>(1).expand([envs, agents]).reshape([rows]);
        let [_, all_agents] = step.reward.dims();
        let reward = if agents == all_agents { step.reward.clone() } else { step.reward.clone().slice([0..envs, first..first + agents]) };
        let mut reward = reward.reshape([rows]);
        if let Some(terminal) = step.terminal_obs.as_ref().filter(|_| may_end) {
            // Time limits are not terminal states: bootstrap from the state they cut off.
            let terminal_value = self.value(policy, terminal);
            reward = reward + truncation_bootstrap(terminal_value, per_agent(step.truncated.clone()), gamma);
        }
        rollout.terms.rewards_and_dones(reward, per_agent(step.done.clone()));
    }

    /// PPO epochs on the group's rollout (values at the rollout's end: `last_value`). Returns
    /// the last minibatch's loss terms.
    /// `mark` books the phases for `shoal bench --learner --profile`.
    pub fn update(
        &mut self,
        ctx: &GpuContext,
        rollout: GroupRollout,
        last_value: Tensor<1>,
        config: &TrainConfig,
        (update, lr): (usize, f64),
        mark: &mut dyn FnMut(&'static str) -> Result<()>,
    ) -> Result<PpoLoss> {
        let batch: RolloutBatch = rollout.terms.finish(ctx, last_value, config.gamma, config.gae_lambda)?;
        let critic_x = (!rollout.critic_x.is_empty()).then(|| Tensor::cat(rollout.critic_x, 0));
        let (actor_x, actions) = (Tensor::cat(rollout.actor_x, 0), Action::cat(rollout.actions));
        mark("advantages (GAE), batch assembly")?;
        let coefficients = PpoCoefficients { clip_eps: config.clip_eps, vf_coef: config.vf_coef, ent_coef: config.ent_coef, clip_value: config.clip_value };
        let minibatches = Minibatches {
            epochs: config.update_epochs,
            minibatches: config.num_minibatches,
            rows: config.rollout_steps * config.envs,
            row_width: self.agents,
            seed: config.seed ^ (self.index as u64).wrapping_mul(0xA24B_AED4_963E_E407),
            update,
        };
        let mut last_terms = None;
        minibatches.run(ctx, |minibatch, idx| {
            if minibatch == 0 {
                mark("update: minibatch order (upload)")?;
            }
            let mb_actions = actions.select(idx.clone());
            let mb_actor_x = actor_x.clone().select(0, idx.clone());
            let mb_critic_x = critic_x.as_ref().map(|x| x.clone().select(0, idx.clone()));
            mark("update: minibatch gathers")?;
            let (log_prob, entropy, value) = self.model.evaluate_with_value(mb_actor_x, mb_critic_x, &mb_actions);
            let loss = ppo_loss(
                log_prob,
                batch.old_log_probs.clone().select(0, idx.clone()),
                normalize(batch.advantages.clone().select(0, idx.clone())),
                value,
                batch.old_values.clone().select(0, idx.clone()),
                batch.returns.clone().select(0, idx),
                entropy,
                coefficients,
            );
            mark("update: forward, loss")?;
            let grads = GradientsParams::from_grads(loss.total.backward(), &self.model);
            mark("update: backward")?;
            self.adam.prepare(&grads)?;
            self.model = self.optim.step(lr, self.model.clone(), grads);
            mark("update: clip + Adam")?;
            last_terms = Some(loss);
            Ok(())
        })?;
        last_terms.ok_or_else(|| crate::error::ShoalError::Internal("no minibatch ran".into()))
    }

    /// The checkpoint file names of this group's model and optimizer (group 0's are those of
    /// single-group runs).
    pub fn file_names(&self) -> (String, String) {
        file_names(self.index, &self.name)
    }
}

/// `model.bpk`/`optimizer.bpk` for group 0, `model.<group>.bpk`/... for the others.
pub fn file_names(index: usize, name: &str) -> (String, String) {
    if index == 0 {
        ("model.bpk".into(), "optimizer.bpk".into())
    } else {
        (format!("model.{name}.bpk"), format!("optimizer.{name}.bpk"))
    }
}

/// Adam (ε = 1e-5) with global-norm clipping over the model's parameters, as fused kernels.
fn optimizer(ctx: &Arc<GpuContext>, config: &TrainConfig, model: &ActorCritic) -> (FusedAdam, ModuleOptimizer) {
    let mut params = FloatParams(Vec::new());
    model.visit(&mut params);
    let adam = FusedAdamConfig { max_grad_norm: Some(config.max_grad_norm), ..FusedAdamConfig::default() };
    FusedAdam::init(ctx.clone(), adam, params.0)
}

/// Each agent group's episode returns (its agents' mean reward summed over the episode),
/// accumulated on the device: the running episodes' `[envs]` per group, and the sums over the
/// episodes completed since the last [`GroupReturns::take_completed`].
pub struct GroupReturns {
    /// `(first agent, agents)` of each group.
    spans: Vec<(usize, usize)>,
    /// Returns of the running episodes, `[envs]` per group.
    pub running: Vec<Tensor<1>>,
    completed: Vec<Tensor<1>>,
}

/// `(first agent, agents)` of each of `spec`'s groups in its `[envs, agents]` reward rows.
pub fn group_spans(spec: &EnvSpec) -> Vec<(usize, usize)> {
    let mut first = 0;
    spec.groups
        .iter()
        .map(|g| {
            first += g.agents;
            (first - g.agents, g.agents)
        })
        .collect()
}

impl GroupReturns {
    /// Zero returns for every group of `spec`'s envs.
    pub fn new(spec: &EnvSpec, device: &Device) -> GroupReturns {
        let spans = group_spans(spec);
        let zeros = || Tensor::<1>::zeros([spec.n_envs], device);
        GroupReturns { running: spans.iter().map(|_| zeros()).collect(), completed: spans.iter().map(|_| zeros()).collect(), spans }
    }

    /// Adds a step's mean reward of each group's agents to its running returns; moves those of
    /// envs whose episode ended (`done`) to the completed sums.
    pub fn book(&mut self, reward: &Tensor<2>, done: &Tensor<1>) {
        let [envs, _] = reward.dims();
        for (g, &(first, agents)) in self.spans.iter().enumerate() {
            let mean = reward.clone().slice([0..envs, first..first + agents]).mean_dim(1).reshape([envs]);
            let running = self.running[g].clone() + mean;
            self.completed[g] = self.completed[g].clone() + running.clone() * done.clone();
            self.running[g] = running * (done.clone().neg() + 1.0);
        }
    }

    /// The completed episodes' return sums per group, `[1]` each (still on the device), and a
    /// fresh start for the next ones.
    pub fn take_completed(&mut self) -> Vec<Tensor<1>> {
        let sums = self.completed.iter().map(|c| c.clone().sum()).collect();
        self.completed = self.completed.iter().map(|c| c.zeros_like()).collect();
        sums
    }
}
