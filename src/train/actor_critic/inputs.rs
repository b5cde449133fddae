//! How observations become network inputs, read from the env's [`ObsLayout`] — so that the
//! learner never asks which env it trains on.
//!
//! - Distinct agents (simple_spread, simple): actor and critic inputs carry an agent one-hot id,
//!   and MAPPO's critic sees every agent's observation.
//! - Crowds (swarm, battle, ising): identical agents share one network and see no ids; the actor
//!   sees the `local` columns; MF-AC's critic `V(o_i, ā_i)` also sees the neighbours' mean action
//!   ā (the `mean_action` columns), the actor π(a | o_i) does not, as in Yang et al.'s MF-AC.
//! - Agent groups of different kinds (adversaries and good agents, speaker and listener): each
//!   group has its own networks, ids over its own agents; MAPPO's critic of a group sees every
//!   agent's observation of every group (the env's whole state, as the MADDPG paper's critics).

use burn::tensor::{Device, Tensor};

use super::model::{actor_input, critic_input, ActorCriticConfig};
use crate::env::{ActionSpace, BatchedEnv, EnvSpec, ObsLayout};
use crate::train::algo::Algo;
use crate::train::config::TrainConfig;

/// The actor–critic sizes of a run on an env of this spec and layout (its first group's).
pub fn model_config(config: &TrainConfig, spec: &EnvSpec, layout: ObsLayout) -> ActorCriticConfig {
    group_model_config(config, spec, layout, 0)
}

/// The actor–critic sizes of group `g`'s networks.
pub fn group_model_config(config: &TrainConfig, spec: &EnvSpec, layout: ObsLayout, g: usize) -> ActorCriticConfig {
    let group = &spec.groups[g];
    let (actions, continuous) = match group.action {
        ActionSpace::Discrete { n } => (n, false),
        ActionSpace::Continuous { dim, .. } => (dim, true),
    };
    let local = if spec.groups.len() == 1 { layout.local } else { group.obs_dim };
    let critic_extra = match config.algo {
        Algo::Mfac => layout.mean_action,
        // The other groups' observations, beside the group's own.
        Algo::Mappo if spec.groups.len() > 1 => joint_width(spec) - group.agents * group.obs_dim,
        _ => 0,
    };
    ActorCriticConfig::new(group.agents, local, actions, continuous, config.algo.critic())
        .with_agent_ids(layout.distinct_agents)
        .with_critic_extra(critic_extra)
        .with_hidden(config.hidden)
        .with_layers(config.layers)
        .with_shared_params(config.shared_params)
        .with_shared_trunk(config.shared_trunk)
}

/// Observation floats of one env over every agent of every group (a MAPPO critic's view).
pub fn joint_width(spec: &EnvSpec) -> usize {
    spec.groups.iter().map(|g| g.agents * g.obs_dim).sum()
}

/// Every group's observations of each env side by side, `[envs, joint_width]`.
pub fn joint_obs(obs: &[Tensor<3>]) -> Tensor<2> {
    let flat: Vec<Tensor<2>> = obs
        .iter()
        .map(|o| {
            let [envs, agents, dim] = o.dims();
            o.clone().reshape([envs, agents * dim])
        })
        .collect();
    Tensor::cat(flat, 1)
}

/// Builds actor and critic inputs `[envs·agents, width]` from observations `[envs, agents, obs]`.
pub struct Inputs {
    layout: ObsLayout,
    algo: Algo,
    /// `[agents, agents]` one-hot ids (distinct agents), else a `[1, 1]` placeholder.
    agent_ids: Tensor<2>,
    /// The env has several groups: MAPPO's critic reads [`joint_obs`].
    joint: bool,
}

impl Inputs {
    /// The input builder of a run of `algo` on `env` (its first group).
    pub fn new(env: &dyn BatchedEnv, algo: Algo, device: &Device) -> Inputs {
        Self::for_group(env, 0, algo, device)
    }

    /// The input builder of group `g`'s networks.
    pub fn for_group(env: &dyn BatchedEnv, g: usize, algo: Algo, device: &Device) -> Inputs {
        let spec = env.spec();
        let mut layout = env.obs_layout();
        if spec.groups.len() > 1 {
            layout = ObsLayout { local: spec.groups[g].obs_dim, mean_action: 0, distinct_agents: true };
        }
        let ids = if layout.distinct_agents { spec.groups[g].agents } else { 1 };
        Inputs { layout, algo, agent_ids: Tensor::eye(ids, device), joint: spec.groups.len() > 1 }
    }

    /// The critic's input where the env has several groups: MAPPO's from every group's
    /// observations (`all`, the env's groups in order), else as [`Inputs::critic`].
    pub fn critic_of_groups(&self, obs: Tensor<3>, all: &[Tensor<3>]) -> Tensor<2> {
        if !(self.joint && self.algo == Algo::Mappo) {
            return self.critic(obs);
        }
        let [envs, agents, _] = obs.dims();
        let joint = joint_obs(all);
        let width = joint.dims()[1];
        let joint = joint.unsqueeze_dim::<3>(1).expand([envs, agents, width]);
        let ids = self.agent_ids.clone().unsqueeze_dim::<3>(0).expand([envs, agents, agents]);
        Tensor::cat(vec![joint, ids], 2).reshape([envs * agents, width + agents])
    }

    /// The actor's input.
    pub fn actor(&self, obs: Tensor<3>) -> Tensor<2> {
        if self.layout.distinct_agents {
            actor_input(obs, &self.agent_ids)
        } else {
            local_columns(obs, self.layout.local)
        }
    }

    /// The critic's input.
    pub fn critic(&self, obs: Tensor<3>) -> Tensor<2> {
        if self.layout.distinct_agents {
            critic_input(obs, &self.agent_ids, self.algo.critic())
        } else if self.algo == Algo::Mfac {
            local_columns(obs, self.layout.local + self.layout.mean_action)
        } else {
            local_columns(obs, self.layout.local)
        }
    }
}

/// The first `width` observation columns of every agent, `[envs·agents, width]`.
fn local_columns(obs: Tensor<3>, width: usize) -> Tensor<2> {
    let [envs, agents, dim] = obs.dims();
    let obs = if width == dim { obs } else { obs.slice([0..envs, 0..agents, 0..width]) };
    obs.reshape([envs * agents, width])
}
