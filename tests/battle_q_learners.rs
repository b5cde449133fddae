//! The Mean Field MARL paper's Q-learners on Battle: neural MF-Q (`--algo mfq`, `Q(o, ā, a)`) and
//! IL (`--algo iql`, the same network without ā). What each network reads of the observation,
//! that runs repeat and resume exactly, and that the arena plays them against actor-critics.

mod common;

use common::{flat_params, run_shoal as shoal, scratch_dir};
use shoal::env::battle::{BATTLE_ACTIONS, BATTLE_LOCAL_OBS, BATTLE_OBS_DIM};
use shoal::env::EnvKind;
use shoal::train::off_policy::q_policy::{q_network_config, q_values, QInput};
use shoal::train::off_policy::IqlTrainer;
use shoal::train::{Algo, Learner, TrainConfig};
use shoal::gpu::SeededInit;
use shoal::GpuContext;

/// 2 battles on a 12×12 map (2 v 2), 10 steps per update; learning from the second update.
fn tiny(algo: Algo) -> TrainConfig {
    TrainConfig {
        env: EnvKind::Battle,
        agents: 4,
        map_size: 12,
        envs: 2,
        max_cycles: 15,
        total_env_steps: 4 * 20,
        buffer_size: 64,
        batch_size: 4,
        learning_starts: 30,
        gradient_steps: 2,
        target_update_every: 2,
        ..common::tiny_train_config(algo)
    }
}

#[test]
fn mf_q_reads_the_team_mean_action_and_il_does_not() {
    let ctx = GpuContext::shared().unwrap();
    let env = EnvKind::Battle.build(&ctx, &tiny(Algo::Iql).env_params(1, false)).unwrap();
    let (layout, group) = (env.obs_layout(), env.spec().groups[0].clone());
    let device = ctx.device();
    let (il, mfq) = (QInput::new(layout, &group, Algo::Iql, device).unwrap(), QInput::new(layout, &group, Algo::Mfq, device).unwrap());
    assert_eq!((il.width(), mfq.width()), (BATTLE_LOCAL_OBS, BATTLE_OBS_DIM), "no agent ids for a crowd; ā only for MF-Q");
    // Two observations that differ only in the mean-action columns.
    let agents = group.agents;
    let base: Vec<f32> = (0..agents * BATTLE_OBS_DIM).map(|i| ((i * 37) % 101) as f32 / 101.0).collect();
    let mut other = base.clone();
    for a in 0..agents {
        for c in BATTLE_LOCAL_OBS..BATTLE_OBS_DIM {
            other[a * BATTLE_OBS_DIM + c] = if c == BATTLE_LOCAL_OBS + a % BATTLE_ACTIONS { 1.0 } else { 0.0 };
        }
    }
    let obs = |v: &[f32]| ctx.upload_f32(v, [1, agents, BATTLE_OBS_DIM]).unwrap();
    for (input, sees_mean_action) in [(&il, false), (&mfq, true)] {
        let q = SeededInit::new(device, 2).draw(q_network_config(input, BATTLE_ACTIONS, 16, 2).init(device));
        let values = |v: &[f32]| ctx.read_f32(q_values(&q, input, obs(v))).unwrap();
        assert_eq!(values(&base) != values(&other), sees_mean_action, "width {}", input.width());
    }
    let spread = EnvKind::SimpleSpread.build(&ctx, &TrainConfig::default().env_params(1, false)).unwrap();
    let err = QInput::new(spread.obs_layout(), &spread.spec().groups[0], Algo::Mfq, device).err().unwrap().to_string();
    assert!(err.contains("mean action") && err.contains("iql"), "{err}");
}

#[test]
fn battle_q_learners_repeat_and_resume_exactly() {
    let ctx = GpuContext::shared().unwrap();
    for algo in [Algo::Mfq, Algo::Iql] {
        let run = |trainer: &mut IqlTrainer, updates: usize| (0..updates).map(|_| trainer.update().unwrap().value_loss).collect::<Vec<_>>();
        let mut straight = IqlTrainer::new(ctx.clone(), tiny(algo)).unwrap();
        let losses = run(&mut straight, 4);
        assert!(losses[0].is_nan() && losses[1..].iter().all(|l| l.is_finite()), "{algo:?}: {losses:?}");
        let mut again = IqlTrainer::new(ctx.clone(), tiny(algo)).unwrap();
        run(&mut again, 4);
        assert_eq!(flat_params(again.q_network()), flat_params(straight.q_network()), "{algo:?}: same seed, same network");
        let dir = scratch_dir(&format!("battle-q-resume-{}", algo.name()));
        let mut first = IqlTrainer::new(ctx.clone(), tiny(algo)).unwrap();
        run(&mut first, 2);
        first.save_checkpoint(&dir.join("checkpoint")).unwrap();
        drop(first);
        let mut resumed = IqlTrainer::resume(ctx.clone(), &dir.join("checkpoint")).unwrap();
        run(&mut resumed, 2);
        assert_eq!(flat_params(resumed.q_network()), flat_params(straight.q_network()), "{algo:?}: resumed run differs");
    }
}

#[test]
fn the_arena_plays_q_learners_against_actor_critics() {
    let dir = scratch_dir("battle-q-arena");
    let common = ["--env", "battle", "--agents", "4", "--envs", "2", "--steps", "40", "--set", "map_size=12", "--set", "rollout_steps=10",
        "--set", "max_cycles=20", "--set", "hidden=16"];
    let train = |algo: &str, extra: &[&str]| {
        let out = dir.join(algo);
        let mut args = vec!["train", "--algo", algo, "--out", out.to_str().unwrap()];
        args.extend(common);
        args.extend(extra);
        let (ok, text) = shoal(&args);
        assert!(ok, "{algo}: {text}");
        out
    };
    let q_settings = ["--set", "buffer_size=64", "--set", "batch_size=4", "--set", "learning_starts=20", "--set", "gradient_steps=2"];
    let (mfq, il, mfac) = (train("mfq", &q_settings), train("iql", &q_settings), train("mfac", &[]));
    for (a, b) in [(&mfq, &mfac), (&il, &mfq)] {
        let json = dir.join("arena.json");
        let (ok, text) = shoal(&["arena", "--a", a.to_str().unwrap(), "--b", b.to_str().unwrap(), "--games", "4", "--json", json.to_str().unwrap()]);
        assert!(ok, "{text}");
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let games = r["games"].as_f64().unwrap();
        assert!(games >= 4.0, "{r}");
        assert_eq!(r["wins"].as_f64().unwrap() + r["draws"].as_f64().unwrap() + r["losses"].as_f64().unwrap(), games);
    }
    let (ok, text) = shoal(&["eval", "--checkpoint", mfq.to_str().unwrap(), "--episodes", "4"]);
    assert!(ok && text.contains("greedy"), "{text}");
    // MF-Q on an env without a mean action is refused by name.
    let (ok, text) = shoal(&["train", "--env", "simple_spread", "--algo", "mfq", "--out", dir.join("bad").to_str().unwrap()]);
    assert!(!ok && text.contains("mfq") && !text.contains("panicked"), "{text}");
}
