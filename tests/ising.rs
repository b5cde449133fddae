//! The Ising model: the env's rewards and observations against a host reference, Metropolis
//! against Onsager's exact magnetisation, MF-Q's ordered and disordered phases, determinism.

mod common;

use shoal::env::ising::{self, InitialSpins, ONSAGER_TC};
use shoal::env::Metropolis;
use shoal::env::{Actions, BatchedEnv, Ising, IsingConfig};
use shoal::GpuContext;

/// Onsager–Yang spontaneous magnetisation per site below T_c (J = 1).
fn onsager_magnetisation(t: f64) -> f64 {
    if t >= ONSAGER_TC { 0.0 } else { (1.0 - (2.0 / t).sinh().powi(-4)).powf(0.125) }
}

#[test]
fn env_step_matches_a_host_reference_on_random_lattices() {
    let ctx = GpuContext::shared().unwrap();
    let (envs, size, max_cycles) = (3, 6, 4);
    let sites = size * size;
    let (coupling, field) = (1.5f32, 0.25f32);
    let mut env = Ising::new(ctx.clone(), IsingConfig::new(envs).with_size(size).with_coupling(coupling).with_field(field).with_max_cycles(max_cycles)).unwrap();
    let first = env.reset(11).unwrap();
    let first = ctx.read_f32(first.obs[0].clone()).unwrap();
    assert!(first.chunks(2).all(|o| o[0] == 1.0 || o[0] == -1.0), "a fresh lattice holds ±1 spins");
    let mut rng = common::SplitMix(99);
    let mut returns = vec![0f64; envs];
    let neighbours = |s: usize| {
        let (r, c) = (s / size, s % size);
        [((r + size - 1) % size) * size + c, ((r + 1) % size) * size + c, r * size + (c + size - 1) % size, r * size + (c + 1) % size]
    };
    for step in 0..max_cycles {
        let actions: Vec<i32> = (0..envs * sites).map(|_| (rng.next_u64() % 2) as i32).collect();
        let out = env.step(&[Actions::Discrete(ctx.upload_i32(&actions, [envs, sites]).unwrap())]).unwrap();
        let reward = ctx.read_f32(out.reward.clone()).unwrap();
        let next = ctx.read_f32(out.obs[0].clone()).unwrap();
        let done = ctx.read_f32(out.done.clone()).unwrap();
        let ends = step + 1 == max_cycles;
        for e in 0..envs {
            assert_eq!(done[e], if ends { 1.0 } else { 0.0 });
            let spin = |s: usize| (2 * actions[e * sites + s] - 1) as f64;
            let mut total = 0.0;
            for s in 0..sites {
                let sum: f64 = neighbours(s).iter().map(|&k| spin(k)).sum();
                let expected = field as f64 * spin(s) + 0.5 * coupling as f64 * spin(s) * sum;
                assert!((reward[e * sites + s] as f64 - expected).abs() < 1e-5, "reward env {e} site {s}");
                total += expected;
                if !ends {
                    assert_eq!(next[(e * sites + s) * 2] as f64, spin(s), "own spin");
                    assert!((next[(e * sites + s) * 2 + 1] as f64 - sum / 4.0).abs() < 1e-6, "neighbour mean");
                }
            }
            returns[e] += total / sites as f64;
        }
        if ends {
            // A fresh lattice: ±1 spins, its neighbour means consistent with it.
            for e in 0..envs {
                for s in 0..sites {
                    let own = next[(e * sites + s) * 2];
                    assert!(own == 1.0 || own == -1.0);
                    let mean: f32 = neighbours(s).iter().map(|&k| next[(e * sites + k) * 2]).sum::<f32>() / 4.0;
                    assert_eq!(next[(e * sites + s) * 2 + 1], mean);
                }
            }
        }
    }
    let stats = env.episode_stats().unwrap();
    assert_eq!(stats.episodes, envs as f64);
    let mean = returns.iter().sum::<f64>() / envs as f64;
    assert!((stats.mean_return - mean).abs() < 1e-4, "{} vs {mean}", stats.mean_return);
    assert_eq!(stats.invalid_actions, 0.0);
}

