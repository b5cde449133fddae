//! COMA (Foerster et al. 2018): counterfactual multi-agent policy gradients, on any registered
//! env with one group of discrete-action agents.
//!
//! One centralised critic `Q(s, u_−a, ·)` gives, for agent a, the value of each of its own
//! actions with the other agents' actions held fixed: its input is every agent's observation (the
//! state, as MAPPO's critic sees it), every *other* agent's one-hot action (agent a's own slot
//! zeroed) and a's id; its output one value per action. The actor's advantage is the
//! counterfactual one,
//!
//! `A_a(s, u) = Q(s, u)[u_a] − Σ_u' π(u' | o_a) Q(s, u)[u']`,
//!
//! which marginalises only agent a's action: it credits a for what its own choice changed, the
//! paper's answer to multi-agent credit assignment. The critic learns TD(λ) returns against a
//! target critic (`gae_lambda` as λ; the returns come from the same device GAE kernel PPO uses,
//! with `Q_target(s_t, u_t)` as the values); at a time-limit cut and at the rollout's end they
//! bootstrap with the target critic's expected value under the policy, the other agents'
//! actions there sampled from it.
//!
//! Per update: `rollout_steps` steps of every env (actions sampled by Gumbel-max on the device),
//! the advantages from the critic as it was during the rollout, `update_epochs` full-batch Adam
//! steps of the critic, one of the actor (`−log π(u_a) A_a − ent_coef · H`), then the target
//! critic (Polyak at `tau` < 1, or a copy every `target_update_every` updates). On-policy: no
//! replay buffer; checkpoints hold the networks, both Adams and every stream's position.

use std::sync::Arc;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor};

use super::gae::gae;
use super::model::{actor_input, Mlp, MlpConfig};
use super::noise::PolicyNoise;
use crate::env::{Actions, AgentGroup, BatchedEnv};
use crate::error::{Result, ShoalError};
use crate::gpu::{GpuContext, SeededInit};
use crate::train::algo::Algo;
use crate::train::checkpoint::{write_checkpoint, CheckpointState, Learner, Progress, UpdateMetrics};
use crate::train::config::TrainConfig;
use crate::train::off_policy::actor::{gumbel_noise, one_hot};
use crate::train::off_policy::critics::{optimizer, per_critic_row};
use crate::train::off_policy::q_policy::discrete_actions;
use crate::train::off_policy::polyak_update;

/// Checkpoint files: actor (the name MADDPG's first actor has, so `train::acting` plays both),
/// critic, target critic, and the two Adam states.
pub const FILES: [&str; 5] = ["actor0.bpk", "critic.bpk", "critic_target.bpk", "actor_optimizer.bpk", "critic_optimizer.bpk"];

/// The counterfactual advantage `Q[u_a] − Σ_u' π(u') Q[u']` per row: `q` and `policy`
/// `[rows, n]`, `taken` `[rows, 1]`. Carries no gradient.
pub fn counterfactual_advantage(q: Tensor<2>, policy: Tensor<2>, taken: Tensor<2, Int>) -> Tensor<1> {
    let rows = q.dims()[0];
    let baseline = (q.clone() * policy).sum_dim(1).reshape([rows]);
    (q.gather(1, taken).reshape([rows]) - baseline).detach()
}

/// The critic's input for every agent of `rows` states `[rows, agents, obs]`: all observations,
/// the other agents' one-hot actions (of `n`; `actions` `[rows · agents, 1]`, agent a's own slot
/// zeroed in its row), the agent's id (`agent_ids`, the identity): `[rows · agents, width]`.
pub fn critic_input(obs: Tensor<3>, actions: Tensor<2, Int>, n: usize, agent_ids: &Tensor<2>) -> Tensor<2> {
    let [rows, agents, _] = obs.dims();
    let joint_actions = per_critic_row(&one_hot(actions, n).reshape([rows, agents, n]), agents);
    let eye: Tensor<2> = Tensor::eye(agents, &obs.device());
    let others = eye.neg().add_scalar(1.0).reshape([1, agents, agents, 1]).expand([1, agents, agents, n]).reshape([1, agents, agents * n]);
    let ids = agent_ids.clone().unsqueeze_dim::<3>(0).expand([rows, agents, agents]);
    let input = Tensor::cat(vec![per_critic_row(&obs, agents), joint_actions * others.expand([rows, agents, agents * n]), ids], 2);
    let width = input.dims()[2];
    input.reshape([rows * agents, width])
}

