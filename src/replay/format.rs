//! The trajectory format: PettingZoo's conformance JSON lines (simple_spread's, and the MPE
//! suite's superset with utterances, hidden goals and per-agent flags), read and checked line by
//! line so that an error names the line.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::env::{EnvKind, EnvOptions, EnvParams, OptionValue};
use crate::error::{Result, ShoalError};

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
    /// The reference's keyword arguments beyond the shared ones (`{"num_good": 2}`): the env's
    /// options ([`crate::env::EnvOptions`]), by the same names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<serde_json::Map<String, serde_json::Value>>,
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
        crate::env::registry::check_params(kind, &self.params(1)?).map_err(|e| e.to_string())?;
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
    /// observations episodes end in, which the last step records). `kwargs` are the env's
    /// options, except `local_ratio` (a shared parameter, recorded on its own too); a `null`
    /// keyword is the reference's default.
    pub fn params(&self, n_envs: usize) -> std::result::Result<EnvParams, String> {
        let mut options = EnvOptions::new();
        for (key, value) in self.kwargs.iter().flatten() {
            let value = match value {
                serde_json::Value::Null => continue,
                _ if key == "local_ratio" => continue,
                serde_json::Value::Bool(v) => OptionValue::Bool(*v),
                serde_json::Value::Number(v) => match (v.as_i64(), v.as_f64()) {
                    (Some(i), _) => OptionValue::Int(i),
                    (None, Some(f)) => OptionValue::Float(f),
                    _ => return Err(format!("kwargs.{key} = {v} is not a number shoal reads")),
                },
                other => return Err(format!("kwargs.{key} = {other} is not a number or a flag")),
            };
            options.set(key, value);
        }
        let local_ratio = self.kwargs.as_ref().and_then(|k| k.get("local_ratio")).and_then(|v| v.as_f64()).or(self.local_ratio);
        Ok(EnvParams {
            local_ratio: local_ratio.unwrap_or(0.5) as f32,
            max_cycles: Some(self.max_cycles),
            continuous: self.continuous,
            terminal_obs: true,
            options,
            ..EnvParams::new(n_envs, self.n_agents)
        })
    }

    /// The settings a replay batch shares: trajectories with equal keys replay together.
    pub(super) fn batch_key(&self) -> String {
        let kwargs = self.kwargs.as_ref().map(|k| serde_json::Value::Object(k.clone()).to_string()).unwrap_or_default();
        format!("{} {} {} {:?} {} {kwargs}", self.scenario_name(), self.n_agents, self.continuous, self.local_ratio.map(f64::to_bits), self.max_cycles)
    }

    /// Actions of step `t`, one row per agent: `[action]` (discrete) or its vector.
    pub(super) fn step_actions(&self, t: usize) -> std::result::Result<Vec<Vec<f64>>, String> {
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

