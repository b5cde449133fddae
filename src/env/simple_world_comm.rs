//! `simple_world_comm`: MPE's predator–prey with a leader, food and forests, as mpe2 1.1.1's
//! `simple_world_comm_v3` defines it (`tests/data/MPE_SPEC.md` §8), with its options:
//! `num_adversaries` (the leader and the others; default 4), `num_good` (2), `num_obstacles` (1),
//! `num_food` (2), `num_forests` (2).
//!
//! Good agents (small, fast) are rewarded for touching food and for not being caught; adversaries
//! for catching them. Forests hide: an agent inside a forest is seen only by agents in the same
//! forest — and by the leader, who sees everything and speaks (4-vectors) to the other
//! adversaries. It is the MADDPG paper's test of a team that must coordinate through a speaker.
//!
//! The step is one launch of `shaders/simple_world_comm.wgsl` on the MPE batch skeleton.

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, Look, MpeOptions};
use super::mpe::{AgentBody, MpeGroup, WorldState};
use super::{EnvOption, EnvParams, ObsLayout};
use crate::error::Result;
use crate::render::scene::Scene;

/// A batch of `simple_world_comm` environments.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleWorldCommConfig(pub MpeOptions, pub WorldCommOptions);

/// simple_world_comm's own options (mpe2's keywords).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorldCommOptions {
    /// Good agents (`num_good`).
    pub good: usize,
    /// Adversaries, the leader included (`num_adversaries`).
    pub adversaries: usize,
    /// Obstacles (`num_obstacles`).
    pub obstacles: usize,
    /// Food (`num_food`).
    pub food: usize,
    /// Forests (`num_forests`).
    pub forests: usize,
}

const NUM_GOOD: EnvOption = EnvOption { name: "num_good", about: "good agents; default 2" };
const NUM_ADVERSARIES: EnvOption = EnvOption { name: "num_adversaries", about: "adversaries, the leader included; default 4" };
const NUM_OBSTACLES: EnvOption = EnvOption { name: "num_obstacles", about: "obstacles; default 1" };
const NUM_FOOD: EnvOption = EnvOption { name: "num_food", about: "food; default 2" };
const NUM_FORESTS: EnvOption = EnvOption { name: "num_forests", about: "forests; default 2" };

impl WorldCommOptions {
    // mpe2 needs a good agent (adversaries are drawn to the nearest), an adversary (the leader)
    // and food (good agents are drawn to the nearest).
    fn from_run(params: &EnvParams) -> Result<WorldCommOptions> {
        let options = &params.options;
        Ok(WorldCommOptions {
            good: options.count(&NUM_GOOD, 2, 1..=32)?,
            adversaries: options.count(&NUM_ADVERSARIES, 4, 1..=32)?,
            obstacles: options.count(&NUM_OBSTACLES, 1, 0..=32)?,
            food: options.count(&NUM_FOOD, 2, 1..=32)?,
            forests: options.count(&NUM_FORESTS, 2, 0..=32)?,
        })
    }

    fn landmarks(&self) -> usize {
        self.obstacles + self.food + self.forests
    }
}

/// A batch of `simple_world_comm` environments on the GPU.
pub type SimpleWorldComm = super::Mpe<SimpleWorldCommConfig>;

fixed_scenario!(SimpleWorldCommConfig, "simple_world_comm", "../../shaders/simple_world_comm.wgsl",
    options: &[NUM_GOOD, NUM_ADVERSARIES, NUM_OBSTACLES, NUM_FOOD, NUM_FORESTS],
    agents: |config| config.1.good + config.1.adversaries,
    new: |params, options| Ok(SimpleWorldCommConfig(options, WorldCommOptions::from_run(params)?)),
{
    fn landmarks(&self) -> usize {
        self.1.landmarks()
    }
    fn groups(&self) -> Vec<MpeGroup> {
        let WorldCommOptions { good, adversaries, forests, .. } = self.1;
        let seen = 4 + 2 * self.1.landmarks() + 2 * (good + adversaries - 1) + forests;
        let (adversary_obs, good_obs) = (seen + 2 * good + 4, seen + 2 * (good - 1));
        let adversary = AgentBody { accel: 3.0, max_speed: Some(1.0), ..AgentBody::DEFAULT };
        let groups = [
            MpeGroup::movers("leadadversary", 1, adversary_obs).with_body(AgentBody { speaks: true, ..adversary }),
            MpeGroup::movers("adversary", adversaries - 1, adversary_obs).with_body(adversary),
            MpeGroup::movers("agent", good, good_obs).with_body(AgentBody { accel: 4.0, max_speed: Some(1.3), ..AgentBody::DEFAULT }),
        ];
        // A lone leader has no followers: no empty group.
        groups.into_iter().filter(|g| g.agents > 0).collect()
    }
    fn constants(&self) -> Vec<(&'static str, String)> {
        let o = self.1;
        [("adversaries", o.adversaries), ("obstacles", o.obstacles), ("food", o.food), ("forests", o.forests)]
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect()
    }
    /// mpe2's `reset_world`: every agent at `uniform(-1, 1, 2)`, every landmark (obstacles,
    /// food, forests) at `uniform(-0.9, 0.9, 2)` — then the food and the forests drawn again,
    /// as mpe2 draws them a second time (they are in `world.landmarks` too).
    fn reference_world(&self, rng: &mut super::NumpyGenerator) -> Option<WorldState> {
        let WorldCommOptions { obstacles, food, forests, .. } = self.1;
        let agent_pos = rng.uniform_f32(-1.0, 1.0, 2 * self.agents());
        let mut landmark_pos = rng.uniform_f32(-0.9, 0.9, 2 * self.landmarks());
        let again = rng.uniform_f32(-0.9, 0.9, 2 * (food + forests));
        landmark_pos[2 * obstacles..].copy_from_slice(&again);
        Some(WorldState::at_rest(agent_pos, landmark_pos, self.dim_c(), self.hidden()))
    }
    fn dim_c(&self) -> usize {
        4
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let WorldCommOptions { obstacles, food, forests, .. } = self.1;
        let landmarks: Vec<Look> = std::iter::repeat_with(|| Look { radius: 0.2, fill: RGBColor(64, 64, 64) })
            .take(obstacles)
            .chain(std::iter::repeat_with(|| Look { radius: 0.03, fill: RGBColor(38, 38, 230) }).take(food))
            .chain(std::iter::repeat_with(|| Look { radius: 0.3, fill: RGBColor(153, 230, 153) }).take(forests))
            .collect();
        let groups = self.groups();
        let looks: Vec<Look> = groups
            .iter()
            .map(|g| match g.name {
                "leadadversary" => Look { radius: 0.075, fill: RGBColor(166, 38, 38) },
                "adversary" => Look { radius: 0.075, fill: RGBColor(242, 115, 115) },
                _ => Look { radius: 0.045, fill: RGBColor(115, 242, 115) },
            })
            .collect();
        let words: Vec<String> = world.agent_comm[..4].iter().map(|v| format!("{v:.1}")).collect();
        group_scene(world, &groups, &looks, &landmarks, format!("the leader says [{}]", words.join(" ")))
    }
});
