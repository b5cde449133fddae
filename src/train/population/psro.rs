//! Policy-Space Response Oracles (Lanctot et al. 2017) on GPU-batched two-player zero-sum games.
//!
//! PSRO grows a population of policies. Each iteration
//! 1. estimates the empirical payoff matrix between the population's members by batched play on
//!    the device — every new pair, both seatings, in one batch of games ([`estimate_payoffs`]);
//! 2. solves the resulting symmetric zero-sum meta-game: Nash by linear programming
//!    ([`MetaSolver::Nash`]) or uniform ([`MetaSolver::Uniform`], which makes PSRO fictitious
//!    play, the baseline);
//! 3. trains a best response to the meta-mixture with PPO ([`GameLearner`]) — or computes it
//!    exactly ([`Oracle::Exact`], to check everything but the oracle) — and adds it.
//!
//! Policies play both seats: the meta-game between members i and j is the average of the two
//! seatings, `S[i][j] = ½(M[i][j] − M[j][i])`, antisymmetric. After every iteration the mixture is
//! scored exactly ([`crate::env::nash_conv`]): NashConv = Σ_seats (best response − value) of the
//! profile in which both seats play the mixture.

use std::sync::Arc;

use burn::tensor::{Int, Tensor};

use super::pool::PolicyPool;
use super::selfplay::{GameLearner, GameLearnerConfig};
use crate::env::{nash_conv, Actions, BatchedEnv, ExactGame, KuhnPoker, MatrixGame, NashConv, TwoPlayerBatch};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// The games PSRO and the league run on.
#[derive(Debug, Clone, PartialEq)]
pub enum GameName {
    /// Rock–paper–scissors.
    Rps,
    /// Biased RPS, Nash (1/16, 10/16, 5/16).
    BiasedRps,
    /// Kuhn poker.
    Kuhn,
    /// A custom zero-sum payoff matrix.
    Matrix(MatrixGame),
}

impl GameName {
    /// Parses `rps`, `biased_rps`, `kuhn`, or a payoff matrix `"a,b;c,d"`.
    pub fn parse(text: &str) -> Result<GameName> {
        match text.trim() {
            "rps" => Ok(GameName::Rps),
            "biased_rps" | "biased-rps" => Ok(GameName::BiasedRps),
            "kuhn" | "kuhn_poker" => Ok(GameName::Kuhn),
            other if other.contains(',') => Ok(GameName::Matrix(MatrixGame::parse(other)?)),
            other => Err(ShoalError::config(
                "game",
                other,
                "expected rps, biased_rps, kuhn, or a payoff matrix like \"0,-1,1;1,0,-1;-1,1,0\"",
            )),
        }
    }

    /// The game's exact model.
    pub fn exact(&self) -> Box<dyn ExactGame> {
        match self {
            GameName::Rps => Box::new(MatrixGame::rps()),
            GameName::BiasedRps => Box::new(MatrixGame::biased_rps()),
            GameName::Kuhn => Box::new(KuhnPoker),
            GameName::Matrix(m) => Box::new(m.clone()),
        }
    }
}

/// How the meta-game is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaSolver {
    /// A Nash equilibrium of the empirical meta-game (linear programming).
    Nash,
    /// Uniform over the population (fictitious play).
    Uniform,
}

impl MetaSolver {
    /// Parses `nash` or `uniform`.
    pub fn parse(text: &str) -> Result<MetaSolver> {
        match text.trim() {
            "nash" => Ok(MetaSolver::Nash),
            "uniform" => Ok(MetaSolver::Uniform),
            other => Err(ShoalError::config("meta", other, "expected nash or uniform")),
        }
    }

    /// Name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            MetaSolver::Nash => "nash",
            MetaSolver::Uniform => "uniform",
        }
    }

    /// Meta-strategy over the population given the antisymmetric payoff matrix `s`.
    pub fn solve(self, s: &[Vec<f64>]) -> Result<Vec<f64>> {
        match self {
            MetaSolver::Uniform => Ok(vec![1.0 / s.len() as f64; s.len()]),
            MetaSolver::Nash => symmetric_nash(s),
        }
    }
}

