//! Agents of different kinds in one MPE world: what each group is physically, and how the
//! batch's one observation buffer and one action buffer map to per-group tensors.
//!
//! mpe2's mixed scenarios put agents of several kinds in a world — adversaries and good agents,
//! a speaker that cannot move and a listener that cannot speak, a leader that does both. The
//! step kernel keeps one layout for all of them, so that it stays one launch over flat arrays:
//! observations `[envs, agents, obs_dim]` padded to the widest group's, discrete actions
//! `[envs, agents]`, continuous ones `[envs, agents, action_dim]` padded to the widest group's.
//! Learners see per-group tensors ([`super::super::StepOutput::obs`], one [`Actions`] per
//! group): a slice out of the padded observations (a view, no kernel), and one concatenation of
//! the groups' actions per step (free for single-group scenarios, which pass theirs through).
//! The kernel reads each agent's kind from `agent_body(i)`, generated here as a chain of
//! `if (i < end)` over the groups so that agents of one kind share one branch.

use burn::tensor::{Int, Tensor};

use crate::env::{ActionSpace, Actions, AgentGroup};
use crate::error::{Result, ShoalError};

/// Length of the movement part of an MPE action (`[no-op, -x, +x, -y, +y]`).
pub const MOVE_DIM: usize = 5;

/// What an agent is physically (mpe2's `Agent` attributes that the step reads).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentBody {
    /// Takes movement actions and is integrated (`movable`).
    pub movable: bool,
    /// Takes communication actions (`not silent`): its utterance is `dim_c` floats.
    pub speaks: bool,
    /// Force per unit of action (`accel`; mpe2's `None` is 5).
    pub accel: f32,
    /// Mass (`initial_mass`).
    pub mass: f32,
    /// Speed limit (`max_speed`), `None` for none.
    pub max_speed: Option<f32>,
}

impl AgentBody {
    /// mpe2's defaults: movable, silent, accel 5 (`None`), mass 1, no speed limit.
    pub const DEFAULT: AgentBody = AgentBody { movable: true, speaks: false, accel: 5.0, mass: 1.0, max_speed: None };

    /// Size of the discrete action space: `5 · dim_c` for a movable speaker (`5·word + move`),
    /// 5 for a silent mover, `dim_c` for a speaker that cannot move.
    pub fn discrete_actions(&self, dim_c: usize) -> usize {
        (if self.movable { MOVE_DIM } else { 1 }) * (if self.speaks { dim_c } else { 1 })
    }

    /// Length of a continuous action: 5 movement components, then `dim_c` words.
    pub fn action_width(&self, dim_c: usize) -> usize {
        (if self.movable { MOVE_DIM } else { 0 }) + (if self.speaks { dim_c } else { 0 })
    }

    /// The action space of an agent of this body.
    pub fn action_space(&self, dim_c: usize, continuous: bool) -> ActionSpace {
        if continuous {
            ActionSpace::Continuous { dim: self.action_width(dim_c), low: 0.0, high: 1.0 }
        } else {
            ActionSpace::Discrete { n: self.discrete_actions(dim_c) }
        }
    }
}

/// Agents of one kind in an MPE scenario, named `{name}_{k}` as PettingZoo names them.
#[derive(Debug, Clone, PartialEq)]
pub struct MpeGroup {
    /// PettingZoo's agent-name prefix (`adversary`, `agent`, `speaker`, ...).
    pub name: &'static str,
    /// Agents of this kind per env.
    pub agents: usize,
    /// Observation length of each.
    pub obs_dim: usize,
    /// What each is physically.
    pub body: AgentBody,
}

impl MpeGroup {
    /// `agents` default-bodied agents (movable, silent) observing `obs_dim` values.
    pub fn movers(name: &'static str, agents: usize, obs_dim: usize) -> MpeGroup {
        MpeGroup { name, agents, obs_dim, body: AgentBody::DEFAULT }
    }

    /// The same group with `body`.
    pub fn with_body(self, body: AgentBody) -> MpeGroup {
        MpeGroup { body, ..self }
    }

    /// The learner-facing group (`EnvSpec::groups`).
    pub fn agent_group(&self, dim_c: usize, continuous: bool) -> AgentGroup {
        AgentGroup { name: self.name.into(), agents: self.agents, obs_dim: self.obs_dim, action: self.body.action_space(dim_c, continuous) }
    }
}

