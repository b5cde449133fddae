//! Determinism and batch-size independence for every registered env, not only simple_spread
//! (`tests/engine.rs`): the same seed gives bit-identical observations and rewards, another seed
//! other ones, and env *i* steps the same whether the batch holds 4 (or an odd 5) envs or 64. Random actions
//! are keyed by (seed, env), so the envs shared by both batches receive the same actions.
//! Nothing here names an env: a new env in the registry is covered without an edit.

mod common;

use shoal::env::{EnvKind, RandomActions, Scale};
use shoal::GpuContext;

/// A small instance of each env (the sizes `tests/registry.rs` runs the CLI at).
fn small(kind: EnvKind) -> usize {
    match kind.entry().scale {
        Scale::Agents { default, .. } => default.min(12),
        Scale::LatticeSide { .. } => 8,
        Scale::MapSide { .. } => 12,
    }
}

/// Every group's observations and the rewards of the first `keep` envs, after reset and after
/// each of `steps` random steps.
fn rollout(kind: EnvKind, n_envs: usize, keep: usize, seed: u64, steps: usize) -> Vec<Vec<f32>> {
    let ctx = GpuContext::shared().unwrap();
    let params = kind.entry().scale.params(n_envs, small(kind));
    let mut env = kind.build(&ctx, &params).unwrap();
    let groups = env.spec().groups.clone();
    let mut policies: Vec<RandomActions> =
        groups.iter().enumerate().map(|(g, group)| RandomActions::new(ctx.clone(), group, n_envs, seed * 31 + g as u64).unwrap()).collect();
    let first_envs = |values: Vec<f32>| -> Vec<f32> {
        let per_env = values.len() / n_envs;
        values[..keep * per_env].to_vec()
    };
    let mut out = Vec::new();
    for obs in env.reset(seed).unwrap().obs {
        out.push(first_envs(ctx.read_f32(obs).unwrap()));
    }
    for _ in 0..steps {
        let actions: Vec<_> = policies.iter_mut().map(|p| p.sample()).collect();
        let step = env.step(&actions).unwrap();
        for obs in step.obs {
            out.push(first_envs(ctx.read_f32(obs).unwrap()));
        }
        out.push(first_envs(ctx.read_f32(step.reward).unwrap()));
    }
    out
}

#[test]
fn every_registered_env_is_deterministic_and_independent_of_batch_size() {
    for &kind in EnvKind::all() {
        // 30 steps cross an automatic reset of the MPE scenarios (25-step episodes).
        let steps = 30;
        let a = rollout(kind, 4, 4, 11, steps);
        let b = rollout(kind, 4, 4, 11, steps);
        assert_eq!(a, b, "{kind}: the same seed must give bit-identical observations and rewards");
        let other = rollout(kind, 4, 4, 12, steps);
        assert_ne!(a, other, "{kind}: another seed must give another run");
        let large = rollout(kind, 64, 4, 11, steps);
        for (t, (small, large)) in a.iter().zip(&large).enumerate() {
            assert_eq!(small, large, "{kind}: record {t} of envs 0..4 differs between 4 and 64 envs");
        }
        // An odd batch: its last env sits alone in the last invocation of kernels that step envs
        // in pairs or fours (the MPE scenarios), and must step as it does inside a full one.
        let odd = rollout(kind, 5, 5, 11, steps);
        let large = rollout(kind, 64, 5, 11, steps);
        for (t, (odd, large)) in odd.iter().zip(&large).enumerate() {
            assert_eq!(odd, large, "{kind}: record {t} of envs 0..5 differs between 5 and 64 envs");
        }
    }
}

/// burn draws initial weights lazily from one process-wide generator: trainers built at once in
/// one process (this harness's threads, a league in threads) must still get the networks their
/// seeds give, not draws interleaved with each other's.
#[test]
fn networks_built_in_parallel_threads_depend_on_their_seed_alone() {
    use shoal::train::off_policy::IqlTrainer;
    use shoal::train::{Algo, TrainConfig};
    let build = |seed: u64| {
        let config = TrainConfig { seed, hidden: 64, ..common::tiny_train_config(Algo::Iql) };
        common::flat_params(IqlTrainer::new(GpuContext::shared().unwrap(), config).unwrap().q_network())
    };
    let alone = [build(1), build(2)];
    assert_ne!(alone[0], alone[1], "another seed must give another network");
    for round in 0..3 {
        let together: Vec<Vec<f32>> = std::thread::scope(|s| {
            let handles: Vec<_> = [1, 2, 1, 2, 1, 2].map(|seed| s.spawn(move || build(seed))).into_iter().collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, params) in together.iter().enumerate() {
            assert_eq!(params, &alone[t % 2], "round {round}, thread {t}: a network built beside others differs from the one its seed gives alone");
        }
    }
}
