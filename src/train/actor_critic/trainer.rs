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
use burn::tensor::{Device, Tensor};

use super::adam::{FusedAdam, FusedAdamConfig};
use crate::train::checkpoint::{write_checkpoint, CheckpointState, Learner, Progress, UpdateMetrics};
use crate::train::config::TrainConfig;
use super::eval::to_env_actions;
use super::gae::truncation_bootstrap;
use super::rollout::{Minibatches, Rollout};
use super::inputs::{model_config, Inputs};
use super::model::{Action, ActorCritic, ActorCriticConfig};
use super::ppo::{normalize, ppo_loss, PpoCoefficients};
use super::noise::PolicyNoise;
use super::policy_kernel::RolloutPolicy;
use super::profile::{PhaseClock, PhaseTime};
use crate::env::BatchedEnv;
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// A PPO learner attached to a batch of any registered env.
pub struct Trainer {
    ctx: Arc<GpuContext>,
    config: TrainConfig,
    env: Box<dyn BatchedEnv>,
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
        let mut env = config.env.build(&ctx, &config.env_params(config.envs, true))?;
        let group = env.spec().groups[0].clone();
        let layout = env.obs_layout();
        if !config.shared_params && !layout.distinct_agents {
            return Err(ShoalError::config("shared_params", false, format!("{}'s agents are interchangeable: they share one network (shared_params = true)", config.env)));
        }
        let device: Device = ctx.device().clone().autodiff();
        // Model initialisation draws from burn's generator: seed it for reproducible runs.
        device.seed(config.seed);
        let model_shape = model_config(&config, env.spec(), layout);
        check_device_limits(&ctx, &config, &model_shape)?;
        let model = model_shape.init(&device);
        let rollout_policy = if config.fused_rollout {
            RolloutPolicy::new(ctx.clone(), &model_shape, config.envs * config.agents)
        } else {
            None
        };
        let noise = PolicyNoise::new(ctx.clone(), &group.action, config.agents, config.envs, config.seed ^ 0x5EED_0F_AC71)?;
        let (adam, optim) = Self::optimizer(&ctx, &config, &model);
        let obs = env.reset(config.seed)?.obs.remove(0);
        Ok(Trainer {
            inputs: Inputs::new(env.as_ref(), config.algo, ctx.device()),
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

        // The rollout's inputs and actions, beside the per-step terms every PPO learner keeps.
        let (mut actor_x, mut critic_x, mut actions) = (vec![], vec![], vec![]);
        let mut rollout = Rollout::default();
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
            let may_end = self.env.episodes_may_end_next_step();
            // Our Gaussian lives on ℝ; the env clips to its box, as PettingZoo does.
            let step = self.env.step(&[to_env_actions(action.clone(), envs, agents)])?;
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
            rollout.push(log_prob, value, reward, per_agent(step.done));
            self.obs = step.obs.into_iter().next().ok_or_else(|| ShoalError::Internal("env returned no observation".into()))?;
            self.mark("rollout: env step, bootstrap")?;
        }
        let last_value = policy.value(self.critic_input(self.obs.clone())).without_autodiff();
        let batch = rollout.finish(&self.ctx, last_value, gamma, self.config.gae_lambda)?;
        let (actor_x, critic_x, actions) = (Tensor::cat(actor_x, 0), Tensor::cat(critic_x, 0), Action::cat(actions));

        self.mark("advantages (GAE), batch assembly")?;
        let coefficients = PpoCoefficients {
            clip_eps: self.config.clip_eps,
            vf_coef: self.config.vf_coef,
            ent_coef: self.config.ent_coef,
            clip_value: self.config.clip_value,
        };
        let lr = self.lr();
        let minibatches = Minibatches {
            epochs: self.config.update_epochs,
            minibatches: self.config.num_minibatches,
            rows: steps * envs,
            row_width: agents,
            seed: self.config.seed,
            update: self.progress.update,
        };
        let mut last_terms = None;
        let ctx = self.ctx.clone();
        minibatches.run(&ctx, |minibatch, idx| {
            if minibatch == 0 {
                self.mark("update: minibatch order (upload)")?;
            }
            let mb_actions = actions.select(idx.clone());
            let mb_actor_x = actor_x.clone().select(0, idx.clone());
            let mb_critic_x = critic_x.clone().select(0, idx.clone());
            self.mark("update: minibatch gathers")?;
            let (log_prob, entropy) = self.model.evaluate(mb_actor_x, &mb_actions);
            let value = self.model.value(mb_critic_x);
            let loss = ppo_loss(
                log_prob,
                batch.old_log_probs.clone().select(0, idx.clone()),
                normalize(batch.advantages.clone().select(0, idx.clone())),
                value,
                batch.old_values.clone().select(0, idx.clone()),
                batch.returns.clone().select(0, idx),
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
            Ok(())
        })?;

        // The update's only reads: five loss terms in one transfer, and the episode statistics.
        let terms = last_terms.ok_or_else(|| ShoalError::Internal("no minibatch ran".into()))?;
        let scalars = self.ctx.read_f32(Tensor::cat(
            vec![terms.total, terms.policy, terms.value, terms.entropy, terms.approx_kl]
                .into_iter()
                .map(|t| t.without_autodiff().detach())
                .collect(),
            0,
        ))?;
        let episodes = self.env.episode_stats()?;
        self.env.clear_episode_stats()?;
        self.mark("host reads (losses, episode statistics)")?;
        let seconds = started.elapsed().as_secs_f64();
        self.progress.advance(self.config.steps_per_update(), seconds);
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
        trainer.model = crate::train::store::load_module(trainer.model.clone(), &dir.join("model.bpk"))?;
        // Loading restores the saved parameter ids (Adam's state is keyed by them): re-list them.
        let (adam, optim) = Self::optimizer(&trainer.ctx, &trainer.config, &trainer.model);
        let record = crate::train::store::load_optimizer_record(&dir.join("optimizer.bpk"))?;
        trainer.adam = adam;
        trainer.optim = optim.load_record(record);
        trainer.obs = trainer.env.restore(&state.env)?.obs.remove(0);
        trainer.noise.set_calls(state.progress.noise_calls)?;
        trainer.progress = state.progress;
        Ok(trainer)
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

/// Refuses a run whose largest buffers would exceed the adapter's per-buffer limit — before any
/// is allocated, where the runtime would otherwise fail on its own thread — naming the key to
/// lower.
fn check_device_limits(ctx: &GpuContext, config: &TrainConfig, shape: &ActorCriticConfig) -> Result<()> {
    let limit = ctx.max_storage_bytes();
    // Validated products: envs × rollout_steps × agents < 2³².
    let samples = (config.envs * config.rollout_steps * shape.agents) as u64;
    let networks = if config.shared_params { 1 } else { shape.agents as u64 };
    let widest_input = shape.actor_input().max(shape.critic_input()).max(config.hidden) as u64;
    let buffers = [
        ("hidden", config.hidden as u64, "a layer's weights (networks × hidden × widest input)", networks * config.hidden as u64 * widest_input * 4),
        ("rollout_steps", config.rollout_steps as u64, "the rollout's critic inputs (envs × rollout_steps × agents × critic input)", samples * shape.critic_input() as u64 * 4),
        ("rollout_steps", config.rollout_steps as u64, "the rollout's hidden activations (envs × rollout_steps × agents × hidden)", samples * config.hidden as u64 * 4),
    ];
    for (key, value, what, bytes) in buffers {
        if bytes > limit {
            return Err(ShoalError::config(key, value, format!("{what} would take {bytes} bytes; this adapter allows {limit} per buffer: lower `{key}` (or `envs`)")));
        }
    }
    Ok(())
}
