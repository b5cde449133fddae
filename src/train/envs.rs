//! The environments the trainer drives, and how each turns observations into network inputs.
//!
//! - `simple_spread`: a few distinct agents; actor and critic inputs carry an agent one-hot id,
//!   and MAPPO's critic sees every agent's observation.
//! - `swarm`: a crowd of identical agents sharing one network, no ids. The observation's last five
//!   columns are the neighbours' mean action ā: IPPO sees neither in actor nor critic; MF-AC's
//!   critic V(o_i, ā_i) sees it (the actor π(a | o_i) does not, as in Yang et al.'s MF-AC).

use std::sync::Arc;

use burn::tensor::Tensor;

use super::config::{Algo, TrainConfig, TrainEnvName};
use super::model::{actor_input, critic_input, ActorCriticConfig};
use crate::env::battle::{BATTLE_ACTIONS, BATTLE_LOCAL_OBS, BATTLE_OBS_DIM};
use crate::env::swarm::SWARM_OBS_DIM;
use crate::env::{Battle, BattleConfig};
use crate::env::{BatchedEnv, EnvSnapshot, Ising, IsingConfig, SimpleSpread, SimpleSpreadConfig, StepOutput, Swarm, SwarmConfig};
use crate::error::Result;
use burn::tensor::Device;
use crate::gpu::GpuContext;

/// Swarm observation columns before the mean action (velocity, goal vector, count, mean velocity).
pub const SWARM_LOCAL_OBS: usize = 7;

/// A batch the trainer (or an evaluation) steps.
pub enum TrainEnv {
    /// MPE cooperative navigation.
    SimpleSpread(SimpleSpread),
    /// A mean-field swarm.
    Swarm(Swarm),
    /// Ising lattices (sites as agents).
    Ising(Ising),
    /// Battle games (both teams one group).
    Battle(Battle),
}

impl TrainEnv {
    /// `envs` envs of the run's environment; `terminal_obs` where the env can give them.
    pub fn new(ctx: &Arc<GpuContext>, config: &TrainConfig, envs: usize, terminal_obs: bool) -> Result<TrainEnv> {
        Ok(match config.env {
            TrainEnvName::SimpleSpread => TrainEnv::SimpleSpread(SimpleSpread::new(
                ctx.clone(),
                SimpleSpreadConfig::new(envs)
                    .with_n_agents(config.agents)
                    .with_local_ratio(config.local_ratio)
                    .with_max_cycles(config.max_cycles)
                    .with_continuous(config.continuous)
                    .with_terminal_obs(terminal_obs),
            )?),
            TrainEnvName::Swarm => TrainEnv::Swarm(Swarm::new(
                ctx.clone(),
                SwarmConfig::new(envs).with_agents(config.agents).with_max_cycles(config.max_cycles),
            )?),
            TrainEnvName::Ising => TrainEnv::Ising(Ising::new(
                ctx.clone(),
                IsingConfig::new(envs).with_size(lattice_side(config.agents)).with_max_cycles(config.max_cycles),
            )?),
            TrainEnvName::Battle => TrainEnv::Battle(Battle::new(
                ctx.clone(),
                BattleConfig::new(envs).with_map_size(config.map_size).with_max_cycles(config.max_cycles),
            )?),
        })
    }

    /// The env behind the common API.
    pub fn env(&mut self) -> &mut dyn BatchedEnv {
        match self {
            TrainEnv::SimpleSpread(env) => env,
            TrainEnv::Swarm(env) => env,
            TrainEnv::Ising(env) => env,
            TrainEnv::Battle(env) => env,
        }
    }

    /// The env behind the common API, owned (benchmarks drive it on their own).
    pub fn into_env(self) -> Box<dyn BatchedEnv> {
        match self {
            TrainEnv::SimpleSpread(env) => Box::new(env),
            TrainEnv::Swarm(env) => Box::new(env),
            TrainEnv::Ising(env) => Box::new(env),
            TrainEnv::Battle(env) => Box::new(env),
        }
    }

    /// The env behind the common API, read-only.
    pub fn env_ref(&self) -> &dyn BatchedEnv {
        match self {
            TrainEnv::SimpleSpread(env) => env,
            TrainEnv::Swarm(env) => env,
            TrainEnv::Ising(env) => env,
            TrainEnv::Battle(env) => env,
        }
    }

