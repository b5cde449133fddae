//! The batch engine's guarantees on simple_spread: determinism, batch-size independence,
//! automatic reset at the time limit, on-device episode statistics, device-side actions.

use shoal::env::{Actions, BatchedEnv, RandomActions, SimpleSpread, SimpleSpreadConfig};
use shoal::GpuContext;

fn env(n_envs: usize) -> SimpleSpread {
    SimpleSpreadConfig::new(n_envs).init().unwrap()
}

fn read(t: burn::tensor::Tensor<3>) -> Vec<f32> {
    GpuContext::shared().unwrap().read_f32(t).unwrap()
}

/// Runs `steps` random steps and returns every step's observations.
fn rollout(n_envs: usize, seed: u64, steps: usize) -> Vec<Vec<f32>> {
    let mut env = env(n_envs);
    let ctx = env.context().clone();
    let mut policy = RandomActions::new(ctx, &env.spec().groups[0], n_envs, seed).unwrap();
    let mut out = vec![read(env.reset(seed).unwrap().obs[0].clone())];
    for _ in 0..steps {
        let step = env.step(&[policy.sample()]).unwrap();
        out.push(read(step.obs[0].clone()));
    }
    out
}

#[test]
fn same_seed_same_observations_other_seed_differs() {
    let a = rollout(32, 11, 30);
    let b = rollout(32, 11, 30);
    let c = rollout(32, 12, 30);
    assert_eq!(a, b, "same seed must give bit-identical observations");
    assert_ne!(a[0], c[0], "another seed must spawn other worlds");
}

#[test]
fn env_i_is_identical_at_4_and_4096_envs() {
    // 60 steps cross two automatic resets (max_cycles 25), so re-spawns are covered too.
    let small = rollout(4, 5, 60);
    let large = rollout(4096, 5, 60);
    let per_env = 3 * 18;
    for (t, (s, l)) in small.iter().zip(&large).enumerate() {
        assert_eq!(s[..], l[..4 * per_env], "step {t}: envs 0..4 differ between batch sizes");
    }
}

#[test]
fn episodes_reset_automatically_at_max_cycles() {
    let config = SimpleSpreadConfig::new(8).with_max_cycles(5).with_terminal_obs(true);
    let mut env = config.init().unwrap();
    let ctx = env.context().clone();
    let group = env.spec().groups[0].clone();
    let first = read(env.reset(3).unwrap().obs[0].clone());
    // Everyone moves right: positions change every step.
    let right = vec![2i32; 8 * 3];
    let mut last_obs = first.clone();
    for step in 1..=12 {
        let out = env.step(&[Actions::discrete_from_host(&ctx, &group, 8, &right).unwrap()]).unwrap();
        let done = ctx.read_f32(out.done.clone()).unwrap();
        let truncated = ctx.read_f32(out.truncated.clone()).unwrap();
        let obs = read(out.obs[0].clone());
        let terminal = read(out.terminal_obs.unwrap()[0].clone());
        let ends = step % 5 == 0;
        assert!(done.iter().all(|&d| d == if ends { 1.0 } else { 0.0 }), "step {step}: done {done:?}");
        assert_eq!(done, truncated, "a time limit is a truncation");
        if ends {
            // The returned observation is a fresh episode: zero velocity, new positions.
            assert!(obs.chunks(18).all(|o| o[0] == 0.0 && o[1] == 0.0), "step {step}");
            assert_ne!(obs, terminal, "step {step}: terminal obs must be the pre-reset one");
            // The terminal observation continues the episode: velocity to the right.
            assert!(terminal.chunks(18).all(|o| o[0] > 0.0), "step {step}");
        } else {
            assert_eq!(obs, terminal, "step {step}: without an end, terminal_obs == obs");
            assert_ne!(obs, last_obs);
        }
        last_obs = obs;
    }
    let (steps, episodes) = env.read_counters().unwrap();
    assert!(steps.iter().all(|&s| s == 2), "{steps:?}");
    assert!(episodes.iter().all(|&e| e == 2), "{episodes:?}");
    // The second episode spawned a different world from the first.
    let stats = env.episode_stats().unwrap();
    assert_eq!(stats.episodes, 16.0);
    assert_eq!(stats.mean_length, 5.0);
}

