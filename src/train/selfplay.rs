//! Learning against a population: the pieces that league self-play ([`super::league`]) and PSRO
//! ([`super::psro`]) share.
//!
//! * [`PolicyPool`]: frozen policy snapshots on the device, one `[policies·states, actions]`
//!   log-probability table. Any env of a batch can play any member: an opponent's action is a row
//!   gather at `member·states + information state`, so one dispatch serves a batch in which
//!   every env faces a different opponent.
//! * [`TabularPolicy`]: the learner, a softmax policy and a value per information state (the
//!   observations of these games are one-hot information states, so a linear layer on them *is*
//!   a table), trained by PPO with burn's autodiff.
//! * [`GameLearner`]: PPO against a mixture over the pool. Half the envs seat the learner first,
//!   half second; each env draws its opponent from the mixture whenever a game ends (on the
//!   device, from the env's own uniform). Every game's result is booked per opponent on the
//!   device, which is what prioritized fictitious self-play reads.
//!
//! The host sets the mixture weights (a few floats) and reads a few scalars per update.

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::gae::gae;
use super::noise::PolicyNoise;
use super::ppo::{weighted_ppo_loss, PpoCoefficients};
use crate::env::{ActionSpace, Actions, BatchedEnv, ExactGame, PolicyTable, TwoPlayerBatch};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Log-probability given to illegal actions (exp underflows to exactly 0).
const ILLEGAL: f32 = -1.0e9;

/// PPO settings of a learner in a two-player game.
#[derive(burn::config::Config, Debug, PartialEq)]
pub struct GameLearnerConfig {
    /// Games played in parallel.
    #[config(default = 4096)]
    pub envs: usize,
    /// Steps per env per update.
    #[config(default = 8)]
    pub rollout_steps: usize,
    /// Passes over each rollout.
    #[config(default = 4)]
    pub update_epochs: usize,
    /// Minibatches per pass.
    #[config(default = 4)]
    pub num_minibatches: usize,
    /// Adam step size (the parameters are table entries: large steps are fine).
    #[config(default = 0.05)]
    pub lr: f64,
    /// PPO clip range.
    #[config(default = 0.2)]
    pub clip_eps: f32,
    /// Entropy bonus.
    #[config(default = 0.01)]
    pub ent_coef: f32,
    /// Value-loss weight.
    #[config(default = 0.5)]
    pub vf_coef: f32,
    /// Seed of the games, the sampling noise and the minibatch order.
    #[config(default = 0)]
    pub seed: u64,
}