/// A maximin strategy of the row player of the zero-sum game `s` (row payoffs), by linear
/// programming: maximise v subject to Σ_i x_i s[i][j] ≥ v for every column j, x in the simplex.
pub fn symmetric_nash(s: &[Vec<f64>]) -> Result<Vec<f64>> {
    use microlp::{ComparisonOp, OptimizationDirection, Problem};
    let n = s.len();
    let mut problem = Problem::new(OptimizationDirection::Maximize);
    let x: Vec<_> = (0..n).map(|_| problem.add_var(0.0, (0.0, 1.0))).collect();
    let v = problem.add_var(1.0, (f64::NEG_INFINITY, f64::INFINITY));
    for j in 0..n {
        let mut row: Vec<_> = (0..n).map(|i| (x[i], s[i][j])).collect();
        row.push((v, -1.0));
        problem.add_constraint(&row, ComparisonOp::Ge, 0.0);
    }
    let ones: Vec<_> = x.iter().map(|&xi| (xi, 1.0)).collect();
    problem.add_constraint(&ones, ComparisonOp::Eq, 1.0);
    let solution = problem
        .solve()
        .map_err(|e| ShoalError::Solver(format!("the LP failed ({e}); try --meta uniform")))?
        .into_solution()
        .map_err(|_| ShoalError::Solver("the LP was interrupted; try --meta uniform".into()))?;
    let weights: Vec<f64> = x.iter().map(|&xi| solution.var_value(xi).max(0.0)).collect();
    let total: f64 = weights.iter().sum();
    Ok(weights.iter().map(|w| w / total).collect())
}

/// Which best-response oracle PSRO uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Oracle {
    /// PPO against the meta-mixture on the device.
    Ppo,
    /// The exact best response (host tree walk): isolates meta-solver and payoff estimation.
    Exact,
}

/// Seat-0 payoffs of `pairs` (member i in seat 0, member j in seat 1), estimated by playing
/// `envs` games at once for `steps` steps: each pair gets `envs / pairs` envs. Returns the mean
/// seat-0 payoff per finished game, per pair, and the env steps spent.
pub fn estimate_payoffs(
    env: &mut TwoPlayerBatch,
    pool: &PolicyPool,
    pairs: &[(usize, usize)],
    steps: usize,
    seed: u64,
) -> Result<(Vec<f64>, u64)> {
    let envs = env.spec().n_envs;
    let n = env.game().n_actions;
    if pairs.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let per_pair = envs / pairs.len();
    if per_pair == 0 {
        return Err(ShoalError::config("eval_envs", envs, format!("need at least one game per pair ({} pairs)", pairs.len())));
    }
    let ctx = env.context().clone();
    // Env e plays pair e / per_pair; the remainder replays pair 0 and is left out of the sums.
    let (mut first, mut second) = (Vec::with_capacity(envs), Vec::with_capacity(envs));
    for e in 0..envs {
        let (i, j) = pairs[(e / per_pair).min(pairs.len() - 1)];
        first.push(i as i32);
        second.push(j as i32);
    }
    let first = ctx.upload_i32(&first, [envs])?;
    let second = ctx.upload_i32(&second, [envs])?;
    let mut noise = crate::train::actor_critic::noise::PolicyNoise::new(ctx.clone(), &crate::env::ActionSpace::Discrete { n: 2 * n }, 1, envs, seed ^ 0xE7A1)?;
    let mut out = env.reset(seed)?;
    let mut payoff = Tensor::<1>::zeros([envs], ctx.device());
    let mut games = Tensor::<1>::zeros([envs], ctx.device());
    for _ in 0..steps {
        let info: Tensor<2, Int> = out.obs[0].clone().argmax(2).reshape([envs, 2]);
        let legal = out.legal_actions.as_ref().map(|l| l[0].clone()).ok_or_else(|| ShoalError::Internal("no legal-action mask".into()))?;
        let u = noise.sample()?;
        let seat = |k: usize| -> (Tensor<1, Int>, Tensor<2>) {
            (
                info.clone().slice([0..envs, k..k + 1]).reshape([envs]),
                legal.clone().slice([0..envs, k..k + 1, 0..n]).reshape([envs, n]),
            )
        };
        let (s0, l0) = seat(0);
        let (s1, l1) = seat(1);
        let a0 = pool.act(first.clone(), s0, l0, u.clone().slice([0..envs, 0..n]))?;
        let a1 = pool.act(second.clone(), s1, l1, u.slice([0..envs, n..2 * n]))?;
        out = env.step(&[Actions::Discrete(Tensor::stack(vec![a0, a1], 1))])?;
        payoff = payoff + out.reward.clone().slice([0..envs, 0..1]).reshape([envs]);
        games = games + out.done.clone();
    }
    let used = per_pair * pairs.len();
    let per = |t: Tensor<1>| t.slice([0..used]).reshape([pairs.len(), per_pair]).sum_dim(1).reshape([pairs.len()]);
    let sums = ctx.read_f32(Tensor::cat(vec![per(payoff), per(games)], 0))?;
    let k = pairs.len();
    let means = (0..k).map(|p| sums[p] as f64 / (sums[k + p] as f64).max(1.0)).collect();
    Ok((means, (envs * steps) as u64))
}