/// The actor's shape for `group`.
pub fn actor_config(group: &AgentGroup, n: usize, config: &TrainConfig) -> MlpConfig {
    MlpConfig::new(group.obs_dim + group.agents, n).with_hidden(config.hidden).with_layers(config.layers).with_output_scale(0.01)
}

/// `shoal train --algo coma`.
pub struct ComaTrainer {
    ctx: Arc<GpuContext>,
    config: TrainConfig,
    env: Box<dyn BatchedEnv>,
    actions: usize,
    agents: usize,
    actor: Mlp,
    critic: Mlp,
    critic_target: Mlp,
    actor_optim: burn::optim::ModuleOptimizer,
    critic_optim: burn::optim::ModuleOptimizer,
    agent_ids: Tensor<2>,
    /// One draw per env step (the actions) ...
    noise: PolicyNoise,
    /// ... and one per update (the other agents' actions at the bootstrap states).
    bootstrap_noise: PolicyNoise,
    obs: Tensor<3>,
    progress: Progress,
}

/// One rollout, stacked over time: `[T · envs, ...]` rows (time-major).
struct Rollout {
    obs: Tensor<3>,
    actions: Tensor<2, Int>,
    reward: Tensor<2>,
    done: Tensor<2>,
    truncated: Tensor<2>,
    /// The states each step ended in (before any reset), then the rollout's last state.
    next_obs: Tensor<3>,
}

