//! The PPO training loop (IPPO / MAPPO) with rollouts, advantages and updates on the device.
//!
//! Per update: `rollout_steps` env steps with the current policy (actions sampled on the device
//! from device-side uniform noise), GAE with time-limit bootstrapping, then `update_epochs` ×
//! `num_minibatches` Adam steps on the clipped PPO objective with global gradient-norm clipping
//! and a linearly annealed learning rate. The host reads back a handful of scalars per update
//! (losses, episode statistics) and uploads one minibatch permutation per epoch; no per-step data
//! crosses. Checkpoints hold the model, Adam's state, the envs' device state and the noise
//! counters, so a resumed run continues exactly.

use std::sync::Arc;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::adam::{FusedAdam, FusedAdamConfig};
use super::config::TrainConfig;
use super::gae::{gae, truncation_bootstrap};
use super::envs::{model_config, Inputs, TrainEnv};
use super::model::{Action, ActorCritic};
use super::ppo::{normalize, ppo_loss, PpoCoefficients};
use super::noise::PolicyNoise;
use super::policy_kernel::RolloutPolicy;
use super::profile::{PhaseClock, PhaseTime};
use crate::env::{Actions, EnvSnapshot};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

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
}

impl UpdateMetrics {
    /// CSV header, in field order.
    pub const CSV_HEADER: &'static str = "update,env_steps,wall_seconds,mean_episode_return,episodes,total_loss,policy_loss,value_loss,entropy,approx_kl,env_steps_per_s,lr";

    /// One CSV row.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{:.3},{:.6},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.1},{:.6e}",
            self.update, self.env_steps, self.wall_seconds, self.mean_episode_return, self.episodes,
            self.total_loss, self.policy_loss, self.value_loss, self.entropy, self.approx_kl,
            self.env_steps_per_s, self.lr
        )
    }
}

/// Where a run stands (saved in checkpoints).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

/// A PPO learner attached to a batch of simple_spread envs.
pub struct Trainer {
    ctx: Arc<GpuContext>,
    config: TrainConfig,
    env: TrainEnv,
    model: ActorCritic,
    optim: ModuleOptimizer,
    /// The fused optimizer behind `optim` (queues the gradient norms before each step).
    adam: FusedAdam,
    noise: PolicyNoise,
    /// The rollout's policy step as one kernel (`None`: `fused_rollout` off or per-agent
    /// networks; burn's tensor ops then).
    rollout_policy: Option<RolloutPolicy>,
    /// Actor and critic inputs from observations.
    inputs: Inputs,
    /// Phase timings (`shoal bench --learner --profile`); `None` in normal runs.
    profile: Option<PhaseClock>,
    /// Current observations `[envs, agents, obs_dim]`.
    obs: Tensor<3>,
    progress: Progress,
}

/// Collects the id and rank of every float parameter (for global gradient clipping).
struct FloatParams(Vec<(ParamId, usize)>);

