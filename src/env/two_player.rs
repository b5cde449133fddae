//! Two-player zero-sum games on the device, and their exact solution on the host.
//!
//! The games of self-play and PSRO research are tiny but must be played billions of times:
//! [`TwoPlayerBatch`] steps a batch of them with one kernel launch (one invocation per game),
//! behind the common [`BatchedEnv`] API: one agent group of two seats, one-hot information-state
//! observations, legal-action masks in [`StepOutput::legal_actions`], seat 0's payoff as the
//! reward of seat 0 and its negation for seat 1. The kernels share `shaders/two_player.wgsl`
//! (bindings, bookkeeping); each game adds its own WGSL file and Rust module
//! ([`super::matrix_game`], [`super::kuhn_poker`]).
//!
//! Because every observation is one information state, a policy *is* a table
//! ([`PolicyTable`]: action probabilities per information state), and a game's [`ExactGame`]
//! computes expected payoffs by walking its (tiny) tree. [`best_response`] enumerates the pure
//! strategies of a seat — 64 in Kuhn poker — so exploitability and NashConv here are exact:
//! the ground truth every learned result is measured against.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Tensor};

use super::{check_int_dtype, ActionSpace, Actions, AgentGroup, BatchedEnv, EnvSnapshot, EnvSpec, EpisodeStats, StepOutput};
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};

/// The binding contract and bookkeeping shared by the game kernels.
pub const TWO_PLAYER_WGSL: &str = include_str!("../../shaders/two_player.wgsl");

const STATE_WIDTH: usize = 8;
const STAT_WIDTH: usize = 7;
const COMMAND_OBSERVE: u32 = 1;

/// What the host needs to know about one game kernel.
#[derive(Debug, Clone)]
pub struct GameKernel {
    /// Env name as the CLI spells it.
    pub name: &'static str,
    /// Observation width (information states, one-hot).
    pub obs_dim: usize,
    /// Actions per seat (seats with fewer legal actions are masked).
    pub n_actions: usize,
    /// Longest episode in steps.
    pub max_length: usize,
    /// The game's WGSL file.
    pub wgsl: &'static str,
    /// Placeholders of that file (besides `n_envs`).
    pub constants: Vec<(&'static str, String)>,
}

/// A batch of two-player games stepped on the device.
pub struct TwoPlayerBatch {
    ctx: Arc<GpuContext>,
    spec: EnvSpec,
    game: GameKernel,
    kernel: WgslKernel,
    state: CubeTensor,
    episode_stats: CubeTensor,
    ready: bool,
}

impl TwoPlayerBatch {
    /// `n_envs` games of `game`.
    pub fn new(ctx: Arc<GpuContext>, game: GameKernel, n_envs: usize) -> Result<TwoPlayerBatch> {
        if n_envs == 0 {
            return Err(ShoalError::config("n_envs", 0, "need at least one game in the batch"));
        }
        let max_envs = ctx.max_storage_bytes() as usize / (4 * 2 * game.obs_dim.max(game.n_actions));
        if n_envs > max_envs {
            return Err(ShoalError::config(
                "n_envs",
                n_envs,
                format!("the observation buffer would exceed this device's storage-buffer limit; use at most {max_envs} games"),
            ));
        }
        let mut constants = game.constants.clone();
        constants.push(("n_envs", n_envs.to_string()));
        let kernel = WgslKernel::new(game.name, &[GRID_WGSL, RNG_WGSL, game.wgsl, TWO_PLAYER_WGSL], &constants);
        let spec = EnvSpec {
            name: game.name,
            n_envs,
            groups: vec![AgentGroup {
                name: "player".into(),
                agents: 2,
                obs_dim: game.obs_dim,
                action: ActionSpace::Discrete { n: game.n_actions },
            }],
            max_cycles: game.max_length,
        };
        let device = ctx.device().clone();
        Ok(TwoPlayerBatch {
            state: ctx.empty(&[n_envs, STATE_WIDTH], DType::U32),
            episode_stats: float_buffer(Tensor::<2>::zeros([n_envs, STAT_WIDTH], &device))?,
            ready: false,
            kernel,
            spec,
            game,
            ctx,
        })
    }

    /// The game this batch plays.
    pub fn game(&self) -> &GameKernel {
        &self.game
    }

    fn idle_actions(&self) -> Result<CubeTensor> {
        let zeros = Tensor::<2, burn::tensor::Int>::zeros([self.spec.n_envs, 2], self.ctx.device());
        let buffer = int_buffer(zeros)?;
        check_int_dtype(&buffer)?;
        Ok(buffer)
    }