/// Settings of a PSRO run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PsroConfig {
    /// The game, as [`GameName::parse`] reads it.
    pub game: String,
    /// Iterations (best responses added).
    pub iterations: usize,
    /// Meta-solver.
    pub meta: MetaSolver,
    /// Best-response oracle.
    pub oracle: Oracle,
    /// A best response joins the population only if its estimated payoff against the
    /// meta-mixture it answered exceeds the meta-game's value by this much. Near equilibrium
    /// every policy is nearly indifferent: an arbitrary one would only add estimation noise and
    /// degenerate meta-equilibria (PSRO's usual stopping rule, applied per iteration).
    pub min_gain: f64,
    /// PPO updates per best response.
    pub br_updates: usize,
    /// Add the PPO learner's mode (a deterministic policy, as best responses are) rather than
    /// its softmax: near-indifferent decisions otherwise leave residual mixing that the
    /// meta-game cannot undo.
    pub greedy_best_response: bool,
    /// The best-response learner's settings.
    pub learner: GameLearnerConfig,
    /// Games in the payoff-estimation batch.
    pub eval_envs: usize,
    /// Steps of the payoff-estimation batch.
    pub eval_steps: usize,
    /// Seed.
    pub seed: u64,
}

impl PsroConfig {
    /// Checks the run's own settings (the learner's are checked by its config); errors name the key.
    pub fn validate(&self) -> Result<()> {
        if self.iterations == 0 {
            return Err(ShoalError::config("iterations", 0, "need at least one PSRO iteration"));
        }
        if self.eval_steps == 0 || self.eval_envs == 0 {
            return Err(ShoalError::config("eval_steps", format!("{} steps × {} envs", self.eval_steps, self.eval_envs), "payoff estimation needs at least one step of one game"));
        }
        if !self.min_gain.is_finite() {
            return Err(ShoalError::config("min_gain", self.min_gain, "must be a finite number (0 adds every best response)"));
        }
        Ok(())
    }
}

/// One row of `psro.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PsroRow {
    /// Iteration (0 = the initial uniform policy alone).
    pub iteration: usize,
    /// Exact NashConv of the meta-mixture.
    pub nash_conv: f64,
    /// Meta-solver name.
    pub meta: String,
    /// Population size.
    pub policies: usize,
    /// Env steps so far (best-response training and payoff estimation).
    pub env_steps: u64,
    /// Wall-clock seconds so far.
    pub seconds: f64,
    /// The meta-mixture's weights.
    pub weights: Vec<f64>,
    /// Largest |empirical − exact| entry of the meta-game matrix.
    pub payoff_error: f64,
    /// Estimated payoff of this iteration's best response against the meta-mixture it
    /// answered, minus that mixture's meta-game value (0 at iteration 0).
    pub gain: f64,
    /// Whether the best response joined the population (its gain was at least `min_gain`).
    pub added: bool,
}

/// A PSRO run in progress.
pub struct Psro {
    ctx: Arc<GpuContext>,
    game: Box<dyn ExactGame>,
    config: PsroConfig,
    pool: PolicyPool,
    eval_env: TwoPlayerBatch,
    /// Seat-0 payoffs estimated so far, `m[i][j]`.
    seat_payoffs: Vec<Vec<f64>>,
    env_steps: u64,
    seconds: f64,
    rows: Vec<PsroRow>,
}

