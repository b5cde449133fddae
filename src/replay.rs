//! Recorded reference trajectories: read them, replay their actions on the GPU, compare.
//!
//! The format is PettingZoo's conformance JSON-lines (`tests/data/SIMPLE_SPREAD_SPEC.md` §8, and
//! the MPE suite's superset in `tests/data/MPE_SPEC.md`): one trajectory per line with its
//! scenario and settings (`n_agents`, `continuous`, `local_ratio`, `max_cycles`), an initial
//! state, the actions, and every step's observations, rewards, positions, velocities and
//! truncation flag. Any scenario whose registry entry can build a replay batch
//! ([`crate::env::EnvEntry::replay`]: simple, simple_spread, simple_line, simple_formation) is
//! replayed; trajectories with equal settings form one batch (env *i* = trajectory *i*), from the
//! recorded initial state.
//!
//! Replaying writes the same format with shoal's values, so that a diff against the input is
//! meaningful, and reports the largest absolute error per field.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::env::{Actions, EnvKind, EnvParams, MpeWorld};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// The initial state of a trajectory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitialState {
    /// `[agents][2]`
    pub agent_pos: Vec<[f64; 2]>,
    /// `[agents][2]`
    pub agent_vel: Vec<[f64; 2]>,
    /// `[landmarks][2]`
    pub landmark_pos: Vec<[f64; 2]>,
    /// `[agents][obs_dim]`
    pub obs: Vec<Vec<f64>>,
}

/// What one step produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    /// `[agents][obs_dim]`
    pub obs: Vec<Vec<f64>>,
    /// `[agents]`
    pub rew: Vec<f64>,
    /// `[agents][2]`
    pub agent_pos: Vec<[f64; 2]>,
    /// `[agents][2]`
    pub agent_vel: Vec<[f64; 2]>,
    /// Whether the episode was truncated at this step (the MPE suite's files record one flag
    /// per agent; all agents of an MPE env end together).
    #[serde(deserialize_with = "flag_or_per_agent")]
    pub truncated: bool,
}

/// A flag, or a list of per-agent flags (any of them set).
fn flag_or_per_agent<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        One(bool),
        PerAgent(Vec<bool>),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::One(flag) => flag,
        Flag::PerAgent(flags) => flags.iter().any(|&f| f),
    })
}

/// One recorded trajectory (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trajectory {
    /// Environment name: `simple_spread`, or PettingZoo's versioned name (`simple_line_v1`).
    pub env: String,
    /// The scenario, by shoal's registry name (the MPE suite's files; absent in simple_spread's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Agents (= landmarks).
    pub n_agents: usize,
    /// Continuous (`[agents][5]` floats) or discrete (`[agents]` ints) actions.
    pub continuous: bool,
    /// Local/global reward mix (simple_spread; `null` for scenarios without one).
    pub local_ratio: Option<f64>,
    /// Episode time limit.
    pub max_cycles: usize,
    /// Seed of the reference run (informational).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Where the trajectory came from.
    #[serde(default)]
    pub source: Option<String>,
    /// Initial state and observation.
    pub init: InitialState,
    /// Actions per step: `[agents]` (discrete) or `[agents][5]` (continuous).
    pub actions: Vec<serde_json::Value>,
    /// What each step produced.
    pub steps: Vec<StepRecord>,
}

/// A trajectory file, with the line number each trajectory came from.
pub struct TrajectoryFile {
    /// Path as given.
    pub path: String,
    /// `(line number, trajectory)`
    pub trajectories: Vec<(usize, Trajectory)>,
}

