//! `simple_adversary`: MPE's physical deception task, as mpe2 1.1.1's `simple_adversary_v3`
//! defines it (`tests/data/MPE_SPEC.md` §2), with its option `N` (good agents and landmarks;
//! default 2).
//!
//! N good agents know which of N landmarks is the target; one adversary does not. The good
//! agents are rewarded for one of them being near the target and for the adversary being far
//! from it; the adversary for being near it. The good agents therefore gain by splitting between
//! target and decoy, so the adversary cannot tell which is which — the MADDPG paper's example of
//! deception. Nothing collides.
//!
//! The step is one launch of `shaders/simple_adversary.wgsl` on the MPE batch skeleton; the
//! target's index lives in the env's state (one hidden float).

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, reference_goal, Look, MpeOptions};
use super::mpe::{MpeGroup, WorldState};
use super::{EnvOption, ObsLayout};
use crate::render::scene::Scene;

/// A batch of `simple_adversary` environments: one adversary, `.1` good agents (mpe2's `N`)
/// and as many landmarks.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleAdversaryConfig(pub MpeOptions, pub usize);

/// mpe2's `N`.
const GOOD: EnvOption = EnvOption { name: "N", about: "good agents, and landmarks (one the target); default 2" };

/// A batch of `simple_adversary` environments on the GPU.
pub type SimpleAdversary = super::Mpe<SimpleAdversaryConfig>;

fixed_scenario!(SimpleAdversaryConfig, "simple_adversary", "../../shaders/simple_adversary.wgsl",
    options: &[GOOD],
    agents: |config| config.1 + 1,
    new: |params, options| Ok(SimpleAdversaryConfig(options, params.options.count(&GOOD, 2, 1..=64)?)),
{
    fn landmarks(&self) -> usize {
        self.1
    }
    fn groups(&self) -> Vec<MpeGroup> {
        let n = self.1;
        vec![MpeGroup::movers("adversary", 1, 4 * n), MpeGroup::movers("agent", n, 4 * n + 2)]
    }
    fn hidden(&self) -> usize {
        1
    }
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        Ok(vec![reference_goal(hidden, 0, "goal_a")?])
    }
    fn reference_world(&self, rng: &mut super::NumpyGenerator) -> Option<WorldState> {
        Some(WorldState::with_reference_goals(rng, 1, self.agents(), self.landmarks(), self.dim_c()))
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let target = world.hidden[0] as usize;
        let landmarks: Vec<Look> = (0..self.1)
            .map(|k| Look { radius: 0.08, fill: if k == target { RGBColor(38, 166, 38) } else { RGBColor(38, 38, 38) } })
            .collect();
        let looks = [Look { radius: 0.15, fill: RGBColor(217, 89, 89) }, Look { radius: 0.15, fill: RGBColor(89, 89, 217) }];
        group_scene(world, &self.groups(), &looks, &landmarks, format!("target: landmark {target} (green)"))
    }
});