impl Psro {
    /// A run whose population starts with the uniform policy.
    pub fn new(ctx: Arc<GpuContext>, config: PsroConfig) -> Result<Psro> {
        let game = GameName::parse(&config.game)?.exact();
        config.learner.validate()?;
        config.validate()?;
        let eval_env = TwoPlayerBatch::new(ctx.clone(), game.kernel(), config.eval_envs)?;
        let mut pool = PolicyPool::new(ctx.clone(), game.as_ref());
        pool.push_table(&crate::env::PolicyTable::uniform(game.as_ref()))?;
        let mut psro = Psro {
            ctx,
            pool,
            eval_env,
            seat_payoffs: vec![vec![0.0]],
            env_steps: 0,
            seconds: 0.0,
            rows: Vec::new(),
            config,
            game,
        };
        let started = std::time::Instant::now();
        psro.estimate_new_member()?;
        psro.seconds += started.elapsed().as_secs_f64();
        psro.record(0.0, true)?;
        Ok(psro)
    }

    /// Rows so far (one per finished iteration, starting with iteration 0).
    pub fn rows(&self) -> &[PsroRow] {
        &self.rows
    }

    /// The population.
    pub fn pool(&self) -> &PolicyPool {
        &self.pool
    }

    /// The empirical meta-game: `S[i][j] = ½(M[i][j] − M[j][i])` from the seat-0 payoffs.
    pub fn payoffs(&self) -> Vec<Vec<f64>> {
        let m = &self.seat_payoffs;
        (0..m.len()).map(|i| (0..m.len()).map(|j| 0.5 * (m[i][j] - m[j][i])).collect()).collect()
    }

    /// Whether all iterations ran.
    pub fn finished(&self) -> bool {
        self.rows.len() > self.config.iterations
    }

    /// Current meta-strategy.
    pub fn meta_strategy(&self) -> Result<Vec<f64>> {
        self.config.meta.solve(&self.payoffs())
    }

    /// NashConv of the current meta-mixture, exactly.
    pub fn nash_conv(&self) -> Result<NashConv> {
        let weights = self.meta_strategy()?;
        let mixture: Vec<_> = weights.iter().copied().zip(self.pool.tables()).filter(|(w, _)| *w > 0.0).collect();
        Ok(nash_conv(self.game.as_ref(), &mixture))
    }

    /// One iteration: best response to the meta-mixture, added, payoffs estimated, scored.
    /// `progress` is called after every PPO update with (update, updates, mean return).
    pub fn iterate(&mut self, mut progress: impl FnMut(usize, usize, f64)) -> Result<&PsroRow> {
        let started = std::time::Instant::now();
        let weights = self.meta_strategy()?;
        match self.config.oracle {
            Oracle::Exact => {
                let mixture: Vec<_> = weights.iter().copied().zip(self.pool.tables()).collect();
                let (_, seat0) = crate::env::best_response(self.game.as_ref(), 0, &mixture);
                let (_, seat1) = crate::env::best_response(self.game.as_ref(), 1, &mixture);
                let mut table = seat0.clone();
                for (state, _) in self.game.decisions(1) {
                    let row: Vec<f64> = (0..table.n_actions).map(|a| seat1.prob(state, a)).collect();
                    table.set_row(state, &row);
                }
                self.pool.push_table(&table)?;
            }
            Oracle::Ppo => {
                let iteration = self.rows.len();
                let config = self.config.learner.clone().with_seed(self.config.seed.wrapping_add(1000 * iteration as u64));
                let mut learner = GameLearner::new(self.ctx.clone(), self.game.as_ref(), config)?;
                for u in 0..self.config.br_updates {
                    let m = learner.update(&self.pool, &weights)?;
                    progress(u + 1, self.config.br_updates, m.mean_return);
                }
                self.env_steps += learner.env_steps();
                self.pool.push(if self.config.greedy_best_response { learner.greedy_table() } else { learner.table() })?;
            }
        }
        let previous_seat_payoffs = self.seat_payoffs.clone();
        self.estimate_new_member()?;
        let k = self.pool.len() - 1;
        let payoffs = self.payoffs();
        let value: f64 = (0..k).map(|i| (0..k).map(|j| weights[i] * weights[j] * payoffs[i][j]).sum::<f64>()).sum();
        let gain = (0..k).map(|j| weights[j] * payoffs[k][j]).sum::<f64>() - value;
        let added = gain >= self.config.min_gain;
        if !added {
            self.pool.pop();
            self.seat_payoffs = previous_seat_payoffs;
        }
        self.seconds += started.elapsed().as_secs_f64();
        self.record(gain, added)?;
        Ok(self.rows.last().expect("just recorded"))
    }

