//! Adam with global gradient-norm clipping in two launches per parameter tensor
//! (`shaders/learn/grad_norm.wgsl`, `shaders/learn/adam.wgsl`).
//!
//! Written with tensor ops, one PPO minibatch step spent ≈210 launches on the optimizer: ~17 for
//! burn's Adam on each of 12 parameter tensors, ~40 for the global-norm clip. On a CPU adapter
//! each launch costs tens of microseconds whatever its size, so this overhead outweighed the
//! arithmetic (a 64×64 MLP has ~13 k parameters). Here every gradient's sum of squares goes to
//! one slot of a small device buffer (one launch each), and one kernel per parameter tensor reads
//! that buffer, clips, updates both moments and the parameter: 2 launches per tensor plus a few
//! for the step's three scalars.
//!
//! With `clip_each_tensor` each gradient is clipped to its own norm instead (burn's
//! `GradientClipping::Norm`, the MADDPG paper's per-variable `clip_by_norm`): one launch per
//! tensor of `shaders/learn/adam_clip_each.wgsl`, whose one workgroup finds the norm and then
//! steps every element — the off-policy learners' optimizer.
//!
//! [`FusedAdam`] implements burn's [`Optimizer`] with burn's own [`AdamState`], so it plugs into
//! [`ModuleOptimizer`] (parameter ids, records) unchanged: checkpoints written with burn's Adam
//! load here and the other way round. The arithmetic follows burn's order; the test below checks
//! it against burn's Adam plus tensor-op clipping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use burn::module::ParamId;
use burn::optim::{AdamState, AdaptiveMomentumState, GradientsParams, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{DType, Device, Tensor};

use crate::error::Result;
use crate::gpu::kernel::GRID_WGSL;
use crate::gpu::{float_buffer, float_tensor, GpuContext, WgslKernel};

const GRAD_NORM_WGSL: &str = include_str!("../../../shaders/learn/grad_norm.wgsl");
const ADAM_WGSL: &str = include_str!("../../../shaders/learn/adam.wgsl");
const ADAM_CLIP_EACH_WGSL: &str = include_str!("../../../shaders/learn/adam_clip_each.wgsl");
const ADAM_BINDINGS_WGSL: &str = include_str!("../../../shaders/learn/adam_bindings.wgsl");
const GRAD_SQUARE_SUM_WGSL: &str = include_str!("../../../shaders/learn/grad_square_sum.wgsl");

/// Adam's constants, burn's defaults except ε (1e-5, as JaxMARL's PPO uses).
#[derive(Debug, Clone, Copy)]
pub struct FusedAdamConfig {
    /// First-moment decay β₁.
    pub beta_1: f32,
    /// Second-moment decay β₂.
    pub beta_2: f32,
    /// ε of the denominator.
    pub epsilon: f32,
    /// Clip the global L2 norm of all gradients to this (`None`: no clipping).
    pub max_grad_norm: Option<f32>,
    /// Clip each parameter tensor's gradient to `max_grad_norm` on its own instead of their
    /// global norm (burn's `GradientClipping::Norm`). Default false.
    pub clip_each_tensor: bool,
}

impl Default for FusedAdamConfig {
    fn default() -> Self {
        FusedAdamConfig { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-5, max_grad_norm: None, clip_each_tensor: false }
    }
}

/// What one optimizer step shares between its parameter tensors.
#[derive(Default)]
struct StepScalars {
    /// Squared norm of each gradient tensor, `[n_params]` (written by [`FusedAdam::prepare`]).
    squares: Option<Tensor<1>>,
    /// `squares ++ [lr, combined_factor, epsilon_term]` for one (lr, time), built once a step.
    packed: Option<((u64, usize), Tensor<1>)>,
}

/// Adam + global-norm clipping as fused kernels; see the module doc.
#[derive(Clone)]
pub struct FusedAdam {
    ctx: Arc<GpuContext>,
    config: FusedAdamConfig,
    /// Every float parameter of the model (id, rank), in slot order.
    params: Arc<Vec<(ParamId, usize)>>,
    step: Arc<Mutex<StepScalars>>,
    /// Kernels by (which, tensor length, slot), built once: a model's parameter tensors come in
    /// a few sizes and every step launches the same kernels.
    kernels: Arc<Mutex<HashMap<(Which, usize, usize), WgslKernel>>>,
}

/// The two kernels of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Which {
    GradNorm,
    Adam,
}

