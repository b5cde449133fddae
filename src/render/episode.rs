//! Playing episodes for pictures: one env of any registered kind, its actions drawn uniformly
//! from its own action spaces or by a checkpoint's policy, one frame per step.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Tensor;

use super::{EpisodePolicy, GifRecorder, Recording, RenderRequest};
use crate::env::{Actions, BatchedEnv, EnvKind, EnvParams, RandomActions};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::train::checkpoint::CheckpointState;
use crate::train::config::TrainConfig;
use crate::train::mean_field::mfq::{load_agents, IsingMfq};
use crate::train::acting::{checkpoint_actors, GroupActor};

/// Plays `request.episodes` episodes of one `kind` env and writes them to `out` as a GIF, one
/// frame per step (the state each step starts from). Episodes that end early (a Battle team wiped
/// out) end their part of the animation early.
pub fn record(ctx: &Arc<GpuContext>, kind: EnvKind, request: &RenderRequest, out: &Path) -> Result<Recording> {
    if request.episodes == 0 {
        return Err(ShoalError::config("episodes", 0, "render at least 1 episode"));
    }
    let trained = match &request.policy {
        EpisodePolicy::Random => None,
        EpisodePolicy::Checkpoint { dir, greedy } => {
            let config = CheckpointState::read(dir)?.config;
            if config.env != kind {
                return Err(ShoalError::config("checkpoint", dir.display(), format!("is a {0} run; render it with --env {0}", config.env)));
            }
            Some((dir.as_path(), *greedy, config))
        }
    };
    let entry = kind.entry();
    let params = match &trained {
        Some((_, _, config)) => config.env_params(1, false),
        None => {
            let population = kind.population(&request.options)?;
            let size = request.size.or(population).unwrap_or(entry.scale.default_size());
            EnvParams { max_cycles: entry.render_cycles, options: request.options.clone(), ..entry.scale.params(1, size) }
        }
    };
    let mut env = kind.build(ctx, &params)?;
    let mut actions = ActionSource::new(ctx, env.as_ref(), trained, request.seed)?;
    let max_cycles = env.spec().max_cycles;
    let mut recorder = GifRecorder::new(request.format)?;
    let mut scenes = Vec::new();
    let mut obs = env.reset(request.seed)?.obs;
    let (mut episode, mut step, mut first_length) = (0, 0, None);
    while episode < request.episodes {
        let caption = format!("{kind}  ep {}  step {}/{max_cycles}", episode + 1, step + 1);
        let scene = env.scene()?.with_caption_prefix(&caption);
        recorder.push(&scene)?;
        scenes.push(scene);
        let next = actions.next(&obs)?;
        let stepped = env.step(&next)?;
        step += 1;
        // One small read per frame tells whether the episode ended (time limit or early end).
        if ctx.read_f32(stepped.done.clone())?[0] > 0.5 {
            first_length.get_or_insert(step);
            episode += 1;
            step = 0;
        }
        obs = stepped.obs;
    }
    let frames = recorder.finish(out)?;
    Ok(Recording { frames, episode_length: first_length.unwrap_or(step), scenes })
}

/// Picks the actions of a rendered env (one env instance).
enum ActionSource {
    /// Uniformly random actions, one source per agent group.
    Random(Vec<RandomActions>),
    /// MF-Q agents' Boltzmann policy (ising).
    Mfq(IsingMfq),
    /// A checkpoint's policy, one per agent group (any family: `train::acting`).
    Trained(Vec<Box<dyn GroupActor>>),
}

impl ActionSource {
    fn new(ctx: &Arc<GpuContext>, env: &dyn BatchedEnv, trained: Option<(&Path, bool, TrainConfig)>, seed: u64) -> Result<ActionSource> {
        Ok(match trained {
            None => ActionSource::Random(
                env.spec().groups.iter().map(|group| RandomActions::new(ctx.clone(), group, 1, seed ^ 0x5EED_F00D)).collect::<Result<_>>()?,
            ),
            Some((dir, _, config)) if config.tabular_mfq() => ActionSource::Mfq(load_agents(ctx, dir, 1, seed)?.1),
            Some((dir, greedy, _)) => ActionSource::Trained(checkpoint_actors(ctx, dir, env, greedy, seed)?.1),
        })
    }

    /// Actions for observations `[1, agents, obs]` of each group.
    fn next(&mut self, obs: &[Tensor<3>]) -> Result<Vec<Actions>> {
        match self {
            ActionSource::Random(sources) => Ok(sources.iter_mut().map(|s| s.sample()).collect()),
            ActionSource::Mfq(agents) => Ok(vec![Actions::Discrete(agents.act(obs[0].clone())?)]),
            ActionSource::Trained(actors) => actors.iter_mut().zip(obs).map(|(actor, obs)| actor.act(obs.clone())).collect(),
        }
    }
}
