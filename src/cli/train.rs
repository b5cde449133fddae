//! `shoal train`: any learner on any registered env that lists it (IPPO, MAPPO, MF-AC, MF-Q;
//! see the registry), with progress, metrics, plots, checkpoints and a report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use shoal::plot::{LineChart, Scale, Series};
use shoal::report::Block;
use shoal::train::{new_learner, resume_learner, Algo, Learner, RunLock, TrainConfig, UpdateMetrics};
use shoal::ShoalError;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Environment to train on [default: simple-spread, or the config file's].
    #[arg(long, value_enum)]
    env: Option<shoal::env::EnvKind>,
    /// The algorithm [default: the config's, or the env's first in the registry].
    #[arg(long, value_enum)]
    algo: Option<Algo>,
    /// TOML file with any TrainConfig keys (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Parallel envs.
    #[arg(long)]
    envs: Option<usize>,
    /// Total env steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Run seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Agents per env.
    #[arg(long)]
    agents: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// An env option, as KEY=VALUE by mpe2's keyword (repeatable): --env-option num_good=2
    /// --env-option terminate_on_success=true (the README's table lists each env's).
    #[arg(long = "env-option", value_name = "KEY=VALUE")]
    env_option: Vec<String>,
    /// Any configuration key, as KEY=VALUE (repeatable): --set gamma=0.95 --set update_epochs=8.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Output directory (metrics.csv, learning_curve.png, checkpoint/).
    #[arg(long, required_unless_present = "resume")]
    out: Option<PathBuf>,
    /// Continue the run in this output directory from its checkpoint (with its own config).
    #[arg(long, conflicts_with_all = ["config", "algo", "envs", "steps", "seed", "agents", "lr", "env_option", "set", "out", "force"])]
    resume: Option<PathBuf>,
    /// Replace the run already in --out (its checkpoints and metrics are deleted).
    #[arg(long)]
    force: bool,
}

/// The files of a run directory that a new run would replace.
const RUN_FILES: [&str; 4] = ["config.toml", "metrics.csv", "checkpoint", "checkpoint.old"];

