//! ising frames (random spins or trained MF-Q agents): the spin lattice, up spins dark, down light.

use std::path::Path;
use std::sync::Arc;

use plotters::style::RGBColor;

use super::{EpisodePolicy, GifRecorder, Recording, RenderRequest, Scene};
use crate::env::{Actions, BatchedEnv, Ising, IsingConfig, RandomActions};
use crate::train::envs::lattice_side;
use crate::train::{mfq, TrainEnvName};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Plays `request.episodes` episodes of one lattice — of side `request.agents` with random spins,
/// or a checkpoint's lattice and MF-Q agents — and writes them as a GIF.
pub fn record_ising(ctx: &Arc<GpuContext>, request: &RenderRequest, out: &Path) -> Result<Recording> {
    if request.episodes == 0 {
        return Err(ShoalError::config("episodes", 0, "render at least 1 episode"));
    }
    // A trained run's MF-Q agents (their lattice and episode length), or random spins.
    let mut trained = match &request.policy {
        EpisodePolicy::Random => None,
        EpisodePolicy::Checkpoint { dir, .. } => {
            let (train, agents) = mfq::load_agents(ctx, dir, 1, request.seed)?;
            if train.env != TrainEnvName::Ising {
                return Err(ShoalError::config("checkpoint", dir.display(), format!("is a {} run; render it with --env {}", train.env.name(), train.env.name().replace('_', "-"))));
            }
            Some((train, agents))
        }
    };
    let config = match &trained {
        Some((train, _)) => IsingConfig::new(1).with_size(lattice_side(train.agents)).with_max_cycles(train.max_cycles),
        None => IsingConfig::new(1).with_size(request.agents).with_max_cycles(50),
    };
    let mut env = Ising::new(ctx.clone(), config.clone())?;
    let mut random = RandomActions::new(ctx.clone(), &env.spec().groups[0].clone(), 1, request.seed ^ 0x5EED_F00D)?;
    let mut recorder = GifRecorder::new(request.format)?;
    let mut scenes = Vec::new();
    let mut obs = env.reset(request.seed)?.obs.remove(0);
    for episode in 0..request.episodes {
        for step in 0..config.max_cycles {
            let spins = ctx.read_f32(env.spins())?;
            let magnetisation = spins.iter().sum::<f32>() / spins.len() as f32;
            let scene = Scene::Cells {
                columns: config.size,
                rows: config.size,
                colors: spins.iter().map(|&s| if s > 0.0 { RGBColor(30, 30, 60) } else { RGBColor(235, 235, 225) }).collect(),
                caption: format!("ising {0}×{0}  ep {1}  step {2}/{3}  m = {magnetisation:+.3}", config.size, episode + 1, step + 1, config.max_cycles),
            };
            recorder.push(&scene)?;
            scenes.push(scene);
            let actions = match &mut trained {
                Some((_, agents)) => Actions::Discrete(agents.act(obs)?),
                None => random.sample(),
            };
            obs = env.step(&[actions])?.obs.remove(0);
        }
    }
    let frames = recorder.finish(out)?;
    Ok(Recording { frames, episode_length: config.max_cycles, scenes })
}
