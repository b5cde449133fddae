//! IQL and VDN: independent deep Q-learners, and their value-decomposition counterpart, on any
//! registered env with one group of discrete-action agents.
//!
//! - **IQL** (Tan 1993; Tampuu et al. 2017 with DQN): each agent learns `Q(o_i, a_i)` from its own
//!   reward as if the others were part of the environment. One network shared by the agents
//!   (with a one-hot agent id, as IPPO's actor), a target network, ε-greedy exploration decaying
//!   linearly, double-Q targets and the Huber loss.
//! - **VDN** (Sunehag et al. 2018): the team's value is the sum of the agents' values,
//!   `Q_tot = Σ_i Q(o_i, a_i)`, trained on the team reward `Σ_i r_i` — the simplest
//!   centralised-training, decentralised-execution value learner; each agent still acts greedily
//!   on its own `Q`.
//! - **Neural MF-Q** (Yang et al. 2018, on envs whose observation carries the mean action ā, i.e.
//!   Battle): IQL's learner on `Q(o_i, ā_i, a_i)`, ā being the team's mean action of the previous
//!   step (which is what mlii/mfrl feeds its MFQ network). As in mfrl's code, the target is the
//!   double-Q one at the next state's ā and acting is ε-greedy (the paper writes the target as
//!   the Boltzmann expectation Σ_a' π(a'|s', ā') Q(s', a', ā'); its released code takes the max).
//!   IQL on the same env is the paper's IL: the same network without ā.
//!
//! Per update: `rollout_steps` steps of every env acting ε-greedily, each step's joint
//! transitions written to the device replay buffer; then, once `learning_starts` env steps are
//! stored, `gradient_steps` Adam steps on `batch_size` sampled transitions, the target network
//! following the online one (a hard copy every `target_update_every` gradient steps, or Polyak
//! averaging at rate `tau` < 1). Nothing per step crosses to the host; checkpoints hold both
//! networks, Adam, the buffer, the envs and every stream's position, so a resumed run continues
//! exactly.

use std::sync::Arc;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::q_policy::{discrete_actions, greedy_actions, q_network_config, q_values, Explorer, QInput};
use super::replay::ReplayBuffer;
use super::targets::{double_q_targets, huber_loss, polyak_update};
use crate::env::{Actions, BatchedEnv};
use crate::error::{Result, ShoalError};
use crate::gpu::{GpuContext, SeededInit};
use crate::train::profile::{mark, PhaseClock, PhaseTime};
use crate::train::actor_critic::model::Mlp;
use crate::train::algo::Algo;
use crate::train::checkpoint::{write_checkpoint, CheckpointState, Learner, Progress, UpdateMetrics};
use crate::train::config::TrainConfig;

/// Files of an IQL/VDN checkpoint beside `state.json` and the buffer's.
const Q_FILE: &str = "q.bpk";
const TARGET_FILE: &str = "q_target.bpk";
const OPTIMIZER_FILE: &str = "optimizer.bpk";
const COUNTERS_FILE: &str = "q_learning.json";

/// What a checkpoint records beyond `state.json`'s progress.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Counters {
    gradient_steps: u64,
}

/// `shoal train --algo iql|vdn`.
pub struct IqlTrainer {
    ctx: Arc<GpuContext>,
    config: TrainConfig,
    env: Box<dyn BatchedEnv>,
    /// The online network (autodiff) and its target (no autodiff).
    q: Mlp,
    target: Mlp,
    optim: ModuleOptimizer,
    input: QInput,
    explorer: Explorer,
    buffer: ReplayBuffer,
    obs: Tensor<3>,
    counters: Counters,
    progress: Progress,
    /// Phase times, when `shoal bench --learner --profile` asks for them.
    profile: Option<PhaseClock>,
}

