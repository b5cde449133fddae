//! Uniform noise for sampling actions on the device: Gumbel-max for categorical heads (one uniform
//! per action), Box–Muller for Gaussian heads (two per dimension). Drawn by the counter-based
//! `RandomActions` kernel, so a run's noise depends only on (seed, env, call number) and a resumed
//! run continues the same stream after [`PolicyNoise::set_calls`].

use std::sync::Arc;

use burn::tensor::Tensor;

use crate::env::{ActionSpace, Actions, AgentGroup, RandomActions};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Device-side uniforms in [0, 1), `[envs·agents, width]` per call.
pub struct PolicyNoise {
    source: RandomActions,
    rows: usize,
    width: usize,
}

impl PolicyNoise {
    /// Noise for `agents` agents with `action` spaces in `envs` envs.
    pub fn new(ctx: Arc<GpuContext>, action: &ActionSpace, agents: usize, envs: usize, seed: u64) -> Result<PolicyNoise> {
        let width = match *action {
            ActionSpace::Discrete { n } => n,
            ActionSpace::Continuous { dim, .. } => 2 * dim,
        };
        let group = AgentGroup {
            name: "noise".into(),
            agents,
            obs_dim: 0,
            action: ActionSpace::Continuous { dim: width, low: 0.0, high: 1.0 },
        };
        Ok(PolicyNoise { source: RandomActions::new(ctx, &group, envs, seed)?, rows: envs * agents, width })
    }

    /// The next draw (queued on the device).
    pub fn sample(&mut self) -> Result<Tensor<2>> {
        match self.source.sample() {
            Actions::Continuous(u) => Ok(u.reshape([self.rows, self.width])),
            Actions::Discrete(_) => Err(ShoalError::Internal("policy noise must be continuous".into())),
        }
    }

    /// Uniforms per agent in each draw.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Continues the stream after `calls` draws (for resuming).
    pub fn set_calls(&mut self, calls: u32) -> Result<()> {
        self.source.set_calls(calls)
    }
}
