//! The PPO training loop (IPPO / MAPPO) with rollouts, advantages and updates on the device.
//!
//! Per update: `rollout_steps` env steps with the current policy (actions sampled on the device
//! from device-side uniform noise), GAE with time-limit bootstrapping, then `update_epochs` ×
//! `num_minibatches` Adam steps on the clipped PPO objective with global gradient-norm clipping
//! and a linearly annealed learning rate. The host reads back a handful of scalars per update
//! (losses, episode statistics) and uploads one minibatch permutation per epoch; no per-step data
//! crosses. Checkpoints hold the model, Adam's state, the envs' device state and the noise
//! counters, so a resumed run continues exactly.
//!
//! An env with several agent groups (mpe2's adversaries and good agents) gets one
//! [`GroupLearner`] per group — its own networks, critic and optimizer, trained on its agents'
//! rewards — all acting in the same env steps; the update's metrics then carry each group's
//! mean episode return, tracked on the device.

use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::eval::to_env_actions;
use super::group::{GroupLearner, GroupReturns, GroupRollout};
use super::model::ActorCritic;
use super::profile::{PhaseClock, PhaseTime};
use crate::env::BatchedEnv;
use crate::error::{Result, ShoalError};
use crate::gpu::{GpuContext, SeededInit};
use crate::train::checkpoint::{write_checkpoint, CheckpointState, Learner, Progress, UpdateMetrics};
use crate::train::config::TrainConfig;

/// A PPO learner attached to a batch of any registered env.
pub struct Trainer {
    ctx: Arc<GpuContext>,
    config: TrainConfig,
    env: Box<dyn BatchedEnv>,
    /// One learner per agent group of the env.
    groups: Vec<GroupLearner>,
    /// Phase timings (`shoal bench --learner --profile`); `None` in normal runs.
    profile: Option<PhaseClock>,
    /// Current observations of every group, `[envs, agents, obs_dim]` each.
    obs: Vec<Tensor<3>>,
    /// Envs with several groups: each group's return of the running episodes `[envs]`, and the
    /// returns of the episodes completed during the update, summed per env `[envs]`.
    group_returns: Option<GroupReturns>,
    progress: Progress,
}


