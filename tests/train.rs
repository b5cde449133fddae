//! PPO training: bad configs are rejected by name, a checkpointed-and-resumed run equals an
//! uninterrupted one, an update reads back only scalars, and a short run learns.

mod common;

use common::scratch_dir;
use shoal::env::EnvKind;
use shoal::train::{Algo, TrainConfig, Trainer};
use shoal::{GpuContext, ShoalError};

fn tiny(algo: Algo) -> TrainConfig {
    common::tiny_train_config(algo)
}

/// MF-Q on four 8×8 lattices, episodes of 15 steps, 3 updates of 10 steps.
fn tiny_ising() -> TrainConfig {
    TrainConfig { env: EnvKind::Ising, algo: Algo::Mfq, agents: 64, envs: 4, max_cycles: 15, total_env_steps: 120, temperature: 1.0, ..tiny(Algo::Ippo) }
}

/// A swarm run small enough for a test: 2 envs × 64 agents × 10 steps per update, episodes of
/// 15 steps (so checkpoints fall inside episodes), 3 updates.
fn tiny_swarm(algo: Algo) -> TrainConfig {
    TrainConfig { env: EnvKind::Swarm, agents: 64, envs: 2, max_cycles: 15, total_env_steps: 60, ..tiny(algo) }
}

/// Every parameter of the model, flattened, read back.
fn parameters(trainer: &Trainer) -> Vec<f32> {
    common::flat_params(trainer.model())
}

