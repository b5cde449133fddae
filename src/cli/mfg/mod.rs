//! `shoal mfg`: solve a mean-field game exactly — fictitious play and online mirror descent on a
//! road network — with the exact NashConv of every iterate: a table on stdout, `mfg.json` (one
//! row per algorithm and iteration), `nash_conv.png`, `link_flows.png` (who ends up where) and
//! `report.html`.
//!
//! Everything runs on the host in f64 (see `shoal::mfg::routing` for why): no adapter needed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use shoal::mfg::{nash_conv, uniform, MeanFieldGame, MeanFieldSolver, NetworkFile, RoutingGame, Solver, TabularPolicy, BUILTIN_NETWORKS};
use shoal::plot::{LineChart, Scale, Series};
use shoal::report::{Block, Report};
use shoal::ShoalError;

mod lin_quad;
mod n_player;

/// Most iterations one command may run (each is a few passes over the game).
const MAX_ITERATIONS: usize = 1_000_000;

#[derive(Debug, Args)]
pub struct MfgArgs {
    /// A built-in network (braess, braess_without_bc, pigou, sioux_falls, sioux_falls_dummy), a
    /// network JSON file (format: examples/networks/braess.json), or lin_quad (the market: its
    /// exact equilibrium, OpenSpiel's default coefficients with --time-step as dt, 0.1 if not given).
    #[arg(long, default_value = "braess")]
    game: String,
    /// Algorithms, comma-separated: fp (fictitious play), omd (online mirror descent).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fp,omd")]
    algo: Vec<Solver>,
    /// Iterations per algorithm.
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// Online mirror descent's learning rate (OpenSpiel's Braess test uses 1).
    #[arg(long, default_value_t = 1.0)]
    learning_rate: f64,
    /// Length of a time step [default: the network file's].
    #[arg(long)]
    time_step: Option<f64>,
    /// Time steps per episode [default: the network file's].
    #[arg(long)]
    time_steps: Option<usize>,
    /// Also play the final policy in the N-player game on the device with these many vehicles
    /// per env (comma-separated, e.g. 8,64,512,4096,32768,262144,1048576), and find the N-player
    /// game's own equilibrium at each N by best-response dynamics (networks with few routes:
    /// Braess, Pigou), played on the device too: n_player.json and n_player_gap.png, both travel
    /// times against the mean field's.
    #[arg(long, value_delimiter = ',')]
    n_player: Vec<usize>,
    /// Vehicles simulated per N in --n-player (envs = this / N, at least 1): the average's
    /// precision.
    #[arg(long, default_value_t = 1 << 20)]
    n_player_vehicles: usize,
    /// lin_quad: a `shoal train --env market` run whose policy's feedback gain to measure and
    /// set beside the equilibrium's.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Output directory: mfg.json, nash_conv.png, link_flows.png, report.html.
    #[arg(long, default_value = "runs/mfg")]
    out: PathBuf,
}

/// One iterate of one algorithm, as `mfg.json` holds it.
#[derive(Debug, Clone, Serialize)]
struct Row {
    algo: Solver,
    iteration: usize,
    nash_conv: f64,
    /// Expected travel time of the iterate against its own distribution.
    travel_time: f64,
    /// Seconds since the algorithm started.
    seconds: f64,
}

