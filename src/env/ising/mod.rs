//! `ising`: the Ising model of Yang et al. (2018), "Mean Field Multi-Agent Reinforcement
//! Learning", as a batched env — and its physics reference, Metropolis Monte Carlo.
//!
//! Every site of an L×L periodic lattice is an agent. Its action is its spin (`0` → −1, `1` → +1);
//! all sites act at once, and site j is rewarded `h·s_j + (J/2)·s_j·Σ_{k∈N(j)} s_k` and observes
//! `(s_j, ā_j)`, its own spin and the mean spin (= mean action) of its four neighbours. That is
//! the mean-field setting in its purest form: an agent's world *is* its neighbours' mean action.
//!
//! [`Metropolis`] runs the textbook checkerboard Metropolis chain on the same lattices at one
//! temperature per env (`shaders/ising_metropolis.wgsl`); [`order_parameter_curve`] measures the
//! mean |magnetisation| per site against temperature, which shows the ferromagnetic transition at
//! Onsager's T_c = 2/ln(1+√2) ≈ 2.269 (J = 1, h = 0).
//!
//! Both run fully on the device. Episodes have a fixed length, so the host knows when they end
//! and advances a small on-device clock with tensor adds; a step is one kernel launch plus that
//! add, and moves no data.

use std::sync::Arc;

mod metropolis;
mod order;

pub use metropolis::{Energy, InitialSpins, Metropolis};
pub use order::{accumulate_order, curie_weiss_magnetisation, order_parameter_curve, steepest_drop, temperature_per_env, OrderCurve, OrderPoint};

use burn::backend::wgpu::CubeTensor;
use burn::config::Config;
use burn::tensor::{DType, Int, Tensor};

use super::lockstep::{single_discrete, step_output, LockstepEpisodes};
use plotters::style::RGBColor;

use super::{ActionSpace, Actions, AgentGroup, BatchedEnv, EnvParams, FromParams, EnvSnapshot, EnvSpec, EpisodeStats, StepOutput};
use crate::render::scene::Scene;
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};

/// The env step.
pub const ISING_WGSL: &str = include_str!("../../../shaders/ising.wgsl");
/// The Metropolis reference.
pub const ISING_METROPOLIS_WGSL: &str = include_str!("../../../shaders/ising_metropolis.wgsl");
/// Shared lattice helpers (neighbours, initial spins).
pub const LATTICE_WGSL: &str = include_str!("../../../shaders/lattice.wgsl");

/// Onsager's critical temperature of the square-lattice Ising model, J = 1, h = 0.
pub const ONSAGER_TC: f64 = 2.269_185_314_213_022;

/// The side L of a lattice of `sites` = L² sites.
pub fn lattice_side(sites: usize) -> usize {
    (sites as f64).sqrt().round() as usize
}

impl FromParams for IsingConfig {
    type Env = Ising;

    /// The batch a run's parameters describe: `agents` is the number of sites, L² with L even (the checkerboard update needs two colours of equal size).
    fn from_params(params: &EnvParams) -> Result<IsingConfig> {
        let side = lattice_side(params.agents);
        if side * side != params.agents || side % 2 == 1 || side < 2 {
            return Err(ShoalError::config("agents", params.agents, "ising's agents are the lattice's L² sites with L even, e.g. agents = 4096 for 64×64"));
        }
        let config = IsingConfig::new(params.n_envs).with_size(side);
        let config = match params.max_cycles { Some(t) => config.with_max_cycles(t), None => config };
        config.validate()?;
        Ok(config)
    }

    fn build(self, ctx: &Arc<GpuContext>) -> Result<Ising> {
        Ising::new(ctx.clone(), self)
    }
}

/// Configuration of a batch of Ising lattices.
#[derive(Config, Debug, PartialEq)]
pub struct IsingConfig {
    /// Lattices in the batch.
    pub n_envs: usize,
    /// Side L of each L×L lattice (even, ≥ 2); L² agents per env. The paper's default: 64.
    #[config(default = 64)]
    pub size: usize,
    /// Coupling J (ferromagnetic if positive).
    #[config(default = 1.0)]
    pub coupling: f32,
    /// External field h.
    #[config(default = 0.0)]
    pub field: f32,
    /// Episode length in steps.
    #[config(default = 100)]
    pub max_cycles: usize,
    /// Expected magnetisation of a fresh lattice, in [−1, 1]: each site starts up with
    /// probability (1 + m₀)/2. 0 is a fair coin per site; 1 is the ordered ground state.
    #[config(default = 0.0)]
    pub initial_magnetisation: f32,
}

