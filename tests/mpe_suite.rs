//! The MPE scenarios beyond simple_spread against mpe2 1.1.1: the golden trajectories of
//! `tests/data/mpe_simple.jsonl` and `tests/data/mpe_formation.jsonl` (those scenarios' lines of
//! the shared `mpe.jsonl`, spec in `tests/data/MPE_SPEC.md` §1 and §9) replayed from their
//! initial states, discrete and continuous, all five seeds in one batch; and the envs built
//! through the registry as `shoal` builds them.

use serde_json::Value;
use shoal::env::{
    Actions, BatchedEnv, EnvKind, EnvParams, FormationConfig, Mpe, MpeScenario, SimpleConfig, SimpleFormationConfig, SimpleLineConfig,
};
use shoal::GpuContext;

const SIMPLE_GOLDEN: &str = include_str!("data/mpe_simple.jsonl");
const FORMATION_GOLDEN: &str = include_str!("data/mpe_formation.jsonl");
/// Float32 against float64 over 25 steps (the same bound as simple_spread's replay).
const TOL: f64 = 1e-4;

fn pairs(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().flat_map(|p| p.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32)).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().flat_map(|row| match row {
        Value::Array(values) => values.iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>(),
        x => vec![x.as_f64().unwrap()],
    }).collect()
}

fn max_error(ours: &[f32], reference: &[f64]) -> f64 {
    assert_eq!(ours.len(), reference.len());
    ours.iter().zip(reference).map(|(&a, &b)| (a as f64 - b).abs()).fold(0.0, f64::max)
}

/// Replays every golden trajectory of `scenario` in `golden` (five seeds per action kind, one
/// batch each) from its recorded initial state, and checks observations, rewards, positions and
/// truncation against mpe2's within [`TOL`].
fn replay_golden<S: MpeScenario>(golden: &str, scenario: &str, config: impl Fn(usize, bool) -> S) {
    let lines: Vec<Value> =
        golden.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|t| t["scenario"] == scenario).collect();
    let ctx = GpuContext::shared().unwrap();
    for continuous in [false, true] {
        let batch: Vec<&Value> = lines.iter().filter(|t| t["continuous"].as_bool() == Some(continuous)).collect();
        assert_eq!(batch.len(), 5, "{scenario}: five seeds per action kind");
        let envs = batch.len();
        let mut env = Mpe::new(ctx.clone(), config(envs, continuous)).unwrap();
        let cat = |f: &dyn Fn(&Value) -> Vec<f32>| batch.iter().flat_map(|t| f(t)).collect::<Vec<f32>>();
        let start = env
            .set_state(&cat(&|t| pairs(&t["init"]["agent_pos"])), &cat(&|t| pairs(&t["init"]["agent_vel"])), &cat(&|t| pairs(&t["init"]["landmark_pos"])))
            .unwrap();
        let init_obs: Vec<f64> = batch.iter().flat_map(|t| floats(&t["init"]["obs"])).collect();
        assert!(max_error(&ctx.read_f32(start.obs[0].clone()).unwrap(), &init_obs) < TOL);
        let (mut worst_obs, mut worst_rew, mut worst_pos) = (0.0f64, 0.0f64, 0.0f64);
        for t in 0..25 {
            let actions = if continuous {
                let values: Vec<f32> = batch.iter().flat_map(|tr| floats(&tr["actions"][t]).into_iter().map(|x| x as f32)).collect();
                Actions::continuous_from_host(&ctx, &env.spec().groups[0], envs, &values).unwrap()
            } else {
                let values: Vec<i32> = batch.iter().flat_map(|tr| floats(&tr["actions"][t]).into_iter().map(|x| x as i32)).collect();
                Actions::discrete_from_host(&ctx, &env.spec().groups[0], envs, &values).unwrap()
            };
            let out = env.step(&[actions]).unwrap();
            let step: Vec<&Value> = batch.iter().map(|tr| &tr["steps"][t]).collect();
            let reference_obs: Vec<f64> = step.iter().flat_map(|s| floats(&s["obs"])).collect();
            let reference_rew: Vec<f64> = step.iter().flat_map(|s| floats(&s["rew"])).collect();
            let truncated: Vec<f32> = step.iter().map(|s| if s["truncated"][0].as_bool().unwrap() { 1.0 } else { 0.0 }).collect();
            // The step that ends an episode returns the next episode's first observation: compare
            // the terminal one through the positions instead.
            if t + 1 < 25 {
                worst_obs = worst_obs.max(max_error(&ctx.read_f32(out.obs[0].clone()).unwrap(), &reference_obs));
                let reference_pos: Vec<f64> = step.iter().flat_map(|s| floats(&s["agent_pos"])).collect();
                worst_pos = worst_pos.max(max_error(&env.read_state().unwrap().agent_pos, &reference_pos));
            }
            worst_rew = worst_rew.max(max_error(&ctx.read_f32(out.reward.clone()).unwrap(), &reference_rew));
            assert_eq!(ctx.read_f32(out.truncated.clone()).unwrap(), truncated, "{scenario}: truncation at step {t}");
        }
        eprintln!("{scenario} continuous={continuous}: max |error| obs {worst_obs:.2e}, reward {worst_rew:.2e}, position {worst_pos:.2e}");
        assert!(
            worst_obs < TOL && worst_rew < TOL && worst_pos < TOL,
            "{scenario} continuous={continuous}: obs {worst_obs:.2e}, reward {worst_rew:.2e}, pos {worst_pos:.2e}"
        );
        // A bug that zeroed everything would pass a tolerance on tiny values: the trajectories move.
        assert!(floats(&batch[0]["steps"][24]["rew"])[0] != floats(&batch[0]["steps"][0]["rew"])[0]);
    }
}

#[test]
fn simple_replays_mpe2_golden_trajectories() {
    replay_golden(SIMPLE_GOLDEN, "simple", |envs, continuous| SimpleConfig::new(envs).with_continuous(continuous));
}

#[test]
fn simple_line_replays_mpe2_golden_trajectories() {
    replay_golden(FORMATION_GOLDEN, "simple_line", |envs, continuous| {
        SimpleLineConfig(FormationConfig::new(envs).with_continuous(continuous))
    });
}

#[test]
fn simple_formation_replays_mpe2_golden_trajectories() {
    replay_golden(FORMATION_GOLDEN, "simple_formation", |envs, continuous| {
        SimpleFormationConfig(FormationConfig::new(envs).with_continuous(continuous))
    });
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
