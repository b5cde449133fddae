//! Actors whose actions a critic can differentiate: MADDPG's and DDPG's.
//!
//! A deterministic policy gradient needs `∂Q(o, a)/∂a` to reach the actor's parameters, so the
//! action must be a differentiable function of them.
//! - **Continuous actions**: `a = low + (high − low) · sigmoid(z)` — the network's output squashed
//!   into the action box; exploration adds Gaussian noise of `action_noise · (high − low)` and
//!   clamps, during rollouts only.
//! - **Discrete actions**: the MADDPG paper's Gumbel-softmax (Jang et al. 2017; Maddison et al.
//!   2017). Adding Gumbel noise `g = −ln(−ln u)` to the logits and taking the argmax samples the
//!   categorical policy exactly (the Gumbel-max trick); the *straight-through* estimator returns
//!   that one-hot sample in the forward pass and the gradient of `softmax((logits + g)/τ)` in the
//!   backward pass: `y = onehot − stop_grad(soft) + soft`. The env receives the argmax; the
//!   replay buffer and the critics see the one-hot vector.
//!
//! Every function is a few tensor ops on the device; the noise comes from counter-keyed streams
//! (`PolicyNoise`), so runs reproduce and resume. `tests/off_policy_losses.rs` checks the
//! straight-through forward and gradient against a float64 reference.

use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Int, Tensor};

use crate::env::ActionSpace;

/// Gumbel(0, 1) samples from uniforms in `[0, 1)`: `−ln(−ln u)`, with `u` kept off 0 so the
/// result stays finite.
pub fn gumbel_noise(uniform: Tensor<2>) -> Tensor<2> {
    uniform.clamp(1e-20, 1.0 - 1e-7).log().neg().log().neg()
}

/// Standard normal samples `[rows, dim]` from `[rows, 2·dim]` uniforms (Box–Muller).
pub fn gaussian_noise(uniform: Tensor<2>) -> Tensor<2> {
    let [rows, width] = uniform.dims();
    let dim = width / 2;
    let radius = uniform.clone().slice([0..rows, 0..dim]).clamp_min(1e-20).log().mul_scalar(-2.0).sqrt();
    let angle = uniform.slice([0..rows, dim..width]).mul_scalar(std::f32::consts::TAU);
    radius * angle.cos()
}

/// One-hot rows `[rows, n]` of action indices `[rows, 1]`.
pub fn one_hot(index: Tensor<2, Int>, n: usize) -> Tensor<2> {
    let rows = index.dims()[0];
    let classes = Tensor::<1, Int>::arange(0..n as i64, &index.device()).reshape([1, n]).expand([rows, n]);
    classes.equal(index.expand([rows, n])).float()
}

/// The straight-through Gumbel-softmax sample of `logits` `[rows, n]` under Gumbel noise `gumbel`
/// at temperature `temperature`: the one-hot `argmax(logits + g)` forward, the gradient of
/// `softmax((logits + g)/τ)` backward.
pub fn gumbel_softmax_st(logits: Tensor<2>, gumbel: Tensor<2>, temperature: f32) -> Tensor<2> {
    let n = logits.dims()[1];
    let perturbed = logits + gumbel;
    let soft = softmax(perturbed.clone().div_scalar(temperature), 1);
    let hard = one_hot(perturbed.detach().argmax(1), n);
    hard - soft.clone().detach() + soft
}

/// The actor's action as the critic sees it (`[rows, width]`: one-hot or the action vector), from
/// its raw output `[rows, width]`.
/// - `noise`: `None` acts deterministically (argmax, or the squashed mean): targets and greedy
///   play. `Some(u)`: uniforms from the action's `PolicyNoise` stream — a Gumbel sample for
///   discrete actions (differentiable, straight-through), Gaussian exploration of
///   `action_noise · (high − low)` for continuous ones (added outside the gradient, as DDPG does).
pub fn actor_action(output: Tensor<2>, space: &ActionSpace, noise: Option<Tensor<2>>, action_noise: f32) -> Tensor<2> {
    match *space {
        ActionSpace::Discrete { n } => match noise {
            Some(u) => gumbel_softmax_st(output, gumbel_noise(u), 1.0),
            None => one_hot(output.argmax(1), n),
        },
        ActionSpace::Continuous { low, high, .. } => {
            let action = sigmoid(output).mul_scalar(high - low).add_scalar(low);
            match noise {
                Some(u) => {
                    let jitter = gaussian_noise(u).mul_scalar(action_noise * (high - low));
                    (action.clone() + jitter.detach()).clamp(low, high)
                }
                None => action,
            }
        }
    }
}

/// Width of an action as critics see it: `n` for one-hot discrete actions, `dim` for vectors.
pub fn critic_width(space: &ActionSpace) -> usize {
    match *space {
        ActionSpace::Discrete { n } => n,
        ActionSpace::Continuous { dim, .. } => dim,
    }
}
