//! swarm frames (random play or a trained policy): each agent a dot (red while crowded), or — past a few thousand agents — a
//! density heat map of the whole world.

use std::path::Path;
use std::sync::Arc;

use plotters::style::RGBColor;

use super::{ActionSource, Body, GifRecorder, Recording, RenderRequest, Scene};
use crate::env::{BatchedEnv, Swarm, SwarmConfig, SwarmState};
use crate::train::TrainEnvName;
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Above this many agents a frame is a density map instead of dots.
pub const MAX_DOTS: usize = 4000;
/// Cells per side of the density map.
const DENSITY_CELLS: usize = 96;

/// Plays `request.episodes` episodes of one swarm (random actions) and writes them as a GIF.
pub fn record_swarm(ctx: &Arc<GpuContext>, request: &RenderRequest, out: &Path) -> Result<Recording> {
    if request.episodes == 0 {
        return Err(ShoalError::config("episodes", 0, "render at least 1 episode"));
    }
    let (mut actions, trained) = ActionSource::new(ctx, request, TrainEnvName::Swarm)?;
    let config = match &trained {
        Some(train) => SwarmConfig::new(1).with_agents(train.agents).with_max_cycles(train.max_cycles),
        None => SwarmConfig::new(1).with_agents(request.agents),
    };
    let mut env = Swarm::new(ctx.clone(), config.clone())?;
    let mut recorder = GifRecorder::new(request.format)?;
    let mut scenes = Vec::new();
    let mut obs = env.reset(request.seed)?.obs.remove(0);
    for episode in 0..request.episodes {
        for step in 0..config.max_cycles {
            let scene = scene(&env.read_state()?, &config, episode, step);
            recorder.push(&scene)?;
            scenes.push(scene);
            let next = actions.next(obs)?;
            obs = env.step(&[next])?.obs.remove(0);
        }
    }
    let frames = recorder.finish(out)?;
    Ok(Recording { frames, episode_length: config.max_cycles, scenes })
}

/// The scene of env 0 of `state`.
pub fn scene(state: &SwarmState, config: &SwarmConfig, episode: usize, step: usize) -> Scene {
    let k = config.agents;
    let h = config.half_extent() as f64;
    let caption = format!("swarm  {k} agents  ep {}  step {}/{}", episode + 1, step + 1, config.max_cycles);
    let pos: Vec<(f64, f64)> = (0..k).map(|i| (state.agent_pos[2 * i] as f64, state.agent_pos[2 * i + 1] as f64)).collect();
    // Agents per cell of a coarse grid: the density map, and "crowded" for the dots.
    let cells = if k <= MAX_DOTS { ((2.0 * h / config.radius as f64).floor() as usize).max(1) } else { DENSITY_CELLS };
    let cell_of = |p: (f64, f64)| {
        let c = |v: f64| (((v + h) / (2.0 * h) * cells as f64) as usize).min(cells - 1);
        c(-p.1) * cells + c(p.0)
    };
    let mut counts = vec![0u32; cells * cells];
    for &p in &pos {
        counts[cell_of(p)] += 1;
    }
    if k <= MAX_DOTS {
        let crowded = |p| counts[cell_of(p)] >= 4;
        let bodies = pos
            .iter()
            .map(|&(x, y)| Body {
                x,
                y,
                radius: 0.3 * config.radius as f64,
                fill: if crowded((x, y)) { RGBColor(220, 50, 40) } else { RGBColor(60, 90, 200) },
                ring: None,
            })
            .collect();
        Scene::Bodies { half_extent: h, bodies, caption: caption + "  (red: crowded)" }
    } else {
        let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let colors = counts
            .iter()
            .map(|&c| {
                // White (empty) to deep blue (densest cell of the frame).
                let t = c as f64 / max;
                let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
                RGBColor(mix(255.0, 8.0), mix(255.0, 40.0), mix(255.0, 120.0))
            })
            .collect();
        Scene::Cells { columns: cells, rows: cells, colors, caption: caption + "  (density)" }
    }
}
