//! `simple_line` and `simple_formation`: mpe2's formation tasks, as mpe2 1.1.1's `simple_line_v1`
//! and `simple_formation_v1` define them (`tests/data/MPE_SPEC.md` §9).
//!
//! N agents (4 by default) take up N evenly spaced slots: along the segment between two landmarks
//! 1.25 apart (line), or on a circle of radius 0.5 around one landmark, anchored at the agent with
//! the smallest polar angle (formation). Agents collide with each other. Every agent gets the same
//! reward: minus the mean distance, clipped to [0, 2], of the optimal agent↔slot assignment — the
//! Hungarian method on the device (`shaders/mpe_assignment.wgsl`), where mpe2 calls scipy's
//! `linear_sum_assignment`. Observations are `[v, p, landmarks − p]` (8 and 6 floats).
//!
//! Both are one launch of their WGSL file on the MPE batch skeleton ([`super::mpe::Mpe`]).
//! Options, by mpe2's keywords: `N` (the same as `agents`) and `terminate_on_success` (episodes
//! end when every agent is within 0.05 of its slot; off by default).

use std::sync::Arc;

use burn::config::Config;
use plotters::style::RGBColor;

use super::mpe::{mpe_view, Mpe, MpeScenario, WorldState, MPE_ASSIGNMENT_WGSL};
use super::options::N_AGENTS;
use super::{EnvOption, EnvParams, FromParams, NumpyGenerator, ObsLayout};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::render::scene::{Body, Scene};

/// Most agents per env (the assignment is O(N³) per env and step, in private memory).
pub const MAX_AGENTS: usize = 16;

/// Configuration of a batch of `simple_line` or `simple_formation` environments.
#[derive(Config, Debug, PartialEq)]
pub struct FormationConfig {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Agents per env (mpe2's `N`). Default: 4.
    #[config(default = 4)]
    pub n_agents: usize,
    /// Episode length (time limit). mpe2's default: 25.
    #[config(default = 25)]
    pub max_cycles: usize,
    /// Continuous actions `[0,1]^5` instead of `Discrete(5)`.
    #[config(default = false)]
    pub continuous: bool,
    /// Also output the observation each episode ended in (for value bootstrapping at truncation).
    #[config(default = false)]
    pub terminal_obs: bool,
    /// End an episode when every agent is within 0.05 of its slot (mpe2's option).
    #[config(default = false)]
    pub terminate_on_success: bool,
}

const TERMINATE: EnvOption = EnvOption { name: "terminate_on_success", about: "end episodes when every agent is on its slot; default false" };

impl FormationConfig {
    fn check(&self, env: &str) -> Result<()> {
        if self.n_envs == 0 {
            return Err(ShoalError::config("envs", 0, "need at least 1 environment"));
        }
        if self.n_agents < 2 || self.n_agents > MAX_AGENTS {
            return Err(ShoalError::config("n_agents", self.n_agents, format!("{env} needs 2..={MAX_AGENTS} agents")));
        }
        if self.max_cycles == 0 || self.max_cycles > u32::MAX as usize {
            return Err(ShoalError::config("max_cycles", self.max_cycles, format!("must be in 1..={}", u32::MAX)));
        }
        Ok(())
    }

