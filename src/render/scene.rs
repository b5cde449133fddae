//! A frame as plain data — bodies in a continuous world or a grid of coloured cells — and how to
//! paint it. Environments describe their state as a [`Scene`] ([`crate::env::BatchedEnv::scene`]);
//! everything that draws (GIFs, filmstrips, reports) goes through [`Scene::draw`], so a new
//! environment gets pictures by describing itself, not by drawing.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Result, ShoalError};

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

/// A line in world coordinates (a road).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Start, world units.
    pub from: (f64, f64),
    /// End, world units.
    pub to: (f64, f64),
    /// Stroke width in pixels.
    pub width: u32,
    /// Colour.
    pub color: RGBColor,
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
    /// Segments (roads, drawn first) and bodies (nodes) in the square `[-half_extent, half_extent]²`.
    Graph {
        /// Half the side of the visible world.
        half_extent: f64,
        /// Drawn first, in order.
        segments: Vec<Segment>,
        /// Drawn on top of the segments.
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

/// Height in pixels of the caption strip above each picture.
pub(crate) const CAPTION_PX: u32 = 24;

pub(crate) fn draw_error(e: impl std::fmt::Display) -> ShoalError {
    ShoalError::Drawing(format!("a frame: {e}"))
}

impl Scene {
    /// The same scene with `prefix` (episode and step, say) before its caption.
    pub fn with_caption_prefix(mut self, prefix: &str) -> Scene {
        match &mut self {
            Scene::Bodies { caption, .. } | Scene::Graph { caption, .. } | Scene::Cells { caption, .. } => *caption = format!("{prefix}  {caption}"),
        }
        self
    }

    /// The caption line.
    pub fn caption(&self) -> &str {
        match self {
            Scene::Bodies { caption, .. } | Scene::Graph { caption, .. } | Scene::Cells { caption, .. } => caption,
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
            Scene::Graph { half_extent, segments, bodies, .. } => {
                let scale = side / (2.0 * half_extent);
                let to_px = |(x, y): (f64, f64)| ((origin.0 + (x + half_extent) * scale) as i32, (origin.1 + (half_extent - y) * scale) as i32);
                for segment in segments {
                    let line = PathElement::new(vec![to_px(segment.from), to_px(segment.to)], segment.color.stroke_width(segment.width));
                    area.draw(&line).map_err(draw_error)?;
                }
                for body in bodies {
                    let radius = ((body.radius * scale).round() as i32).max(2);
                    area.draw(&Circle::new(to_px((body.x, body.y)), radius, body.fill.filled())).map_err(draw_error)?;
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

