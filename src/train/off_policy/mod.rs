//! Off-policy learning on the device: what IQL, VDN, MADDPG, DDPG and neural MF-Q share.
//!
//! - [`replay`]: the replay buffer, a ring of joint transitions in device memory, written by the
//!   rollout and sampled by device-side indices, checkpointed whole;
//! - [`targets`]: the network-independent parts of a value update — double-Q TD targets, the
//!   Huber loss, Polyak updates of target networks.
//!
//! The learners themselves are the subject of the off-policy issue and come next; the buffer is
//! their common ground and is tested on its own (`tests/replay_buffer.rs`, `tests/off_policy_losses.rs`).

pub mod replay;
pub mod targets;

pub use replay::{ReplayBuffer, MAX_CAPACITY};
pub use targets::{double_q_targets, huber_loss, polyak_update};
