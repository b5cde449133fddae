//! `simple_tag`: MPE's predator–prey task, as mpe2 1.1.1's `simple_tag_v3` defines it
//! (`tests/data/MPE_SPEC.md` §7), with mpe2's defaults: three adversaries (predators), one good
//! agent (prey), two obstacles.
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
use super::ObsLayout;
use crate::render::scene::Scene;

/// A batch of `simple_tag` environments (3 predators, 1 prey, 2 obstacles).
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleTagConfig(pub MpeOptions);

/// A batch of `simple_tag` environments on the GPU.
pub type SimpleTag = super::Mpe<SimpleTagConfig>;

fixed_scenario!(SimpleTagConfig, "simple_tag", "../../shaders/simple_tag.wgsl", 4, {
    fn landmarks(&self) -> usize {
        2
    }
    fn groups(&self) -> Vec<MpeGroup> {
        vec![
            MpeGroup::movers("adversary", 3, 16).with_body(AgentBody { accel: 3.0, max_speed: Some(1.0), ..AgentBody::DEFAULT }),
            MpeGroup::movers("agent", 1, 14).with_body(AgentBody { accel: 4.0, max_speed: Some(1.3), ..AgentBody::DEFAULT }),
        ]
    }
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.obs_dim(), mean_action: 0, distinct_agents: true }
    }
    fn scene(&self, world: &WorldState) -> Scene {
        let obstacles: Vec<Look> = (0..2).map(|_| Look { radius: 0.2, fill: RGBColor(64, 64, 64) }).collect();
        let looks = [Look { radius: 0.075, fill: RGBColor(217, 89, 89) }, Look { radius: 0.05, fill: RGBColor(89, 217, 89) }];
        let prey = (world.agent_pos[6], world.agent_pos[7]);
        let touching = (0..3)
            .filter(|&a| ((world.agent_pos[2 * a] - prey.0).powi(2) + (world.agent_pos[2 * a + 1] - prey.1).powi(2)).sqrt() < 0.125)
            .count();
        group_scene(world, &self.groups(), &looks, &obstacles, format!("{touching} predator(s) touching the prey"))
    }
});
