//! A dense layer whose weight gradient is spread over the whole device: burn's `Linear`, with the
//! batch split into chunks on the way in.
//!
//! burn's `linear` op computes the weight gradient as one product `xᵀ · ∂y`: a `[d_in, rows] ·
//! [rows, d_out]` matmul whose reduction runs over every row of the minibatch (9,600 rows in the
//! default MAPPO update, 153,600 at 8,192 envs) into a 64 × 64 output. A matmul kernel tiles the
//! *output*, so that product occupies one or a few workgroups, each looping over all the rows: on
//! an H100 the backward pass was 75% of a default update and 94% at 8,192 envs (6.0 s of 6.3 s;
//! BENCHMARKS.md, "A real GPU"), most of its 132 multiprocessors idle.
//!
//! Here the rows are cut into `chunks` of 128 to 256 rows ([`stage_split`]) and the layer is a
//! batched matmul `[chunks, rows/chunks, d_in] · [1, d_in, d_out]` with the weight broadcast over
//! the chunks.
//! burn's autodiff then forms the weight gradient as `chunks` independent products
//! `[d_in, chunk] · [chunk, d_out]` (one workgroup tile each, all running at once) and sums them
//! over the broadcast dimension — split-K, from nothing but burn's own ops and gradients. The
//! forward pass and the input gradient do the same arithmetic as before; the weight and bias
//! gradients add the same terms in another order (within float rounding of `Linear`'s, tested
//! below). The chunk count depends on the row count only, so a run is as deterministic as before.
//! The split is for GPUs: on a CPU adapter (lavapipe) a layer stays burn's `Linear`, which there
//! measured 3–5% faster per update ([`spread_work`]).

use burn::nn::Linear;
use burn::tensor::Tensor;

use crate::gpu::reduce::{spread_work, stage_split};

/// How many equal chunks `rows` rows are cut into: [`stage_split`]'s groups (chunks of 128 to
/// 256 rows), or 1 (no split: exactly burn's `Linear`) for batches under 512 rows and row counts
/// with no such divisor.
pub fn chunk_count(rows: usize) -> usize {
    stage_split(rows).map_or(1, |(chunks, _)| chunks)
}

/// `x · W + b` for `x` of shape `[rows, d_in]`, as `layer.forward(x)` computes it, with the
/// weight gradient split over [`chunk_count`]`(rows)` chunks on a GPU ([`spread_work`]; on a CPU
/// adapter the split measured 3–5% slower per update). A layer whose weights take no gradient
/// (the rollout's policy) is burn's `Linear` as it is: there is no backward to spread.
pub fn dense(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    dense_with(layer, x, spread_work())
}

/// [`dense`], split or not as `split` says (tests run both on any adapter).
pub fn dense_with(layer: &Linear, x: Tensor<2>, split: bool) -> Tensor<2> {
    let [rows, d_in] = x.dims();
    let chunks = chunk_count(rows);
    let weight = layer.weight.val();
    if !split || chunks == 1 || !weight.is_require_grad() {
        return layer.forward(x);
    }
    let d_out = weight.dims()[1];
    let chunk = rows / chunks;
    let y = x.reshape([chunks, chunk, d_in]).matmul(weight.unsqueeze::<3>());
    // The bias is expanded explicitly rather than broadcast by `+`: burn reduces a broadcast's
    // gradient over all broadcast dimensions in one `sum_dims` (one invocation per column over
    // every row: ≈14 ms per layer in cubecl's profile of an H100 update at 153,600 rows), an
    // `expand` one dimension at a time (chunks, then rows within a chunk).
    let y = match &layer.bias {
        Some(bias) => y + bias.val().reshape([1, 1, d_out]).expand([chunks, chunk, d_out]),
        None => y,
    };
    y.reshape([rows, d_out])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::{GpuContext, SeededInit};
    use burn::nn::LinearConfig;
    use burn::tensor::Distribution;

    #[test]
    fn chunks_follow_the_stage_split() {
        assert_eq!(chunk_count(100), 1);
        assert_eq!(chunk_count(511), 1);
        assert_eq!(chunk_count(9_600), 40); // the default MAPPO minibatch: chunks of 240
        assert_eq!(chunk_count(153_600), 600); // 8,192 envs: chunks of 256
        assert_eq!(chunk_count(65_537), 1); // prime: not split
    }

    /// Output, input gradient and parameter gradients of the split layer against burn's `Linear`
    /// on a batch that is split (9,600 rows into 40 chunks).
    #[test]
    fn matches_burns_linear_forward_and_gradients() {
        let ctx = GpuContext::shared().unwrap();
        let device = ctx.device().clone().autodiff();
        let _generator = SeededInit::new(&device, 11);
        let layer = LinearConfig::new(19, 64).init(&device);
        let rows = 9_600;
        assert!(chunk_count(rows) > 1);
        let x = Tensor::<2>::random([rows, 19], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let probe = Tensor::<2>::random([rows, 64], Distribution::Normal(0.0, 1.0), &device);
        let read = |t: Tensor<2>| {
            let n = t.shape().num_elements();
            ctx.read_f32(t.without_autodiff().reshape([n])).unwrap()
        };
        let mut results = Vec::new();
        for split in [false, true] {
            let y = if split { dense_with(&layer, x.clone(), true) } else { layer.forward(x.clone()) };
            let grads = (y.clone() * probe.clone()).sum().backward();
            let weight = layer.weight.val();
            let bias = layer.bias.as_ref().unwrap().val();
            results.push([
                read(y),
                read(x.grad(&grads).unwrap()),
                read(weight.grad(&grads).unwrap()),
                read(bias.grad(&grads).unwrap().reshape([1, 64])),
            ]);
        }
        let names = ["output", "input gradient", "weight gradient", "bias gradient"];
        for (i, name) in names.iter().enumerate() {
            let (plain, split) = (&results[0][i], &results[1][i]);
            assert_eq!(plain.len(), split.len());
            let scale = plain.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let worst = plain.iter().zip(split).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst <= 1e-5 * scale, "{name}: worst difference {worst} at scale {scale}");
        }
        // The gradients are real: a layer that dropped them would agree with itself too.
        assert!(results[0][2].iter().any(|g| g.abs() > 1.0));
    }
}