#[test]
fn bad_config_values_are_rejected_by_name() {
    let dir = scratch_dir("bad-config");
    let cases = [
        ("gamma = 1.5\n", "gamma"),
        ("envs = 0\n", "envs"),
        ("lr = -0.1\n", "lr"),
        ("num_minibatches = 0\n", "num_minibatches"),
        ("max_grad_norm = 0.0\n", "max_grad_norm"),
        ("algo = \"mfac\"\n", "algo"),
        ("env = \"swarm\"\nalgo = \"mappo\"\n", "algo"),
        ("env = \"swarm\"\nalgo = \"mfac\"\ncontinuous = true\n", "continuous"),
        ("env = \"ising\"\nalgo = \"ippo\"\nagents = 64\n", "algo"),
        ("algo = \"mfq\"\n", "algo"),
        ("env = \"ising\"\nalgo = \"mfq\"\nagents = 1000\n", "agents"),
        ("env = \"ising\"\nalgo = \"mfq\"\nagents = 64\ntemperature = 0.0\n", "temperature"),
    ];
    for (text, field) in cases {
        let path = dir.join("c.toml");
        std::fs::write(&path, text).unwrap();
        match TrainConfig::from_toml_file(&path) {
            Err(ShoalError::InvalidConfig { field: f, .. }) => assert_eq!(f, field, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    // A typo is an error naming the key and the line, not a silently ignored setting.
    let path = dir.join("typo.toml");
    std::fs::write(&path, "lr = 0.001\ngama = 0.9\n").unwrap();
    match TrainConfig::from_toml_file(&path) {
        Err(e @ ShoalError::BadInput { line: 2, .. }) => assert!(e.to_string().contains("gama"), "{e}"),
        other => panic!("{other:?}"),
    }
    // Every key is settable from the command line, and a wrong one is named.
    let base = TrainConfig::default();
    let set = base.with_overrides(&["gamma=0.95".into(), "algo=ippo".into(), "anneal_lr=false".into()]).unwrap();
    assert_eq!((set.gamma, set.algo, set.anneal_lr), (0.95, Algo::Ippo, false));
    let err = base.with_overrides(&["gama=0.9".into()]).unwrap_err().to_string();
    assert!(err.contains("unknown key `gama`"), "{err}");
    let err = base.with_overrides(&["clip_eps=-1".into()]).unwrap_err().to_string();
    assert!(err.contains("clip_eps"), "{err}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["train", "--algo", "ippo", "--envs", "0", "--out"])
        .arg(dir.join("run"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`envs` = 0"), "{stderr}");
}

#[test]
fn resuming_a_checkpoint_reproduces_the_uninterrupted_run() {
    let ctx = GpuContext::shared().unwrap();
    let trunk = |config: TrainConfig| TrainConfig { shared_trunk: true, ..config };
    for config in [tiny(Algo::Ippo), tiny(Algo::Mappo), tiny_swarm(Algo::Ippo), tiny_swarm(Algo::Mfac), trunk(tiny(Algo::Ippo)), trunk(tiny_swarm(Algo::Mfac))] {
        let algo = config.algo;
        let name = format!("{}-{}{}", config.env.name(), algo.name(), if config.shared_trunk { "-trunk" } else { "" });
        let run = || {
            let mut trainer = Trainer::new(ctx.clone(), config.clone()).unwrap();
            let mut metrics = Vec::new();
            while !trainer.finished() {
                metrics.push(trainer.update().unwrap());
            }
            (trainer, metrics)
        };
        let (straight, straight_metrics) = run();
        let (again, _) = run();
        assert_eq!(parameters(&straight), parameters(&again), "{name}: same seed, other parameters");

        let dir = scratch_dir(&format!("resume-{name}")).join("checkpoint");
        let mut first = Trainer::new(ctx.clone(), config.clone()).unwrap();
        first.update().unwrap();
        first.save_checkpoint(&dir).unwrap();
        drop(first);
        let mut resumed = Trainer::resume(ctx.clone(), &dir).unwrap();
        assert_eq!(resumed.progress().update, 1);
        let mut resumed_metrics = Vec::new();
        while !resumed.finished() {
            resumed_metrics.push(resumed.update().unwrap());
        }

        let (a, b) = (parameters(&straight), parameters(&resumed));
        assert_eq!(a.len(), b.len());
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "{name}: parameters differ by {worst}");
        let last = (straight_metrics.last().unwrap(), resumed_metrics.last().unwrap());
        assert_eq!(last.0.env_steps, last.1.env_steps);
        assert!((last.0.mean_episode_return - last.1.mean_episode_return).abs() < 1e-4, "{name}");
    }
}

#[test]
fn swarm_trains_with_mfac_from_the_command_line_and_renders_its_policy() {
    let dir = scratch_dir("cli-swarm");
    let shoal = common::shoal_ok;
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    shoal(&["train", "--env", "swarm", "--algo", "mfac", "--agents", "50", "--envs", "2", "--steps", "40",
            "--set", "rollout_steps=10", "--set", "max_cycles=20", "--set", "hidden=16", "--out", run_s]);
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("env = \"swarm\"") && config.contains("algo = \"mfac\""), "{config}");
    let figures = common::check_report(&run.join("report.html"));
    assert_eq!(figures, ["learning_curve", "throughput", "episode_frames", "episode_animation"]);
    let gif = dir.join("policy.gif");
    shoal(&["render", "--env", "swarm", "--checkpoint", run_s, "--episodes", "2", "--width", "120", "--height", "140", "--out", gif.to_str().unwrap()]);
    assert_eq!(common::decode_gif(&std::fs::read(&gif).unwrap()).len(), 2 * 20);
    // A swarm checkpoint is not a simple_spread policy.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["render", "--checkpoint", run_s, "--out", gif.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--env swarm"));
    // Ising trains with MF-Q; `shoal train` says so.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["train", "--env", "ising", "--algo", "ippo", "--agents", "64", "--out", dir.join("ising").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("mfq"));
}

#[test]
fn mfq_trains_on_ising_resumes_exactly_and_reports() {
    use shoal::train::{new_learner, resume_learner, Learner};
    let ctx = GpuContext::shared().unwrap();
    let tables = |learner: &dyn Learner, dir: &std::path::Path| {
        learner.save_checkpoint(dir).unwrap();
        std::fs::read_to_string(dir.join("q.json")).unwrap()
    };
    let dir = scratch_dir("mfq-resume");
    let mut straight = new_learner(ctx.clone(), tiny_ising()).unwrap();
    let mut rows = Vec::new();
    while !straight.finished() {
        rows.push(straight.update().unwrap());
    }
    let mut first = new_learner(ctx.clone(), tiny_ising()).unwrap();
    first.update().unwrap();
    first.save_checkpoint(&dir.join("checkpoint")).unwrap();
    drop(first);
    let mut resumed = resume_learner(ctx.clone(), &dir.join("checkpoint")).unwrap();
    assert_eq!(resumed.progress().update, 1);
    while !resumed.finished() {
        resumed.update().unwrap();
    }
    assert_eq!(tables(straight.as_ref(), &dir.join("a")), tables(resumed.as_ref(), &dir.join("b")), "resumed Q tables differ");
    // Two episodes of 15 steps completed, rewarded, and TD errors measured.
    assert!(rows.iter().any(|r| r.mean_episode_return.is_finite()) && rows.iter().all(|r| r.total_loss.is_finite()));

    let shoal = common::shoal_ok;
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    shoal(&["train", "--env", "ising", "--algo", "mfq", "--agents", "256", "--envs", "2", "--steps", "80",
            "--set", "rollout_steps=20", "--set", "max_cycles=40", "--set", "temperature=1.2", "--out", run_s]);
    let figures = common::check_report(&run.join("report.html"));
    assert_eq!(figures, ["learning_curve", "throughput", "episode_frames", "episode_animation"]);
    let gif = dir.join("mfq.gif");
    shoal(&["render", "--env", "ising", "--checkpoint", run_s, "--width", "100", "--height", "120", "--out", gif.to_str().unwrap()]);
    assert_eq!(common::decode_gif(&std::fs::read(&gif).unwrap()).len(), 40);
}

#[test]
fn a_short_run_improves_the_return() {
    let ctx = GpuContext::shared().unwrap();
    let config = TrainConfig {
        algo: Algo::Ippo,
        envs: 64,
        total_env_steps: 64 * 25 * 24,
        lr: 1e-3,
        anneal_lr: false,
        seed: 1,
        checkpoint_every: 0,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(ctx, config).unwrap();
    let mut returns = Vec::new();
    while !trainer.finished() {
        returns.push(trainer.update().unwrap().mean_episode_return);
    }
    let first: f64 = returns[..4].iter().sum::<f64>() / 4.0;
    let last: f64 = returns[returns.len() - 4..].iter().sum::<f64>() / 4.0;
    // A random policy scores about −26.3; a learning one gains well over a point within 38k steps.
    assert!(last > first + 1.5, "returns did not improve: first {first:.2}, last {last:.2} ({returns:?})");
}

#[test]
fn train_eval_and_compare_from_the_command_line() {
    let dir = scratch_dir("cli-train");
    let shoal = common::shoal_ok;
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    shoal(&["train", "--algo", "mappo", "--envs", "8", "--steps", "400", "--set", "rollout_steps=10", "--set", "hidden=16", "--out", run_s]);
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for column in ["env_steps", "wall_seconds", "mean_episode_return", "policy_loss", "value_loss", "entropy", "env_steps_per_s"] {
        assert!(header.contains(&column), "metrics.csv lacks {column}: {header:?}");
    }
    assert_eq!(csv.lines().count(), 1 + 5, "5 updates of 80 env steps");
    let png = std::fs::read(run.join("learning_curve.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(run.join("checkpoint/model.bpk").is_file() && run.join("checkpoint/state.json").is_file());
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("hidden = 16"), "{config}");

    let figures = common::check_report(&run.join("report.html"));
    assert_eq!(figures, ["learning_curve", "throughput", "episode_frames", "episode_animation"]);
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    let adapter = GpuContext::shared().unwrap().adapter_name();
    for promised in [adapter.as_str(), "hidden = 16", "greedy", "stochastic", "env-steps/s"] {
        assert!(report.contains(promised), "report lacks {promised}");
    }

    let eval = shoal(&["eval", "--checkpoint", run_s, "--episodes", "16"]);
    assert!(eval.contains("greedy") && eval.contains("stochastic"), "{eval}");

    let compare = dir.join("compare");
    shoal(&["compare", "--algos", "ippo,mappo", "--seeds", "1", "--steps", "160", "--envs", "8", "--out", compare.to_str().unwrap()]);
    let table = std::fs::read_to_string(compare.join("compare.md")).unwrap();
    assert!(table.contains("| ippo |") && table.contains("| mappo |"), "{table}");
    let png = std::fs::read(compare.join("learning_curves.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let figures = common::check_report(&compare.join("report.html"));
    assert_eq!(figures, ["learning_curves", "throughput", "episode_frames", "episode_animation"]);
}

/// `shoal compare` across families: each algorithm may start from its own configuration file,
/// `--set` applies to every run, and comparisons that cannot be made are refused by name.
#[test]
fn compare_gives_each_algorithm_its_own_configuration() {
    let dir = scratch_dir("compare-algo-config");
    let iql_toml = dir.join("iql.toml");
    std::fs::write(&iql_toml, "env = \"simple_spread\"\nalgo = \"iql\"\nbuffer_size = 640\nbatch_size = 16\nlearning_starts = 80\ngradient_steps = 3\n").unwrap();
    let algo_config = format!("iql={}", iql_toml.display());
    let out = dir.join("compare");
    let out_s = out.to_str().unwrap();
    common::shoal_ok(&["compare", "--algos", "ippo,iql", "--algo-config", &algo_config, "--set", "hidden=16", "--seeds", "1", "--steps", "160", "--envs", "8", "--out", out_s]);
    let config = |run: &str| toml::from_str::<TrainConfig>(&std::fs::read_to_string(out.join(run).join("config.toml")).unwrap()).unwrap();
    let (ippo, iql) = (config("ippo-seed0"), config("iql-seed0"));
    assert_eq!((iql.algo, iql.gradient_steps, iql.batch_size, iql.hidden, iql.envs), (Algo::Iql, 3, 16, 16, 8), "iql from its file, then the flags");
    assert_eq!((ippo.algo, ippo.gradient_steps, ippo.batch_size, ippo.hidden), (Algo::Ippo, TrainConfig::default().gradient_steps, TrainConfig::default().batch_size, 16));
    let table = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(table.contains("| ippo |") && table.contains("| iql |"), "{table}");

    let refused = |args: &[&str]| {
        let (ok, text) = common::run_shoal(args);
        assert!(!ok, "{args:?} ran: {text}");
        text
    };
    let other = dir.join("other");
    let text = refused(&["compare", "--algos", "ippo", "--algo-config", &algo_config, "--seeds", "1", "--out", other.to_str().unwrap()]);
    assert!(text.contains("algo-config") && text.contains("--algos"), "{text}");
    let text = refused(&["compare", "--algos", "ippo", "--algo-config", "ippo", "--seeds", "1", "--out", other.to_str().unwrap()]);
    assert!(text.contains("ALGO=FILE"), "{text}");
    // Several agent groups: a figure of each group's return beside the mean over all agents.
    let groups = dir.join("groups");
    common::shoal_ok(&["compare", "--env", "simple_speaker_listener", "--algos", "ippo", "--seeds", "1", "--steps", "160", "--envs", "8", "--out", groups.to_str().unwrap()]);
    let figures = common::check_report(&groups.join("report.html"));
    assert_eq!(figures[..3], ["learning_curves", "learning_curves_speaker", "learning_curves_listener"], "{figures:?}");
    let tag_toml = dir.join("tag.toml");
    std::fs::write(&tag_toml, "env = \"simple_tag\"\nalgo = \"ippo\"\n").unwrap();
    let text = refused(&["compare", "--algos", "ippo,mappo", "--algo-config", &format!("mappo={}", tag_toml.display()), "--seeds", "1", "--out", other.to_str().unwrap()]);
    assert!(text.contains("simple_tag") && text.contains("one env"), "{text}");
}

#[test]
fn continuous_actions_train_with_a_gaussian_head() {
    let ctx = GpuContext::shared().unwrap();
    let config = TrainConfig { continuous: true, ..tiny(Algo::Ippo) };
    let mut trainer = Trainer::new(ctx, config).unwrap();
    let first = trainer.update().unwrap();
    let second = trainer.update().unwrap();
    let third = trainer.update().unwrap();
    for m in [&first, &second, &third] {
        assert!(m.total_loss.is_finite() && m.policy_loss.is_finite() && m.value_loss.is_finite(), "{m:?}");
        // A diagonal Gaussian with unit std over 5 dimensions: entropy 5·(½ + ½ln 2π) ≈ 7.09.
        assert!((m.entropy - 7.09).abs() < 0.2, "entropy {}", m.entropy);
    }
    // 8 envs × 10 steps per update: every env finishes its first 25-step episode in update 3.
    assert_eq!((second.episodes, third.episodes), (0.0, 8.0));
    assert!(third.mean_episode_return.is_finite() && third.mean_episode_return < 0.0);
}

#[test]
fn separate_parameters_per_agent_train_and_resume() {
    let ctx = GpuContext::shared().unwrap();
    let shared = Trainer::new(ctx.clone(), tiny(Algo::Mappo)).unwrap();
    let config = TrainConfig { shared_params: false, ..tiny(Algo::Mappo) };
    let mut separate = Trainer::new(ctx.clone(), config).unwrap();
    // Three actors and three critics instead of one of each.
    assert_eq!(parameters(&separate).len(), 3 * parameters(&shared).len());
    separate.update().unwrap();
    let dir = scratch_dir("separate").join("checkpoint");
    separate.save_checkpoint(&dir).unwrap();
    let resumed = Trainer::resume(ctx, &dir).unwrap();
    assert_eq!(parameters(&separate), parameters(&resumed));
    let m = separate.update().unwrap();
    assert!(m.total_loss.is_finite());
}

/// The fused rollout kernel and burn's tensor-op policy train the same run: same actions (so
/// the same episodes), parameters within float rounding after three updates, for discrete and
/// continuous heads, and on a swarm (no agent ids, a different input layout).
#[test]
fn the_fused_rollout_trains_like_the_tensor_path() {
    let ctx = GpuContext::shared().unwrap();
    let continuous = TrainConfig { continuous: true, ..tiny(Algo::Mappo) };
    for config in [tiny(Algo::Mappo), continuous, tiny_swarm(Algo::Mfac)] {
        let run = |fused_rollout: bool| {
            let mut trainer = Trainer::new(ctx.clone(), TrainConfig { fused_rollout, ..config.clone() }).unwrap();
            let mut returns = Vec::new();
            while !trainer.finished() {
                returns.push(trainer.update().unwrap().mean_episode_return);
            }
            (parameters(&trainer), returns)
        };
        let ((fused, fused_returns), (tensor, tensor_returns)) = (run(true), run(false));
        let worst = fused.iter().zip(&tensor).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-4, "{} continuous={}: parameters differ by {worst}", config.env.name(), config.continuous);
        for (a, b) in fused_returns.iter().zip(&tensor_returns) {
            assert!((a - b).abs() < 1e-4 || (a.is_nan() && b.is_nan()), "returns {fused_returns:?} vs {tensor_returns:?}");
        }
    }
}

/// `shoal bench --learner --profile`: JSON rows for the learner and the simulator at the same
/// size, and a phase table whose phases cover the rollout, the update and the optimizer.
#[test]
fn the_learner_bench_reports_throughput_and_phases() {
    let json = scratch_dir("learner-bench").join("rows.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["bench", "--learner", "--envs", "8", "--updates", "1", "--profile", "--json"])
        .arg(&json)
        .args(["--set", "rollout_steps=5", "--set", "update_epochs=1", "--set", "num_minibatches=1", "--set", "hidden=8"])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for phase in ["rollout: inputs, noise, policy", "rollout: env step", "update: backward", "update: clip + Adam"] {
        assert!(stdout.contains(phase), "no `{phase}` in:\n{stdout}");
    }
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let phases: Vec<&str> = rows.iter().map(|r| r["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["learner", "simulator"]);
    for row in &rows {
        assert_eq!((row["envs"].as_u64(), row["agents_per_env"].as_u64()), (Some(8), Some(3)));
        assert!(row["env_steps_per_s"].as_f64().unwrap() > 0.0, "{row}");
    }
    // One update of 8 envs × 5 steps was timed.
    assert_eq!(rows[0]["steps"].as_u64(), Some(5));
}
