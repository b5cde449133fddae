//! Recorded reference trajectories: read them, replay their actions on the GPU, compare.
//!
//! The format is PettingZoo's conformance JSON-lines (`tests/data/SIMPLE_SPREAD_SPEC.md` §8, and
//! the MPE suite's superset in `tests/data/MPE_SPEC.md` §10): one trajectory per line with its
//! scenario and settings (`n_agents`, `continuous`, `local_ratio`, `max_cycles`), an initial
//! state (with utterances and the scenario's hidden goals where it has them), the actions, and
//! every step's observations, rewards, positions, velocities, utterances and end flags. Any
//! scenario whose registry entry can build a replay batch ([`crate::env::EnvEntry::replay`]) is
//! replayed; trajectories with equal settings form one batch (env *i* = trajectory *i*), from the
//! recorded initial state. Agents of different kinds observe and act with different widths: rows
//! are per agent, in PettingZoo's agent order. The batch does not start a new episode when one
//! ends, so the world an episode ended in is read back as it is.
//!
//! Replaying writes the same format with shoal's values, so that a diff against the input is
//! meaningful, and reports the largest absolute error per field.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use burn::tensor::Tensor;

mod format;

pub use format::{InitialState, StepRecord, Trajectory, TrajectoryFile};

use crate::env::{Actions, AgentGroup, MpeWorld, WorldState};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Largest absolute differences between a replay and its reference.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// Trajectories replayed.
    pub trajectories: usize,
    /// Steps replayed over all trajectories.
    pub steps: usize,
    /// Max abs error per field: `init_obs`, `obs`, `rew`, `agent_pos`, `agent_vel`, and
    /// `agent_c` where agents speak.
    pub max_abs_error: BTreeMap<String, f64>,
    /// Steps whose truncation flag differs.
    pub truncated_mismatches: usize,
    /// Steps whose termination flag differs.
    pub terminated_mismatches: usize,
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

    /// True when every field is within `tol` and every end flag agrees.
    pub fn passes(&self, tol: f64) -> bool {
        self.worst() <= tol && self.truncated_mismatches == 0 && self.terminated_mismatches == 0
    }
}