impl GameLearnerConfig {
    /// Rejects settings that cannot run.
    pub fn validate(&self) -> Result<()> {
        if self.envs < 2 {
            return Err(ShoalError::config("envs", self.envs, "need at least 2 games (the learner plays both seats)"));
        }
        for (field, v) in [("rollout_steps", self.rollout_steps), ("update_epochs", self.update_epochs), ("num_minibatches", self.num_minibatches)] {
            if v == 0 {
                return Err(ShoalError::config(field, 0, "must be at least 1"));
            }
        }
        if !(self.envs * self.rollout_steps).is_multiple_of(self.num_minibatches) {
            return Err(ShoalError::config(
                "num_minibatches",
                self.num_minibatches,
                format!("must divide envs × rollout_steps = {}", self.envs * self.rollout_steps),
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(ShoalError::config("lr", self.lr, "must be a positive number"));
        }
        Ok(())
    }

    /// Env steps (games' moves) per update.
    pub fn steps_per_update(&self) -> u64 {
        (self.envs * self.rollout_steps) as u64
    }
}

/// `[states, actions]` 0/1 legal mask of a game's information states (the waiting state and
/// other non-decisions allow action 0 only).
pub fn legal_table(game: &dyn ExactGame) -> Vec<f32> {
    let (s, n) = (game.n_infostates(), game.n_actions());
    let mut legal = vec![0.0f32; s * n];
    for state in 0..s {
        legal[state * n] = 1.0;
    }
    for seat in 0..2 {
        for (state, k) in game.decisions(seat) {
            for a in 0..k {
                legal[state * n + a] = 1.0;
            }
        }
    }
    legal
}

/// Frozen policies on the device.
pub struct PolicyPool {
    ctx: Arc<GpuContext>,
    states: usize,
    actions: usize,
    /// `[members·states, actions]` log-probabilities (illegal = −1e9).
    log_probs: Option<Tensor<2>>,
    /// The same tables on the host, for exact evaluation.
    tables: Vec<PolicyTable>,
}

impl PolicyPool {
    /// An empty pool for `game`.
    pub fn new(ctx: Arc<GpuContext>, game: &dyn ExactGame) -> PolicyPool {
        PolicyPool { ctx, states: game.n_infostates(), actions: game.n_actions(), log_probs: None, tables: Vec::new() }
    }

    /// Members so far.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether the pool has no member.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The members' tables (host copies).
    pub fn tables(&self) -> &[PolicyTable] {
        &self.tables
    }

    /// Adds a member from its `[states, actions]` log-probabilities on the device (one small read
    /// for the host copy).
    pub fn push(&mut self, log_probs: Tensor<2>) -> Result<()> {
        ShoalError::ensure_dims("policy table", &log_probs.dims(), &[self.states, self.actions])?;
        let log_probs = log_probs.without_autodiff().detach();
        let host = self.ctx.read_f32(log_probs.clone())?;
        self.tables.push(PolicyTable { n_actions: self.actions, probs: host.iter().map(|&l| (l as f64).exp()).collect() });
        self.log_probs = Some(match self.log_probs.take() {
            Some(all) => Tensor::cat(vec![all, log_probs], 0),
            None => log_probs,
        });
        Ok(())
    }

    /// Removes the newest member.
    pub fn pop(&mut self) {
        if self.tables.pop().is_some() {
            let rows = self.tables.len() * self.states;
            self.log_probs = self.log_probs.take().filter(|_| rows > 0).map(|t| t.slice([0..rows, 0..self.actions]));
        }
    }

    /// Adds a member given as a host table (e.g. an exact best response).
    pub fn push_table(&mut self, table: &PolicyTable) -> Result<()> {
        let logs: Vec<f32> = table.probs.iter().map(|&p| if p > 0.0 { (p.ln() as f32).max(ILLEGAL) } else { ILLEGAL }).collect();
        let tensor = self.ctx.upload_f32(&logs, [self.states, self.actions])?;
        self.push(tensor)
    }

    /// Every member's log-probabilities, row-major `[members·states, actions]` (for checkpoints).
    pub fn read_log_probs(&self) -> Result<Vec<f32>> {
        match &self.log_probs {
            Some(t) => self.ctx.read_f32(t.clone()),
            None => Ok(Vec::new()),
        }
    }

    /// Rebuilds a pool from [`PolicyPool::read_log_probs`].
    pub fn from_log_probs(ctx: Arc<GpuContext>, game: &dyn ExactGame, log_probs: &[f32]) -> Result<PolicyPool> {
        let mut pool = PolicyPool::new(ctx, game);
        let width = pool.states * pool.actions;
        if !log_probs.len().is_multiple_of(width) {
            return Err(ShoalError::config("pool", log_probs.len(), format!("not a whole number of {width}-entry tables")));
        }
        for member in log_probs.chunks(width) {
            let t = pool.ctx.upload_f32(member, [pool.states, pool.actions])?;
            pool.push(t)?;
        }
        Ok(pool)
    }

    /// Samples actions `[E]`: env e plays member `member[e]` in information state `state[e]`,
    /// restricted to `legal [E, A]`, with Gumbel noise from `uniform [E, A]`.
    pub fn act(&self, member: Tensor<1, Int>, state: Tensor<1, Int>, legal: Tensor<2>, uniform: Tensor<2>) -> Result<Tensor<1, Int>> {
        let table = self.log_probs.as_ref().ok_or_else(|| ShoalError::config("pool", "empty", "add a policy before playing the pool"))?;
        let rows = member * self.states as i64 + state;
        let logits = table.clone().select(0, rows) + (legal - 1.0) * -ILLEGAL;
        let [envs, _] = logits.dims();
        Ok(gumbel_argmax(logits, uniform).reshape([envs]))
    }
}

/// `argmax(logits + Gumbel(uniform))`: a categorical sample, `[E, 1]`.
fn gumbel_argmax(logits: Tensor<2>, uniform: Tensor<2>) -> Tensor<2, Int> {
    let gumbel = uniform.clamp(1e-7, 1.0 - 1e-7).log().neg().log().neg();
    (logits + gumbel).argmax(1)
}

/// A tabular softmax policy and value function over information states.
#[derive(Module, Debug)]
pub struct TabularPolicy {
    /// `[states, actions]` logits.
    logits: Param<Tensor<2>>,
    /// `[states, 1]` values.
    values: Param<Tensor<2>>,
}

impl TabularPolicy {
    /// The uniform policy with zero values.
    pub fn new(states: usize, actions: usize, device: &Device) -> TabularPolicy {
        TabularPolicy {
            logits: Param::from_tensor(Tensor::zeros([states, actions], device)),
            values: Param::from_tensor(Tensor::zeros([states, 1], device)),
        }
    }

    /// Masked log-probabilities `[B, A]` in information states `state [B]`.
    pub fn log_probs(&self, state: Tensor<1, Int>, legal: Tensor<2>) -> Tensor<2> {
        log_softmax(self.logits.val().select(0, state) + (legal - 1.0) * -ILLEGAL, 1)
    }

    /// Values `[B]`.
    pub fn value(&self, state: Tensor<1, Int>) -> Tensor<1> {
        let [batch] = state.dims();
        self.values.val().select(0, state).reshape([batch])
    }

    /// The policy as a `[states, actions]` log-probability table, masked by `legal`.
    pub fn table(&self, legal: Tensor<2>) -> Tensor<2> {
        log_softmax(self.logits.val() + (legal - 1.0) * -ILLEGAL, 1)
    }
}

/// One update's figures.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct GameUpdate {
    /// Mean learner payoff per finished game in this rollout.
    pub mean_return: f64,
    /// Games finished in this rollout.
    pub games: f64,
    /// Entropy of the learner's policy at its decisions.
    pub entropy: f64,
    /// Approximate KL of the last minibatch.
    pub approx_kl: f64,
}

/// PPO against a mixture over a [`PolicyPool`].
pub struct GameLearner {
    ctx: Arc<GpuContext>,
    config: GameLearnerConfig,
    env: TwoPlayerBatch,
    policy: TabularPolicy,
    optim: ModuleOptimizer,
    noise: PolicyNoise,
    legal_states: Tensor<2>,
    /// `[E]` the learner's seat (0 for even envs, 1 for odd).
    seat: Tensor<1, Int>,
    /// `[E]` the pool member each env plays now.
    opponent: Tensor<1, Int>,
    obs: Tensor<3>,
    legal: Tensor<3>,
    /// Per pool member: `[score, games]` sums of the learner's results (win 1, draw ½).
    results: Option<Tensor<2>>,
    updates: usize,
    env_steps: u64,
    noise_calls: u32,
}

/// The JSON part of a [`GameLearner`] checkpoint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct LearnerState {
    config: GameLearnerConfig,
    updates: usize,
    env_steps: u64,
    noise_calls: u32,
    opponent: Vec<i32>,
    results: Option<Vec<f32>>,
    env: crate::env::EnvSnapshot,
}

