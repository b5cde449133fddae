//! Acting from a trained checkpoint, whichever family trained it: what `shoal eval`, `shoal
//! render` and the reports play with.
//!
//! Each family stores its policy differently — PPO an actor–critic per agent group, IQL/VDN a
//! Q-network, MADDPG/DDPG a deterministic actor per group, COMA one categorical actor — but all
//! of them act the same way: observations of one group in, that group's actions out, on the
//! device. [`GroupActor`] is that shared face, and [`checkpoint_actors`] builds one per group from
//! a checkpoint directory, so a new learner needs one arm here to be evaluated, rendered and
//! reported.
//!
//! Greedy play takes each policy's mode (the likeliest action, argmax Q, the deterministic
//! actor); stochastic play samples as in training (the categorical or Gaussian head, ε-greedy at
//! the run's `eps_end`, Gumbel sampling or Gaussian exploration). Noise streams are keyed by
//! `seed ^ 0xE7A1 ^ group`, independent of training's.

use std::sync::Arc;

use burn::module::Module;
use burn::tensor::Tensor;

use super::actor_critic::coma;
use super::actor_critic::eval::{load_models, to_env_actions};
use super::actor_critic::inputs::Inputs;
use super::actor_critic::model::{ActorCritic, Mlp};
use super::actor_critic::noise::PolicyNoise;
use super::algo::Algo;
use super::checkpoint::CheckpointState;
use super::config::TrainConfig;
use super::off_policy::actor::actor_action;
use super::off_policy::critics::actor_config;
use super::off_policy::maddpg::group_files;
use super::off_policy::q_policy::{discrete_actions, greedy_actions, QInput};
use super::off_policy::{load_q_network, Explorer};
use crate::env::{ActionSpace, Actions, AgentGroup, BatchedEnv};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// One agent group's trained policy.
pub trait GroupActor {
    /// Actions for observations `[envs, agents, obs]`.
    fn act(&mut self, obs: Tensor<3>) -> Result<Actions>;
}

/// The policies of checkpoint `dir`, one per agent group of `env` (built from the checkpoint's
/// configuration), acting greedily or stochastically.
pub fn checkpoint_actors(ctx: &Arc<GpuContext>, dir: &std::path::Path, env: &dyn BatchedEnv, greedy: bool, seed: u64) -> Result<(TrainConfig, Vec<Box<dyn GroupActor>>)> {
    let config = CheckpointState::read(dir)?.config;
    let spec = env.spec();
    let envs = spec.n_envs;
    let noise = |g: usize, group: &AgentGroup| PolicyNoise::new(ctx.clone(), &group.action, group.agents, envs, seed ^ 0xE7A1 ^ g as u64);
    let actors: Vec<Box<dyn GroupActor>> = match config.algo {
        Algo::Mfq if config.tabular_mfq() => return Err(ShoalError::config("checkpoint", dir.display(), "MF-Q's tabular agents act through `shoal render` and the Ising report, not as group policies")),
        Algo::Iql | Algo::Vdn | Algo::Mfq => {
            let group = &spec.groups[0];
            let explore = (!greedy).then(|| Explorer::new(ctx, group, envs, seed ^ 0xE7A1).map(|e| (e, config.eps_end))).transpose()?;
            let (_, q, input) = load_q_network(ctx, dir)?;
            vec![Box::new(QActor { q, input, explore })]
        }
        Algo::Maddpg | Algo::Ddpg => spec
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let [file, ..] = group_files(g);
                let actor = crate::train::store::load_module(actor_config(group, &config).init(ctx.device()), &dir.join(file))?;
                let noise = (!greedy).then(|| noise(g, group)).transpose()?;
                Ok(Box::new(DeterministicActor { actor, agent_ids: Tensor::eye(group.agents, ctx.device()), group: group.clone(), noise, action_noise: config.action_noise }) as Box<dyn GroupActor>)
            })
            .collect::<Result<_>>()?,
        Algo::Coma => {
            let group = &spec.groups[0];
            let shape = coma::actor_config(group, discrete_actions(group, "coma")?, &config);
            let actor = crate::train::store::load_module(shape.init(ctx.device()), &dir.join(coma::FILES[0]))?;
            let noise = (!greedy).then(|| noise(0, group)).transpose()?;
            vec![Box::new(DeterministicActor { actor, agent_ids: Tensor::eye(group.agents, ctx.device()), group: group.clone(), noise, action_noise: 0.0 })]
        }
        _ => load_models(dir, ctx)?
            .1
            .into_iter()
            .zip(&spec.groups)
            .enumerate()
            .map(|(g, (model, group))| {
                Ok(Box::new(PpoActor { model: model.valid(), inputs: Inputs::for_group(env, g, config.algo, ctx.device()), noise: noise(g, group)?, greedy }) as Box<dyn GroupActor>)
            })
            .collect::<Result<_>>()?,
    };
    Ok((config, actors))
}

/// A PPO-family actor–critic's policy head.
struct PpoActor {
    model: ActorCritic,
    inputs: Inputs,
    noise: PolicyNoise,
    greedy: bool,
}

impl GroupActor for PpoActor {
    fn act(&mut self, obs: Tensor<3>) -> Result<Actions> {
        let [envs, agents, _] = obs.dims();
        // Drawn in greedy play too, so both modes advance the stream alike.
        let u = self.noise.sample()?;
        let out = self.model.act(self.inputs.actor(obs), (!self.greedy).then_some(u));
        Ok(to_env_actions(out.action, envs, agents))
    }
}

/// IQL/VDN/neural MF-Q: argmax Q, ε-greedy when exploring.
struct QActor {
    q: Mlp,
    input: QInput,
    explore: Option<(Explorer, f32)>,
}

impl GroupActor for QActor {
    fn act(&mut self, obs: Tensor<3>) -> Result<Actions> {
        let greedy = greedy_actions(&self.q, &self.input, obs);
        Ok(Actions::Discrete(match &mut self.explore {
            Some((explorer, epsilon)) => explorer.epsilon_greedy(greedy, *epsilon),
            None => greedy,
        }))
    }
}

/// MADDPG/DDPG: the deterministic actor, with its training-time exploration when sampling; COMA's
/// categorical actor the same way (argmax, or a Gumbel-max sample).
struct DeterministicActor {
    actor: Mlp,
    agent_ids: Tensor<2>,
    group: AgentGroup,
    noise: Option<PolicyNoise>,
    action_noise: f32,
}

impl GroupActor for DeterministicActor {
    fn act(&mut self, obs: Tensor<3>) -> Result<Actions> {
        let [envs, agents, _] = obs.dims();
        let output = self.actor.forward(crate::train::actor_critic::model::actor_input(obs, &self.agent_ids));
        let noise = match &mut self.noise {
            Some(stream) => Some(stream.sample()?),
            None => None,
        };
        let action = actor_action(output, &self.group.action, noise, self.action_noise);
        Ok(match self.group.action {
            ActionSpace::Discrete { .. } => Actions::Discrete(action.argmax(1).reshape([envs, agents])),
            ActionSpace::Continuous { dim, .. } => Actions::Continuous(action.reshape([envs, agents, dim])),
        })
    }
}
