//! `shoal train`: any learner on any registered env that lists it (IPPO, MAPPO, MF-AC, MF-Q;
//! see the registry), with progress, metrics, plots, checkpoints and a report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use shoal::report::Block;
use shoal::train::session::{self, RunSummary};
pub use shoal::train::session::{group_columns, plot_column, plot_learning_curves, read_curve, train_loop, write_csv_header};
use shoal::train::{Algo, Learner, TrainConfig};

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
        Some(dir) => session::run_dir(dir),
        None => args.out.clone().expect("clap requires --out without --resume"),
    };
    if args.resume.is_none() && !args.force {
        session::refuse_existing_run(&out)?;
    }
    let ctx = super::open_gpu()?;
    let (mut trainer, _lock) = match config {
        None => session::resume_run(ctx.clone(), &out)?,
        Some(config) => session::start_run(ctx.clone(), config, &out)?,
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