impl IqlTrainer {
    /// A fresh run: new networks, an empty buffer, envs reset with the run's seed.
    pub fn new(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<IqlTrainer> {
        config.validate()?;
        let algo = config.algo.name();
        if !matches!(config.algo, Algo::Iql | Algo::Vdn | Algo::Mfq) || config.tabular_mfq() {
            return Err(ShoalError::config("algo", algo, "IqlTrainer runs iql, vdn and neural mfq"));
        }
        let mut env = config.env.build(&ctx, &config.env_params(config.envs, true))?;
        let spec = env.spec().clone();
        if spec.groups.len() != 1 {
            return Err(ShoalError::config("env", config.env.name(), format!("{algo} trains envs with one agent group so far ({} has {})", config.env, spec.groups.len())));
        }
        let group = &spec.groups[0];
        let actions = discrete_actions(group, algo)?;
        let input = QInput::new(env.obs_layout(), group, config.algo, ctx.device())?;
        let device: Device = ctx.device().clone().autodiff();
        let q = {
            let init = SeededInit::new(&device, config.seed);
            init.draw(q_network_config(&input, actions, config.hidden, config.layers).init(&device))
        };
        let target = q.valid();
        let width = group.agents * group.obs_dim;
        let fields = [("obs", width), ("action", group.agents), ("reward", group.agents), ("next_obs", width), ("terminated", 1)];
        let buffer = ReplayBuffer::new(ctx.clone(), config.buffer_size, &fields, config.seed ^ 0x5EB1_A7)?;
        let explorer = Explorer::new(&ctx, group, config.envs, config.seed)?;
        let obs = env.reset(config.seed)?.obs.remove(0);
        Ok(IqlTrainer {
            input,
            optim: optimizer(&ctx, &config),
            q,
            target,
            explorer,
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
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<IqlTrainer> {
        let state = CheckpointState::read(dir)?;
        let mut trainer = IqlTrainer::new(ctx.clone(), state.config.clone())?;
        trainer.q = crate::train::store::load_module(trainer.q.clone(), &dir.join(Q_FILE))?;
        trainer.target = crate::train::store::load_module(trainer.target.clone(), &dir.join(TARGET_FILE))?;
        let record = crate::train::store::load_optimizer_record(&dir.join(OPTIMIZER_FILE))?;
        trainer.optim = optimizer(&trainer.ctx, &trainer.config).load_record(record);
        trainer.buffer = ReplayBuffer::load(ctx, dir, trainer.config.seed ^ 0x5EB1_A7)?;
        trainer.explorer.set_calls(state.progress.noise_calls)?;
        trainer.counters = crate::io::read_json(&dir.join(COUNTERS_FILE), "an IQL counters file")?;
        trainer.obs = trainer.env.restore(&state.env)?.obs.remove(0);
        trainer.progress = state.progress;
        Ok(trainer)
    }

    /// The online Q-network.
    pub fn q_network(&self) -> &Mlp {
        &self.q
    }

    /// The exploration rate after `env_steps` env steps: linear from `eps_start` to `eps_end`
    /// over the first `eps_decay_fraction` of the run, then constant.
    pub fn epsilon(&self, env_steps: u64) -> f32 {
        let c = &self.config;
        let decay_steps = (c.eps_decay_fraction as f64 * c.total_env_steps as f64).max(1.0);
        let frac = (env_steps as f64 / decay_steps).min(1.0) as f32;
        c.eps_start + (c.eps_end - c.eps_start) * frac
    }

    /// Acts for `rollout_steps` steps, storing every joint transition.
    fn collect(&mut self) -> Result<()> {
        let (envs, epsilon) = (self.config.envs, self.epsilon(self.progress.env_steps));
        let policy = self.q.valid();
        for _ in 0..self.config.rollout_steps {
            let [_, agents, dim] = self.obs.dims();
            let greedy = greedy_actions(&policy, &self.input, self.obs.clone());
            let actions = self.explorer.epsilon_greedy(greedy, epsilon);
            self.progress.noise_calls += 1;
            mark(&mut self.profile, "acting: Q-network + exploration")?;
            let step = self.env.step(&[Actions::Discrete(actions.clone())])?;
            mark(&mut self.profile, "acting: env step")?;
            let (next, terminated) = match &step.terminal_obs {
                // Truncation (the time limit) still bootstraps; only a termination ends the value.
                Some(terminal) => (terminal[0].clone(), (step.done.clone() - step.truncated.clone()).clamp_min(0.0)),
                // Envs that do not report an episode's last observation (battle): its last step
                // ends the value, as mlii/mfrl's replay buffer ends it.
                None => (step.obs[0].clone(), step.done.clone()),
            };
            let terminated = terminated.reshape([envs, 1]);
            self.buffer.push(&[
                self.obs.clone().reshape([envs, agents * dim]),
                actions.float(),
                step.reward.clone(),
                next.reshape([envs, agents * dim]),
                terminated,
            ])?;
            self.obs = step.obs[0].clone();
            mark(&mut self.profile, "acting: replay push")?;
        }
        Ok(())
    }

    /// One gradient step on a sampled batch; returns the loss (`[1]`, on the device).
    fn learn(&mut self, lr: f64) -> Result<Tensor<1>> {
        let c = &self.config;
        let batch = c.batch_size;
        let [_, agents, dim] = self.obs.dims();
        let mut sample = self.buffer.sample(batch)?.into_iter();
        let mut next_field = || sample.next().expect("five fields");
        let (obs, action, reward, next_obs, terminated) = (next_field(), next_field(), next_field(), next_field(), next_field());
        let rows = batch * agents;
        let q_all = q_values(&self.q, &self.input, obs.reshape([batch, agents, dim]));
        let taken = q_all.gather(1, action.reshape([rows, 1]).int()).reshape([rows]);
        let next_obs = next_obs.reshape([batch, agents, dim]);
        let next_online = q_values(&self.q.valid(), &self.input, next_obs.clone());
        let next_target = q_values(&self.target, &self.input, next_obs);
        let terminal = terminated.expand([batch, agents]).reshape([rows]);
        let (prediction, target) = if c.algo == Algo::Vdn {
            // Q_tot = Σ_i Q_i on the team reward Σ_i r_i; the future value is Σ_i of each
            // agent's double-Q estimate.
            let future = double_q_targets(next_online, next_target, Tensor::zeros([rows], self.ctx.device()), terminal, c.gamma);
            let team = |t: Tensor<2>| t.sum_dim(1).reshape([batch]);
            (team(taken.reshape([batch, agents])), team(reward) + team(future.reshape([batch, agents])))
        } else {
            (taken, double_q_targets(next_online, next_target, reward.reshape([rows]), terminal, c.gamma))
        };
        let loss = huber_loss(prediction, target, 1.0);
        let grads = GradientsParams::from_grads(loss.backward(), &self.q);
        self.q = self.optim.step(lr, self.q.clone(), grads);
        self.counters.gradient_steps += 1;
        if c.tau < 1.0 {
            self.target = polyak_update(self.target.clone(), &self.q, c.tau);
        } else if self.counters.gradient_steps % c.target_update_every as u64 == 0 {
            self.target = polyak_update(self.target.clone(), &self.q, 1.0);
        }
        Ok(loss.without_autodiff())
    }
}

/// Adam (ε 1e-5) with each gradient tensor clipped to `max_grad_norm`, as fused kernels.
fn optimizer(ctx: &Arc<GpuContext>, config: &TrainConfig) -> ModuleOptimizer {
    crate::train::actor_critic::adam::adam_clipping_each_tensor(ctx, config.max_grad_norm)
}

impl Learner for IqlTrainer {
    fn config(&self) -> &TrainConfig {
        &self.config
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn update(&mut self) -> Result<UpdateMetrics> {
        let started = std::time::Instant::now();
        let epsilon = self.epsilon(self.progress.env_steps);
        self.collect()?;
        let lr = self.config.lr_at(self.progress.update);
        let stored = self.progress.env_steps + self.config.steps_per_update();
        let mut loss = None;
        if stored >= self.config.learning_starts {
            for _ in 0..self.config.gradient_steps {
                loss = Some(self.learn(lr)?);
                mark(&mut self.profile, "learning: sample, TD loss, Adam, target")?;
            }
        }
        // The update's reads: the last loss and the episode statistics.
        let loss = match loss {
            Some(l) => self.ctx.read_f32(l)?[0] as f64,
            None => f64::NAN,
        };
        let episodes = self.env.episode_stats()?;
        self.env.clear_episode_stats()?;
        mark(&mut self.profile, "host reads (loss, episode statistics)")?;
        let seconds = started.elapsed().as_secs_f64();
        let steps = self.config.steps_per_update();
        let metrics = self.progress.finish_update(steps, seconds, &episodes, lr);
        // Q-learning's only loss is the TD loss; the entropy column carries ε instead.
        Ok(UpdateMetrics { total_loss: loss, value_loss: loss, entropy: epsilon as f64, ..metrics })
    }

    fn enable_profile(&mut self) -> Result<bool> {
        self.profile = Some(PhaseClock::new(self.ctx.clone())?);
        Ok(true)
    }

    fn profile(&self) -> &[PhaseTime] {
        self.profile.as_ref().map(|p| p.phases()).unwrap_or(&[])
    }

    fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        write_checkpoint(dir, |tmp| {
            let record_error = |what: &str, e: burn::store::RecordError| ShoalError::io(tmp, std::io::Error::other(format!("{what}: {e:?}")));
            self.q.clone().save_file(tmp.join(Q_FILE)).map_err(|e| record_error("q-network", e))?;
            self.target.clone().save_file(tmp.join(TARGET_FILE)).map_err(|e| record_error("target network", e))?;
            self.optim.to_record().save(tmp.join(OPTIMIZER_FILE)).map_err(|e| record_error("optimizer", e))?;
            self.buffer.save(tmp)?;
            crate::io::write_json(&tmp.join(COUNTERS_FILE), &self.counters)?;
            CheckpointState { config: self.config.clone(), progress: self.progress.clone(), env: self.env.snapshot()?, group_running: Vec::new() }.write(tmp)
        })
    }
}

/// A checkpoint's Q-network (no autodiff) and what it reads, for evaluation and rendering.
pub fn load_q_network(ctx: &Arc<GpuContext>, dir: &std::path::Path) -> Result<(TrainConfig, Mlp, QInput)> {
    let state = CheckpointState::read(dir)?;
    let config = state.config;
    let probe = config.env.build(ctx, &config.env_params(1, false))?;
    let group = &probe.spec().groups[0];
    let input = QInput::new(probe.obs_layout(), group, config.algo, ctx.device())?;
    let shape = q_network_config(&input, discrete_actions(group, config.algo.name())?, config.hidden, config.layers);
    let q = crate::train::store::load_module(shape.init(ctx.device()), &dir.join(Q_FILE))?;
    Ok((config, q, input))
}
