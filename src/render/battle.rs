//! battle frames (random play or a self-play checkpoint): the map as cells — walls grey, team 0
//! red, team 1 blue, darker with full HP, paler as it drains.

use std::path::Path;
use std::sync::Arc;

use plotters::style::RGBColor;

use super::{ActionSource, GifRecorder, Recording, RenderRequest, Scene};
use crate::env::battle::Fighter;
use crate::env::{Battle, BattleConfig, BatchedEnv};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::train::TrainEnvName;

/// Plays `request.episodes` games of one battle and writes them as a GIF (`request.agents` is
/// the map side for random play).
pub fn record_battle(ctx: &Arc<GpuContext>, request: &RenderRequest, out: &Path) -> Result<Recording> {
    if request.episodes == 0 {
        return Err(ShoalError::config("episodes", 0, "render at least 1 episode"));
    }
    let (mut actions, trained) = ActionSource::new(ctx, request, TrainEnvName::Battle)?;
    let config = match &trained {
        Some(train) => BattleConfig::new(1).with_map_size(train.map_size).with_max_cycles(train.max_cycles),
        None => BattleConfig::new(1).with_map_size(request.agents).with_max_cycles(200),
    };
    let mut env = Battle::new(ctx.clone(), config.clone())?;
    let mut recorder = GifRecorder::new(request.format)?;
    let mut scenes = Vec::new();
    let mut obs = env.reset(request.seed)?.obs.remove(0);
    let mut games = 0;
    let mut step = 0;
    let mut frames_per_game = Vec::new();
    while games < request.episodes {
        let scene = scene(&env.read_fighters()?[0], &config, games, step);
        recorder.push(&scene)?;
        scenes.push(scene);
        let next = actions.next(obs)?;
        let out = env.step(&[next])?;
        step += 1;
        // Games end early when a team is wiped out: one small read per frame tells.
        if ctx.read_f32(out.done.clone())?[0] > 0.5 {
            frames_per_game.push(step);
            games += 1;
            step = 0;
        }
        obs = out.obs.into_iter().next().ok_or_else(|| ShoalError::Gpu("battle returned no observation".into()))?;
    }
    let frames = recorder.finish(out)?;
    Ok(Recording { frames, episode_length: frames_per_game[0], scenes })
}

/// The scene of one env's fighters.
pub fn scene(fighters: &[Fighter], config: &BattleConfig, game: usize, step: usize) -> Scene {
    let side = config.map_size;
    let mut colors = vec![RGBColor(245, 245, 240); side * side];
    for i in 0..side {
        for c in [i, (side - 1) * side + i, i * side, i * side + side - 1] {
            colors[c] = RGBColor(120, 120, 120);
        }
    }
    let team_size = fighters.len() / 2;
    let mut alive = [0usize; 2];
    for (slot, f) in fighters.iter().enumerate().filter(|(_, f)| f.alive) {
        let team = slot / team_size;
        alive[team] += 1;
        let t = (f.hp / 10.0).clamp(0.0, 1.0) as f64;
        let mix = |pale: f64, full: f64| (pale + (full - pale) * t).round() as u8;
        colors[f.y as usize * side + f.x as usize] =
            if team == 0 { RGBColor(mix(250.0, 200.0), mix(190.0, 30.0), mix(190.0, 30.0)) } else { RGBColor(mix(190.0, 30.0), mix(200.0, 70.0), mix(250.0, 200.0)) };
    }
    let caption = format!("battle {side}×{side}  game {}  step {}  red {} v blue {}", game + 1, step + 1, alive[0], alive[1]);
    Scene::Cells { columns: side, rows: side, colors, caption }
}
