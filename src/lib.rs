//! # shoal — multi-agent reinforcement learning at GPU speed
//!
//! shoal steps thousands of multi-agent environments in parallel with WGSL compute shaders and
//! hands their outputs to [burn](https://burn.dev) as tensors on the same device, so that the
//! simulator and the learner share one GPU and per-step data never visits the host.
//!
//! ## Guarantees
//!
//! - **On device.** Environment state lives in GPU buffers. [`env::BatchedEnv::step`] takes an
//!   actions tensor and returns observation, reward and done tensors; it queues one kernel launch
//!   and performs no host↔device transfer (counted by [`gpu::TransferCounter`], asserted in
//!   `tests/`). The host reads scalars (episode statistics, losses) when it asks for them: a PPO
//!   update reads back two small tensors (five loss terms, eight episode sums).
//! - **Determinism.** Randomness is counter-based, keyed by (seed, env index, episode index). The
//!   same seed gives the same trajectories, and env *i* of a batch of 4 is bit-identical to env
//!   *i* of a batch of 4,096.
//! - **Reference dynamics.** Environments reproduce their reference implementation (PettingZoo's
//!   MPE for `simple_spread`) to float32 rounding; `shoal replay --check` and
//!   `tests/conformance.rs` compare against recorded trajectories.
//! - **Portability.** Kernels are plain WGSL run through wgpu: Vulkan, Metal, DX12, and Mesa's
//!   software Vulkan driver (lavapipe) on machines without a GPU.
//! - **Errors, not panics.** Bad configurations, actions, files and batch sizes are reported as
//!   [`ShoalError`]s that say what was wrong and what to do.
//!
//! ## Layout
//!
//! - [`gpu`]: the device shared with burn, WGSL kernel templates and launch, transfer counting.
//! - [`env`]: the batched-environment trait, spaces, and one module per environment
//!   (`simple_spread`, `swarm`, `ising` with its Metropolis reference, the two-player zero-sum
//!   games `matrix_game` and `kuhn_poker` with legal-action masks and their exact NashConv, and
//!   MAgent's `battle`); the
//!   grid-binned neighbourhood mean field ([`env::NeighbourField`]) that mean-field envs share.
//! - [`replay`]: reading, replaying and checking recorded reference trajectories.
//! - [`train`]: PPO with independent (IPPO) or centralised (MAPPO) critics: device rollouts, GAE,
//!   clipped updates, checkpoints that resume exactly, evaluation; MF-AC on swarms; tabular MF-Q
//!   for `ising`; league self-play and PSRO on the two-player games (a device-resident pool of
//!   frozen policies, PPO best responses, exact NashConv after every iteration); Battle
//!   self-play and head-to-head arenas.
//! - [`plot`]: PNG learning curves and benchmark charts.
//! - [`render`]: animated GIFs and filmstrips of episodes, one frame per step of one env.
//! - [`report`]: the self-contained `report.html` a training run leaves behind.
//! - [`bench`]: throughput measurement shared by `shoal bench` and the criterion benches.

pub mod bench;
pub mod env;
pub mod error;
pub mod gpu;
pub mod io;
pub mod plot;
pub mod render;
pub mod replay;
pub mod report;
pub mod train;

pub use env::{Actions, BatchedEnv, EnvSpec, SimpleSpread, SimpleSpreadConfig, StepOutput};
pub use error::{Result, ShoalError};
pub use gpu::GpuContext;
pub use train::{Algo, TrainConfig, Trainer};
