//! mpe2's scenario options — population sizes, `terminate_on_success`, `curriculum`, `N`,
//! `local_ratio` — against mpe2 1.1.1 itself: `tests/data/mpe_options.jsonl` holds trajectories
//! recorded with `benches/peers/record_mpe.py` (the golden files' layout and action rule) with
//! options other than the defaults, other seeds and a longer episode; they replay within the
//! golden tolerance, early terminations included. Then what recorded random play cannot reach
//! (the formation tasks' success), and the options' path through the CLI and configs.

mod common;

use common::{run_shoal as shoal, scratch_dir};
use shoal::env::{Actions, EnvKind, EnvOptions, EnvParams, FromParams, MpeWorld, SimpleFormationConfig, SimpleLineConfig, WorldState};
use shoal::replay::{replay, TrajectoryFile};
use shoal::train::TrainConfig;
use shoal::GpuContext;

const OPTIONS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mpe_options.jsonl");
/// Float32 against float64 (the golden files' bound).
const TOL: f64 = 1e-4;

const SCENARIOS: [EnvKind; 8] = [
    EnvKind::SimpleAdversary,
    EnvKind::SimpleTag,
    EnvKind::SimpleWorldComm,
    EnvKind::CollectTreasure,
    EnvKind::SimpleLine,
    EnvKind::SimpleFormation,
    EnvKind::SimpleReference,
    EnvKind::SimpleSpread,
];

#[test]
fn scenario_options_replay_mpe2_trajectories() {
    let ctx = GpuContext::shared().unwrap();
    let mut terminated = 0;
    for kind in SCENARIOS {
        let file = TrajectoryFile::read(OPTIONS_FILE).unwrap().only(kind).unwrap();
        // Every trajectory was recorded with options (none of mpe2's defaults alone).
        assert!(file.trajectories.iter().all(|(_, t)| t.kwargs.as_ref().is_some_and(|k| !k.is_empty())), "{kind}");
        let (ours, report) = replay(&ctx, &file).unwrap();
        eprintln!("{kind}: {} trajectories, {:?}", report.trajectories, report.max_abs_error);
        for field in ["init_obs", "obs", "rew", "agent_pos", "agent_vel"] {
            let err = report.max_abs_error.get(field).copied().unwrap_or_else(|| panic!("{kind}: {field} not compared"));
            assert!(err < TOL, "{kind} {field}: max |error| {err:.2e}");
        }
        assert_eq!((report.truncated_mismatches, report.terminated_mismatches), (0, 0), "{kind}");
        for ((_, reference), mine) in file.trajectories.iter().zip(&ours) {
            assert_eq!(mine.steps.len(), reference.steps.len());
            let last = mine.steps.last().unwrap();
            assert!(last.truncated || last.terminated, "{kind}: the episode ends at its last step");
            terminated += usize::from(last.terminated && reference.steps.len() < reference.max_cycles);
        }
    }
    // simple_tag with six predators and terminate_on_success ends episodes early, at the step
    // mpe2 ended them (a mismatch above would have failed).
    assert!(terminated >= 3, "{terminated} early terminations replayed");
}

#[test]
fn options_change_populations_and_spaces() {
    let options = |items: &[&str]| EnvOptions::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let tag = options(&["num_good=2", "num_adversaries=5", "num_obstacles=0"]);
    assert_eq!(EnvKind::SimpleTag.population(&tag).unwrap(), Some(7));
    assert_eq!(EnvKind::SimpleTag.population(&EnvOptions::new()).unwrap(), Some(4));
    assert_eq!(EnvKind::SimpleAdversary.population(&options(&["N=4"])).unwrap(), Some(5));
    assert_eq!(EnvKind::SimpleWorldComm.population(&options(&["num_adversaries=1", "num_good=3"])).unwrap(), Some(4));
    assert_eq!(EnvKind::CollectTreasure.population(&options(&["num_collectors=2", "num_deposits=3"])).unwrap(), Some(5));
    assert_eq!(EnvKind::SimpleSpread.population(&EnvOptions::new()).unwrap(), None, "--agents decides");
    assert_eq!(EnvKind::SimpleSpread.population(&options(&["N=5"])).unwrap(), Some(5));

    let ctx = GpuContext::shared().unwrap();
    let env = EnvKind::SimpleTag.build(&ctx, &EnvParams { options: tag.clone(), ..EnvParams::new(3, 7) }).unwrap();
    let groups: Vec<(String, usize, usize)> = env.spec().groups.iter().map(|g| (g.name.clone(), g.agents, g.obs_dim)).collect();
    // Predators see the others' positions and the prey's velocities; no obstacles.
    assert_eq!(groups, vec![("adversary".into(), 5, 4 + 12 + 4), ("agent".into(), 2, 4 + 12 + 2)]);

    // Wrong populations, unknown options and out-of-range values are errors that say what to do.
    let error = |kind: EnvKind, params: EnvParams| shoal::env::registry::check_params(kind, &params).unwrap_err().to_string();
    let message = error(EnvKind::SimpleTag, EnvParams { options: tag.clone(), ..EnvParams::new(3, 4) });
    assert!(message.contains("7 agents") && message.contains("num_adversaries=5"), "{message}");
    let message = error(EnvKind::SimpleTag, EnvParams { options: options(&["num_goods=2"]), ..EnvParams::new(3, 4) });
    assert!(message.contains("num_goods") && message.contains("num_good ("), "{message}");
    let message = error(EnvKind::SimplePush, EnvParams { options: options(&["N=3"]), ..EnvParams::new(3, 2) });
    assert!(message.contains("takes no options"), "{message}");
    let message = error(EnvKind::CollectTreasure, EnvParams { options: options(&["num_deposits=0"]), ..EnvParams::new(3, 6) });
    assert!(message.contains("num_deposits") && message.contains("1..="), "{message}");
    let message = error(EnvKind::SimpleLine, EnvParams { options: options(&["N=5"]), ..EnvParams::new(3, 4) });
    assert!(message.contains("agents = 5"), "{message}");
}

