//! Learning against a population: the pieces that league self-play ([`super::league`]) and PSRO
//! ([`super::psro`]) share.
//!
//! * [`PolicyPool`], [`TabularPolicy`]: the pool of frozen policies and the learner's table
//!   ([`super::pool`]).
//! * [`GameLearner`]: PPO against a mixture over the pool. Half the envs seat the learner first,
//!   half second; each env draws its opponent from the mixture whenever a game ends (on the
//!   device, from the env's own uniform). Every game's result is booked per opponent on the
//!   device, which is what prioritized fictitious self-play reads.
//!
//! The host sets the mixture weights (a few floats) and reads a few scalars per update.

use std::sync::Arc;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor};

use crate::train::actor_critic::noise::PolicyNoise;
use crate::train::actor_critic::ppo::{weighted_ppo_loss, PpoCoefficients};
use crate::train::actor_critic::rollout::{Minibatches, Rollout};
use super::pool::{gumbel_argmax, legal_table, PolicyPool, TabularPolicy, ILLEGAL};
use crate::env::{ActionSpace, Actions, BatchedEnv, ExactGame, TwoPlayerBatch};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

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
            optim: tabular_adam(),
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
        learner.policy = crate::train::store::load_module(learner.policy.clone(), &dir.join("policy.bpk"))?;
        let record = crate::train::store::load_optimizer_record(&dir.join("optimizer.bpk"))?;
        learner.optim = tabular_adam().load_record(record);
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
        // The rollout's inputs and decision weights, beside the per-step terms every PPO learner keeps.
        let (mut states, mut legals, mut actions, mut decisions) = (vec![], vec![], vec![], vec![]);
        let mut rollout = Rollout::default();
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

            decisions.push(my_legal.clone().sum_dim(1).reshape([envs]).greater_elem(1.5).float());
            rollout.push(logp.gather(1, mine.clone()).reshape([envs]), policy.value(my_state.clone()), reward, done);
            actions.push(mine.reshape([envs]));
            states.push(my_state);
            legals.push(my_legal);
            self.obs = step.obs[0].clone();
            self.legal = legal_of(&step)?;
        }
        self.results = Some(results);
        let info = self.obs.clone().argmax(2).reshape([envs, 2]);
        let last_value = policy.value(info.gather(1, seat_col).reshape([envs]));
        // Games are short and undiscounted: Monte-Carlo returns (γ = λ = 1).
        let (payoff, games) = rollout.totals();
        let batch = rollout.finish(&self.ctx, last_value, 1.0, 1.0)?;
        let samples = self.config.rollout_steps * envs;
        let states = Tensor::cat(states, 0);
        let legals = Tensor::cat(legals, 0);
        let actions = Tensor::cat(actions, 0);
        let decision = Tensor::cat(decisions, 0);
        let c = PpoCoefficients { clip_eps: self.config.clip_eps, vf_coef: self.config.vf_coef, ent_coef: self.config.ent_coef, clip_value: false };
        let minibatches = Minibatches {
            epochs: self.config.update_epochs,
            minibatches: self.config.num_minibatches,
            rows: samples,
            row_width: 1,
            seed: self.config.seed,
            update: self.updates,
        };
        let minibatch = samples / self.config.num_minibatches;
        let mut last = None;
        let ctx = self.ctx.clone();
        minibatches.run(&ctx, |_, idx| {
            let s = states.clone().select(0, idx.clone());
            let logp_all = self.policy.log_probs(s.clone(), legals.clone().select(0, idx.clone()));
            let a = actions.clone().select(0, idx.clone()).reshape([minibatch, 1]);
            let log_prob = logp_all.clone().gather(1, a).reshape([minibatch]);
            let entropy = (softmax(logp_all.clone(), 1) * logp_all).sum_dim(1).reshape([minibatch]).neg();
            let loss = weighted_ppo_loss(
                log_prob,
                batch.old_log_probs.clone().select(0, idx.clone()),
                batch.advantages.clone().select(0, idx.clone()),
                self.policy.value(s),
                batch.returns.clone().select(0, idx.clone()),
                entropy,
                decision.clone().select(0, idx),
                c,
            );
            let grads = GradientsParams::from_grads(loss.total.backward(), &self.policy);
            self.policy = self.optim.step(self.config.lr, self.policy.clone(), grads);
            last = Some(loss);
            Ok(())
        })?;
        let loss = last.ok_or_else(|| ShoalError::Internal("no minibatch ran".into()))?;
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
        .ok_or_else(|| ShoalError::Internal("a two-player game returned no legal-action mask".into()))
}

/// The table's optimizer: burn's Adam with ε = 1e-5, as the actor-critic learners use (no
/// clipping: a table's gradients are bounded by the PPO ratio clip).
fn tabular_adam() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-5).init()
}