impl TrajectoryFile {
    /// Reads and validates a JSON-lines file; errors name the line.
    pub fn read(path: impl AsRef<Path>) -> Result<TrajectoryFile> {
        let path_ref = path.as_ref();
        let file = std::fs::File::open(path_ref).map_err(|e| ShoalError::io(path_ref, e))?;
        let shown = path_ref.display().to_string();
        let mut trajectories = Vec::new();
        for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line_no = index + 1;
            let line = line.map_err(|e| ShoalError::io(path_ref, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |message: String| ShoalError::BadInput {
                path: shown.clone(),
                line: line_no,
                message,
            };
            let trajectory: Trajectory =
                serde_json::from_str(&line).map_err(|e| bad(format!("not a trajectory: {e}")))?;
            trajectory.validate().map_err(bad)?;
            trajectories.push((line_no, trajectory));
        }
        if trajectories.is_empty() {
            return Err(ShoalError::BadInput {
                path: shown,
                line: 0,
                message: "no trajectories in file".into(),
            });
        }
        Ok(TrajectoryFile { path: shown, trajectories })
    }

    /// The trajectories of `kind` alone (a file of the whole MPE suite holds every scenario's).
    /// Errors when there are none, naming the scenarios the file has.
    pub fn only(mut self, kind: EnvKind) -> Result<TrajectoryFile> {
        let found: std::collections::BTreeSet<String> = self.trajectories.iter().map(|(_, t)| t.scenario_name().to_string()).collect();
        self.trajectories.retain(|(_, t)| t.scenario_name() == kind.name());
        if self.trajectories.is_empty() {
            let found: Vec<String> = found.into_iter().collect();
            return Err(ShoalError::BadInput {
                path: self.path,
                line: 0,
                message: format!("no {} trajectories (the file has: {}); pass --env with one of those", kind.name(), found.join(", ")),
            });
        }
        Ok(self)
    }
}

impl Trajectory {
    /// The scenario's registry name: `scenario`, else `env` without PettingZoo's `_vN` suffix.
    pub fn scenario_name(&self) -> &str {
        match &self.scenario {
            Some(name) => name,
            None => self.env.rsplit_once("_v").filter(|(_, v)| v.parse::<u32>().is_ok()).map_or(&self.env, |(name, _)| name),
        }
    }

    /// The registered env this trajectory belongs to, if shoal can replay it.
    pub fn kind(&self) -> std::result::Result<EnvKind, String> {
        let name = self.scenario_name();
        EnvKind::all()
            .iter()
            .copied()
            .find(|k| k.name() == name && k.entry().replay.is_some())
            .ok_or_else(|| format!("scenario `{name}` cannot be replayed (replayable: {})", EnvKind::replayable_names()))
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let kind = self.kind()?;
        let n = self.n_agents;
        (kind.entry().check)(&self.params(1)).map_err(|e| e.to_string())?;
        let pairs = |what: &str, v: &[[f64; 2]], count: usize| {
            (v.len() != count).then(|| format!("init.{what} has {} entries, expected {count}", v.len()))
        };
        if let Some(e) = pairs("agent_pos", &self.init.agent_pos, n).or_else(|| pairs("agent_vel", &self.init.agent_vel, n)) {
            return Err(e);
        }
        // Every row as wide as the first; the env checks the width itself when it is built.
        let obs_dim = self.init.obs.first().map_or(0, |o| o.len());
        if self.init.obs.len() != n || obs_dim == 0 || self.init.obs.iter().any(|o| o.len() != obs_dim) {
            return Err(format!("init.obs is not [{n}][obs_dim] (n_agents rows of equal length)"));
        }
        if self.actions.len() != self.steps.len() {
            return Err(format!("{} actions but {} steps", self.actions.len(), self.steps.len()));
        }
        for (t, step) in self.steps.iter().enumerate() {
            if step.obs.len() != n || step.obs.iter().any(|o| o.len() != obs_dim) {
                return Err(format!("steps[{t}].obs is not [{n}][{obs_dim}]"));
            }
            if step.rew.len() != n || step.agent_pos.len() != n || step.agent_vel.len() != n {
                return Err(format!("steps[{t}] rew/agent_pos/agent_vel do not have {n} entries"));
            }
        }
        for t in 0..self.actions.len() {
            self.step_actions(t).map_err(|e| format!("actions[{t}]: {e}"))?;
        }
        Ok(())
    }

