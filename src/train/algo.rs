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
    /// Mean-field Q-learning (ising): tabular Q(s, a, ā), Boltzmann policy at `temperature`.
    Mfq,
}

impl Algo {
    /// The critic this algorithm trains.
    pub fn critic(self) -> Critic {
        match self {
            Algo::Ippo | Algo::Mfac | Algo::Mfq => Critic::Ippo,
            Algo::Mappo => Critic::Mappo,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Ippo => "ippo",
            Algo::Mappo => "mappo",
            Algo::Mfac => "mfac",
            Algo::Mfq => "mfq",
        }
    }
}

