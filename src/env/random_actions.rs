//! Uniformly random actions generated on the device (`shaders/random_actions.wgsl`).
//!
//! Used by `shoal bench` (the env step is timed with its action source on the GPU, as JaxMARL
//! and VMAS benchmarks do), by random-policy baselines, policy noise and tests. Sampling is keyed
//! by (seed, env index, agent, call number), so it is batch-size independent like the envs.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Int, Tensor};

use super::{ActionSpace, Actions, AgentGroup};
use crate::error::Result;
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_tensor, int_buffer, GpuContext, WgslKernel};

const RANDOM_ACTIONS_WGSL: &str = include_str!("../../shaders/random_actions.wgsl");

/// A device-side uniform random policy for one agent group.
pub struct RandomActions {
    ctx: Arc<GpuContext>,
    kernel: WgslKernel,
    n_envs: usize,
    agents: usize,
    action: ActionSpace,
    /// Calls made so far, on the device, in two words that take turns: a call reads one and
    /// writes its successor into the other (`shaders/random_actions.wgsl`), so the count never
    /// leaves the device and advancing it costs no launch of its own.
    call_counters: [CubeTensor; 2],
    /// Which of `call_counters` holds the current count.
    current: usize,
}

impl RandomActions {
    /// A sampler for `group` over `n_envs` envs, seeded by `seed`.
    pub fn new(ctx: Arc<GpuContext>, group: &AgentGroup, n_envs: usize, seed: u64) -> Result<Self> {
        let (width, low, high, continuous) = match group.action {
            ActionSpace::Discrete { n } => (n, 0.0, 0.0, false),
            ActionSpace::Continuous { dim, low, high } => (dim, low, high, true),
        };
        let kernel = WgslKernel::new(
            "random_actions",
            &[GRID_WGSL, RNG_WGSL, RANDOM_ACTIONS_WGSL],
            &[
                ("n_envs", n_envs.to_string()),
                ("n_agents", group.agents.to_string()),
                ("width", width.to_string()),
                ("continuous", continuous.to_string()),
                ("low", format!("{low:?}f")),
                ("high", format!("{high:?}f")),
                ("seed_lo", (seed as u32).to_string()),
                ("seed_hi", ((seed >> 32) as u32).to_string()),
                ("action_type", if continuous { "f32" } else { "i32" }.to_string()),
            ],
        );
        let device = ctx.device().clone();
        Ok(RandomActions {
            kernel,
            n_envs,
            agents: group.agents,
            action: group.action.clone(),
            call_counters: [int_buffer(Tensor::<1, Int>::zeros([1], &device))?, int_buffer(Tensor::<1, Int>::zeros([1], &device))?],
            current: 0,
            ctx,
        })
    }

    /// Sets how many calls the streams have made (to resume a checkpointed run exactly).
    pub fn set_calls(&mut self, calls: u32) -> Result<()> {
        self.call_counters[self.current] = int_buffer(self.ctx.upload_i32(&[calls as i32], [1])?)?;
        Ok(())
    }

    /// Samples the next actions (queued on the device; no transfer).
    pub fn sample(&mut self) -> Actions {
        let width = self.action.width();
        let (calls, next) = (&self.call_counters[self.current], &self.call_counters[1 - self.current]);
        let actions = match self.action {
            ActionSpace::Discrete { .. } => {
                let out = self.ctx.empty(&[self.n_envs, self.agents], DType::I32);
                self.kernel.launch(&self.ctx, self.n_envs * self.agents, &[calls, next, &out]);
                Actions::Discrete(Tensor::<2, Int>::from_primitive::<burn::backend::Wgpu>(out))
            }
            ActionSpace::Continuous { .. } => {
                let out = self.ctx.empty(&[self.n_envs, self.agents, width], DType::F32);
                self.kernel.launch(&self.ctx, self.n_envs * self.agents, &[calls, next, &out]);
                Actions::Continuous(float_tensor(out))
            }
        };
        self.current = 1 - self.current;
        actions
    }
}
