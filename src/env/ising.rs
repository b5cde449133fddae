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
pub const ISING_WGSL: &str = include_str!("../../shaders/ising.wgsl");
/// The Metropolis reference.
pub const ISING_METROPOLIS_WGSL: &str = include_str!("../../shaders/ising_metropolis.wgsl");
/// Shared lattice helpers (neighbours, initial spins).
pub const LATTICE_WGSL: &str = include_str!("../../shaders/lattice.wgsl");

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

/// How a Metropolis chain (or an order-parameter curve's lattices) starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialSpins {
    /// Every spin +1 (the ground state): fastest to equilibrate below T_c.
    Ordered,
    /// A fair coin per site.
    Random,
}

/// Checkerboard Metropolis Monte Carlo on a batch of lattices, one temperature per lattice.
pub struct Metropolis {
    ctx: Arc<GpuContext>,
    n_envs: usize,
    size: usize,
    colours: [WgslKernel; 2],
    spins: CubeTensor,
    temperature: CubeTensor,
    clock: Tensor<1, Int>,
    tick: Tensor<1, Int>,
}

impl Metropolis {
    /// Lattices of side `size` at `temperatures` (one per lattice), coupling J and field h.
    pub fn new(
        ctx: Arc<GpuContext>,
        size: usize,
        temperatures: &[f32],
        coupling: f32,
        field: f32,
        initial: InitialSpins,
        seed: u64,
    ) -> Result<Metropolis> {
        let n_envs = temperatures.len();
        IsingConfig::new(n_envs).with_size(size).with_coupling(coupling).with_field(field).validate()?;
        if let Some(t) = temperatures.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
            return Err(ShoalError::config("temperature", t, "temperatures must be positive"));
        }
        check_fits(&ctx, n_envs, size * size)?;
        let colours = [0, 1].map(|colour| {
            let mut constants = lattice_constants(n_envs, size, coupling, field, 0.0);
            constants.push(("color", colour.to_string()));
            WgslKernel::new("ising_metropolis", &[GRID_WGSL, RNG_WGSL, LATTICE_WGSL, ISING_METROPOLIS_WGSL], &constants)
        });
        let device = ctx.device().clone();
        let sites = size * size;
        let spins = match initial {
            InitialSpins::Ordered => Tensor::<2>::ones([n_envs, sites], &device),
            InitialSpins::Random => {
                // The env's own initial lattice (episode 0 of `seed`), so both start alike.
                let mut env = Ising::new(ctx.clone(), IsingConfig::new(n_envs).with_size(size))?;
                env.reset(seed)?;
                env.spins()
            }
        };
        let clock = ctx.upload_i32(&[0, seed as u32 as i32, (seed >> 32) as u32 as i32, 0], [4])?;
        Ok(Metropolis {
            spins: float_buffer(spins)?,
            temperature: float_buffer(ctx.upload_f32(temperatures, [n_envs])?)?,
            tick: ctx.upload_i32(&[1, 0, 0, 0], [4])?,
            clock,
            colours,
            n_envs,
            size,
            ctx,
        })
    }

    /// One sweep: every site offered a flip once (two launches, one per colour).
    pub fn sweep(&mut self) -> Result<()> {
        let clock = int_buffer(self.clock.clone())?;
        for kernel in &self.colours {
            kernel.launch(&self.ctx, self.n_envs * self.size * self.size / 2, &[&clock, &self.spins, &self.temperature]);
        }
        self.clock = self.clock.clone() + self.tick.clone();
        Ok(())
    }

    /// The spins `[envs, sites]` (±1), on the device.
    pub fn spins(&self) -> Tensor<2> {
        float_tensor(self.spins.clone())
    }

    /// Magnetisation per site of each lattice, `[envs]`, on the device.
    pub fn magnetisation(&self) -> Tensor<1> {
        self.spins().mean_dim(1).squeeze_dim(1)
    }
}

/// One temperature's equilibrium measurement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderPoint {
    /// Temperature T.
    pub temperature: f64,
    /// ⟨|m|⟩: mean absolute magnetisation per site over measurements and lattices.
    pub order_parameter: f64,
    /// Susceptibility per site, L²·(⟨m²⟩ − ⟨|m|⟩²)/T.
    pub susceptibility: f64,
}

/// Averages `|m|` and `m²` of a `[temperatures × replicas]` batch over `measurements` device-side
/// samples; `sample` advances the chain and returns the magnetisations `[envs]`.
pub fn accumulate_order(
    ctx: &GpuContext,
    temperatures: &[f32],
    replicas: usize,
    sites: usize,
    measurements: usize,
    mut sample: impl FnMut() -> Result<Tensor<1>>,
) -> Result<Vec<OrderPoint>> {
    let envs = temperatures.len() * replicas;
    let mut abs_sum = Tensor::<1>::zeros([envs], ctx.device());
    let mut sq_sum = Tensor::<1>::zeros([envs], ctx.device());
    for _ in 0..measurements {
        let m = sample()?;
        abs_sum = abs_sum + m.clone().abs();
        sq_sum = sq_sum + m.powi_scalar(2);
    }
    let abs = ctx.read_f32(abs_sum)?;
    let sq = ctx.read_f32(sq_sum)?;
    let n = (measurements * replicas) as f64;
    Ok(temperatures
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let rows = i * replicas..(i + 1) * replicas;
            let m_abs = abs[rows.clone()].iter().map(|&x| x as f64).sum::<f64>() / n;
            let m_sq = sq[rows].iter().map(|&x| x as f64).sum::<f64>() / n;
            OrderPoint {
                temperature: t as f64,
                order_parameter: m_abs,
                // f32 sums can leave m² a hair below |m|² when the lattice barely fluctuates.
                susceptibility: (sites as f64 * (m_sq - m_abs * m_abs) / t as f64).max(0.0),
            }
        })
        .collect())
}

