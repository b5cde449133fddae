//! `shoal bench --learner`: throughput of training (rollout with the policy + update) beside the
//! simulator's, and with `--profile` where an update's time goes — for every learner `shoal
//! train` runs. Off-policy learners (IQL, VDN, MF-Q, MADDPG, DDPG) are timed with learning on
//! from the untimed first update, so every timed update acts, stores and learns.
//!
//! The run configuration is the one `shoal train` would use (`--config`, `--set`, `--envs`,
//! `--agents`); an env with an example configuration in the registry (swarm:
//! `examples/swarm_1000.toml`, battle: `examples/battle_selfplay.toml`, the settings BENCHMARKS.md
//! trains them with) starts from it. Rows join `shoal bench`'s
//! JSON with `phase: "learner"` next to the simulator's row measured at the same size in the same
//! process, so their ratio is the learner's share of the simulator's speed.

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use shoal::bench::{BenchRow, ThroughputRig};
use shoal::env::EnvKind;
use shoal::train::{new_learner, Algo, TrainConfig};
use shoal::ShoalError;

/// What `--learner` measures.
pub struct LearnerBench {
    /// The env to train on: the config's where `None` (simple_spread without a config).
    pub env: Option<EnvKind>,
    pub algo: Option<Algo>,
    pub config: Option<PathBuf>,
    pub envs: Option<usize>,
    pub agents: Option<usize>,
    pub set: Vec<String>,
    pub options: shoal::env::EnvOptions,
    pub updates: usize,
    pub profile: bool,
    pub json: Option<PathBuf>,
}

/// The training configuration measured: `shoal train`'s defaults for the env, from the env's
/// example configuration where the registry has one.
fn config(bench: &LearnerBench) -> anyhow::Result<TrainConfig> {
    let kind = bench.env.unwrap_or(EnvKind::SimpleSpread);
    let mut config = match (&bench.config, kind.entry().example_config) {
        (Some(path), _) => TrainConfig::from_toml_file(path)?,
        (None, Some(text)) => toml::from_str(text)?,
        (None, None) => TrainConfig { algo: kind.default_algo(), ..TrainConfig::default().on_env(kind) },
    };
    if let Some(kind) = bench.env.filter(|&k| k != config.env) {
        // As `shoal train --config F --env E`: E at its own size, with its default algorithm
        // where the config's does not apply.
        config = config.on_env(kind);
        if bench.algo.is_none() && kind.check_algo(config.algo).is_err() {
            config.algo = kind.default_algo();
        }
    }
    if let Some(algo) = bench.algo {
        config.algo = algo;
    }
    let mut config = config.with_env_options(&bench.options)?;
    if let Some(envs) = bench.envs {
        config.envs = envs;
    }
    if let Some(agents) = bench.agents {
        config.agents = agents;
    }
    config.checkpoint_every = 0;
    let mut config = config.with_overrides(&bench.set)?;
    // Enough budget for the timed updates whatever `total_env_steps` said.
    config.total_env_steps = config.steps_per_update() * (bench.updates as u64 + 2);
    // Off-policy learners learn from the first (untimed) update on: steady state, whatever the
    // buffer's fill (sampling and writing cost the same at any fill).
    config.learning_starts = config.learning_starts.min(config.steps_per_update());
    config.validate()?;
    Ok(config)
}

pub fn run(bench: LearnerBench) -> anyhow::Result<()> {
    if bench.updates == 0 {
        return Err(ShoalError::config("updates", 0, "time at least 1 update").into());
    }
    let config = config(&bench)?;
    let ctx = super::open_gpu()?;
    let mut trainer = new_learner(ctx.clone(), config.clone())?;
    let progress = ProgressBar::new(bench.updates as u64 + 1).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} updates {msg}").expect("static template"),
    );
    progress.set_message("(first: kernel compilation)");
    trainer.update()?; // compiles every kernel; not timed
    progress.inc(1);
    progress.set_message("");
    if bench.profile && !trainer.enable_profile()? {
        return Err(ShoalError::config("profile", config.algo.name(), "this learner marks no phases: drop --profile").into());
    }
    ctx.sync()?;
    let start = Instant::now();
    for _ in 0..bench.updates {
        trainer.update()?;
        progress.inc(1);
    }
    ctx.sync()?;
    let seconds = start.elapsed().as_secs_f64();
    progress.finish_and_clear();

    let env_steps = (config.steps_per_update() * bench.updates as u64) as f64;
    let learner = BenchRow {
        env: config.env.name().into(),
        envs: config.envs,
        agents_per_env: config.agents,
        steps: config.rollout_steps * bench.updates,
        seconds,
        env_steps_per_s: env_steps / seconds,
        agent_steps_per_s: env_steps * config.agents as f64 / seconds,
        adapter: ctx.adapter_name(),
        phase: "learner".into(),
    };
    // The simulator alone at the same size, driven by device-side random actions.
    let env = config.env.build(&ctx, &config.env_params(config.envs, false))?;
    let simulator = ThroughputRig::new(env, config.seed)?.measure(10, (config.rollout_steps * bench.updates).max(50))?;

    println!("adapter: {}", ctx.adapter_name());
    let learning = if config.algo.is_off_policy() {
        format!("{} gradient steps of {} transitions", config.gradient_steps, config.batch_size)
    } else {
        format!("{} epochs × {} minibatches", config.update_epochs, config.num_minibatches)
    };
    println!(
        "{} {} — {} envs × {} agents, {} steps per rollout, {learning}{}",
        config.algo.name(),
        config.env.name(),
        config.envs,
        config.agents,
        config.rollout_steps,
        if bench.profile { " (profiled: synchronised between phases, slower than a plain run)" } else { "" }
    );
    println!("{:<10} {:>9} {:>15} {:>17}", "phase", "seconds", "env-steps/s", "agent-steps/s");
    for r in [&learner, &simulator] {
        println!("{:<10} {:>9.3} {:>15.0} {:>17.0}", r.phase, r.seconds, r.env_steps_per_s, r.agent_steps_per_s);
    }
    println!(
        "learner / simulator: 1 : {:.0} ({:.2} s per update)",
        simulator.env_steps_per_s / learner.env_steps_per_s,
        seconds / bench.updates as f64
    );
    if bench.profile {
        let total: f64 = trainer.profile().iter().map(|p| p.seconds).sum();
        println!("\n{:<42} {:>12} {:>8} {:>7}", "phase (per update)", "ms", "share", "runs");
        for p in trainer.profile() {
            println!(
                "{:<42} {:>12.1} {:>7.1}% {:>7}",
                p.phase,
                p.seconds / bench.updates as f64 * 1e3,
                100.0 * p.seconds / total,
                p.count / bench.updates as u64
            );
        }
    }
    if let Some(path) = &bench.json {
        let text = serde_json::to_vec_pretty(&[learner, simulator])?;
        shoal::io::write_atomic(path, &text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
