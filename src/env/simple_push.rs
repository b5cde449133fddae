//! `simple_push`: MPE's keep-away task, as mpe2 1.1.1's `simple_push_v3` defines it
//! (`tests/data/MPE_SPEC.md` §4).
//!
//! A good agent knows which of two landmarks is its goal and is rewarded for being near it; an
//! adversary, which sees the landmarks but not which one is the goal, is rewarded for keeping the
//! good agent away from it and for being near it itself. The two agents collide (soft contact):
//! the adversary pushes. The good agent's colour encodes the goal, and observes it; the adversary
//! does not see colours.
//!
//! The step is one launch of `shaders/simple_push.wgsl` on the MPE batch skeleton; the goal's
//! index lives in the env's state (one hidden float).

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, reference_goal, Look, MpeOptions};
use super::mpe::{MpeGroup, WorldState};
use super::ObsLayout;
use crate::render::scene::Scene;

/// A batch of `simple_push` environments (one adversary, one good agent, two landmarks).
#[derive(Debug, Clone, PartialEq)]
pub struct SimplePushConfig(pub MpeOptions);

/// A batch of `simple_push` environments on the GPU.
pub type SimplePush = super::Mpe<SimplePushConfig>;

/// mpe2's landmark colours: green, blue.
const LANDMARK_COLOURS: [RGBColor; 2] = [RGBColor(26, 230, 26), RGBColor(26, 26, 230)];

fixed_scenario!(SimplePushConfig, "simple_push", "../../shaders/simple_push.wgsl", 2, {
    fn landmarks(&self) -> usize {
        2
    }
    fn groups(&self) -> Vec<MpeGroup> {
        vec![MpeGroup::movers("adversary", 1, 8), MpeGroup::movers("agent", 1, 19)]
    }
    fn hidden(&self) -> usize {
        1
    }
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        Ok(vec![reference_goal(hidden, 1, "goal_a")?])
    }
    fn reference_world(&self, rng: &mut super::NumpyGenerator) -> Option<WorldState> {
        Some(WorldState::with_reference_goals(rng, 1, self.agents(), self.landmarks(), self.dim_c()))
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let goal = (world.hidden[0] as usize).min(1);
        let landmarks: Vec<Look> = LANDMARK_COLOURS.iter().map(|&fill| Look { radius: 0.05, fill }).collect();
        let good = if goal == 0 { RGBColor(64, 191, 64) } else { RGBColor(64, 64, 191) };
        let looks = [Look { radius: 0.05, fill: RGBColor(191, 64, 64) }, Look { radius: 0.05, fill: good }];
        group_scene(world, &self.groups(), &looks, &landmarks, format!("goal: landmark {goal}"))
    }
});