/// The WGSL of `fn agent_body(i) -> AgentBody` for these groups (agents in group order).
pub fn agent_body_wgsl(groups: &[MpeGroup], dim_c: usize) -> String {
    let mut text = String::from("fn agent_body(i: u32) -> AgentBody {\n");
    let mut end = 0;
    for (g, group) in groups.iter().enumerate() {
        end += group.agents;
        let b = group.body;
        let body = format!(
            "AgentBody({}, {}, {:?}, {:?}, {:?}, {}u)",
            b.movable,
            b.speaks,
            b.accel,
            b.mass,
            b.max_speed.unwrap_or(0.0),
            b.discrete_actions(dim_c)
        );
        if g + 1 == groups.len() {
            text.push_str(&format!("    return {body};\n"));
        } else {
            text.push_str(&format!("    if (i < {end}u) {{\n        return {body};\n    }}\n"));
        }
    }
    text.push_str("}\n");
    text
}

/// Each group's observations out of the padded `[envs, agents, obs_dim]` buffer (views).
pub fn split_obs(obs: Tensor<3>, groups: &[MpeGroup]) -> Vec<Tensor<3>> {
    let [envs, agents, width] = obs.dims();
    if groups.len() == 1 && groups[0].obs_dim == width {
        return vec![obs];
    }
    let mut first = 0;
    groups
        .iter()
        .map(|group| {
            let rows = first..first + group.agents;
            first += group.agents;
            debug_assert!(first <= agents);
            obs.clone().slice([0..envs, rows, 0..group.obs_dim])
        })
        .collect()
}

/// The zeros each continuous group's actions are padded with to the widest group's width
/// (`None` for a group that needs none, and for discrete actions): made once per batch.
pub fn action_pads(groups: &[AgentGroup], n_envs: usize, action_dim: usize, device: &burn::tensor::Device) -> Vec<Option<Tensor<3>>> {
    groups
        .iter()
        .map(|g| match g.action {
            ActionSpace::Continuous { dim, .. } if dim < action_dim => Some(Tensor::<3>::zeros([n_envs, g.agents, action_dim - dim], device)),
            _ => None,
        })
        .collect()
}

/// The kernel's action tensor from one [`Actions`] per group, checked against each group's
/// shape and kind: `[envs, agents]` ints, or `[envs, agents, action_dim]` floats (each group's
/// vectors padded with its [`action_pads`]).
pub fn join_actions(scenario: &str, groups: &[AgentGroup], n_envs: usize, pads: &[Option<Tensor<3>>], actions: &[Actions]) -> Result<JoinedActions> {
    if actions.len() != groups.len() {
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        return Err(ShoalError::Shape {
            what: "actions",
            expected: format!("one Actions per agent group of {scenario} ({})", names.join(", ")),
            got: format!("{} groups", actions.len()),
        });
    }
    let mut discrete = Vec::new();
    let mut continuous = Vec::new();
    for ((group, action), pad) in groups.iter().zip(actions).zip(pads) {
        match (action, &group.action) {
            (Actions::Discrete(t), ActionSpace::Discrete { .. }) => {
                ShoalError::ensure_dims("actions", &t.dims(), &[n_envs, group.agents])?;
                discrete.push(t.clone());
            }
            (Actions::Continuous(t), ActionSpace::Continuous { dim, .. }) => {
                ShoalError::ensure_dims("actions", &t.dims(), &[n_envs, group.agents, *dim])?;
                continuous.push(match pad {
                    Some(pad) => Tensor::cat(vec![t.clone(), pad.clone()], 2),
                    None => t.clone(),
                });
            }
            (_, space) => {
                let wanted = if matches!(space, ActionSpace::Continuous { .. }) { "continuous" } else { "discrete" };
                return Err(ShoalError::config(
                    "actions",
                    if wanted == "continuous" { "discrete" } else { "continuous" },
                    format!("group `{}` of this {scenario} batch takes {wanted} actions", group.name),
                ));
            }
        }
    }
    Ok(if continuous.is_empty() {
        JoinedActions::Discrete(if discrete.len() == 1 { discrete.remove(0) } else { Tensor::cat(discrete, 1) })
    } else {
        JoinedActions::Continuous(if continuous.len() == 1 { continuous.remove(0) } else { Tensor::cat(continuous, 1) })
    })
}

/// All groups' actions in the kernel's layout.
pub enum JoinedActions {
    /// `[envs, agents]`
    Discrete(Tensor<2, Int>),
    /// `[envs, agents, action_dim]`
    Continuous(Tensor<3>),
}