impl IsingConfig {
    /// Rejects sizes the kernels cannot run.
    pub fn validate(&self) -> Result<()> {
        if self.n_envs == 0 {
            return Err(ShoalError::config("n_envs", 0, "need at least one env"));
        }
        if self.size < 2 || self.size % 2 == 1 || self.size > 4096 {
            return Err(ShoalError::config("size", self.size, "lattice side must be even and in 2..=4096 (checkerboard updates)"));
        }
        if self.max_cycles == 0 {
            return Err(ShoalError::config("max_cycles", 0, "episodes need at least one step"));
        }
        if !(-1.0..=1.0).contains(&self.initial_magnetisation) {
            return Err(ShoalError::config("initial_magnetisation", self.initial_magnetisation, "must be in [-1, 1]"));
        }
        for (name, v) in [("coupling", self.coupling), ("field", self.field)] {
            if !v.is_finite() {
                return Err(ShoalError::config(name, v, "must be a finite number"));
            }
        }
        Ok(())
    }

    /// Sites (agents) per lattice.
    pub fn sites(&self) -> usize {
        self.size * self.size
    }

    /// Builds the batch on the shared GPU context.
    pub fn init(&self) -> Result<Ising> {
        Ising::new(GpuContext::shared()?, self.clone())
    }
}

fn check_fits(ctx: &GpuContext, n_envs: usize, sites: usize) -> Result<()> {
    let limit = ctx.max_storage_bytes();
    // The largest per-site buffer: observations (2 floats) and running returns (2 floats).
    let bytes_per_env = sites as u64 * 8;
    let needed = bytes_per_env * n_envs as u64;
    if needed > limit || n_envs * sites > u32::MAX as usize / 2 {
        return Err(ShoalError::BatchTooLarge {
            what: format!("the observation buffer ({bytes_per_env} bytes per lattice)"),
            needed_bytes: needed,
            limit_bytes: limit,
            max_envs: (limit / bytes_per_env) as usize,
        });
    }
    Ok(())
}

fn lattice_constants(n_envs: usize, size: usize, coupling: f32, field: f32, initial_magnetisation: f32) -> Vec<(&'static str, String)> {
    vec![
        ("p_up", format!("{:?}f", 0.5 * (1.0 + initial_magnetisation))),
        ("n_envs", n_envs.to_string()),
        ("size", size.to_string()),
        ("coupling", format!("{coupling:?}f")),
        ("field", format!("{field:?}f")),
    ]
}

/// A batch of Ising lattices whose sites are agents.
pub struct Ising {
    ctx: Arc<GpuContext>,
    config: IsingConfig,
    spec: EnvSpec,
    kernel: WgslKernel,
    /// `[envs, sites]` ±1.
    spins: CubeTensor,
    /// `[envs, sites]` (running return, invalid actions).
    site_acc: CubeTensor,
    /// The clock and episode statistics (all lattices run in step).
    episodes: LockstepEpisodes,
    /// The observations last handed out (kept for checkpoints; no copy).
    last_obs: Option<CubeTensor>,
    idle_actions: CubeTensor,
}

impl Ising {
    /// Builds the batch on `ctx`.
    pub fn new(ctx: Arc<GpuContext>, config: IsingConfig) -> Result<Ising> {
        config.validate()?;
        let (envs, sites) = (config.n_envs, config.sites());
        check_fits(&ctx, envs, sites)?;
        let spec = EnvSpec {
            name: "ising",
            n_envs: envs,
            groups: vec![AgentGroup { name: "site".into(), agents: sites, obs_dim: 2, action: ActionSpace::Discrete { n: 2 } }],
            max_cycles: config.max_cycles,
        };
        let mut constants = lattice_constants(envs, config.size, config.coupling, config.field, config.initial_magnetisation);
        constants.push(("max_cycles", config.max_cycles.to_string()));
        let kernel = WgslKernel::new("ising", &[GRID_WGSL, RNG_WGSL, LATTICE_WGSL, ISING_WGSL], &constants);
        let device = ctx.device().clone();
        Ok(Ising {
            spins: float_buffer(Tensor::<2>::zeros([envs, sites], &device))?,
            site_acc: float_buffer(Tensor::<3>::zeros([envs, sites, 2], &device))?,
            idle_actions: int_buffer(Tensor::<2, Int>::zeros([envs, sites], &device))?,
            episodes: LockstepEpisodes::new(ctx.clone(), envs, config.max_cycles)?,
            last_obs: None,
            kernel,
            spec,
            config,
            ctx,
        })
    }

