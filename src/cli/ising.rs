//! `shoal ising`: the Ising order parameter against temperature, by Metropolis Monte Carlo (the
//! physics reference) and by mean-field Q-learning agents, with a JSON table and a plot.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use shoal::env::ising::{self, OrderPoint, ONSAGER_TC};
use shoal::plot::{LineChart, Scale, Series};
use shoal::ShoalError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Checkerboard Metropolis Monte Carlo.
    Mcmc,
    /// Mean-field Q-learning: every site a learning agent (Boltzmann policy at temperature T).
    Mfq,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Mcmc => "mcmc",
            Method::Mfq => "mfq",
        }
    }
}

#[derive(Debug, Args)]
pub struct IsingArgs {
    /// Methods, comma-separated (each gets a curve in the same plot).
    #[arg(long, value_delimiter = ',', default_value = "mcmc")]
    method: Vec<Method>,
    /// Lattice side L (L×L sites, periodic).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Temperatures, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1.0,1.2,1.4,1.6,1.8,2.0,2.2,2.4,2.6,2.8,3.0,3.2,3.4,3.6")]
    temperatures: Vec<f32>,
    /// Lattices per temperature (all temperatures run in one batch).
    #[arg(long, default_value_t = 16)]
    envs: usize,
    /// Equilibration sweeps (MCMC) or learning steps (MF-Q) before measuring.
    #[arg(long, default_value_t = 2000)]
    equilibration: usize,
    /// Measurement sweeps (MCMC) or steps (MF-Q), one sample each.
    #[arg(long, default_value_t = 2000)]
    measurements: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the rows as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the order-parameter plot (PNG) here.
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// One row of `--json`.
#[derive(Debug, Serialize)]
struct Row {
    temperature: f64,
    order_parameter: f64,
    susceptibility: f64,
    method: &'static str,
    size: usize,
}

pub fn run(args: IsingArgs) -> anyhow::Result<ExitCode> {
    if args.temperatures.is_empty() || args.envs == 0 || args.measurements == 0 {
        return Err(ShoalError::config("temperatures/envs/measurements", 0, "need at least one of each").into());
    }
    if let Some(t) = args.temperatures.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
        return Err(ShoalError::config("temperatures", t, "temperatures must be positive numbers").into());
    }
    let ctx = super::open_gpu()?;
    let mut rows = Vec::new();
    let mut series = Vec::new();
    for &method in &args.method {
        let total = (args.equilibration + args.measurements) as u64;
        let bar = ProgressBar::new(total);
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {bar:30} {pos}/{len} sweeps").expect("static template"));
        bar.set_message(method.name());
        let tick = |done: usize| bar.set_position(done as u64);
        let points: Vec<OrderPoint> = match method {
            Method::Mcmc => ising::order_parameter_curve(&ctx, args.size, &args.temperatures, args.envs, args.equilibration, args.measurements, args.seed, tick)?,
            Method::Mfq => shoal::train::mfq::order_parameter_curve(&ctx, args.size, &args.temperatures, args.envs, args.equilibration, args.measurements, args.seed, tick)?,
        };
        bar.finish_and_clear();
        let transition = ising::steepest_drop(&points);
        println!("{} on {}×{} lattices ({} per temperature), adapter {}", method.name(), args.size, args.size, args.envs, ctx.adapter_name());
        println!("{:>12} {:>16} {:>15}", "temperature", "order parameter", "susceptibility");
        for p in &points {
            println!("{:>12.3} {:>16.4} {:>15.3}", p.temperature, p.order_parameter, p.susceptibility);
            rows.push(Row { temperature: p.temperature, order_parameter: p.order_parameter, susceptibility: p.susceptibility, method: method.name(), size: args.size });
        }
        if let Some(t) = transition {
            println!("steepest drop of the order parameter at T ≈ {t:.3} (Onsager: {ONSAGER_TC:.3}, {:+.1}%)\n", 100.0 * (t / ONSAGER_TC - 1.0));
        }
        series.push(Series {
            name: match transition {
                Some(t) => format!("{} (steepest drop at T≈{t:.2})", method.name()),
                None => method.name().to_string(),
            },
            points: points.iter().map(|p| (p.temperature, p.order_parameter)).collect(),
            band: None,
        });
    }
    if let Some(path) = &args.json {
        shoal::io::write_atomic(path, &serde_json::to_vec_pretty(&rows)?)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.plot {
        series.push(Series { name: format!("Onsager T_c = {ONSAGER_TC:.3}"), points: vec![(ONSAGER_TC, 0.0), (ONSAGER_TC, 1.0)], band: None });
        LineChart {
            title: format!("2-D Ising model, {}×{} periodic lattice: order parameter", args.size, args.size),
            x_label: "temperature T (J = 1, h = 0)".into(),
            y_label: "order parameter ⟨|m|⟩".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            series,
        }
        .save_png(path, 900, 560)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