impl GameLearner {
    /// A fresh uniform learner; its opponents are drawn from `pool` once [`GameLearner::update`]
    /// is given weights.
    pub fn new(ctx: Arc<GpuContext>, game: &dyn ExactGame, config: GameLearnerConfig) -> Result<GameLearner> {
        config.validate()?;
        let envs = config.envs;
        let mut env = TwoPlayerBatch::new(ctx.clone(), game.kernel(), envs)?;
        let first = env.reset(config.seed)?;
        let device: Device = ctx.device().clone().autodiff();
        let n = game.n_actions();
        let noise = PolicyNoise::new(ctx.clone(), &ActionSpace::Discrete { n: 2 * n + 1 }, 1, envs, config.seed ^ 0x5E1F_F1A7)?;
        let seats: Vec<i32> = (0..envs as i32).map(|e| e % 2).collect();
        Ok(GameLearner {
            policy: TabularPolicy::new(game.n_infostates(), n, &device),
            optim: AdamConfig::new().with_epsilon(1e-5).init(),
            legal_states: ctx.upload_f32(&legal_table(game), [game.n_infostates(), n])?,
            seat: ctx.upload_i32(&seats, [envs])?,
            opponent: Tensor::zeros([envs], ctx.device()),
            obs: first.obs[0].clone(),
            legal: legal_of(&first)?,
            results: None,
            updates: 0,
            env_steps: 0,
            noise_calls: 0,
            noise,
            env,
            config,
            ctx,
        })
    }

    /// The settings.
    pub fn config(&self) -> &GameLearnerConfig {
        &self.config
    }

    /// Env steps taken so far.
    pub fn env_steps(&self) -> u64 {
        self.env_steps
    }

