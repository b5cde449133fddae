//! `shoal render`: an animated GIF of episodes of one env, played by a checkpoint or at random.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args};

use shoal::env::EnvKind;
use shoal::render::{self, EpisodePolicy, FrameFormat, RenderRequest};
use shoal::ShoalError;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("policy").required(true).args(["checkpoint", "random"])))]
pub struct RenderArgs {
    /// Environment to render.
    #[arg(long, value_enum, default_value = "simple-spread")]
    env: EnvKind,
    /// A run directory (with checkpoint/) or a checkpoint directory whose policy plays.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Play uniformly random actions instead of a checkpoint.
    #[arg(long)]
    random: bool,
    /// Sample the checkpoint's actions instead of taking the most likely one.
    #[arg(long, requires = "checkpoint")]
    stochastic: bool,
    /// Seed of the env and of sampled actions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Episodes, one after the other (frames = episodes × episode length).
    #[arg(long, default_value_t = 1)]
    episodes: usize,
    /// Agents per env for --random, for envs sized by agents [default: simple_spread 3, swarm
    /// 1000]; a checkpoint brings its own.
    #[arg(long, conflicts_with = "checkpoint")]
    agents: Option<usize>,
    /// An env option for --random, as KEY=VALUE by mpe2's keyword (repeatable):
    /// --env-option num_adversaries=6. A checkpoint brings its own.
    #[arg(long = "env-option", value_name = "KEY=VALUE", conflicts_with = "checkpoint")]
    env_option: Vec<String>,
    /// Lattice or map side for --random, for envs sized by a side [default: ising 64, battle 40].
    #[arg(long, conflicts_with = "checkpoint")]
    size: Option<usize>,
    /// Frame width in pixels.
    #[arg(long, default_value_t = FrameFormat::default().width)]
    width: u32,
    /// Frame height in pixels (a caption line included).
    #[arg(long, default_value_t = FrameFormat::default().height)]
    height: u32,
    /// Frames per second.
    #[arg(long, default_value_t = FrameFormat::default().fps)]
    fps: u32,
    /// Also write a PNG of 5 frames evenly spaced over the first episode.
    #[arg(long)]
    filmstrip: Option<PathBuf>,
    /// The GIF to write.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let format = FrameFormat { width: args.width, height: args.height, fps: args.fps };
    format.validate()?;
    let policy = match &args.checkpoint {
        Some(path) => EpisodePolicy::Checkpoint { dir: super::checkpoint_dir(path)?, greedy: !args.stochastic },
        None => EpisodePolicy::Random,
    };
    let scale = args.env.entry().scale;
    let (size, other) = if scale.is_side() { (args.size, args.agents) } else { (args.agents, args.size) };
    if let Some(value) = other {
        let (flag, right) = if scale.is_side() { ("agents", "--size") } else { ("size", "--agents") };
        return Err(ShoalError::config(flag, value, format!("{} is sized with {right}", args.env)).into());
    }
    let options = shoal::env::EnvOptions::parse(&args.env_option)?;
    let request = RenderRequest { policy, episodes: args.episodes, seed: args.seed, format, size, options };
    let ctx = super::open_gpu()?;
    let recording = render::record(&ctx, args.env, &request, &args.out)?;
    if let Some(png) = &args.filmstrip {
        render::save_filmstrip(&recording.episode_overview(), 240, png)?;
        eprintln!("wrote {}", png.display());
    }
    println!(
        "wrote {}: {} frames ({} episode{} × {} steps) at {} fps",
        args.out.display(),
        recording.frames,
        args.episodes,
        if args.episodes == 1 { "" } else { "s" },
        recording.episode_length,
        args.fps
    );
    Ok(ExitCode::SUCCESS)
}