    fn from_run(params: &EnvParams) -> Result<FormationConfig> {
        params.options.agents_alias(params.agents)?;
        Ok(FormationConfig::new(params.n_envs)
            .with_n_agents(params.agents)
            .with_max_cycles(params.max_cycles.unwrap_or(25))
            .with_continuous(params.continuous)
            .with_terminal_obs(params.terminal_obs)
            .with_terminate_on_success(params.options.flag(&TERMINATE, false)?))
    }


}

/// The `simple_line` scenario of a [`FormationConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleLineConfig(pub FormationConfig);
/// The `simple_formation` scenario of a [`FormationConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleFormationConfig(pub FormationConfig);

/// A batch of `simple_line` environments on the GPU.
pub type SimpleLine = Mpe<SimpleLineConfig>;
/// A batch of `simple_formation` environments on the GPU.
pub type SimpleFormation = Mpe<SimpleFormationConfig>;

/// Everything the two scenarios share, from their [`FormationConfig`].
macro_rules! formation_scenario {
    ($config:ty, $name:literal, $wgsl:literal, $landmarks:expr, $agent_size:expr, $reference:expr) => {
        impl MpeScenario for $config {
            const NAME: &'static str = $name;
            const WGSL: &'static str = include_str!($wgsl);
            const LIBRARIES: &'static [&'static str] = &[MPE_ASSIGNMENT_WGSL];
            const DEFINES_IS_TERMINAL: bool = true;

            fn n_envs(&self) -> usize {
                self.0.n_envs
            }
            fn agents(&self) -> usize {
                self.0.n_agents
            }
            fn landmarks(&self) -> usize {
                $landmarks
            }
            fn obs_dim(&self) -> usize {
                4 + 2 * $landmarks
            }
            fn max_cycles(&self) -> usize {
                self.0.max_cycles
            }
            fn continuous(&self) -> bool {
                self.0.continuous
            }
            fn terminal_obs(&self) -> bool {
                self.0.terminal_obs
            }
            fn validate(&self) -> Result<()> {
                self.0.check($name)
            }
            fn may_terminate(&self) -> bool {
                self.0.terminate_on_success
            }
            fn constants(&self) -> Vec<(&'static str, String)> {
                vec![("terminate_on_success", self.0.terminate_on_success.to_string())]
            }
            fn obs_layout(&self) -> ObsLayout {
                ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
            }
            fn reference_world(&self, rng: &mut NumpyGenerator) -> Option<WorldState> {
                Some($reference(self.0.n_agents, rng))
            }
            fn scene(&self, world: &WorldState) -> Scene {
                scene(world, self.0.n_agents, $landmarks, $agent_size)
            }
        }

        impl FromParams for $config {
            type Env = Mpe<$config>;
            const OPTIONS: &'static [EnvOption] = &[N_AGENTS, TERMINATE];

            /// The batch a run's parameters describe (`agents` is mpe2's `N`).
            fn from_params(params: &EnvParams) -> Result<$config> {
                let config = Self(FormationConfig::from_run(params)?);
                config.validate()?;
                Ok(config)
            }

            fn population(params: &EnvParams) -> Result<Option<usize>> {
                params.options.n_agents()
            }

            fn build(self, ctx: &Arc<GpuContext>) -> Result<Mpe<$config>> {
                Mpe::new(ctx.clone(), self)
            }
        }
    };
}

formation_scenario!(SimpleLineConfig, "simple_line", "../../shaders/simple_line.wgsl", 2, 0.03, line_reference);
formation_scenario!(SimpleFormationConfig, "simple_formation", "../../shaders/simple_formation.wgsl", 1, 0.05, formation_reference);

/// mpe2's `simple_formation.reset_world`: agents at `uniform(-1, 1, 2)`, the landmark at
/// `uniform(-0.5, 0.5, 2)`.
fn formation_reference(agents: usize, rng: &mut NumpyGenerator) -> WorldState {
    let agent_pos = rng.uniform_f32(-1.0, 1.0, 2 * agents);
    WorldState::at_rest(agent_pos, rng.uniform_f32(-0.5, 0.5, 2), 0, 0)
}

/// mpe2's `simple_line.reset_world`: agents at `uniform(-1, 1, 2)`, landmark 0 at
/// `uniform(-0.25, 0.25, 2)`, landmark 1 at 1.25 from it in a direction drawn from
/// `uniform(0, 2π)` and turned by 5° until it lies inside (−1, 1)² (in float64, as there).
fn line_reference(agents: usize, rng: &mut NumpyGenerator) -> WorldState {
    const TOTAL_SEP: f64 = 1.25;
    let agent_pos = rng.uniform_f32(-1.0, 1.0, 2 * agents);
    let start = [rng.uniform(-0.25, 0.25), rng.uniform(-0.25, 0.25)];
    let mut theta = rng.uniform(0.0, 2.0 * std::f64::consts::PI);
    let at = |theta: f64| [start[0] + TOTAL_SEP * theta.cos(), start[1] + TOTAL_SEP * theta.sin()];
    let mut end = at(theta);
    while !(end[0].abs() < 1.0 && end[1].abs() < 1.0) {
        theta += 5f64.to_radians();
        end = at(theta);
    }
    let landmark_pos = [start, end].iter().flatten().map(|&v| v as f32).collect();
    WorldState::at_rest(agent_pos, landmark_pos, 0, 0)
}

/// Env 0 of `world`: landmarks grey, agents blue.
fn scene(world: &WorldState, agents: usize, landmarks: usize, agent_size: f64) -> Scene {
    let body = |v: &[f32], i: usize, radius: f64, fill| Body { x: v[2 * i] as f64, y: v[2 * i + 1] as f64, radius, fill, ring: None };
    let mut bodies: Vec<Body> = (0..landmarks).map(|l| body(&world.landmark_pos, l, 0.03, RGBColor(64, 64, 64))).collect();
    bodies.extend((0..agents).map(|i| body(&world.agent_pos, i, agent_size, RGBColor(89, 89, 217))));
    mpe_view(bodies, format!("{agents} agents"))
}