    /// The env parameters this trajectory was recorded with, for a batch of `n_envs` (with the
    /// observations episodes end in, which the last step records).
    pub fn params(&self, n_envs: usize) -> EnvParams {
        EnvParams {
            local_ratio: self.local_ratio.unwrap_or(0.5) as f32,
            max_cycles: Some(self.max_cycles),
            continuous: self.continuous,
            terminal_obs: true,
            ..EnvParams::new(n_envs, self.n_agents)
        }
    }

    /// Actions of step `t`, flattened: `[agents]` ints or `[agents * 5]` floats (as f64).
    fn step_actions(&self, t: usize) -> std::result::Result<Vec<f64>, String> {
        let n = self.n_agents;
        let row = self.actions[t].as_array().ok_or("not a list")?;
        if row.len() != n {
            return Err(format!("{} entries for {n} agents", row.len()));
        }
        let mut out = Vec::with_capacity(n * 5);
        for value in row {
            if self.continuous {
                let vector = value.as_array().filter(|v| v.len() == 5).ok_or("expected 5 floats per agent")?;
                for x in vector {
                    out.push(x.as_f64().ok_or("expected a number")?);
                }
            } else {
                out.push(value.as_i64().ok_or("expected an integer action")? as f64);
            }
        }
        Ok(out)
    }
}

/// Largest absolute differences between a replay and its reference.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// Trajectories replayed.
    pub trajectories: usize,
    /// Steps replayed over all trajectories.
    pub steps: usize,
    /// Max abs error per field: `init_obs`, `obs`, `rew`, `agent_pos`, `agent_vel`.
    pub max_abs_error: BTreeMap<String, f64>,
    /// Steps whose truncation flag differs.
    pub truncated_mismatches: usize,
}

impl ReplayReport {
    fn record(&mut self, field: &str, ours: f32, reference: f64) {
        let err = (ours as f64 - reference).abs();
        let entry = self.max_abs_error.entry(field.to_string()).or_insert(0.0);
        // NaN must show up as a failure, not vanish in max().
        if err.is_nan() || err > *entry {
            *entry = if err.is_nan() { f64::INFINITY } else { err };
        }
    }

    /// The largest error over every field.
    pub fn worst(&self) -> f64 {
        self.max_abs_error.values().cloned().fold(0.0, f64::max)
    }

    /// True when every field is within `tol` and every truncation flag agrees.
    pub fn passes(&self, tol: f64) -> bool {
        self.worst() <= tol && self.truncated_mismatches == 0
    }
}

/// Replays every trajectory of `file` on the GPU, batching equal settings, and returns our
/// trajectories (same order, same format) with the error report.
pub fn replay(ctx: &std::sync::Arc<GpuContext>, file: &TrajectoryFile) -> Result<(Vec<Trajectory>, ReplayReport)> {
    let mut groups: BTreeMap<(String, usize, bool, Option<u64>, usize), Vec<usize>> = BTreeMap::new();
    for (i, (_, t)) in file.trajectories.iter().enumerate() {
        groups
            .entry((t.scenario_name().to_string(), t.n_agents, t.continuous, t.local_ratio.map(f64::to_bits), t.max_cycles))
            .or_default()
            .push(i);
    }
    let mut ours: Vec<Option<Trajectory>> = vec![None; file.trajectories.len()];
    let mut report = ReplayReport::default();
    for members in groups.values() {
        let batch: Vec<&Trajectory> = members.iter().map(|&i| &file.trajectories[i].1).collect();
        let lines: Vec<usize> = members.iter().map(|&i| file.trajectories[i].0).collect();
        let replayed = replay_batch(ctx, &batch, &lines, &file.path, &mut report)?;
        for (slot, trajectory) in members.iter().zip(replayed) {
            ours[*slot] = Some(trajectory);
        }
    }
    report.trajectories = file.trajectories.len();
    Ok((ours.into_iter().flatten().collect(), report))
}

