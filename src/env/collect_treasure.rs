//! `collect_treasure`: mpe2's collectors and deposits, as mpe2 1.1.1's `collect_treasure_v1`
//! defines it (`tests/data/MPE_SPEC.md` §9), with its defaults: six collectors, two deposits,
//! six treasures of two types.
//!
//! Collectors pick up treasures by touching them and deliver them by touching the deposit of the
//! treasure's type; deposits (heavier, mass 2.25) move too and are drawn towards collectors that
//! carry their type. Every pickup and delivery rewards everyone with 5: the task rewards a team
//! that splits into gatherers and couriers. A collected treasure respawns at the next step.
//! Observations list the other agents and the treasures nearest first (a sort in the kernel).
//!
//! The step is one launch of `shaders/collect_treasure.wgsl` on the MPE batch skeleton; the
//! treasures' types and liveness, what each collector holds and the next respawns are hidden
//! per-env floats. mpe2 draws respawns from a generator it copies at reset; shoal draws them
//! from a stream of their own, one step ahead, which is what lets `shoal replay` put mpe2's
//! recorded respawn in its place ([`super::MpeScenario::steer_replay`]).

use plotters::style::RGBColor;

use super::mpe::fixed::{fixed_scenario, group_scene, Look, MpeOptions};
use super::mpe::{AgentBody, MpeGroup, WorldState};
use super::ObsLayout;
use crate::render::scene::Scene;
use crate::replay::StepRecord;

/// A batch of `collect_treasure` environments (6 collectors, 2 deposits, 6 treasures).
#[derive(Debug, Clone, PartialEq)]
pub struct CollectTreasureConfig(pub MpeOptions);

/// A batch of `collect_treasure` environments on the GPU.
pub type CollectTreasure = super::Mpe<CollectTreasureConfig>;

const COLLECTORS: usize = 6;
const TREASURES: usize = 6;
/// Offsets in the hidden floats (`shaders/collect_treasure.wgsl`).
const H_TYPE: usize = 0;
const H_ALIVE: usize = TREASURES;
const H_HOLDING: usize = 2 * TREASURES;
const H_RESPAWN: usize = 2 * TREASURES + COLLECTORS;
const HIDDEN: usize = 5 * TREASURES + COLLECTORS + 1;
/// Treasure and deposit colours by type.
const TYPE_COLOURS: [RGBColor; 2] = [RGBColor(54, 104, 198), RGBColor(241, 141, 0)];

fixed_scenario!(CollectTreasureConfig, "collect_treasure", "../../shaders/collect_treasure.wgsl", 8, {
    fn landmarks(&self) -> usize {
        TREASURES
    }
    fn groups(&self) -> Vec<MpeGroup> {
        let body = AgentBody { accel: 1.5, max_speed: Some(1.0), ..AgentBody::DEFAULT };
        vec![
            MpeGroup::movers("collector", COLLECTORS, 86).with_body(body),
            MpeGroup::movers("deposit", 2, 84).with_body(AgentBody { mass: 2.25, ..body }),
        ]
    }
    fn hidden(&self) -> usize {
        HIDDEN
    }
    fn has_post_step(&self) -> bool {
        true
    }
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        let mut out = vec![0.0; HIDDEN];
        for t in 0..TREASURES {
            let treasure = &hidden["landmarks"][t];
            out[H_TYPE + t] = treasure["type"].as_u64().ok_or_else(|| format!("landmarks[{t}].type is not an index"))? as f32;
            out[H_ALIVE + t] = if treasure["alive"].as_bool().ok_or_else(|| format!("landmarks[{t}].alive is not a flag"))? { 1.0 } else { 0.0 };
        }
        for c in 0..COLLECTORS {
            out[H_HOLDING + c] = hidden["agents"][c]["holding"].as_u64().map_or(0.0, |held| held as f32 + 1.0);
        }
        Ok(out)
    }
    fn steer_replay(&self, hidden: &mut [f32], next: &StepRecord) -> bool {
        let (Some(landmarks), Some(next_hidden)) = (&next.landmark_pos, &next.hidden) else {
            return false;
        };
        let mut changed = false;
        for t in 0..TREASURES {
            let respawns = hidden[H_ALIVE + t] < 0.5 && next_hidden["landmarks"][t]["alive"].as_bool() == Some(true);
            if let (true, Some(kind), Some(at)) = (respawns, next_hidden["landmarks"][t]["type"].as_u64(), landmarks.get(t)) {
                hidden[H_RESPAWN + 3 * t..H_RESPAWN + 3 * t + 3].copy_from_slice(&[at[0] as f32, at[1] as f32, kind as f32]);
                changed = true;
            }
        }
        changed
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let landmarks: Vec<Look> = (0..TREASURES)
            .map(|t| Look { radius: 0.025, fill: TYPE_COLOURS[(world.hidden[H_TYPE + t] as usize).min(1)] })
            .collect();
        let held = (0..COLLECTORS).filter(|&c| world.hidden[H_HOLDING + c] > 0.5).count();
        // Collectors grey, deposits in their type's colour.
        let groups = [MpeGroup::movers("collector", COLLECTORS, 86), MpeGroup::movers("deposit", 1, 84), MpeGroup::movers("deposit", 1, 84)];
        let looks = [
            Look { radius: 0.05, fill: RGBColor(217, 217, 217) },
            Look { radius: 0.075, fill: TYPE_COLOURS[0] },
            Look { radius: 0.075, fill: TYPE_COLOURS[1] },
        ];
        group_scene(world, &groups, &looks, &landmarks, format!("{held} of {COLLECTORS} collectors carry a treasure"))
    }
});
