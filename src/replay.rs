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
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use burn::tensor::Tensor;

use crate::env::{Actions, AgentGroup, EnvKind, EnvParams, MpeWorld, WorldState};
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
    /// `[agents][dim_c]` (the MPE suite's files; zeros when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_c: Option<Vec<Vec<f64>>>,
    /// `[agents][obs_dim of the agent]`
    pub obs: Vec<Vec<f64>>,
    /// The scenario's hidden variables (goals, keys), as mpe2 names them (MPE_SPEC.md §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<serde_json::Value>,
}

/// What one step produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    /// `[agents][obs_dim of the agent]`
    pub obs: Vec<Vec<f64>>,
    /// `[agents]`
    pub rew: Vec<f64>,
    /// `[agents][2]`
    pub agent_pos: Vec<[f64; 2]>,
    /// `[agents][2]`
    pub agent_vel: Vec<[f64; 2]>,
    /// `[agents][dim_c]`: what each agent said (the MPE suite's files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_c: Option<Vec<Vec<f64>>>,
    /// `[landmarks][2]`, where landmarks move during an episode (collect_treasure's treasures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmark_pos: Option<Vec<[f64; 2]>>,
    /// The scenario's hidden variables after the step, where they change (collect_treasure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<serde_json::Value>,
    /// Whether the episode was truncated at this step (the MPE suite's files record one flag
    /// per agent; all agents of an MPE env end together).
    #[serde(deserialize_with = "flag_or_per_agent")]
    pub truncated: bool,
    /// Whether the scenario ended the episode at this step (before the time limit).
    #[serde(default, deserialize_with = "flag_or_per_agent")]
    pub terminated: bool,
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
    /// Actions per step: `[agents]` ints (discrete) or `[agents][width of the agent]` floats.
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
        // Every step's rows as wide as the initial ones; the env checks the widths itself.
        let obs_dims: Vec<usize> = self.init.obs.iter().map(Vec::len).collect();
        if obs_dims.len() != n || obs_dims.contains(&0) {
            return Err(format!("init.obs is not [{n}][obs_dim] (one non-empty row per agent)"));
        }
        if self.actions.len() != self.steps.len() {
            return Err(format!("{} actions but {} steps", self.actions.len(), self.steps.len()));
        }
        for (t, step) in self.steps.iter().enumerate() {
            if step.obs.len() != n || step.obs.iter().map(Vec::len).ne(obs_dims.iter().copied()) {
                return Err(format!("steps[{t}].obs does not have init.obs's shape {obs_dims:?}"));
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

    /// Actions of step `t`, one row per agent: `[action]` (discrete) or its vector.
    fn step_actions(&self, t: usize) -> std::result::Result<Vec<Vec<f64>>, String> {
        let n = self.n_agents;
        let row = self.actions[t].as_array().ok_or("not a list")?;
        if row.len() != n {
            return Err(format!("{} entries for {n} agents", row.len()));
        }
        row.iter()
            .map(|value| {
                if self.continuous {
                    let vector = value.as_array().filter(|v| !v.is_empty()).ok_or("expected a list of floats per agent")?;
                    vector.iter().map(|x| x.as_f64().ok_or_else(|| "expected a number".to_string())).collect()
                } else {
                    Ok(vec![value.as_i64().ok_or("expected an integer action")? as f64])
                }
            })
            .collect()
    }
}

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