impl ComaTrainer {
    /// A fresh run: new networks, envs reset with the run's seed.
    pub fn new(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<ComaTrainer> {
        config.validate()?;
        if config.algo != Algo::Coma {
            return Err(ShoalError::config("algo", config.algo.name(), "ComaTrainer runs coma"));
        }
        let mut env = config.env.build(&ctx, &config.env_params(config.envs, true))?;
        let spec = env.spec().clone();
        if spec.groups.len() != 1 {
            return Err(ShoalError::config("env", config.env.name(), format!("coma trains envs with one agent group so far ({} has {})", config.env, spec.groups.len())));
        }
        let group = &spec.groups[0];
        let (actions, agents) = (discrete_actions(group, "coma")?, group.agents);
        let device: Device = ctx.device().clone().autodiff();
        let critic_in = agents * (group.obs_dim + actions) + agents;
        let (actor, critic) = {
            let init = SeededInit::new(&device, config.seed);
            let actor = init.draw(actor_config(group, actions, &config).init(&device));
            (actor, init.draw(MlpConfig::new(critic_in, actions).with_hidden(config.hidden).with_layers(config.layers).init(&device)))
        };
        let noise = PolicyNoise::new(ctx.clone(), &group.action, agents, config.envs, config.seed ^ 0xC0_3A)?;
        let bootstrap_noise = PolicyNoise::new(ctx.clone(), &group.action, agents, (config.rollout_steps + 1) * config.envs, config.seed ^ 0xB0_07)?;
        let obs = env.reset(config.seed)?.obs.remove(0);
        Ok(ComaTrainer {
            agent_ids: Tensor::eye(agents, ctx.device()),
            critic_target: critic.valid(),
            actor_optim: optimizer(&ctx, &config),
            critic_optim: optimizer(&ctx, &config),
            actor,
            critic,
            noise,
            bootstrap_noise,
            obs,
            env,
            actions,
            agents,
            progress: Progress::default(),
            config,
            ctx,
        })
    }

    /// Continues the run in checkpoint `dir` exactly.
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<ComaTrainer> {
        let state = CheckpointState::read(dir)?;
        let mut trainer = ComaTrainer::new(ctx, state.config.clone())?;
        let [actor, critic, target, actor_optim, critic_optim] = FILES.map(|f| dir.join(f));
        trainer.actor = crate::train::store::load_module(trainer.actor.clone(), &actor)?;
        trainer.critic = crate::train::store::load_module(trainer.critic.clone(), &critic)?;
        trainer.critic_target = crate::train::store::load_module(trainer.critic_target.clone(), &target)?;
        trainer.actor_optim = optimizer(&trainer.ctx, &trainer.config).load_record(crate::train::store::load_optimizer_record(&actor_optim)?);
        trainer.critic_optim = optimizer(&trainer.ctx, &trainer.config).load_record(crate::train::store::load_optimizer_record(&critic_optim)?);
        trainer.noise.set_calls(state.progress.noise_calls)?;
        trainer.bootstrap_noise.set_calls(state.progress.update as u32)?;
        trainer.obs = trainer.env.restore(&state.env)?.obs.remove(0);
        trainer.progress = state.progress;
        Ok(trainer)
    }

    /// The actor and the critic.
    pub fn networks(&self) -> [&Mlp; 2] {
        [&self.actor, &self.critic]
    }

    /// Gumbel-max samples of the policy at `obs` `[rows, agents, obs]`: `[rows · agents, 1]`.
    fn sample(&self, actor: &Mlp, obs: Tensor<3>, uniform: Tensor<2>) -> Tensor<2, Int> {
        (actor.forward(actor_input(obs, &self.agent_ids)) + gumbel_noise(uniform)).argmax(1)
    }

    fn critic_input(&self, obs: Tensor<3>, actions: Tensor<2, Int>) -> Tensor<2> {
        critic_input(obs, actions, self.actions, &self.agent_ids)
    }

    /// `rollout_steps` steps of every env under the current policy.
    fn collect(&mut self) -> Result<Rollout> {
        let (envs, agents) = (self.config.envs, self.agents);
        let actor = self.actor.valid();
        let (mut obs, mut actions, mut next) = (Vec::new(), Vec::new(), Vec::new());
        let (mut reward, mut done, mut truncated) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..self.config.rollout_steps {
            let u = self.noise.sample()?;
            self.progress.noise_calls += 1;
            let action = self.sample(&actor, self.obs.clone(), u);
            let step = self.env.step(&[Actions::Discrete(action.clone().reshape([envs, agents]))])?;
            let Some(mut terminal) = step.terminal_obs else {
                return Err(ShoalError::Internal("the env gave no terminal observations".into()));
            };
            obs.push(std::mem::replace(&mut self.obs, step.obs[0].clone()));
            actions.push(action);
            next.push(terminal.remove(0));
            reward.push(step.reward);
            done.push(step.done.reshape([envs, 1]));
            truncated.push(step.truncated.reshape([envs, 1]));
        }
        next.push(self.obs.clone());
        Ok(Rollout {
            obs: Tensor::cat(obs, 0),
            actions: Tensor::cat(actions, 0),
            reward: Tensor::cat(reward, 0),
            done: Tensor::cat(done, 0),
            truncated: Tensor::cat(truncated, 0),
            next_obs: Tensor::cat(next, 0),
        })
    }

    /// TD(λ) returns `[T · envs · agents]` of the rollout against the target critic.
    fn returns(&mut self, rollout: &Rollout, actor: &Mlp) -> Result<Tensor<1>> {
        let (steps, envs, agents) = (self.config.rollout_steps, self.config.envs, self.agents);
        let gamma = self.config.gamma;
        // The target critic's expected value at every step's next state and the last state, the
        // other agents' actions there sampled from the policy.
        let uniform = self.bootstrap_noise.sample()?;
        let others = self.sample(actor, rollout.next_obs.clone(), uniform);
        let q_next = self.critic_target.forward(self.critic_input(rollout.next_obs.clone(), others));
        let policy = softmax(actor.forward(actor_input(rollout.next_obs.clone(), &self.agent_ids)), 1);
        let expected = (q_next * policy).sum_dim(1).reshape([steps + 1, envs * agents]);
        let boot = expected.clone().slice([0..steps, 0..envs * agents]);
        let last = expected.slice([steps..steps + 1, 0..envs * agents]).reshape([envs * agents]);
        let per_agent = |t: Tensor<2>| t.reshape([steps, envs, 1]).expand([steps, envs, agents]).reshape([steps, envs * agents]);
        let q_taken = self.critic_target.forward(self.critic_input(rollout.obs.clone(), rollout.actions.clone())).gather(1, rollout.actions.clone());
        let rewards = rollout.reward.clone().reshape([steps, envs * agents]) + per_agent(rollout.truncated.clone()) * boot * gamma;
        let values = q_taken.reshape([steps, envs * agents]);
        let (_, targets) = gae(&self.ctx, rewards, values, per_agent(rollout.done.clone()), last, gamma, self.config.gae_lambda)?;
        Ok(targets.reshape([steps * envs * agents]).detach())
    }
}

impl Learner for ComaTrainer {
    fn config(&self) -> &TrainConfig {
        &self.config
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn update(&mut self) -> Result<UpdateMetrics> {
        let started = std::time::Instant::now();
        let rollout = self.collect()?;
        let actor_now = self.actor.valid();
        let targets = self.returns(&rollout, &actor_now)?;
        let lr = self.config.lr_at(self.progress.update);
        let input = self.critic_input(rollout.obs.clone(), rollout.actions.clone());
        let rows = targets.dims()[0];
        // Advantages from the critic the rollout was played under.
        let policy_rollout = softmax(actor_now.forward(actor_input(rollout.obs.clone(), &self.agent_ids)), 1);
        let advantage = counterfactual_advantage(self.critic.valid().forward(input.clone()), policy_rollout, rollout.actions.clone());
        let mut critic_loss = Tensor::<1>::zeros([1], self.ctx.device());
        for _ in 0..self.config.update_epochs {
            let q = self.critic.forward(input.clone()).gather(1, rollout.actions.clone()).reshape([rows]);
            let loss = (q - targets.clone()).powi_scalar(2).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &self.critic);
            self.critic = self.critic_optim.step(lr, self.critic.clone(), grads);
            critic_loss = loss.without_autodiff().detach();
        }
        let logits = self.actor.forward(actor_input(rollout.obs.clone(), &self.agent_ids));
        let log_policy = log_softmax(logits, 1);
        let entropy = (log_policy.clone().exp() * log_policy.clone()).sum_dim(1).neg().mean();
        let log_taken = log_policy.gather(1, rollout.actions.clone()).reshape([rows]);
        let actor_loss = (log_taken * advantage).mean().neg() - entropy.clone() * self.config.ent_coef;
        let grads = GradientsParams::from_grads(actor_loss.backward(), &self.actor);
        self.actor = self.actor_optim.step(lr * self.config.actor_lr_scale, self.actor.clone(), grads);
        if self.config.tau < 1.0 || (self.progress.update + 1) % self.config.target_update_every == 0 {
            self.critic_target = polyak_update(self.critic_target.clone(), &self.critic, self.config.tau);
        }
        let values = self.ctx.read_f32(Tensor::cat(vec![critic_loss, actor_loss.without_autodiff().detach(), entropy.without_autodiff().detach().reshape([1])], 0))?;
        let episodes = self.env.episode_stats()?;
        self.env.clear_episode_stats()?;
        let seconds = started.elapsed().as_secs_f64();
        let steps = self.config.steps_per_update();
        let metrics = self.progress.finish_update(steps, seconds, &episodes, lr);
        Ok(UpdateMetrics { total_loss: (values[0] + values[1]) as f64, policy_loss: values[1] as f64, value_loss: values[0] as f64, entropy: values[2] as f64, ..metrics })
    }

    fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        write_checkpoint(dir, |tmp| {
            let record_error = |what: &str, e: burn::store::RecordError| ShoalError::io(tmp, std::io::Error::other(format!("{what}: {e:?}")));
            let [actor, critic, target, actor_optim, critic_optim] = FILES.map(|f| tmp.join(f));
            self.actor.clone().save_file(actor).map_err(|e| record_error("actor", e))?;
            self.critic.clone().save_file(critic).map_err(|e| record_error("critic", e))?;
            self.critic_target.clone().save_file(target).map_err(|e| record_error("target critic", e))?;
            self.actor_optim.to_record().save(actor_optim).map_err(|e| record_error("actor optimizer", e))?;
            self.critic_optim.to_record().save(critic_optim).map_err(|e| record_error("critic optimizer", e))?;
            CheckpointState { config: self.config.clone(), progress: self.progress.clone(), env: self.env.snapshot()?, group_running: Vec::new() }.write(tmp)
        })
    }
}
