//! League self-play: one learner, a growing pool of its own frozen snapshots, and an opponent
//! sampler — the autocurriculum of AlphaStar's league in its single-learner form.
//!
//! Every update the learner plays a batch of games in which each env faces a pool member drawn
//! by the [`OpponentSampler`] (envs of one batch face different members in the same dispatch);
//! every `snapshot_every` updates its current policy joins the pool. Samplers:
//! * `latest`: the newest snapshot (naive self-play, prone to cycling in non-transitive games);
//! * `uniform`: any snapshot (fictitious self-play);
//! * `pfsp`: prioritized fictitious self-play, weight `(1 − p)²` for the learner's win rate p
//!   against the member (AlphaStar's f_hard): the opponents it loses to come back most.
//!
//! After every snapshot the league is scored exactly: NashConv of the latest policy and of the
//! uniform mixture over the pool.

use std::sync::Arc;

use super::pool::PolicyPool;
use super::selfplay::{GameLearner, GameLearnerConfig};
use crate::env::{nash_conv, ExactGame, PolicyTable};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// How opponents are drawn from the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpponentSampler {
    /// The newest snapshot.
    Latest,
    /// Uniform over the pool.
    Uniform,
    /// Prioritized fictitious self-play: `(1 − win rate)²`.
    Pfsp,
}

impl OpponentSampler {
    /// Parses `latest`, `uniform` or `pfsp`.
    pub fn parse(text: &str) -> Result<OpponentSampler> {
        match text.trim() {
            "latest" => Ok(OpponentSampler::Latest),
            "uniform" => Ok(OpponentSampler::Uniform),
            "pfsp" => Ok(OpponentSampler::Pfsp),
            other => Err(ShoalError::config("opponents", other, "expected latest, uniform or pfsp")),
        }
    }

    /// Name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            OpponentSampler::Latest => "latest",
            OpponentSampler::Uniform => "uniform",
            OpponentSampler::Pfsp => "pfsp",
        }
    }

    /// Sampling weights over `members` given the learner's `(score, games)` against each.
    pub fn weights(self, results: &[(f64, f64)]) -> Vec<f64> {
        let n = results.len();
        match self {
            OpponentSampler::Latest => (0..n).map(|k| if k + 1 == n { 1.0 } else { 0.0 }).collect(),
            OpponentSampler::Uniform => vec![1.0 / n as f64; n],
            OpponentSampler::Pfsp => {
                // Unplayed members count as even (p = ½); a floor keeps beaten members in play.
                let raw: Vec<f64> = results
                    .iter()
                    .map(|&(score, games)| {
                        let p = if games > 0.0 { score / games } else { 0.5 };
                        (1.0 - p).powi(2).max(1e-3)
                    })
                    .collect();
                let total: f64 = raw.iter().sum();
                raw.iter().map(|w| w / total).collect()
            }
        }
    }
}

/// Settings of a league run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LeagueConfig {
    /// The game, as [`super::psro::GameName::parse`] reads it.
    pub game: String,
    /// Opponent sampler.
    pub opponents: OpponentSampler,
    /// Learner updates in all.
    pub updates: usize,
    /// Updates between snapshots.
    pub snapshot_every: usize,
    /// The learner's settings.
    pub learner: GameLearnerConfig,
}

/// One row of `league.json`, written at every snapshot.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LeagueRow {
    /// Sampler name.
    pub opponents: String,
    /// Learner updates so far.
    pub update: usize,
    /// Pool size after this snapshot.
    pub policies: usize,
    /// Exact NashConv of the learner's current policy.
    pub nash_conv_latest: f64,
    /// Exact NashConv of the uniform mixture over the pool.
    pub nash_conv_pool: f64,
    /// Learner's mean payoff per game in the last update.
    pub mean_return: f64,
    /// Env steps so far.
    pub env_steps: u64,
    /// Wall-clock seconds so far.
    pub seconds: f64,
}

/// A league in progress.
pub struct League {
    game: Box<dyn ExactGame>,
    config: LeagueConfig,
    learner: GameLearner,
    pool: PolicyPool,
    /// Decayed `(score, games)` of the learner against each member (PFSP's evidence).
    results: Vec<(f64, f64)>,
    rows: Vec<LeagueRow>,
    seconds: f64,
}

/// The JSON part of a league checkpoint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct LeagueState {
    config: LeagueConfig,
    pool_log_probs: Vec<f32>,
    results: Vec<(f64, f64)>,
    rows: Vec<LeagueRow>,
    seconds: f64,
}

