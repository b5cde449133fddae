//! The PPO objective (Schulman et al. 2017) as JaxMARL's IPPO/MAPPO compute it: clipped
//! surrogate, value loss clipped around the rollout's values, entropy bonus.

use burn::tensor::Tensor;

use crate::gpu::reduce::{mean_all, sum_all};

/// Coefficients of the PPO objective.
#[derive(Debug, Clone, Copy)]
pub struct PpoCoefficients {
    /// Surrogate (and value) clip range ε.
    pub clip_eps: f32,
    /// Weight of the value loss.
    pub vf_coef: f32,
    /// Weight of the entropy bonus.
    pub ent_coef: f32,
    /// Clip the value update around the rollout's values (as JaxMARL does).
    pub clip_value: bool,
}

/// The terms of the objective, each a scalar tensor (`[1]`), still on the device.
#[derive(Debug, Clone)]
pub struct PpoLoss {
    /// `policy + vf_coef·value − ent_coef·entropy`: what is minimised.
    pub total: Tensor<1>,
    /// Clipped surrogate, negated.
    pub policy: Tensor<1>,
    /// `½·mean(max(unclipped², clipped²))`.
    pub value: Tensor<1>,
    /// Mean entropy of the current policy.
    pub entropy: Tensor<1>,
    /// Mean `(ratio − 1) − log ratio`, an estimate of KL(old‖new).
    pub approx_kl: Tensor<1>,
}

/// Normalises advantages to zero mean and unit variance (over the minibatch).
pub fn normalize(advantages: Tensor<1>) -> Tensor<1> {
    let mean = mean_all(advantages.clone());
    let centered = advantages - mean;
    let std = mean_all(centered.clone().powf_scalar(2.0)).sqrt();
    centered / (std + 1e-8)
}

/// The PPO loss over a minibatch of `[N]` tensors.
#[allow(clippy::too_many_arguments)]
pub fn ppo_loss(
    log_prob: Tensor<1>,
    old_log_prob: Tensor<1>,
    advantages: Tensor<1>,
    value: Tensor<1>,
    old_value: Tensor<1>,
    returns: Tensor<1>,
    entropy: Tensor<1>,
    c: PpoCoefficients,
) -> PpoLoss {
    let log_ratio = log_prob - old_log_prob;
    let ratio = log_ratio.clone().exp();
    let unclipped = ratio.clone() * advantages.clone();
    let clipped = ratio.clone().clamp(1.0 - c.clip_eps, 1.0 + c.clip_eps) * advantages;
    let policy = mean_all(unclipped.min_pair(clipped)).neg();

    let value_error = (value.clone() - returns.clone()).powf_scalar(2.0);
    let value_loss = if c.clip_value {
        let clipped_value = old_value.clone() + (value - old_value).clamp(-c.clip_eps, c.clip_eps);
        let clipped_error = (clipped_value - returns).powf_scalar(2.0);
        mean_all(value_error.max_pair(clipped_error)) * 0.5
    } else {
        mean_all(value_error) * 0.5
    };
    let entropy = mean_all(entropy);
    let approx_kl = mean_all((ratio - 1.0) - log_ratio);
    let total = policy.clone() + value_loss.clone() * c.vf_coef - entropy.clone() * c.ent_coef;
    PpoLoss {
        total,
        policy,
        value: value_loss,
        entropy,
        approx_kl,
    }
}

