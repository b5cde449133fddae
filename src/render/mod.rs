//! Pictures of episodes: animated GIFs a person can watch, and filmstrips for reports.
//!
//! Rendering is split in two so that every environment shares one drawing path:
//!
//! 1. an environment's module here (`simple_spread`, …) reads the state of **one** env instance
//!    back once per frame and turns it into a [`Scene`], plain data made of two primitives:
//!    bodies in a continuous world (agents, landmarks, goals) or a grid of coloured cells (spin
//!    lattices, density heat maps of huge swarms, grid worlds);
//! 2. [`Scene::draw`] paints a scene onto any plotters drawing area; [`GifRecorder`] encodes the
//!    frames as an animated GIF and [`save_filmstrip`] lays the first frames side by side in a PNG.
//!
//! Episodes are stepped by the same kernels as training; only the frames' state is read back, and
//! nothing here runs inside a training loop (reports render after training ends).

pub mod battle;
pub mod ising;
pub mod simple_spread;
pub mod swarm;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use std::sync::Arc;

use burn::module::Module;
use burn::tensor::Tensor;

use crate::env::{ActionSpace, Actions, AgentGroup, RandomActions};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::train::{load_model, to_env_actions, ActorCritic, Inputs, PolicyNoise, TrainConfig, TrainEnvName};

pub use battle::record_battle;
pub use ising::record_ising;
pub use simple_spread::record_simple_spread;
pub use swarm::record_swarm;

/// A circle in world coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// Centre, world units.
    pub x: f64,
    /// Centre, world units (up is +y).
    pub y: f64,
    /// Radius, world units (drawn at least 2 px wide).
    pub radius: f64,
    /// Fill colour.
    pub fill: RGBColor,
    /// Ring drawn around the body (collisions, covered landmarks), if any.
    pub ring: Option<RGBColor>,
}

/// One frame, as data.
#[derive(Debug, Clone, PartialEq)]
pub enum Scene {
    /// Bodies in the square `[-half_extent, half_extent]²`.
    Bodies {
        /// Half the side of the visible world.
        half_extent: f64,
        /// Drawn in order (later ones on top).
        bodies: Vec<Body>,
        /// Text line above the picture.
        caption: String,
    },
    /// A `columns × rows` grid of cells, row 0 at the top.
    Cells {
        /// Cells per row.
        columns: usize,
        /// Rows.
        rows: usize,
        /// Row-major colours, `rows × columns`.
        colors: Vec<RGBColor>,
        /// Text line above the picture.
        caption: String,
    },
}

/// Who picks the actions of a rendered episode.
#[derive(Debug, Clone, PartialEq)]
pub enum EpisodePolicy {
    /// Uniformly random actions (drawn on the device).
    Random,
    /// A trained policy from a checkpoint directory; `greedy` takes the most likely action.
    Checkpoint {
        /// The checkpoint directory (with `model.bpk` and `state.json`).
        dir: PathBuf,
        /// Most likely action instead of a sample.
        greedy: bool,
    },
}

/// What to render.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderRequest {
    /// The actions' source.
    pub policy: EpisodePolicy,
    /// Episodes, one after the other.
    pub episodes: usize,
    /// Seed of the env (and of sampled actions).
    pub seed: u64,
    /// Frame size and speed.
    pub format: FrameFormat,
    /// Agents per env for a random policy (a checkpoint brings its own); for `ising`, the
    /// lattice side.
    pub agents: usize,
}

/// What a rendering produced.
#[derive(Debug, Clone)]
pub struct Recording {
    /// Frames written (episodes × episode length).
    pub frames: usize,
    /// Steps per episode.
    pub episode_length: usize,
    /// Every frame as a scene, for filmstrips.
    pub scenes: Vec<Scene>,
}

impl Recording {
    /// The first [`FILMSTRIP_FRAMES`] frames.
    pub fn first_frames(&self) -> &[Scene] {
        &self.scenes[..self.scenes.len().min(FILMSTRIP_FRAMES)]
    }

    /// [`FILMSTRIP_FRAMES`] frames evenly spaced over the first episode, its last step included.
    pub fn episode_overview(&self) -> Vec<Scene> {
        let len = self.episode_length.min(self.scenes.len());
        let k = FILMSTRIP_FRAMES.min(len);
        (0..k).map(|i| self.scenes[if k > 1 { i * (len - 1) / (k - 1) } else { 0 }].clone()).collect()
    }
}

