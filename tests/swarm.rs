//! The swarm env: one step against a host reference (motion, progress reward, congestion cost,
//! mean-field observations), auto-reset at the time limit, batch-size independence, bad input.

mod common;

use common::SplitMix;
use shoal::env::{Actions, BatchedEnv, Swarm, SwarmConfig};
use shoal::GpuContext;

#[test]
fn a_step_matches_a_host_reference() {
    let ctx = GpuContext::shared().unwrap();
    let (envs, k) = (2, 300);
    let config = SwarmConfig::new(envs).with_agents(k).with_density(2.0).with_congestion_weight(0.05).with_max_cycles(10);
    let mut env = Swarm::new(ctx.clone(), config.clone()).unwrap();
    env.reset(4).unwrap();
    let mut rng = SplitMix(8);
    // A few steps first so that velocities are not all zero.
    for _ in 0..3 {
        let a: Vec<i32> = (0..envs * k).map(|_| (rng.next_u64() % 5) as i32).collect();
        env.step(&[Actions::Discrete(ctx.upload_i32(&a, [envs, k]).unwrap())]).unwrap();
    }
    let before = env.read_state().unwrap();
    let actions: Vec<i32> = (0..envs * k).map(|_| (rng.next_u64() % 5) as i32).collect();
    let out = env.step(&[Actions::Discrete(ctx.upload_i32(&actions, [envs, k]).unwrap())]).unwrap();
    let after = env.read_state().unwrap();
    let reward = ctx.read_f32(out.reward).unwrap();
    let obs = ctx.read_f32(out.obs[0].clone()).unwrap();
    let h = config.half_extent();
    // Motion, in f32 as the kernel computes it.
    let mut pos = vec![0f32; 2 * envs * k];
    for i in 0..envs * k {
        let a = actions[i];
        let dir = [(a == 2) as i32 as f32 - (a == 1) as i32 as f32, (a == 4) as i32 as f32 - (a == 3) as i32 as f32];
        let mut v = [before.agent_vel[2 * i] * 0.75 + dir[0] * 3.0 * 0.1, before.agent_vel[2 * i + 1] * 0.75 + dir[1] * 3.0 * 0.1];
        let speed = (v[0] * v[0] + v[1] * v[1]).sqrt();
        if speed > 1.0 {
            v = [v[0] / speed, v[1] / speed];
        }
        for c in 0..2 {
            pos[2 * i + c] = (before.agent_pos[2 * i + c] + v[c] * 0.1).clamp(-h, h);
            assert!((after.agent_vel[2 * i + c] - v[c]).abs() < 1e-5, "agent {i} velocity");
            assert!((after.agent_pos[2 * i + c] - pos[2 * i + c]).abs() < 1e-5, "agent {i} position");
        }
    }
    for e in 0..envs {
        for i in 0..k {
            let g = e * k + i;
            let p = [pos[2 * g], pos[2 * g + 1]];
            let dist = |q: [f32; 2]| ((before.goal_pos[2 * g] - q[0]).powi(2) + (before.goal_pos[2 * g + 1] - q[1]).powi(2)).sqrt();
            let (mut count, mut mean_vel, mut mean_action) = (0usize, [0f64; 2], [0f64; 5]);
            for j in (0..k).filter(|&j| j != i) {
                let o = e * k + j;
                let (dx, dy) = (pos[2 * o] - p[0], pos[2 * o + 1] - p[1]);
                if dx * dx + dy * dy < 1.0 {
                    count += 1;
                    mean_vel[0] += after.agent_vel[2 * o] as f64;
                    mean_vel[1] += after.agent_vel[2 * o + 1] as f64;
                    mean_action[actions[o] as usize] += 1.0;
                }
            }
            let prev = [before.agent_pos[2 * g], before.agent_pos[2 * g + 1]];
            let expected = (dist(prev) - dist(p)) as f64 - 0.05 * count as f64;
            assert!((reward[g] as f64 - expected).abs() < 1e-4, "agent {g}: reward {} vs {expected}", reward[g]);
            let row = &obs[g * 12..(g + 1) * 12];
            assert_eq!(row[4] as usize, count, "agent {g}: neighbour count");
            assert!((row[2] - (before.goal_pos[2 * g] - p[0])).abs() < 1e-5, "agent {g}: vector to goal");
            let n = count.max(1) as f64;
            for c in 0..2 {
                assert!((row[5 + c] as f64 - mean_vel[c] / n).abs() < 1e-5, "agent {g}: mean velocity");
            }
            for a in 0..5 {
                assert!((row[7 + a] as f64 - mean_action[a] / n).abs() < 1e-6, "agent {g}: mean action");
            }
        }
    }
}

