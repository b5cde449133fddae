//! `simple_speaker_listener`: MPE's cooperative communication task, as mpe2 1.1.1's
//! `simple_speaker_listener_v4` defines it (`tests/data/MPE_SPEC.md` §6).
//!
//! A speaker that cannot move sees which of three landmarks is the goal (its colour) and says one
//! of three words; a listener that cannot speak hears the word and must move to the goal. Both
//! are rewarded minus the listener's squared distance to it. Neither sees the other's view: the
//! goal reaches the listener only through the speaker's word, which is why the MADDPG paper uses
//! it to show centralised critics learning a language that independent learners do not.
//!
//! The step is one launch of `shaders/simple_speaker_listener.wgsl` on the MPE batch skeleton;
//! the goal index lives in the env's state (one hidden float).

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, reference_goal, Look, MpeOptions};
use super::mpe::{AgentBody, MpeGroup, WorldState};
use super::ObsLayout;
use crate::render::scene::Scene;

/// A batch of `simple_speaker_listener` environments (mpe2's only population: one of each).
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSpeakerListenerConfig(pub MpeOptions);

/// A batch of `simple_speaker_listener` environments on the GPU.
pub type SimpleSpeakerListener = super::Mpe<SimpleSpeakerListenerConfig>;

/// Landmark colours (mpe2's), the goal's being what the speaker observes.
const LANDMARK_COLOURS: [RGBColor; 3] = [RGBColor(166, 38, 38), RGBColor(38, 166, 38), RGBColor(38, 38, 166)];

fixed_scenario!(SimpleSpeakerListenerConfig, "simple_speaker_listener", "../../shaders/simple_speaker_listener.wgsl", 2, {
    fn landmarks(&self) -> usize {
        3
    }
    fn groups(&self) -> Vec<MpeGroup> {
        vec![
            MpeGroup::movers("speaker", 1, 3).with_body(AgentBody { movable: false, speaks: true, ..AgentBody::DEFAULT }),
            MpeGroup::movers("listener", 1, 11),
        ]
    }
    fn dim_c(&self) -> usize {
        3
    }
    fn hidden(&self) -> usize {
        1
    }
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        Ok(vec![reference_goal(hidden, 0, "goal_b")?])
    }
    fn reference_world(&self, rng: &mut super::NumpyGenerator) -> Option<WorldState> {
        Some(WorldState::with_reference_goals(rng, 1, self.agents(), self.landmarks(), self.dim_c()))
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let goal = world.hidden[0] as usize;
        let landmarks: Vec<Look> = LANDMARK_COLOURS.iter().map(|&fill| Look { radius: 0.04, fill }).collect();
        let listener = Look { radius: 0.075, fill: LANDMARK_COLOURS[goal.min(2)] };
        let speaker = Look { radius: 0.075, fill: RGBColor(64, 64, 64) };
        let word = world.agent_comm[..3].iter().position(|&c| c > 0.5).map_or("nothing".to_string(), |w| format!("word {w}"));
        group_scene(world, &self.groups(), &[speaker, listener], &landmarks, format!("goal landmark {goal}; the speaker says {word}"))
    }
});
