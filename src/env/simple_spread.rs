//! `simple_spread`: MPE cooperative navigation, as PettingZoo's `simple_spread_v3` defines it.
//!
//! N agents and N landmarks in the plane. Agents are pushed by their actions and by soft contact
//! with each other; they are rewarded together for covering every landmark (minus the distance
//! from each landmark to its nearest agent) and each is penalised for collisions, mixed by
//! `local_ratio`. Episodes end by time limit (`max_cycles`). The dynamics match mpe2 1.1.1 to
//! float32 rounding (see `tests/conformance.rs` and `shoal replay --check`).
//!
//! The whole step is one launch of `shaders/simple_spread.wgsl`; the host side (buffers, reset,
//! set_state, snapshots) is the MPE host every scenario shares, [`super::mpe::Mpe`].

use std::sync::Arc;

use burn::config::Config;
use plotters::style::RGBColor;

use super::mpe::{mpe_view, Mpe, MpeScenario, WorldState};
use super::{EnvParams, FromParams, NumpyGenerator, ObsLayout};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::render::scene::{Body, Scene};

/// The WGSL of this environment.
pub const SIMPLE_SPREAD_WGSL: &str = include_str!("../../shaders/simple_spread.wgsl");

/// Largest supported agent count (observations grow as 6N² floats per env).
pub const MAX_AGENTS: usize = 32;

/// Configuration of a batch of simple_spread environments.
#[derive(Config, Debug, PartialEq)]
pub struct SimpleSpreadConfig {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Agents per env; there are as many landmarks. PettingZoo's default: 3.
    #[config(default = 3)]
    pub n_agents: usize,
    /// Weight of the local (collision) reward against the global (coverage) reward, in [0, 1].
    #[config(default = 0.5)]
    pub local_ratio: f32,
    /// Episode length (time limit). PettingZoo's default: 25.
    #[config(default = 25)]
    pub max_cycles: usize,
    /// Continuous actions `[0,1]^5` instead of `Discrete(5)`.
    #[config(default = false)]
    pub continuous: bool,
    /// Also output the observation each episode ended in (for value bootstrapping at truncation).
    #[config(default = false)]
    pub terminal_obs: bool,
}

impl SimpleSpreadConfig {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<()> {
        if self.n_envs == 0 {
            return Err(ShoalError::config("envs", 0, "need at least 1 environment"));
        }
        if self.n_agents == 0 || self.n_agents > MAX_AGENTS {
            return Err(ShoalError::config(
                "n_agents",
                self.n_agents,
                format!("simple_spread supports 1..={MAX_AGENTS} agents"),
            ));
        }
        if !(0.0..=1.0).contains(&self.local_ratio) {
            return Err(ShoalError::config("local_ratio", self.local_ratio, "must be in [0, 1]"));
        }
        if self.max_cycles == 0 || self.max_cycles > u32::MAX as usize {
            return Err(ShoalError::config("max_cycles", self.max_cycles, "must be at least 1"));
        }
        Ok(())
    }

    /// Observation length per agent: 6N.
    pub fn obs_dim(&self) -> usize {
        6 * self.n_agents
    }

    /// Creates the batch on the shared GPU context. Call [`BatchedEnv::reset`] before stepping.
    pub fn init(&self) -> Result<SimpleSpread> {
        SimpleSpread::new(GpuContext::shared()?, self.clone())
    }
}

/// A batch of simple_spread environments on the GPU.
pub type SimpleSpread = Mpe<SimpleSpreadConfig>;

impl MpeScenario for SimpleSpreadConfig {
    const NAME: &'static str = "simple_spread";
    const WGSL: &'static str = SIMPLE_SPREAD_WGSL;

