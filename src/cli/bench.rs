//! `shoal bench`: env-steps/s per batch size, as a table and optionally as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::EnvName;
use shoal::bench::{BenchRow, ThroughputRig};
use shoal::plot::{LineChart, Scale, Series};
use shoal::{ShoalError, SimpleSpreadConfig};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Environment to step.
    #[arg(long, value_enum, default_value = "simple-spread")]
    env: EnvName,
    /// Batch sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,64,1024,16384,65536")]
    envs: Vec<usize>,
    /// Timed steps per batch size.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Untimed steps before timing (shader compilation, pool warm-up).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Agents per env (simple_spread: N agents, N landmarks).
    #[arg(long, default_value_t = 3)]
    agents: usize,
    /// Continuous actions instead of discrete.
    #[arg(long)]
    continuous: bool,
    /// Seed for the env and the random actions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the rows as a JSON list to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also plot env-steps/s against batch size to this PNG.
    #[arg(long)]
    plot: Option<PathBuf>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.steps == 0 {
        return Err(ShoalError::config("steps", 0, "time at least 1 step").into());
    }
    if args.envs.is_empty() {
        return Err(ShoalError::config("envs", "(empty)", "give at least one batch size").into());
    }
    let ctx = super::open_gpu()?;
    let progress = ProgressBar::new(args.envs.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("static template"),
    );
    let mut rows: Vec<BenchRow> = Vec::new();
    for &envs in &args.envs {
        progress.set_message(format!("{envs} envs"));
        let row = match args.env {
            EnvName::SimpleSpread => {
                let config = SimpleSpreadConfig::new(envs)
                    .with_n_agents(args.agents)
                    .with_continuous(args.continuous);
                ThroughputRig::simple_spread(&ctx, config, args.seed)?.measure(args.warmup, args.steps)?
            }
        };
        progress.inc(1);
        rows.push(row);
    }
    progress.finish_and_clear();

    println!("adapter: {}", ctx.adapter_name());
    println!(
        "{:<14} {:>8} {:>7} {:>6} {:>9} {:>15} {:>17}",
        "env", "envs", "agents", "steps", "seconds", "env-steps/s", "agent-steps/s"
    );
    for r in &rows {
        println!(
            "{:<14} {:>8} {:>7} {:>6} {:>9.4} {:>15.0} {:>17.0}",
            r.env, r.envs, r.agents_per_env, r.steps, r.seconds, r.env_steps_per_s, r.agent_steps_per_s
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_vec_pretty(&rows)?;
        shoal::io::write_atomic(path, &text)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.plot {
        let chart = LineChart {
            title: format!("{} throughput — {}", rows[0].env, ctx.adapter_info().name),
            x_label: "parallel envs".into(),
            y_label: "env-steps / s".into(),
            x_scale: Scale::Log,
            y_scale: Scale::Log,
            series: vec![Series {
                name: format!("{} agents/env", rows[0].agents_per_env),
                points: rows.iter().map(|r| (r.envs as f64, r.env_steps_per_s)).collect(),
                band: None,
            }],
        };
        chart.save_png(path, 900, 560)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
