//! Acting from a Q-network: greedy (argmax Q) or ε-greedy, for every agent of every env in a
//! few launches — what IQL and VDN act with during training, evaluation and rendering.
//!
//! One network serves every agent of a group (parameter sharing, as IPPO's actor does): its
//! input is the agent's observation followed by the agent's one-hot id, its output one value per
//! action. Exploration draws come from two counter-keyed device streams (which action, and
//! whether to explore), so an ε-greedy run is as reproducible as the env.

use std::sync::Arc;

use burn::tensor::{Bool, Int, Tensor};

use crate::env::{ActionSpace, Actions, AgentGroup, RandomActions};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::train::actor_critic::model::{actor_input, Mlp, MlpConfig};

/// The Q-network's shape for a group of `agents` agents observing `obs_dim` floats with `actions`
/// discrete actions (`hidden` wide, `layers` deep).
pub fn q_network_config(obs_dim: usize, agents: usize, actions: usize, hidden: usize, layers: usize) -> MlpConfig {
    MlpConfig::new(obs_dim + agents, actions).with_hidden(hidden).with_layers(layers)
}

/// The discrete action count of `group`, or an error naming the algorithm that needs it.
pub fn discrete_actions(group: &AgentGroup, algo: &str) -> Result<usize> {
    match group.action {
        ActionSpace::Discrete { n } => Ok(n),
        ActionSpace::Continuous { .. } => Err(ShoalError::config("continuous", true, format!("{algo} learns Q-values of discrete actions: set continuous = false"))),
    }
}

/// Q-values of every agent: `[envs · agents, actions]` from observations `[envs, agents, obs]`.
pub fn q_values(q: &Mlp, obs: Tensor<3>, agent_ids: &Tensor<2>) -> Tensor<2> {
    q.forward(actor_input(obs, agent_ids))
}

/// Uniform exploration for `envs` envs of one group: a random action and a coin per agent.
pub struct Explorer {
    random: RandomActions,
    coins: RandomActions,
    envs: usize,
    agents: usize,
}

impl Explorer {
    /// Streams for `group` over `envs` envs, seeded by `seed`.
    pub fn new(ctx: &Arc<GpuContext>, group: &AgentGroup, envs: usize, seed: u64) -> Result<Explorer> {
        let coin = AgentGroup { action: ActionSpace::Continuous { dim: 1, low: 0.0, high: 1.0 }, ..group.clone() };
        Ok(Explorer {
            random: RandomActions::new(ctx.clone(), group, envs, seed ^ 0xE9_5E7D)?,
            coins: RandomActions::new(ctx.clone(), &coin, envs, seed ^ 0xC0_1175)?,
            envs,
            agents: group.agents,
        })
    }

    /// Sets how many draws both streams have made (to resume a run exactly).
    pub fn set_calls(&mut self, calls: u32) -> Result<()> {
        self.random.set_calls(calls)?;
        self.coins.set_calls(calls)
    }

    /// `greedy` actions `[envs, agents]` with each replaced, with probability `epsilon`, by a
    /// uniformly random one.
    pub fn epsilon_greedy(&mut self, greedy: Tensor<2, Int>, epsilon: f32) -> Tensor<2, Int> {
        let Actions::Discrete(random) = self.random.sample() else { unreachable!("a discrete group") };
        let Actions::Continuous(coins) = self.coins.sample() else { unreachable!("a continuous stream") };
        let explore: Tensor<2, Bool> = coins.reshape([self.envs, self.agents]).lower_elem(epsilon);
        greedy.mask_where(explore, random)
    }
}

/// The greedy actions `[envs, agents]` of `q` on observations `[envs, agents, obs]`.
pub fn greedy_actions(q: &Mlp, obs: Tensor<3>, agent_ids: &Tensor<2>) -> Tensor<2, Int> {
    let [envs, agents, _] = obs.dims();
    q_values(q, obs, agent_ids).argmax(1).reshape([envs, agents])
}