    /// The batch's device state on the host (checkpoints).
    pub fn snapshot(&self) -> Result<EnvSnapshot> {
        match self {
            TrainEnv::SimpleSpread(env) => env.snapshot(),
            TrainEnv::Swarm(env) => env.snapshot(),
            TrainEnv::Ising(env) => env.snapshot(),
            TrainEnv::Battle(env) => env.snapshot(),
        }
    }

    /// Puts back a snapshot; returns the observations.
    pub fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        match self {
            TrainEnv::SimpleSpread(env) => env.restore(snapshot),
            TrainEnv::Swarm(env) => env.restore(snapshot),
            TrainEnv::Ising(env) => env.restore(snapshot),
            TrainEnv::Battle(env) => env.restore(snapshot),
        }
    }
}

/// The actor–critic sizes of a run.
pub fn model_config(config: &TrainConfig) -> ActorCriticConfig {
    let base = match config.env {
        TrainEnvName::SimpleSpread => {
            ActorCriticConfig::new(config.agents, 6 * config.agents, 5, config.continuous, config.algo.critic())
        }
        TrainEnvName::Swarm => ActorCriticConfig::new(config.agents, SWARM_LOCAL_OBS, 5, false, config.algo.critic())
            .with_agent_ids(false)
            .with_critic_extra(if config.algo == Algo::Mfac { SWARM_OBS_DIM - SWARM_LOCAL_OBS } else { 0 }),
        // Own spin and neighbours' mean spin; two actions.
        TrainEnvName::Ising => ActorCriticConfig::new(config.agents, 2, 2, false, config.algo.critic()).with_agent_ids(false),
        // View and position; MF-AC's critic also sees the team's mean action.
        TrainEnvName::Battle => ActorCriticConfig::new(config.agents, BATTLE_LOCAL_OBS, BATTLE_ACTIONS, false, config.algo.critic())
            .with_agent_ids(false)
            .with_critic_extra(if config.algo == Algo::Mfac { BATTLE_OBS_DIM - BATTLE_LOCAL_OBS } else { 0 }),
    };
    base.with_hidden(config.hidden).with_layers(config.layers).with_shared_params(config.shared_params)
}

/// Builds actor and critic inputs `[envs·agents, width]` from observations `[envs, agents, obs]`.
pub struct Inputs {
    env: TrainEnvName,
    algo: Algo,
    /// `[agents, agents]` one-hot ids (simple_spread).
    agent_ids: Tensor<2>,
}

impl Inputs {
    /// The input builder of a run.
    pub fn new(config: &TrainConfig, device: &Device) -> Inputs {
        let ids = if config.env == TrainEnvName::SimpleSpread { config.agents } else { 1 };
        Inputs { env: config.env, algo: config.algo, agent_ids: Tensor::eye(ids, device) }
    }

    /// The actor's input.
    pub fn actor(&self, obs: Tensor<3>) -> Tensor<2> {
        match self.env {
            TrainEnvName::SimpleSpread => actor_input(obs, &self.agent_ids),
            TrainEnvName::Swarm => local_columns(obs, SWARM_LOCAL_OBS),
            TrainEnvName::Ising => local_columns(obs, 2),
            TrainEnvName::Battle => local_columns(obs, BATTLE_LOCAL_OBS),
        }
    }

    /// The critic's input.
    pub fn critic(&self, obs: Tensor<3>) -> Tensor<2> {
        match (self.env, self.algo) {
            (TrainEnvName::SimpleSpread, algo) => critic_input(obs, &self.agent_ids, algo.critic()),
            (TrainEnvName::Swarm, Algo::Mfac) => local_columns(obs, SWARM_OBS_DIM),
            (TrainEnvName::Swarm, _) => local_columns(obs, SWARM_LOCAL_OBS),
            (TrainEnvName::Ising, _) => local_columns(obs, 2),
            (TrainEnvName::Battle, Algo::Mfac) => local_columns(obs, BATTLE_OBS_DIM),
            (TrainEnvName::Battle, _) => local_columns(obs, BATTLE_LOCAL_OBS),
        }
    }
}

/// The side L of a lattice of `sites` = L² sites.
pub fn lattice_side(sites: usize) -> usize {
    (sites as f64).sqrt().round() as usize
}

/// The first `width` observation columns of every agent, `[envs·agents, width]`.
fn local_columns(obs: Tensor<3>, width: usize) -> Tensor<2> {
    let [envs, agents, dim] = obs.dims();
    let obs = if width == dim { obs } else { obs.slice([0..envs, 0..agents, 0..width]) };
    obs.reshape([envs * agents, width])
}
