//! `simple`: MPE's single-agent navigation, as PettingZoo's `simple_v3` defines it.
//!
//! One agent and one landmark in the plane; the agent is rewarded minus its squared distance to
//! the landmark and observes its velocity and the landmark relative to itself. Nothing collides.
//! It is the smallest MPE scenario — the one to check a learner on — and the first env added
//! through the registry (ARCHITECTURE.md, "Adding an environment"). The dynamics match mpe2
//! 1.1.1 (`tests/data/MPE_SPEC.md` §1; `tests/mpe_suite.rs` replays its golden trajectories).
//!
//! The step is one launch of `shaders/simple.wgsl` on the MPE batch skeleton
//! (`shaders/mpe_batch.wgsl`); the host side is [`super::mpe::Mpe`].

use std::sync::Arc;

use burn::config::Config;
use plotters::style::RGBColor;

use super::mpe::{mpe_view, Mpe, MpeScenario, WorldState};
use super::{EnvParams, FromParams, NumpyGenerator, ObsLayout};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::render::scene::{Body, Scene};

/// The WGSL of this environment.
pub const SIMPLE_WGSL: &str = include_str!("../../shaders/simple.wgsl");

/// Configuration of a batch of `simple` environments.
#[derive(Config, Debug, PartialEq)]
pub struct SimpleConfig {
    /// Instances in the batch.
    pub n_envs: usize,
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

/// A batch of `simple` environments on the GPU.
pub type Simple = Mpe<SimpleConfig>;

impl MpeScenario for SimpleConfig {
    const NAME: &'static str = "simple";
    const WGSL: &'static str = SIMPLE_WGSL;

    fn n_envs(&self) -> usize {
        self.n_envs
    }
    fn agents(&self) -> usize {
        1
    }
    fn landmarks(&self) -> usize {
        1
    }
    fn obs_dim(&self) -> usize {
        4
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
        if self.n_envs == 0 {
            return Err(ShoalError::config("envs", 0, "need at least 1 environment"));
        }
        if self.max_cycles == 0 || self.max_cycles > u32::MAX as usize {
            return Err(ShoalError::config("max_cycles", self.max_cycles, format!("must be in 1..={}", u32::MAX)));
        }
        Ok(())
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: 4, mean_action: 0, distinct_agents: true }
    }
    /// mpe2's `reset_world`: every agent, then every landmark, at `uniform(-1, 1, 2)`.
    fn reference_world(&self, rng: &mut NumpyGenerator) -> Option<WorldState> {
        let agent_pos = rng.uniform_f32(-1.0, 1.0, 2 * self.agents());
        Some(WorldState::at_rest(agent_pos, rng.uniform_f32(-1.0, 1.0, 2 * self.landmarks()), 0, 0))
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let (ax, ay) = (world.agent_pos[0] as f64, world.agent_pos[1] as f64);
        let (lx, ly) = (world.landmark_pos[0] as f64, world.landmark_pos[1] as f64);
        let distance = ((ax - lx).powi(2) + (ay - ly).powi(2)).sqrt();
        let bodies = vec![
            Body { x: lx, y: ly, radius: 0.05, fill: RGBColor(191, 64, 64), ring: None },
            Body { x: ax, y: ay, radius: 0.05, fill: RGBColor(64, 64, 64), ring: None },
        ];
        mpe_view(bodies, format!("distance {distance:.2}"))
    }
}

impl FromParams for SimpleConfig {
    type Env = Simple;

    /// The batch a run's parameters describe; `agents` must be 1.
    fn from_params(params: &EnvParams) -> Result<SimpleConfig> {
        if params.agents != 1 {
            return Err(ShoalError::config("agents", params.agents, "simple has exactly 1 agent"));
        }
        let config = SimpleConfig::new(params.n_envs)
            .with_max_cycles(params.max_cycles.unwrap_or(25))
            .with_continuous(params.continuous)
            .with_terminal_obs(params.terminal_obs);
        config.validate()?;
        Ok(config)
    }

    fn build(self, ctx: &Arc<GpuContext>) -> Result<Simple> {
        Simple::new(ctx.clone(), self)
    }
}