#[test]
fn invalid_actions_keep_the_spin_and_are_counted() {
    let ctx = GpuContext::shared().unwrap();
    let mut env = Ising::new(ctx.clone(), IsingConfig::new(1).with_size(4)).unwrap();
    let before = ctx.read_f32(env.reset(3).unwrap().obs[0].clone()).unwrap();
    let mut actions = vec![1i32; 16];
    actions[5] = 7;
    actions[6] = -1;
    let after = ctx.read_f32(env.step(&[Actions::Discrete(ctx.upload_i32(&actions, [1, 16]).unwrap())]).unwrap().obs[0].clone()).unwrap();
    assert_eq!(after[10], before[10]);
    assert_eq!(after[12], before[12]);
    assert_eq!(after[0], 1.0);
    assert_eq!(env.episode_stats().unwrap().invalid_actions, 2.0);
}

#[test]
fn metropolis_reproduces_onsager_magnetisation_and_the_disordered_phase() {
    let ctx = GpuContext::shared().unwrap();
    let temperatures = [1.5f32, 2.0, 3.0, 4.0];
    let points = ising::order_parameter_curve(&ctx, 32, &temperatures, 4, 300, 300, 1, |_| {}).unwrap();
    for p in &points[..2] {
        let exact = onsager_magnetisation(p.temperature);
        assert!((p.order_parameter - exact).abs() < 0.01, "T={}: {} vs Onsager {exact}", p.temperature, p.order_parameter);
    }
    for p in &points[2..] {
        assert!(p.order_parameter < 0.15, "T={} should be disordered: {}", p.temperature, p.order_parameter);
    }
    let transition = ising::steepest_drop(&ising::order_parameter_curve(&ctx, 32, &[2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6], 4, 400, 400, 2, |_| {}).unwrap()).unwrap();
    assert!((transition / ONSAGER_TC - 1.0).abs() < 0.05, "transition at {transition}");
}

#[test]
fn metropolis_lattice_i_does_not_depend_on_the_batch() {
    let ctx = GpuContext::shared().unwrap();
    let run = |temperatures: &[f32]| {
        let mut chain = Metropolis::new(ctx.clone(), 8, temperatures, 1.0, 0.0, InitialSpins::Random, 5).unwrap();
        for _ in 0..20 {
            chain.sweep().unwrap();
        }
        ctx.read_f32(chain.spins()).unwrap()
    };
    let small = run(&[2.0, 3.0]);
    let large = run(&[2.0, 3.0, 1.0, 2.5, 4.0]);
    assert_eq!(small[..], large[..small.len()]);
    assert_ne!(small[..64], small[64..], "two temperatures, the same lattice");
}

#[test]
fn mean_field_q_orders_at_low_temperature_and_not_at_high() {
    let ctx = GpuContext::shared().unwrap();
    let points = shoal::train::mfq::order_parameter_curve(&ctx, 16, &[0.5, 5.0], 2, 200, 100, 3, |_| {}).unwrap();
    assert!(points[0].order_parameter > 0.9, "T=0.5: {}", points[0].order_parameter);
    assert!(points[1].order_parameter < 0.2, "T=5: {}", points[1].order_parameter);
}

#[test]
fn bad_ising_configs_are_named() {
    let ctx = GpuContext::shared().unwrap();
    for (config, name) in [
        (IsingConfig::new(0), "n_envs"),
        (IsingConfig::new(1).with_size(7), "size"),
        (IsingConfig::new(1).with_max_cycles(0), "max_cycles"),
        (IsingConfig::new(1).with_initial_magnetisation(2.0), "initial_magnetisation"),
    ] {
        let err = Ising::new(ctx.clone(), config).err().expect("accepted a bad config").to_string();
        assert!(err.contains(name), "{err}");
    }
    let err = Metropolis::new(ctx, 8, &[1.0, -2.0], 1.0, 0.0, InitialSpins::Ordered, 0).err().unwrap().to_string();
    assert!(err.contains("temperature"), "{err}");
}