/// The temperature of every env of an order-parameter batch: `replicas` lattices per
/// temperature, in order; checks there is something to measure.
pub fn temperature_per_env(temperatures: &[f32], replicas: usize, measurements: usize) -> Result<Vec<f32>> {
    if replicas == 0 || measurements == 0 || temperatures.is_empty() {
        return Err(ShoalError::config("replicas/measurements/temperatures", 0, "need at least one of each"));
    }
    Ok(temperatures.iter().flat_map(|&t| std::iter::repeat_n(t, replicas)).collect())
}

/// Whose energy the Metropolis reference samples. The env rewards site j with
/// `(J/2)·s_j·Σ_k s_k`, so the lattice's energy H = −J·Σ_⟨jk⟩ s_j s_k is minus the sum of the
/// rewards, but a site's own reward changes by only half of H's change when it flips: a
/// Boltzmann policy over its own reward is a heat bath at twice the temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Energy {
    /// The lattice's H: ΔE = 2J·s·Σ s_k, the textbook chain; T_c = 2.269 (Onsager).
    Total,
    /// The flipping site's own reward: ΔE = J·s·Σ s_k, the chain at coupling J/2; T_c = 1.135.
    /// The Mean Field MARL paper's MCMC reference (its Curie temperature, ≈ 1.2 at its sizes).
    Own,
}

impl Energy {
    /// `total` or `own`.
    pub fn name(self) -> &'static str {
        match self {
            Energy::Total => "total",
            Energy::Own => "own",
        }
    }

    /// The coupling of the Metropolis chain for an env of coupling 1.
    pub fn coupling(self) -> f32 {
        match self {
            Energy::Total => 1.0,
            Energy::Own => 0.5,
        }
    }

    /// The infinite-lattice transition temperature under this energy.
    pub fn critical_temperature(self) -> f64 {
        ONSAGER_TC * self.coupling() as f64
    }
}

/// The Curie–Weiss (mean-field) magnetisation at `temperature` for a heat bath on `energy`:
/// every site sees its z = 4 neighbours only through the lattice's mean spin, so
/// m = tanh(4·J·m / T) with J the chain's coupling (T_c = 4J). MF-Q agents moving all at once
/// learn exactly this field (BENCHMARKS.md, the Ising section).
pub fn curie_weiss_magnetisation(temperature: f64, energy: Energy) -> f64 {
    let gain = 4.0 * energy.coupling() as f64 / temperature;
    if gain <= 1.0 {
        return 0.0;
    }
    // m − tanh(gain·m) is negative on (0, m*) and positive above: bisect.
    let (mut low, mut high) = (1e-12, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (low + high);
        if mid < (gain * mid).tanh() { low = mid } else { high = mid }
    }
    0.5 * (low + high)
}

/// An order-parameter measurement: `replicas` lattices of side `size` per temperature, all in
/// one batch; `equilibration` sweeps (or learning steps) first, then `measurements` more, one
/// sample of |m| each.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderCurve {
    /// Lattice side L.
    pub size: usize,
    /// Temperatures, one curve point each.
    pub temperatures: Vec<f32>,
    /// Lattices per temperature.
    pub replicas: usize,
    /// Sweeps or steps before measuring.
    pub equilibration: usize,
    /// Sweeps or steps measured.
    pub measurements: usize,
    /// Seed of every random draw.
    pub seed: u64,
    /// The lattices' first spins. Ordered: below T_c the run then only has to melt, never to
    /// coarsen domains (which at L = 64 takes far more sweeps than equilibrating).
    pub initial: InitialSpins,
}

/// Metropolis order parameter vs temperature under `energy`. `progress` is called after every
/// sweep with the sweeps done.
pub fn order_parameter_curve(ctx: &Arc<GpuContext>, curve: &OrderCurve, energy: Energy, mut progress: impl FnMut(usize)) -> Result<Vec<OrderPoint>> {
    let OrderCurve { size, ref temperatures, replicas, equilibration, measurements, seed, initial } = *curve;
    let per_env = temperature_per_env(temperatures, replicas, measurements)?;
    let mut chain = Metropolis::new(ctx.clone(), size, &per_env, energy.coupling(), 0.0, initial, seed)?;
    for sweep in 0..equilibration {
        chain.sweep()?;
        progress(sweep + 1);
    }
    let mut done = equilibration;
    accumulate_order(ctx, temperatures, replicas, size * size, measurements, || {
        chain.sweep()?;
        done += 1;
        progress(done);
        Ok(chain.magnetisation())
    })
}

/// Where the order parameter falls fastest: the midpoint of the steepest drop between adjacent
/// temperatures (sorted), a finite-size estimate of the transition temperature.
pub fn steepest_drop(points: &[OrderPoint]) -> Option<f64> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.temperature.total_cmp(&b.temperature));
    sorted
        .windows(2)
        .map(|w| {
            let slope = (w[1].order_parameter - w[0].order_parameter) / (w[1].temperature - w[0].temperature);
            (slope, 0.5 * (w[0].temperature + w[1].temperature))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, t)| t)
}