fn replay_batch(
    ctx: &std::sync::Arc<GpuContext>,
    batch: &[&Trajectory],
    lines: &[usize],
    path: &str,
    report: &mut ReplayReport,
) -> Result<Vec<Trajectory>> {
    let first = batch[0];
    let (n, envs) = (first.n_agents, batch.len());
    let bad = |line: usize, message: String| ShoalError::BadInput { path: path.to_string(), line, message };
    let kind = first.kind().map_err(|e| bad(lines[0], e))?;
    let build = kind.entry().replay.ok_or_else(|| bad(lines[0], format!("{} cannot be replayed", kind.name())))?;
    let mut env: Box<dyn MpeWorld> = build(ctx, &first.params(envs))?;
    let group = env.spec().groups[0].clone();
    let obs_dim = group.obs_dim;
    let landmarks = env.read_world()?.landmark_pos.len() / (2 * envs);
    for (t, &line) in batch.iter().zip(lines) {
        if t.init.obs[0].len() != obs_dim || t.init.landmark_pos.len() != landmarks {
            return Err(bad(line, format!(
                "{} with {n} agents observes {obs_dim} values and has {landmarks} landmarks; the trajectory has {} and {}",
                kind.name(), t.init.obs[0].len(), t.init.landmark_pos.len()
            )));
        }
    }

    let flat = |f: &dyn Fn(&Trajectory) -> &Vec<[f64; 2]>| -> Vec<f32> {
        batch.iter().flat_map(|t| f(t).iter().flat_map(|p| [p[0] as f32, p[1] as f32])).collect()
    };
    let start = env.set_world(
        &flat(&|t| &t.init.agent_pos),
        &flat(&|t| &t.init.agent_vel),
        &flat(&|t| &t.init.landmark_pos),
    )?;
    let init_obs = ctx.read_f32(start.obs[0].clone())?;
    // The world before each step: an episode's last position comes from it.
    let mut before = env.read_world()?;

    let mut out: Vec<Trajectory> = batch
        .iter()
        .enumerate()
        .map(|(e, t)| {
            let mut mine = (*t).clone();
            mine.source = Some(format!("shoal {} on {}", env!("CARGO_PKG_VERSION"), ctx.adapter_name()));
            mine.init.obs = to_rows(&init_obs[e * n * obs_dim..(e + 1) * n * obs_dim], obs_dim);
            for (a, row) in mine.init.obs.iter().enumerate() {
                for (k, &v) in row.iter().enumerate() {
                    report.record("init_obs", v as f32, t.init.obs[a][k]);
                }
            }
            mine.steps.clear();
            mine
        })
        .collect();

    let steps = batch.iter().map(|t| t.steps.len()).max().unwrap_or(0);
    for step in 0..steps {
        // Trajectories that already ended idle on no-op actions; their outputs are ignored.
        let mut flat_actions = Vec::with_capacity(envs * n * 5);
        for t in batch.iter() {
            if step < t.actions.len() {
                let row = t.step_actions(step).map_err(|message| ShoalError::BadInput {
                    path: path.to_string(),
                    line: lines[flat_actions.len() / (n * group.action.width())],
                    message: format!("actions[{step}]: {message}"),
                })?;
                flat_actions.extend(row);
            } else {
                flat_actions.extend(std::iter::repeat_n(0.0, n * group.action.width()));
            }
        }
        let actions = if first.continuous {
            let values: Vec<f32> = flat_actions.iter().map(|&a| a as f32).collect();
            Actions::continuous_from_host(ctx, &group, envs, &values)
        } else {
            let values: Vec<i32> = flat_actions.iter().map(|&a| a as i32).collect();
            Actions::discrete_from_host(ctx, &group, envs, &values)
        };
        let actions = actions.map_err(|e| {
            let env_index = match &e {
                ShoalError::InvalidAction { env, .. } => *env,
                _ => 0,
            };
            ShoalError::BadInput {
                path: path.to_string(),
                line: lines[env_index],
                message: format!("actions[{step}]: {e}"),
            }
        })?;
        let output = env.step(&[actions])?;
        // The observation the step ended in, before any automatic reset.
        let terminal = output.terminal_obs.unwrap_or(output.obs);
        let obs = ctx.read_f32(terminal[0].clone())?;
        let rew = ctx.read_f32(output.reward)?;
        let truncated = ctx.read_f32(output.truncated)?;
        // Where an episode ended the device state already holds the next episode; the state it
        // ended in is in the terminal observation (own velocity and position lead each row).
        let world = env.read_world()?;
        for (e, t) in batch.iter().enumerate() {
            if step >= t.steps.len() {
                continue;
            }
            let reference = &t.steps[step];
            let ended = truncated[e] > 0.5;
            let (pos, vel) = if ended {
                // The world was re-spawned: the velocity it ended with leads each terminal
                // observation row (every MPE scenario's), and the position moved by the old
                // velocity, as `mpe_integrate` moves it.
                let agents = e * n * 2..(e + 1) * n * 2;
                let pos = before.agent_pos[agents.clone()].iter().zip(&before.agent_vel[agents]).map(|(p, v)| p + v * MPE_DT).collect();
                (pos, velocity_from_obs(&obs[e * n * obs_dim..(e + 1) * n * obs_dim], n, obs_dim))
            } else {
                (
                    world.agent_pos[e * n * 2..(e + 1) * n * 2].to_vec(),
                    world.agent_vel[e * n * 2..(e + 1) * n * 2].to_vec(),
                )
            };
            let record = StepRecord {
                obs: to_rows(&obs[e * n * obs_dim..(e + 1) * n * obs_dim], obs_dim),
                rew: rew[e * n..(e + 1) * n].iter().map(|&r| r as f64).collect(),
                agent_pos: to_pairs(&pos),
                agent_vel: to_pairs(&vel),
                truncated: ended,
            };
            for a in 0..n {
                for k in 0..obs_dim {
                    report.record("obs", record.obs[a][k] as f32, reference.obs[a][k]);
                }
                report.record("rew", record.rew[a] as f32, reference.rew[a]);
                for c in 0..2 {
                    report.record("agent_pos", pos[a * 2 + c], reference.agent_pos[a][c]);
                    report.record("agent_vel", vel[a * 2 + c], reference.agent_vel[a][c]);
                }
            }
            if record.truncated != reference.truncated {
                report.truncated_mismatches += 1;
            }
            report.steps += 1;
            out[e].steps.push(record);
        }
        before = world;
    }
    Ok(out)
}

