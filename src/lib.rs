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
//!   *i* of a batch of 4,096. A trainer's initial networks depend on its seed alone, also when
//!   other trainers are built at the same time in the process ([`gpu::SeededInit`]).
//! - **Reference dynamics.** Environments reproduce their reference implementation (PettingZoo's
//!   MPE for `simple_spread`) to float32 rounding; `shoal replay --check` and
//!   `tests/conformance.rs` compare against recorded trajectories.
//! - **Portability.** Kernels are plain WGSL run through wgpu: Vulkan, Metal, DX12, and Mesa's
//!   software Vulkan driver (lavapipe) on machines without a GPU.
//! - **Errors, not panics.** Bad configurations, actions, files and batch sizes are reported as
//!   [`ShoalError`]s that say what was wrong and what to do; sizes are bounded and checked against
//!   the adapter's limits before anything is allocated; every parser of user files is fuzzed.
//! - **Nothing lost.** Checkpoints are written whole or not at all, sealed with a manifest that
//!   every load verifies, and the previous one is kept; a crashed write is recovered from the
//!   complete copy it left; one process writes a run directory at a time ([`train::store`]).
//!
//! ## Layout
//!
//! - [`gpu`]: the device shared with burn, WGSL kernel templates and launch, transfer counting.
//! - [`env`]: the batched-environment trait, spaces, the env registry ([`env::registry`]: every
//!   env by name, what the CLI and learners need of it), and one module per environment (MPE's
//!   `simple` and `simple_spread` on a shared MPE host, `swarm`, `ising` with its Metropolis
//!   reference, the two-player zero-sum games `matrix_game` and `kuhn_poker` with legal-action
//!   masks and their exact NashConv, and MAgent's `battle`); the grid-binned neighbourhood mean
//!   field ([`env::NeighbourField`]) that mean-field envs share.
//! - [`mfg`]: mean-field games with exact answers — dynamic routing on road networks (Braess,
//!   Pigou, Sioux Falls) solved by fictitious play and online mirror descent, with exact NashConv.
//! - [`replay`]: reading, replaying and checking recorded reference trajectories.
//! - [`train`], by family: actor-critic learners (PPO with IPPO, MAPPO or MF-AC critics: device
//!   rollouts, GAE, clipped updates, evaluation), mean-field MF-Q for `ising`, population methods
//!   (league self-play and PSRO on the two-player games with a device-resident pool of frozen
//!   policies and exact NashConv; Battle self-play arenas), and crash-safe checkpoints that
//!   resume exactly.
//! - [`plot`]: PNG learning curves and benchmark charts.
//! - [`render`]: animated GIFs and filmstrips of episodes, one frame per step of one env.
//! - [`report`]: the self-contained `report.html` a training run leaves behind.
//! - [`bench`]: throughput measurement shared by `shoal bench` and the criterion benches.

pub mod bench;
pub mod env;
pub mod error;
pub mod gpu;
pub mod host;
pub mod io;
pub mod mfg;
pub mod plot;
pub mod render;
pub mod replay;
pub mod report;
pub mod train;

pub use env::{Actions, BatchedEnv, EnvSpec, SimpleSpread, SimpleSpreadConfig, StepOutput};
pub use error::{Result, ShoalError};
pub use gpu::GpuContext;
pub use train::{Algo, TrainConfig, Trainer};
