//! `shoal ising`: the Ising order parameter against temperature, by Metropolis Monte Carlo (the
//! physics reference) and by mean-field Q-learning agents, with a JSON table and a plot.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use shoal::env::ising::{self, Energy, InitialSpins, OrderCurve, OrderPoint};
use shoal::train::mfq::{MfqConfig, Moves};
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
    /// Start every lattice with all spins up (ordered: below T_c a run then only has to melt, never
    /// to coarsen domains) or with a fair coin per site (random).
    #[arg(long, value_enum, default_value = "ordered")]
    start: InitialSpins,
    /// Metropolis's energy: the lattice's (total) or each site's own reward (own).
    #[arg(long, value_enum, default_value = "total")]
    energy: Energy,
    /// MF-Q's discount factor (0: the myopic Q ← Q + α(r − Q) of mlii/mfrl's Ising code).
    #[arg(long, default_value_t = 0.9)]
    gamma: f32,
    /// MF-Q: one Q table per site, learning from that site alone (mlii/mfrl's Ising code),
    /// instead of one per lattice shared by all its sites.
    #[arg(long)]
    per_site_tables: bool,
    /// MF-Q: every site moves at every step (synchronous, the paper's), or the checkerboard's two
    /// colours in turn (checkerboard, as Metropolis's sites do; a step then moves half the sites).
    /// Comma-separated: one MF-Q curve each.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "synchronous")]
    moves: Vec<Moves>,
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
    /// Metropolis's energy (MCMC rows) or MF-Q's discount (MF-Q rows).
    energy: Option<Energy>,
    gamma: Option<f32>,
    per_site_tables: Option<bool>,
    moves: Option<&'static str>,
}

pub fn run(args: IsingArgs) -> anyhow::Result<ExitCode> {
    if args.temperatures.is_empty() || args.envs == 0 || args.measurements == 0 {
        return Err(ShoalError::config("temperatures/envs/measurements", 0, "need at least one of each").into());
    }
    if let Some(t) = args.temperatures.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
        return Err(ShoalError::config("temperatures", t, "temperatures must be positive numbers").into());
    }
    let energy = args.energy;
    let mfq = MfqConfig::new().with_gamma(args.gamma).with_per_site(args.per_site_tables);
    // One curve per Metropolis method, one per MF-Q move schedule.
    let curves: Vec<(Method, Moves)> = args
        .method
        .iter()
        .flat_map(|&method| match method {
            Method::Mcmc => vec![(method, Moves::Synchronous)],
            Method::Mfq => args.moves.iter().map(|&m| (method, m)).collect(),
        })
        .collect();
    let curve = OrderCurve {
        size: args.size,
        temperatures: args.temperatures.clone(),
        replicas: args.envs,
        equilibration: args.equilibration,
        measurements: args.measurements,
        seed: args.seed,
        initial: args.start,
    };
    let ctx = super::open_gpu()?;
    let tc = energy.critical_temperature();
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut mcmc_transition = None;
    for &(method, moves) in &curves {
        let total = (args.equilibration + args.measurements) as u64;
        let bar = ProgressBar::new(total);
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {bar:30} {pos}/{len} sweeps").expect("static template"));
        bar.set_message(method.name());
        let tick = |done: usize| bar.set_position(done as u64);
        let points: Vec<OrderPoint> = match method {
            Method::Mcmc => ising::order_parameter_curve(&ctx, &curve, energy, tick)?,
            Method::Mfq => shoal::train::mfq::order_parameter_curve(&ctx, &curve, mfq.clone().with_moves(moves), tick)?,
        };
        bar.finish_and_clear();
        let transition = ising::steepest_drop(&points);
        let setting = match method {
            Method::Mcmc => format!("{} energy", energy.name()),
            Method::Mfq => format!("γ = {}, {} tables, {} moves", args.gamma, if args.per_site_tables { "per-site" } else { "shared" }, moves.name()),
        };
        println!("{} ({setting}) on {}×{} lattices ({} per temperature), adapter {}", method.name(), args.size, args.size, args.envs, ctx.adapter_name());
        println!("{:>12} {:>16} {:>15}", "temperature", "order parameter", "susceptibility");
        for p in &points {
            println!("{:>12.3} {:>16.4} {:>15.3}", p.temperature, p.order_parameter, p.susceptibility);
            let mfq_row = method == Method::Mfq;
            rows.push(Row {
                temperature: p.temperature,
                order_parameter: p.order_parameter,
                susceptibility: p.susceptibility,
                method: method.name(),
                size: args.size,
                energy: (!mfq_row).then_some(energy),
                gamma: mfq_row.then_some(args.gamma),
                per_site_tables: mfq_row.then_some(args.per_site_tables),
                moves: mfq_row.then_some(moves.name()),
            });
        }
        if let Some(t) = transition {
            print!("steepest drop of the order parameter at T ≈ {t:.3} (T_c of the {} energy: {tc:.3}, {:+.1}%", energy.name(), 100.0 * (t / tc - 1.0));
            match (method, mcmc_transition) {
                (Method::Mfq, Some(m)) => println!("; this run's Metropolis: {m:.3}, {:+.1}%)\n", 100.0 * (t / m - 1.0)),
                _ => println!(")\n"),
            }
            if method == Method::Mcmc {
                mcmc_transition = Some(t);
            }
        }
        series.push(Series {
            name: match transition {
                Some(t) => format!("{} ({setting}; steepest drop at T≈{t:.2})", method.name()),
                None => format!("{} ({setting})", method.name()),
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
        series.push(Series { name: format!("T_c = {tc:.3} ({} energy, infinite lattice)", energy.name()), points: vec![(tc, 0.0), (tc, 1.0)], band: None });
        if args.method.contains(&Method::Mfq) {
            // Mean-field theory: what MF-Q agents moving all at once follow.
            let (low, high) = args.temperatures.iter().fold((f64::MAX, f64::MIN), |(l, h), &t| (l.min(t as f64), h.max(t as f64)));
            let points = (0..=200).map(|i| low + (high - low) * i as f64 / 200.0).map(|t| (t, ising::curie_weiss_magnetisation(t, energy))).collect();
            series.push(Series { name: format!("Curie–Weiss mean field ({} energy)", energy.name()), points, band: None });
        }
        LineChart {
            title: format!("2-D Ising model, {}×{} periodic lattice: order parameter", args.size, args.size),
            x_label: "temperature T (env coupling J = 1, h = 0)".into(),
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
