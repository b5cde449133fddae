//! MADDPG and DDPG: deterministic actors trained through critics, on any registered env whose
//! agent groups act discretely (Gumbel-softmax) or continuously.
//!
//! - **MADDPG** (Lowe et al. 2017): each group's critic `Q_i(x, a_1 … a_N)` sees every agent's
//!   observation and action — centralised training — while each actor `μ(o_i)` acts on its own
//!   observation. Agent i's actor follows `∇ Q_i(x, a_1 … μ(o_i) … a_N)`, the other agents'
//!   actions taken from the replay buffer, plus the paper's small penalty `1e-3 · mean(logits²)`.
//! - **DDPG** (Lillicrap et al. 2016): the same with critics `Q_i(o_i, a_i)` — the MADDPG paper's
//!   decentralised baseline.
//! - **Mixed matches**: in a MADDPG run, the groups named in `ddpg_groups` learn as DDPG does —
//!   the paper's MADDPG predators against DDPG prey, and the reverse.
//!
//! Both learn from the device replay buffer: per update, `rollout_steps` steps of every env
//! (actions sampled by Gumbel-max, or squashed with Gaussian exploration), then, once
//! `learning_starts` env steps are stored, `gradient_steps` steps of: every critic towards
//! `r_i + γ (1 − terminated) Q'_i(x', μ'_1(o'_1) … μ'_N(o'_N))` (target actors acting
//! deterministically; a time-limit cut still bootstraps), every actor through its updated critic,
//! then every target network by Polyak averaging at rate `tau` (the paper's 0.01; `tau = 1` copies
//! every `target_update_every` gradient steps). Nothing per step crosses to the host; checkpoints
//! hold all networks, Adam states, the buffer and every stream's position, so runs resume exactly.

use std::sync::Arc;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::actor::actor_action;
use super::critics::{action_rows, critic_input, optimizer, with_own_action, GroupNets};
use super::replay::ReplayBuffer;
use super::targets::polyak_update;
use crate::env::{ActionSpace, Actions, BatchedEnv};
use crate::error::{Result, ShoalError};
use crate::gpu::{GpuContext, SeededInit};
use crate::train::actor_critic::group::GroupReturns;
use crate::train::actor_critic::model::Mlp;
use crate::train::algo::Algo;
use crate::train::profile::{mark, PhaseClock, PhaseTime};
use crate::train::checkpoint::{write_checkpoint, CheckpointState, Learner, Progress, UpdateMetrics};
use crate::train::config::TrainConfig;

/// What a checkpoint records beyond `state.json`'s progress.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Counters {
    gradient_steps: u64,
}

const COUNTERS_FILE: &str = "maddpg.json";

/// The MADDPG paper's penalty on the actor's raw outputs (logits), which keeps them from
/// drifting to where the softmax saturates.
const OUTPUT_PENALTY: f32 = 1e-3;

/// The network files of group `g` in a checkpoint: actor, actor target, critic, critic target,
/// actor Adam, critic Adam.
pub fn group_files(g: usize) -> [String; 6] {
    ["actor", "actor_target", "critic", "critic_target", "actor_optimizer", "critic_optimizer"].map(|what| format!("{what}{g}.bpk"))
}

/// `shoal train --algo maddpg|ddpg`.
pub struct MaddpgTrainer {
    ctx: Arc<GpuContext>,
    config: TrainConfig,
    env: Box<dyn BatchedEnv>,
    groups: Vec<GroupNets>,
    /// Per group: a centralised critic (MADDPG) or its own (DDPG: algo ddpg, or `ddpg_groups`).
    centralised: Vec<bool>,
    buffer: ReplayBuffer,
    obs: Vec<Tensor<3>>,
    returns: Option<GroupReturns>,
    counters: Counters,
    progress: Progress,
    /// Phase times, when `shoal bench --learner --profile` asks for them.
    profile: Option<PhaseClock>,
}

