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
    /// Agent groups that play uniformly random actions instead of their trained policy
    /// (comma-separated group names, e.g. `agent` on simple_tag: trained predators against a
    /// random prey).
    #[arg(long, value_delimiter = ',')]
    random_groups: Vec<String>,
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let dir = super::checkpoint_dir(&args.checkpoint)?;
    let ctx = super::open_gpu()?;
    let results = shoal::train::eval::evaluate_against(&ctx, &dir, args.episodes, args.seed, &args.random_groups)?;
    let groups: Vec<String> = results[0].groups.iter().map(|g| format!("{}{}", g.group, if g.random { " (random)" } else { "" })).collect();
    print!("{:<11} {:>9} {:>12} {:>10}", "policy", "episodes", "mean return", "std");
    for g in &groups {
        print!(" {g:>20}");
    }
    println!();
    for r in &results {
        print!("{:<11} {:>9} {:>12.3} {:>10.3}", r.mode, r.episodes, r.mean_return, r.std_return);
        for g in &r.groups {
            print!(" {:>20.3}", g.mean_return);
        }
        println!();
    }
    if results[0].groups.len() > 1 {
        println!("mean reward on the episodes' last step:");
        for r in &results {
            print!("{:<11} {:>9} {:>12} {:>10}", r.mode, "", "", "");
            for g in &r.groups {
                print!(" {:>20.4}", g.last_step_reward);
            }
            println!();
        }
    }
    if let Some(path) = &args.json {
        shoal::io::write_atomic(path, &serde_json::to_vec_pretty(&results)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
