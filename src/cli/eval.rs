//! `shoal eval`: mean and std of the return of a trained policy, greedy and stochastic.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory (with checkpoint/) or a checkpoint directory.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Episodes per mode (played in parallel, at most 1,024 at a time).
    #[arg(long, default_value_t = 1000)]
    episodes: usize,
    /// Seed of the evaluation envs and sampling (independent of training).
    #[arg(long, default_value_t = 12345)]
    seed: u64,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let dir = super::checkpoint_dir(&args.checkpoint)?;
    let ctx = super::open_gpu()?;
    let results = shoal::train::evaluate(&ctx, &dir, args.episodes, args.seed)?;
    println!("{:<11} {:>9} {:>12} {:>10}", "policy", "episodes", "mean return", "std");
    for r in &results {
        println!("{:<11} {:>9} {:>12.3} {:>10.3}", r.mode, r.episodes, r.mean_return, r.std_return);
    }
    if let Some(path) = &args.json {
        shoal::io::write_atomic(path, &serde_json::to_vec_pretty(&results)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