impl ModuleVisitor for FloatParams {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

impl Trainer {
    /// A fresh run: new model, envs reset with the run's seed.
    pub fn new(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<Trainer> {
        config.validate()?;
        let mut env = TrainEnv::new(&ctx, &config, config.envs, true)?;
        let group = env.env_ref().spec().groups[0].clone();
        let device: Device = ctx.device().clone().autodiff();
        // Model initialisation draws from burn's generator: seed it for reproducible runs.
        device.seed(config.seed);
        let model_shape = model_config(&config);
        let model = model_shape.init(&device);
        let rollout_policy = if config.fused_rollout {
            RolloutPolicy::new(ctx.clone(), &model_shape, config.envs * config.agents)
        } else {
            None
        };
        let noise = PolicyNoise::new(ctx.clone(), &group.action, config.agents, config.envs, config.seed ^ 0x5EED_0F_AC71)?;
        let (adam, optim) = Self::optimizer(&ctx, &config, &model);
        let obs = env.env().reset(config.seed)?.obs.remove(0);
        Ok(Trainer {
            inputs: Inputs::new(&config, ctx.device()),
            optim,
            adam,
            rollout_policy,
            profile: None,
            model,
            noise,
            env,
            obs,
            config,
            ctx,
            progress: Progress { update: 0, env_steps: 0, wall_seconds: 0.0, noise_calls: 0 },
        })
    }

    /// Adam (ε = 1e-5) with global-norm clipping over the model's parameters, as fused kernels.
    fn optimizer(ctx: &Arc<GpuContext>, config: &TrainConfig, model: &ActorCritic) -> (FusedAdam, ModuleOptimizer) {
        let mut params = FloatParams(Vec::new());
        model.visit(&mut params);
        let adam = FusedAdamConfig { max_grad_norm: Some(config.max_grad_norm), ..FusedAdamConfig::default() };
        FusedAdam::init(ctx.clone(), adam, params.0)
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Where the run stands.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The current model.
    pub fn model(&self) -> &ActorCritic {
        &self.model
    }

    /// Whether every update of the run is done.
    pub fn finished(&self) -> bool {
        self.progress.update >= self.config.updates()
    }

    /// Times every phase of the following updates (synchronising the device between phases,
    /// which slows them down); see [`PhaseClock`].
    pub fn enable_profile(&mut self) -> Result<()> {
        self.profile = Some(PhaseClock::new(self.ctx.clone())?);
        Ok(())
    }

    /// The phase times booked since [`Trainer::enable_profile`].
    pub fn profile(&self) -> &[PhaseTime] {
        self.profile.as_ref().map(|p| p.phases()).unwrap_or(&[])
    }

    fn mark(&mut self, phase: &'static str) -> Result<()> {
        match &mut self.profile {
            Some(clock) => clock.mark(phase),
            None => Ok(()),
        }
    }

    fn actor_input(&self, obs: Tensor<3>) -> Tensor<2> {
        self.inputs.actor(obs)
    }

    fn critic_input(&self, obs: Tensor<3>) -> Tensor<2> {
        self.inputs.critic(obs)
    }

    fn lr(&self) -> f64 {
        if self.config.anneal_lr {
            let frac = 1.0 - self.progress.update as f64 / self.config.updates() as f64;
            self.config.lr * frac.max(0.0)
        } else {
            self.config.lr
        }
    }

    /// One rollout and one PPO update. Returns the update's metrics (a few scalars read back).
    pub fn update(&mut self) -> Result<UpdateMetrics> {
        let started = std::time::Instant::now();
        let (envs, agents) = (self.config.envs, self.config.agents);
        let batch = envs * agents;
        let steps = self.config.rollout_steps;
        let gamma = self.config.gamma;
        // The rollout needs no gradients: act with the parameters off the autodiff graph.
        let policy = self.model.valid();
        if let Some(fused) = &mut self.rollout_policy {
            fused.load(&policy)?;
        }
        self.mark("rollout: pack parameters")?;

        let (mut actor_x, mut critic_x, mut actions, mut log_probs, mut values, mut rewards, mut dones) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..steps {
            let ax = self.actor_input(self.obs.clone());
            let cx = self.critic_input(self.obs.clone());
            let noise = self.noise.sample()?;
            self.progress.noise_calls += 1;
            let (action, log_prob, value) = match &self.rollout_policy {
                Some(fused) => {
                    let step = fused.act(ax.clone(), cx.clone(), noise)?;
                    (step.action, step.log_prob, step.value)
                }
                None => {
                    let out = policy.act(ax.clone(), Some(noise));
                    (out.action, out.log_prob.without_autodiff(), policy.value(cx.clone()).without_autodiff())
                }
            };
            self.mark("rollout: inputs, noise, policy")?;
            let env_actions = match &action {
                Action::Discrete(a) => Actions::Discrete(a.clone().without_autodiff().reshape([envs, agents])),
                Action::Continuous(a) => {
                    let [_, dim] = a.dims();
                    // Our Gaussian lives on ℝ; the env clips to its box, as PettingZoo does.
                    Actions::Continuous(a.clone().reshape([envs, agents, dim]))
                }
            };
            let may_end = self.env.env_ref().episodes_may_end_next_step();
            let step = self.env.env().step(&[env_actions])?;
            let per_agent = |flag: Tensor<1>| flag.unsqueeze_dim::<2>(1).expand([envs, agents]).reshape([batch]);
            let mut reward = step.reward.reshape([batch]);
            // Only a step that can end episodes needs the critic on the terminal observations.
            let terminal = step.terminal_obs.as_ref().filter(|_| may_end).map(|t| t[0].clone());
            if let Some(terminal) = terminal {
                // Time limits are not terminal states: bootstrap from the state they cut off.
                let terminal_value = policy.value(self.critic_input(terminal)).without_autodiff();
                reward = reward + truncation_bootstrap(terminal_value, per_agent(step.truncated.clone()), gamma);
            }
            actor_x.push(ax);
            critic_x.push(cx);
            actions.push(action);
            log_probs.push(log_prob);
            values.push(value);
            rewards.push(reward);
            dones.push(per_agent(step.done));
            self.obs = step.obs.into_iter().next().ok_or_else(|| ShoalError::Gpu("env returned no observation".into()))?;
            self.mark("rollout: env step, bootstrap")?;
        }
        let last_value = policy.value(self.critic_input(self.obs.clone())).without_autodiff();
        let values = Tensor::stack::<2>(values, 0);
        let (advantages, returns) = gae(
            &self.ctx,
            Tensor::stack(rewards, 0),
            values.clone(),
            Tensor::stack(dones, 0),
            last_value,
            gamma,
            self.config.gae_lambda,
        )?;

        // Flatten time × agents into one batch of samples.
        let samples = steps * batch;
        let actor_x = Tensor::cat(actor_x, 0);
        let critic_x = Tensor::cat(critic_x, 0);
        let old_log_probs = Tensor::cat(log_probs, 0);
        let old_values = values.reshape([samples]);
        let advantages = advantages.reshape([samples]);
        let returns = returns.reshape([samples]);
        let actions = match actions.first() {
            Some(Action::Continuous(_)) => Action::Continuous(Tensor::cat(
                actions.into_iter().map(|a| match a { Action::Continuous(t) => t, Action::Discrete(_) => unreachable!() }).collect(),
                0,
            )),
            _ => Action::Discrete(Tensor::cat(
                actions.into_iter().map(|a| match a { Action::Discrete(t) => t, Action::Continuous(_) => unreachable!() }).collect(),
                0,
            )),
        };

        self.mark("advantages (GAE), batch assembly")?;
        let coefficients = PpoCoefficients {
            clip_eps: self.config.clip_eps,
            vf_coef: self.config.vf_coef,
            ent_coef: self.config.ent_coef,
            clip_value: self.config.clip_value,
        };
        let lr = self.lr();
        // Whole (step, env) rows per minibatch.
        let minibatch = (steps * envs / self.config.num_minibatches) * agents;
        let mut last_terms = None;
        for epoch in 0..self.config.update_epochs {
            // Minibatch order from a generator keyed by (seed, update, epoch): reproducible and
            // resumable without saving generator state.
            let mut rng = rand::rngs::StdRng::seed_from_u64(
                self.config.seed ^ ((self.progress.update as u64) << 20) ^ (epoch as u64) << 8,
            );
            // Shuffled by (step, env) rows, agents kept together and in order, so that
            // per-agent networks find their agent every `agents`-th sample.
            let mut rows: Vec<i32> = (0..(steps * envs) as i32).collect();
            rows.shuffle(&mut rng);
            let order: Vec<i32> = rows.iter().flat_map(|&r| (0..agents as i32).map(move |a| r * agents as i32 + a)).collect();
            let order = self.ctx.upload_i32(&order, [samples])?;
            self.mark("update: minibatch order (upload)")?;
            for mb in 0..self.config.num_minibatches {
                let idx: Tensor<1, Int> = order.clone().slice([mb * minibatch..(mb + 1) * minibatch]);
                let mb_actions = match &actions {
                    Action::Discrete(a) => Action::Discrete(a.clone().select(0, idx.clone())),
                    Action::Continuous(a) => Action::Continuous(a.clone().select(0, idx.clone())),
                };
                let mb_actor_x = actor_x.clone().select(0, idx.clone());
                let mb_critic_x = critic_x.clone().select(0, idx.clone());
                self.mark("update: minibatch gathers")?;
                let (log_prob, entropy) = self.model.evaluate(mb_actor_x, &mb_actions);
                let value = self.model.value(mb_critic_x);
                let loss = ppo_loss(
                    log_prob,
                    old_log_probs.clone().select(0, idx.clone()),
                    normalize(advantages.clone().select(0, idx.clone())),
                    value,
                    old_values.clone().select(0, idx.clone()),
                    returns.clone().select(0, idx.clone()),
                    entropy,
                    coefficients,
                );
                self.mark("update: forward, loss")?;
                let grads = GradientsParams::from_grads(loss.total.backward(), &self.model);
                self.mark("update: backward")?;
                self.adam.prepare(&grads)?;
                self.model = self.optim.step(lr, self.model.clone(), grads);
                self.mark("update: clip + Adam")?;
                last_terms = Some(loss);
            }
        }

        // The update's only reads: five loss terms in one transfer, and the episode statistics.
        let terms = last_terms.ok_or_else(|| ShoalError::Gpu("no minibatch ran".into()))?;
        let scalars = self.ctx.read_f32(Tensor::cat(
            vec![terms.total, terms.policy, terms.value, terms.entropy, terms.approx_kl]
                .into_iter()
                .map(|t| t.without_autodiff().detach())
                .collect(),
            0,
        ))?;
        let episodes = self.env.env_ref().episode_stats()?;
        self.env.env().clear_episode_stats()?;
        self.mark("host reads (losses, episode statistics)")?;
        let seconds = started.elapsed().as_secs_f64();
        self.progress.update += 1;
        self.progress.env_steps += self.config.steps_per_update();
        self.progress.wall_seconds += seconds;
        Ok(UpdateMetrics {
            update: self.progress.update,
            env_steps: self.progress.env_steps,
            wall_seconds: self.progress.wall_seconds,
            mean_episode_return: episodes.mean_return,
            episodes: episodes.episodes,
            total_loss: scalars[0] as f64,
            policy_loss: scalars[1] as f64,
            value_loss: scalars[2] as f64,
            entropy: scalars[3] as f64,
            approx_kl: scalars[4] as f64,
            env_steps_per_s: self.config.steps_per_update() as f64 / seconds,
            lr,
        })
    }

    /// Writes a checkpoint to `dir` atomically: everything goes to a temporary sibling directory
    /// that then replaces `dir` by rename.
    pub fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        write_checkpoint(dir, |tmp| {
            let record_error = |what: &str, e: burn::store::RecordError| ShoalError::io(tmp, std::io::Error::other(format!("{what}: {e:?}")));
            self.model.clone().save_file(tmp.join("model.bpk")).map_err(|e| record_error("model", e))?;
            self.optim.to_record().save(tmp.join("optimizer.bpk")).map_err(|e| record_error("optimizer", e))?;
            CheckpointState { config: self.config.clone(), progress: self.progress.clone(), env: self.env.snapshot()? }.write(tmp)
        })
    }

    /// Resumes a run from a checkpoint written by [`Trainer::save_checkpoint`].
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<Trainer> {
        let state = CheckpointState::read(dir)?;
        let mut trainer = Trainer::new(ctx, state.config.clone())?;
        let record_error = |what: &str, e: burn::store::RecordError| {
            ShoalError::io(dir, std::io::Error::other(format!("{what}: {e:?}")))
        };
        trainer.model = trainer.model.clone().try_load_file(dir.join("model.bpk")).map_err(|e| record_error("model", e))?;
        // Loading restores the saved parameter ids (Adam's state is keyed by them): re-list them.
        let (adam, optim) = Self::optimizer(&trainer.ctx, &trainer.config, &trainer.model);
        let record = burn::optim::OptimizerRecord::load(dir.join("optimizer.bpk")).map_err(|e| record_error("optimizer", e))?;
        trainer.adam = adam;
        trainer.optim = optim.load_record(record);
        trainer.obs = trainer.env.restore(&state.env)?.obs.remove(0);
        trainer.noise.set_calls(state.progress.noise_calls)?;
        trainer.progress = state.progress;
        Ok(trainer)
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
}

impl CheckpointState {
    /// Writes `dir/state.json` atomically.
    pub fn write(&self, dir: &std::path::Path) -> Result<()> {
        crate::io::write_json(&dir.join("state.json"), self)
    }

    /// Reads `dir/state.json`.
    pub fn read(dir: &std::path::Path) -> Result<CheckpointState> {
        crate::io::read_json(&dir.join("state.json"), "a shoal checkpoint")
    }
}

/// Writes a checkpoint directory atomically: `fill` writes into a temporary sibling directory,
/// which then replaces `dir` (old one aside, new one in by rename, old one removed).
pub(crate) fn write_checkpoint(dir: &std::path::Path, fill: impl FnOnce(&std::path::Path) -> Result<()>) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ShoalError::io(parent, e))?;
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| ShoalError::io(&tmp, e))?;
    fill(&tmp)?;
    let old = dir.with_extension(format!("old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| ShoalError::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| ShoalError::io(dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// What the command-line training loop drives: PPO ([`Trainer`]) or MF-Q ([`super::mfq::MfqTrainer`]).
pub trait Learner {
    /// The run's configuration.
    fn config(&self) -> &TrainConfig;
    /// Where the run stands.
    fn progress(&self) -> &Progress;
    /// One rollout and update.
    fn update(&mut self) -> Result<UpdateMetrics>;
    /// Writes a checkpoint to `dir` atomically.
    fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()>;
    /// Whether every update of the run is done.
    fn finished(&self) -> bool {
        self.progress().update >= self.config().updates()
    }
}

impl Learner for Trainer {
    fn config(&self) -> &TrainConfig {
        Trainer::config(self)
    }
    fn progress(&self) -> &Progress {
        Trainer::progress(self)
    }
    fn update(&mut self) -> Result<UpdateMetrics> {
        Trainer::update(self)
    }
    fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        Trainer::save_checkpoint(self, dir)
    }
}

/// A fresh run of the learner `config` asks for.
pub fn new_learner(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<Box<dyn Learner>> {
    Ok(match config.algo {
        super::config::Algo::Mfq => Box::new(super::mfq::MfqTrainer::new(ctx, config)?),
        _ => Box::new(Trainer::new(ctx, config)?),
    })
}

/// Resumes the run in a checkpoint, whichever learner wrote it.
pub fn resume_learner(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<Box<dyn Learner>> {
    Ok(match CheckpointState::read(dir)?.config.algo {
        super::config::Algo::Mfq => Box::new(super::mfq::MfqTrainer::resume(ctx, dir)?),
        _ => Box::new(Trainer::resume(ctx, dir)?),
    })
}

/// Loads the model of a checkpoint (for evaluation).
pub fn load_model(dir: &std::path::Path, device: &Device) -> Result<(TrainConfig, ActorCritic)> {
    let state = CheckpointState::read(dir)?;
    let model = model_config(&state.config)
        .init(device)
        .try_load_file(dir.join("model.bpk"))
        .map_err(|e| ShoalError::io(dir, std::io::Error::other(format!("model: {e:?}"))))?;
    Ok((state.config, model))
}
