//! PNG charts (plotters, bitmap backend): learning curves, benchmark tables.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (`DejaVuSans.ttf`, license beside it),
//! so charts render the same on a headless CI machine with no fonts installed. Files are written
//! atomically: drawn to a temporary sibling, then renamed.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::style::FontStyle;

use crate::error::{Result, ShoalError};

static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// One line of a chart, with an optional shaded band (e.g. min..max over seeds).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// `(x, y)` points in order.
    pub points: Vec<(f64, f64)>,
    /// `(x, low, high)` band drawn under the line.
    pub band: Option<Vec<(f64, f64, f64)>>,
}

/// Axis scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear axis.
    Linear,
    /// Base-10 logarithmic axis.
    Log,
}

/// A line chart.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title at the top.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// X axis scale.
    pub x_scale: Scale,
    /// Y axis scale.
    pub y_scale: Scale,
    /// The lines.
    pub series: Vec<Series>,
}

fn plot_error(path: &Path, e: impl std::fmt::Display) -> ShoalError {
    ShoalError::io(path, std::io::Error::other(e.to_string()))
}

/// Makes the embedded font plotters' "sans-serif" (once per process).
pub(crate) fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and valid; a failure would only mean text is not drawn.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Encodes an RGB8 buffer as a PNG at `path`, atomically.
pub(crate) fn write_png(path: &Path, rgb: &[u8], width: u32, height: u32) -> Result<()> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| plot_error(path, e))?;
        writer.write_image_data(rgb).map_err(|e| plot_error(path, e))?;
    }
    crate::io::write_atomic(path, &bytes)
}

impl LineChart {
    /// Renders the chart to a `width`×`height` PNG at `path`.
    pub fn save_png(&self, path: &Path, width: u32, height: u32) -> Result<()> {
        register_font();
        let points = || self.series.iter().flat_map(|s| s.points.iter().copied());
        let bands = || self.series.iter().flat_map(|s| s.band.iter().flatten().copied());
        let xs: Vec<f64> = points().map(|p| p.0).chain(bands().map(|b| b.0)).collect();
        let ys: Vec<f64> =
            points().map(|p| p.1).chain(bands().flat_map(|b| [b.1, b.2])).filter(|y| y.is_finite()).collect();
        if xs.is_empty() || ys.is_empty() {
            return Err(plot_error(path, "nothing to plot"));
        }
        let range = |v: &[f64], scale: Scale| {
            let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            match scale {
                Scale::Log => (lo.max(1e-12) / 1.5, hi.max(1e-12) * 1.5),
                Scale::Linear => {
                    let pad = ((hi - lo) * 0.05).max(1e-9);
                    (lo - pad, hi + pad)
                }
            }
        };
        let (x0, x1) = range(&xs, self.x_scale);
        let (y0, y1) = range(&ys, self.y_scale);

        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| ShoalError::io(parent, e))?;
        }
        let tmp = path.with_extension("tmp.png");
        {
            let root = BitMapBackend::new(&tmp, (width, height)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
            let mut builder = ChartBuilder::on(&root);
            builder
                .caption(&self.title, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70);
            // plotters types log and linear axes differently; draw through one generic helper.
            match (self.x_scale, self.y_scale) {
                (Scale::Log, Scale::Log) => {
                    let chart = builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale());
                    draw(self, chart.map_err(|e| plot_error(path, e))?, path)?
                }
                (Scale::Log, Scale::Linear) => {
                    let chart = builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1);
                    draw(self, chart.map_err(|e| plot_error(path, e))?, path)?
                }
                (Scale::Linear, Scale::Log) => {
                    let chart = builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale());
                    draw(self, chart.map_err(|e| plot_error(path, e))?, path)?
                }
                (Scale::Linear, Scale::Linear) => {
                    let chart = builder.build_cartesian_2d(x0..x1, y0..y1);
                    draw(self, chart.map_err(|e| plot_error(path, e))?, path)?
                }
            }
            root.present().map_err(|e| plot_error(path, e))?;
        }
        std::fs::rename(&tmp, path).map_err(|e| ShoalError::io(path, e))
    }
}

fn draw<'a, X, Y>(
    spec: &LineChart,
    mut chart: ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    path: &Path,
) -> Result<()>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .x_label_formatter(&|v: &f64| human(*v))
        .y_label_formatter(&|v: &f64| human(*v))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| plot_error(path, e))?;
    for (i, series) in spec.series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        if let Some(band) = &series.band {
            let polygon: Vec<(f64, f64)> = band
                .iter()
                .map(|b| (b.0, b.2))
                .chain(band.iter().rev().map(|b| (b.0, b.1)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(polygon, color.mix(0.2).filled())))
                .map_err(|e| plot_error(path, e))?;
        }
        chart
            .draw_series(LineSeries::new(series.points.iter().copied(), color.stroke_width(2)))
            .map_err(|e| plot_error(path, e))?
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart
            .draw_series(series.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| plot_error(path, e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| plot_error(path, e))?;
    Ok(())
}

/// Axis labels people read at a glance: 2.5M, 16k, 0.5, -19.
fn human(v: f64) -> String {
    let a = v.abs();
    let trim = |x: f64, unit: &str| {
        let text = format!("{x:.1}");
        format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
    };
    if a >= 1e6 {
        trim(v / 1e6, "M")
    } else if a >= 1e3 {
        trim(v / 1e3, "k")
    } else if a >= 1.0 || a == 0.0 {
        trim(v, "")
    } else if a >= 0.01 {
        format!("{v:.2}")
    } else {
        // Log axes reach far below 0.01 (NashConv, losses): 1e-3, 2.5e-5.
        let text = format!("{v:.1e}");
        text.replace(".0e", "e")
    }
}