impl League {
    /// A fresh league: the pool starts with the learner's initial (uniform) policy.
    pub fn new(ctx: Arc<GpuContext>, config: LeagueConfig) -> Result<League> {
        if config.updates == 0 || config.snapshot_every == 0 {
            return Err(ShoalError::config("updates/snapshot_every", 0, "both must be at least 1"));
        }
        let game = super::psro::GameName::parse(&config.game)?.exact();
        let learner = GameLearner::new(ctx.clone(), game.as_ref(), config.learner.clone())?;
        let mut pool = PolicyPool::new(ctx, game.as_ref());
        pool.push(learner.table())?;
        Ok(League { game, learner, pool, results: vec![(0.0, 0.0)], rows: Vec::new(), seconds: 0.0, config })
    }

    /// The settings.
    pub fn config(&self) -> &LeagueConfig {
        &self.config
    }

    /// Rows so far (one per snapshot).
    pub fn rows(&self) -> &[LeagueRow] {
        &self.rows
    }

    /// Learner updates so far.
    pub fn updates(&self) -> usize {
        self.learner.updates()
    }

    /// Whether every update ran.
    pub fn finished(&self) -> bool {
        self.learner.updates() >= self.config.updates
    }

    /// One learner update against opponents drawn by the sampler; at a snapshot, the learner
    /// joins the pool and the league is scored (the new row is returned).
    pub fn step(&mut self) -> Result<Option<&LeagueRow>> {
        let started = std::time::Instant::now();
        let weights = self.config.opponents.weights(&self.results);
        let m = self.learner.update(&self.pool, &weights)?;
        if self.config.opponents == OpponentSampler::Pfsp {
            // Win rates over the recent past: old evidence decays by half every update.
            let fresh = self.learner.take_results(self.pool.len())?;
            for (acc, new) in self.results.iter_mut().zip(fresh) {
                *acc = (0.5 * acc.0 + new.0, 0.5 * acc.1 + new.1);
            }
        }
        let update = self.learner.updates();
        let snapshot = update.is_multiple_of(self.config.snapshot_every);
        if snapshot {
            self.pool.push(self.learner.table())?;
            self.results.push((0.0, 0.0));
        }
        self.seconds += started.elapsed().as_secs_f64();
        if !snapshot {
            return Ok(None);
        }
        let latest = self.pool.tables().last().expect("just pushed");
        let uniform: Vec<(f64, &PolicyTable)> = self.pool.tables().iter().map(|t| (1.0 / self.pool.len() as f64, t)).collect();
        self.rows.push(LeagueRow {
            opponents: self.config.opponents.name().into(),
            update,
            policies: self.pool.len(),
            nash_conv_latest: nash_conv(self.game.as_ref(), &[(1.0, latest)]).nash_conv,
            nash_conv_pool: nash_conv(self.game.as_ref(), &uniform).nash_conv,
            mean_return: m.mean_return,
            env_steps: self.learner.env_steps(),
            seconds: self.seconds,
        });
        Ok(self.rows.last())
    }

    /// Writes the league to `dir` atomically (pool, learner, evidence, rows).
    pub fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        let state = LeagueState {
            config: self.config.clone(),
            pool_log_probs: self.pool.read_log_probs()?,
            results: self.results.clone(),
            rows: self.rows.clone(),
            seconds: self.seconds,
        };
        crate::train::checkpoint::write_checkpoint(dir, |tmp| {
            self.learner.save(tmp)?;
            crate::io::write_json(&tmp.join("league_state.json"), &state)
        })
    }

    /// Continues a league saved by [`League::save_checkpoint`]; `updates` may raise the total.
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path, updates: Option<usize>) -> Result<League> {
        crate::train::store::verify_checkpoint(dir)?;
        let path = dir.join("league_state.json");
        let state: LeagueState = crate::io::read_json(&path, "a league checkpoint")?;
        let mut config = state.config;
        if let Some(n) = updates {
            config.updates = n;
        }
        let game = super::psro::GameName::parse(&config.game)?.exact();
        let learner = GameLearner::resume(ctx.clone(), game.as_ref(), dir)?;
        let pool = PolicyPool::from_log_probs(ctx, game.as_ref(), &state.pool_log_probs)?;
        if state.results.len() != pool.len() {
            return Err(ShoalError::BadInput { path: path.display().to_string(), line: 1, message: "results do not match the pool".into() });
        }
        Ok(League { game, config, learner, pool, results: state.results, rows: state.rows, seconds: state.seconds })
    }
}