    fn launch(&self, actions: CubeTensor) -> StepOutput {
        let envs = self.spec.n_envs;
        let (obs_dim, n_actions) = (self.game.obs_dim, self.game.n_actions);
        let obs = self.ctx.empty(&[envs, 2, obs_dim], DType::F32);
        let legal = self.ctx.empty(&[envs, 2, n_actions], DType::F32);
        let reward = self.ctx.empty(&[envs, 2], DType::F32);
        let done = self.ctx.empty(&[envs], DType::F32);
        let truncated = self.ctx.empty(&[envs], DType::F32);
        self.kernel.launch(
            &self.ctx,
            envs,
            &[&actions, &self.state, &self.episode_stats, &obs, &legal, &reward, &done, &truncated],
        );
        StepOutput {
            obs: vec![float_tensor(obs)],
            reward: float_tensor(reward),
            done: float_tensor(done),
            truncated: float_tensor(truncated),
            terminal_obs: None,
            legal_actions: Some(vec![float_tensor(legal)]),
        }
    }
}

impl BatchedEnv for TwoPlayerBatch {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn reset(&mut self, seed: u64) -> Result<StepOutput> {
        let envs = self.spec.n_envs;
        let mut words = vec![u32::MAX; envs * STATE_WIDTH];
        for env_words in words.chunks_mut(STATE_WIDTH) {
            env_words[0] = seed as u32;
            env_words[1] = (seed >> 32) as u32;
            env_words[2] = 0;
            env_words[3] = COMMAND_OBSERVE;
        }
        self.state = self.ctx.upload_raw(&words, &[envs, STATE_WIDTH], DType::U32)?;
        self.episode_stats = float_buffer(Tensor::<2>::zeros([envs, STAT_WIDTH], self.ctx.device()))?;
        self.ready = true;
        Ok(self.launch(self.idle_actions()?))
    }

    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput> {
        if !self.ready {
            return Err(ShoalError::config("step", "before reset", "call reset(seed) before the first step"));
        }
        let envs = self.spec.n_envs;
        let [Actions::Discrete(actions)] = actions else {
            return Err(ShoalError::Shape {
                what: "actions",
                expected: "one discrete Actions [envs, 2] (both seats)".into(),
                got: format!("{} groups", actions.len()),
            });
        };
        ShoalError::ensure_dims("actions", &actions.dims(), &[envs, 2])?;
        let buffer = int_buffer(actions.clone())?;
        check_int_dtype(&buffer)?;
        Ok(self.launch(buffer))
    }

    fn episode_stats(&self) -> Result<EpisodeStats> {
        Ok(EpisodeStats::from_sums(&super::sum_over_envs(&self.ctx, &self.episode_stats)?))
    }

    fn clear_episode_stats(&mut self) -> Result<()> {
        self.episode_stats = super::clear_completed_episodes(&self.episode_stats)?;
        Ok(())
    }

    fn snapshot(&self) -> Result<EnvSnapshot> {
        Ok(EnvSnapshot {
            state: Vec::new(),
            counters: self.ctx.read_raw_u32(&self.state)?,
            episode_stats: self.ctx.read_f32(float_tensor::<2>(self.episode_stats.clone()))?,
        })
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let envs = self.spec.n_envs;
        ShoalError::ensure_len("snapshot counters", snapshot.counters.len(), &[envs, STATE_WIDTH])?;
        ShoalError::ensure_len("snapshot statistics", snapshot.episode_stats.len(), &[envs, STAT_WIDTH])?;
        let mut words = snapshot.counters.clone();
        for env_words in words.chunks_mut(STATE_WIDTH) {
            env_words[3] = COMMAND_OBSERVE;
        }
        self.state = self.ctx.upload_raw(&words, &[envs, STATE_WIDTH], DType::U32)?;
        self.episode_stats = self.ctx.upload_raw(&snapshot.episode_stats, &[envs, STAT_WIDTH], DType::F32)?;
        self.ready = true;
        Ok(self.launch(self.idle_actions()?))
    }
}

/// A policy of a game whose observations are information states: action probabilities,
/// row-major `[information state][action]`. Rows a seat never decides in are ignored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyTable {
    /// Actions per row.
    pub n_actions: usize,
    /// Probabilities, `rows × n_actions`.
    pub probs: Vec<f64>,
}

