//! What every learner of a `shoal train` run shares: the metrics row of an update, where a run
//! stands, the JSON part of a checkpoint, the atomic checkpoint write, and the [`Learner`] trait
//! the command-line loop drives (PPO and MF-Q implement it).

pub(crate) use super::store::write_checkpoint;
use super::config::TrainConfig;
use crate::env::EnvSnapshot;
use crate::error::Result;

/// What one update measured (the row of `metrics.csv`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UpdateMetrics {
    /// Update index, from 1.
    pub update: usize,
    /// Env steps so far.
    pub env_steps: u64,
    /// Seconds of training so far (resumed runs include the time before the checkpoint).
    pub wall_seconds: f64,
    /// Mean per-agent return of the episodes completed during this update (NaN if none).
    pub mean_episode_return: f64,
    /// Episodes completed during this update.
    pub episodes: f64,
    /// PPO objective (last minibatch).
    pub total_loss: f64,
    /// Clipped surrogate (last minibatch).
    pub policy_loss: f64,
    /// Value loss (last minibatch).
    pub value_loss: f64,
    /// Policy entropy (last minibatch).
    pub entropy: f64,
    /// Approximate KL between rollout and updated policy (last minibatch).
    pub approx_kl: f64,
    /// Env steps per second over this update.
    pub env_steps_per_s: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Mean episode return of each agent group (its agents' mean reward summed over the
    /// episode), for envs with several groups; empty otherwise.
    pub group_returns: Vec<(String, f64)>,
}

impl UpdateMetrics {
    /// CSV header, in field order.
    pub const CSV_HEADER: &'static str = "update,env_steps,wall_seconds,mean_episode_return,episodes,total_loss,policy_loss,value_loss,entropy,approx_kl,env_steps_per_s,lr";

    /// The CSV header of a run on an env with these agent groups: [`Self::CSV_HEADER`], then
    /// `return_<group>` per group when there are several.
    pub fn csv_header(groups: &[String]) -> String {
        let mut header = Self::CSV_HEADER.to_string();
        for group in groups {
            header.push_str(&format!(",return_{group}"));
        }
        header
    }

    /// One CSV row.
    pub fn csv_row(&self) -> String {
        let mut row = format!(
            "{},{},{:.3},{:.6},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.1},{:.6e}",
            self.update, self.env_steps, self.wall_seconds, self.mean_episode_return, self.episodes,
            self.total_loss, self.policy_loss, self.value_loss, self.entropy, self.approx_kl,
            self.env_steps_per_s, self.lr
        );
        for (_, value) in &self.group_returns {
            row.push_str(&format!(",{value:.6}"));
        }
        row
    }
}

/// Where a run stands (saved in checkpoints).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Updates done.
    pub update: usize,
    /// Env steps done.
    pub env_steps: u64,
    /// Training seconds so far.
    pub wall_seconds: f64,
    /// Calls made to the action-noise source.
    pub noise_calls: u32,
}

impl Progress {
    /// Books one finished update of `env_steps` env steps that took `seconds`.
    pub fn advance(&mut self, env_steps: u64, seconds: f64) {
        self.update += 1;
        self.env_steps += env_steps;
        self.wall_seconds += seconds;
    }

    /// Books the update (as [`Progress::advance`]) and returns its metrics row: where the run
    /// stands, the episodes it completed, its speed and rate; every loss NaN for the learner to
    /// fill in.
    pub fn finish_update(&mut self, env_steps: u64, seconds: f64, episodes: &crate::env::EpisodeStats, lr: f64) -> UpdateMetrics {
        self.advance(env_steps, seconds);
        UpdateMetrics {
            update: self.update,
            env_steps: self.env_steps,
            wall_seconds: self.wall_seconds,
            mean_episode_return: episodes.mean_return,
            episodes: episodes.episodes,
            total_loss: f64::NAN,
            policy_loss: f64::NAN,
            value_loss: f64::NAN,
            entropy: f64::NAN,
            approx_kl: f64::NAN,
            env_steps_per_s: env_steps as f64 / seconds,
            lr,
            group_returns: Vec::new(),
        }
    }
}

/// The JSON part of a checkpoint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckpointState {
    /// The run's configuration.
    pub config: TrainConfig,
    /// Where the run stood.
    pub progress: Progress,
    /// The envs' device state.
    pub env: EnvSnapshot,
    /// Per-group returns of the running episodes, `[groups, envs]` (runs on envs with several
    /// agent groups; empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_running: Vec<f32>,
}

impl CheckpointState {
    /// Writes `dir/state.json` atomically.
    pub fn write(&self, dir: &std::path::Path) -> Result<()> {
        crate::io::write_json(&dir.join("state.json"), self)
    }

    /// Reads `dir/state.json`, after checking every file of the checkpoint against its manifest.
    pub fn read(dir: &std::path::Path) -> Result<CheckpointState> {
        super::store::verify_checkpoint(dir)?;
        let state: CheckpointState = crate::io::read_json(&dir.join("state.json"), "a shoal checkpoint")?;
        state.config.validate()?;
        Ok(state)
    }
}

/// What the command-line training loop drives: PPO
/// ([`super::actor_critic::trainer::Trainer`]) or MF-Q ([`super::mean_field::mfq::MfqTrainer`]).
pub trait Learner {
    /// The run's configuration.
    fn config(&self) -> &TrainConfig;
    /// Where the run stands.
    fn progress(&self) -> &Progress;
    /// One rollout and update.
    fn update(&mut self) -> Result<UpdateMetrics>;
    /// Writes a checkpoint to `dir` atomically.
    fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()>;
    /// The env's agent groups where it has several (each gets a return column); else empty.
    fn group_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// Whether every update of the run is done.
    fn finished(&self) -> bool {
        self.progress().update >= self.config().updates()
    }
    /// Times every phase of the following updates, synchronising the device at each phase
    /// boundary (see [`super::profile::PhaseClock`]). False where the learner marks no phases.
    fn enable_profile(&mut self) -> Result<bool> {
        Ok(false)
    }
    /// The phase times booked since [`Learner::enable_profile`].
    fn profile(&self) -> &[super::profile::PhaseTime] {
        &[]
    }
}

