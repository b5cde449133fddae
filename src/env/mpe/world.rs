//! An MPE world on the host: what `shoal replay`, tests and rendering read back from a batch
//! and write into it, and the packing of it into the device's per-env state rows.

use super::{Mpe, MpeScenario};
use crate::env::{BatchedEnv, StepOutput};
use crate::error::{Result, ShoalError};

/// An MPE world on the host, row-major over envs: positions and velocities `[envs, agents, 2]`
/// (landmarks `[envs, landmarks, 2]`), utterances `[envs, agents, dim_c]`, and the scenario's
/// hidden variables `[envs, hidden]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorldState {
    /// Agent positions.
    pub agent_pos: Vec<f32>,
    /// Agent velocities.
    pub agent_vel: Vec<f32>,
    /// Landmark positions.
    pub landmark_pos: Vec<f32>,
    /// What each agent said at the last step (zeros for silent agents and after a reset).
    pub agent_comm: Vec<f32>,
    /// The scenario's per-env variables (goals, keys).
    pub hidden: Vec<f32>,
}

impl WorldState {
    /// One env at rest: `agent_pos` and `landmark_pos` as given, velocities and utterances zero,
    /// `hidden` zeros (the first world of an episode).
    pub fn at_rest(agent_pos: Vec<f32>, landmark_pos: Vec<f32>, dim_c: usize, hidden: usize) -> WorldState {
        let agents = agent_pos.len() / 2;
        WorldState { agent_vel: vec![0.0; agent_pos.len()], agent_comm: vec![0.0; agents * dim_c], hidden: vec![0.0; hidden], agent_pos, landmark_pos }
    }

    /// mpe2's `reset_world` of the scenarios whose goals are landmarks (simple_adversary,
    /// simple_push, simple_speaker_listener: one; simple_reference: one per agent; simple_crypto:
    /// the goal and the key's landmark): each
    /// drawn with `integers(landmarks)`, then every agent and every landmark at
    /// `uniform(-1, 1, 2)`; the goals' indices are the hidden floats.
    pub fn with_reference_goals(rng: &mut crate::env::NumpyGenerator, goals: usize, agents: usize, landmarks: usize, dim_c: usize) -> WorldState {
        let hidden: Vec<f32> = (0..goals).map(|_| rng.integers(landmarks as u32) as f32).collect();
        let agent_pos = rng.uniform_f32(-1.0, 1.0, 2 * agents);
        WorldState { hidden, ..WorldState::at_rest(agent_pos, rng.uniform_f32(-1.0, 1.0, 2 * landmarks), dim_c, 0) }
    }

    /// Appends `other`'s envs after this world's.
    pub fn append(&mut self, other: WorldState) {
        self.agent_pos.extend(other.agent_pos);
        self.agent_vel.extend(other.agent_vel);
        self.landmark_pos.extend(other.landmark_pos);
        self.agent_comm.extend(other.agent_comm);
        self.hidden.extend(other.hidden);
    }
}

/// `world` as the packed per-env state rows of the device (`[envs, state_width]`), checking
/// every field's length.
pub(super) fn pack_state<S: MpeScenario>(c: &S, world: &WorldState) -> Result<Vec<f32>> {
    let (n, l, envs, dim_c, hidden) = (c.agents(), c.landmarks(), c.n_envs(), c.dim_c(), c.hidden());
    let fields: [(&str, &[f32], usize); 5] = [
        ("agent_pos", &world.agent_pos, 2 * n),
        ("agent_vel", &world.agent_vel, 2 * n),
        ("landmark_pos", &world.landmark_pos, 2 * l),
        ("agent_comm", &world.agent_comm, n * dim_c),
        ("hidden", &world.hidden, hidden),
    ];
    for (what, values, per_env) in fields.iter().copied() {
        if values.len() != envs * per_env {
            return Err(ShoalError::Shape {
                what: "set_state",
                expected: format!("{what}: {} values ({per_env} per env)", envs * per_env),
                got: format!("{} values", values.len()),
            });
        }
    }
    let width = c.state_width();
    let mut packed = vec![0f32; width * envs];
    for (env, row) in packed.chunks_mut(width).enumerate() {
        let mut offset = 0;
        for (_, values, per_env) in fields.iter().copied() {
            row[offset..offset + per_env].copy_from_slice(&values[env * per_env..(env + 1) * per_env]);
            offset += per_env;
        }
    }
    Ok(packed)
}

/// What `shoal replay` needs of an MPE batch beyond [`BatchedEnv`]: to set the world to a
/// recorded state and read it back. Every `Mpe<S>` is one; the registry hands it out for the
/// scenarios that have recorded trajectories ([`super::EnvEntry::replay`]).
pub trait MpeWorld: BatchedEnv {
    /// [`Mpe::set_state`].
    fn set_world(&mut self, world: &WorldState) -> Result<StepOutput>;
    /// [`Mpe::read_state`].
    fn read_world(&self) -> Result<WorldState>;
    /// Landmarks per env.
    fn landmarks(&self) -> usize;
    /// Floats of each agent's utterance.
    fn dim_c(&self) -> usize;
    /// [`MpeScenario::hidden_from_reference`].
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String>;
    /// [`MpeScenario::steer_replay`] for env `env` of `world`.
    fn steer_replay(&self, world: &mut WorldState, env: usize, next: &crate::replay::StepRecord) -> bool;
    /// Replaces the world of every env, keeping step counters and statistics (a replay's
    /// steering; a snapshot round trip).
    fn patch_world(&mut self, world: &WorldState) -> Result<()>;
}

impl<S: MpeScenario + 'static> MpeWorld for Mpe<S> {
    fn set_world(&mut self, world: &WorldState) -> Result<StepOutput> {
        self.set_state(world)
    }
    fn read_world(&self) -> Result<WorldState> {
        self.read_state()
    }
    fn landmarks(&self) -> usize {
        self.config.landmarks()
    }
    fn dim_c(&self) -> usize {
        self.config.dim_c()
    }
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        self.config.hidden_from_reference(hidden)
    }
    fn steer_replay(&self, world: &mut WorldState, env: usize, next: &crate::replay::StepRecord) -> bool {
        let h = self.config.hidden();
        self.config.steer_replay(&mut world.hidden[env * h..(env + 1) * h], next)
    }
    fn patch_world(&mut self, world: &WorldState) -> Result<()> {
        let mut snapshot = self.snapshot()?;
        snapshot.state = pack_state(&self.config, world)?;
        self.restore(&snapshot).map(|_| ())
    }
}