    fn n_envs(&self) -> usize {
        self.n_envs
    }
    fn agents(&self) -> usize {
        self.n_agents
    }
    fn landmarks(&self) -> usize {
        self.n_agents
    }
    fn obs_dim(&self) -> usize {
        SimpleSpreadConfig::obs_dim(self)
    }
    fn max_cycles(&self) -> usize {
        self.max_cycles
    }
    fn continuous(&self) -> bool {
        self.continuous
    }
    fn terminal_obs(&self) -> bool {
        self.terminal_obs
    }
    fn validate(&self) -> Result<()> {
        SimpleSpreadConfig::validate(self)
    }
    fn constants(&self) -> Vec<(&'static str, String)> {
        vec![("local_ratio", format!("{:?}f", self.local_ratio))]
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: SimpleSpreadConfig::obs_dim(self), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        scene(world, self.n_agents)
    }
    /// mpe2's `reset_world`: every agent, then every landmark, at `uniform(-1, 1, 2)`.
    fn reference_world(&self, rng: &mut NumpyGenerator) -> Option<WorldState> {
        let agent_pos = rng.uniform_f32(-1.0, 1.0, 2 * self.agents());
        Some(WorldState::at_rest(agent_pos, rng.uniform_f32(-1.0, 1.0, 2 * self.landmarks()), 0, 0))
    }
}

impl FromParams for SimpleSpreadConfig {
    type Env = SimpleSpread;
    const OPTIONS: &'static [super::EnvOption] = &[super::options::N_AGENTS];

    /// The batch a run's parameters describe.
    fn from_params(params: &EnvParams) -> Result<SimpleSpreadConfig> {
        params.options.agents_alias(params.agents)?;
        let config = SimpleSpreadConfig::new(params.n_envs)
            .with_n_agents(params.agents)
            .with_local_ratio(params.local_ratio)
            .with_max_cycles(params.max_cycles.unwrap_or(25))
            .with_continuous(params.continuous)
            .with_terminal_obs(params.terminal_obs);
        config.validate()?;
        Ok(config)
    }

    fn population(params: &EnvParams) -> Result<Option<usize>> {
        params.options.n_agents()
    }

    fn build(self, ctx: &Arc<GpuContext>) -> Result<SimpleSpread> {
        SimpleSpread::new(ctx.clone(), self)
    }
}

/// Agent and landmark radii (mpe2 simple_spread).
const AGENT_SIZE: f64 = 0.15;
const LANDMARK_SIZE: f64 = 0.05;
/// A landmark counts as covered within this distance of an agent (mpe2's `benchmark_data`).
const COVER_DISTANCE: f64 = 0.1;

/// Env 0 of `world`: agents (blue, red ring while colliding), landmarks (grey, green ring while
/// an agent covers them); the caption counts collisions and covered landmarks.
pub fn scene(world: &WorldState, agents: usize) -> Scene {
    let point = |v: &[f32], i: usize| (v[2 * i] as f64, v[2 * i + 1] as f64);
    let agent: Vec<(f64, f64)> = (0..agents).map(|i| point(&world.agent_pos, i)).collect();
    let landmark: Vec<(f64, f64)> = (0..agents).map(|i| point(&world.landmark_pos, i)).collect();
    let dist = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let colliding: Vec<bool> =
        (0..agents).map(|i| (0..agents).any(|j| j != i && dist(agent[i], agent[j]) < 2.0 * AGENT_SIZE)).collect();
    let covered: Vec<bool> = landmark.iter().map(|&l| agent.iter().any(|&a| dist(a, l) < COVER_DISTANCE)).collect();
    let body = |(x, y): (f64, f64), radius, fill, ring: Option<RGBColor>| Body { x, y, radius, fill, ring };
    let mut bodies: Vec<Body> = landmark
        .iter()
        .zip(&covered)
        .map(|(&p, &c)| body(p, LANDMARK_SIZE, RGBColor(64, 64, 64), c.then_some(RGBColor(20, 160, 60))))
        .collect();
    bodies.extend(agent.iter().zip(&colliding).map(|(&p, &c)| body(p, AGENT_SIZE, RGBColor(89, 89, 217), c.then_some(RGBColor(220, 40, 40)))));
    let collisions = colliding.iter().filter(|&&c| c).count();
    let covered = covered.iter().filter(|&&c| c).count();
    mpe_view(bodies, format!("colliding {collisions}  covered {covered}/{agents}"))
}
