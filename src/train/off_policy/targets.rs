//! The pieces of a value learner's update that do not depend on the network: the double-Q TD
//! target, the Huber loss and the Polyak (soft) update of a target network — as DQN (Mnih et al.
//! 2015), double DQN (van Hasselt et al. 2016) and DDPG/MADDPG (Lillicrap et al. 2016, Lowe et al.
//! 2017) define them, and as JaxMARL's IQL/VDN baselines use them.
//!
//! Every function is a few tensor ops on the device; `tests/off_policy_losses.rs` checks each
//! against a float64 reference computed by hand.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Double-Q TD targets `y = r + γ (1 − terminal) Q_target(s', argmax_a Q_online(s', a))`, `[batch]`.
///
/// The online network picks the next action, the target network values it (double DQN: the
/// max of one network's noisy estimates is biased upwards; decoupling choice and value removes
/// most of that). `terminal` is 1 where the episode *terminated* at this transition: an episode
/// cut by the time limit (truncated) still bootstraps, because the state after it has a value.
/// The result carries no gradient.
pub fn double_q_targets(q_next_online: Tensor<2>, q_next_target: Tensor<2>, reward: Tensor<1>, terminal: Tensor<1>, gamma: f32) -> Tensor<1> {
    let batch = reward.dims()[0];
    let choice = q_next_online.detach().argmax(1);
    let value = q_next_target.detach().gather(1, choice).reshape([batch]);
    let continues = terminal.neg().add_scalar(1.0);
    (reward + value * continues * gamma).detach()
}

/// Mean Huber loss of `prediction` against `target` with threshold `delta` (DQN's 1.0):
/// `½d²` for `|d| ≤ δ`, `δ(|d| − ½δ)` beyond — squared error near the target, absolute error
/// for outliers, so one bad TD target cannot blow up a step. Returns `[1]`.
pub fn huber_loss(prediction: Tensor<1>, target: Tensor<1>, delta: f32) -> Tensor<1> {
    let error = (prediction - target).abs();
    let quadratic = error.clone().clamp_max(delta);
    let linear = error - quadratic.clone();
    (quadratic.powi_scalar(2) * 0.5 + linear * delta).mean()
}

/// Polyak averaging `θ_target ← τ θ_online + (1 − τ) θ_target`, parameter by parameter
/// (`τ = 1` is the hard copy of DQN's periodic target update; MADDPG uses τ = 0.01). The two
/// modules must have the same structure (the target is made as a copy of the online network);
/// the target stays free of autodiff whatever the online network's device.
pub fn polyak_update<M: Module>(target: M, online: &M, tau: f32) -> M {
    let mut collect = CollectFloats(Vec::new());
    online.visit(&mut collect);
    let mut mix = MixFloats { online: collect.0.into_iter(), tau };
    target.map(&mut mix)
}

/// The online network's float parameters, flattened, in visiting order.
struct CollectFloats(Vec<Tensor<1>>);

impl ModuleVisitor for CollectFloats {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val().inner();
        let n: usize = value.dims().iter().product();
        self.0.push(value.reshape([n]));
    }
}

/// Mixes each target parameter with the online one visited at the same place.
struct MixFloats<I: Iterator<Item = Tensor<1>>> {
    online: I,
    tau: f32,
}

impl<I: Iterator<Item = Tensor<1>>> ModuleMapper for MixFloats<I> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let online = self.online.next().expect("polyak_update: the online network has fewer parameters than the target");
        let tau = self.tau;
        param.map(|target| {
            let target = target.inner();
            let dims = target.dims();
            online.reshape(dims) * tau + target * (1.0 - tau)
        })
    }
}
