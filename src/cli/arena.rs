//! `shoal arena`: two Battle checkpoints play each other; win/draw/loss and survivors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use shoal::env::EnvKind;
use shoal::ShoalError;

#[derive(Debug, Args)]
pub struct ArenaArgs {
    /// Environment (battle).
    #[arg(long, value_enum, default_value = "battle")]
    env: EnvKind,
    /// Policy A: a run directory or its checkpoint.
    #[arg(long)]
    a: PathBuf,
    /// Policy B: a run directory or its checkpoint.
    #[arg(long)]
    b: PathBuf,
    /// Games (all at once; half with each policy as team 0).
    #[arg(long, default_value_t = 200)]
    games: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Play the policies' modes instead of sampling.
    #[arg(long)]
    greedy: bool,
    /// Write the result as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: ArenaArgs) -> anyhow::Result<ExitCode> {
    if args.env != EnvKind::Battle {
        return Err(ShoalError::config("env", args.env.name(), "the arena plays battle (two teams)").into());
    }
    let ctx = super::open_gpu()?;
    let locate = |path: &std::path::Path| {
        super::checkpoint_dir(path).map_err(|e| anyhow::anyhow!("{e}\nthe arena plays the checkpoints of `shoal train --env battle` runs: pass their --out directories"))
    };
    let (a, b) = (locate(&args.a)?, locate(&args.b)?);
    let r = shoal::train::arena::play(&ctx, &a, &b, args.games, args.seed, args.greedy)?;
    println!("arena: {} vs {} on {}, {} games ({})", args.a.display(), args.b.display(), ctx.adapter_name(), r.games, if args.greedy { "greedy" } else { "sampled" });
    println!("A wins {} ({:.1}%), draws {}, losses {}", r.wins, 100.0 * r.wins / r.games.max(1.0), r.draws, r.losses);
    println!("mean survivors at the end: A {:.1}, B {:.1}", r.survivors_a, r.survivors_b);
    if let Some(path) = &args.json {
        shoal::io::write_atomic(path, &serde_json::to_vec_pretty(&r)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
