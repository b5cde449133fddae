//! Pictures of episodes: animated GIFs a person can watch, and filmstrips for reports.
//!
//! Rendering is split in two so that every environment shares one drawing path:
//!
//! 1. each environment describes env 0 of its batch as a [`Scene`]
//!    ([`crate::env::BatchedEnv::scene`], one small read back per frame): plain data made of two
//!    primitives, bodies in a continuous world (agents, landmarks, goals) or a grid of coloured
//!    cells (spin lattices, density heat maps of huge swarms, grid worlds);
//! 2. [`Scene::draw`] paints a scene onto any plotters drawing area; [`GifRecorder`] encodes the
//!    frames as an animated GIF and [`save_filmstrip`] lays the first frames side by side in a PNG.
//!
//! [`record`] plays episodes of any registered env — random actions for its own action spaces, or
//! a checkpoint's policy — with the same kernels as training; nothing here runs inside a training
//! loop (reports render after training ends).

mod episode;
pub mod scene;

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::error::{Result, ShoalError};

pub use episode::record;
pub use scene::{Body, Scene, Segment};
use scene::{draw_error, CAPTION_PX};

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
    /// Size of a randomly played env, as its registry [`crate::env::Scale`] reads it (agents,
    /// or a lattice or map side); `None`: the registry's default. A checkpoint brings its own.
    pub size: Option<usize>,
    /// The randomly played env's options (mpe2's keywords); a checkpoint brings its own.
    pub options: crate::env::EnvOptions,
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

/// Frames kept for a filmstrip.
pub const FILMSTRIP_FRAMES: usize = 5;

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
        let rgb = rgb_frame(scene, width, height)?;
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

/// `scene` drawn as `height` rows of `width` RGB pixels (8 bits each, row-major): a frame for a
/// GIF, or PettingZoo's `render()` array.
pub fn rgb_frame(scene: &Scene, width: u32, height: u32) -> Result<Vec<u8>> {
    FrameFormat { width, height, fps: 10 }.validate()?;
    let mut rgb = vec![0u8; (width * height * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        scene.draw(&area)?;
        area.present().map_err(draw_error)?;
    }
    Ok(rgb)
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
