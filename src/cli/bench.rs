//! `shoal bench`: env-steps/s per batch size, as a table and optionally as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use shoal::bench::{BenchRow, ThroughputRig};
use shoal::plot::{LineChart, Scale, Series};
use shoal::env::EnvKind;
use shoal::ShoalError;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Environment to step [default: simple-spread; with --learner --config, the config's env].
    #[arg(long, value_enum)]
    env: Option<EnvKind>,
    /// Batch sizes, comma-separated [default: the env's sweep in the registry, e.g. simple_spread
    /// 1,64,1024,16384,65536; swarm 1; ising and battle 1,16,64,256].
    #[arg(long, value_delimiter = ',')]
    envs: Vec<usize>,
    /// Timed steps per batch size.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Untimed steps before timing (shader compilation, pool warm-up).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Agents per env, comma-separated, for envs sized by agents [default: simple_spread 3 (N
    /// agents, N landmarks); swarm 1000,10000,100000,1000000].
    #[arg(long, value_delimiter = ',')]
    agents: Vec<usize>,
    /// Lattice or map sides, comma-separated, for envs sized by a side [default: ising 64 (L×L
    /// agents); battle 40].
    #[arg(long, value_delimiter = ',')]
    size: Vec<usize>,
    /// An env option, as KEY=VALUE by mpe2's keyword (repeatable): --env-option num_good=2.
    /// Where the options decide the population, `--agents` defaults to it.
    #[arg(long = "env-option", value_name = "KEY=VALUE")]
    env_option: Vec<String>,
    /// Continuous actions instead of discrete.
    #[arg(long)]
    continuous: bool,
    /// Seed for the env and the random actions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the rows as a JSON list to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also plot env-steps/s against batch size to this PNG.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Time training instead (rollout with the policy + PPO update) beside the simulator, with
    /// `shoal train`'s configuration for the env (`--algo`, `--config`, `--set` as in train; the
    /// first `--envs` and `--agents` value).
    #[arg(long)]
    learner: bool,
    /// With --learner: the algorithm [default: mappo on simple-spread, mfac on swarm and battle].
    #[arg(long, value_enum, requires = "learner")]
    algo: Option<shoal::train::Algo>,
    /// With --learner: a TOML file of training keys.
    #[arg(long, requires = "learner")]
    config: Option<PathBuf>,
    /// With --learner: any training key, as KEY=VALUE (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "learner")]
    set: Vec<String>,
    /// With --learner: timed updates (after one untimed update that compiles the kernels).
    #[arg(long, default_value_t = 3, requires = "learner")]
    updates: usize,
    /// With --learner: also time each phase of an update (synchronising between phases).
    #[arg(long, requires = "learner")]
    profile: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let options = shoal::env::EnvOptions::parse(&args.env_option)?;
    if args.learner {
        super::bench_learner::run(super::bench_learner::LearnerBench {
            env: args.env,
            algo: args.algo,
            config: args.config,
            envs: args.envs.first().copied(),
            agents: args.agents.first().copied(),
            set: args.set,
            options,
            updates: args.updates,
            profile: args.profile,
            json: args.json,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.steps == 0 {
        return Err(ShoalError::config("steps", 0, "time at least 1 step").into());
    }
    let kind = args.env.unwrap_or(EnvKind::SimpleSpread);
    let entry = kind.entry();
    let or = |given: &Vec<usize>, default: &[usize]| if given.is_empty() { default.to_vec() } else { given.clone() };
    let (sizes_given, other) = if entry.scale.is_side() { (&args.size, &args.agents) } else { (&args.agents, &args.size) };
    if !other.is_empty() {
        let (flag, right) = if entry.scale.is_side() { ("agents", "--size") } else { ("size", "--agents") };
        return Err(ShoalError::config(flag, format!("{other:?}"), format!("{kind} is sized with {right}")).into());
    }
    let sizes = match kind.population(&options)? {
        Some(agents) => vec![agents],
        None => entry.scale.bench().to_vec(),
    };
    let (envs_list, agents_list) = (or(&args.envs, entry.bench_envs), or(sizes_given, &sizes));
    let ctx = super::open_gpu()?;
    let runs: Vec<(usize, usize)> = agents_list.iter().flat_map(|&a| envs_list.iter().map(move |&e| (e, a))).collect();
    let progress = ProgressBar::new(runs.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("static template"),
    );
    let mut rows: Vec<BenchRow> = Vec::new();
    for &(envs, agents) in &runs {
        progress.set_message(format!("{envs} envs × {agents}"));
        let params = shoal::env::EnvParams { continuous: args.continuous, options: options.clone(), ..entry.scale.params(envs, agents) };
        let env = kind.build(&ctx, &params)?;
        let row = ThroughputRig::new(env, args.seed)?.measure(args.warmup, args.steps)?;
        progress.inc(1);
        rows.push(row);
    }
    progress.finish_and_clear();

    println!("adapter: {}", ctx.adapter_name());
    println!(
        "{:<14} {:>8} {:>9} {:>6} {:>9} {:>15} {:>17}",
        "env", "envs", "agents", "steps", "seconds", "env-steps/s", "agent-steps/s"
    );
    for r in &rows {
        println!(
            "{:<14} {:>8} {:>9} {:>6} {:>9.4} {:>15.0} {:>17.0}",
            r.env, r.envs, r.agents_per_env, r.steps, r.seconds, r.env_steps_per_s, r.agent_steps_per_s
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_vec_pretty(&rows)?;
        shoal::io::write_atomic(path, &text)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.plot {
        let title = format!("{} throughput — {}", rows[0].env, ctx.adapter_info().name);
        let chart = if agents_list.len() > 1 {
            // Scaling in agents: the cost of one agent-step should stay flat.
            LineChart {
                title,
                x_label: "agents per env".into(),
                y_label: "nanoseconds per agent-step".into(),
                x_scale: Scale::Log,
                y_scale: Scale::Log,
                series: envs_list
                    .iter()
                    .map(|&e| Series {
                        name: format!("{e} env{}", if e == 1 { "" } else { "s" }),
                        points: rows.iter().filter(|r| r.envs == e).map(|r| (r.agents_per_env as f64, 1e9 / r.agent_steps_per_s)).collect(),
                        band: None,
                    })
                    .collect(),
            }
        } else {
            LineChart {
                title,
                x_label: "parallel envs".into(),
                y_label: "env-steps / s".into(),
                x_scale: Scale::Log,
                y_scale: Scale::Log,
                series: vec![Series {
                    name: format!("{} agents/env", rows[0].agents_per_env),
                    points: rows.iter().map(|r| (r.envs as f64, r.env_steps_per_s)).collect(),
                    band: None,
                }],
            }
        };
        chart.save_png(path, 900, 560)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
