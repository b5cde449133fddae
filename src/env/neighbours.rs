//! The neighbourhood mean field: for every agent, how many others are within radius r, their mean
//! velocity and their mean one-hot action ā — in O(agents), on the device.
//!
//! Mean-field MARL replaces an agent's interactions with the crowd by the mean action of its
//! neighbours; computing that mean naively costs O(N²) per env, which rules out large swarms.
//! Here agents are binned into a uniform grid of cells no smaller than r (a counting sort), so
//! each agent reads only the 3×3 cells around its own:
//!
//! 1. `bin`: atomically count agents per cell, each agent keeping its arrival slot;
//! 2. `scan_blocks`, `scan_envs`, `scan_cells`: an exclusive prefix sum of the counts (three
//!    passes, linear work — burn's `cumsum` is quadratic along a dimension);
//! 3. `scatter`: every agent into its cell's segment of a per-env agent list;
//! 4. `sort`: each segment sorted by agent index, so sums run in a fixed order and results are
//!    bit-reproducible despite the atomics;
//! 5. `reorder`: agents' state and action copied into cell order, so that
//! 6. `gather` reads each agent's neighbours within r in the 3×3 cells from contiguous memory
//!    (agents are numbered in random spatial order; reading them by index thrashes the cache once
//!    a swarm outgrows it).
//!
//! Eight launches (plus a zero-fill), each over agents or cells, so cost grows linearly with the
//! number of agents at a fixed density. `shaders/neighbours/*.wgsl`, one file per stage.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Int, Tensor};

use crate::error::{Result, ShoalError};
use crate::gpu::kernel::GRID_WGSL;
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};

const COMMON_WGSL: &str = include_str!("../../shaders/neighbours/common.wgsl");
const BIN_WGSL: &str = include_str!("../../shaders/neighbours/bin.wgsl");
const SCAN_BLOCKS_WGSL: &str = include_str!("../../shaders/neighbours/scan_blocks.wgsl");
const SCAN_ENVS_WGSL: &str = include_str!("../../shaders/neighbours/scan_envs.wgsl");
const SCAN_CELLS_WGSL: &str = include_str!("../../shaders/neighbours/scan_cells.wgsl");
const SCATTER_WGSL: &str = include_str!("../../shaders/neighbours/scatter.wgsl");
const SORT_WGSL: &str = include_str!("../../shaders/neighbours/sort.wgsl");
const REORDER_WGSL: &str = include_str!("../../shaders/neighbours/reorder.wgsl");
const GATHER_WGSL: &str = include_str!("../../shaders/neighbours/gather.wgsl");

/// Cells per scan block (`BLOCK` in common.wgsl).
const SCAN_BLOCK: usize = 64;
/// The largest grid side (cells per env = side²).
pub const MAX_GRID_SIDE: usize = 8192;

/// Neighbourhood statistics for batches of `agents` agents in `[-half_extent, half_extent]²`.
pub struct NeighbourField {
    ctx: Arc<GpuContext>,
    n_envs: usize,
    agents: usize,
    n_actions: usize,
    side: usize,
    bin: WgslKernel,
    scan_blocks: WgslKernel,
    scan_envs: WgslKernel,
    scan_cells: WgslKernel,
    scatter: WgslKernel,
    sort: WgslKernel,
    reorder: WgslKernel,
    gather: WgslKernel,
}

impl NeighbourField {
    /// A grid for `n_envs` envs of `agents` agents, neighbours within `radius`, `n_actions`
    /// discrete actions (for the mean action).
    pub fn new(ctx: Arc<GpuContext>, n_envs: usize, agents: usize, half_extent: f32, radius: f32, n_actions: usize) -> Result<NeighbourField> {
        if !(radius > 0.0 && radius.is_finite()) {
            return Err(ShoalError::config("radius", radius, "the neighbourhood radius must be positive"));
        }
        if !(half_extent > 0.0 && half_extent.is_finite()) {
            return Err(ShoalError::config("half_extent", half_extent, "the world must have a positive size"));
        }
        if n_actions == 0 || n_actions > 32 {
            return Err(ShoalError::config("n_actions", n_actions, "mean actions are kept for 1..=32 discrete actions"));
        }
        let side = ((2.0 * half_extent / radius).floor() as usize).clamp(1, MAX_GRID_SIDE);
        let cell_size = 2.0 * half_extent / side as f32;
        let constants = vec![
            ("n_envs", n_envs.to_string()),
            ("agents", agents.to_string()),
            ("side", side.to_string()),
            ("half_extent", format!("{half_extent:?}f")),
            ("cell_size", format!("{cell_size:?}f")),
            ("radius", format!("{radius:?}f")),
            ("n_actions", n_actions.to_string()),
        ];
        let kernel = |label, stage| WgslKernel::new(label, &[GRID_WGSL, COMMON_WGSL, stage], &constants);
        Ok(NeighbourField {
            bin: kernel("neighbours_bin", BIN_WGSL),
            scan_blocks: kernel("neighbours_scan_blocks", SCAN_BLOCKS_WGSL),
            scan_envs: kernel("neighbours_scan_envs", SCAN_ENVS_WGSL),
            scan_cells: kernel("neighbours_scan_cells", SCAN_CELLS_WGSL),
            scatter: kernel("neighbours_scatter", SCATTER_WGSL),
            sort: kernel("neighbours_sort", SORT_WGSL),
            reorder: kernel("neighbours_reorder", REORDER_WGSL),
            gather: kernel("neighbours_gather", GATHER_WGSL),
            ctx,
            n_envs,
            agents,
            n_actions,
            side,
        })
    }