    /// Updates so far.
    pub fn updates(&self) -> usize {
        self.updates
    }

    /// The current policy as `[states, actions]` log-probabilities (off the autodiff graph).
    pub fn table(&self) -> Tensor<2> {
        self.policy.valid().table(self.legal_states.clone())
    }

    /// Writes the learner into `dir` (an existing directory): parameters, Adam's state, the
    /// games in progress, each env's opponent, the booked results and the noise counter.
    pub fn save(&self, dir: &std::path::Path) -> Result<()> {
        let record_error = |what: &str, e: burn::store::RecordError| ShoalError::io(dir, std::io::Error::other(format!("{what}: {e:?}")));
        self.policy.clone().save_file(dir.join("policy.bpk")).map_err(|e| record_error("policy", e))?;
        self.optim.to_record().save(dir.join("optimizer.bpk")).map_err(|e| record_error("optimizer", e))?;
        let results = match &self.results {
            Some(r) => Some(self.ctx.read_f32(r.clone())?),
            None => None,
        };
        let state = LearnerState {
            config: self.config.clone(),
            updates: self.updates,
            env_steps: self.env_steps,
            noise_calls: self.noise_calls,
            opponent: self.ctx.read_i32(self.opponent.clone())?,
            results,
            env: self.env.snapshot()?,
        };
        crate::io::write_json(&dir.join("learner.json"), &state)
    }

    /// A learner saved by [`GameLearner::save`], continuing exactly.
    pub fn resume(ctx: Arc<GpuContext>, game: &dyn ExactGame, dir: &std::path::Path) -> Result<GameLearner> {
        let state: LearnerState = crate::io::read_json(&dir.join("learner.json"), "a learner checkpoint")?;
        let mut learner = GameLearner::new(ctx.clone(), game, state.config.clone())?;
        let record_error = |what: &str, e: burn::store::RecordError| ShoalError::io(dir, std::io::Error::other(format!("{what}: {e:?}")));
        learner.policy = learner.policy.clone().try_load_file(dir.join("policy.bpk")).map_err(|e| record_error("policy", e))?;
        let record = burn::optim::OptimizerRecord::load(dir.join("optimizer.bpk")).map_err(|e| record_error("optimizer", e))?;
        learner.optim = AdamConfig::new().with_epsilon(1e-5).init().load_record(record);
        let out = learner.env.restore(&state.env)?;
        learner.obs = out.obs[0].clone();
        learner.legal = legal_of(&out)?;
        let envs = state.config.envs;
        ShoalError::ensure_len("opponents", state.opponent.len(), &[envs])?;
        learner.opponent = ctx.upload_i32(&state.opponent, [envs])?;
        learner.results = match &state.results {
            Some(r) => Some(ctx.upload_f32(r, [2, r.len() / 2])?),
            None => None,
        };
        learner.noise.set_calls(state.noise_calls)?;
        learner.noise_calls = state.noise_calls;
        learner.updates = state.updates;
        learner.env_steps = state.env_steps;
        Ok(learner)
    }

    /// The current policy's mode in every information state, as a deterministic
    /// `[states, actions]` log-probability table (0 for the chosen action, −1e9 elsewhere).
    pub fn greedy_table(&self) -> Tensor<2> {
        let table = self.table();
        let [states, actions] = table.dims();
        let best = table.argmax(1).expand([states, actions]);
        let ids = Tensor::<1, Int>::arange(0..actions as i64, self.ctx.device()).reshape([1, actions]).expand([states, actions]);
        (best.equal(ids).float() - 1.0) * -ILLEGAL
    }

    /// The learner's results against each pool member since the last call: `(score, games)`
    /// per member (win 1, draw ½, loss 0). One small read.
    pub fn take_results(&mut self, members: usize) -> Result<Vec<(f64, f64)>> {
        let Some(results) = self.results.take() else {
            return Ok(vec![(0.0, 0.0); members]);
        };
        let values = self.ctx.read_f32(results)?;
        let have = values.len() / 2;
        Ok((0..members).map(|k| if k < have { (values[k] as f64, values[have + k] as f64) } else { (0.0, 0.0) }).collect())
    }

