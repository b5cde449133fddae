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

use super::selfplay::{GameLearner, GameLearnerConfig, PolicyPool};
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
#[derive(Debug, Clone)]
pub struct LeagueConfig {
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

/// Runs a league and returns its rows; `progress(update, row)` after every update.
pub fn run_league(
    ctx: Arc<GpuContext>,
    game: &dyn ExactGame,
    config: &LeagueConfig,
    mut progress: impl FnMut(usize, Option<&LeagueRow>),
) -> Result<Vec<LeagueRow>> {
    if config.updates == 0 || config.snapshot_every == 0 {
        return Err(ShoalError::config("updates/snapshot_every", 0, "both must be at least 1"));
    }
    let started = std::time::Instant::now();
    let mut learner = GameLearner::new(ctx.clone(), game, config.learner.clone())?;
    let mut pool = PolicyPool::new(ctx, game);
    // The pool starts with the learner's initial (uniform) policy.
    pool.push(learner.table())?;
    let mut results = vec![(0.0, 0.0); 1];
    let mut rows = Vec::new();
    for update in 1..=config.updates {
        let weights = config.opponents.weights(&results);
        let m = learner.update(&pool, &weights)?;
        if config.opponents == OpponentSampler::Pfsp {
            // Win rates over the recent past: old evidence decays by half every update.
            let fresh = learner.take_results(pool.len())?;
            for (acc, new) in results.iter_mut().zip(fresh) {
                *acc = (0.5 * acc.0 + new.0, 0.5 * acc.1 + new.1);
            }
        }
        let mut row = None;
        if update % config.snapshot_every == 0 {
            pool.push(learner.table())?;
            results.push((0.0, 0.0));
            let latest = pool.tables().last().expect("just pushed");
            let uniform: Vec<(f64, &PolicyTable)> = pool.tables().iter().map(|t| (1.0 / pool.len() as f64, t)).collect();
            rows.push(LeagueRow {
                opponents: config.opponents.name().into(),
                update,
                policies: pool.len(),
                nash_conv_latest: nash_conv(game, &[(1.0, latest)]).nash_conv,
                nash_conv_pool: nash_conv(game, &uniform).nash_conv,
                mean_return: m.mean_return,
                env_steps: learner.env_steps(),
                seconds: started.elapsed().as_secs_f64(),
            });
            row = rows.last();
        }
        progress(update, row);
    }
    Ok(rows)
}