    /// Floats per agent in the output: count, mean velocity (2), mean action (n_actions).
    pub fn width(&self) -> usize {
        3 + self.n_actions
    }

    /// Grid cells per side.
    pub fn side(&self) -> usize {
        self.side
    }

    fn zeros_u32(&self, len: usize) -> Result<CubeTensor> {
        // Zeros made on the device (no upload); the bits of 0.0f32 are those of 0u32.
        let mut buffer = float_buffer(Tensor::<1>::zeros([len], self.ctx.device()))?;
        buffer.dtype = DType::U32;
        Ok(buffer)
    }

    /// Queues the pipeline on `agent_state` (`[envs·agents]` vec4: position, velocity) and
    /// `actions` (`[envs·agents]` i32); returns the field buffer `[envs, agents, width]`.
    pub(crate) fn launch(&self, agent_state: &CubeTensor, actions: &CubeTensor) -> Result<CubeTensor> {
        let (envs, k) = (self.n_envs, self.agents);
        let cells = self.side * self.side;
        let blocks = cells.div_ceil(SCAN_BLOCK);
        let cell_count = self.zeros_u32(envs * cells)?;
        let agent_bin = self.ctx.empty(&[envs * k, 2], DType::U32);
        let block_sum = self.ctx.empty(&[envs * blocks], DType::U32);
        let cell_start = self.ctx.empty(&[envs * cells], DType::U32);
        let sorted_agents = self.ctx.empty(&[envs * k], DType::U32);
        let field = self.ctx.empty(&[envs, k, self.width()], DType::F32);
        let ctx = &self.ctx;
        self.bin.launch(ctx, envs * k, &[agent_state, &cell_count, &agent_bin]);
        self.scan_blocks.launch(ctx, envs * blocks, &[&cell_count, &block_sum]);
        self.scan_envs.launch(ctx, envs, &[&block_sum]);
        self.scan_cells.launch(ctx, envs * blocks, &[&cell_count, &block_sum, &cell_start]);
        self.scatter.launch(ctx, envs * k, &[&agent_bin, &cell_start, &sorted_agents]);
        self.sort.launch(ctx, envs * cells, &[&cell_count, &cell_start, &sorted_agents]);
        let sorted_state = self.ctx.empty(&[envs * k, 4], DType::F32);
        let sorted_actions = self.ctx.empty(&[envs * k], DType::I32);
        self.reorder.launch(ctx, envs * k, &[agent_state, actions, &sorted_agents, &sorted_state, &sorted_actions]);
        self.gather.launch(ctx, envs * k, &[&sorted_state, &sorted_actions, &cell_count, &cell_start, &sorted_agents, &field]);
        Ok(field)
    }

    /// The field for positions and velocities `[envs, agents, 4]` (x, y, vx, vy) and actions
    /// `[envs, agents]`: `[envs, agents, width]`.
    pub fn compute(&self, agent_state: Tensor<3>, actions: Tensor<2, Int>) -> Result<Tensor<3>> {
        ShoalError::ensure_dims("agent_state", &agent_state.dims(), &[self.n_envs, self.agents, 4])?;
        ShoalError::ensure_dims("actions", &actions.dims(), &[self.n_envs, self.agents])?;
        let field = self.launch(&float_buffer(agent_state)?, &int_buffer(actions)?)?;
        Ok(float_tensor(field))
    }
}