    /// The configuration this batch was built with.
    pub fn config(&self) -> &IsingConfig {
        &self.config
    }

    /// The spins `[envs, sites]` as a tensor (±1), on the device.
    pub fn spins(&self) -> Tensor<2> {
        float_tensor(self.spins.clone())
    }

    /// Magnetisation per site of each lattice, `[envs]`, on the device.
    pub fn magnetisation(&self) -> Tensor<1> {
        self.spins().mean_dim(1).squeeze_dim(1)
    }

    fn launch(&mut self, actions: CubeTensor) -> Result<StepOutput> {
        let (envs, sites) = (self.config.n_envs, self.config.sites());
        let obs = self.ctx.empty(&[envs, sites, 2], DType::F32);
        let reward = self.ctx.empty(&[envs, sites], DType::F32);
        let flags = self.ctx.empty(&[2, envs], DType::F32);
        self.last_obs = Some(obs.clone());
        let clock = self.episodes.clock()?;
        self.kernel.launch(
            &self.ctx,
            envs * sites,
            &[&clock, &actions, &self.spins, &obs, &reward, &flags, &self.site_acc],
        );
        Ok(step_output(obs, reward, flags, envs))
    }
}

impl BatchedEnv for Ising {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn reset(&mut self, seed: u64) -> Result<StepOutput> {
        self.episodes.begin_reset(seed)?;
        let out = self.launch(self.idle_actions.clone())?;
        self.episodes.reset_done();
        Ok(out)
    }

    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput> {
        self.episodes.ensure_started()?;
        let actions = single_discrete(actions, "ising actions", self.config.n_envs, self.config.sites())?;
        let out = self.launch(actions)?;
        self.episodes.advance(&self.site_acc);
        Ok(out)
    }

    fn episodes_may_end_next_step(&self) -> bool {
        self.episodes.ending()
    }

    fn episode_stats(&self) -> Result<EpisodeStats> {
        self.episodes.stats(&self.site_acc)
    }

    fn clear_episode_stats(&mut self) -> Result<()> {
        self.episodes.clear();
        Ok(())
    }

    fn snapshot(&self) -> Result<EnvSnapshot> {
        let obs = self.last_obs.clone().ok_or_else(|| ShoalError::config("snapshot", "before reset", "reset the lattices before taking a snapshot"))?;
        let mut state = self.ctx.read_f32(self.spins())?;
        state.extend(self.ctx.read_f32(float_tensor::<3>(self.site_acc.clone()))?);
        state.extend(self.ctx.read_f32(float_tensor::<3>(obs))?);
        let (counters, episode_stats) = self.episodes.snapshot()?;
        Ok(EnvSnapshot { state, counters, episode_stats })
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let (envs, sites) = (self.config.n_envs, self.config.sites());
        let n = envs * sites;
        ShoalError::ensure_len("snapshot state", snapshot.state.len(), &[n, 1 + 2 + 2])?;
        self.spins = float_buffer(self.ctx.upload_f32(&snapshot.state[..n], [envs, sites])?)?;
        self.site_acc = float_buffer(self.ctx.upload_f32(&snapshot.state[n..3 * n], [envs, sites, 2])?)?;
        let obs = float_buffer(self.ctx.upload_f32(&snapshot.state[3 * n..], [envs, sites, 2])?)?;
        self.episodes.restore(&snapshot.counters, &snapshot.episode_stats)?;
        self.last_obs = Some(obs.clone());
        let device = self.ctx.device();
        Ok(StepOutput {
            obs: vec![float_tensor(obs)],
            reward: Tensor::zeros([envs, sites], device),
            done: Tensor::zeros([envs], device),
            truncated: Tensor::zeros([envs], device),
            terminal_obs: None,
            legal_actions: None,
        })
    }

    fn scene(&self) -> Result<Scene> {
        let side = self.config.size;
        let spins = self.ctx.read_f32(self.spins().slice([0..1, 0..side * side]))?;
        let magnetisation = spins.iter().sum::<f32>() / spins.len() as f32;
        Ok(Scene::Cells {
            columns: side,
            rows: side,
            colors: spins.iter().map(|&s| if s > 0.0 { RGBColor(30, 30, 60) } else { RGBColor(235, 235, 225) }).collect(),
            caption: format!("{side}×{side}  m = {magnetisation:+.3}"),
        })
    }
}
