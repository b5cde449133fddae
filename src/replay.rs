//! Recorded reference trajectories: read them, replay their actions on the GPU, compare.
//!
//! The format is PettingZoo's conformance JSON-lines (`tests/data/SIMPLE_SPREAD_SPEC.md` §8): one
//! trajectory per line with its settings (`n_agents`, `continuous`, `local_ratio`,
//! `max_cycles`), an initial state, the actions, and every step's observations, rewards,
//! positions, velocities and truncation flag. Trajectories with equal settings are replayed as one
//! batch (env *i* = trajectory *i*), from the recorded initial state.
//!
//! Replaying writes the same format with shoal's values, so that a diff against the input is
//! meaningful, and reports the largest absolute error per field.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::env::{Actions, BatchedEnv, SimpleSpreadConfig};
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
    /// Whether the episode was truncated at this step.
    pub truncated: bool,
}

/// One recorded trajectory (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trajectory {
    /// Environment name, `simple_spread`.
    pub env: String,
    /// Agents (= landmarks).
    pub n_agents: usize,
    /// Continuous (`[agents][5]` floats) or discrete (`[agents]` ints) actions.
    pub continuous: bool,
    /// Local/global reward mix.
    pub local_ratio: f64,
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
}

impl Trajectory {
    fn validate(&self) -> std::result::Result<(), String> {
        if self.env != "simple_spread" {
            return Err(format!("env `{}` cannot be replayed (supported: simple_spread)", self.env));
        }
        let n = self.n_agents;
        let config = self.config(1);
        config.validate().map_err(|e| e.to_string())?;
        let obs_dim = config.obs_dim();
        let pairs = |what: &str, v: &[[f64; 2]]| {
            (v.len() != n).then(|| format!("init.{what} has {} entries, n_agents is {n}", v.len()))
        };
        if let Some(e) = pairs("agent_pos", &self.init.agent_pos)
            .or_else(|| pairs("agent_vel", &self.init.agent_vel))
            .or_else(|| pairs("landmark_pos", &self.init.landmark_pos))
        {
            return Err(e);
        }
        if self.init.obs.len() != n || self.init.obs.iter().any(|o| o.len() != obs_dim) {
            return Err(format!("init.obs is not [{n}][{obs_dim}] (n_agents rows of 6·n_agents values)"));
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

    /// The env configuration this trajectory was recorded with, for a batch of `n_envs`.
    pub fn config(&self, n_envs: usize) -> SimpleSpreadConfig {
        SimpleSpreadConfig::new(n_envs)
            .with_n_agents(self.n_agents)
            .with_local_ratio(self.local_ratio as f32)
            .with_max_cycles(self.max_cycles)
            .with_continuous(self.continuous)
            .with_terminal_obs(true)
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
    let mut groups: BTreeMap<(usize, bool, u64, usize), Vec<usize>> = BTreeMap::new();
    for (i, (_, t)) in file.trajectories.iter().enumerate() {
        groups
            .entry((t.n_agents, t.continuous, t.local_ratio.to_bits(), t.max_cycles))
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
    let mut env = crate::env::SimpleSpread::new(ctx.clone(), first.config(envs))?;
    let group = env.spec().groups[0].clone();
    let obs_dim = group.obs_dim;

    let flat = |f: &dyn Fn(&Trajectory) -> &Vec<[f64; 2]>| -> Vec<f32> {
        batch.iter().flat_map(|t| f(t).iter().flat_map(|p| [p[0] as f32, p[1] as f32])).collect()
    };
    let start = env.set_state(
        &flat(&|t| &t.init.agent_pos),
        &flat(&|t| &t.init.agent_vel),
        &flat(&|t| &t.init.landmark_pos),
    )?;
    let init_obs = ctx.read_f32(start.obs[0].clone())?;

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
        let world = env.read_state()?;
        for (e, t) in batch.iter().enumerate() {
            if step >= t.steps.len() {
                continue;
            }
            let reference = &t.steps[step];
            let ended = truncated[e] > 0.5;
            let (pos, vel) = if ended {
                // The world was re-spawned; the terminal observation carries pos and vel.
                state_from_obs(&obs[e * n * obs_dim..(e + 1) * n * obs_dim], n, obs_dim)
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
    }
    Ok(out)
}

/// Agent positions and velocities are the first four entries of each agent's observation.
fn state_from_obs(obs: &[f32], n: usize, obs_dim: usize) -> (Vec<f32>, Vec<f32>) {
    let mut pos = Vec::with_capacity(2 * n);
    let mut vel = Vec::with_capacity(2 * n);
    for a in 0..n {
        let o = &obs[a * obs_dim..];
        vel.extend([o[0], o[1]]);
        pos.extend([o[2], o[3]]);
    }
    (pos, vel)
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
