//! `simple_tag`: MPE's predator–prey task, as mpe2 1.1.1's `simple_tag_v3` defines it
//! (`tests/data/MPE_SPEC.md` §7), with its options: `num_adversaries` predators (default 3),
//! `num_good` prey (1), `num_obstacles` obstacles (2), `terminate_on_success` (end the episode
//! when every prey is touched; off) and `curriculum` (prey at half speed, mpe2's first stage; off).
//!
//! The predators are bigger and slower (size 0.075, accel 3, speed ≤ 1.0) than the prey (0.05,
//! accel 4, speed ≤ 1.3). Every touch of a predator and the prey gives each predator +10 and the
//! prey −10; the prey also pays for leaving the unit square. Everything collides: agents push
//! each other and the fixed obstacles push agents. Predators see the prey's velocity, so they can
//! learn to cut it off — the MADDPG paper's chase.
//!
//! The step is one launch of `shaders/simple_tag.wgsl` on the MPE batch skeleton.

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, Look, MpeOptions};
use super::mpe::{AgentBody, MpeGroup, WorldState};
use super::{EnvOption, EnvParams, NumpyGenerator, ObsLayout};
use crate::error::Result;
use crate::render::scene::Scene;

/// A batch of `simple_tag` environments.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleTagConfig(pub MpeOptions, pub TagOptions);

/// simple_tag's own options (mpe2's keywords).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagOptions {
    /// Prey (`num_good`).
    pub good: usize,
    /// Predators (`num_adversaries`).
    pub adversaries: usize,
    /// Obstacles (`num_obstacles`).
    pub obstacles: usize,
    /// End the episode when every prey touches a predator.
    pub terminate_on_success: bool,
    /// mpe2's curriculum at its first stage: prey at half speed and acceleration.
    pub curriculum: bool,
}

const NUM_GOOD: EnvOption = EnvOption { name: "num_good", about: "prey; default 1" };
const NUM_ADVERSARIES: EnvOption = EnvOption { name: "num_adversaries", about: "predators; default 3" };
const NUM_OBSTACLES: EnvOption = EnvOption { name: "num_obstacles", about: "obstacles; default 2" };
const TERMINATE: EnvOption = EnvOption { name: "terminate_on_success", about: "end episodes when every prey is caught; default false" };
const CURRICULUM: EnvOption = EnvOption { name: "curriculum", about: "prey at half speed (mpe2's first curriculum stage); default false" };

impl TagOptions {
    fn from_run(params: &EnvParams) -> Result<TagOptions> {
        let options = &params.options;
        Ok(TagOptions {
            good: options.count(&NUM_GOOD, 1, 1..=32)?,
            adversaries: options.count(&NUM_ADVERSARIES, 3, 1..=32)?,
            obstacles: options.count(&NUM_OBSTACLES, 2, 0..=32)?,
            terminate_on_success: options.flag(&TERMINATE, false)?,
            curriculum: options.flag(&CURRICULUM, false)?,
        })
    }
}

/// A batch of `simple_tag` environments on the GPU.
pub type SimpleTag = super::Mpe<SimpleTagConfig>;

fixed_scenario!(SimpleTagConfig, "simple_tag", "../../shaders/simple_tag.wgsl",
    options: &[NUM_GOOD, NUM_ADVERSARIES, NUM_OBSTACLES, TERMINATE, CURRICULUM],
    agents: |config| config.1.good + config.1.adversaries,
    new: |params, options| Ok(SimpleTagConfig(options, TagOptions::from_run(params)?)),
{
    const DEFINES_IS_TERMINAL: bool = true;
    fn landmarks(&self) -> usize {
        self.1.obstacles
    }
    fn groups(&self) -> Vec<MpeGroup> {
        let TagOptions { good, adversaries, obstacles, curriculum, .. } = self.1;
        let seen = 4 + 2 * obstacles + 2 * (good + adversaries - 1);
        let speed = if curriculum { 0.5 } else { 1.0 };
        vec![
            MpeGroup::movers("adversary", adversaries, seen + 2 * good).with_body(AgentBody { accel: 3.0, max_speed: Some(1.0), ..AgentBody::DEFAULT }),
            MpeGroup::movers("agent", good, seen + 2 * (good - 1)).with_body(AgentBody { accel: 4.0 * speed, max_speed: Some(1.3 * speed), ..AgentBody::DEFAULT }),
        ]
    }
    fn may_terminate(&self) -> bool {
        self.1.terminate_on_success
    }
    fn constants(&self) -> Vec<(&'static str, String)> {
        vec![("adversaries", self.1.adversaries.to_string()), ("terminate_on_success", self.1.terminate_on_success.to_string())]
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    /// mpe2's `reset_world`: every agent at `uniform(-1, 1, 2)`, then every obstacle at
    /// `uniform(-0.9, 0.9, 2)`.
    fn reference_world(&self, rng: &mut NumpyGenerator) -> Option<WorldState> {
        let agent_pos = rng.uniform_f32(-1.0, 1.0, 2 * self.agents());
        Some(WorldState::at_rest(agent_pos, rng.uniform_f32(-0.9, 0.9, 2 * self.landmarks()), self.dim_c(), self.hidden()))
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let TagOptions { good, adversaries, obstacles, .. } = self.1;
        let obstacles: Vec<Look> = (0..obstacles).map(|_| Look { radius: 0.2, fill: RGBColor(64, 64, 64) }).collect();
        let looks = [Look { radius: 0.075, fill: RGBColor(217, 89, 89) }, Look { radius: 0.05, fill: RGBColor(89, 217, 89) }];
        let at = |i: usize| (world.agent_pos[2 * i], world.agent_pos[2 * i + 1]);
        let caught = (adversaries..adversaries + good)
            .filter(|&prey| (0..adversaries).any(|a| ((at(a).0 - at(prey).0).powi(2) + (at(a).1 - at(prey).1).powi(2)).sqrt() < 0.125))
            .count();
        group_scene(world, &self.groups(), &looks, &obstacles, format!("{caught} of {good} prey touched"))
    }
});