#[test]
fn episodes_end_together_respawn_and_are_counted() {
    let ctx = GpuContext::shared().unwrap();
    let (envs, k, cycles) = (3, 64, 5);
    let mut env = Swarm::new(ctx.clone(), SwarmConfig::new(envs).with_agents(k).with_max_cycles(cycles)).unwrap();
    env.reset(1).unwrap();
    let start = env.read_state().unwrap();
    let idle = Actions::Discrete(ctx.upload_i32(&vec![0; envs * k], [envs, k]).unwrap());
    for step in 0..cycles {
        let out = env.step(&[idle.clone()]).unwrap();
        let done = ctx.read_f32(out.done).unwrap();
        assert!(done.iter().all(|&d| d == if step + 1 == cycles { 1.0 } else { 0.0 }), "step {step}: {done:?}");
    }
    let respawned = env.read_state().unwrap();
    assert_ne!(start.agent_pos, respawned.agent_pos, "a new episode starts elsewhere");
    assert!(respawned.agent_vel.iter().all(|&v| v == 0.0));
    let stats = env.episode_stats().unwrap();
    assert_eq!(stats.episodes, envs as f64);
    assert!(stats.mean_return.is_finite());
}

#[test]
fn env_i_is_the_same_at_any_batch_size() {
    let ctx = GpuContext::shared().unwrap();
    let run = |envs: usize| {
        let k = 200;
        let mut env = Swarm::new(ctx.clone(), SwarmConfig::new(envs).with_agents(k).with_max_cycles(4)).unwrap();
        let mut obs = ctx.read_f32(env.reset(3).unwrap().obs[0].clone()).unwrap();
        for t in 0..6 {
            let a: Vec<i32> = (0..envs * k).map(|i| ((i % k) * 7 + t) as i32 % 5).collect();
            obs = ctx.read_f32(env.step(&[Actions::Discrete(ctx.upload_i32(&a, [envs, k]).unwrap())]).unwrap().obs[0].clone()).unwrap();
        }
        obs[..2 * k * 12].to_vec()
    };
    let small = run(2);
    let large = run(5);
    assert!(small.iter().zip(&large).all(|(a, b)| a.to_bits() == b.to_bits()), "env 0 and 1 differ between batches of 2 and 5");
}

#[test]
fn bad_swarm_input_is_named() {
    let ctx = GpuContext::shared().unwrap();
    for (config, name) in [
        (SwarmConfig::new(0), "n_envs"),
        (SwarmConfig::new(1).with_agents(1), "agents"),
        (SwarmConfig::new(1).with_density(0.0), "density"),
        (SwarmConfig::new(1).with_radius(-1.0), "radius"),
    ] {
        let err = Swarm::new(ctx.clone(), config).err().expect("accepted a bad config").to_string();
        assert!(err.contains(name), "{err}");
    }
    let mut env = Swarm::new(ctx.clone(), SwarmConfig::new(2).with_agents(10)).unwrap();
    let wrong = Actions::Discrete(ctx.upload_i32(&[0; 10], [1, 10]).unwrap());
    assert!(env.step(&[wrong.clone()]).is_err(), "stepping before reset");
    env.reset(0).unwrap();
    let err = env.step(&[wrong]).err().unwrap().to_string();
    assert!(err.contains("swarm actions"), "{err}");
}
