//! `shoal compare`: the same training for several algorithms and seeds, one table, one figure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::train::{group_columns, plot_column, plot_learning_curves, read_curve, train_loop};
use shoal::train::{new_learner, resume_learner, Algo, CheckpointState, TrainConfig};
use shoal::report::{Block, Report};
use shoal::ShoalError;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Environment to train on [default: simple-spread, or the config file's].
    #[arg(long, value_enum)]
    env: Option<shoal::env::EnvKind>,
    /// Algorithms, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "ippo,mappo")]
    algos: Vec<Algo>,
    /// Seeds per algorithm (0..seeds).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Env steps per run.
    #[arg(long)]
    steps: Option<u64>,
    /// Base configuration (TOML) shared by every run.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Parallel envs per run.
    #[arg(long)]
    envs: Option<usize>,
    /// One algorithm's own base configuration, as ALGO=FILE (repeatable): its runs start from
    /// FILE instead of --config, so each family trains with its own settings
    /// (`--algo-config iql=examples/iql_simple_spread.toml`). --env, --steps, --envs and --set
    /// apply over it; every run must train on the same env.
    #[arg(long = "algo-config", value_name = "ALGO=FILE")]
    algo_config: Vec<String>,
    /// Any training key for every run, as KEY=VALUE (repeatable), over the configuration files.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Output directory: one sub-directory per run, compare.md, compare.json, learning_curves.png.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct Row {
    algo: String,
    seeds: usize,
    final_return_mean: f64,
    final_return_std: f64,
    wall_seconds_mean: f64,
    env_steps_per_s: f64,
    env_steps: u64,
}

