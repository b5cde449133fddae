//! Acting from a Q-network: greedy (argmax Q) or ε-greedy, for every agent of every env in a
//! few launches — what IQL, VDN and neural MF-Q act with during training, evaluation and
//! rendering.
//!
//! One network serves every agent of a group (parameter sharing, as IPPO's actor does): its
//! input ([`QInput`]) is the agent's own view, then — for MF-Q only — the neighbours' mean action
//! ā the env appends to it, then the agent's one-hot id where agents are distinct roles (MPE,
//! not crowds); its output is one value per action. Independent learners (IQL, the Mean Field
//! MARL paper's IL) never see ā. Exploration draws come from two counter-keyed device streams (which action, and
//! whether to explore), so an ε-greedy run is as reproducible as the env.

use std::sync::Arc;

use burn::tensor::{Bool, Int, Tensor};

use crate::env::{ActionSpace, Actions, AgentGroup, ObsLayout, RandomActions};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::train::actor_critic::model::{Mlp, MlpConfig};
use crate::train::algo::Algo;

/// What a Q-network reads of each agent's observation.
#[derive(Debug, Clone)]
pub struct QInput {
    /// Leading observation columns read: the own view, + ā for MF-Q.
    columns: usize,
    /// `[agents, agents]` identity where agents are distinct roles.
    agent_ids: Option<Tensor<2>>,
}

impl QInput {
    /// The input `algo` reads of `group`'s observations laid out as `layout` says.
    pub fn new(layout: ObsLayout, group: &AgentGroup, algo: Algo, device: &burn::tensor::Device) -> Result<QInput> {
        let columns = if algo == Algo::Mfq {
            if layout.mean_action == 0 {
                return Err(ShoalError::config("algo", "mfq", "neural MF-Q needs an env whose observation carries the mean action ā (battle): use iql here"));
            }
            layout.local + layout.mean_action
        } else {
            layout.local
        };
        Ok(QInput { columns, agent_ids: layout.distinct_agents.then(|| Tensor::eye(group.agents, device)) })
    }

    /// Input width of the network.
    pub fn width(&self) -> usize {
        self.columns + self.agent_ids.as_ref().map_or(0, |ids| ids.dims()[0])
    }

    /// `[envs, agents, obs] → [envs·agents, width]`.
    pub fn apply(&self, obs: Tensor<3>) -> Tensor<2> {
        let [envs, agents, dim] = obs.dims();
        let own = if self.columns < dim { obs.slice([0..envs, 0..agents, 0..self.columns]) } else { obs };
        match &self.agent_ids {
            Some(ids) => {
                let ids = ids.clone().unsqueeze_dim::<3>(0).expand([envs, agents, agents]);
                Tensor::cat(vec![own, ids], 2).reshape([envs * agents, self.columns + agents])
            }
            None => own.reshape([envs * agents, self.columns]),
        }
    }
}

/// The Q-network's shape for `input` with `actions` discrete actions (`hidden` wide, `layers` deep).
pub fn q_network_config(input: &QInput, actions: usize, hidden: usize, layers: usize) -> MlpConfig {
    MlpConfig::new(input.width(), actions).with_hidden(hidden).with_layers(layers)
}

/// The discrete action count of `group`, or an error naming the algorithm that needs it.
pub fn discrete_actions(group: &AgentGroup, algo: &str) -> Result<usize> {
    match group.action {
        ActionSpace::Discrete { n } => Ok(n),
        ActionSpace::Continuous { .. } => Err(ShoalError::config("continuous", true, format!("{algo} learns Q-values of discrete actions: set continuous = false"))),
    }
}

/// Q-values of every agent: `[envs · agents, actions]` from observations `[envs, agents, obs]`.
pub fn q_values(q: &Mlp, input: &QInput, obs: Tensor<3>) -> Tensor<2> {
    q.forward(input.apply(obs))
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
pub fn greedy_actions(q: &Mlp, input: &QInput, obs: Tensor<3>) -> Tensor<2, Int> {
    let [envs, agents, _] = obs.dims();
    q_values(q, input, obs).argmax(1).reshape([envs, agents])
}