impl MaddpgTrainer {
    /// A fresh run: new networks, an empty buffer, envs reset with the run's seed.
    pub fn new(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<MaddpgTrainer> {
        config.validate()?;
        if !matches!(config.algo, Algo::Maddpg | Algo::Ddpg) {
            return Err(ShoalError::config("algo", config.algo.name(), "MaddpgTrainer runs maddpg and ddpg"));
        }
        let mut env = config.env.build(&ctx, &config.env_params(config.envs, true))?;
        let spec = env.spec().clone();
        if let Some(unknown) = config.ddpg_groups.iter().find(|name| !spec.groups.iter().any(|g| &g.name == *name)) {
            let names: Vec<&str> = spec.groups.iter().map(|g| g.name.as_str()).collect();
            return Err(ShoalError::config("ddpg_groups", unknown, format!("{}'s agent groups are {}", config.env, names.join(", "))));
        }
        let centralised: Vec<bool> = spec.groups.iter().map(|g| config.algo == Algo::Maddpg && !config.ddpg_groups.contains(&g.name)).collect();
        let device: Device = ctx.device().clone().autodiff();
        let groups = {
            let init = SeededInit::new(&device, config.seed);
            (0..spec.groups.len()).map(|g| GroupNets::new(&ctx, &spec, g, centralised[g], &config, &init, &device)).collect::<Result<Vec<_>>>()?
        };
        let names: Vec<[String; 3]> = (0..groups.len()).map(|g| [format!("obs{g}"), format!("action{g}"), format!("next_obs{g}")]).collect();
        let mut fields: Vec<(&str, usize)> = Vec::new();
        for (nets, [obs, action, next]) in groups.iter().zip(&names) {
            let (agents, obs_dim) = (nets.group.agents, nets.group.obs_dim);
            fields.extend([(obs.as_str(), agents * obs_dim), (action.as_str(), agents * nets.action_width()), (next.as_str(), agents * obs_dim)]);
        }
        fields.extend([("reward", spec.agents_per_env()), ("terminated", 1)]);
        let buffer = ReplayBuffer::new(ctx.clone(), config.buffer_size, &fields, config.seed ^ 0x5EB1_A7)?;
        let obs = env.reset(config.seed)?.obs;
        Ok(MaddpgTrainer {
            returns: (groups.len() > 1).then(|| GroupReturns::new(&spec, ctx.device())),
            groups,
            centralised,
            buffer,
            obs,
            env,
            counters: Counters::default(),
            progress: Progress::default(),
            profile: None,
            config,
            ctx,
        })
    }

    /// Continues the run in checkpoint `dir` exactly.
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<MaddpgTrainer> {
        let state = CheckpointState::read(dir)?;
        let mut trainer = MaddpgTrainer::new(ctx.clone(), state.config.clone())?;
        let counters: Counters = crate::io::read_json(&dir.join(COUNTERS_FILE), "a MADDPG counters file")?;
        for (g, nets) in trainer.groups.iter_mut().enumerate() {
            let [actor, actor_target, critic, critic_target, actor_optim, critic_optim] = group_files(g).map(|f| dir.join(f));
            let load = crate::train::store::load_module::<Mlp>;
            nets.actor = load(nets.actor.clone(), &actor)?;
            nets.actor_target = load(nets.actor_target.clone(), &actor_target)?;
            nets.critic = load(nets.critic.clone(), &critic)?;
            nets.critic_target = load(nets.critic_target.clone(), &critic_target)?;
            nets.actor_optim = optimizer(&ctx, &trainer.config).load_record(crate::train::store::load_optimizer_record(&actor_optim)?);
            nets.critic_optim = optimizer(&ctx, &trainer.config).load_record(crate::train::store::load_optimizer_record(&critic_optim)?);
            nets.rollout_noise.set_calls(state.progress.noise_calls)?;
            if let Some(noise) = &mut nets.update_noise {
                noise.set_calls(counters.gradient_steps as u32)?;
            }
        }
        if let Some(returns) = &mut trainer.returns {
            let envs = trainer.config.envs;
            ShoalError::ensure_len("checkpoint group returns", state.group_running.len(), &[returns.running.len(), envs])?;
            returns.running = state.group_running.chunks(envs).map(|r| ctx.upload_f32(r, [envs])).collect::<Result<_>>()?;
        }
        trainer.buffer = ReplayBuffer::load(ctx, dir, trainer.config.seed ^ 0x5EB1_A7)?;
        trainer.counters = counters;
        trainer.obs = trainer.env.restore(&state.env)?.obs;
        trainer.progress = state.progress;
        Ok(trainer)
    }

    /// Group `g`'s networks: actor, actor target, critic, critic target.
    pub fn networks(&self, g: usize) -> [&Mlp; 4] {
        let nets = &self.groups[g];
        [&nets.actor, &nets.actor_target, &nets.critic, &nets.critic_target]
    }

    /// Acts for `rollout_steps` steps, storing every joint transition.
    fn collect(&mut self) -> Result<()> {
        let envs = self.config.envs;
        let actors: Vec<_> = self.groups.iter().map(|n| n.actor.valid()).collect();
        let flat = |t: Tensor<3>| {
            let [rows, agents, width] = t.dims();
            t.reshape([rows, agents * width])
        };
        for _ in 0..self.config.rollout_steps {
            let mut env_actions = Vec::with_capacity(self.groups.len());
            let mut stored = Vec::with_capacity(self.groups.len());
            for (nets, actor) in self.groups.iter_mut().zip(&actors) {
                let agents = nets.group.agents;
                let output = nets.actor_output(actor, self.obs[env_actions.len()].clone());
                let action = actor_action(output, &nets.group.action, Some(nets.rollout_noise.sample()?), self.config.action_noise);
                env_actions.push(match nets.group.action {
                    ActionSpace::Discrete { .. } => Actions::Discrete(action.clone().argmax(1).reshape([envs, agents])),
                    ActionSpace::Continuous { dim, .. } => Actions::Continuous(action.clone().reshape([envs, agents, dim])),
                });
                stored.push(action.reshape([envs, agents * nets.action_width()]));
            }
            self.progress.noise_calls += 1;
            mark(&mut self.profile, "acting: actors + exploration")?;
            let step = self.env.step(&env_actions)?;
            mark(&mut self.profile, "acting: env step")?;
            let Some(next) = &step.terminal_obs else {
                return Err(ShoalError::Internal("the env gave no terminal observations".into()));
            };
            let terminated = (step.done.clone() - step.truncated.clone()).clamp_min(0.0).reshape([envs, 1]);
            let mut rows = Vec::with_capacity(3 * self.groups.len() + 2);
            for (g, action) in stored.into_iter().enumerate() {
                rows.extend([flat(self.obs[g].clone()), action, flat(next[g].clone())]);
            }
            rows.extend([step.reward.clone(), terminated]);
            self.buffer.push(&rows)?;
            if let Some(returns) = &mut self.returns {
                returns.book(&step.reward, &step.done);
            }
            self.obs = step.obs;
            mark(&mut self.profile, "acting: replay push, returns")?;
        }
        Ok(())
    }

    /// One gradient step of every critic and actor on a sampled batch, then the target updates.
    /// Returns the critics' and actors' losses summed over groups (`[1]` each, on the device).
    fn learn(&mut self, lr: f64) -> Result<(Tensor<1>, Tensor<1>)> {
        let (batch, gamma) = (self.config.batch_size, self.config.gamma);
        let mut fields = self.buffer.sample(batch)?.into_iter();
        let mut field = || fields.next().expect("the buffer's fields");
        let (mut obs, mut taken, mut next_obs) = (Vec::new(), Vec::new(), Vec::new());
        for nets in &self.groups {
            let (agents, dim, width) = (nets.group.agents, nets.group.obs_dim, nets.action_width());
            obs.push(field().reshape([batch, agents, dim]));
            taken.push(field().reshape([batch, agents, width]));
            next_obs.push(field().reshape([batch, agents, dim]));
        }
        let (reward, terminated) = (field(), field());
        let continues = terminated.neg().add_scalar(1.0);
        // The target actors' deterministic actions in the next states, shared by every critic.
        let next_actions: Vec<Tensor<3>> = self
            .groups
            .iter()
            .zip(&next_obs)
            .map(|(nets, o)| {
                let output = nets.actor_output(&nets.actor_target, o.clone());
                actor_action(output, &nets.group.action, None, 0.0).reshape([batch, nets.group.agents, nets.action_width()])
            })
            .collect();
        let device = self.ctx.device();
        let (mut critic_losses, mut actor_losses) = (Tensor::<1>::zeros([1], device), Tensor::<1>::zeros([1], device));
        for g in 0..self.groups.len() {
            let centralised = self.centralised[g];
            let nets = &self.groups[g];
            let agents = nets.group.agents;
            let rows = batch * agents;
            // Critic: mean squared TD error against the target networks.
            let future = nets.critic_target.forward(critic_input(nets, &next_obs, g, action_rows(&next_actions, g, centralised), centralised)).reshape([rows]);
            let own_reward = reward.clone().slice([0..batch, nets.reward_offset..nets.reward_offset + agents]).reshape([rows]);
            let target = (own_reward + future * continues.clone().expand([batch, agents]).reshape([rows]) * gamma).detach();
            let q = nets.critic.forward(critic_input(nets, &obs, g, action_rows(&taken, g, centralised), centralised)).reshape([rows]);
            let critic_loss = (q - target).powi_scalar(2).mean();
            let grads = GradientsParams::from_grads(critic_loss.backward(), &nets.critic);
            let nets = &mut self.groups[g];
            nets.critic = nets.critic_optim.step(lr, nets.critic.clone(), grads);
            // Actor: up the updated critic's gradient in its own action.
            let output = nets.actor_output(&nets.actor, obs[g].clone());
            let noise = match &mut nets.update_noise {
                Some(stream) => Some(stream.sample()?),
                None => None,
            };
            let own = actor_action(output.clone(), &nets.group.action, noise, 0.0).reshape([batch, agents, nets.action_width()]);
            let mut rows_seen = action_rows(&taken, g, centralised);
            rows_seen[g] = if centralised { with_own_action(&taken[g], own) } else { own };
            let value = nets.critic.forward(critic_input(nets, &obs, g, rows_seen, centralised));
            let actor_loss = value.mean().neg() + output.powi_scalar(2).mean() * OUTPUT_PENALTY;
            let grads = GradientsParams::from_grads(actor_loss.backward(), &nets.actor);
            nets.actor = nets.actor_optim.step(lr * self.config.actor_lr_scale, nets.actor.clone(), grads);
            critic_losses = critic_losses + critic_loss.without_autodiff().detach();
            actor_losses = actor_losses + actor_loss.without_autodiff().detach();
        }
        self.counters.gradient_steps += 1;
        let tau = self.config.tau;
        if tau < 1.0 || self.counters.gradient_steps % self.config.target_update_every as u64 == 0 {
            for nets in &mut self.groups {
                nets.actor_target = polyak_update(nets.actor_target.clone(), &nets.actor, tau);
                nets.critic_target = polyak_update(nets.critic_target.clone(), &nets.critic, tau);
            }
        }
        Ok((critic_losses, actor_losses))
    }
}

impl Learner for MaddpgTrainer {
    fn config(&self) -> &TrainConfig {
        &self.config
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn group_names(&self) -> Vec<String> {
        if self.groups.len() > 1 { self.groups.iter().map(|n| n.group.name.clone()).collect() } else { Vec::new() }
    }

    fn enable_profile(&mut self) -> Result<bool> {
        self.profile = Some(PhaseClock::new(self.ctx.clone())?);
        Ok(true)
    }

    fn profile(&self) -> &[PhaseTime] {
        self.profile.as_ref().map(|p| p.phases()).unwrap_or(&[])
    }

    fn update(&mut self) -> Result<UpdateMetrics> {
        let started = std::time::Instant::now();
        self.collect()?;
        let lr = self.config.lr_at(self.progress.update);
        let stored = self.progress.env_steps + self.config.steps_per_update();
        let mut losses = None;
        if stored >= self.config.learning_starts {
            for _ in 0..self.config.gradient_steps {
                losses = Some(self.learn(lr)?);
                mark(&mut self.profile, "learning: sample, critics, actors, targets")?;
            }
        }
        // The update's only reads: the last losses, the groups' returns, the episode statistics.
        let mut scalars = Vec::new();
        if let Some((critic, actor)) = losses.clone() {
            scalars.extend([critic, actor]);
        }
        if let Some(returns) = &mut self.returns {
            scalars.extend(returns.take_completed());
        }
        let values = if scalars.is_empty() { Vec::new() } else { self.ctx.read_f32(Tensor::cat(scalars, 0))? };
        let (critic_loss, actor_loss, returns_at) = match losses {
            Some(_) => (values[0] as f64, values[1] as f64, 2),
            None => (f64::NAN, f64::NAN, 0),
        };
        let episodes = self.env.episode_stats()?;
        self.env.clear_episode_stats()?;
        mark(&mut self.profile, "host reads (losses, episode statistics)")?;
        let group_returns = match self.returns {
            Some(_) => self.groups.iter().enumerate().map(|(g, n)| (n.group.name.clone(), values[returns_at + g] as f64 / episodes.episodes)).collect(),
            None => Vec::new(),
        };
        let seconds = started.elapsed().as_secs_f64();
        let steps = self.config.steps_per_update();
        let metrics = self.progress.finish_update(steps, seconds, &episodes, lr);
        Ok(UpdateMetrics { total_loss: critic_loss + actor_loss, policy_loss: actor_loss, value_loss: critic_loss, group_returns, ..metrics })
    }

    fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        write_checkpoint(dir, |tmp| {
            let record_error = |what: &str, e: burn::store::RecordError| ShoalError::io(tmp, std::io::Error::other(format!("{what}: {e:?}")));
            for (g, nets) in self.groups.iter().enumerate() {
                let [actor, actor_target, critic, critic_target, actor_optim, critic_optim] = group_files(g).map(|f| tmp.join(f));
                nets.actor.clone().save_file(actor).map_err(|e| record_error("actor", e))?;
                nets.actor_target.clone().save_file(actor_target).map_err(|e| record_error("actor target", e))?;
                nets.critic.clone().save_file(critic).map_err(|e| record_error("critic", e))?;
                nets.critic_target.clone().save_file(critic_target).map_err(|e| record_error("critic target", e))?;
                nets.actor_optim.to_record().save(actor_optim).map_err(|e| record_error("actor optimizer", e))?;
                nets.critic_optim.to_record().save(critic_optim).map_err(|e| record_error("critic optimizer", e))?;
            }
            self.buffer.save(tmp)?;
            crate::io::write_json(&tmp.join(COUNTERS_FILE), &self.counters)?;
            let group_running = match &self.returns {
                Some(returns) => self.ctx.read_f32(Tensor::cat(returns.running.clone(), 0))?,
                None => Vec::new(),
            };
            CheckpointState { config: self.config.clone(), progress: self.progress.clone(), env: self.env.snapshot()?, group_running }.write(tmp)
        })
    }
}