/// Agents placed exactly on their slots, standing still: with terminate_on_success the step
/// ends the episode (terminated, not truncated); without it, it does not.
#[test]
fn formation_tasks_terminate_on_success() {
    let ctx = GpuContext::shared().unwrap();
    for terminate in [true, false] {
        let mut params = EnvParams::new(1, 4);
        params.options = EnvOptions::parse(&[format!("terminate_on_success={terminate}")]).unwrap();
        // Line: landmarks at (-0.5, 0) and (0.75, 0), slots every 1.25 / 3.
        let slots: Vec<f32> = (0..4).flat_map(|k| [-0.5 + 1.25 * k as f32 / 3.0, 0.0]).collect();
        let line = SimpleLineConfig::from_params(&params).unwrap().build(&ctx).unwrap();
        let world = WorldState { agent_pos: slots, agent_vel: vec![0.0; 8], landmark_pos: vec![-0.5, 0.0, 0.75, 0.0], ..WorldState::default() };
        check_one_step(Box::new(line.without_auto_reset()), &world, terminate);
        // Formation: a circle of radius 0.5 around the landmark at the origin, from angle 0.
        let circle: Vec<f32> = (0..4).flat_map(|k| {
            let angle = std::f32::consts::FRAC_PI_2 * k as f32;
            [0.5 * angle.cos(), 0.5 * angle.sin()]
        }).collect();
        let formation = SimpleFormationConfig::from_params(&params).unwrap().build(&ctx).unwrap();
        let world = WorldState { agent_pos: circle, agent_vel: vec![0.0; 8], landmark_pos: vec![0.0, 0.0], ..WorldState::default() };
        check_one_step(Box::new(formation.without_auto_reset()), &world, terminate);
    }
}

fn check_one_step(mut env: Box<dyn MpeWorld>, world: &WorldState, terminate: bool) {
    let ctx = env.context().clone();
    env.set_world(world).unwrap();
    let idle = Actions::Discrete(ctx.upload_i32(&[0; 4], [1, 4]).unwrap());
    let out = env.step(&[idle]).unwrap();
    let (done, truncated) = (ctx.read_f32(out.done).unwrap()[0], ctx.read_f32(out.truncated).unwrap()[0]);
    let reward = ctx.read_f32(out.reward).unwrap()[0];
    assert!(reward.abs() < 1e-3, "on the slots the shared reward is ~0, got {reward}");
    assert_eq!((done, truncated), (if terminate { 1.0 } else { 0.0 }, 0.0), "terminate_on_success={terminate}");
}

#[test]
fn options_travel_through_train_configs_and_the_cli() {
    // A config's [env_options] decides the population when `agents` is left out.
    let dir = scratch_dir("env-options");
    let toml_path = dir.join("tag.toml");
    std::fs::write(&toml_path, "env = \"simple_tag\"\nenvs = 4\n[env_options]\nnum_adversaries = 2\nnum_obstacles = 0\n").unwrap();
    let config = TrainConfig::from_toml_file(&toml_path).unwrap();
    assert_eq!((config.agents, config.env_options.iter().count()), (3, 2));
    // Moving to another env drops the first env's options.
    assert!(config.clone().on_env(EnvKind::SimpleSpread).env_options.is_empty());
    std::fs::write(&toml_path, "env = \"simple_tag\"\nagents = 4\n[env_options]\nnum_adversaries = 2\n").unwrap();
    let message = TrainConfig::from_toml_file(&toml_path).unwrap_err().to_string();
    assert!(message.contains("set agents = 3"), "{message}");

    // Train, then evaluate and render from the checkpoint: the run keeps its options.
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    let (ok, text) = shoal(&[
        "train", "--env", "simple_tag", "--algo", "ippo", "--envs", "4", "--steps", "100", "--out", run_s,
        "--env-option", "num_adversaries=2", "--env-option", "num_obstacles=1", "--env-option", "terminate_on_success=true",
        "--set", "hidden=16", "--set", "update_epochs=1", "--set", "num_minibatches=1",
    ]);
    assert!(ok, "{text}");
    let saved = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(saved.contains("agents = 3") && saved.contains("[env_options]") && saved.contains("terminate_on_success = true"), "{saved}");
    let (ok, text) = shoal(&["eval", "--checkpoint", run_s, "--episodes", "4"]);
    assert!(ok && text.contains("adversary"), "{text}");
    let gif = dir.join("tag.gif");
    let (ok, text) = shoal(&["render", "--env", "simple_tag", "--random", "--env-option", "num_good=3", "--out", gif.to_str().unwrap()]);
    assert!(ok && gif.is_file(), "{text}");
    // Typos are named with the options the env takes.
    let (ok, text) = shoal(&["train", "--env", "simple_tag", "--env-option", "num_predators=2", "--out", dir.join("typo").to_str().unwrap()]);
    assert!(!ok && text.contains("num_predators") && text.contains("num_adversaries"), "{text}");
    let (ok, text) = shoal(&["bench", "--env", "simple_world_comm", "--env-option", "num_good=1", "--env-option", "num_forests=0", "--envs", "8", "--steps", "5", "--warmup", "1"]);
    assert!(ok && text.contains("simple_world_comm"), "{text}");
}
