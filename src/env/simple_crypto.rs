//! `simple_crypto`: MPE's covert communication, as mpe2 1.1.1's `simple_crypto_v3` defines it
//! (`tests/data/MPE_SPEC.md` §3).
//!
//! Alice knows a goal (one of two colours, as a one-hot 4-vector) and a key she shares with Bob;
//! she says a 4-vector. Bob hears it and knows the key; Eve hears it without the key. Bob and
//! Eve each say their guess of the goal. Eve is rewarded for guessing right; Alice and Bob for
//! Bob guessing right and Eve guessing wrong. Nobody moves: the task is all communication.
//!
//! The step is one launch of `shaders/simple_crypto.wgsl` on the MPE batch skeleton; goal and
//! key live in the env's state (two hidden floats).

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, reference_goal, reference_one_hot, Look, MpeOptions};
use super::mpe::{AgentBody, MpeGroup, WorldState};
use super::ObsLayout;
use crate::render::scene::Scene;

/// A batch of `simple_crypto` environments (Eve, Bob, Alice).
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleCryptoConfig(pub MpeOptions);

/// A batch of `simple_crypto` environments on the GPU.
pub type SimpleCrypto = super::Mpe<SimpleCryptoConfig>;

fixed_scenario!(SimpleCryptoConfig, "simple_crypto", "../../shaders/simple_crypto.wgsl", 3, {
    fn landmarks(&self) -> usize {
        2
    }
    fn groups(&self) -> Vec<MpeGroup> {
        let talker = AgentBody { movable: false, speaks: true, ..AgentBody::DEFAULT };
        vec![
            MpeGroup::movers("eve", 1, 4).with_body(talker),
            MpeGroup::movers("bob", 1, 8).with_body(talker),
            MpeGroup::movers("alice", 1, 8).with_body(talker),
        ]
    }
    fn dim_c(&self) -> usize {
        4
    }
    fn hidden(&self) -> usize {
        2
    }
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        Ok(vec![reference_goal(hidden, 0, "goal_a")?, reference_one_hot(hidden, 2, "key")?])
    }
    /// mpe2 draws the goal, then the key landmark (whose colour is the key), then positions.
    fn reference_world(&self, rng: &mut super::NumpyGenerator) -> Option<WorldState> {
        Some(WorldState::with_reference_goals(rng, 2, self.agents(), self.landmarks(), self.dim_c()))
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let landmarks: Vec<Look> = (0..2).map(|_| Look { radius: 0.05, fill: RGBColor(128, 128, 128) }).collect();
        let looks = [
            Look { radius: 0.05, fill: RGBColor(191, 64, 64) },
            Look { radius: 0.05, fill: RGBColor(64, 191, 64) },
            Look { radius: 0.05, fill: RGBColor(64, 64, 191) },
        ];
        let said = |agent: usize| world.agent_comm[4 * agent..4 * agent + 4].iter().map(|v| format!("{v:.1}")).collect::<Vec<_>>().join(" ");
        let caption = format!("goal {} key {}; Alice says [{}], Bob [{}], Eve [{}]", world.hidden[0], world.hidden[1], said(2), said(1), said(0));
        group_scene(world, &self.groups(), &looks, &landmarks, caption)
    }
});