#[test]
fn episode_stats_match_the_rewards_returned() {
    let n_envs = 16;
    let config = SimpleSpreadConfig::new(n_envs).with_max_cycles(4);
    let mut env = config.init().unwrap();
    let ctx = env.context().clone();
    let mut policy = RandomActions::new(ctx.clone(), &env.spec().groups[0], n_envs, 9).unwrap();
    env.reset(1).unwrap();
    let mut returns = vec![0f64; n_envs];
    for _ in 0..4 {
        let out = env.step(&[policy.sample()]).unwrap();
        let reward = ctx.read_f32(out.reward).unwrap();
        for (e, r) in returns.iter_mut().enumerate() {
            *r += reward[e * 3..e * 3 + 3].iter().map(|&x| x as f64).sum::<f64>() / 3.0;
        }
    }
    let stats = env.episode_stats().unwrap();
    let mean = returns.iter().sum::<f64>() / n_envs as f64;
    assert_eq!(stats.episodes, n_envs as f64);
    assert!((stats.mean_return - mean).abs() < 1e-4, "{} vs {mean}", stats.mean_return);
    assert!(stats.mean_return < 0.0, "coverage rewards are negative");
    env.clear_episode_stats().unwrap();
    assert_eq!(env.episode_stats().unwrap().episodes, 0.0);
}

#[test]
fn device_actions_cover_the_space_and_invalid_ones_are_counted() {
    let n_envs = 256;
    let mut env = env(n_envs);
    let ctx = env.context().clone();
    let group = env.spec().groups[0].clone();
    let mut policy = RandomActions::new(ctx.clone(), &group, n_envs, 4).unwrap();
    let Actions::Discrete(actions) = policy.sample() else { panic!("discrete group") };
    let values = ctx.read_i32(actions).unwrap();
    for a in 0..5 {
        let count = values.iter().filter(|&&v| v == a).count();
        assert!(count > 100, "action {a} drawn {count} times out of {}", values.len());
    }
    assert!(values.iter().all(|v| (0..5).contains(v)));

    // Out-of-range actions given as a tensor are no-ops, and counted.
    env.reset(0).unwrap();
    let bad = ctx.upload_i32(&vec![7; n_envs * 3], [n_envs, 3]).unwrap();
    env.step(&[Actions::Discrete(bad)]).unwrap();
    assert_eq!(env.episode_stats().unwrap().invalid_actions, (n_envs * 3) as f64);
}

#[test]
fn continuous_actions_move_agents_like_discrete_ones() {
    // Continuous (0, 0, 1, 0, 0) is "full right", as discrete action 2.
    let n_envs = 4;
    let mut discrete = SimpleSpreadConfig::new(n_envs).init().unwrap();
    let mut continuous = SimpleSpreadConfig::new(n_envs).with_continuous(true).init().unwrap();
    let ctx = discrete.context().clone();
    discrete.reset(2).unwrap();
    continuous.reset(2).unwrap();
    let d = Actions::discrete_from_host(&ctx, &discrete.spec().groups[0], n_envs, &vec![2; n_envs * 3]).unwrap();
    let right: Vec<f32> = (0..n_envs * 3).flat_map(|_| [0.0, 0.0, 1.0, 0.0, 0.0]).collect();
    let c = Actions::continuous_from_host(&ctx, &continuous.spec().groups[0], n_envs, &right).unwrap();
    let od = read(discrete.step(&[d]).unwrap().obs[0].clone());
    let oc = read(continuous.step(&[c]).unwrap().obs[0].clone());
    assert_eq!(od, oc);
    assert!(od.chunks(18).all(|o| (o[0] - 0.5).abs() < 1e-6 && o[1] == 0.0), "vel = (0.5, 0) after one push");
}

#[test]
fn random_policy_scores_the_published_random_baseline() {
    // JaxMARL reports −26.34 for a uniform random policy on simple_spread (N=3, local_ratio 0.5,
    // 25 steps; return = mean over agents of each agent's episode return).
    let n_envs = 4096;
    let mut env = env(n_envs);
    let mut policy = RandomActions::new(env.context().clone(), &env.spec().groups[0], n_envs, 3).unwrap();
    env.reset(21).unwrap();
    for _ in 0..100 {
        env.step(&[policy.sample()]).unwrap();
    }
    let stats = env.episode_stats().unwrap();
    assert_eq!(stats.episodes, (4 * n_envs) as f64);
    assert!((stats.mean_return - -26.34).abs() < 0.5, "random policy return {}", stats.mean_return);
}

#[test]
fn the_env_knows_without_reading_when_episodes_can_end() {
    let ctx = GpuContext::shared().unwrap();
    let mut env = SimpleSpreadConfig::new(4).with_max_cycles(3).init().unwrap();
    let group = env.spec().groups[0].clone();
    env.reset(0).unwrap();
    for step in 1..=7 {
        let predicted = env.episodes_may_end_next_step();
        let out = env.step(&[Actions::discrete_from_host(&ctx, &group, 4, &[0; 12]).unwrap()]).unwrap();
        let ended = ctx.read_f32(out.done).unwrap()[0] == 1.0;
        assert_eq!(predicted, ended, "step {step}");
        assert_eq!(ended, step % 3 == 0);
    }
}
