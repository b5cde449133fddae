//! Subcommands of the `shoal` binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod arena;
mod bench;
mod bench_learner;
mod compare;
mod eval;
mod ising;
mod league;
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
    /// Measure env-steps/s of a batched environment at several batch sizes.
    Bench(bench::BenchArgs),
    /// Replay recorded reference trajectories on the GPU and compare.
    Replay(replay::ReplayArgs),
    /// Train IPPO or MAPPO with rollouts and updates on the device.
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
    /// PSRO on a two-player zero-sum game (rps, biased_rps, kuhn): exact NashConv per iteration.
    Psro(psro::PsroArgs),
}

/// Environments the CLI knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvName {
    /// MPE cooperative navigation (PettingZoo simple_spread_v3).
    SimpleSpread,
    /// Crowds heading for their goals through congestion (mean-field; up to millions of agents).
    Swarm,
    /// The Ising model with every lattice site an agent (Yang et al. 2018).
    Ising,
    /// MAgent's Battle: two teams of 64 on a 40×40 grid (the Mean Field MARL paper's game).
    Battle,
}

impl EnvName {
    /// The env's name as shoal writes it.
    pub fn name(self) -> &'static str {
        match self {
            EnvName::SimpleSpread => "simple_spread",
            EnvName::Swarm => "swarm",
            EnvName::Ising => "ising",
            EnvName::Battle => "battle",
        }
    }

    /// The trainer's name for this env.
    pub fn trainable(self) -> shoal::train::TrainEnvName {
        match self {
            EnvName::SimpleSpread => shoal::train::TrainEnvName::SimpleSpread,
            EnvName::Swarm => shoal::train::TrainEnvName::Swarm,
            EnvName::Ising => shoal::train::TrainEnvName::Ising,
            EnvName::Battle => shoal::train::TrainEnvName::Battle,
        }
    }
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
    Ok(ctx)
}

/// A run directory's `checkpoint/`, or the path itself when it is a checkpoint directory.
pub fn checkpoint_dir(path: &std::path::Path) -> std::path::PathBuf {
    let nested = path.join("checkpoint");
    if nested.is_dir() { nested } else { path.to_path_buf() }
}
