//! The MPE scenarios beyond simple_spread against mpe2 1.1.1: the golden trajectories of
//! `tests/data/mpe_simple.jsonl` and `tests/data/mpe_formation.jsonl` (those scenarios' lines of
//! the shared `mpe.jsonl`, spec in `tests/data/MPE_SPEC.md` §1 and §9) replayed from their
//! initial states, discrete and continuous, all five seeds in one batch, through the library
//! and through `shoal replay --check`; and the envs built through the registry as `shoal`
//! builds them.

use std::process::Command;

use shoal::env::{EnvKind, EnvParams};
use shoal::replay::{replay, TrajectoryFile};
use shoal::GpuContext;

const SIMPLE_GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mpe_simple.jsonl");
const FORMATION_GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mpe_formation.jsonl");
/// Float32 against float64 over 25 steps (the same bound as simple_spread's replay).
const TOL: f64 = 1e-4;

/// Replays every golden trajectory of `kind` in `golden` (five seeds per action kind, one batch
/// each) from its recorded initial state through the library's replay — what `shoal replay
/// --check` runs — and checks observations (the terminal ones included), rewards, positions,
/// velocities and truncation against mpe2's within [`TOL`].
fn replay_golden(golden: &str, kind: EnvKind) {
    let ctx = GpuContext::shared().unwrap();
    let file = TrajectoryFile::read(golden).unwrap().only(kind).unwrap();
    assert_eq!(file.trajectories.len(), 10, "{kind}: five seeds per action kind");
    assert_eq!(file.trajectories.iter().filter(|(_, t)| t.continuous).count(), 5);
    let (ours, report) = replay(&ctx, &file).unwrap();
    eprintln!("{kind}: {:?}", report.max_abs_error);
    assert_eq!((report.trajectories, report.steps), (10, 250));
    for field in ["init_obs", "obs", "rew", "agent_pos", "agent_vel"] {
        let err = report.max_abs_error[field];
        assert!(err < TOL, "{kind} {field}: max |error| {err:.2e}");
    }
    assert_eq!(report.truncated_mismatches, 0);
    assert!(ours.iter().all(|t| t.steps.last().unwrap().truncated));
    // A bug that zeroed everything would pass a tolerance on tiny values: the trajectories move.
    let (_, first) = &file.trajectories[0];
    assert!(first.steps[24].rew[0] != first.steps[0].rew[0] && first.steps[24].agent_pos != first.steps[0].agent_pos);
}

#[test]
fn simple_replays_mpe2_golden_trajectories() {
    replay_golden(SIMPLE_GOLDEN, EnvKind::Simple);
}

#[test]
fn simple_line_replays_mpe2_golden_trajectories() {
    replay_golden(FORMATION_GOLDEN, EnvKind::SimpleLine);
}

#[test]
fn simple_formation_replays_mpe2_golden_trajectories() {
    replay_golden(FORMATION_GOLDEN, EnvKind::SimpleFormation);
}

/// `shoal replay --check` on the suite's file: every scenario it holds passes; asking for one it
/// lacks names the ones it has.
#[test]
fn replay_cli_checks_each_scenario_of_a_suite_file() {
    for (file, env) in [(FORMATION_GOLDEN, "simple-line"), (FORMATION_GOLDEN, "simple_formation"), (SIMPLE_GOLDEN, "simple")] {
        let output = Command::new(env!("CARGO_BIN_EXE_shoal")).args(["replay", "--env", env, "--input", file, "--check"]).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{env}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains("replayed 10") && stdout.contains("check passed"), "{env}: {stdout}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_shoal")).args(["replay", "--input", FORMATION_GOLDEN, "--check"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no simple_spread trajectories") && stderr.contains("simple_formation, simple_line"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_shoal")).args(["replay", "--env", "swarm", "--input", FORMATION_GOLDEN]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("replayable: simple, simple_spread, simple_line, simple_formation"), "{stderr}");
}