impl Trainer {
    /// A fresh run: new model, envs reset with the run's seed.
    pub fn new(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<Trainer> {
        config.validate()?;
        let mut env = config.env.build(&ctx, &config.env_params(config.envs, true))?;
        let layout = env.obs_layout();
        if !config.shared_params && !layout.distinct_agents {
            return Err(ShoalError::config("shared_params", false, format!("{}'s agents are interchangeable: they share one network (shared_params = true)", config.env)));
        }
        let device: Device = ctx.device().clone().autodiff();
        // Model initialisation draws from burn's process-wide generator: hold it, seeded.
        let groups = {
            let init = SeededInit::new(&device, config.seed);
            (0..env.spec().groups.len()).map(|g| GroupLearner::new(&ctx, &config, env.as_ref(), g, &init, &device)).collect::<Result<Vec<_>>>()?
        };
        for group in &groups {
            check_device_limits(&ctx, &config, &group.shape)?;
        }
        let group_returns = (groups.len() > 1).then(|| GroupReturns::new(env.spec(), ctx.device()));
        let obs = env.reset(config.seed)?.obs;
        Ok(Trainer { groups, group_returns, profile: None, env, obs, config, ctx, progress: Progress::default() })
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Where the run stands.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The current model (the first group's).
    pub fn model(&self) -> &ActorCritic {
        &self.groups[0].model
    }

    /// The names of the env's agent groups, in order.
    pub fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.name.clone()).collect()
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

    /// One rollout and one PPO update per group. Returns the update's metrics (a few scalars
    /// read back).
    pub fn update(&mut self) -> Result<UpdateMetrics> {
        let started = std::time::Instant::now();
        let envs = self.config.envs;
        let gamma = self.config.gamma;
        // The rollout needs no gradients: act with the parameters off the autodiff graph.
        let policies: Vec<ActorCritic> = self.groups.iter().map(|g| g.model.valid()).collect();
        for (group, policy) in self.groups.iter_mut().zip(&policies) {
            if let Some(fused) = &mut group.rollout_policy {
                fused.load(policy)?;
            }
        }
        self.mark("rollout: pack parameters")?;

        let mut rollouts: Vec<GroupRollout> = self.groups.iter().map(|_| GroupRollout::default()).collect();
        for _ in 0..self.config.rollout_steps {
            let mut actions = Vec::with_capacity(self.groups.len());
            for ((group, policy), rollout) in self.groups.iter_mut().zip(&policies).zip(&mut rollouts) {
                let action = group.act(policy, &self.obs, rollout)?;
                // Our Gaussian lives on ℝ; the env clips to its box, as PettingZoo does.
                actions.push(to_env_actions(action, envs, group.agents));
            }
            self.progress.noise_calls += 1;
            self.mark("rollout: inputs, noise, policy")?;
            // Only a step that can end episodes needs the critic on the terminal observations.
            let may_end = self.env.episodes_may_end_next_step();
            let step = self.env.step(&actions)?;
            for ((group, policy), rollout) in self.groups.iter().zip(&policies).zip(&mut rollouts) {
                group.observe(policy, &step, may_end, gamma, envs, rollout);
            }
            if let Some(returns) = &mut self.group_returns {
                returns.book(&step.reward, &step.done);
            }
            if step.obs.len() != self.groups.len() {
                return Err(ShoalError::Internal("env returned no observation".into()));
            }
            self.obs = step.obs;
            self.mark("rollout: env step, bootstrap")?;
        }
        let lr = self.config.lr_at(self.progress.update);
        let (update, ctx, config) = (self.progress.update, self.ctx.clone(), self.config.clone());
        let mut terms = Vec::with_capacity(self.groups.len());
        let mut profile = self.profile.take();
        let mut mark = |phase: &'static str| profile.as_mut().map_or(Ok(()), |clock| clock.mark(phase));
        for ((group, policy), rollout) in self.groups.iter_mut().zip(&policies).zip(rollouts) {
            let last_value = group.value(policy, &self.obs);
            terms.push(group.update(&ctx, rollout, last_value, &config, (update, lr), &mut mark)?);
        }
        self.profile = profile;

        // The update's only reads: five loss terms per group in one transfer (reported as their
        // mean over groups), the per-group returns, and the episode statistics.
        let mut scalars: Vec<Tensor<1>> = terms
            .into_iter()
            .flat_map(|t| [t.total, t.policy, t.value, t.entropy, t.approx_kl])
            .map(|t| t.without_autodiff().detach())
            .collect();
        let groups = self.groups.len();
        if let Some(returns) = &mut self.group_returns {
            scalars.extend(returns.take_completed());
        }
        let values = self.ctx.read_f32(Tensor::cat(scalars, 0))?;
        let loss = |k: usize| (0..groups).map(|g| values[5 * g + k] as f64).sum::<f64>() / groups as f64;
        let episodes = self.env.episode_stats()?;
        self.env.clear_episode_stats()?;
        self.mark("host reads (losses, episode statistics)")?;
        let group_returns = match self.group_returns {
            Some(_) => self.groups.iter().enumerate().map(|(g, group)| (group.name.clone(), values[5 * groups + g] as f64 / episodes.episodes)).collect(),
            None => Vec::new(),
        };
        let seconds = started.elapsed().as_secs_f64();
        self.progress.advance(self.config.steps_per_update(), seconds);
        Ok(UpdateMetrics {
            update: self.progress.update,
            env_steps: self.progress.env_steps,
            wall_seconds: self.progress.wall_seconds,
            mean_episode_return: episodes.mean_return,
            episodes: episodes.episodes,
            total_loss: loss(0),
            policy_loss: loss(1),
            value_loss: loss(2),
            entropy: loss(3),
            approx_kl: loss(4),
            env_steps_per_s: self.config.steps_per_update() as f64 / seconds,
            lr,
            group_returns,
        })
    }

    /// Writes a checkpoint to `dir` atomically: everything goes to a temporary sibling directory
    /// that then replaces `dir` by rename.
    pub fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        let group_running = match &self.group_returns {
            Some(returns) => self.ctx.read_f32(Tensor::cat(returns.running.clone(), 0))?,
            None => Vec::new(),
        };
        write_checkpoint(dir, |tmp| {
            let record_error = |what: &str, e: burn::store::RecordError| ShoalError::io(tmp, std::io::Error::other(format!("{what}: {e:?}")));
            for group in &self.groups {
                let (model, optimizer) = group.file_names();
                group.model.clone().save_file(tmp.join(model)).map_err(|e| record_error("model", e))?;
                group.optim.to_record().save(tmp.join(optimizer)).map_err(|e| record_error("optimizer", e))?;
            }
            CheckpointState { config: self.config.clone(), progress: self.progress.clone(), env: self.env.snapshot()?, group_running }.write(tmp)
        })
    }

    /// Resumes a run from a checkpoint written by [`Trainer::save_checkpoint`].
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<Trainer> {
        let state = CheckpointState::read(dir)?;
        let mut trainer = Trainer::new(ctx, state.config.clone())?;
        for group in &mut trainer.groups {
            let (model, optimizer) = group.file_names();
            group.model = crate::train::store::load_module(group.model.clone(), &dir.join(model))?;
            // Loading restores the saved parameter ids (Adam's state is keyed by them).
            group.reset_optimizer(&trainer.ctx, &trainer.config);
            let record = crate::train::store::load_optimizer_record(&dir.join(optimizer))?;
            group.optim = group.optim.clone().load_record(record);
            group.noise.set_calls(state.progress.noise_calls)?;
        }
        if let Some(returns) = &mut trainer.group_returns {
            let envs = trainer.config.envs;
            ShoalError::ensure_len("checkpoint group returns", state.group_running.len(), &[returns.running.len(), envs])?;
            returns.running = state.group_running.chunks(envs).map(|r| trainer.ctx.upload_f32(r, [envs])).collect::<Result<_>>()?;
        }
        trainer.obs = trainer.env.restore(&state.env)?.obs;
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
    fn group_names(&self) -> Vec<String> {
        if self.groups.len() > 1 { Trainer::group_names(self) } else { Vec::new() }
    }
    fn enable_profile(&mut self) -> Result<bool> {
        Trainer::enable_profile(self)?;
        Ok(true)
    }
    fn profile(&self) -> &[super::profile::PhaseTime] {
        Trainer::profile(self)
    }
}

/// Refuses a run whose largest buffers would exceed the adapter's per-buffer limit — before any
/// is allocated, where the runtime would otherwise fail on its own thread — naming the key to
/// lower.
fn check_device_limits(ctx: &GpuContext, config: &TrainConfig, shape: &super::model::ActorCriticConfig) -> Result<()> {
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
