//! The shared trunk (`shared_trunk = true`): actor and critic share their hidden layers, as the
//! Mean Field MARL paper's AC and MF-AC do (mfrl). The policy reads the agent's own observation
//! only, the value also ā; one pass serves both heads and gives what the separate calls give;
//! both losses train the trunk; runs repeat and resume exactly (`tests/train.rs`).

mod common;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use common::flat_params;
use shoal::gpu::SeededInit;
use shoal::train::{Action, ActorCritic, ActorCriticConfig, Algo, Critic, TrainConfig};
use shoal::GpuContext;

const OBS: usize = 6;
const MEAN_ACTION: usize = 3;
const ACTIONS: usize = 4;
const ROWS: usize = 10;

fn trunk_model(device: &Device) -> ActorCritic {
    let config = ActorCriticConfig::new(1, OBS, ACTIONS, false, Critic::Ippo)
        .with_agent_ids(false)
        .with_critic_extra(MEAN_ACTION)
        .with_hidden(8)
        .with_shared_trunk(true);
    SeededInit::new(device, 9).draw(config.init(device))
}

/// Critic inputs `[obs | ā]` of `ROWS` agents; `shift` changes only the ā columns.
fn critic_input(ctx: &GpuContext, shift: f32) -> Tensor<2> {
    let values: Vec<f32> = (0..ROWS * (OBS + MEAN_ACTION))
        .map(|i| if i % (OBS + MEAN_ACTION) < OBS { ((i * 7) % 13) as f32 / 13.0 - 0.5 } else { ((i * 5) % 11) as f32 / 11.0 + shift })
        .collect();
    ctx.upload_f32(&values, [ROWS, OBS + MEAN_ACTION]).unwrap()
}

fn actor_input(critic_x: Tensor<2>) -> Tensor<2> {
    critic_x.slice([0..ROWS, 0..OBS])
}

#[test]
fn the_policy_ignores_the_mean_action_and_the_value_reads_it() {
    let ctx = GpuContext::shared().unwrap();
    let model = trunk_model(ctx.device());
    let read = |t: Tensor<1>| ctx.read_f32(t).unwrap();
    let (near, far) = (critic_input(&ctx, 0.0), critic_input(&ctx, 0.7));
    let action = Action::Discrete(ctx.upload_i32(&(0..ROWS as i32).map(|i| i % ACTIONS as i32).collect::<Vec<_>>(), [ROWS]).unwrap());
    let (lp_near, _) = model.evaluate(actor_input(near.clone()), &action);
    let (lp_far, _) = model.evaluate(actor_input(far.clone()), &action);
    assert_eq!(read(lp_near), read(lp_far), "π(a | o) must not see ā");
    assert_ne!(read(model.value(near)), read(model.value(far)), "V(o, ā) must see ā");
}

#[test]
fn one_pass_gives_what_the_separate_calls_give() {
    let ctx = GpuContext::shared().unwrap();
    let model = trunk_model(ctx.device());
    let read = |t: Tensor<1>| ctx.read_f32(t).unwrap();
    let cx = critic_input(&ctx, 0.2);
    let action = Action::Discrete(ctx.upload_i32(&[3, 1, 0, 2, 2, 1, 0, 3, 1, 1], [ROWS]).unwrap());
    let (log_prob, entropy) = model.evaluate(actor_input(cx.clone()), &action);
    let value = model.value(cx.clone());
    let (lp, ent, v) = model.evaluate_with_value(actor_input(cx.clone()), model.critic_part(cx.clone()), &action);
    assert_eq!((read(lp), read(ent), read(v.clone())), (read(log_prob.clone()), read(entropy), read(value.clone())));
    let noise = ctx.upload_f32(&(0..ROWS * ACTIONS).map(|i| ((i * 31) % 17) as f32 / 17.0 + 0.01).collect::<Vec<_>>(), [ROWS, ACTIONS]).unwrap();
    let alone = model.act(actor_input(cx.clone()), Some(noise.clone()));
    let (together, v2) = model.act_with_value(actor_input(cx.clone()), cx, Some(noise));
    assert_eq!((read(together.log_prob), read(v2)), (read(alone.log_prob), read(value)));
}

/// Gradient magnitude per parameter tensor, in visiting order.
struct GradNorms<'a>(&'a burn::optim::GradientsParams, Vec<f32>);
impl ModuleVisitor for GradNorms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let norm = self.0.get::<D>(param.id).map(|g| {
            let n = g.shape().num_elements();
            GpuContext::shared().unwrap().read_f32(g.reshape([n]).abs().sum()).unwrap()[0]
        });
        self.1.push(norm.unwrap_or(0.0));
    }
}

#[test]
fn both_losses_train_the_trunk_and_it_halves_the_wide_layers() {
    let ctx = GpuContext::shared().unwrap();
    let device = ctx.device().clone().autodiff();
    let model = trunk_model(&device);
    let cx = critic_input(&ctx, 0.1);
    let values = model.value(cx.clone());
    let grads = burn::optim::GradientsParams::from_grads(values.sum().backward(), &model);
    let mut norms = GradNorms(&grads, Vec::new());
    model.visit(&mut norms);
    // Visiting order: actor head (weight, bias), critic head (2 layers), log std (none), trunk (2 layers).
    let (actor_head, critic_head, trunk) = (&norms.1[..2], &norms.1[2..6], &norms.1[6..]);
    assert!(actor_head.iter().all(|&g| g == 0.0), "the value loss must not move the policy head: {actor_head:?}");
    assert!(critic_head.iter().chain(trunk).all(|&g| g > 0.0), "the value loss trains its head and the trunk: {:?}", norms.1);
    let (lp, _) = model.evaluate(actor_input(cx), &Action::Discrete(ctx.upload_i32(&[0; ROWS], [ROWS]).unwrap()));
    let grads = burn::optim::GradientsParams::from_grads(lp.sum().backward(), &model);
    let mut norms = GradNorms(&grads, Vec::new());
    model.visit(&mut norms);
    assert!(norms.1[..2].iter().chain(&norms.1[6..]).all(|&g| g > 0.0) && norms.1[2..6].iter().all(|&g| g == 0.0), "{:?}", norms.1);

    // Against separate networks of the same width: one wide input layer instead of two.
    let separate = ActorCriticConfig::new(1, 100, ACTIONS, false, Critic::Ippo).with_agent_ids(false).with_critic_extra(MEAN_ACTION).with_hidden(8);
    let count = |c: &ActorCriticConfig| flat_params(&SeededInit::new(ctx.device(), 1).draw(c.init(ctx.device()))).len();
    let (apart, shared) = (count(&separate), count(&separate.clone().with_shared_trunk(true)));
    assert!(shared * 10 < apart * 6, "{shared} parameters shared against {apart} apart");
}

#[test]
fn a_trunk_is_refused_where_it_does_not_apply() {
    for (config, needle) in [
        (TrainConfig { shared_trunk: true, ..common::tiny_train_config(Algo::Mappo) }, "mappo"),
        (TrainConfig { shared_trunk: true, shared_params: false, ..common::tiny_train_config(Algo::Ippo) }, "shared_params"),
        (TrainConfig { shared_trunk: true, layers: 0, ..common::tiny_train_config(Algo::Ippo) }, "layers"),
    ] {
        let err = config.validate().err().unwrap().to_string();
        assert!(err.contains("shared_trunk") && err.contains(needle), "{err}");
    }
}
