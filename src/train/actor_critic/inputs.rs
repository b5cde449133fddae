//! How observations become network inputs, read from the env's [`ObsLayout`] — so that the
//! learner never asks which env it trains on.
//!
//! - Distinct agents (simple_spread, simple): actor and critic inputs carry an agent one-hot id,
//!   and MAPPO's critic sees every agent's observation.
//! - Crowds (swarm, battle, ising): identical agents share one network and see no ids; the actor
//!   sees the `local` columns; MF-AC's critic `V(o_i, ā_i)` also sees the neighbours' mean action
//!   ā (the `mean_action` columns), the actor π(a | o_i) does not, as in Yang et al.'s MF-AC.

use burn::tensor::{Device, Tensor};

use super::model::{actor_input, critic_input, ActorCriticConfig};
use crate::env::{ActionSpace, BatchedEnv, EnvSpec, ObsLayout};
use crate::train::algo::Algo;
use crate::train::config::TrainConfig;

/// The actor–critic sizes of a run on an env of this spec and layout.
pub fn model_config(config: &TrainConfig, spec: &EnvSpec, layout: ObsLayout) -> ActorCriticConfig {
    let group = &spec.groups[0];
    let (actions, continuous) = match group.action {
        ActionSpace::Discrete { n } => (n, false),
        ActionSpace::Continuous { dim, .. } => (dim, true),
    };
    let critic_extra = if config.algo == Algo::Mfac { layout.mean_action } else { 0 };
    ActorCriticConfig::new(group.agents, layout.local, actions, continuous, config.algo.critic())
        .with_agent_ids(layout.distinct_agents)
        .with_critic_extra(critic_extra)
        .with_hidden(config.hidden)
        .with_layers(config.layers)
        .with_shared_params(config.shared_params)
}

/// Builds actor and critic inputs `[envs·agents, width]` from observations `[envs, agents, obs]`.
pub struct Inputs {
    layout: ObsLayout,
    algo: Algo,
    /// `[agents, agents]` one-hot ids (distinct agents), else a `[1, 1]` placeholder.
    agent_ids: Tensor<2>,
}

impl Inputs {
    /// The input builder of a run of `algo` on `env`.
    pub fn new(env: &dyn BatchedEnv, algo: Algo, device: &Device) -> Inputs {
        let layout = env.obs_layout();
        let ids = if layout.distinct_agents { env.spec().groups[0].agents } else { 1 };
        Inputs { layout, algo, agent_ids: Tensor::eye(ids, device) }
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