/// The run directory `path` names: itself, or the run around a `checkpoint/` given by mistake.
fn run_dir(path: &Path) -> PathBuf {
    let inside_run = path.file_name().is_some_and(|n| n == "checkpoint") && path.parent().is_some_and(|p| p.join("config.toml").is_file());
    if inside_run { path.parent().map(Path::to_path_buf).unwrap_or_default() } else { path.to_path_buf() }
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<TrainConfig> {
        let mut config = match &self.config {
            Some(path) => TrainConfig::from_toml_file(path)?,
            None => TrainConfig::default(),
        };
        if let Some(kind) = self.env.filter(|&k| k != config.env) {
            // Another env than the config's: its own size, and its own algorithm where the
            // config's does not apply (`--env swarm` alone trains MF-AC on a swarm, not MAPPO).
            config = config.on_env(kind);
            if self.algo.is_none() && kind.check_algo(config.algo).is_err() {
                config.algo = kind.default_algo();
            }
        }
        let mut config = config.with_env_options(&shoal::env::EnvOptions::parse(&self.env_option)?)?;
        if let Some(v) = self.algo { config.algo = v; }
        if let Some(v) = self.envs { config.envs = v; }
        if let Some(v) = self.steps { config.total_env_steps = v; }
        if let Some(v) = self.seed { config.seed = v; }
        if let Some(v) = self.agents { config.agents = v; }
        if let Some(v) = self.lr { config.lr = v; }
        Ok(config.with_overrides(&self.set)?)
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    // Configuration errors first: no need for a GPU to reject a typo.
    let config = match &args.resume {
        Some(_) => None,
        None => Some(args.config()?),
    };
    let out = match &args.resume {
        Some(dir) => run_dir(dir),
        None => args.out.clone().expect("clap requires --out without --resume"),
    };
    if args.resume.is_none() && !args.force {
        if let Some(found) = RUN_FILES.iter().find(|f| out.join(f).exists()) {
            return Err(ShoalError::config("out", out.display(), format!("already holds a run ({found}): continue it with --resume {0}, or replace it with --force", out.display())).into());
        }
    }
    if args.resume.is_some() && !out.is_dir() {
        return Err(ShoalError::config("resume", out.display(), "no run directory there: pass the --out directory of the run to continue").into());
    }
    let ctx = super::open_gpu()?;
    let (mut trainer, _lock) = match &args.resume {
        Some(_) => {
            // One writer per run directory, for the whole run (released when this process ends).
            let lock = RunLock::acquire(&out)?;
            let checkpoint = shoal::train::locate_checkpoint(&out)?;
            let trainer = resume_learner(ctx.clone(), &checkpoint)?;
            if checkpoint != out.join("checkpoint") {
                // Recovered from a copy a crash left: put it back where it belongs.
                trainer.save_checkpoint(&out.join("checkpoint"))?;
            }
            repair_metrics(&out.join("metrics.csv"), trainer.progress().update, &trainer.group_names())?;
            (trainer, lock)
        }
        None => {
            let config = config.expect("built above for a fresh run");
            // The learner (its env and model on the device) before any file or directory: a
            // run that cannot start leaves the file system as it was.
            let learner = new_learner(ctx.clone(), config.clone())?;
            let lock = RunLock::acquire(&out)?;
            for file in RUN_FILES {
                let path = out.join(file);
                let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                match removed {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(ShoalError::io(&path, e).into()),
                    _ => {}
                }
            }
            // A checkpoint of update 0 first: from here on `--resume` always has one.
            learner.save_checkpoint(&out.join("checkpoint"))?;
            let text = toml::to_string(&config)?;
            shoal::io::write_atomic(&out.join("config.toml"), text.as_bytes())?;
            write_csv_header(&out.join("metrics.csv"), &learner.group_names())?;
            (learner, lock)
        }
    };
    let summary = train_loop(trainer.as_mut(), &out, true)?;
    let report = write_report(&ctx, trainer.as_ref(), &out, &summary)?;
    eprintln!("wrote {}", report.display());
    println!(
        "{}: {} env steps in {:.1} s ({:.0} env-steps/s), final mean episode return {:.2}",
        trainer.config().algo.name(),
        summary.env_steps,
        summary.wall_seconds,
        summary.env_steps as f64 / summary.wall_seconds,
        summary.final_return
    );
    Ok(ExitCode::SUCCESS)
}

/// `DIR/report.html` of a finished run: config, adapter, curves, throughput, evaluation, episode.
fn write_report(ctx: &std::sync::Arc<shoal::GpuContext>, trainer: &dyn Learner, out: &Path, summary: &RunSummary) -> anyhow::Result<PathBuf> {
    let config = trainer.config();
    let mut report = shoal::report::Report::new(format!("shoal train: {} on {} ({} agents per env)", config.algo.name(), config.env.name(), config.agents));
    super::report::header(&mut report, ctx);
    report.push(Block::Heading("Run".into()));
    report.push(Block::Facts(vec![
        ("env steps".into(), summary.env_steps.to_string()),
        ("updates".into(), trainer.progress().update.to_string()),
        ("wall time".into(), format!("{:.1} s", summary.wall_seconds)),
        ("throughput".into(), format!("{:.0} env-steps/s (rollout + update)", summary.env_steps as f64 / summary.wall_seconds)),
        ("final mean episode return".into(), format!("{:.3}", summary.final_return)),
    ]));
    if out.join("learning_curve.png").is_file() {
        report.figure("learning_curve", "Mean per-agent episode return during training", out.join("learning_curve.png"));
    } else {
        report.push(Block::Text("No episode finished during training, so there is no learning curve: run longer than one episode (max_cycles) per env.".into()));
    }
    let throughput = out.join("throughput.png");
    super::report::throughput_chart(&[(config.algo.name().to_string(), &out.join("metrics.csv"))], &throughput)?;
    report.figure("throughput", "Env steps per second of each update", &throughput);
    super::report::final_policy(&mut report, ctx, &out.join("checkpoint"), out)?;
    report.push(Block::Heading("Configuration (config.toml)".into()));
    report.push(Block::Code(toml::to_string(config)?));
    let path = out.join("report.html");
    report.write(&path)?;
    Ok(path)
}

/// What a finished run reports.
pub struct RunSummary {
    pub env_steps: u64,
    pub wall_seconds: f64,
    pub final_return: f64,
}

/// A fresh `metrics.csv` with the header of a run on an env with these agent groups.
pub fn write_csv_header(path: &Path, groups: &[String]) -> anyhow::Result<()> {
    shoal::io::write_atomic(path, format!("{}\n", UpdateMetrics::csv_header(groups)).as_bytes())?;
    Ok(())
}

/// Makes `metrics.csv` agree with a checkpoint at update `done`: keeps the header and the whole
/// rows of updates up to `done` (rows past it are about to be redone; a partial row is what a
/// crash mid-write leaves), says what it dropped, and rewrites the file atomically if needed.
pub fn repair_metrics(csv_path: &Path, done: usize, groups: &[String]) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(csv_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(ShoalError::io(csv_path, e).into()),
    };
    let header = UpdateMetrics::csv_header(groups);
    let fields = header.split(',').count();
    let whole = |line: &str| line.split(',').count() == fields && line.split(',').all(|f| f.parse::<f64>().is_ok());
    let mut kept = vec![header];
    let lines: Vec<&str> = text.split('\n').collect();
    // The text after the last newline is a row cut short, whatever it holds.
    let complete = &lines[..lines.len().saturating_sub(1)];
    kept.extend(complete.iter().skip(1).filter(|l| whole(l) && l.split(',').next().and_then(|u| u.parse::<usize>().ok()).is_some_and(|u| u >= 1 && u <= done)).map(|l| l.to_string()));
    let repaired = kept.join("\n") + "\n";
    if repaired != text {
        let dropped = text.lines().count().saturating_sub(kept.len());
        if !text.is_empty() {
            eprintln!("{}: kept {} rows up to update {done} (the checkpoint), dropped {dropped} row(s) past it or cut short", csv_path.display(), kept.len() - 1);
        }
        shoal::io::write_atomic(csv_path, repaired.as_bytes())?;
    }
    Ok(())
}

