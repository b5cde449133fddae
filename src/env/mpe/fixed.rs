//! What mpe2's fixed-population scenarios share on the host: their options (batch size, episode
//! length, action kind), the checks on them, and the plumbing the registry needs.
//!
//! The mixed scenarios (simple_adversary, simple_push, simple_speaker_listener,
//! simple_reference, simple_crypto, simple_tag, simple_world_comm, collect_treasure) share four
//! options; some add their own (population sizes, early termination) under mpe2's keyword names
//! ([`crate::env::EnvOptions`]). Each scenario module wraps [`MpeOptions`] (and its own options)
//! and states only what is its own (groups, landmarks, observation widths, hidden goals, picture)
//! inside [`fixed_scenario!`], which writes the rest of [`super::MpeScenario`] and the registry's
//! [`crate::env::FromParams`]. Where the options decide the population, `agents` must agree with
//! them: the CLI and configs fill it in ([`crate::env::EnvKind::population`]).

use burn::config::Config;
use plotters::style::RGBColor;

use super::{mpe_view, MpeGroup, WorldState};
use crate::env::EnvParams;
use crate::error::{Result, ShoalError};
use crate::render::scene::{Body, Scene};

/// The options of a fixed-population MPE scenario.
#[derive(Config, Debug, PartialEq)]
pub struct MpeOptions {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Episode length (time limit). mpe2's default: 25.
    #[config(default = 25)]
    pub max_cycles: usize,
    /// Continuous actions (`Box(0, 1)`) instead of discrete ones.
    #[config(default = false)]
    pub continuous: bool,
    /// Also output the observation each episode ended in (for value bootstrapping at truncation).
    #[config(default = false)]
    pub terminal_obs: bool,
}

impl MpeOptions {
    /// Checks every option, naming the one that is wrong.
    pub fn check(&self) -> Result<()> {
        if self.n_envs == 0 {
            return Err(ShoalError::config("envs", 0, "need at least 1 environment"));
        }
        if self.max_cycles == 0 || self.max_cycles > u32::MAX as usize {
            return Err(ShoalError::config("max_cycles", self.max_cycles, format!("must be in 1..={}", u32::MAX)));
        }
        Ok(())
    }

    /// The options a run's parameters describe (its `agents` is checked against the
    /// scenario's population by [`fixed_scenario!`]).
    pub fn from_run(params: &EnvParams) -> Result<MpeOptions> {
        let options = MpeOptions::new(params.n_envs)
            .with_max_cycles(params.max_cycles.unwrap_or(25))
            .with_continuous(params.continuous)
            .with_terminal_obs(params.terminal_obs);
        options.check()?;
        Ok(options)
    }
}

/// The error for a run whose `agents` is not the population its options give.
pub fn wrong_population(scenario: &str, params: &EnvParams, population: usize) -> ShoalError {
    let options: Vec<String> = params.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let with = if options.is_empty() { "mpe2's default options".to_string() } else { options.join(", ") };
    ShoalError::config(
        "agents",
        params.agents,
        format!("{scenario} with {with} has {population} agents: set agents = {population}, or leave it out (its options decide it)"),
    )
}

