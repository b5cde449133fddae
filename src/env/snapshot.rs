//! What every batch shares about its state on the host: the snapshot a checkpoint stores, and the
//! dtype check every env applies to discrete actions.

use burn::backend::wgpu::CubeTensor;
use burn::tensor::DType;

use crate::error::{Result, ShoalError};

/// A batch's complete device state on the host ([`super::BatchedEnv::snapshot`]): enough to continue
/// stepping exactly where it stopped.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvSnapshot {
    /// The world: whatever the env needs, flattened (each env documents its layout).
    pub state: Vec<f32>,
    /// Per-env counters (step, episode, seed, ...).
    pub counters: Vec<u32>,
    /// Per-env episode statistics (see [`super::EpisodeStats`]).
    pub episode_stats: Vec<f32>,
}

/// Discrete actions must reach the kernels as 32-bit integers.
pub(crate) fn check_int_dtype(buffer: &CubeTensor) -> Result<()> {
    match buffer.dtype {
        DType::I32 | DType::U32 => Ok(()),
        other => Err(ShoalError::config(
            "actions",
            format!("{other:?}"),
            "discrete actions must be 32-bit integers (cast with `.cast(DType::I32)`)",
        )),
    }
}