/// MPE's time step (`shaders/mpe_physics.wgsl`'s `MPE_DT`, mpe2's `World.dt`).
const MPE_DT: f32 = 0.1;

/// An agent's own velocity is the first two entries of its MPE observation.
fn velocity_from_obs(obs: &[f32], n: usize, obs_dim: usize) -> Vec<f32> {
    (0..n).flat_map(|a| [obs[a * obs_dim], obs[a * obs_dim + 1]]).collect()
}

fn to_rows(values: &[f32], width: usize) -> Vec<Vec<f64>> {
    values.chunks(width).map(|row| row.iter().map(|&v| v as f64).collect()).collect()
}

fn to_pairs(values: &[f32]) -> Vec<[f64; 2]> {
    values.chunks(2).map(|p| [p[0] as f64, p[1] as f64]).collect()
}

/// Writes trajectories as JSON lines, atomically (temp file + rename).
pub fn write_trajectories(path: impl AsRef<Path>, trajectories: &[Trajectory]) -> Result<()> {
    let path = path.as_ref();
    let mut text = Vec::new();
    for t in trajectories {
        serde_json::to_writer(&mut text, t).map_err(|e| ShoalError::io(path, e.into()))?;
        text.push(b'\n');
    }
    crate::io::write_atomic(path, &text)
}
