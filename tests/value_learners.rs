//! IQL and VDN through the library and the CLI: a run is reproducible from its seed, a
//! checkpointed-and-resumed run equals an uninterrupted one (networks, Adam, replay buffer,
//! exploration streams), the update learns only after `learning_starts`, the target network
//! follows as configured, checkpoints evaluate and render, and what these learners cannot train
//! is refused by name.

mod common;

use common::{flat_params, run_shoal as shoal, scratch_dir};
use shoal::env::EnvKind;
use shoal::train::off_policy::IqlTrainer;
use shoal::train::{Algo, Learner, TrainConfig, UpdateMetrics};
use shoal::GpuContext;

/// 8 simple_spread envs × 10 steps per update, 4 updates; learning from the second update,
/// 3 gradient steps of 16 transitions each, a hard target copy every 2 gradient steps.
fn tiny(algo: Algo) -> TrainConfig {
    TrainConfig {
        total_env_steps: 4 * 80,
        buffer_size: 200,
        batch_size: 16,
        learning_starts: 100,
        gradient_steps: 3,
        target_update_every: 2,
        ..common::tiny_train_config(algo)
    }
}


fn run(trainer: &mut IqlTrainer, updates: usize) -> Vec<UpdateMetrics> {
    (0..updates).map(|_| trainer.update().unwrap()).collect()
}

#[test]
fn runs_are_reproducible_and_resume_exactly() {
    let ctx = GpuContext::shared().unwrap();
    for algo in [Algo::Iql, Algo::Vdn] {
        let mut straight = IqlTrainer::new(ctx.clone(), tiny(algo)).unwrap();
        let metrics = run(&mut straight, 4);
        // Nothing to learn from before `learning_starts` (80 env steps stored < 100), then a loss.
        assert!(metrics[0].value_loss.is_nan(), "{algo:?}: {:?}", metrics[0]);
        assert!(metrics[1..].iter().all(|m| m.value_loss.is_finite() && m.value_loss >= 0.0), "{algo:?}");
        // ε decays linearly over the first 10% of 320 env steps: it is at its floor by update 2.
        assert_eq!(metrics[0].entropy, 1.0);
        assert!((metrics[2].entropy - 0.05).abs() < 1e-6, "{}", metrics[2].entropy);

        let mut again = IqlTrainer::new(ctx.clone(), tiny(algo)).unwrap();
        let repeat = run(&mut again, 4);
        assert_eq!(flat_params(again.q_network()), flat_params(straight.q_network()), "{algo:?}: same seed, same network");
        assert_eq!(repeat.iter().map(|m| m.value_loss.to_bits()).collect::<Vec<_>>(), metrics.iter().map(|m| m.value_loss.to_bits()).collect::<Vec<_>>());

        let dir = scratch_dir(&format!("iql-resume-{}", algo.name()));
        let mut first = IqlTrainer::new(ctx.clone(), tiny(algo)).unwrap();
        run(&mut first, 2);
        first.save_checkpoint(&dir.join("checkpoint")).unwrap();
        drop(first);
        let mut resumed = IqlTrainer::resume(ctx.clone(), &dir.join("checkpoint")).unwrap();
        let rest = run(&mut resumed, 2);
        assert_eq!(flat_params(resumed.q_network()), flat_params(straight.q_network()), "{algo:?}: resumed run differs");
        assert_eq!(rest[1].value_loss.to_bits(), metrics[3].value_loss.to_bits());
        assert!(resumed.finished());
    }
}

#[test]
fn iql_and_vdn_learn_differently_from_the_same_data() {
    // Same seed, same first rollout; VDN's target is the team's, so the networks part ways.
    let ctx = GpuContext::shared().unwrap();
    let (mut iql, mut vdn) = (IqlTrainer::new(ctx.clone(), tiny(Algo::Iql)).unwrap(), IqlTrainer::new(ctx.clone(), tiny(Algo::Vdn)).unwrap());
    assert_eq!(flat_params(iql.q_network()), flat_params(vdn.q_network()));
    run(&mut iql, 2);
    run(&mut vdn, 2);
    assert_ne!(flat_params(iql.q_network()), flat_params(vdn.q_network()));
}

#[test]
fn cli_trains_evaluates_and_renders_q_learners() {
    let dir = scratch_dir("iql-cli");
    let out = dir.join("iql");
    let out_s = out.to_str().unwrap();
    let (ok, text) = shoal(&[
        "train", "--env", "simple_spread", "--algo", "iql", "--envs", "8", "--steps", "400", "--out", out_s,
        "--set", "rollout_steps=25", "--set", "hidden=16", "--set", "buffer_size=500", "--set", "batch_size=16",
        "--set", "learning_starts=200", "--set", "gradient_steps=2", "--set", "checkpoint_every=1",
    ]);
    assert!(ok, "{text}");
    for file in ["q.bpk", "q_target.bpk", "optimizer.bpk", "replay.json", "replay.obs.f32", "replay.next_obs.f32", "q_learning.json", "state.json"] {
        assert!(out.join("checkpoint").join(file).is_file(), "{file}");
    }
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "{metrics}");
    let (ok, text) = shoal(&["eval", "--checkpoint", out_s, "--episodes", "16"]);
    assert!(ok && text.contains("greedy") && text.contains("stochastic"), "{text}");
    let gif = dir.join("iql.gif");
    let (ok, text) = shoal(&["render", "--env", "simple_spread", "--checkpoint", out_s, "--out", gif.to_str().unwrap()]);
    assert!(ok && gif.is_file(), "{text}");
    let (ok, text) = shoal(&["train", "--resume", out_s]);
    assert!(ok, "{text}");
}

#[test]
fn what_q_learners_cannot_train_is_refused_by_name() {
    let ctx = GpuContext::shared().unwrap();
    let error = |config: TrainConfig| IqlTrainer::new(ctx.clone(), config).err().expect("refused").to_string();
    let message = error(TrainConfig { continuous: true, ..tiny(Algo::Iql) });
    assert!(message.contains("continuous"), "{message}");
    let message = error(TrainConfig { env: EnvKind::SimpleTag, agents: 4, ..tiny(Algo::Iql) });
    assert!(message.contains("algo"), "simple_tag does not list iql: {message}");
    let message = error(TrainConfig { buffer_size: 0, ..tiny(Algo::Vdn) });
    assert!(message.contains("buffer_size"), "{message}");
    let message = error(TrainConfig { tau: 0.0, ..tiny(Algo::Vdn) });
    assert!(message.contains("tau"), "{message}");
    let message = error(TrainConfig { eps_end: 1.5, ..tiny(Algo::Iql) });
    assert!(message.contains("eps_end"), "{message}");
}
