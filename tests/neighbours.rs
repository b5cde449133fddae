//! The grid-binned neighbourhood mean field against a brute-force O(N²) reference: exact counts,
//! means to 1e-5, including agents on cell borders, on the world's edges and outside it.

mod common;

use common::SplitMix;
use shoal::env::NeighbourField;
use shoal::GpuContext;

/// Brute force in f64: [count, mean vx, mean vy, mean one-hot action…] per agent.
fn brute_force(state: &[f32], actions: &[i32], envs: usize, k: usize, radius: f32, n_actions: usize) -> Vec<f64> {
    let width = 3 + n_actions;
    let mut out = vec![0.0; envs * k * width];
    for e in 0..envs {
        for i in 0..k {
            let p = &state[(e * k + i) * 4..(e * k + i) * 4 + 4];
            let row = &mut out[(e * k + i) * width..(e * k + i + 1) * width];
            for j in (0..k).filter(|&j| j != i) {
                let q = &state[(e * k + j) * 4..(e * k + j) * 4 + 4];
                // The kernel's test, in f32: squared distance against squared radius.
                let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
                if dx * dx + dy * dy < radius * radius {
                    row[0] += 1.0;
                    row[1] += q[2] as f64;
                    row[2] += q[3] as f64;
                    row[3 + actions[e * k + j] as usize] += 1.0;
                }
            }
            if row[0] > 0.0 {
                let n = row[0];
                row[1..].iter_mut().for_each(|v| *v /= n);
            }
        }
    }
    out
}

fn check(envs: usize, k: usize, half_extent: f32, radius: f32, n_actions: usize, seed: u64, on_grid: bool) {
    let ctx = GpuContext::shared().unwrap();
    let field = NeighbourField::new(ctx.clone(), envs, k, half_extent, radius, n_actions).unwrap();
    let cell = 2.0 * half_extent / field.side() as f32;
    let mut rng = SplitMix(seed);
    let mut state = Vec::with_capacity(envs * k * 4);
    for i in 0..envs * k {
        let (x, y) = if on_grid {
            // Exactly on cell borders and world edges, some just outside the world.
            let pick = |r: &mut SplitMix| -half_extent + cell * (r.next_u64() % (field.side() as u64 + 1)) as f32 + if i % 7 == 0 { 0.3 * cell } else { 0.0 };
            (pick(&mut rng), pick(&mut rng))
        } else {
            (rng.uniform(-1.1 * half_extent as f64, 1.1 * half_extent as f64) as f32, rng.uniform(-1.1 * half_extent as f64, 1.1 * half_extent as f64) as f32)
        };
        state.extend([x, y, rng.uniform(-1.0, 1.0) as f32, rng.uniform(-1.0, 1.0) as f32]);
    }
    let actions: Vec<i32> = (0..envs * k).map(|_| (rng.next_u64() % n_actions as u64) as i32).collect();
    let got = ctx
        .read_f32(field.compute(ctx.upload_f32(&state, [envs, k, 4]).unwrap(), ctx.upload_i32(&actions, [envs, k]).unwrap()).unwrap())
        .unwrap();
    let expected = brute_force(&state, &actions, envs, k, radius, n_actions);
    let width = 3 + n_actions;
    let mut neighbours = 0.0;
    for (i, (g, e)) in got.chunks(width).zip(expected.chunks(width)).enumerate() {
        assert_eq!(g[0] as f64, e[0], "agent {i}: count");
        neighbours += e[0];
        for c in 1..width {
            assert!((g[c] as f64 - e[c]).abs() < 1e-5, "agent {i} column {c}: {} vs {}", g[c], e[c]);
        }
    }
    assert!(neighbours > (envs * k) as f64, "too sparse to test anything: {neighbours} neighbour pairs");
}

#[test]
fn grid_field_matches_brute_force_on_random_states() {
    check(3, 500, 5.0, 1.0, 5, 1, false);
    check(1, 2000, 8.0, 0.7, 3, 2, false);
}

#[test]
fn grid_field_matches_brute_force_on_cell_borders_and_world_edges() {
    check(2, 400, 4.0, 1.0, 5, 3, true);
    // A radius that does not divide the world: cells are larger than the radius.
    check(2, 400, 4.0, 0.9, 21, 4, true);
}

#[test]
fn grid_field_is_bit_reproducible() {
    let ctx = GpuContext::shared().unwrap();
    let (envs, k) = (2, 3000);
    let field = NeighbourField::new(ctx.clone(), envs, k, 6.0, 1.0, 5).unwrap();
    let mut rng = SplitMix(9);
    let state: Vec<f32> = (0..envs * k * 4).map(|_| rng.uniform(-6.0, 6.0) as f32).collect();
    let actions: Vec<i32> = (0..envs * k).map(|i| (i % 5) as i32).collect();
    let run = || {
        ctx.read_f32(field.compute(ctx.upload_f32(&state, [envs, k, 4]).unwrap(), ctx.upload_i32(&actions, [envs, k]).unwrap()).unwrap()).unwrap()
    };
    let first = run();
    for _ in 0..3 {
        assert!(first.iter().zip(run()).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