/// `impl MpeScenario` and `impl FromParams` for a scenario whose field `.0` is its
/// [`MpeOptions`]: the options' methods, `agents()` and `obs_dim()` (the widest group's), plus the
/// scenario's own items.
///
/// A scenario of a fixed population names its agent count; one whose population is an option
/// names its options (`options: &[EnvOption]`), how to count its agents (`agents: |config| ..`)
/// and how to build the config from the run's parameters and the checked [`MpeOptions`]
/// (`new: |params, options| ..`).
macro_rules! fixed_scenario {
    ($config:ident, $name:literal, $wgsl:literal, $agents:expr, { $($items:tt)* }) => {
        $crate::env::mpe::fixed::fixed_scenario!($config, $name, $wgsl, $agents, |_params, options| Ok($config(options)), { $($items)* });
    };
    ($config:ident, $name:literal, $wgsl:literal, $agents:expr, $new:expr, { $($items:tt)* }) => {
        $crate::env::mpe::fixed::fixed_scenario!($config, $name, $wgsl, options: &[], agents: |_config: &$config| $agents, new: $new, { $($items)* });
    };
    ($config:ident, $name:literal, $wgsl:literal, options: $options:expr, agents: $agents:expr, new: $new:expr, { $($items:tt)* }) => {
        impl $crate::env::MpeScenario for $config {
            const NAME: &'static str = $name;
            const WGSL: &'static str = include_str!($wgsl);
            const LIBRARIES: &'static [&'static str] = &[$crate::env::mpe::MPE_ENTITIES_WGSL];

            fn n_envs(&self) -> usize {
                self.0.n_envs
            }
            fn agents(&self) -> usize {
                let agents: fn(&$config) -> usize = $agents;
                agents(self)
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
            fn validate(&self) -> $crate::error::Result<()> {
                self.0.check()
            }
            fn obs_dim(&self) -> usize {
                self.groups().iter().map(|g| g.obs_dim).max().unwrap_or(0)
            }
            $($items)*
        }

        impl $config {
            /// The scenario the run's parameters and options describe (`agents` not read).
            fn from_options(params: &$crate::env::EnvParams) -> $crate::error::Result<$config> {
                let options = $crate::env::mpe::fixed::MpeOptions::from_run(params)?;
                let new: fn(&$crate::env::EnvParams, $crate::env::mpe::fixed::MpeOptions) -> $crate::error::Result<$config> = $new;
                new(params, options)
            }
        }

        impl $crate::env::FromParams for $config {
            type Env = $crate::env::Mpe<$config>;
            const OPTIONS: &'static [$crate::env::EnvOption] = $options;

            /// The batch a run's parameters describe (`agents` must be the population).
            fn from_params(params: &$crate::env::EnvParams) -> $crate::error::Result<$config> {
                let config = Self::from_options(params)?;
                let population = $crate::env::MpeScenario::agents(&config);
                if params.agents != population {
                    return Err($crate::env::mpe::fixed::wrong_population($name, params, population));
                }
                Ok(config)
            }

            fn population(params: &$crate::env::EnvParams) -> $crate::error::Result<Option<usize>> {
                Ok(Some($crate::env::MpeScenario::agents(&Self::from_options(params)?)))
            }

            fn build(self, ctx: &std::sync::Arc<$crate::gpu::GpuContext>) -> $crate::error::Result<$crate::env::Mpe<$config>> {
                $crate::env::Mpe::new(ctx.clone(), self)
            }
        }
    };
}
pub(crate) use fixed_scenario;

/// The index `k` of a recorded `["landmark", k]` / `["agent", k]` goal: `hidden.agents[agent][key]`.
pub fn reference_goal(hidden: &serde_json::Value, agent: usize, key: &str) -> std::result::Result<f32, String> {
    hidden["agents"][agent][key][1].as_u64().map(|k| k as f32).ok_or_else(|| format!("agents[{agent}].{key} is not [kind, index]"))
}

/// The index of the one-hot vector `hidden.agents[agent][key]`.
pub fn reference_one_hot(hidden: &serde_json::Value, agent: usize, key: &str) -> std::result::Result<f32, String> {
    let vector = hidden["agents"][agent][key].as_array().ok_or_else(|| format!("agents[{agent}].{key} is not a list"))?;
    vector.iter().position(|v| v.as_f64() == Some(1.0)).map(|k| k as f32).ok_or_else(|| format!("agents[{agent}].{key} is not one-hot"))
}

/// One kind of body in a picture: its radius and colour.
pub struct Look {
    /// Radius, world units.
    pub radius: f64,
    /// Fill.
    pub fill: RGBColor,
}

/// Env 0 of `world` (its first env's entities): landmarks as `landmarks[k]` looks, agents as
/// their group looks (`groups[g]` for the agents of group g), drawn landmarks first.
pub fn group_scene(world: &WorldState, groups: &[MpeGroup], looks: &[Look], landmarks: &[Look], caption: String) -> Scene {
    let body = |v: &[f32], i: usize, look: &Look| Body { x: v[2 * i] as f64, y: v[2 * i + 1] as f64, radius: look.radius, fill: look.fill, ring: None };
    let mut bodies: Vec<Body> = landmarks.iter().enumerate().map(|(k, look)| body(&world.landmark_pos, k, look)).collect();
    let mut i = 0;
    for (group, look) in groups.iter().zip(looks) {
        for _ in 0..group.agents {
            bodies.push(body(&world.agent_pos, i, look));
            i += 1;
        }
    }
    mpe_view(bodies, caption)
}