/// The PPO loss with a weight per sample: means become `Σ w·x / Σ w`. Turn-based games use
/// 0/1 weights to leave out the steps where the learner had no decision to make (one legal
/// action), which a masked policy cannot change anyway.
#[allow(clippy::too_many_arguments)]
pub fn weighted_ppo_loss(
    log_prob: Tensor<1>,
    old_log_prob: Tensor<1>,
    advantages: Tensor<1>,
    value: Tensor<1>,
    returns: Tensor<1>,
    entropy: Tensor<1>,
    weight: Tensor<1>,
    c: PpoCoefficients,
) -> PpoLoss {
    let total_weight = sum_all(weight.clone()).clamp_min(1e-8);
    let mean = |x: Tensor<1>| sum_all(x * weight.clone()) / total_weight.clone();
    let centered = advantages.clone() - mean(advantages);
    let advantages = centered.clone() / (mean(centered.powf_scalar(2.0)).sqrt() + 1e-8);
    let log_ratio = log_prob - old_log_prob;
    let ratio = log_ratio.clone().exp();
    let unclipped = ratio.clone() * advantages.clone();
    let clipped = ratio.clone().clamp(1.0 - c.clip_eps, 1.0 + c.clip_eps) * advantages;
    let policy = mean(unclipped.min_pair(clipped)).neg();
    let value_loss = mean((value - returns).powf_scalar(2.0)) * 0.5;
    let entropy = mean(entropy);
    let approx_kl = mean((ratio - 1.0) - log_ratio);
    let total = policy.clone() + value_loss.clone() * c.vf_coef - entropy.clone() * c.ent_coef;
    PpoLoss { total, policy, value: value_loss, entropy, approx_kl }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::GpuContext;

    #[test]
    fn matches_a_hand_computed_loss() {
        let ctx = GpuContext::shared().unwrap();
        let logp = [-1.0f64, -0.5, -2.0, -0.2];
        let old_logp = [-1.2f64, -0.5, -1.0, -0.1];
        let adv = [1.0f64, -0.5, 2.0, -1.5];
        let v = [0.5f64, 0.0, 1.0, -0.3];
        let old_v = [0.3f64, 0.1, 1.5, -0.3];
        let ret = [1.0f64, -0.2, 0.8, 0.4];
        let ent = [1.5f64, 1.4, 1.2, 1.6];
        let (eps, vf, ent_c) = (0.2f64, 0.5f64, 0.01f64);

        let mut policy = 0.0;
        let mut value = 0.0;
        let mut kl = 0.0;
        for i in 0..4 {
            let ratio = (logp[i] - old_logp[i]).exp();
            policy += -(ratio * adv[i]).min(ratio.clamp(1.0 - eps, 1.0 + eps) * adv[i]);
            let clipped_v = old_v[i] + (v[i] - old_v[i]).clamp(-eps, eps);
            value += ((v[i] - ret[i]).powi(2)).max((clipped_v - ret[i]).powi(2));
            kl += (ratio - 1.0) - (logp[i] - old_logp[i]);
        }
        let (policy, value, kl) = (policy / 4.0, 0.5 * value / 4.0, kl / 4.0);
        let entropy = ent.iter().sum::<f64>() / 4.0;
        let total = policy + vf * value - ent_c * entropy;

        let up = |x: &[f64]| ctx.upload_f32(&x.iter().map(|&v| v as f32).collect::<Vec<_>>(), [4]).unwrap();
        let loss = ppo_loss(
            up(&logp),
            up(&old_logp),
            up(&adv),
            up(&v),
            up(&old_v),
            up(&ret),
            up(&ent),
            PpoCoefficients { clip_eps: 0.2, vf_coef: 0.5, ent_coef: 0.01, clip_value: true },
        );
        let read = |t: Tensor<1>| ctx.read_f32(t).unwrap()[0] as f64;
        assert!((read(loss.policy) - policy).abs() < 1e-6);
        assert!((read(loss.value) - value).abs() < 1e-6);
        assert!((read(loss.approx_kl) - kl).abs() < 1e-6);
        assert!((read(loss.total) - total).abs() < 1e-6);
        // The clip is active in this batch (ratio e^-1 < 0.8 with a positive advantage).
        assert!(((-2.0f64) - (-1.0)).exp() < 1.0 - eps);
    }

    #[test]
    fn normalized_advantages_have_zero_mean_unit_std() {
        let ctx = GpuContext::shared().unwrap();
        let a = normalize(ctx.upload_f32(&[1.0, 2.0, 3.0, 10.0], [4]).unwrap());
        let v = ctx.read_f32(a).unwrap();
        let mean: f32 = v.iter().sum::<f32>() / 4.0;
        let var: f32 = v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{v:?}");
    }
}
