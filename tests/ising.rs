//! The Ising model: the env's rewards and observations against a host reference, Metropolis
//! against Onsager's exact magnetisation, MF-Q's ordered and disordered phases, determinism; the
//! two energies and MF-Q's move schedules of the comparison with the Mean Field MARL paper.

mod common;

use shoal::env::ising::{self, Energy, InitialSpins, OrderCurve, ONSAGER_TC};
use shoal::train::mfq::{IsingMfq, MfqConfig, Moves};
use shoal::env::Metropolis;
use shoal::env::{Actions, BatchedEnv, Ising, IsingConfig};
use shoal::GpuContext;

/// Onsager–Yang spontaneous magnetisation per site below T_c (J = 1).
fn onsager_magnetisation(t: f64) -> f64 {
    if t >= ONSAGER_TC { 0.0 } else { (1.0 - (2.0 / t).sinh().powi(-4)).powf(0.125) }
}

/// `replicas` lattices of side `size` per temperature, `sweeps` to equilibrate and as many to measure.
fn curve(size: usize, temperatures: &[f32], replicas: usize, sweeps: usize, seed: u64) -> OrderCurve {
    OrderCurve { size, temperatures: temperatures.to_vec(), replicas, equilibration: sweeps, measurements: sweeps, seed, initial: InitialSpins::Ordered }
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
    let points = ising::order_parameter_curve(&ctx, &curve(32, &temperatures, 4, 300, 1), Energy::Total, |_| {}).unwrap();
    for p in &points[..2] {
        let exact = onsager_magnetisation(p.temperature);
        assert!((p.order_parameter - exact).abs() < 0.01, "T={}: {} vs Onsager {exact}", p.temperature, p.order_parameter);
    }
    for p in &points[2..] {
        assert!(p.order_parameter < 0.15, "T={} should be disordered: {}", p.temperature, p.order_parameter);
    }
    let transition = ising::steepest_drop(&ising::order_parameter_curve(&ctx, &curve(32, &[2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6], 4, 400, 2), Energy::Total, |_| {}).unwrap()).unwrap();
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
    let random_start = OrderCurve { measurements: 100, initial: InitialSpins::Random, ..curve(16, &[0.5, 5.0], 2, 200, 3) };
    let points = shoal::train::mfq::order_parameter_curve(&ctx, &random_start, MfqConfig::new(), |_| {}).unwrap();
    assert!(points[0].order_parameter > 0.9, "T=0.5: {}", points[0].order_parameter);
    assert!(points[1].order_parameter < 0.2, "T=5: {}", points[1].order_parameter);
}

#[test]
fn the_own_energy_chain_is_the_total_energy_chain_at_twice_the_temperature() {
    // ΔE halves with the coupling, so exp(−ΔE/T) at (J/2, T) is exp(−ΔE/2T) at (J, 2T): the same
    // acceptances draw for draw.
    let ctx = GpuContext::shared().unwrap();
    let run = |energy: Energy, temperatures: &[f32]| {
        let mut chain = Metropolis::new(ctx.clone(), 16, temperatures, energy.coupling(), 0.0, InitialSpins::Random, 9).unwrap();
        for _ in 0..30 {
            chain.sweep().unwrap();
        }
        ctx.read_f32(chain.spins()).unwrap()
    };
    let own = run(Energy::Own, &[0.8, 1.2, 2.0]);
    assert_eq!(own, run(Energy::Total, &[1.6, 2.4, 4.0]));
    assert_ne!(own, run(Energy::Total, &[0.8, 1.2, 2.0]), "the energy must change the chain");
    assert!((Energy::Own.critical_temperature() - ONSAGER_TC / 2.0).abs() < 1e-9);
}

/// MF-Q agents with `config` on `lattices` 16×16 lattices at `temperature`, after `steps`
/// steps of acting and learning: their Q table (`[lattices, 20]`) and each lattice's |m|.
fn learn_mfq(config: MfqConfig, temperature: f32, lattices: usize, steps: usize) -> (Vec<f32>, Vec<f32>) {
    let ctx = GpuContext::shared().unwrap();
    let mut env = Ising::new(ctx.clone(), IsingConfig::new(lattices).with_size(16).with_max_cycles(steps + 1)).unwrap();
    let mut agents = IsingMfq::new(&ctx, &vec![temperature; lattices], 256, config, 4).unwrap();
    let mut obs = env.reset(4).unwrap().obs.remove(0);
    for _ in 0..steps {
        let action = agents.act(obs.clone()).unwrap();
        let out = env.step(&[Actions::Discrete(action.clone())]).unwrap();
        let next = out.obs[0].clone();
        let _ = agents.learn(obs, action, out.reward, next.clone(), out.done);
        obs = next;
    }
    (ctx.read_f32(agents.table()).unwrap(), ctx.read_f32(env.magnetisation().abs()).unwrap())
}