/// Picks the actions of a rendered env (one env): uniformly at random, or a checkpoint's policy.
pub(crate) struct ActionSource {
    random: RandomActions,
    policy: Option<(ActorCritic, bool, Inputs, PolicyNoise)>,
    agents: usize,
}

impl ActionSource {
    /// The source `request` asks for. A checkpoint's run config comes back with it; it must be
    /// a run on `env`.
    pub(crate) fn new(ctx: &Arc<GpuContext>, request: &RenderRequest, env: TrainEnvName) -> Result<(ActionSource, Option<TrainConfig>)> {
        let loaded = match &request.policy {
            EpisodePolicy::Random => None,
            EpisodePolicy::Checkpoint { dir, greedy } => {
                let (config, model) = load_model(dir, ctx.device())?;
                if config.env != env {
                    return Err(ShoalError::config("checkpoint", dir.display(), format!("is a {} run; render it with --env {}", config.env.name(), config.env.name().replace('_', "-"))));
                }
                Some((config, model.valid(), *greedy))
            }
        };
        let (agents, config) = match &loaded {
            Some((config, _, _)) => (config.agents, Some(config.clone())),
            None => (request.agents, None),
        };
        let action = ActionSpace::Discrete { n: 5 };
        let action = match &config {
            Some(c) if c.continuous => ActionSpace::Continuous { dim: 5, low: 0.0, high: 1.0 },
            _ => action,
        };
        let group = AgentGroup { name: "agent".into(), agents, obs_dim: 0, action: action.clone() };
        let random = RandomActions::new(ctx.clone(), &group, 1, request.seed ^ 0x5EED_F00D)?;
        let policy = match loaded {
            Some((config, model, greedy)) => {
                let noise = PolicyNoise::new(ctx.clone(), &action, agents, 1, request.seed ^ 0xE7A1)?;
                Some((model, greedy, Inputs::new(&config, ctx.device()), noise))
            }
            None => None,
        };
        Ok((ActionSource { random, policy, agents }, config))
    }

    /// Actions for observations `[1, agents, obs]`.
    pub(crate) fn next(&mut self, obs: Tensor<3>) -> Result<Actions> {
        match &mut self.policy {
            None => Ok(self.random.sample()),
            Some((model, greedy, inputs, noise)) => {
                let u = noise.sample()?;
                let out = model.act(inputs.actor(obs), (!*greedy).then_some(u));
                Ok(to_env_actions(out.action, 1, self.agents))
            }
        }
    }
}

/// Frames kept for a filmstrip.
pub const FILMSTRIP_FRAMES: usize = 5;

/// Height in pixels of the caption strip above each picture.
const CAPTION_PX: u32 = 24;

fn draw_error(e: impl std::fmt::Display) -> ShoalError {
    ShoalError::Gpu(format!("drawing a frame failed: {e}"))
}

impl Scene {
    /// The caption line.
    pub fn caption(&self) -> &str {
        match self {
            Scene::Bodies { caption, .. } | Scene::Cells { caption, .. } => caption,
        }
    }

    /// Paints the scene onto `area` (any size; the picture is centred and square).
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        crate::plot::register_font();
        area.fill(&WHITE).map_err(draw_error)?;
        let (width, height) = area.dim_in_pixel();
        // Shrink the caption to fit narrow tiles (DejaVu Sans averages ~0.56 em per character).
        let chars = self.caption().chars().count().max(1) as f64;
        let font_px = ((width as f64 - 12.0) / (0.56 * chars)).clamp(8.0, 15.0);
        area.draw_text(self.caption(), &("sans-serif", font_px).into_font().color(&BLACK), (6, 5)).map_err(draw_error)?;
        let side = width.min(height.saturating_sub(CAPTION_PX)).saturating_sub(8).max(1) as f64;
        let origin = ((width as f64 - side) / 2.0, CAPTION_PX as f64 + (height as f64 - CAPTION_PX as f64 - side) / 2.0);
        let frame = Rectangle::new(
            [(origin.0 as i32 - 1, origin.1 as i32 - 1), ((origin.0 + side) as i32 + 1, (origin.1 + side) as i32 + 1)],
            RGBColor(160, 160, 160).stroke_width(1),
        );
        match self {
            Scene::Bodies { half_extent, bodies, .. } => {
                let scale = side / (2.0 * half_extent);
                let to_px = |x: f64, y: f64| {
                    ((origin.0 + (x + half_extent) * scale) as i32, (origin.1 + (half_extent - y) * scale) as i32)
                };
                let radius_px = |body: &Body| ((body.radius * scale).round() as i32).max(2);
                for body in bodies {
                    area.draw(&Circle::new(to_px(body.x, body.y), radius_px(body), body.fill.filled())).map_err(draw_error)?;
                }
                // Rings last, so a landmark's ring shows even under the agent covering it.
                for body in bodies {
                    if let Some(ring) = body.ring {
                        let circle = Circle::new(to_px(body.x, body.y), radius_px(body) + 2, ring.stroke_width(3));
                        area.draw(&circle).map_err(draw_error)?;
                    }
                }
            }
            Scene::Cells { columns, rows, colors, .. } => {
                let cell = side / (*columns.max(rows)).max(1) as f64;
                for (i, color) in colors.iter().enumerate() {
                    let (r, c) = ((i / columns) as f64, (i % columns) as f64);
                    let top_left = ((origin.0 + c * cell) as i32, (origin.1 + r * cell) as i32);
                    let bottom_right = ((origin.0 + (c + 1.0) * cell) as i32, (origin.1 + (r + 1.0) * cell) as i32);
                    area.draw(&Rectangle::new([top_left, bottom_right], color.filled())).map_err(draw_error)?;
                }
            }
        }
        area.draw(&frame).map_err(draw_error)?;
        Ok(())
    }
}

