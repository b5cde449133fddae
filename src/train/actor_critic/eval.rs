//! Evaluating a trained policy: greedy (mode of the action distribution) and stochastic
//! (sampled) play, on fresh envs seeded independently of training.

use std::sync::Arc;

use serde::Serialize;

use burn::module::Module as _;

use super::inputs::{model_config, Inputs};
use super::model::{Action, ActorCritic};
use super::noise::PolicyNoise;
use crate::env::Actions;
use crate::train::checkpoint::CheckpointState;
use crate::train::config::TrainConfig;
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Returns of one evaluation mode.
#[derive(Debug, Clone, Serialize)]
pub struct EvalResult {
    /// `greedy` or `stochastic`.
    pub mode: String,
    /// Completed episodes.
    pub episodes: usize,
    /// Mean per-agent episode return.
    pub mean_return: f64,
    /// Standard deviation of the episode returns.
    pub std_return: f64,
}

/// Plays at least `episodes` episodes of the checkpoint's policy, greedy then stochastic.
pub fn evaluate(ctx: &Arc<GpuContext>, checkpoint: &std::path::Path, episodes: usize, seed: u64) -> Result<Vec<EvalResult>> {
    if episodes == 0 {
        return Err(ShoalError::config("episodes", 0, "evaluate at least 1 episode"));
    }
    let (config, model) = load_model(checkpoint, ctx)?;
    let model = model.valid();
    let envs = episodes.min(1024);
    let rounds = episodes.div_ceil(envs);
    let mut results = Vec::new();
    for greedy in [true, false] {
        let mut env = config.env.build(ctx, &config.env_params(envs, false))?;
        let inputs = Inputs::new(env.as_ref(), config.algo, ctx.device());
        let action = env.spec().groups[0].action.clone();
        let mut noise = PolicyNoise::new(ctx.clone(), &action, config.agents, envs, seed ^ 0xE7A1)?;
        let mut obs = env.reset(seed)?.obs.remove(0);
        for _ in 0..rounds * config.max_cycles {
            let u = noise.sample()?;
            let out = model.act(inputs.actor(obs), (!greedy).then_some(u));
            let actions = to_env_actions(out.action, envs, config.agents);
            obs = env.step(&[actions])?.obs.remove(0);
        }
        let stats = env.episode_stats()?;
        results.push(EvalResult {
            mode: if greedy { "greedy" } else { "stochastic" }.into(),
            episodes: stats.episodes as usize,
            mean_return: stats.mean_return,
            std_return: stats.std_return,
        });
    }
    Ok(results)
}

/// Policy actions `[envs·agents]` (or `[envs·agents, dim]`) shaped as an env expects them.
pub fn to_env_actions(action: Action, envs: usize, agents: usize) -> Actions {
    match action {
        Action::Discrete(a) => Actions::Discrete(a.without_autodiff().reshape([envs, agents])),
        Action::Continuous(a) => {
            let [_, dim] = a.dims();
            Actions::Continuous(a.without_autodiff().reshape([envs, agents, dim]))
        }
    }
}

/// Loads the model of a checkpoint (for evaluation, rendering and the arena). The network's
/// shape comes from the run's env, built with one instance to read its spec and layout.
pub fn load_model(dir: &std::path::Path, ctx: &Arc<GpuContext>) -> Result<(TrainConfig, ActorCritic)> {
    let state = CheckpointState::read(dir)?;
    let probe = state.config.env.build(ctx, &state.config.env_params(1, false))?;
    let model = crate::train::store::load_module(model_config(&state.config, probe.spec(), probe.obs_layout()).init(ctx.device()), &dir.join("model.bpk"))?;
    Ok((state.config, model))
}