/// Each algorithm's base configuration: its `--algo-config` file or `--config`, with the flags
/// that apply to every run over it.
fn base_configs(args: &CompareArgs) -> anyhow::Result<Vec<TrainConfig>> {
    let mut files: Vec<(Algo, PathBuf)> = Vec::new();
    for item in &args.algo_config {
        let parsed = item.split_once('=').and_then(|(algo, file)| Some((<Algo as clap::ValueEnum>::from_str(algo.trim(), true).ok()?, PathBuf::from(file.trim()))));
        match parsed {
            Some((algo, file)) if args.algos.contains(&algo) => files.push((algo, file)),
            Some((algo, _)) => return Err(ShoalError::config("algo-config", item, format!("{} is not one of --algos", algo.name())).into()),
            None => return Err(ShoalError::config("algo-config", item, "expected ALGO=FILE, e.g. --algo-config iql=examples/iql_simple_spread.toml").into()),
        }
    }
    let mut bases = Vec::new();
    for &algo in &args.algos {
        let file = files.iter().rev().find(|(a, _)| *a == algo).map(|(_, f)| f).or(args.config.as_ref());
        let mut base = match file {
            Some(path) => TrainConfig::from_toml_file(path)?,
            None => TrainConfig::default(),
        };
        if let Some(v) = args.steps { base.total_env_steps = v; }
        if let Some(v) = args.envs { base.envs = v; }
        if let Some(kind) = args.env { base = base.on_env(kind); }
        // Every compared algorithm must fit the env (mappo is not a swarm algorithm, mfac no
        // simple_spread one): check each before the first run starts.
        let base = TrainConfig { algo, ..base };
        let base = if args.set.is_empty() { base } else { base.with_overrides(&args.set)? };
        base.validate()?;
        if let Some(first) = bases.first().filter(|b: &&TrainConfig| b.env != base.env) {
            return Err(ShoalError::config("algo-config", algo.name(), format!("its runs would train on {} and {}'s on {}: compare on one env (--env)", base.env, args.algos[0].name(), first.env)).into());
        }
        bases.push(base);
    }
    Ok(bases)
}

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    if args.seeds == 0 || args.algos.is_empty() {
        return Err(ShoalError::config("seeds", args.seeds, "compare at least one algorithm over at least one seed").into());
    }
    let bases = base_configs(&args)?;
    let ctx = super::open_gpu()?;
    // One writer per output directory (created if needed), for the whole comparison.
    let _lock = shoal::train::RunLock::acquire(&args.out)?;
    let mut rows = Vec::new();
    let mut curves = Vec::new();
    for (&algo, base) in args.algos.iter().zip(&bases) {
        let mut finals = Vec::new();
        let mut walls = Vec::new();
        let mut paths = Vec::new();
        for seed in 0..args.seeds {
            let config = TrainConfig { seed, ..base.clone() };
            let dir = args.out.join(format!("{}-seed{seed}", algo.name()));
            let checkpoint = dir.join("checkpoint");
            // A run of this comparison that was interrupted (or is already done) continues from
            // its checkpoint instead of starting over; only a run of the same config counts.
            let resumable = CheckpointState::read(&checkpoint).is_ok_and(|state| state.config == config);
            let mut trainer = if resumable {
                eprintln!("{} seed {seed}: continuing from {}", algo.name(), checkpoint.display());
                resume_learner(ctx.clone(), &checkpoint)?
            } else {
                std::fs::create_dir_all(&dir).map_err(|e| ShoalError::io(&dir, e))?;
                shoal::io::write_atomic(&dir.join("config.toml"), toml::to_string(&config)?.as_bytes())?;
                eprintln!("{} seed {seed}", algo.name());
                let learner = new_learner(ctx.clone(), config)?;
                super::train::write_csv_header(&dir.join("metrics.csv"), &learner.group_names())?;
                learner
            };
            let summary = train_loop(trainer.as_mut(), &dir, true)?;
            // Final return: mean over the last tenth of the run's updates (at least one).
            let curve = read_curve(&dir.join("metrics.csv"))?;
            let tail = (curve.len() / 10).max(1);
            finals.push(curve[curve.len() - tail..].iter().map(|p| p.1).sum::<f64>() / tail as f64);
            walls.push(summary.wall_seconds);
            paths.push(dir.join("metrics.csv"));
        }
        let n = finals.len() as f64;
        let mean = finals.iter().sum::<f64>() / n;
        let std = (finals.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / n).sqrt();
        let wall = walls.iter().sum::<f64>() / n;
        rows.push(Row {
            algo: algo.name().into(),
            seeds: finals.len(),
            final_return_mean: mean,
            final_return_std: std,
            wall_seconds_mean: wall,
            env_steps_per_s: base.total_env_steps as f64 / wall,
            env_steps: base.updates() as u64 * base.steps_per_update(),
        });
        curves.push((algo.name().to_string(), paths));
    }
    let mut table = String::from("| algo | seeds | env steps | final return (mean ± std) | wall time (s) | env-steps/s |\n|---|---:|---:|---:|---:|---:|\n");
    for r in &rows {
        table += &format!(
            "| {} | {} | {} | {:.2} ± {:.2} | {:.1} | {:.0} |\n",
            r.algo, r.seeds, r.env_steps, r.final_return_mean, r.final_return_std, r.wall_seconds_mean, r.env_steps_per_s
        );
    }
    println!("adapter: {}\n{table}", ctx.adapter_name());
    shoal::io::write_atomic(&args.out.join("compare.md"), table.as_bytes())?;
    shoal::io::write_atomic(&args.out.join("compare.json"), &serde_json::to_vec_pretty(&rows)?)?;
    let env = bases[0].env;
    plot_learning_curves(&curves, &format!("{}: mean episode return", env.name()), &args.out.join("learning_curves.png"))?;
    eprintln!("wrote {}", args.out.join("learning_curves.png").display());

    let mut report = Report::new(format!("shoal compare: {} on {}", args.algos.iter().map(|a| a.name()).collect::<Vec<_>>().join(" vs "), env.name()));
    super::report::header(&mut report, &ctx);
    report.push(Block::Heading("Results".into()));
    report.push(Block::Text("Final return: mean over the last tenth of each run's updates, then over seeds.".into()));
    report.push(Block::Table {
        header: ["algo", "seeds", "env steps", "final return", "± std", "wall time (s)", "env-steps/s"].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![r.algo.clone(), r.seeds.to_string(), r.env_steps.to_string(), format!("{:.3}", r.final_return_mean),
                     format!("{:.3}", r.final_return_std), format!("{:.1}", r.wall_seconds_mean), format!("{:.0}", r.env_steps_per_s)]
            })
            .collect(),
    });
    if args.out.join("learning_curves.png").is_file() {
        report.figure("learning_curves", "Mean per-agent episode return (line: mean over seeds, band: min..max)", args.out.join("learning_curves.png"));
    }
    // Envs with several agent groups (predators and prey): each group's return on its own, where
    // the mean over all agents mixes opposite rewards.
    let groups = curves.first().map(|(_, paths)| group_columns(&paths[0])).transpose()?.unwrap_or_default();
    for group in &groups {
        let png = args.out.join(format!("learning_curves_{group}.png"));
        let title = format!("{}: {group} episode return", env.name());
        plot_column(&curves, &format!("return_{group}"), &title, &format!("mean episode return of `{group}`"), &png)?;
        if png.is_file() {
            report.figure(&format!("learning_curves_{group}"), &format!("The {group} group's mean episode return (line: mean over seeds, band: min..max)"), &png);
        }
    }
    let seed0: Vec<(String, std::path::PathBuf)> =
        curves.iter().map(|(algo, paths)| (format!("{algo} seed 0"), paths[0].clone())).collect();
    let throughput = args.out.join("throughput.png");
    super::report::throughput_chart(&seed0.iter().map(|(l, p)| (l.clone(), p.as_path())).collect::<Vec<_>>(), &throughput)?;
    report.figure("throughput", "Env steps per second of each update (seed 0 of each algorithm)", &throughput);
    // The best algorithm's seed-0 policy is the one shown.
    let best = rows.iter().enumerate().max_by(|a, b| a.1.final_return_mean.total_cmp(&b.1.final_return_mean)).map_or(0, |(i, _)| i);
    let best_run = args.out.join(format!("{}-seed0", rows[best].algo));
    report.push(Block::Text(format!("Final policy shown: {} seed 0 (best final return).", rows[best].algo)));
    super::report::final_policy(&mut report, &ctx, &best_run.join("checkpoint"), &args.out)?;
    if bases.iter().all(|b| TrainConfig { algo: bases[0].algo, ..b.clone() } == bases[0]) {
        report.push(Block::Heading("Base configuration".into()));
        report.push(Block::Code(toml::to_string(&bases[0])?));
    } else {
        for base in &bases {
            report.push(Block::Heading(format!("Base configuration of {}", base.algo.name())));
            report.push(Block::Code(toml::to_string(base)?));
        }
    }
    report.write(&args.out.join("report.html"))?;
    eprintln!("wrote {}", args.out.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}
