//! Learning on the device, by family:
//!
//! - [`actor_critic`]: PPO with independent (IPPO), centralised (MAPPO) or mean-field (MF-AC)
//!   critics — the trainer, its model, GAE, the PPO objective, the fused Adam, evaluation;
//! - [`mean_field`]: mean-field Q-learning (MF-Q) on the Ising model;
//! - [`off_policy`]: learners from the device-resident replay buffer — IQL, VDN, MADDPG, DDPG;
//! - [`population`]: learning against populations of policies on two-player games — league
//!   self-play, PSRO — and the Battle arena;
//! - [`checkpoint`]: what every `shoal train` learner shares (metrics, progress, checkpoints, the
//!   [`Learner`] trait), [`run`], which picks the learner a config asks for, and [`acting`],
//!   which plays any family's checkpoint (eval, render, reports).
//!
//! The configuration ([`config`], [`algo`]) names the env by its registry kind
//! ([`crate::env::EnvKind`]); learners read everything else from the env itself.

pub mod acting;
pub mod actor_critic;
pub mod algo;
pub mod checkpoint;
pub mod config;
pub mod mean_field;
pub mod off_policy;
pub mod population;
pub mod run;
pub mod session;
pub mod store;

// The families' modules, also at their earlier paths (`shoal::train::gae`, `shoal::train::psro`).
pub use actor_critic::{adam, eval, gae, inputs, model, noise, policy_kernel, ppo, profile, trainer};
pub use mean_field::mfq;
pub use population::{arena, league, pool, psro, selfplay};

pub use actor_critic::eval::{evaluate, load_model, load_models, to_env_actions, EvalResult};
pub use actor_critic::gae::{gae, truncation_bootstrap};
pub use actor_critic::inputs::{model_config, Inputs};
pub use actor_critic::model::{actor_input, critic_input, Action, ActorCritic, ActorCriticConfig, Critic, Mlp, MlpConfig};
pub use actor_critic::noise::PolicyNoise;
pub use actor_critic::ppo::{normalize, ppo_loss, PpoCoefficients, PpoLoss};
pub use actor_critic::trainer::Trainer;
pub use algo::Algo;
pub use checkpoint::{CheckpointState, Learner, Progress, UpdateMetrics};
pub use config::TrainConfig;
pub use run::{new_learner, resume_learner};
pub use store::{locate_checkpoint, verify_checkpoint, RunLock};
