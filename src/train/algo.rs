//! The learning algorithms `shoal train` runs, by name.

use serde::{Deserialize, Serialize};

use super::actor_critic::model::Critic;

/// Which critic PPO trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    /// Independent PPO: decentralised critic `V(o_i)`; on swarm, without the neighbours' mean
    /// action ā in actor or critic.
    Ippo,
    /// Multi-agent PPO: centralised critic `V(o_1 … o_N)` (simple_spread).
    Mappo,
    /// Mean-field actor-critic (swarm): actor `π(a | o_i)`, critic `V(o_i, ā_i)` that also sees
    /// the neighbours' mean action.
    Mfac,
    /// Mean-field Q-learning: on ising tabular Q(s, a, ā) with a Boltzmann policy at
    /// `temperature`; on battle IQL's network on `Q(o, ā, a)` with the team's mean action ā.
    Mfq,
    /// Independent Q-learning: one DQN `Q(o_i, a_i)` shared by the agents (with an agent id),
    /// double-Q targets, ε-greedy, a device replay buffer.
    Iql,
    /// Value decomposition: IQL's networks trained through `Q_tot = Σ_i Q(o_i, a_i)` on the team
    /// reward.
    Vdn,
    /// Multi-agent DDPG: deterministic actors (Gumbel-softmax for discrete actions), centralised
    /// critics `Q_i(x, a_1 … a_N)`, target networks with Polyak averaging.
    Maddpg,
    /// DDPG per agent: MADDPG's actors with independent critics `Q_i(o_i, a_i)`.
    Ddpg,
    /// Counterfactual multi-agent policy gradients: a centralised critic `Q(s, u_−a, ·)` and the
    /// advantage that marginalises only the agent's own action.
    Coma,
}

impl Algo {
    /// The critic this algorithm trains.
    pub fn critic(self) -> Critic {
        match self {
            Algo::Ippo | Algo::Mfac | Algo::Mfq | Algo::Iql | Algo::Vdn | Algo::Ddpg => Critic::Ippo,
            Algo::Mappo | Algo::Maddpg | Algo::Coma => Critic::Mappo,
        }
    }

    /// Whether it learns from a replay buffer (IQL, VDN, MADDPG, DDPG, MF-Q — the neural one;
    /// on ising MF-Q's table learns from each step instead) rather than on-policy (PPO).
    pub fn is_off_policy(self) -> bool {
        matches!(self, Algo::Iql | Algo::Vdn | Algo::Maddpg | Algo::Ddpg | Algo::Mfq)
    }

    /// Whether it trains deterministic actors through critics (MADDPG, DDPG).
    pub fn is_actor_critic_off_policy(self) -> bool {
        matches!(self, Algo::Maddpg | Algo::Ddpg)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Ippo => "ippo",
            Algo::Mappo => "mappo",
            Algo::Mfac => "mfac",
            Algo::Mfq => "mfq",
            Algo::Iql => "iql",
            Algo::Vdn => "vdn",
            Algo::Maddpg => "maddpg",
            Algo::Ddpg => "ddpg",
            Algo::Coma => "coma",
        }
    }
}

