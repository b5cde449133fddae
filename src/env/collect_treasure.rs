//! `collect_treasure`: mpe2's collectors and deposits, as mpe2 1.1.1's `collect_treasure_v1`
//! defines it (`tests/data/MPE_SPEC.md` §9), with its options: `num_collectors` (default 6),
//! `num_deposits` (2; one per treasure type) and `num_treasures` (6).
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
use super::{EnvOption, EnvParams, ObsLayout};
use crate::error::Result;
use crate::render::scene::Scene;
use crate::replay::StepRecord;

/// A batch of `collect_treasure` environments.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectTreasureConfig(pub MpeOptions, pub TreasureOptions);

/// A batch of `collect_treasure` environments on the GPU.
pub type CollectTreasure = super::Mpe<CollectTreasureConfig>;

/// collect_treasure's own options (mpe2's keywords).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreasureOptions {
    /// Collectors (`num_collectors`).
    pub collectors: usize,
    /// Deposits, one per treasure type (`num_deposits`).
    pub deposits: usize,
    /// Treasures (`num_treasures`).
    pub treasures: usize,
}

const NUM_COLLECTORS: EnvOption = EnvOption { name: "num_collectors", about: "collectors; default 6" };
const NUM_DEPOSITS: EnvOption = EnvOption { name: "num_deposits", about: "deposits, one per treasure type; default 2" };
const NUM_TREASURES: EnvOption = EnvOption { name: "num_treasures", about: "treasures; default 6" };

impl TreasureOptions {
    // mpe2 needs a collector (deposits head for the collectors' centroid), a deposit (treasure
    // types are drawn below their count) and a treasure.
    fn from_run(params: &EnvParams) -> Result<TreasureOptions> {
        let options = &params.options;
        Ok(TreasureOptions {
            collectors: options.count(&NUM_COLLECTORS, 6, 1..=32)?,
            deposits: options.count(&NUM_DEPOSITS, 2, 1..=8)?,
            treasures: options.count(&NUM_TREASURES, 6, 1..=32)?,
        })
    }

    /// Offsets in the hidden floats (`shaders/collect_treasure.wgsl`): types, alive flags,
    /// holdings, respawns; and the count with the step's events.
    fn h_alive(&self) -> usize {
        self.treasures
    }
    fn h_holding(&self) -> usize {
        2 * self.treasures
    }
    fn h_respawn(&self) -> usize {
        2 * self.treasures + self.collectors
    }
    fn hidden(&self) -> usize {
        5 * self.treasures + self.collectors + 1
    }
}

/// Treasure and deposit colours by type (cycled past four types).
const TYPE_COLOURS: [RGBColor; 4] = [RGBColor(54, 104, 198), RGBColor(241, 141, 0), RGBColor(150, 60, 180), RGBColor(40, 160, 120)];

fixed_scenario!(CollectTreasureConfig, "collect_treasure", "../../shaders/collect_treasure.wgsl",
    options: &[NUM_COLLECTORS, NUM_DEPOSITS, NUM_TREASURES],
    agents: |config| config.1.collectors + config.1.deposits,
    new: |params, options| Ok(CollectTreasureConfig(options, TreasureOptions::from_run(params)?)),
{
    fn landmarks(&self) -> usize {
        self.1.treasures
    }
    fn groups(&self) -> Vec<MpeGroup> {
        let TreasureOptions { collectors, deposits, treasures } = self.1;
        let seen = 4 + (collectors + deposits - 1) * (4 + 2 * deposits) + treasures * (2 + deposits);
        let body = AgentBody { accel: 1.5, max_speed: Some(1.0), ..AgentBody::DEFAULT };
        vec![
            MpeGroup::movers("collector", collectors, seen + deposits).with_body(body),
            MpeGroup::movers("deposit", deposits, seen).with_body(AgentBody { mass: 2.25, ..body }),
        ]
    }
    fn hidden(&self) -> usize {
        self.1.hidden()
    }
    fn has_post_step(&self) -> bool {
        true
    }
    fn constants(&self) -> Vec<(&'static str, String)> {
        vec![("collectors", self.1.collectors.to_string())]
    }
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        let o = self.1;
        let mut out = vec![0.0; o.hidden()];
        for t in 0..o.treasures {
            let treasure = &hidden["landmarks"][t];
            out[t] = treasure["type"].as_u64().ok_or_else(|| format!("landmarks[{t}].type is not an index"))? as f32;
            out[o.h_alive() + t] = if treasure["alive"].as_bool().ok_or_else(|| format!("landmarks[{t}].alive is not a flag"))? { 1.0 } else { 0.0 };
        }
        for c in 0..o.collectors {
            out[o.h_holding() + c] = hidden["agents"][c]["holding"].as_u64().map_or(0.0, |held| held as f32 + 1.0);
        }
        Ok(out)
    }
    fn steer_replay(&self, hidden: &mut [f32], next: &StepRecord) -> bool {
        let (Some(landmarks), Some(next_hidden)) = (&next.landmark_pos, &next.hidden) else {
            return false;
        };
        let o = self.1;
        let mut changed = false;
        for t in 0..o.treasures {
            let respawns = hidden[o.h_alive() + t] < 0.5 && next_hidden["landmarks"][t]["alive"].as_bool() == Some(true);
            if let (true, Some(kind), Some(at)) = (respawns, next_hidden["landmarks"][t]["type"].as_u64(), landmarks.get(t)) {
                let slot = o.h_respawn() + 3 * t;
                hidden[slot..slot + 3].copy_from_slice(&[at[0] as f32, at[1] as f32, kind as f32]);
                changed = true;
            }
        }
        changed
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let TreasureOptions { collectors, deposits, treasures } = self.1;
        let colour = |kind: usize| TYPE_COLOURS[kind % TYPE_COLOURS.len()];
        let landmarks: Vec<Look> = (0..treasures).map(|t| Look { radius: 0.025, fill: colour(world.hidden[t] as usize) }).collect();
        let held = (0..collectors).filter(|&c| world.hidden[self.1.h_holding() + c] > 0.5).count();
        // Collectors grey, deposits in their type's colour.
        let mut groups = vec![MpeGroup::movers("collector", collectors, 0)];
        let mut looks = vec![Look { radius: 0.05, fill: RGBColor(217, 217, 217) }];
        for d in 0..deposits {
            groups.push(MpeGroup::movers("deposit", 1, 0));
            looks.push(Look { radius: 0.075, fill: colour(d) });
        }
        group_scene(world, &groups, &looks, &landmarks, format!("{held} of {collectors} collectors carry a treasure"))
    }
});
