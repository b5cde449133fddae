//! The `report.html` that `shoal train` and `shoal compare` leave in their output directory:
//! config, adapter, learning curves, throughput, a final evaluation and a rendered episode of the
//! final policy. Everything here runs after training has finished.

use std::path::Path;
use std::sync::Arc;

use shoal::plot::{LineChart, Scale, Series};
use shoal::render::{self, EpisodePolicy, FrameFormat, RenderRequest};
use shoal::report::{Block, Report};
use shoal::env::EnvKind;
use shoal::train::CheckpointState;
use shoal::{GpuContext, ShoalError};

/// Agent-episodes of the report's final evaluation: 256 episodes of a few agents, fewer episodes
/// of a swarm (each one already averages over its crowd), all played in parallel.
const EVAL_AGENT_EPISODES: usize = 8192;
/// Seed of the report's evaluation and rendered episode (independent of training seeds).
const REPORT_SEED: u64 = 12345;

/// Facts every report starts with.
pub fn header(report: &mut Report, ctx: &GpuContext) {
    let info = ctx.adapter_info();
    report.push(Block::Facts(vec![
        ("adapter".into(), ctx.adapter_name()),
        ("backend".into(), format!("{:?} ({:?})", info.backend, info.device_type)),
        ("shoal".into(), env!("CARGO_PKG_VERSION").into()),
    ]));
}

/// Env-steps/s of each update of a run, as a PNG.
pub fn throughput_chart(metrics_csvs: &[(String, &Path)], png: &Path) -> anyhow::Result<()> {
    let mut series = Vec::new();
    for (label, csv) in metrics_csvs {
        let text = std::fs::read_to_string(csv).map_err(|e| ShoalError::io(csv, e))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        let column = |name: &str| header.iter().position(|h| *h == name);
        let (Some(steps), Some(rate)) = (column("env_steps"), column("env_steps_per_s")) else {
            return Err(ShoalError::BadInput { path: csv.display().to_string(), line: 1, message: "no env_steps_per_s column".into() }.into());
        };
        let points = lines
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                Some((f.get(steps)?.parse().ok()?, f.get(rate)?.parse().ok()?))
            })
            .collect();
        series.push(Series { name: label.clone(), points, band: None });
    }
    LineChart {
        title: "training throughput (rollout + update)".into(),
        x_label: "env steps".into(),
        y_label: "env steps per second".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series,
    }
    .save_png(png, 900, 420)?;
    Ok(())
}

/// Evaluation table and a rendered episode of the policy in `checkpoint`; figures go to `dir`.
pub fn final_policy(report: &mut Report, ctx: &Arc<GpuContext>, checkpoint: &Path, dir: &Path) -> anyhow::Result<()> {
    report.push(Block::Heading("Final policy".into()));
    let config = CheckpointState::read(checkpoint)?.config;
    if config.env == EnvKind::Ising {
        let lattices = 8;
        let (mean_return, order) = shoal::train::mfq::evaluate_checkpoint(ctx, checkpoint, lattices, REPORT_SEED)?;
        report.push(Block::Table {
            header: vec!["policy".into(), "lattices".into(), "mean return".into(), "order parameter ⟨|m|⟩ at the end".into()],
            rows: vec![vec![format!("Boltzmann, T = {}", config.temperature), lattices.to_string(), format!("{mean_return:.3}"), format!("{order:.3}")]],
        });
    } else {
        let results = shoal::train::evaluate(ctx, checkpoint, (EVAL_AGENT_EPISODES / config.agents).clamp(1, 256), REPORT_SEED)?;
        report.push(Block::Table {
            header: vec!["policy".into(), "episodes".into(), "mean return".into(), "std".into()],
            rows: results
                .iter()
                .map(|r| vec![r.mode.clone(), r.episodes.to_string(), format!("{:.3}", r.mean_return), format!("{:.3}", r.std_return)])
                .collect(),
        });
    }
    let gif = dir.join("episode.gif");
    let request = RenderRequest {
        policy: EpisodePolicy::Checkpoint { dir: checkpoint.to_path_buf(), greedy: true },
        episodes: 1,
        seed: REPORT_SEED,
        format: FrameFormat { width: 360, height: 384, fps: 10 },
        size: None,
        options: shoal::env::EnvOptions::new(),
    };
    let recording = render::record(ctx, config.env, &request, &gif)?;
    let strip = dir.join("episode_frames.png");
    render::save_filmstrip(recording.first_frames(), 220, &strip)?;
    report.figure("episode_frames", format!("First {} steps of an episode of the final policy", recording.first_frames().len()), &strip);
    report.figure("episode_animation", format!("The whole episode ({} frames; episode.gif)", recording.frames), &gif);
    Ok(())
}