impl FusedAdam {
    /// An optimizer for a model whose float parameters are `params` (id, rank), and the
    /// [`ModuleOptimizer`] that drives it.
    pub fn init(ctx: Arc<GpuContext>, config: FusedAdamConfig, params: Vec<(ParamId, usize)>) -> (FusedAdam, ModuleOptimizer) {
        let adam = FusedAdam { ctx, config, params: Arc::new(params), step: Arc::default(), kernels: Arc::default() };
        (adam.clone(), ModuleOptimizer::from(adam))
    }

    /// Queues the squared norm of every gradient (one launch each). Call before each
    /// `ModuleOptimizer::step` when clipping the global norm; otherwise it does nothing.
    pub fn prepare(&self, grads: &GradientsParams) -> Result<()> {
        let mut step = self.step.lock().unwrap_or_else(|e| e.into_inner());
        step.packed = None;
        if self.n_slots() == 0 {
            return Ok(());
        }
        let squares = Tensor::<1>::zeros([self.params.len()], self.ctx.device());
        let squares_buffer = float_buffer(squares.clone())?;
        for (slot, &(id, rank)) in self.params.iter().enumerate() {
            let grad = match rank {
                1 => grads.get::<1>(id).map(float_buffer),
                2 => grads.get::<2>(id).map(float_buffer),
                3 => grads.get::<3>(id).map(float_buffer),
                _ => None,
            };
            let Some(grad) = grad.transpose()? else { continue };
            let len = grad.meta.shape().num_elements();
            // One workgroup reduces the whole tensor.
            self.kernel(Which::GradNorm, len, slot).launch(&self.ctx, 1, &[&grad, &squares_buffer]);
        }
        step.squares = Some(squares);
        Ok(())
    }

    /// The kernel `which` for tensors of `len` elements (`slot`: the gradient's norm slot).
    fn kernel(&self, which: Which, len: usize, slot: usize) -> WgslKernel {
        let mut kernels = self.kernels.lock().unwrap_or_else(|e| e.into_inner());
        let c = &self.config;
        kernels
            .entry((which, len, slot))
            .or_insert_with(|| match which {
                Which::GradNorm => WgslKernel::new("grad_norm", &[GRAD_SQUARE_SUM_WGSL, GRAD_NORM_WGSL], &[("len", len.to_string()), ("slot", slot.to_string())]),
                Which::Adam if c.clip_each_tensor => WgslKernel::new(
                    "adam_clip_each",
                    &[ADAM_BINDINGS_WGSL, GRAD_SQUARE_SUM_WGSL, ADAM_CLIP_EACH_WGSL],
                    &[
                        ("len", len.to_string()),
                        ("beta_1", format!("{:?}f", c.beta_1)),
                        ("beta_2", format!("{:?}f", c.beta_2)),
                        ("max_norm", format!("{:?}f", c.max_grad_norm.unwrap_or(f32::MAX))),
                    ],
                ),
                Which::Adam => WgslKernel::new(
                    "adam",
                    &[GRID_WGSL, ADAM_BINDINGS_WGSL, ADAM_WGSL],
                    &[
                        ("len", len.to_string()),
                        ("n_params", self.n_slots().to_string()),
                        ("beta_1", format!("{:?}f", c.beta_1)),
                        ("beta_2", format!("{:?}f", c.beta_2)),
                        ("clip", c.max_grad_norm.is_some().to_string()),
                        ("max_norm", format!("{:?}f", c.max_grad_norm.unwrap_or(1.0))),
                    ],
                ),
            })
            .clone()
    }

    /// Slots of the global norm's squares (none without global-norm clipping).
    fn n_slots(&self) -> usize {
        if self.config.max_grad_norm.is_some() && !self.config.clip_each_tensor { self.params.len() } else { 0 }
    }

