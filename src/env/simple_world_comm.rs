//! `simple_world_comm`: MPE's predator–prey with a leader, food and forests, as mpe2 1.1.1's
//! `simple_world_comm_v3` defines it (`tests/data/MPE_SPEC.md` §8), with mpe2's defaults: a
//! leader and three adversaries, two good agents, one obstacle, two food, two forests.
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
use super::ObsLayout;
use crate::render::scene::Scene;

/// A batch of `simple_world_comm` environments (leader, 3 adversaries, 2 good agents).
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleWorldCommConfig(pub MpeOptions);

/// A batch of `simple_world_comm` environments on the GPU.
pub type SimpleWorldComm = super::Mpe<SimpleWorldCommConfig>;

fixed_scenario!(SimpleWorldCommConfig, "simple_world_comm", "../../shaders/simple_world_comm.wgsl", 6, {
    fn landmarks(&self) -> usize {
        5
    }
    fn groups(&self) -> Vec<MpeGroup> {
        let adversary = AgentBody { accel: 3.0, max_speed: Some(1.0), ..AgentBody::DEFAULT };
        vec![
            MpeGroup::movers("leadadversary", 1, 34).with_body(AgentBody { speaks: true, ..adversary }),
            MpeGroup::movers("adversary", 3, 34).with_body(adversary),
            MpeGroup::movers("agent", 2, 28).with_body(AgentBody { accel: 4.0, max_speed: Some(1.3), ..AgentBody::DEFAULT }),
        ]
    }
    fn dim_c(&self) -> usize {
        4
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let landmarks = [
            Look { radius: 0.2, fill: RGBColor(64, 64, 64) },
            Look { radius: 0.03, fill: RGBColor(38, 38, 230) },
            Look { radius: 0.03, fill: RGBColor(38, 38, 230) },
            Look { radius: 0.3, fill: RGBColor(153, 230, 153) },
            Look { radius: 0.3, fill: RGBColor(153, 230, 153) },
        ];
        let looks = [
            Look { radius: 0.075, fill: RGBColor(166, 38, 38) },
            Look { radius: 0.075, fill: RGBColor(242, 115, 115) },
            Look { radius: 0.045, fill: RGBColor(115, 242, 115) },
        ];
        let words: Vec<String> = world.agent_comm[..4].iter().map(|v| format!("{v:.1}")).collect();
        group_scene(world, &self.groups(), &looks, &landmarks, format!("the leader says [{}]", words.join(" ")))
    }
});
