//! Subcommands of the `shoal` binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod arena;
mod bench;
mod bench_learner;
mod compare;
mod eval;
mod ising;
mod league;
mod mfg;
mod psro;
mod render;
mod replay;
mod report;
mod train;

/// shoal: multi-agent reinforcement learning at GPU speed.
#[derive(Debug, Parser)]
#[command(name = "shoal", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure env-steps/s of any registered env at several batch sizes (or, with --learner, training).
    Bench(bench::BenchArgs),
    /// Replay recorded reference trajectories on the GPU and compare.
    Replay(replay::ReplayArgs),
    /// Train on any registered env (IPPO, MAPPO, MF-AC, MF-Q, IQL, VDN, MADDPG, DDPG, COMA), everything on the device.
    Train(train::TrainArgs),
    /// Evaluate a trained policy (greedy and stochastic).
    Eval(eval::EvalArgs),
    /// Train several algorithms over several seeds; one table, one figure.
    Compare(compare::CompareArgs),
    /// Ising order parameter vs temperature: Metropolis Monte Carlo and mean-field Q-learning.
    Ising(ising::IsingArgs),
    /// Write an animated GIF of episodes played by a checkpoint or at random.
    Render(render::RenderArgs),
    /// Two battle checkpoints play each other: win/draw/loss and survivors.
    Arena(arena::ArenaArgs),
    /// League self-play (latest / uniform / PFSP opponents) on a two-player zero-sum game.
    League(league::LeagueArgs),
    /// Solve a mean-field routing game exactly (fictitious play, online mirror descent): NashConv per iteration.
    Mfg(mfg::MfgArgs),
    /// PSRO on a two-player zero-sum game (rps, biased_rps, kuhn): exact NashConv per iteration.
    Psro(psro::PsroArgs),
}

/// Runs the parsed command; `Ok` carries the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Render(args) => render::run(args),
        Command::Ising(args) => ising::run(args),
        Command::Mfg(args) => mfg::run(args),
        Command::Psro(args) => psro::run(args),
        Command::League(args) => league::run(args),
        Command::Arena(args) => arena::run(args),
    }
}

/// Opens the shared GPU context and says which adapter was picked (stderr, so stdout stays data).
pub fn open_gpu() -> anyhow::Result<std::sync::Arc<shoal::GpuContext>> {
    let ctx = shoal::GpuContext::shared()?;
    eprintln!("adapter: {}", ctx.adapter_name());
    if ctx.adapter_info().backend == wgpu::Backend::Gl {
        eprintln!(
            "warning: running on OpenGL, which is much slower; install a Vulkan driver \
             (Debian: mesa-vulkan-drivers) for the software path"
        );
    }
    if let Some(note) = ctx.mesa_version().filter(|_| ctx.is_software()).and_then(|(major, minor)| mesa_note(major, minor)) {
        eprintln!("{note}");
    }
    Ok(ctx)
}

/// What a newer lavapipe gives shoal's learner, for a software adapter from Mesa `major.minor`
/// (measured on one 2-core machine, same binary: BENCHMARKS.md, "The driver" and "Mesa 26").
fn mesa_note(major: u32, minor: u32) -> Option<String> {
    let upgrade = match major {
        ..=23 => "≈3× faster on Mesa 25's lavapipe, and faster again on Mesa 26's. Debian 12: add \
                  bookworm-backports, then `apt-get install -t bookworm-backports mesa-vulkan-drivers`",
        24 | 25 => "≈2.5× faster on Mesa 26's lavapipe than on Mesa 25.0's (Debian 13: from trixie-backports; \
                    Debian 12, as root: `.ci/mesa-chroot shoal …` in shoal's repository; BENCHMARKS.md, \"Mesa 26\")",
        _ => return None,
    };
    Some(format!("note: lavapipe from Mesa {major}.{minor}; shoal's learner runs {upgrade}"))
}

/// A run directory's `checkpoint/`, or the path itself when it is a checkpoint directory —
/// verified, and recovered from an interrupted write (see `shoal::train::store`).
pub fn checkpoint_dir(path: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    Ok(shoal::train::locate_checkpoint(path)?)
}

#[cfg(test)]
mod tests {
    use super::mesa_note;

    #[test]
    fn older_lavapipe_is_told_what_a_newer_one_gives() {
        assert!(mesa_note(22, 3).unwrap().contains("bookworm-backports"));
        assert!(mesa_note(25, 0).unwrap().contains("Mesa 26"));
        assert!(mesa_note(26, 2).is_none());
        assert!(mesa_note(27, 0).is_none());
    }
}
