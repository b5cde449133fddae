//! Uniformly random actions generated on the device (`shaders/random_actions.wgsl`).
//!
//! Used by `shoal bench` (the env step is timed with its action source on the GPU, as JaxMARL
//! and VMAS benchmarks do), by random-policy baselines, policy noise and tests. Sampling is keyed
//! by (seed, env index, agent, call number), so it is batch-size independent like the envs.

use std::sync::Arc;

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
    /// Calls made so far (`[1]`, on the device; advanced by a tensor add, never uploaded).
    call_counter: Tensor<1, Int>,
    one: Tensor<1, Int>,
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
            call_counter: Tensor::<1, Int>::zeros([1], &device),
            one: Tensor::<1, Int>::ones([1], &device),
            ctx,
        })
    }

    /// Sets how many calls the streams have made (to resume a checkpointed run exactly).
    pub fn set_calls(&mut self, calls: u32) -> Result<()> {
        self.call_counter = self.ctx.upload_i32(&[calls as i32], [1])?;
        Ok(())
    }

    /// Samples the next actions (queued on the device; no transfer).
    pub fn sample(&mut self) -> Actions {
        let width = self.action.width();
        let counter = int_buffer(self.call_counter.clone()).expect("the call counter is a wgpu tensor");
        let actions = match self.action {
            ActionSpace::Discrete { .. } => {
                let out = self.ctx.empty(&[self.n_envs, self.agents], DType::I32);
                self.kernel.launch(&self.ctx, self.n_envs * self.agents, &[&counter, &out]);
                Actions::Discrete(Tensor::<2, Int>::from_primitive::<burn::backend::Wgpu>(out))
            }
            ActionSpace::Continuous { .. } => {
                let out = self.ctx.empty(&[self.n_envs, self.agents, width], DType::F32);
                self.kernel.launch(&self.ctx, self.n_envs * self.agents, &[&counter, &out]);
                Actions::Continuous(float_tensor(out))
            }
        };
        self.call_counter = self.call_counter.clone() + self.one.clone();
        actions
    }
}