/// Size and speed of a rendered animation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameFormat {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels (the caption strip included).
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
}

impl Default for FrameFormat {
    fn default() -> Self {
        FrameFormat { width: 480, height: 504, fps: 10 }
    }
}

impl FrameFormat {
    /// Rejects sizes a GIF cannot hold or a viewer would not want.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [("width", self.width), ("height", self.height)] {
            if !(64..=2048).contains(&value) {
                return Err(ShoalError::config(name, value, "frame size must be 64..=2048 pixels"));
            }
        }
        if !(1..=50).contains(&self.fps) {
            return Err(ShoalError::config("fps", self.fps, "frames per second must be 1..=50 (GIF delays are in 1/100 s)"));
        }
        Ok(())
    }
}

/// Encodes scenes as the frames of an animated GIF, in memory until [`GifRecorder::finish`].
pub struct GifRecorder {
    format: FrameFormat,
    encoder: gif::Encoder<Vec<u8>>,
    frames: usize,
}

impl GifRecorder {
    /// An empty looping animation of the given format.
    pub fn new(format: FrameFormat) -> Result<GifRecorder> {
        format.validate()?;
        let mut encoder = gif::Encoder::new(Vec::new(), format.width as u16, format.height as u16, &[]).map_err(draw_error)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(draw_error)?;
        Ok(GifRecorder { format, encoder, frames: 0 })
    }

    /// Draws `scene` and appends it as the next frame.
    pub fn push(&mut self, scene: &Scene) -> Result<()> {
        let (width, height) = (self.format.width, self.format.height);
        let mut rgb = vec![0u8; (width * height * 3) as usize];
        {
            let area = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            scene.draw(&area)?;
            area.present().map_err(draw_error)?;
        }
        // NeuQuant at speed 10: a good palette for anti-aliased circles at a few ms per frame.
        let mut frame = gif::Frame::from_rgb_speed(width as u16, height as u16, &rgb, 10);
        frame.delay = (100 / self.format.fps).max(1) as u16;
        self.encoder.write_frame(&frame).map_err(draw_error)?;
        self.frames += 1;
        Ok(())
    }

    /// Frames so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Writes the animation to `path` atomically; returns the frame count.
    pub fn finish(self, path: &Path) -> Result<usize> {
        let bytes = self.encoder.into_inner().map_err(draw_error)?;
        crate::io::write_atomic(path, &bytes)?;
        Ok(self.frames)
    }
}

/// Lays `scenes` side by side, each `tile`×`tile` pixels, in one PNG (written atomically).
pub fn save_filmstrip(scenes: &[Scene], tile: u32, path: &Path) -> Result<()> {
    if scenes.is_empty() {
        return Err(ShoalError::config("filmstrip", 0, "needs at least one frame"));
    }
    let (width, height) = (tile * scenes.len() as u32, tile + CAPTION_PX);
    let mut rgb = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        for (scene, area) in scenes.iter().zip(root.split_evenly((1, scenes.len()))) {
            scene.draw(&area)?;
        }
        root.present().map_err(draw_error)?;
    }
    crate::plot::write_png(path, &rgb, width, height)
}
