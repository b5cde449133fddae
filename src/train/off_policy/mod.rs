//! Off-policy learning on the device: what IQL, VDN, MADDPG, DDPG and neural MF-Q share.
//!
//! - [`replay`]: the replay buffer, a ring of joint transitions in device memory, written by the
//!   rollout and sampled by device-side indices, checkpointed whole;
//! - [`targets`]: the network-independent parts of a value update — double-Q TD targets, the
//!   Huber loss, Polyak updates of target networks.
//!
//! - [`q_policy`]: acting from a Q-network, greedy or ε-greedy, with device-side exploration;
//! - [`iql`]: IQL and VDN (`shoal train --algo iql|vdn`);
//! - [`actor`]: actions a critic can differentiate (Gumbel-softmax, squashed vectors);
//! - [`critics`]: one group's MADDPG/DDPG networks and the inputs of their critics;
//! - [`maddpg`]: MADDPG and DDPG (`shoal train --algo maddpg|ddpg`).
//!
//! Tests: `tests/replay_buffer.rs`, `tests/off_policy_losses.rs`, `tests/value_learners.rs`.

pub mod actor;
pub mod critics;
pub mod iql;
pub mod maddpg;
pub mod q_policy;
pub mod replay;
pub mod targets;

pub use iql::{load_q_network, IqlTrainer};
pub use maddpg::MaddpgTrainer;
pub use q_policy::{greedy_actions, Explorer};
pub use replay::{ReplayBuffer, MAX_CAPACITY};
pub use targets::{double_q_targets, huber_loss, polyak_update};
