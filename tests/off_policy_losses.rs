//! The value learners' update pieces against float64 references computed by hand: the double-Q
//! TD target (online network chooses, target network values, terminations stop the bootstrap,
//! truncations do not), the Huber loss and its gradient, and the Polyak update of a target
//! network (a hard copy at τ = 1, the exact mixture below, the online network untouched).

mod common;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use shoal::train::off_policy::{double_q_targets, huber_loss, polyak_update};
use shoal::train::MlpConfig;
use shoal::gpu::SeededInit;
use shoal::GpuContext;

/// Deterministic values in [−3, 3).
fn values(seed: u64, n: usize) -> Vec<f64> {
    common::splitmix_values(seed, n)
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[test]
fn double_q_targets_match_a_float64_reference() {
    let ctx = GpuContext::shared().unwrap();
    // By hand: the online network picks actions 1 and 0; the target values them 20 and 7; the
    // second transition terminated, so it does not bootstrap.
    let online = ctx.upload_f32(&[1.0, 3.0, 2.0, 5.0, 4.0, 0.0], [2, 3]).unwrap();
    let target = ctx.upload_f32(&[10.0, 20.0, 30.0, 7.0, 8.0, 9.0], [2, 3]).unwrap();
    let y = double_q_targets(online, target, ctx.upload_f32(&[1.0, -1.0], [2]).unwrap(), ctx.upload_f32(&[0.0, 1.0], [2]).unwrap(), 0.9);
    assert_eq!(ctx.read_f32(y).unwrap(), vec![19.0, -1.0]);

    // 256 transitions of 7 actions against the same rule in float64.
    let (batch, actions, gamma) = (256, 7, 0.99);
    let (q_online, q_target, reward) = (values(1, batch * actions), values(2, batch * actions), values(3, batch));
    let terminal: Vec<f64> = values(4, batch).iter().map(|&u| if u > 1.5 { 1.0 } else { 0.0 }).collect();
    let y = double_q_targets(
        ctx.upload_f32(&to_f32(&q_online), [batch, actions]).unwrap(),
        ctx.upload_f32(&to_f32(&q_target), [batch, actions]).unwrap(),
        ctx.upload_f32(&to_f32(&reward), [batch]).unwrap(),
        ctx.upload_f32(&to_f32(&terminal), [batch]).unwrap(),
        gamma as f32,
    );
    let y = ctx.read_f32(y).unwrap();
    for b in 0..batch {
        let row = &q_online[b * actions..(b + 1) * actions];
        let choice = (0..actions).fold(0, |best, a| if (row[a] as f32) > (row[best] as f32) { a } else { best });
        let expected = reward[b] + gamma * (1.0 - terminal[b]) * q_target[b * actions + choice];
        assert!((y[b] as f64 - expected).abs() < 1e-5, "transition {b}: {} vs {expected}", y[b]);
    }
    assert!(terminal.iter().any(|&t| t == 1.0) && terminal.iter().any(|&t| t == 0.0));
}

#[test]
fn huber_loss_and_its_gradient_match_a_float64_reference() {
    let ctx = GpuContext::shared().unwrap();
    let (prediction, target) = (values(5, 300), values(6, 300));
    let delta = 1.0;
    let x = ctx.upload_f32(&to_f32(&prediction), [300]).unwrap().autodiff().require_grad();
    let loss = huber_loss(x.clone(), ctx.upload_f32(&to_f32(&target), [300]).unwrap().autodiff(), delta as f32);
    let n = prediction.len() as f64;
    let mut expected = 0.0;
    let mut expected_grad = Vec::new();
    for (p, t) in prediction.iter().zip(&target) {
        let (p, t) = (*p as f32 as f64, *t as f32 as f64);
        let d: f64 = p - t;
        expected += if d.abs() <= delta { 0.5 * d * d } else { delta * (d.abs() - 0.5 * delta) } / n;
        expected_grad.push(d.clamp(-delta, delta) / n);
    }
    let value = ctx.read_f32(loss.clone().without_autodiff()).unwrap()[0] as f64;
    assert!((value - expected).abs() < 1e-5 * expected.abs().max(1.0), "{value} vs {expected}");
    let grads = loss.backward();
    let grad = ctx.read_f32(x.grad(&grads).unwrap()).unwrap();
    for (g, e) in grad.iter().zip(&expected_grad) {
        assert!((*g as f64 - e).abs() < 1e-7, "{g} vs {e}");
    }
    // Errors on both sides of δ: the test is not all-quadratic or all-linear.
    let beyond = prediction.iter().zip(&target).filter(|(p, t)| (*p - *t).abs() > delta).count();
    assert!(beyond > 30 && beyond < 270, "{beyond} of 300 beyond δ");
}

/// Every float parameter of a module, flattened, in visiting order.
struct Flat<'a>(&'a GpuContext, Vec<f32>);

impl ModuleVisitor for Flat<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val().without_autodiff();
        let n: usize = value.dims().iter().product();
        self.1.extend(self.0.read_f32(value.reshape([n])).unwrap());
    }
}

fn flat<M: Module>(ctx: &GpuContext, module: &M) -> Vec<f32> {
    let mut visitor = Flat(ctx, Vec::new());
    module.visit(&mut visitor);
    visitor.1
}

#[test]
fn polyak_update_mixes_every_parameter() {
    let ctx = GpuContext::shared().unwrap();
    let device = ctx.device().clone().autodiff();
    let config = MlpConfig::new(5, 3).with_hidden(8);
    // Held for the test: parameters are drawn lazily from burn's process-wide generator.
    let init = SeededInit::new(&device, 5);
    let online = init.draw(config.init(&device));
    let target = init.draw(config.init(&device)).valid();
    drop(init);
    let (theta, before) = (flat(&ctx, &online), flat(&ctx, &target));
    assert_eq!(theta.len(), 5 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3);
    assert_ne!(theta, before, "two initialisations differ");

    let tau = 0.01;
    let mixed = polyak_update(target, &online, tau);
    let after = flat(&ctx, &mixed);
    for ((a, t), o) in after.iter().zip(&before).zip(&theta) {
        let expected = tau as f64 * *o as f64 + (1.0 - tau as f64) * *t as f64;
        assert!((*a as f64 - expected).abs() < 1e-6, "{a} vs {expected}");
    }
    assert_eq!(flat(&ctx, &online), theta, "the online network is not touched");
    // τ = 1: DQN's hard copy; the copy carries no autodiff.
    let copy = polyak_update(mixed, &online, 1.0);
    assert_eq!(flat(&ctx, &copy), theta);
    let input = ctx.upload_f32(&[0.1, -0.2, 0.3, 0.0, 1.0], [1, 5]).unwrap();
    assert!(!copy.forward(input).is_autodiff());
}
