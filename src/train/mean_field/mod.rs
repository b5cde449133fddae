//! Mean-field value learners: MF-Q (Yang et al. 2018) on the Ising model. The mean-field
//! actor-critic (MF-AC) is PPO with a critic that sees the neighbours' mean action: it lives with
//! the other actor-critic learners ([`super::actor_critic`]).

pub mod mfq;