pub fn run(args: MfgArgs) -> anyhow::Result<ExitCode> {
    if args.algo.is_empty() {
        return Err(ShoalError::config("algo", "", "name at least one algorithm (fp, omd)").into());
    }
    if args.iterations == 0 || args.iterations > MAX_ITERATIONS {
        return Err(ShoalError::config("iterations", args.iterations, format!("must be in 1..={MAX_ITERATIONS}")).into());
    }
    if !(args.learning_rate.is_finite() && args.learning_rate > 0.0) {
        return Err(ShoalError::config("learning-rate", args.learning_rate, "must be a positive number").into());
    }
    if args.game == "lin_quad" {
        let (game, learned) = match &args.checkpoint {
            Some(dir) => {
                let (game, gains) = lin_quad::learned_gains(dir)?;
                (game, Some(gains))
            }
            None => (shoal::mfg::LinQuad { dt: args.time_step.unwrap_or(0.1), ..Default::default() }, None),
        };
        lin_quad::run(&game, learned.as_deref(), &args.out, format!("{args:#?}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.checkpoint.is_some() {
        return Err(ShoalError::config("checkpoint", args.game.clone(), "--checkpoint goes with --game lin_quad (a market policy)").into());
    }
    let file = NetworkFile::load(&args.game)?;
    let game = RoutingGame::new(&file, args.time_step, args.time_steps)?;
    println!(
        "{}: {} links, {} vehicles, {} demand entries, {} steps of {}",
        game.network.name,
        game.network.links.len(),
        game.vehicles,
        game.demand.len(),
        game.time_steps,
        game.time_step
    );
    let mut rows = Vec::new();
    let mut finals = Vec::new();
    for &algo in &args.algo {
        let (algo_rows, policy) = solve(&game, algo, &args);
        rows.extend(algo_rows);
        finals.push((algo, policy));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| ShoalError::io(&args.out, e))?;
    let json = args.out.join("mfg.json");
    shoal::io::write_atomic(&json, &serde_json::to_vec_pretty(&rows)?)?;
    let nash_png = args.out.join("nash_conv.png");
    plot_nash_conv(&game.network.name, &rows, &nash_png)?;
    let flows_png = args.out.join("link_flows.png");
    plot_link_flows(&game, &finals, &flows_png)?;
    let n_player = if args.n_player.is_empty() {
        Vec::new()
    } else {
        let (algo, policy) = finals.iter().find(|(a, _)| *a == Solver::Omd).unwrap_or(&finals[0]);
        println!("N-player game on the device, playing {}'s final policy:", long_name(*algo));
        let rows = n_player::run(&args, &game, policy)?;
        shoal::io::write_atomic(&args.out.join("n_player.json"), &serde_json::to_vec_pretty(&rows)?)?;
        n_player::plot_gap(&game.network.name, &rows, &args.out.join("n_player_gap.png"))?;
        rows
    };
    let gap_png = (!n_player.is_empty()).then(|| args.out.join("n_player_gap.png"));
    write_report(&args, &game, &rows, &finals, &nash_png, &flows_png, gap_png.as_deref())?;
    if !n_player.is_empty() {
        eprintln!("wrote {} and {}", args.out.join("n_player.json").display(), args.out.join("n_player_gap.png").display());
    }
    eprintln!("wrote {}, {}, {} and {}", json.display(), nash_png.display(), flows_png.display(), args.out.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}

fn solve(game: &RoutingGame, algo: Solver, args: &MfgArgs) -> (Vec<Row>, TabularPolicy) {
    let start = Instant::now();
    let uniform = uniform(game);
    let first = Row {
        algo,
        iteration: 0,
        nash_conv: nash_conv(game, &uniform),
        travel_time: game.distribution(&uniform).travel_time,
        seconds: 0.0,
    };
    println!("{:>4} {:>9} {:>12} {:>12} {:>9}", "algo", "iteration", "NashConv", "travel time", "seconds");
    let print = |r: &Row| println!("{:>4} {:>9} {:>12.6} {:>12.4} {:>9.2}", name(r.algo), r.iteration, r.nash_conv, r.travel_time, r.seconds);
    print(&first);
    let mut rows = vec![first];
    let bar = ProgressBar::new(args.iterations as u64);
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {bar:30} {pos}/{len} iterations").expect("static template"));
    bar.set_message(name(algo));
    let mut solver = MeanFieldSolver::new(game, algo, args.learning_rate);
    let every = (args.iterations / 20).max(1);
    for _ in 0..args.iterations {
        let it = solver.step();
        let row = Row { algo, iteration: it.iteration, nash_conv: it.nash_conv, travel_time: -it.value, seconds: start.elapsed().as_secs_f64() };
        if row.iteration % every == 0 || row.iteration == args.iterations {
            bar.suspend(|| print(&row));
        }
        rows.push(row);
        bar.inc(1);
    }
    bar.finish_and_clear();
    (rows, solver.policy().clone())
}

fn name(algo: Solver) -> &'static str {
    match algo {
        Solver::Fp => "fp",
        Solver::Omd => "omd",
    }
}

fn long_name(algo: Solver) -> &'static str {
    match algo {
        Solver::Fp => "fictitious play",
        Solver::Omd => "online mirror descent",
    }
}

fn plot_nash_conv(network: &str, rows: &[Row], png: &Path) -> anyhow::Result<()> {
    let mut algos: Vec<Solver> = rows.iter().map(|r| r.algo).collect();
    algos.dedup();
    // NashConv reaches exactly 0 on discretised networks: drawn at 1e-6 on the log axis.
    let series = algos
        .iter()
        .map(|&algo| Series {
            name: long_name(algo).into(),
            points: rows.iter().filter(|r| r.algo == algo).map(|r| (r.iteration as f64, r.nash_conv.max(1e-6))).collect(),
            band: None,
        })
        .collect();
    LineChart {
        title: format!("{network}: exact NashConv per iteration (0 drawn at 1e-6)"),
        x_label: "iteration".into(),
        y_label: "NashConv (travel time)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        series,
    }
    .save_png(png, 900, 520)?;
    Ok(())
}

/// Vehicles on each of the busiest links over the episode, under each algorithm's final policy.
fn plot_link_flows(game: &RoutingGame, finals: &[(Solver, TabularPolicy)], png: &Path) -> anyhow::Result<()> {
    let mut series = Vec::new();
    for (algo, policy) in finals {
        let dist = game.distribution(policy);
        let total = |l: usize| dist.volume.iter().map(|v| v[l]).sum::<f64>();
        let mut busiest: Vec<usize> = (0..game.network.links.len()).filter(|&l| total(l) > 0.0).collect();
        busiest.sort_by(|&a, &b| total(b).total_cmp(&total(a)));
        for &l in busiest.iter().take(6) {
            series.push(Series {
                name: format!("{} {}", name(*algo), game.network.link_name(l)),
                points: dist.volume.iter().enumerate().map(|(t, v)| (t as f64 * game.time_step, v[l])).collect(),
                band: None,
            });
        }
    }
    LineChart {
        title: format!("{}: vehicles on the busiest links under each final policy", game.network.name),
        x_label: "time".into(),
        y_label: "vehicles on the link".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series,
    }
    .save_png(png, 900, 520)?;
    Ok(())
}

fn write_report(
    args: &MfgArgs,
    game: &RoutingGame,
    rows: &[Row],
    finals: &[(Solver, TabularPolicy)],
    nash_png: &Path,
    flows_png: &Path,
    gap_png: Option<&Path>,
) -> anyhow::Result<()> {
    let mut report = Report::new(format!("shoal mfg — {}", game.network.name));
    report.push(Block::Facts(vec![
        ("network".into(), format!("{} ({} links)", game.network.name, game.network.links.len())),
        ("vehicles".into(), format!("{}", game.vehicles)),
        ("time".into(), format!("{} steps of {}", game.time_steps, game.time_step)),
        ("shoal".into(), env!("CARGO_PKG_VERSION").into()),
    ]));
    report.push(Block::Text(
        "The mean-field routing game solved exactly on the host: the population's distribution is pushed forward, \
         best responses and policy values come from backward induction, and NashConv (best response value minus \
         the policy's, against the policy's own distribution) is exact."
            .into(),
    ));
    report.figure("nash_conv", "Exact NashConv per iteration (log scale; exact zeros drawn at 1e-6).", nash_png);
    report.figure("link_flows", "Vehicles on the busiest links over the episode, final policies.", flows_png);
    if let Some(png) = gap_png {
        report.figure(
            "n_player_gap",
            "N vehicles on the device: the mean-field policy played by N, and the N-player game's own equilibrium (best-response dynamics), against the mean field's travel time.",
            png,
        );
    }
    report.push(Block::Heading("Final iterates".into()));
    report.push(Block::Table {
        header: ["algo", "iterations", "NashConv", "travel time", "arrived", "seconds"].map(String::from).to_vec(),
        rows: finals
            .iter()
            .map(|(algo, policy)| {
                let last = rows.iter().filter(|r| r.algo == *algo).last().expect("iteration 0 is always recorded");
                vec![
                    long_name(*algo).into(),
                    last.iteration.to_string(),
                    format!("{:.6}", last.nash_conv),
                    format!("{:.4}", last.travel_time),
                    format!("{:.4}", game.distribution(policy).arrived),
                    format!("{:.2}", last.seconds),
                ]
            })
            .collect(),
    });
    let builtin: Vec<&str> = BUILTIN_NETWORKS.iter().map(|(n, _)| *n).collect();
    report.push(Block::Text(format!("Built-in networks: {}.", builtin.join(", "))));
    report.push(Block::Code(format!("{args:#?}")));
    report.write(&args.out.join("report.html"))?;
    Ok(())
}
