//! simple_spread frames: agents (blue, red ring while colliding), landmarks (grey, green ring
//! while an agent covers them), and a caption with the episode, step, collisions and coverage.

use std::path::Path;
use std::sync::Arc;

use plotters::style::RGBColor;

use super::{ActionSource, Body, GifRecorder, Recording, RenderRequest, Scene};
use crate::env::{BatchedEnv, SimpleSpread, SimpleSpreadConfig, WorldState};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::train::TrainEnvName;

/// Agent and landmark radii (mpe2 simple_spread).
const AGENT_SIZE: f64 = 0.15;
const LANDMARK_SIZE: f64 = 0.05;
/// A landmark counts as covered within this distance of an agent (mpe2's `benchmark_data`).
const COVER_DISTANCE: f64 = 0.1;

/// Plays `request.episodes` episodes of one simple_spread env and writes them to `out` as a GIF,
/// one frame per step (the state each step starts from).
pub fn record_simple_spread(ctx: &Arc<GpuContext>, request: &RenderRequest, out: &Path) -> Result<Recording> {
    if request.episodes == 0 {
        return Err(ShoalError::config("episodes", 0, "render at least 1 episode"));
    }
    let (mut actions, trained) = ActionSource::new(ctx, request, TrainEnvName::SimpleSpread)?;
    let config = match &trained {
        Some(train) => SimpleSpreadConfig::new(1)
            .with_n_agents(train.agents)
            .with_local_ratio(train.local_ratio)
            .with_max_cycles(train.max_cycles)
            .with_continuous(train.continuous),
        None => SimpleSpreadConfig::new(1).with_n_agents(request.agents),
    };
    let mut env = SimpleSpread::new(ctx.clone(), config.clone())?;
    let agents = config.n_agents;

    let mut recorder = GifRecorder::new(request.format)?;
    let mut scenes = Vec::new();
    let mut obs = env.reset(request.seed)?.obs.remove(0);
    for episode in 0..request.episodes {
        for step in 0..config.max_cycles {
            let scene = scene(&env.read_state()?, agents, episode, step, config.max_cycles);
            recorder.push(&scene)?;
            scenes.push(scene);
            let next = actions.next(obs)?;
            // The last step of an episode auto-resets: the next frame starts the next episode.
            obs = env.step(&[next])?.obs.remove(0);
        }
    }
    let frames = recorder.finish(out)?;
    Ok(Recording { frames, episode_length: config.max_cycles, scenes })
}

/// The scene of env 0 of `state`.
pub fn scene(state: &WorldState, agents: usize, episode: usize, step: usize, max_cycles: usize) -> Scene {
    let point = |v: &[f32], i: usize| (v[2 * i] as f64, v[2 * i + 1] as f64);
    let agent: Vec<(f64, f64)> = (0..agents).map(|i| point(&state.agent_pos, i)).collect();
    let landmark: Vec<(f64, f64)> = (0..agents).map(|i| point(&state.landmark_pos, i)).collect();
    let dist = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let colliding: Vec<bool> = (0..agents)
        .map(|i| (0..agents).any(|j| j != i && dist(agent[i], agent[j]) < 2.0 * AGENT_SIZE))
        .collect();
    let covered: Vec<bool> =
        landmark.iter().map(|&l| agent.iter().any(|&a| dist(a, l) < COVER_DISTANCE)).collect();
    // PettingZoo's camera: the view grows to keep everything in sight (in steps, so it jitters less).
    let reach = agent.iter().chain(&landmark).fold(1.0f64, |m, p| m.max(p.0.abs()).max(p.1.abs()));
    let half_extent = ((reach + AGENT_SIZE) * 4.0).ceil() / 4.0;
    let mut bodies: Vec<Body> = landmark
        .iter()
        .zip(&covered)
        .map(|(&(x, y), &c)| Body {
            x,
            y,
            radius: LANDMARK_SIZE,
            fill: RGBColor(64, 64, 64),
            ring: c.then_some(RGBColor(20, 160, 60)),
        })
        .collect();
    bodies.extend(agent.iter().zip(&colliding).map(|(&(x, y), &c)| Body {
        x,
        y,
        radius: AGENT_SIZE,
        fill: RGBColor(89, 89, 217),
        ring: c.then_some(RGBColor(220, 40, 40)),
    }));
    let collisions = colliding.iter().filter(|&&c| c).count();
    let covered = covered.iter().filter(|&&c| c).count();
    Scene::Bodies {
        half_extent,
        bodies,
        caption: format!(
            "ep {}  step {}/{max_cycles}  colliding {collisions}  covered {covered}/{agents}",
            episode + 1,
            step + 1
        ),
    }
}