/// Runs the remaining updates: progress bar, metrics.csv rows, checkpoints, learning curve.
pub fn train_loop(trainer: &mut dyn Learner, out: &Path, show_progress: bool) -> anyhow::Result<RunSummary> {
    let updates = trainer.config().updates();
    let bar = if show_progress { ProgressBar::new(updates as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} updates {msg}")
            .expect("static template"),
    );
    bar.set_position(trainer.progress().update as u64);
    let csv_path = out.join("metrics.csv");
    repair_metrics(&csv_path, trainer.progress().update, &trainer.group_names())?;
    let mut csv = std::fs::OpenOptions::new().append(true).open(&csv_path).map_err(|e| ShoalError::io(&csv_path, e))?;
    let checkpoint = out.join("checkpoint");
    let every = trainer.config().checkpoint_every;
    // A resumed run reports its last recorded return until it records a new one.
    let mut last_return = read_curve(&csv_path)?.last().map_or(f64::NAN, |p| p.1);
    while !trainer.finished() {
        let m = trainer.update()?;
        writeln!(csv, "{}", m.csv_row()).map_err(|e| ShoalError::io(&csv_path, e))?;
        if m.mean_episode_return.is_finite() {
            last_return = m.mean_episode_return;
        }
        bar.set_message(format!("{:.0} env-steps/s, return {:.2}", m.env_steps_per_s, last_return));
        bar.inc(1);
        if (every > 0 && m.update % every == 0) || trainer.finished() {
            trainer.save_checkpoint(&checkpoint)?;
        }
    }
    bar.finish();
    let title = format!("{}: mean episode return", trainer.config().env.name());
    plot_learning_curves(&[(trainer.config().algo.name().to_string(), vec![csv_path.clone()])], &title, &out.join("learning_curve.png"))?;
    Ok(RunSummary {
        env_steps: trainer.progress().env_steps,
        wall_seconds: trainer.progress().wall_seconds,
        final_return: last_return,
    })
}

/// Reads `(env_steps, mean_episode_return)` from a metrics.csv.
pub fn read_curve(path: &Path) -> anyhow::Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| ShoalError::io(path, e))?;
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let parse = |k: usize| -> anyhow::Result<f64> {
            fields.get(k).and_then(|f| f.parse().ok()).ok_or_else(|| {
                ShoalError::BadInput { path: path.display().to_string(), line: i + 1, message: "malformed metrics row".into() }.into()
            })
        };
        let (steps, ret) = (parse(1)?, parse(3)?);
        if ret.is_finite() {
            points.push((steps, ret));
        }
    }
    Ok(points)
}

/// One PNG: a line per label (mean over its runs) with a min..max band when there are several.
pub fn plot_learning_curves(runs: &[(String, Vec<PathBuf>)], title: &str, png: &Path) -> anyhow::Result<()> {
    let mut series = Vec::new();
    for (label, paths) in runs {
        let curves = paths.iter().map(|p| read_curve(p)).collect::<anyhow::Result<Vec<_>>>()?;
        let len = curves.iter().map(|c| c.len()).min().unwrap_or(0);
        if len == 0 {
            continue;
        }
        let points: Vec<(f64, f64)> = (0..len)
            .map(|i| (curves[0][i].0, curves.iter().map(|c| c[i].1).sum::<f64>() / curves.len() as f64))
            .collect();
        let band = (curves.len() > 1).then(|| {
            (0..len)
                .map(|i| {
                    let ys = curves.iter().map(|c| c[i].1);
                    (curves[0][i].0, ys.clone().fold(f64::MAX, f64::min), ys.fold(f64::MIN, f64::max))
                })
                .collect()
        });
        series.push(Series { name: format!("{label} ({} seed{})", curves.len(), if curves.len() > 1 { "s" } else { "" }), points, band });
    }
    if series.is_empty() {
        return Ok(());
    }
    LineChart {
        title: title.into(),
        x_label: "env steps".into(),
        y_label: "mean per-agent episode return".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series,
    }
    .save_png(png, 900, 560)?;
    Ok(())
}
