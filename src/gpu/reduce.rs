//! Sums and means of long vectors that use the whole device and give the same bits every run.
//!
//! Without burn's `autotune` feature (off: it tuned for 4.5 minutes on lavapipe, BENCHMARKS.md),
//! cubecl reduces a dimension with one invocation per *output* element looping over the reduced
//! axis. A full `mean()` of a 153,600-element vector is then one invocation reading 153,600
//! values in a row: ≈14 ms on an H100, where the whole minibatch's forward pass takes 17 ms.
//! `sum()` takes another path (one pass of atomic adds), fast but in an order that changes from
//! run to run, so a seed would no longer fix a run.
//!
//! Here a vector is reduced in stages: viewed as rows of `STAGE / 2 ..= STAGE` values (padded
//! with zeros to rows of [`STAGE`] when no such row length divides it) and summed along rows (one
//! invocation per row), until at most `2 · STAGE` partial sums are left for a last `sum_dim`. Every stage is a plain reduction in a
//! fixed order, so the result is deterministic; each invocation reads at most `STAGE` values; and
//! burn's autodiff differentiates it like any sum.
//!
//! Only on a GPU ([`spread_work`]). A CPU adapter (lavapipe) runs a workgroup's invocations as
//! the SIMD lanes of a couple of cores, where one invocation's long loop is cheap and the extra
//! launches and partial sums are not: with the stages (and `dense.rs`'s split) a default MAPPO
//! update there measured 3–5% slower, so it keeps burn's one-pass reductions.

use std::sync::OnceLock;

use burn::tensor::Tensor;

use super::GpuContext;

/// Whether to spread long reductions and weight gradients over many invocations: true on a
/// hardware GPU, false on a CPU adapter (and when no adapter is found: nothing runs then anyway).
pub fn spread_work() -> bool {
    static SPREAD: OnceLock<bool> = OnceLock::new();
    *SPREAD.get_or_init(|| GpuContext::shared().map(|ctx| !ctx.is_software()).unwrap_or(false))
}

/// Values one invocation adds up in a stage.
pub const STAGE: usize = 256;

/// How `len` values split into `groups × width` with `width` in `STAGE / 2 ..= STAGE` (the fewest
/// groups that divide `len` exactly): `None` when `len < 2 · STAGE` or no such width divides it
/// (a prime, say).
pub fn stage_split(len: usize) -> Option<(usize, usize)> {
    if len < 2 * STAGE {
        return None;
    }
    let fewest = len.div_ceil(STAGE);
    (fewest..=2 * fewest).find(|groups| len % groups == 0).map(|groups| (groups, len / groups))
}

/// `row` (`[d]`) repeated as `[rows, d]`: what `expand` does, with a gradient that is summed over
/// the rows in two stages. burn differentiates `expand` with one `sum_dim` per expanded
/// dimension, so the row is expanded to `[groups, width, d]` ([`stage_split`]) and the backward
/// adds `groups` values per invocation, then `width`, instead of all `rows` in one invocation per
/// column (the gradient of a Gaussian policy's `log_std`, of a bias broadcast over a batch).
pub fn expand_rows(row: Tensor<1>, rows: usize) -> Tensor<2> {
    expand_rows_with(row, rows, spread_work())
}

/// [`expand_rows`], staged or not as `staged` says (tests run both on any adapter).
pub fn expand_rows_with(row: Tensor<1>, rows: usize, staged: bool) -> Tensor<2> {
    let [d] = row.dims();
    match stage_split(rows).filter(|_| staged) {
        Some((groups, width)) => row.reshape([1, 1, d]).expand([groups, width, d]).reshape([rows, d]),
        None => row.reshape([1, d]).expand([rows, d]),
    }
}

/// `Σ x` as a `[1]` tensor, deterministic and differentiable: staged on a GPU ([`spread_work`]),
/// one `sum_dim` on a CPU adapter.
pub fn sum_all(x: Tensor<1>) -> Tensor<1> {
    if spread_work() { staged_sum(x) } else { x.sum_dim(0) }
}

/// `Σ x` reduced in stages of at most [`STAGE`] values per invocation.
pub fn staged_sum(x: Tensor<1>) -> Tensor<1> {
    let mut x = x;
    loop {
        let len = x.dims()[0];
        if len <= 2 * STAGE {
            return x.sum_dim(0);
        }
        // Whole rows when a row length divides `len` (a minibatch's 9,600 is 40 × 240): no
        // copy. Else pad with zeros to whole rows of STAGE.
        let (rows, width) = stage_split(len).unwrap_or_else(|| {
            let rows = len.div_ceil(STAGE);
            let zeros = Tensor::<1>::zeros([rows * STAGE - len], &x.device());
            x = Tensor::cat(vec![x.clone(), zeros], 0);
            (rows, STAGE)
        });
        x = x.reshape([rows, width]).sum_dim(1).reshape([rows]);
    }
}

