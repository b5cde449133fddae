//! Learning on the device: advantage estimation and the PPO objective (IPPO/MAPPO building
//! blocks). The training loop, models and checkpoints build on these.

pub mod adam;
pub mod arena;
pub mod config;
pub mod envs;
pub mod eval;
pub mod gae;
pub mod mfq;
pub mod ppo;
pub mod league;
pub mod psro;
pub mod selfplay;

pub use gae::{gae, truncation_bootstrap};
pub use ppo::{normalize, ppo_loss, PpoCoefficients, PpoLoss};
pub mod model;
pub mod noise;
pub mod policy_kernel;
pub mod profile;

pub use envs::{model_config, Inputs, TrainEnv};
pub use eval::{evaluate, to_env_actions, EvalResult};
pub use noise::PolicyNoise;
pub use model::{actor_input, critic_input, Action, ActorCritic, ActorCriticConfig, Critic, Mlp, MlpConfig};
pub mod trainer;

pub use config::{Algo, TrainConfig, TrainEnvName};
pub use trainer::{load_model, new_learner, resume_learner, CheckpointState, Learner, Progress, Trainer, UpdateMetrics};
