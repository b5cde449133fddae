//! COMA: the counterfactual advantage against a float64 reference, the critic's input hiding each
//! agent's own action from its own row (and only there), and the learner through the library and
//! the CLI — reproducible from the seed, resuming exactly, evaluating and rendering, refusing what
//! it cannot train by name.

mod common;

use burn::tensor::Tensor;
use common::{flat_params, run_shoal as shoal, scratch_dir};
use shoal::env::EnvKind;
use shoal::train::actor_critic::coma::{counterfactual_advantage, critic_input, ComaTrainer};
use shoal::train::{Algo, Learner, TrainConfig, UpdateMetrics};
use shoal::GpuContext;

#[test]
fn counterfactual_advantage_matches_a_float64_reference() {
    let ctx = GpuContext::shared().unwrap();
    let (rows, n) = (50, 5);
    let q: Vec<f64> = (0..rows * n).map(|k| ((k * 37 % 101) as f64 - 50.0) / 7.0).collect();
    let logits: Vec<f64> = (0..rows * n).map(|k| ((k * 13 % 29) as f64 - 14.0) / 5.0).collect();
    let taken: Vec<i32> = (0..rows).map(|r| (r * 7 % n) as i32).collect();
    let mut policy = Vec::new();
    for r in 0..rows {
        let e: Vec<f64> = (0..n).map(|k| logits[r * n + k].exp()).collect();
        let total: f64 = e.iter().sum();
        policy.extend(e.iter().map(|v| v / total));
    }
    let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
    let advantage = counterfactual_advantage(
        ctx.upload_f32(&f32s(&q), [rows, n]).unwrap(),
        ctx.upload_f32(&f32s(&policy), [rows, n]).unwrap(),
        ctx.upload_i32(&taken, [rows, 1]).unwrap(),
    );
    let advantage = ctx.read_f32(advantage).unwrap();
    for r in 0..rows {
        // A = Q(s, u)[u_a] − Σ_u' π(u') Q(s, u)[u'].
        let baseline: f64 = (0..n).map(|k| policy[r * n + k] * q[r * n + k]).sum();
        let expected = q[r * n + taken[r] as usize] - baseline;
        assert!((advantage[r] as f64 - expected).abs() < 1e-5, "row {r}: {} vs {expected}", advantage[r]);
    }
}

#[test]
fn each_agents_critic_row_sees_the_others_actions_but_not_its_own() {
    let ctx = GpuContext::shared().unwrap();
    let (rows, agents, dim, n) = (2, 3, 2, 4);
    let obs = ctx.upload_f32(&(0..rows * agents * dim).map(|v| v as f32).collect::<Vec<_>>(), [rows, agents, dim]).unwrap();
    let ids = Tensor::eye(agents, ctx.device());
    let input = |actions: &[i32]| ctx.read_f32(critic_input(obs.clone(), ctx.upload_i32(actions, [rows * agents, 1]).unwrap(), n, &ids)).unwrap();
    let width = agents * dim + agents * n + agents;
    let base = input(&[0, 1, 2, 3, 0, 1]);
    assert_eq!(base.len(), rows * agents * width);
    // Row (env 0, agent 1): every observation, agent 0's action 0 and agent 2's action 2 one-hot,
    // its own slot zero, its id.
    let row = &base[width..2 * width];
    assert_eq!(&row[..6], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(&row[6..18], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    assert_eq!(&row[18..], &[0.0, 1.0, 0.0]);
    // Changing agent 1's action of env 0 changes agents 0 and 2's rows there, not its own.
    let changed = input(&[0, 3, 2, 3, 0, 1]);
    let rows_differ: Vec<bool> = (0..rows * agents).map(|r| base[r * width..(r + 1) * width] != changed[r * width..(r + 1) * width]).collect();
    assert_eq!(rows_differ, vec![true, false, true, false, false, false]);
}

fn tiny() -> TrainConfig {
    TrainConfig { total_env_steps: 4 * 80, target_update_every: 2, lr: 1e-2, ..common::tiny_train_config(Algo::Coma) }
}


fn networks(trainer: &ComaTrainer) -> Vec<Vec<f32>> {
    trainer.networks().map(flat_params).to_vec()
}

fn run(trainer: &mut ComaTrainer, updates: usize) -> Vec<UpdateMetrics> {
    (0..updates).map(|_| trainer.update().unwrap()).collect()
}

#[test]
fn runs_are_reproducible_and_resume_exactly() {
    let ctx = GpuContext::shared().unwrap();
    let mut straight = ComaTrainer::new(ctx.clone(), tiny()).unwrap();
    let initial = networks(&straight);
    let metrics = run(&mut straight, 4);
    assert!(metrics.iter().all(|m| m.value_loss.is_finite() && m.policy_loss.is_finite()), "{metrics:?}");
    // A uniform initial policy over 5 actions: entropy ln 5.
    assert!((metrics[0].entropy - 5f64.ln()).abs() < 1e-2, "{}", metrics[0].entropy);
    let learned = networks(&straight);
    assert_ne!(learned[0], initial[0], "the actor learned");
    assert_ne!(learned[1], initial[1], "the critic learned");
    let mut again = ComaTrainer::new(ctx.clone(), tiny()).unwrap();
    run(&mut again, 4);
    assert_eq!(networks(&again), learned, "same seed, same networks");

    let dir = scratch_dir("coma-resume");
    let mut first = ComaTrainer::new(ctx.clone(), tiny()).unwrap();
    run(&mut first, 2);
    first.save_checkpoint(&dir.join("checkpoint")).unwrap();
    drop(first);
    let mut resumed = ComaTrainer::resume(ctx.clone(), &dir.join("checkpoint")).unwrap();
    let rest = run(&mut resumed, 2);
    assert_eq!(networks(&resumed), learned, "resumed run differs");
    assert_eq!(rest[1].value_loss.to_bits(), metrics[3].value_loss.to_bits());
    assert!(resumed.finished());
}

#[test]
fn cli_trains_evaluates_and_renders_coma_and_refuses_what_it_cannot_train() {
    let dir = scratch_dir("coma-cli");
    let out = dir.join("coma");
    let out_s = out.to_str().unwrap();
    let (ok, text) = shoal(&["train", "--env", "simple_spread", "--algo", "coma", "--envs", "8", "--steps", "400", "--out", out_s, "--set", "hidden=16", "--set", "checkpoint_every=1"]);
    assert!(ok, "{text}");
    for file in ["actor0.bpk", "critic.bpk", "critic_target.bpk", "actor_optimizer.bpk", "critic_optimizer.bpk", "state.json"] {
        assert!(out.join("checkpoint").join(file).is_file(), "{file}");
    }
    let (ok, text) = shoal(&["eval", "--checkpoint", out_s, "--episodes", "16"]);
    assert!(ok && text.contains("greedy") && text.contains("stochastic"), "{text}");
    let gif = dir.join("coma.gif");
    let (ok, text) = shoal(&["render", "--env", "simple_spread", "--checkpoint", out_s, "--out", gif.to_str().unwrap()]);
    assert!(ok && gif.is_file(), "{text}");

    let ctx = GpuContext::shared().unwrap();
    let error = |config: TrainConfig| ComaTrainer::new(ctx.clone(), config).err().expect("refused").to_string();
    let message = error(TrainConfig { continuous: true, ..tiny() });
    assert!(message.contains("continuous"), "{message}");
    let message = error(TrainConfig { env: EnvKind::SimpleTag, agents: 4, ..tiny() });
    assert!(message.contains("algo"), "simple_tag does not list coma: {message}");
}