    /// The step's scalars on the device, built once per (lr, time) from scalar fills (no upload).
    fn scalars(&self, lr: LearningRate, time: usize, device: &Device) -> Tensor<1> {
        let mut step = self.step.lock().unwrap_or_else(|e| e.into_inner());
        let key = (lr.to_bits(), time);
        if let Some((k, t)) = &step.packed {
            if *k == key {
                return t.clone();
            }
        }
        // Bias corrections exactly as burn's Adam computes them.
        let (b1, b2) = (self.config.beta_1, self.config.beta_2);
        let bias_correction2_sqrt = (1.0 - b2.powi(time as i32)).sqrt();
        let combined_factor = bias_correction2_sqrt / (1.0 - b1.powi(time as i32));
        let epsilon_term = self.config.epsilon * bias_correction2_sqrt;
        let mut parts: Vec<Tensor<1>> = Vec::with_capacity(4);
        if self.n_slots() > 0 {
            let squares = step.squares.clone().unwrap_or_else(|| Tensor::zeros([self.n_slots()], device));
            parts.push(squares);
        }
        for value in [lr as f32, combined_factor, epsilon_term] {
            parts.push(Tensor::full([1], value, device));
        }
        let packed = Tensor::cat(parts, 0);
        step.packed = Some((key, packed.clone()));
        packed
    }
}

