//! Generalised advantage estimation on the device (`shaders/learn/gae.wgsl`).
//!
//! Inputs are `[T, B]` tensors (time, then every agent of every env flattened). `done[t] = 1`
//! means the episode ended with step t (the observation after it belongs to a new episode), so
//! nothing is bootstrapped across it. A time-limit truncation is not a terminal state: the
//! caller adds `γ·V(terminal observation)` to that step's reward before calling (see
//! [`truncation_bootstrap`]), which makes the two cases one formula here.
//!
//! The backward recursion runs inside one kernel, an invocation per stream: one launch per
//! rollout. Written as tensor ops it was 6·T launches (150 for a 25-step rollout), which on a CPU
//! adapter cost more than the arithmetic. Nothing is read back.

use burn::tensor::{DType, Tensor};

use crate::error::Result;
use crate::gpu::kernel::GRID_WGSL;
use crate::gpu::{float_buffer, float_tensor, GpuContext, WgslKernel};

const GAE_WGSL: &str = include_str!("../../../shaders/learn/gae.wgsl");

/// Advantages and value targets (`advantages + values`), both `[T, B]`.
pub fn gae(
    ctx: &GpuContext,
    rewards: Tensor<2>,
    values: Tensor<2>,
    dones: Tensor<2>,
    last_value: Tensor<1>,
    gamma: f32,
    lambda: f32,
) -> Result<(Tensor<2>, Tensor<2>)> {
    let [steps, streams] = rewards.dims();
    let kernel = WgslKernel::new(
        "gae",
        &[GRID_WGSL, GAE_WGSL],
        &[
            ("steps", steps.to_string()),
            ("streams", streams.to_string()),
            ("gamma", format!("{gamma:?}f")),
            // The same f32 product the tensor form used.
            ("gamma_lambda", format!("{:?}f", gamma * lambda)),
        ],
    );
    let (rewards, values, dones, last_value) =
        (float_buffer(rewards)?, float_buffer(values)?, float_buffer(dones)?, float_buffer(last_value)?);
    let advantages = ctx.empty(&[steps, streams], DType::F32);
    let returns = ctx.empty(&[steps, streams], DType::F32);
    kernel.launch(ctx, streams, &[&rewards, &values, &dones, &last_value, &advantages, &returns]);
    Ok((float_tensor(advantages), float_tensor(returns)))
}

/// The reward correction for time-limit truncation: `γ·V(s_terminal)` where `truncated = 1`.
pub fn truncation_bootstrap(terminal_value: Tensor<1>, truncated: Tensor<1>, gamma: f32) -> Tensor<1> {
    terminal_value * truncated * gamma
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::GpuContext;

    #[test]
    fn matches_a_hand_computed_recursion_with_resets() {
        let ctx = GpuContext::shared().unwrap();
        // Two streams over 3 steps; stream 0 ends an episode at t=1.
        let rewards = [1.0, 0.5, 2.0, -1.0, 0.0, 1.0];
        let values = [0.2, 0.1, 0.4, 0.3, 0.6, 0.5];
        let dones = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        let last = [0.7, 0.9];
        let (g, l) = (0.9f64, 0.8f64);
        // Hand recursion, float64.
        let mut expected = [0.0f64; 6];
        for b in 0..2 {
            let mut next_v = last[b];
            let mut next_a = 0.0;
            for t in (0..3).rev() {
                let i = t * 2 + b;
                let alive = 1.0 - dones[i];
                let delta = rewards[i] + g * next_v * alive - values[i];
                next_a = delta + g * l * alive * next_a;
                expected[i] = next_a;
                next_v = values[i];
            }
        }
        let up = |v: &[f64], shape: [usize; 2]| {
            ctx.upload_f32(&v.iter().map(|&x| x as f32).collect::<Vec<_>>(), shape).unwrap()
        };
        let (adv, ret) = gae(
            &ctx,
            up(&rewards, [3, 2]),
            up(&values, [3, 2]),
            up(&dones, [3, 2]),
            ctx.upload_f32(&[0.7, 0.9], [2]).unwrap(),
            0.9,
            0.8,
        )
        .unwrap();
        let adv = ctx.read_f32(adv).unwrap();
        let ret = ctx.read_f32(ret).unwrap();
        for i in 0..6 {
            assert!((adv[i] as f64 - expected[i]).abs() < 1e-6, "adv[{i}] {} vs {}", adv[i], expected[i]);
            assert!((ret[i] as f64 - expected[i] - values[i]).abs() < 1e-6);
        }
        // Stream 0's episode ends at t=1: no bootstrap and no later advantage flows into it.
        assert!((expected[2] - (2.0 - 0.4)).abs() < 1e-12);
    }
}
