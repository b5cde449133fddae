//! `shoal league`: league self-play on a two-player zero-sum game with one or more opponent
//! samplers (latest, uniform, PFSP); exact NashConv of the latest policy and of the pool at every
//! snapshot: a table on stdout, `league.json`, `league.png` and `report.html`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use shoal::plot::{LineChart, Scale, Series};
use shoal::report::{Block, Report};
use shoal::train::league::{League, LeagueConfig, LeagueRow, OpponentSampler};
use shoal::train::psro::GameName;
use shoal::train::selfplay::GameLearnerConfig;
use shoal::ShoalError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SamplerArg {
    /// The newest snapshot (naive self-play).
    Latest,
    /// Uniform over the pool (fictitious self-play).
    Uniform,
    /// Prioritized fictitious self-play: (1 − win rate)².
    Pfsp,
}

#[derive(Debug, Args)]
pub struct LeagueArgs {
    /// Game: rps, biased_rps, kuhn, or a zero-sum payoff matrix ("0,-1,1;1,0,-1;-1,1,0").
    #[arg(long, default_value = "kuhn")]
    game: String,
    /// Opponent samplers, comma-separated; each runs its own league, curves in one plot.
    #[arg(long, value_delimiter = ',', default_value = "latest,uniform,pfsp")]
    opponents: Vec<SamplerArg>,
    /// Learner updates.
    #[arg(long, default_value_t = 300)]
    updates: usize,
    /// Updates between snapshots added to the pool.
    #[arg(long, default_value_t = 10)]
    snapshot_every: usize,
    /// Games played in parallel.
    #[arg(long, default_value_t = 4096)]
    envs: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (league.json, league.png, report.html, checkpoint-<sampler>/).
    #[arg(long, default_value = "runs/league")]
    out: PathBuf,
    /// Continue the leagues checkpointed in `--out` (up to `--updates`).
    #[arg(long)]
    resume: bool,
}

pub fn run(args: LeagueArgs) -> anyhow::Result<ExitCode> {
    GameName::parse(&args.game)?;
    if args.opponents.is_empty() {
        return Err(ShoalError::config("opponents", "", "name at least one sampler (latest, uniform, pfsp)").into());
    }
    let ctx = super::open_gpu()?;
    // One writer per output directory (created if needed), for the whole run.
    let _lock = shoal::train::RunLock::acquire(&args.out)?;
    let mut rows: Vec<LeagueRow> = Vec::new();
    for sampler in &args.opponents {
        let opponents = match sampler {
            SamplerArg::Latest => OpponentSampler::Latest,
            SamplerArg::Uniform => OpponentSampler::Uniform,
            SamplerArg::Pfsp => OpponentSampler::Pfsp,
        };
        let checkpoint = args.out.join(format!("checkpoint-{}", opponents.name()));
        let mut league = if args.resume {
            let Ok(found) = shoal::train::store::recover_checkpoint(&checkpoint, "league_state.json") else {
                return Err(ShoalError::config("resume", checkpoint.display(), "no league checkpoint there; run without --resume first (same --out)").into());
            };
            let checkpoint = found;
            League::resume(ctx.clone(), &checkpoint, Some(args.updates))?
        } else {
            League::new(
                ctx.clone(),
                LeagueConfig {
                    game: args.game.clone(),
                    opponents,
                    updates: args.updates,
                    snapshot_every: args.snapshot_every,
                    learner: GameLearnerConfig::new().with_envs(args.envs).with_seed(args.seed),
                },
            )?
        };
        println!("league on {} — opponents {}, adapter {}", args.game, opponents.name(), ctx.adapter_name());
        println!("{:>7} {:>9} {:>16} {:>14} {:>12} {:>9}", "update", "policies", "NashConv latest", "NashConv pool", "env steps", "seconds");
        let print = |r: &LeagueRow| {
            println!("{:>7} {:>9} {:>16.4} {:>14.4} {:>12} {:>9.1}", r.update, r.policies, r.nash_conv_latest, r.nash_conv_pool, r.env_steps, r.seconds)
        };
        for r in league.rows() {
            print(r);
        }
        let bar = ProgressBar::new(league.config().updates as u64);
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {bar:30} {pos}/{len} updates").expect("static template"));
        bar.set_message(opponents.name());
        bar.set_position(league.updates() as u64);
        while !league.finished() {
            let row = league.step()?.cloned();
            bar.set_position(league.updates() as u64);
            if let Some(r) = row {
                bar.suspend(|| print(&r));
                league.save_checkpoint(&checkpoint)?;
            }
        }
        let league = league.rows().to_vec();
        bar.finish_and_clear();
        rows.extend(league);
    }
    let json = args.out.join("league.json");
    shoal::io::write_atomic(&json, &serde_json::to_vec_pretty(&rows)?)?;
    let png = args.out.join("league.png");
    let mut series = Vec::new();
    for sampler in &args.opponents {
        let name = format!("{sampler:?}").to_lowercase();
        let mine: Vec<&LeagueRow> = rows.iter().filter(|r| r.opponents == name).collect();
        series.push(Series { name: format!("{name}: latest policy"), points: mine.iter().map(|r| (r.env_steps as f64, r.nash_conv_latest.max(1e-6))).collect(), band: None });
        series.push(Series { name: format!("{name}: pool average"), points: mine.iter().map(|r| (r.env_steps as f64, r.nash_conv_pool.max(1e-6))).collect(), band: None });
    }
    LineChart {
        title: format!("League self-play on {}: exact NashConv", args.game),
        x_label: "env steps".into(),
        y_label: "NashConv".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        series,
    }
    .save_png(&png, 900, 520)?;
    let mut report = Report::new(format!("shoal league — {}", args.game));
    super::report::header(&mut report, &ctx);
    report.figure("nash_conv", "Exact NashConv of the learner's latest policy and of the uniform mixture over its snapshots.", &png);
    report.push(Block::Table {
        header: ["opponents", "update", "policies", "NashConv latest", "NashConv pool", "env steps", "seconds"].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.opponents.clone(),
                    r.update.to_string(),
                    r.policies.to_string(),
                    format!("{:.4}", r.nash_conv_latest),
                    format!("{:.4}", r.nash_conv_pool),
                    r.env_steps.to_string(),
                    format!("{:.1}", r.seconds),
                ]
            })
            .collect(),
    });
    report.push(Block::Code(format!("{args:#?}")));
    report.write(&args.out.join("report.html"))?;
    eprintln!("wrote {}, {} and {}", json.display(), png.display(), args.out.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}