/// Adam with each gradient tensor clipped to `max_norm` on its own (burn's
/// `GradientClipping::Norm`, the MADDPG paper's `clip_by_norm` per variable) in one launch per
/// tensor: the optimizer of the off-policy learners and COMA. It needs no parameter list: there
/// is no global norm to gather.
pub fn adam_clipping_each_tensor(ctx: &Arc<GpuContext>, max_norm: f32) -> ModuleOptimizer {
    let config = FusedAdamConfig { max_grad_norm: Some(max_norm), clip_each_tensor: true, ..FusedAdamConfig::default() };
    FusedAdam::init(ctx.clone(), config, Vec::new()).1
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        let dims = tensor.dims();
        let (time, moment_1, moment_2) = match state {
            Some(s) => (s.momentum.time + 1, s.momentum.moment_1, s.momentum.moment_2),
            None => (1, Tensor::zeros(dims, &device), Tensor::zeros(dims, &device)),
        };
        let scalars = self.scalars(lr, time, &device);
        let len: usize = dims.iter().product();
        let kernel = self.kernel(Which::Adam, len, 0);
        // Every input is a burn tensor on this device; a failure here is a programming error.
        let buffer = |t: Tensor<D>| float_buffer(t).expect("optimizer tensors live on burn's wgpu device");
        let inputs = [buffer(tensor), buffer(grad), buffer(moment_1), buffer(moment_2)];
        let scalars = float_buffer(scalars).expect("scalars live on burn's wgpu device");
        let outputs = [(); 3].map(|_| self.ctx.empty(&dims, DType::F32));
        let bindings = [&inputs[0], &inputs[1], &inputs[2], &inputs[3], &scalars, &outputs[0], &outputs[1], &outputs[2]];
        // Clipping each tensor on its own: one workgroup does the whole tensor.
        let invocations = if self.config.clip_each_tensor { crate::gpu::kernel::WORKGROUP_SIZE as usize } else { len };
        kernel.launch(&self.ctx, invocations, &bindings);
        let [param, moment_1, moment_2] = outputs.map(float_tensor::<D>);
        (param, Some(AdamState::new(AdaptiveMomentumState::new(time, moment_1, moment_2))))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::SeededInit;
    use crate::train::actor_critic::model::MlpConfig;
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::AdamConfig;

    struct Floats(Vec<(ParamId, usize)>);
    impl ModuleVisitor for Floats {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push((param.id, D));
        }
    }
    /// Every parameter, flattened in visiting order (read back through the counted helper).
    struct Values(Vec<f32>);
    impl ModuleVisitor for Values {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val().without_autodiff();
            let n = t.shape().num_elements();
            self.0.extend(GpuContext::shared().unwrap().read_f32(t.reshape([n])).unwrap());
        }
    }

    /// burn's tensor-op global-norm clip, the reference the kernels replace.
    fn clip(grads: &mut GradientsParams, params: &[(ParamId, usize)], max_norm: f32) {
        let mut squares = Vec::new();
        for &(id, rank) in params {
            match rank {
                1 => squares.extend(grads.get::<1>(id).map(|g| g.powf_scalar(2.0).sum())),
                _ => squares.extend(grads.get::<2>(id).map(|g| g.powf_scalar(2.0).sum())),
            }
        }
        let norm = Tensor::cat(squares, 0).sum().sqrt();
        let scale = ((norm + 1e-6).recip() * max_norm).clamp_max(1.0);
        for &(id, rank) in params {
            match rank {
                1 => {
                    let g = grads.remove::<1>(id).unwrap();
                    grads.register(id, g * scale.clone());
                }
                _ => {
                    let g = grads.remove::<2>(id).unwrap();
                    grads.register(id, g * scale.clone().reshape([1, 1]));
                }
            }
        }
    }

    /// Five steps of fused Adam (`config`) and of burn's Adam (`reference`, after `clip_b` on its
    /// gradients) from the same start with a changing learning rate; the parameters must agree
    /// to 1e-5 and have moved.
    fn matches_reference(config: FusedAdamConfig, mut reference: ModuleOptimizer, clip_b: impl Fn(&mut GradientsParams, &[(ParamId, usize)]), seed: u64) {
        let ctx = GpuContext::shared().unwrap();
        let device = ctx.device().clone().autodiff();
        let _generator = SeededInit::new(&device, seed);
        let start = MlpConfig::new(7, 3).with_hidden(16).init(&device);
        let mut floats = Floats(Vec::new());
        start.visit(&mut floats);
        let mut initial = Values(Vec::new());
        start.visit(&mut initial);
        let (adam, mut fused) = FusedAdam::init(ctx.clone(), config, floats.0.clone());
        let (mut a, mut b) = (start.clone(), start);
        for step in 0..5 {
            let x = Tensor::<2>::random([32, 7], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
            let lr = 0.01 / (step + 1) as f64;
            let loss = |m: &crate::train::actor_critic::model::Mlp| m.forward(x.clone()).powf_scalar(2.0).mean();
            let grads_a = GradientsParams::from_grads(loss(&a).backward(), &a);
            adam.prepare(&grads_a).unwrap();
            a = fused.step(lr, a, grads_a);
            let mut grads_b = GradientsParams::from_grads(loss(&b).backward(), &b);
            clip_b(&mut grads_b, &floats.0);
            b = reference.step(lr, b, grads_b);
        }
        let (mut va, mut vb) = (Values(Vec::new()), Values(Vec::new()));
        a.visit(&mut va);
        b.visit(&mut vb);
        let worst = va.0.iter().zip(&vb.0).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "{config:?}: worst difference {worst}");
        // The steps moved the parameters (a no-op optimizer would pass the comparison too).
        let moved = va.0.iter().zip(&initial.0).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(moved > 1e-3, "{config:?}: parameters moved only {moved}");
    }

    /// Global-norm clipping against burn's Adam + tensor-op clipping, with a clip that binds and
    /// one that does not.
    #[test]
    fn matches_burns_adam_and_clipping() {
        for max_norm in [0.05f32, 1e6] {
            let config = FusedAdamConfig { max_grad_norm: Some(max_norm), ..FusedAdamConfig::default() };
            matches_reference(config, AdamConfig::new().with_epsilon(1e-5).init(), |grads, params| clip(grads, params, max_norm), 3);
        }
    }

    /// With `clip_each_tensor`: against burn's Adam with its own per-tensor norm clipping
    /// (`GradientClippingConfig::Norm`, which the off-policy learners used), with a clip that
    /// binds on every tensor and one that binds on none.
    #[test]
    fn clipping_each_tensor_matches_burns_adam_with_norm_clipping() {
        use burn::grad_clipping::GradientClippingConfig;
        for max_norm in [0.01f32, 1e6] {
            let config = FusedAdamConfig { max_grad_norm: Some(max_norm), clip_each_tensor: true, ..FusedAdamConfig::default() };
            let reference = AdamConfig::new().with_epsilon(1e-5).with_grad_clipping(Some(GradientClippingConfig::Norm(max_norm))).init();
            matches_reference(config, reference, |_, _| (), 5);
        }
    }
}
