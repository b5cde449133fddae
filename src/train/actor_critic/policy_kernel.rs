//! The rollout's policy step as one kernel (`shaders/learn/policy.wgsl`): actor forward, action
//! sampling, log-probability and critic value for every agent of every env in one launch.
//!
//! The rollout needs no gradients, so it does not need burn's autodiff graph either: it needs the
//! current parameters. [`RolloutPolicy::load`] packs the model's parameter tensors into one device
//! buffer (one `cat`, once per update; no host copy) and [`RolloutPolicy::act`] evaluates both
//! networks from it. The noise and the formulas are those of [`ActorCritic::act`] and
//! [`ActorCritic::value`], which stay the reference: the test below checks the two paths agree.
//! Shared parameters with at least one hidden layer are covered; per-agent networks keep the
//! tensor-op path.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Int, Tensor};

use super::model::{Action, ActorCritic, ActorCriticConfig};
use crate::error::{Result, ShoalError};
use crate::gpu::{float_buffer, float_tensor, GpuContext, WgslKernel};

const POLICY_WGSL: &str = include_str!("../../../shaders/learn/policy.wgsl");

/// The fused rollout policy of one model shape and batch size.
pub struct RolloutPolicy {
    ctx: Arc<GpuContext>,
    kernel: WgslKernel,
    rows: usize,
    rows_per_group: usize,
    hidden: usize,
    action_dim: usize,
    continuous: bool,
    params: Option<CubeTensor>,
}

/// What one policy step produced, `[rows]` each (continuous actions `[rows, dim]`).
pub struct RolloutStep {
    /// Sampled actions.
    pub action: Action,
    /// Their log-probabilities.
    pub log_prob: Tensor<1>,
    /// The critic's values.
    pub value: Tensor<1>,
}

impl RolloutPolicy {
    /// The kernel for `model` over `rows` agent rows, or `None` where it does not apply
    /// (per-agent networks, a shared trunk, no hidden layer, a hidden width or input rows that do not fit the
    /// device's workgroup limits).
    pub fn new(ctx: Arc<GpuContext>, model: &ActorCriticConfig, rows: usize) -> Option<RolloutPolicy> {
        let limits = ctx.limits();
        let (h, layers) = (model.hidden, model.layers);
        let fits_workgroup = h <= limits.max_compute_invocations_per_workgroup as usize && h <= limits.max_compute_workgroup_size_x as usize;
        if !model.shared_params || model.shared_trunk || layers == 0 || !fits_workgroup {
            return None;
        }
        let (actor_in, critic_in) = (model.actor_input(), model.critic_input());
        let max_in = actor_in.max(critic_in);
        // Rows per workgroup: up to 8, as many as workgroup memory holds (each row keeps its
        // input, hidden activations and outputs there), and no more than there are threads.
        let bytes_per_row = 4 * (max_in + h + model.action_dim);
        let rows_per_group = (limits.max_compute_workgroup_storage_size as usize / bytes_per_row).min(8).min(h);
        if rows_per_group == 0 {
            return None;
        }
        let network = |d_in: usize, d_out: usize| d_in * h + h + (layers - 1) * (h * h + h) + h * d_out + d_out;
        let critic_at = network(actor_in, model.action_dim);
        let log_std_at = critic_at + network(critic_in, 1);
        let write_action = if model.continuous {
            "fn write_discrete(i: u32, a: u32) {}\nfn write_continuous(i: u32, x: f32) { action[i] = x; }"
        } else {
            "fn write_discrete(i: u32, a: u32) { action[i] = i32(a); }\nfn write_continuous(i: u32, x: f32) {}"
        };
        let kernel = WgslKernel::new(
            "rollout_policy",
            &[POLICY_WGSL],
            &[
                ("rows", rows.to_string()),
                ("rows_per_group", rows_per_group.to_string()),
                ("actor_in", actor_in.to_string()),
                ("critic_in", critic_in.to_string()),
                ("max_in", max_in.to_string()),
                ("hidden", h.to_string()),
                ("layers", layers.to_string()),
                ("action_dim", model.action_dim.to_string()),
                ("continuous", model.continuous.to_string()),
                ("critic_at", critic_at.to_string()),
                ("log_std_at", log_std_at.to_string()),
                ("inputs_len", (rows_per_group * max_in).to_string()),
                ("hidden_len", (rows_per_group * h).to_string()),
                ("outputs_len", (rows_per_group * model.action_dim).to_string()),
                ("action_type", if model.continuous { "f32" } else { "i32" }.to_string()),
                ("write_action", write_action.to_string()),
            ],
        )
        .with_workgroup_size(h as u32);
        Some(RolloutPolicy {
            ctx,
            kernel,
            rows,
            rows_per_group,
            hidden: h,
            action_dim: model.action_dim,
            continuous: model.continuous,
            params: None,
        })
    }

    /// Takes the model's current parameters (once per update, before the rollout).
    pub fn load(&mut self, model: &ActorCritic) -> Result<()> {
        let packed = model
            .packed_parameters()
            .ok_or_else(|| ShoalError::Internal("the fused rollout policy needs shared parameters".into()))?;
        self.params = Some(float_buffer(packed)?);
        Ok(())
    }

