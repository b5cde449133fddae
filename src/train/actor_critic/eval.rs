//! Evaluating a trained policy: greedy (mode of the action distribution) and stochastic
//! (sampled) play, on fresh envs seeded independently of training.

use std::sync::Arc;

use serde::Serialize;

use burn::tensor::Tensor;

use super::group::{file_names, GroupReturns};
use super::inputs::group_model_config;
use crate::train::acting::checkpoint_actors;
use super::model::{Action, ActorCritic};
use crate::env::{Actions, RandomActions};
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
    /// Mean episode return of each agent group (envs with several groups), and whether the
    /// group played at random.
    pub groups: Vec<GroupResult>,
}

/// One agent group's part of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct GroupResult {
    /// The group's name.
    pub group: String,
    /// Its agents played uniformly random actions instead of the trained policy.
    pub random: bool,
    /// Mean episode return (its agents' mean reward summed over the episode).
    pub mean_return: f64,
    /// Mean over episodes of its agents' mean reward on the episode's last step — where the
    /// episode ended up (simple_speaker_listener: −(listener's distance to the goal)²).
    pub last_step_reward: f64,
    /// The last-step reward of each episode (in `--json` only): per env, the last episode that
    /// ended in each round of `max_cycles` steps — every episode where episodes last
    /// `max_cycles` steps, as in MPE.
    pub last_step_rewards: Vec<f32>,
}

/// Each env's group-mean reward on the last step of its latest finished episode, per group.
struct LastStepRewards {
    /// `(first agent, agents)` of each group.
    spans: Vec<(usize, usize)>,
    latest: Vec<Tensor<1>>,
}

impl LastStepRewards {
    fn new(spec: &crate::env::EnvSpec, device: &burn::tensor::Device) -> LastStepRewards {
        let spans = super::group::group_spans(spec);
        LastStepRewards { latest: spans.iter().map(|_| Tensor::<1>::zeros([spec.n_envs], device)).collect(), spans }
    }

    fn book(&mut self, reward: &Tensor<2>, done: &Tensor<1>) {
        let [envs, _] = reward.dims();
        let ended = done.clone().greater_elem(0.5);
        for (latest, &(first, agents)) in self.latest.iter_mut().zip(&self.spans) {
            let mean = reward.clone().slice([0..envs, first..first + agents]).mean_dim(1).reshape([envs]);
            *latest = latest.clone().mask_where(ended.clone(), mean);
        }
    }
}

/// Plays at least `episodes` episodes of the checkpoint's policy, greedy then stochastic.
pub fn evaluate(ctx: &Arc<GpuContext>, checkpoint: &std::path::Path, episodes: usize, seed: u64) -> Result<Vec<EvalResult>> {
    evaluate_against(ctx, checkpoint, episodes, seed, &[])
}

/// [`evaluate`], with the agent groups named in `random_groups` playing uniformly random
/// actions (trained predators against a random prey, and the other way round).
pub fn evaluate_against(ctx: &Arc<GpuContext>, checkpoint: &std::path::Path, episodes: usize, seed: u64, random_groups: &[String]) -> Result<Vec<EvalResult>> {
    if episodes == 0 {
        return Err(ShoalError::config("episodes", 0, "evaluate at least 1 episode"));
    }
    let config = CheckpointState::read(checkpoint)?.config;
    let envs = episodes.min(1024);
    let rounds = episodes.div_ceil(envs);
    let mut results = Vec::new();
    for greedy in [true, false] {
        let mut env = config.env.build(ctx, &config.env_params(envs, false))?;
        let groups = env.spec().groups.clone();
        if let Some(unknown) = random_groups.iter().find(|r| !groups.iter().any(|g| &g.name == *r)) {
            let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
            return Err(ShoalError::config("random-groups", unknown, format!("{}'s agent groups are {}", config.env, names.join(", "))));
        }
        let (_, mut actors) = checkpoint_actors(ctx, checkpoint, env.as_ref(), greedy, seed)?;
        let mut random = groups
            .iter()
            .enumerate()
            .map(|(g, group)| random_groups.contains(&group.name).then(|| RandomActions::new(ctx.clone(), group, envs, seed ^ 0x7A4D ^ g as u64)).transpose())
            .collect::<Result<Vec<_>>>()?;
        let mut returns = GroupReturns::new(env.spec(), ctx.device());
        let mut last_step = LastStepRewards::new(env.spec(), ctx.device());
        let mut last_step_rewards: Vec<Vec<f32>> = vec![Vec::new(); groups.len()];
        let mut obs = env.reset(seed)?.obs;
        for step_index in 0..rounds * config.max_cycles {
            let mut actions = Vec::with_capacity(groups.len());
            for g in 0..groups.len() {
                actions.push(match &mut random[g] {
                    Some(source) => source.sample(),
                    None => actors[g].act(obs[g].clone())?,
                });
            }
            let step = env.step(&actions)?;
            returns.book(&step.reward, &step.done);
            last_step.book(&step.reward, &step.done);
            obs = step.obs;
            if (step_index + 1) % config.max_cycles == 0 {
                // One read per round of episodes, not per step.
                let values = ctx.read_f32(Tensor::cat(last_step.latest.clone(), 0))?;
                for (g, chunk) in values.chunks(envs).enumerate() {
                    last_step_rewards[g].extend_from_slice(chunk);
                }
            }
        }
        let sums = ctx.read_f32(Tensor::cat(returns.take_completed(), 0))?;
        let stats = env.episode_stats()?;
        results.push(EvalResult {
            mode: if greedy { "greedy" } else { "stochastic" }.into(),
            episodes: stats.episodes as usize,
            mean_return: stats.mean_return,
            std_return: stats.std_return,
            groups: if groups.len() > 1 {
                groups
                    .iter()
                    .zip(&sums)
                    .zip(last_step_rewards)
                    .map(|((g, &sum), last)| GroupResult {
                        group: g.name.clone(),
                        random: random_groups.contains(&g.name),
                        mean_return: sum as f64 / stats.episodes,
                        last_step_reward: last.iter().map(|&r| r as f64).sum::<f64>() / last.len().max(1) as f64,
                        last_step_rewards: last,
                    })
                    .collect()
            } else {
                Vec::new()
            },
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

/// Loads the model of a checkpoint (for evaluation, rendering and the arena): its first
/// group's. The network's shape comes from the run's env, built with one instance to read its
/// spec and layout.
pub fn load_model(dir: &std::path::Path, ctx: &Arc<GpuContext>) -> Result<(TrainConfig, ActorCritic)> {
    let (config, mut models) = load_models(dir, ctx)?;
    Ok((config, models.remove(0)))
}

/// Loads every agent group's model of a checkpoint, in the env's group order.
pub fn load_models(dir: &std::path::Path, ctx: &Arc<GpuContext>) -> Result<(TrainConfig, Vec<ActorCritic>)> {
    let state = CheckpointState::read(dir)?;
    let probe = state.config.env.build(ctx, &state.config.env_params(1, false))?;
    let spec = probe.spec();
    let models = (0..spec.groups.len())
        .map(|g| {
            let shape = group_model_config(&state.config, spec, probe.obs_layout(), g);
            let (file, _) = file_names(g, &spec.groups[g].name);
            crate::train::store::load_module(shape.init(ctx.device()), &dir.join(file))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((state.config, models))
}