impl PolicyTable {
    /// Uniform over each decision's legal actions.
    pub fn uniform(game: &dyn ExactGame) -> PolicyTable {
        let n = game.n_actions();
        let mut probs = vec![0.0; game.n_infostates() * n];
        for seat in 0..2 {
            for (state, legal) in game.decisions(seat) {
                for a in 0..legal {
                    probs[state * n + a] = 1.0 / legal as f64;
                }
            }
        }
        PolicyTable { n_actions: n, probs }
    }

    /// Probability of `action` in information state `state`.
    pub fn prob(&self, state: usize, action: usize) -> f64 {
        self.probs[state * self.n_actions + action]
    }

    /// Sets the row of `state` to `row`.
    pub fn set_row(&mut self, state: usize, row: &[f64]) {
        self.probs[state * self.n_actions..(state + 1) * self.n_actions].copy_from_slice(row);
    }
}

/// A two-player zero-sum game small enough to solve on the host.
pub trait ExactGame: Send + Sync {
    /// Game name (as the CLI spells it).
    fn name(&self) -> &'static str;
    /// Rows of a [`PolicyTable`] (the observation width).
    fn n_infostates(&self) -> usize;
    /// Columns of a [`PolicyTable`].
    fn n_actions(&self) -> usize;
    /// The information states where `seat` decides, each with its number of legal actions
    /// (actions `0..legal`).
    fn decisions(&self, seat: usize) -> Vec<(usize, usize)>;
    /// Seat 0's expected payoff when seat 0 plays `seat0` and seat 1 plays `seat1`.
    fn payoff(&self, seat0: &PolicyTable, seat1: &PolicyTable) -> f64;
    /// The kernel that plays this game on the device.
    fn kernel(&self) -> GameKernel;
}

/// A policy and its weight in a mixture.
pub type Weighted<'a> = (f64, &'a PolicyTable);

/// The best response of `seat` to `opponents` (a mixture of whole policies, each played with its
/// weight's probability for a whole game): its expected payoff for `seat` and the pure policy.
/// Exact, by enumerating every pure strategy of the seat.
pub fn best_response(game: &dyn ExactGame, seat: usize, opponents: &[Weighted]) -> (f64, PolicyTable) {
    let decisions = game.decisions(seat);
    let mut choice = vec![0usize; decisions.len()];
    let mut candidate = PolicyTable::uniform(game);
    let mut best: Option<(f64, PolicyTable)> = None;
    loop {
        for (&(state, _), &a) in decisions.iter().zip(&choice) {
            let mut row = vec![0.0; game.n_actions()];
            row[a] = 1.0;
            candidate.set_row(state, &row);
        }
        let value: f64 = opponents
            .iter()
            .map(|&(w, opp)| {
                w * if seat == 0 { game.payoff(&candidate, opp) } else { -game.payoff(opp, &candidate) }
            })
            .sum();
        if best.as_ref().is_none_or(|(b, _)| value > *b + 1e-12) {
            best = Some((value, candidate.clone()));
        }
        // Next pure strategy (odometer over the decisions' legal actions).
        let mut i = 0;
        loop {
            if i == decisions.len() {
                return best.expect("a game has at least one pure strategy");
            }
            choice[i] += 1;
            if choice[i] < decisions[i].1 {
                break;
            }
            choice[i] = 0;
            i += 1;
        }
    }
}

/// How far a mixture is from a Nash equilibrium.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NashConv {
    /// Seat 0's expected payoff when both seats play the mixture.
    pub value: f64,
    /// Seat 0's best-response payoff against the mixture in seat 1.
    pub best_response_0: f64,
    /// Seat 1's best-response payoff against the mixture in seat 0.
    pub best_response_1: f64,
    /// `Σ_seats (best response − current payoff)` = `best_response_0 + best_response_1`
    /// (zero-sum); 0 exactly at a Nash equilibrium. Exploitability is half of it.
    pub nash_conv: f64,
}

/// NashConv of the profile in which both seats play `mixture` (each seat draws one policy per
/// game with the given weights, independently).
pub fn nash_conv(game: &dyn ExactGame, mixture: &[Weighted]) -> NashConv {
    let value: f64 = mixture
        .iter()
        .flat_map(|&(wa, a)| mixture.iter().map(move |&(wb, b)| wa * wb * game.payoff(a, b)))
        .sum();
    let (best_response_0, _) = best_response(game, 0, mixture);
    let (best_response_1, _) = best_response(game, 1, mixture);
    NashConv { value, best_response_0, best_response_1, nash_conv: best_response_0 + best_response_1 }
}

/// NashConv of one policy playing both seats.
pub fn policy_nash_conv(game: &dyn ExactGame, policy: &PolicyTable) -> NashConv {
    nash_conv(game, &[(1.0, policy)])
}