    /// Samples actions for `actor_x` `[rows, actor_in]` with `noise` (uniforms, as
    /// [`ActorCritic::act`] takes them) and evaluates the critic on `critic_x`.
    pub fn act(&self, actor_x: Tensor<2>, critic_x: Tensor<2>, noise: Tensor<2>) -> Result<RolloutStep> {
        let params = self.params.as_ref().ok_or_else(|| ShoalError::Internal("RolloutPolicy::act before load".into()))?;
        let (actor_x, critic_x, noise) = (float_buffer(actor_x)?, float_buffer(critic_x)?, float_buffer(noise)?);
        let action = if self.continuous {
            self.ctx.empty(&[self.rows, self.action_dim], DType::F32)
        } else {
            self.ctx.empty(&[self.rows], DType::I32)
        };
        let log_prob = self.ctx.empty(&[self.rows], DType::F32);
        let value = self.ctx.empty(&[self.rows], DType::F32);
        // One workgroup of `hidden` threads per `rows_per_group` rows.
        let invocations = self.rows.div_ceil(self.rows_per_group) * self.hidden;
        self.kernel.launch(&self.ctx, invocations, &[params, &actor_x, &critic_x, &noise, &action, &log_prob, &value]);
        let action = if self.continuous {
            Action::Continuous(float_tensor(action))
        } else {
            Action::Discrete(Tensor::<1, Int>::from_primitive::<burn::backend::Wgpu>(action))
        };
        Ok(RolloutStep { action, log_prob: float_tensor(log_prob), value: float_tensor(value) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::actor_critic::model::Critic;
    use crate::gpu::SeededInit;
    use burn::tensor::Distribution;

    /// The fused kernel and the tensor-op policy agree on actions, log-probabilities and values,
    /// for categorical and Gaussian heads and for one to three hidden layers.
    #[test]
    fn matches_the_tensor_op_policy() {
        let ctx = GpuContext::shared().unwrap();
        let device = ctx.device().clone();
        // 301 rows: the last workgroup is only partly filled.
        let rows = 301;
        for (continuous, layers, hidden) in [(false, 2, 64), (true, 2, 64), (false, 1, 16), (true, 3, 8), (false, 2, 4)] {
            let _generator = SeededInit::new(&device, 11 + layers as u64);
            let config = ActorCriticConfig::new(3, 10, if continuous { 2 } else { 5 }, continuous, Critic::Mappo)
                .with_hidden(hidden)
                .with_layers(layers);
            let mut model = config.init(&device);
            if continuous {
                // A non-zero log std exercises the Gaussian head's scale.
                model = model.with_log_std(ctx.upload_f32(&[0.3, -0.4], [2]).unwrap());
            }
            let actor_x = Tensor::<2>::random([rows, config.actor_input()], Distribution::Normal(0.0, 2.0), &device);
            let critic_x = Tensor::<2>::random([rows, config.critic_input()], Distribution::Normal(0.0, 2.0), &device);
            let width = if continuous { 2 * config.action_dim } else { config.action_dim };
            let noise = Tensor::<2>::random([rows, width], Distribution::Uniform(0.0, 1.0), &device);

            let reference = model.act(actor_x.clone(), Some(noise.clone()));
            let reference_value = model.value(critic_x.clone());
            let mut fused = RolloutPolicy::new(ctx.clone(), &config, rows).unwrap();
            fused.load(&model).unwrap();
            let step = fused.act(actor_x, critic_x, noise).unwrap();

            let close = |a: Vec<f32>, b: Vec<f32>, what: &str| {
                let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0f32, f32::max);
                assert!(worst <= 1e-5, "{what} (continuous {continuous}, layers {layers}): worst {worst}");
            };
            close(ctx.read_f32(step.log_prob).unwrap(), ctx.read_f32(reference.log_prob).unwrap(), "log_prob");
            close(ctx.read_f32(step.value).unwrap(), ctx.read_f32(reference_value).unwrap(), "value");
            match (step.action, reference.action) {
                (Action::Discrete(a), Action::Discrete(b)) => {
                    let (a, b) = (ctx.read_i32(a).unwrap(), ctx.read_i32(b).unwrap());
                    assert_eq!(a, b, "actions (layers {layers})");
                    // Sampling, not the mode: a near-uniform policy spreads over every action.
                    assert!((0..5).all(|k| a.contains(&k)), "{a:?}");
                }
                (Action::Continuous(a), Action::Continuous(b)) => {
                    close(ctx.read_f32(a.reshape([rows * 2])).unwrap(), ctx.read_f32(b.reshape([rows * 2])).unwrap(), "action")
                }
                _ => panic!("action kinds differ"),
            }
        }
    }

    #[test]
    fn per_agent_networks_keep_the_tensor_path() {
        let ctx = GpuContext::shared().unwrap();
        let config = ActorCriticConfig::new(3, 10, 5, false, Critic::Ippo).with_shared_params(false);
        assert!(RolloutPolicy::new(ctx, &config, 30).is_none());
    }
}
