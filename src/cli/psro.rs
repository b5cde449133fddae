//! `shoal psro`: PSRO on a GPU-batched two-player zero-sum game, with the exact NashConv of the
//! meta-mixture after every iteration: a table on stdout, `psro.json`, `psro.png` (one curve per
//! meta-solver, uniform = fictitious play as the baseline), `report.html`, and a checkpoint per
//! meta-solver after every iteration (`--resume DIR` continues them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use shoal::plot::{LineChart, Scale, Series};
use shoal::report::{Block, Report};
use shoal::train::psro::{GameName, MetaSolver, Oracle, Psro, PsroConfig, PsroRow};
use shoal::train::selfplay::GameLearnerConfig;
use shoal::ShoalError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetaArg {
    /// Nash of the empirical meta-game (linear programming).
    Nash,
    /// Uniform over the population: fictitious play, the baseline.
    Uniform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OracleArg {
    /// PPO against the meta-mixture, on the device.
    Ppo,
    /// Exact best response (host tree walk): checks everything but the oracle.
    Exact,
}

#[derive(Debug, Args)]
pub struct PsroArgs {
    /// Game: rps, biased_rps, kuhn, or a zero-sum payoff matrix for seat 0 ("0,-1,1;1,0,-1;-1,1,0").
    #[arg(long, default_value = "kuhn")]
    game: String,
    /// Meta-solvers, comma-separated; each runs separately and gets a curve in the same plot.
    #[arg(long, value_delimiter = ',', default_value = "nash,uniform")]
    meta: Vec<MetaArg>,
    /// Best-response oracle.
    #[arg(long, value_enum, default_value = "ppo")]
    oracle: OracleArg,
    /// PSRO iterations (best responses added).
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// PPO updates per best response [default: 60 for kuhn, 25 for matrix games].
    #[arg(long)]
    br_updates: Option<usize>,
    /// Add the best-response learner's softmax policy instead of its mode (deterministic).
    #[arg(long)]
    stochastic_best_response: bool,
    /// Least estimated gain over the meta-mixture for a best response to join the population.
    #[arg(long, default_value_t = 0.002)]
    min_gain: f64,
    /// Games played in parallel by the best-response learner.
    #[arg(long, default_value_t = 4096)]
    envs: usize,
    /// Games in the payoff-estimation batch (all new pairs, both seatings, at once).
    #[arg(long, default_value_t = 131072)]
    eval_envs: usize,
    /// Steps of the payoff-estimation batch [default: 48 for kuhn (≈19 games per env), 8 for matrix games].
    #[arg(long)]
    eval_steps: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (psro.json, psro.png, report.html, checkpoint-<meta>/).
    #[arg(long, default_value = "runs/psro")]
    out: PathBuf,
    /// Continue the runs checkpointed in `--out` (up to `--iterations`).
    #[arg(long)]
    resume: bool,
}

pub fn run(args: PsroArgs) -> anyhow::Result<ExitCode> {
    let game = GameName::parse(&args.game)?;
    let kuhn = game == GameName::Kuhn;
    if args.meta.is_empty() {
        return Err(ShoalError::config("meta", "", "name at least one meta-solver (nash, uniform)").into());
    }
    let ctx = super::open_gpu()?;
    // One writer per output directory (created if needed), for the whole run.
    let _lock = shoal::train::RunLock::acquire(&args.out)?;
    let mut all_rows: Vec<PsroRow> = Vec::new();
    for &meta in &args.meta {
        let meta = match meta {
            MetaArg::Nash => MetaSolver::Nash,
            MetaArg::Uniform => MetaSolver::Uniform,
        };
        let checkpoint = args.out.join(format!("checkpoint-{}", meta.name()));
        let mut psro = if args.resume {
            let Ok(found) = shoal::train::store::recover_checkpoint(&checkpoint, "psro_state.json") else {
                return Err(ShoalError::config(
                    "resume",
                    checkpoint.display(),
                    "no PSRO checkpoint there; run without --resume first (same --out)",
                )
                .into());
            };
            let checkpoint = found;
            Psro::resume(ctx.clone(), &checkpoint, Some(args.iterations))?
        } else {
            let config = PsroConfig {
                game: args.game.clone(),
                iterations: args.iterations,
                meta,
                oracle: match args.oracle {
                    OracleArg::Ppo => Oracle::Ppo,
                    OracleArg::Exact => Oracle::Exact,
                },
                br_updates: args.br_updates.unwrap_or(if kuhn { 60 } else { 25 }),
                greedy_best_response: !args.stochastic_best_response,
                min_gain: args.min_gain,
                learner: GameLearnerConfig::new().with_envs(args.envs).with_seed(args.seed),
                eval_envs: args.eval_envs,
                eval_steps: args.eval_steps.unwrap_or(if kuhn { 48 } else { 8 }),
                seed: args.seed,
            };
            Psro::new(ctx.clone(), config)?
        };
        println!("PSRO on {} — meta-solver {}, oracle {:?}, adapter {}", args.game, meta.name(), psro.config().oracle, ctx.adapter_name());
        println!("{:>9} {:>9} {:>12} {:>9} {:>12} {:>9}  meta-strategy", "iteration", "policies", "NashConv", "BR gain", "env steps", "seconds");
        let print = |r: &PsroRow| {
            let weights: Vec<String> = r.weights.iter().map(|w| format!("{w:.3}")).collect();
            let gain = if r.added { format!("{:+.4}", r.gain) } else { format!("{:+.4}✗", r.gain) };
            println!("{:>9} {:>9} {:>12.5} {:>9} {:>12} {:>9.1}  [{}]", r.iteration, r.policies, r.nash_conv, gain, r.env_steps, r.seconds, weights.join(" "));
        };
        for r in psro.rows() {
            print(r);
        }
        let bar = ProgressBar::new(psro.config().iterations.saturating_sub(psro.rows().len() - 1) as u64);
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {bar:30} {pos}/{len} iterations").expect("static template"));
        while !psro.finished() {
            let message = |u: usize, n: usize, ret: f64| bar.set_message(format!("{}: best response update {u}/{n}, return {ret:+.3}", meta.name()));
            let row = psro.iterate(message)?.clone();
            bar.suspend(|| print(&row));
            bar.inc(1);
            psro.save_checkpoint(&checkpoint)?;
        }
        bar.finish_and_clear();
        let last = psro.rows().last().expect("iteration 0 is always recorded");
        println!(
            "final NashConv {:.5} with {} policies after {} env steps, {:.1} s (largest payoff-estimate error {:.4})\n",
            last.nash_conv, last.policies, last.env_steps, last.seconds, last.payoff_error
        );
        all_rows.extend(psro.rows().iter().cloned());
    }
    let json = args.out.join("psro.json");
    shoal::io::write_atomic(&json, &serde_json::to_vec_pretty(&all_rows)?)?;
    let png = args.out.join("psro.png");
    plot(&args.game, &all_rows, &png)?;
    write_report(&args, &all_rows, &ctx, &png)?;
    eprintln!("wrote {}, {} and {}", json.display(), png.display(), args.out.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}

/// NashConv against iteration, one curve per meta-solver, log scale.
fn plot(game: &str, rows: &[PsroRow], png: &Path) -> anyhow::Result<()> {
    let mut metas: Vec<&str> = rows.iter().map(|r| r.meta.as_str()).collect();
    metas.dedup();
    let series = metas
        .iter()
        .map(|&meta| Series {
            name: if meta == "uniform" { "uniform meta (fictitious play)".into() } else { "Nash meta (LP)".into() },
            points: rows.iter().filter(|r| r.meta == meta).map(|r| (r.iteration as f64, r.nash_conv.max(1e-6))).collect(),
            band: None,
        })
        .collect();
    LineChart {
        title: format!("PSRO on {game}: exact NashConv of the meta-mixture"),
        x_label: "PSRO iteration".into(),
        y_label: "NashConv".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        series,
    }
    .save_png(png, 900, 520)?;
    Ok(())
}

fn write_report(args: &PsroArgs, rows: &[PsroRow], ctx: &shoal::GpuContext, png: &Path) -> anyhow::Result<()> {
    let mut report = Report::new(format!("shoal psro — {}", args.game));
    super::report::header(&mut report, ctx);
    report.push(Block::Text(
        "Policy-Space Response Oracles: each iteration adds a best response (PPO on the device) to the meta-mixture; \
         NashConv is computed exactly on the host by best response over the game tree."
            .into(),
    ));
    report.figure("nash_conv", "Exact NashConv of the meta-mixture per iteration (log scale).", png);
    report.push(Block::Heading("Iterations".into()));
    report.push(Block::Table {
        header: ["meta", "iteration", "policies", "NashConv", "BR gain", "added", "env steps", "seconds", "payoff error"].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.meta.clone(),
                    r.iteration.to_string(),
                    r.policies.to_string(),
                    format!("{:.5}", r.nash_conv),
                    format!("{:+.4}", r.gain),
                    if r.added { "yes" } else { "no" }.into(),
                    r.env_steps.to_string(),
                    format!("{:.1}", r.seconds),
                    format!("{:.4}", r.payoff_error),
                ]
            })
            .collect(),
    });
    report.push(Block::Code(format!("{args:#?}")));
    report.write(&args.out.join("report.html"))?;
    Ok(())
}