#[test]
fn simple_is_built_and_checked_through_the_registry() {
    let ctx = GpuContext::shared().unwrap();
    let entry = EnvKind::Simple.entry();
    assert_eq!(entry.name, "simple");
    let params = entry.scale.params(8, entry.scale.default_size());
    let mut env = EnvKind::Simple.build(&ctx, &params).unwrap();
    assert_eq!((env.spec().n_envs, env.spec().agents_per_env(), env.spec().groups[0].obs_dim), (8, 1, 4));
    let layout = env.obs_layout();
    assert_eq!((layout.local, layout.mean_action, layout.distinct_agents), (4, 0, true));
    let obs = env.reset(3).unwrap().obs.remove(0);
    assert_eq!(obs.dims(), [8, 1, 4]);
    // A snapshot taken mid-episode and restored continues exactly.
    let mut actions = shoal::env::RandomActions::new(ctx.clone(), &env.spec().groups[0].clone(), 8, 9).unwrap();
    for _ in 0..5 {
        env.step(&[actions.sample()]).unwrap();
    }
    let snapshot = env.snapshot().unwrap();
    let next = actions.sample();
    let a = ctx.read_f32(env.step(&[next.clone()]).unwrap().obs[0].clone()).unwrap();
    env.restore(&snapshot).unwrap();
    let b = ctx.read_f32(env.step(&[next]).unwrap().obs[0].clone()).unwrap();
    assert_eq!(a, b);
    // Two agents is not simple.
    let err = EnvKind::Simple.build(&ctx, &EnvParams::new(8, 2)).err().unwrap().to_string();
    assert!(err.contains("agents") && err.contains("exactly 1"), "{err}");
}

#[test]
fn formation_scenarios_are_built_and_checked_through_the_registry() {
    let ctx = GpuContext::shared().unwrap();
    for (kind, name, obs_dim) in [(EnvKind::SimpleLine, "simple_line", 8), (EnvKind::SimpleFormation, "simple_formation", 6)] {
        let entry = kind.entry();
        assert_eq!(entry.name, name);
        let params = entry.scale.params(8, entry.scale.default_size());
        let mut env = kind.build(&ctx, &params).unwrap();
        assert_eq!((env.spec().n_envs, env.spec().agents_per_env(), env.spec().groups[0].obs_dim), (8, 4, obs_dim));
        let first = ctx.read_f32(env.reset(3).unwrap().obs.remove(0)).unwrap();
        // Spawns are in mpe2's ranges: agents in [-1, 1]², landmark 0 within 0.25 (line) or 0.5
        // (formation) of the centre; line's landmark 1 is 1.25 from landmark 0, inside (-1, 1)².
        for agent in first.chunks(obs_dim) {
            let (px, py) = (agent[2], agent[3]);
            assert!(px.abs() <= 1.0 && py.abs() <= 1.0, "{name}: agent at ({px}, {py})");
            let (l0x, l0y) = (px + agent[4], py + agent[5]);
            let reach = if obs_dim == 8 { 0.25 } else { 0.5 };
            assert!(l0x.abs() <= reach + 1e-6 && l0y.abs() <= reach + 1e-6, "{name}: landmark 0 at ({l0x}, {l0y})");
            if obs_dim == 8 {
                let (l1x, l1y) = (px + agent[6], py + agent[7]);
                assert!(l1x.abs() < 1.0 && l1y.abs() < 1.0, "{name}: landmark 1 at ({l1x}, {l1y})");
                let length = ((l1x - l0x).powi(2) + (l1y - l0y).powi(2)).sqrt();
                assert!((length - 1.25).abs() < 1e-5, "{name}: landmarks {length} apart");
            }
        }
        // A snapshot taken mid-episode and restored continues exactly.
        let mut actions = shoal::env::RandomActions::new(ctx.clone(), &env.spec().groups[0].clone(), 8, 9).unwrap();
        for _ in 0..5 {
            env.step(&[actions.sample()]).unwrap();
        }
        let snapshot = env.snapshot().unwrap();
        let next = actions.sample();
        let a = ctx.read_f32(env.step(&[next.clone()]).unwrap().reward).unwrap();
        env.restore(&snapshot).unwrap();
        let b = ctx.read_f32(env.step(&[next]).unwrap().reward).unwrap();
        assert_eq!(a, b);
        // Every agent of an env shares the reward, and it is minus a mean distance clipped to 2.
        for env_rewards in a.chunks(4) {
            assert!(env_rewards.iter().all(|&r| r == env_rewards[0] && (-2.0..=0.0).contains(&r)), "{name}: {env_rewards:?}");
        }
        // One agent has no formation.
        let err = kind.build(&ctx, &EnvParams::new(8, 1)).err().unwrap().to_string();
        assert!(err.contains("n_agents") && err.contains("2..=16"), "{err}");
    }
}