    /// One rollout against `pool` (member k drawn with probability `weights[k]` per game) and
    /// one PPO update.
    pub fn update(&mut self, pool: &PolicyPool, weights: &[f64]) -> Result<GameUpdate> {
        if weights.len() != pool.len() || pool.is_empty() {
            return Err(ShoalError::config("weights", weights.len(), format!("need one weight per pool member ({})", pool.len())));
        }
        let total: f64 = weights.iter().sum();
        // NaN weights fail both comparisons.
        if total.is_nan() || total <= 0.0 || weights.iter().any(|w| w.is_nan() || *w < 0.0) {
            return Err(ShoalError::config("weights", format!("{weights:?}"), "must be non-negative with a positive sum"));
        }
        let envs = self.config.envs;
        let n = pool.actions;
        let members = pool.len();
        let device = self.ctx.device().clone();
        // Cumulative weights for inverse-CDF draws; the last bound is +∞ so rounding cannot
        // run past the last member.
        let mut cdf: Vec<f32> = weights.iter().scan(0.0, |acc, w| { *acc += w / total; Some(*acc as f32) }).collect();
        *cdf.last_mut().expect("non-empty") = f32::INFINITY;
        let cdf = self.ctx.upload_f32(&cdf, [1, members])?;
        let member_ids = Tensor::<1, Int>::arange(0..members as i64, &device).float().reshape([1, members]);
        if self.updates == 0 {
            // First update: draw every env's opponent now (later, at each game's end).
            self.noise_calls += 1;
            let u = self.noise.sample()?.slice([0..envs, 2 * n..2 * n + 1]);
            self.opponent = draw(u, cdf.clone());
        }
        let policy = self.policy.valid();
        let seat = self.seat.clone();
        let seat_col = seat.clone().reshape([envs, 1]);
        let other_col = seat_col.clone().neg() + 1;
        let (mut states, mut legals, mut actions, mut log_probs, mut values, mut rewards, mut dones, mut weights_t) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut results = self.results.take().unwrap_or_else(|| Tensor::zeros([2, members], &device));
        if results.dims()[1] < members {
            let pad = Tensor::zeros([2, members - results.dims()[1]], &device);
            results = Tensor::cat(vec![results, pad], 1);
        }
        for _ in 0..self.config.rollout_steps {
            let info = self.obs.clone().argmax(2).reshape([envs, 2]);
            let my_state = info.clone().gather(1, seat_col.clone()).reshape([envs]);
            let their_state = info.gather(1, other_col.clone()).reshape([envs]);
            let pick = |col: &Tensor<2, Int>| self.legal.clone().gather(1, col.clone().reshape([envs, 1, 1]).expand([envs, 1, n])).reshape([envs, n]);
            let (my_legal, their_legal) = (pick(&seat_col), pick(&other_col));
            self.noise_calls += 1;
            let u = self.noise.sample()?;
            let logp = policy.log_probs(my_state.clone(), my_legal.clone());
            let mine = gumbel_argmax(logp.clone(), u.clone().slice([0..envs, 0..n]));
            let theirs = pool.act(self.opponent.clone(), their_state, their_legal, u.clone().slice([0..envs, n..2 * n]))?.reshape([envs, 1]);
            let seat0 = mine.clone() * other_col.clone() + theirs.clone() * seat_col.clone();
            let seat1 = mine.clone() * seat_col.clone() + theirs * other_col.clone();
            let step = self.env.step(&[Actions::Discrete(Tensor::cat(vec![seat0, seat1], 1))])?;
            let reward = step.reward.clone().gather(1, seat_col.clone()).reshape([envs]);
            let done = step.done.clone();
            // Book the finished games against the member that played them, then redraw.
            let played = self.opponent.clone().float().reshape([envs, 1]).expand([envs, members]).equal(member_ids.clone().expand([envs, members])).float();
            let score = (reward.clone().sign() * 0.5 + 0.5) * done.clone();
            let booked = Tensor::cat(vec![score.reshape([1, envs]), done.clone().reshape([1, envs])], 0).matmul(played);
            results = results + booked;
            let fresh = draw(u.slice([0..envs, 2 * n..2 * n + 1]), cdf.clone());
            let keep = done.clone().equal_elem(0.0).int();
            self.opponent = self.opponent.clone() * keep.clone() + fresh * (keep.neg() + 1);

            weights_t.push(my_legal.clone().sum_dim(1).reshape([envs]).greater_elem(1.5).float());
            values.push(policy.value(my_state.clone()));
            log_probs.push(logp.gather(1, mine.clone()).reshape([envs]));
            actions.push(mine.reshape([envs]));
            states.push(my_state);
            legals.push(my_legal);
            rewards.push(reward);
            dones.push(done);
            self.obs = step.obs[0].clone();
            self.legal = legal_of(&step)?;
        }
        self.results = Some(results);
        let info = self.obs.clone().argmax(2).reshape([envs, 2]);
        let last_value = policy.value(info.gather(1, seat_col).reshape([envs]));
        let values = Tensor::stack::<2>(values, 0);
        let rewards = Tensor::stack::<2>(rewards, 0);
        let dones = Tensor::stack::<2>(dones, 0);
        let games = dones.clone().sum();
        let payoff = rewards.clone().sum();
        // Games are short and undiscounted: Monte-Carlo returns (γ = λ = 1).
        let (advantages, returns) = gae(&self.ctx, rewards, values, dones, last_value, 1.0, 1.0)?;

        let samples = self.config.rollout_steps * envs;
        let states = Tensor::cat(states, 0);
        let legals = Tensor::cat(legals, 0);
        let actions = Tensor::cat(actions, 0);
        let old_log_probs = Tensor::cat(log_probs, 0);
        let decision = Tensor::cat(weights_t, 0);
        let advantages = advantages.reshape([samples]);
        let returns = returns.reshape([samples]);
        let c = PpoCoefficients { clip_eps: self.config.clip_eps, vf_coef: self.config.vf_coef, ent_coef: self.config.ent_coef, clip_value: false };
        let minibatch = samples / self.config.num_minibatches;
        let mut last = None;
        for epoch in 0..self.config.update_epochs {
            let mut rng = rand::rngs::StdRng::seed_from_u64(self.config.seed ^ ((self.updates as u64) << 20) ^ ((epoch as u64) << 8));
            let mut order: Vec<i32> = (0..samples as i32).collect();
            order.shuffle(&mut rng);
            let order = self.ctx.upload_i32(&order, [samples])?;
            for mb in 0..self.config.num_minibatches {
                let idx: Tensor<1, Int> = order.clone().slice([mb * minibatch..(mb + 1) * minibatch]);
                let s = states.clone().select(0, idx.clone());
                let logp_all = self.policy.log_probs(s.clone(), legals.clone().select(0, idx.clone()));
                let a = actions.clone().select(0, idx.clone()).reshape([minibatch, 1]);
                let log_prob = logp_all.clone().gather(1, a).reshape([minibatch]);
                let entropy = (softmax(logp_all.clone(), 1) * logp_all).sum_dim(1).reshape([minibatch]).neg();
                let loss = weighted_ppo_loss(
                    log_prob,
                    old_log_probs.clone().select(0, idx.clone()),
                    advantages.clone().select(0, idx.clone()),
                    self.policy.value(s),
                    returns.clone().select(0, idx.clone()),
                    entropy,
                    decision.clone().select(0, idx),
                    c,
                );
                let grads = GradientsParams::from_grads(loss.total.backward(), &self.policy);
                self.policy = self.optim.step(self.config.lr, self.policy.clone(), grads);
                last = Some(loss);
            }
        }
        let loss = last.ok_or_else(|| ShoalError::Gpu("no minibatch ran".into()))?;
        let scalars = self.ctx.read_f32(Tensor::cat(
            vec![payoff, games, loss.entropy.without_autodiff().detach(), loss.approx_kl.without_autodiff().detach()],
            0,
        ))?;
        self.updates += 1;
        self.env_steps += self.config.steps_per_update();
        Ok(GameUpdate {
            mean_return: scalars[0] as f64 / (scalars[1] as f64).max(1.0),
            games: scalars[1] as f64,
            entropy: scalars[2] as f64,
            approx_kl: scalars[3] as f64,
        })
    }
}

/// Member indices `[E]` by inverse CDF: the number of cumulative bounds below each uniform.
fn draw(uniform: Tensor<2>, cdf: Tensor<2>) -> Tensor<1, Int> {
    let [envs, _] = uniform.dims();
    let [_, members] = cdf.dims();
    uniform.expand([envs, members]).greater_equal(cdf.expand([envs, members])).int().sum_dim(1).reshape([envs])
}

fn legal_of(step: &crate::env::StepOutput) -> Result<Tensor<3>> {
    step.legal_actions
        .as_ref()
        .and_then(|l| l.first().cloned())
        .ok_or_else(|| ShoalError::Gpu("a two-player game returned no legal-action mask".into()))
}