/// The mean of `x` as a `[1]` tensor, through [`sum_all`] (staged on a GPU).
pub fn mean_all(x: Tensor<1>) -> Tensor<1> {
    let len = x.dims()[0];
    sum_all(x) / len.max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::GpuContext;

    /// Against f64 sums on the host, at lengths below, at and across stage boundaries.
    #[test]
    fn sums_and_means_match_the_host() {
        let ctx = GpuContext::shared().unwrap();
        for len in [1usize, 7, 512, 513, 9_600, 65_537, 153_600, 1_000_003] {
            let values: Vec<f32> = (0..len).map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0).collect();
            let exact: f64 = values.iter().map(|&v| v as f64).sum();
            let x = ctx.upload_f32(&values, [len]).unwrap();
            let staged = ctx.read_f32(staged_sum(x.clone())).unwrap();
            let sum = ctx.read_f32(sum_all(x.clone())).unwrap();
            let mean = ctx.read_f32(mean_all(x)).unwrap();
            assert_eq!((staged.len(), sum.len()), (1, 1));
            let tolerance = 1e-6 * values.iter().map(|v| v.abs() as f64).sum::<f64>().max(1.0);
            assert!((staged[0] as f64 - exact).abs() <= tolerance, "len {len}: {} vs {exact}", staged[0]);
            assert!((sum[0] as f64 - exact).abs() <= tolerance, "len {len}: {} vs {exact}", sum[0]);
            assert!((mean[0] as f64 - exact / len as f64).abs() <= tolerance / len as f64 + 1e-7, "len {len}");
        }
    }

    #[test]
    fn splits_divide_near_the_stage() {
        assert_eq!(stage_split(511), None);
        assert_eq!(stage_split(9_600), Some((40, 240))); // the default MAPPO minibatch
        assert_eq!(stage_split(153_600), Some((600, 256))); // 8,192 envs
        assert_eq!(stage_split(65_537), None); // prime
        assert_eq!(stage_split(12_345), None); // 3 · 5 · 823: no divisor in 49..=98
        for len in [512, 1_000, 4_096, 38_400] {
            let (groups, width) = stage_split(len).unwrap();
            assert_eq!(groups * width, len);
            assert!((STAGE / 2..=STAGE).contains(&width), "{len}: {groups} × {width}");
        }
    }

    /// `expand_rows` repeats the row, and its gradient is the column sums of the upstream one.
    #[test]
    fn expanded_rows_and_their_gradient() {
        let ctx = GpuContext::shared().unwrap();
        for (rows, staged) in [(7usize, true), (9_600, true), (9_600, false)] {
            let row = ctx.upload_f32(&[1.0, -2.0, 0.5], [3]).unwrap().autodiff().require_grad();
            let weights: Vec<f32> = (0..rows * 3).map(|i| (i % 11) as f32 - 5.0).collect();
            let upstream = ctx.upload_f32(&weights, [rows, 3]).unwrap().autodiff();
            let expanded = expand_rows_with(row.clone(), rows, staged);
            let values = ctx.read_f32(expanded.clone().without_autodiff().reshape([rows * 3])).unwrap();
            assert!(values.chunks(3).all(|r| r == [1.0, -2.0, 0.5]), "rows {rows}");
            let grads = (expanded * upstream).sum().backward();
            let grad = ctx.read_f32(row.grad(&grads).unwrap()).unwrap();
            for (c, g) in grad.iter().enumerate() {
                let exact: f32 = weights.iter().skip(c).step_by(3).sum();
                assert!((g - exact).abs() <= 1e-3, "rows {rows}, column {c}: {g} vs {exact}");
            }
        }
    }

    /// The gradient of a staged sum is 1 everywhere, padding or not (1,000 pads to 4 × 256).
    #[test]
    fn gradient_of_the_staged_sum_is_uniform() {
        let ctx = GpuContext::shared().unwrap();
        let device = ctx.device().clone().autodiff();
        let len = 1_003;
        let x = Tensor::<1>::ones([len], &device).require_grad();
        let grads = (staged_sum(x.clone() * 3.0) / len as f32).backward();
        let g = ctx.read_f32(x.grad(&grads).unwrap()).unwrap();
        assert_eq!(g.len(), len);
        assert!(g.iter().all(|&v| (v - 3.0 / len as f32).abs() < 1e-9), "{:?}", &g[..4]);
    }
}
