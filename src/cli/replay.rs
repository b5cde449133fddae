//! `shoal replay`: run recorded reference trajectories on the GPU, write ours, check the error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use shoal::env::EnvKind;
use shoal::replay::{replay, write_trajectories, TrajectoryFile};
use shoal::ShoalError;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The scenario to replay: the file's trajectories of it (an MPE scenario: simple,
    /// simple-spread, simple-line, simple-formation).
    #[arg(long, value_enum, default_value = "simple-spread")]
    env: EnvKind,
    /// Trajectories to replay (JSON lines, PettingZoo conformance format; the MPE suite's file
    /// holds every scenario's).
    #[arg(long)]
    input: PathBuf,
    /// Write our trajectories (same format) here.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Compare with the input and exit non-zero if any field differs by more than --tol.
    #[arg(long)]
    check: bool,
    /// Largest absolute error accepted by --check.
    #[arg(long, default_value_t = 1e-4)]
    tol: f64,
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    if !(args.tol >= 0.0) {
        return Err(ShoalError::config("tol", args.tol, "must be a non-negative number").into());
    }
    if args.env.entry().replay.is_none() {
        return Err(ShoalError::config("env", args.env.name(), format!("no recorded reference to replay; replayable: {}", EnvKind::replayable_names())).into());
    }
    let file = TrajectoryFile::read(&args.input)?.only(args.env)?;
    let ctx = super::open_gpu()?;
    let (ours, report) = replay(&ctx, &file)?;
    if let Some(path) = &args.output {
        write_trajectories(path, &ours)?;
        eprintln!("wrote {} trajectories to {}", ours.len(), path.display());
    }
    println!("replayed {} {} trajectories, {} steps", report.trajectories, args.env.name(), report.steps);
    println!("{:<12} {:>12}", "field", "max |error|");
    for (field, err) in &report.max_abs_error {
        println!("{field:<12} {err:>12.3e}");
    }
    println!("truncation mismatches: {}, termination mismatches: {}", report.truncated_mismatches, report.terminated_mismatches);
    if args.check {
        if report.passes(args.tol) {
            println!("check passed (tol {:.1e})", args.tol);
        } else {
            println!("check FAILED: worst error {:.3e} > tol {:.1e} or truncation mismatch", report.worst(), args.tol);
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