    /// Estimates the new member's payoffs against every member (both seatings, one batch).
    fn estimate_new_member(&mut self) -> Result<()> {
        let k = self.pool.len() - 1;
        let mut pairs = Vec::with_capacity(2 * k + 1);
        for j in 0..=k {
            pairs.push((k, j));
            if j != k {
                pairs.push((j, k));
            }
        }
        let seed = self.config.seed ^ ((k as u64 + 1) << 32);
        let (means, steps) = estimate_payoffs(&mut self.eval_env, &self.pool, &pairs, self.config.eval_steps, seed)?;
        self.env_steps += steps;
        for row in &mut self.seat_payoffs {
            row.resize(k + 1, 0.0);
        }
        self.seat_payoffs.resize(k + 1, vec![0.0; k + 1]);
        for (&(i, j), &m) in pairs.iter().zip(&means) {
            self.seat_payoffs[i][j] = m;
        }
        Ok(())
    }

    /// Writes the run to `dir` atomically (population, payoffs, rows); PSRO resumes from it at
    /// the next iteration exactly as it would have gone on.
    pub fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        let state = PsroCheckpoint {
            config: self.config.clone(),
            pool_log_probs: self.pool.read_log_probs()?,
            seat_payoffs: self.seat_payoffs.clone(),
            env_steps: self.env_steps,
            seconds: self.seconds,
            rows: self.rows.clone(),
        };
        crate::train::checkpoint::write_checkpoint(dir, |tmp| {
            crate::io::write_json(&tmp.join("psro_state.json"), &state)
        })
    }

    /// Continues a run saved by [`Psro::save_checkpoint`]; `iterations` may raise the total.
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path, iterations: Option<usize>) -> Result<Psro> {
        crate::train::store::verify_checkpoint(dir)?;
        let path = dir.join("psro_state.json");
        let state: PsroCheckpoint = crate::io::read_json(&path, "a PSRO checkpoint")?;
        let mut config = state.config;
        if let Some(n) = iterations {
            config.iterations = n;
        }
        let game = GameName::parse(&config.game)?.exact();
        let pool = PolicyPool::from_log_probs(ctx.clone(), game.as_ref(), &state.pool_log_probs)?;
        let n = pool.len();
        if state.seat_payoffs.len() != n || state.seat_payoffs.iter().any(|r| r.len() != n) {
            return Err(ShoalError::BadInput { path: path.display().to_string(), line: 1, message: format!("payoff matrix does not match the {n} policies") });
        }
        Ok(Psro {
            eval_env: TwoPlayerBatch::new(ctx.clone(), game.kernel(), config.eval_envs)?,
            ctx,
            pool,
            seat_payoffs: state.seat_payoffs,
            env_steps: state.env_steps,
            seconds: state.seconds,
            rows: state.rows,
            config,
            game,
        })
    }

    /// The run's settings.
    pub fn config(&self) -> &PsroConfig {
        &self.config
    }

    fn record(&mut self, gain: f64, added: bool) -> Result<()> {
        let weights = self.meta_strategy()?;
        let score = self.nash_conv()?;
        let tables = self.pool.tables();
        let payoffs = self.payoffs();
        let mut payoff_error: f64 = 0.0;
        for (i, a) in tables.iter().enumerate() {
            for (j, b) in tables.iter().enumerate() {
                let exact = 0.5 * (self.game.payoff(a, b) - self.game.payoff(b, a));
                payoff_error = payoff_error.max((exact - payoffs[i][j]).abs());
            }
        }
        self.rows.push(PsroRow {
            iteration: self.rows.len(),
            nash_conv: score.nash_conv,
            meta: self.config.meta.name().into(),
            policies: self.pool.len(),
            env_steps: self.env_steps,
            seconds: self.seconds,
            weights,
            payoff_error,
            gain,
            added,
        });
        Ok(())
    }
}

/// What a PSRO checkpoint holds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct PsroCheckpoint {
    config: PsroConfig,
    pool_log_probs: Vec<f32>,
    seat_payoffs: Vec<Vec<f64>>,
    env_steps: u64,
    seconds: f64,
    rows: Vec<PsroRow>,
}