/// Replays every trajectory of `file` on the GPU, batching equal settings, and returns our
/// trajectories (same order, same format) with the error report.
pub fn replay(ctx: &std::sync::Arc<GpuContext>, file: &TrajectoryFile) -> Result<(Vec<Trajectory>, ReplayReport)> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, t)) in file.trajectories.iter().enumerate() {
        groups.entry(t.batch_key()).or_default().push(i);
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
    let params = first.params(envs).map_err(|e| bad(lines[0], e))?;
    let mut env: Box<dyn MpeWorld> = build(ctx, &params)?;
    let groups = env.spec().groups.clone();
    let agent_groups: Vec<&AgentGroup> = groups.iter().flat_map(|g| std::iter::repeat_n(g, g.agents)).collect();
    let obs_dims: Vec<usize> = agent_groups.iter().map(|g| g.obs_dim).collect();
    let (landmarks, dim_c) = (env.landmarks(), env.dim_c());

    let mut world = WorldState::default();
    for (t, &line) in batch.iter().zip(lines) {
        let dims: Vec<usize> = t.init.obs.iter().map(Vec::len).collect();
        if dims != obs_dims || t.init.landmark_pos.len() != landmarks {
            return Err(bad(line, format!(
                "{} with {n} agents observes {obs_dims:?} values per agent and has {landmarks} landmarks; the trajectory has {dims:?} and {}",
                kind.name(), t.init.landmark_pos.len()
            )));
        }
        // mpe2 records a `dim_c`-wide zero utterance for silent agents even where nobody
        // speaks (shoal's state then has none): zeros of any width are silence.
        let silent = |c: &Vec<f64>| c.iter().all(|&v| v == 0.0);
        let comm = match &t.init.agent_c {
            Some(rows) if rows.len() != n || rows.iter().any(|c| c.len() != dim_c && !silent(c)) => {
                return Err(bad(line, format!("init.agent_c is not [{n}][{dim_c}]")));
            }
            Some(rows) => rows.iter().flat_map(|c| (0..dim_c).map(|k| c.get(k).copied().unwrap_or(0.0) as f32)).collect(),
            None => vec![0.0; n * dim_c],
        };
        let hidden = env.hidden_from_reference(t.init.hidden.as_ref().unwrap_or(&serde_json::Value::Null)).map_err(|e| bad(line, format!("init.hidden: {e}")))?;
        world.agent_pos.extend(t.init.agent_pos.iter().flat_map(|p| [p[0] as f32, p[1] as f32]));
        world.agent_vel.extend(t.init.agent_vel.iter().flat_map(|p| [p[0] as f32, p[1] as f32]));
        world.landmark_pos.extend(t.init.landmark_pos.iter().flat_map(|p| [p[0] as f32, p[1] as f32]));
        world.agent_comm.extend(comm);
        world.hidden.extend(hidden);
    }
    let start = env.set_world(&world)?;
    let init_obs = read_obs(ctx, &groups, &start.obs, envs)?;
    let mut current = env.read_world()?;

    let mut out: Vec<Trajectory> = batch
        .iter()
        .enumerate()
        .map(|(e, t)| {
            let mut mine = (*t).clone();
            mine.source = Some(format!("shoal {} on {}", env!("CARGO_PKG_VERSION"), ctx.adapter_name()));
            mine.init.obs = to_rows(&init_obs[e]);
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
        // Trajectories that already ended idle on action 0; their outputs are ignored.
        let mut rows: Vec<Vec<Vec<f64>>> = Vec::with_capacity(envs);
        for (t, &line) in batch.iter().zip(lines) {
            let row = if step < t.actions.len() {
                t.step_actions(step).map_err(|message| bad(line, format!("actions[{step}]: {message}")))?
            } else {
                agent_groups.iter().map(|g| vec![0.0; g.action.width()]).collect()
            };
            if let Some(a) = (0..n).find(|&a| row[a].len() != agent_groups[a].action.width()) {
                return Err(bad(line, format!("actions[{step}]: agent {a} ({}) takes {} numbers, got {}", agent_groups[a].name, agent_groups[a].action.width(), row[a].len())));
            }
            rows.push(row);
        }
        let actions = group_actions(ctx, &groups, &rows, first.continuous).map_err(|(env_index, e)| bad(lines[env_index], format!("actions[{step}]: {e}")))?;
        // Where the scenario draws during a step (respawns), the recorded draw is put in place.
        let mut steered = false;
        for (e, t) in batch.iter().enumerate() {
            if let Some(next) = t.steps.get(step) {
                steered |= env.steer_replay(&mut current, e, next);
            }
        }
        if steered {
            env.patch_world(&current)?;
        }
        let output = env.step(&actions)?;
        // The batch keeps the world an episode ended in: these are the step's own results.
        let obs = read_obs(ctx, &groups, &output.obs, envs)?;
        let rew = ctx.read_f32(output.reward)?;
        let truncated = ctx.read_f32(output.truncated)?;
        let done = ctx.read_f32(output.done)?;
        let world = env.read_world()?;
        let landmarks_per_env = landmarks * 2;
        for (e, t) in batch.iter().enumerate() {
            if step >= t.steps.len() {
                continue;
            }
            let reference = &t.steps[step];
            let pairs = |values: &[f32]| to_pairs(&values[e * n * 2..(e + 1) * n * 2]);
            let record = StepRecord {
                obs: to_rows(&obs[e]),
                rew: rew[e * n..(e + 1) * n].iter().map(|&r| r as f64).collect(),
                agent_pos: pairs(&world.agent_pos),
                agent_vel: pairs(&world.agent_vel),
                agent_c: reference.agent_c.as_ref().map(|_| {
                    let comm = &world.agent_comm[e * n * dim_c..(e + 1) * n * dim_c];
                    (0..n).map(|a| comm[a * dim_c..(a + 1) * dim_c].iter().map(|&v| v as f64).collect()).collect()
                }),
                landmark_pos: reference.landmark_pos.as_ref().map(|_| to_pairs(&world.landmark_pos[e * landmarks_per_env..(e + 1) * landmarks_per_env])),
                hidden: None,
                truncated: truncated[e] > 0.5,
                terminated: done[e] > 0.5 && truncated[e] < 0.5,
            };
            record.compare(reference, report);
            report.steps += 1;
            out[e].steps.push(record);
        }
        current = world;
    }
    Ok(out)
}

impl StepRecord {
    /// Adds this step's differences from `reference` to `report`.
    fn compare(&self, reference: &StepRecord, report: &mut ReplayReport) {
        for (ours, theirs) in self.obs.iter().zip(&reference.obs) {
            for (&o, &r) in ours.iter().zip(theirs) {
                report.record("obs", o as f32, r);
            }
        }
        for (a, &r) in reference.rew.iter().enumerate() {
            report.record("rew", self.rew[a] as f32, r);
            for c in 0..2 {
                report.record("agent_pos", self.agent_pos[a][c] as f32, reference.agent_pos[a][c]);
                report.record("agent_vel", self.agent_vel[a][c] as f32, reference.agent_vel[a][c]);
            }
        }
        if let (Some(ours), Some(theirs)) = (&self.landmark_pos, &reference.landmark_pos) {
            for (o, r) in ours.iter().zip(theirs) {
                report.record("landmark_pos", o[0] as f32, r[0]);
                report.record("landmark_pos", o[1] as f32, r[1]);
            }
        }
        if let (Some(ours), Some(theirs)) = (&self.agent_c, &reference.agent_c) {
            // A silent agent's utterance is zeros, however wide mpe2 records it.
            for (o, r) in ours.iter().zip(theirs) {
                for (k, &value) in r.iter().enumerate() {
                    report.record("agent_c", o.get(k).copied().unwrap_or(0.0) as f32, value);
                }
            }
        }
        report.truncated_mismatches += usize::from(self.truncated != reference.truncated);
        report.terminated_mismatches += usize::from(self.terminated != reference.terminated);
    }
}

/// Observations `[envs][agents][the agent's obs_dim]` out of the per-group tensors.
fn read_obs(ctx: &GpuContext, groups: &[AgentGroup], obs: &[Tensor<3>], envs: usize) -> Result<Vec<Vec<Vec<f32>>>> {
    let mut rows = vec![Vec::new(); envs];
    for (group, tensor) in groups.iter().zip(obs) {
        let values = ctx.read_f32(tensor.clone())?;
        for (e, env_rows) in rows.iter_mut().enumerate() {
            for a in 0..group.agents {
                let at = (e * group.agents + a) * group.obs_dim;
                env_rows.push(values[at..at + group.obs_dim].to_vec());
            }
        }
    }
    Ok(rows)
}

/// One [`Actions`] per group from per-env, per-agent rows (widths already checked); an invalid
/// value's error comes with the env (trajectory) it is in.
fn group_actions(ctx: &GpuContext, groups: &[AgentGroup], rows: &[Vec<Vec<f64>>], continuous: bool) -> std::result::Result<Vec<Actions>, (usize, ShoalError)> {
    let envs = rows.len();
    let mut first = 0;
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let agents = first..first + group.agents;
        first += group.agents;
        let values = rows.iter().flat_map(|row| row[agents.clone()].iter().flatten().copied());
        let actions = if continuous {
            Actions::continuous_from_host(ctx, group, envs, &values.map(|a| a as f32).collect::<Vec<_>>())
        } else {
            Actions::discrete_from_host(ctx, group, envs, &values.map(|a| a as i32).collect::<Vec<_>>())
        };
        out.push(actions.map_err(|e| {
            let env = match &e {
                ShoalError::InvalidAction { env, .. } => *env,
                _ => 0,
            };
            (env, e)
        })?);
    }
    Ok(out)
}

fn to_rows(rows: &[Vec<f32>]) -> Vec<Vec<f64>> {
    rows.iter().map(|row| row.iter().map(|&v| v as f64).collect()).collect()
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