#[test]
fn checkerboard_mfq_learns_each_entrys_exact_reward_and_moves_half_the_sites() {
    // When a site moves its neighbours stand still, so its reward is (J/2)·s'·Σ s_k = 2·s'·ā,
    // known exactly from its observation: the myopic table must converge to it entry by entry
    // (geometrically, by 0.9 a visit: the rarest entry, a lone down site among ups, is visited least).
    let config = MfqConfig::new().with_gamma(0.0).with_moves(Moves::Checkerboard);
    let (table, _) = learn_mfq(config, 2.0, 2, 300);
    for lattice in 0..2 {
        for own in 0..2 {
            for mean in 0..5 {
                for action in 0..2 {
                    let entry = own * 10 + mean * 2 + action;
                    let reward = 2.0 * (2.0 * action as f32 - 1.0) * (mean as f32 * 0.5 - 1.0);
                    let q = table[lattice * 20 + entry];
                    assert!((q - reward).abs() < 1e-2, "lattice {lattice}, own {own}, ā {}, action {action}: Q {q} vs reward {reward}", mean as f32 * 0.5 - 1.0);
                }
            }
        }
    }
    // Synchronous moves: the neighbours move too, so the same entries learn something else.
    let (table, _) = learn_mfq(MfqConfig::new().with_gamma(0.0), 2.0, 2, 300);
    let all_up_stay_up = table[10 + 4 * 2 + 1];
    assert!((all_up_stay_up - 2.0).abs() > 0.2, "synchronous: Q(up | ā = 1) = {all_up_stay_up}");
}

#[test]
fn synchronous_mfq_orders_where_the_own_energy_heat_bath_does_not() {
    // The finding of BENCHMARKS.md's Ising section at a test's size: at T = 1.5 (above T_c = 1.135 of
    // the sites' own energy) agents moving in turns are disordered, as Metropolis on that energy;
    // agents moving at once learn the lattice's mean spin as a field and stay ordered.
    let ordered = |moves: Moves| {
        let (_, order) = learn_mfq(MfqConfig::new().with_gamma(0.0).with_moves(moves), 1.5, 8, 600);
        order.iter().sum::<f32>() / order.len() as f32
    };
    let turns = ordered(Moves::Checkerboard);
    let at_once = ordered(Moves::Synchronous);
    assert!(turns < 0.3, "checkerboard |m| = {turns}");
    assert!(at_once > 0.5, "synchronous |m| = {at_once}");
}

#[test]
fn synchronous_mfq_is_curie_weiss_mean_field_theory() {
    // Moving all at once, a site's reward depends on its neighbours' next spins, which its
    // observation does not determine: the shared table learns their mean, m, and the Boltzmann
    // policy becomes the mean-field heat bath m = tanh(2m/T) on the sites' own energy.
    let ctx = GpuContext::shared().unwrap();
    let temperatures = [1.2f32, 1.6];
    let random_start = OrderCurve { initial: InitialSpins::Random, ..curve(32, &temperatures, 4, 300, 6) };
    let points = shoal::train::mfq::order_parameter_curve(&ctx, &random_start, MfqConfig::new().with_gamma(0.0), |_| {}).unwrap();
    for p in &points {
        let weiss = ising::curie_weiss_magnetisation(p.temperature, Energy::Own);
        assert!((p.order_parameter - weiss).abs() < 0.03, "T={}: |m| {} vs Curie–Weiss {weiss}", p.temperature, p.order_parameter);
    }
    assert!((ising::curie_weiss_magnetisation(1.6, Energy::Own) - (2.0 * 0.7104f64 / 1.6).tanh()).abs() < 1e-3);
    assert_eq!(ising::curie_weiss_magnetisation(2.0, Energy::Own), 0.0);
}

#[test]
fn shoal_ising_draws_one_curve_per_method_and_move_schedule() {
    let dir = common::scratch_dir("ising_cli");
    let json = dir.join("curve.json");
    let text = common::shoal_ok(&[
        "ising", "--method", "mcmc,mfq", "--energy", "own", "--gamma", "0", "--moves", "synchronous,checkerboard",
        "--size", "8", "--envs", "1", "--equilibration", "10", "--measurements", "10", "--temperatures", "0.8,3.0",
        "--json", json.to_str().unwrap(), "--plot", dir.join("curve.png").to_str().unwrap(),
    ]);
    assert!(text.contains("T_c of the own energy: 1.135"), "{text}");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let label = |r: &serde_json::Value| format!("{} {} {}", r["method"], r["energy"], r["moves"]);
    let labels: Vec<String> = rows.iter().map(label).collect();
    assert_eq!(labels.len(), 6, "{labels:?}");
    for (i, expected) in ["\"mcmc\" \"own\" null", "\"mfq\" null \"synchronous\"", "\"mfq\" null \"checkerboard\""].iter().enumerate() {
        assert_eq!(&labels[2 * i], expected);
        assert_eq!(&labels[2 * i + 1], expected);
    }
    assert!(std::fs::metadata(dir.join("curve.png")).unwrap().len() > 1000);
    let (ok, text) = common::run_shoal(&["ising", "--method", "mfq", "--gamma", "1.5", "--size", "8", "--envs", "1", "--temperatures", "1"]);
    assert!(!ok && text.contains("gamma") && !text.contains("panicked"), "{text}");
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
