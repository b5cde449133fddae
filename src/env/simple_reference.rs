//! `simple_reference`: MPE's two-way referential communication, as mpe2 1.1.1's
//! `simple_reference_v3` defines it (`tests/data/MPE_SPEC.md` §5).
//!
//! Two agents each know the landmark the *other* must reach (its colour) and move and speak at
//! once (`5·word + move`, ten words). Each one's local reward is minus the other's distance to
//! the landmark it knows; both share the mean, mixed by `local_ratio` (0.5, mpe2's default). To
//! score, each must tell the other where to go and listen to where it should go itself.
//!
//! The step is one launch of `shaders/simple_reference.wgsl` on the MPE batch skeleton; the two
//! goal indices live in the env's state (two hidden floats).

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, reference_goal, Look, MpeOptions};
use super::mpe::{AgentBody, MpeGroup, WorldState};
use super::ObsLayout;
use crate::error::ShoalError;
use crate::render::scene::Scene;

/// A batch of `simple_reference` environments: the options and the reward mix.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleReferenceConfig(pub MpeOptions, pub f32);

/// A batch of `simple_reference` environments on the GPU.
pub type SimpleReference = super::Mpe<SimpleReferenceConfig>;

/// mpe2's landmark colours: red, green, blue.
const LANDMARK_COLOURS: [RGBColor; 3] = [RGBColor(191, 64, 64), RGBColor(64, 191, 64), RGBColor(64, 64, 191)];

fixed_scenario!(
    SimpleReferenceConfig,
    "simple_reference",
    "../../shaders/simple_reference.wgsl",
    2,
    |params, options| {
        let local_ratio = params.local_ratio;
        if !(0.0..=1.0).contains(&local_ratio) {
            return Err(ShoalError::config("local_ratio", local_ratio, "must be in [0, 1]"));
        }
        Ok(SimpleReferenceConfig(options, local_ratio))
    },
    {
        fn landmarks(&self) -> usize {
            3
        }
        fn groups(&self) -> Vec<MpeGroup> {
            vec![MpeGroup::movers("agent", 2, 21).with_body(AgentBody { speaks: true, ..AgentBody::DEFAULT })]
        }
        fn dim_c(&self) -> usize {
            10
        }
        fn hidden(&self) -> usize {
            2
        }
        fn constants(&self) -> Vec<(&'static str, String)> {
            vec![("local_ratio", format!("{:?}", self.1))]
        }
        fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
            Ok(vec![reference_goal(hidden, 0, "goal_b")?, reference_goal(hidden, 1, "goal_b")?])
        }
        fn reference_world(&self, rng: &mut super::NumpyGenerator) -> Option<WorldState> {
            Some(WorldState::with_reference_goals(rng, 2, self.agents(), self.landmarks(), self.dim_c()))
        }
        fn obs_layout(&self) -> ObsLayout {
            ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
        }
        fn scene(&self, world: &WorldState) -> Scene {
            let landmarks: Vec<Look> = LANDMARK_COLOURS.iter().map(|&fill| Look { radius: 0.05, fill }).collect();
            // Each agent in the colour of the landmark it must reach (the one the other knows).
            let goal_of = |agent: usize| LANDMARK_COLOURS[(world.hidden[1 - agent] as usize).min(2)];
            let groups = [MpeGroup::movers("agent", 1, 21), MpeGroup::movers("agent", 1, 21)];
            let looks = [Look { radius: 0.05, fill: goal_of(0) }, Look { radius: 0.05, fill: goal_of(1) }];
            let words: Vec<String> = world.agent_comm[..20].chunks(10).map(|c| c.iter().position(|&v| v > 0.5).map_or("-".into(), |w| w.to_string())).collect();
            group_scene(world, &groups, &looks, &landmarks, format!("words said: {}", words.join(", ")))
        }
    }
);
