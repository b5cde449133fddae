//! Training on envs with several agent groups (mpe2's mixed scenarios): one learner per group,
//! each with its own networks and return column — train and evaluate through the CLI, resume
//! through the library.
//! The per-group returns are tracked on the device by the trainer, the overall return by the
//! env; they must agree (the overall return is the agents' mean).

mod common;

use common::{run_shoal as shoal, scratch_dir};
use shoal::env::EnvKind;
use shoal::train::{new_learner, resume_learner, Algo, TrainConfig, UpdateMetrics};

/// `metrics.csv` rows as numbers, with the header.
fn metrics(dir: &std::path::Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    (header, lines.map(|l| l.split(',').map(|f| f.parse().unwrap()).collect()).collect())
}

#[test]
fn each_group_trains_with_its_own_networks_and_return_column() {
    let dir = scratch_dir("groups-train");
    let run = dir.join("tag");
    let run_s = run.to_str().unwrap();
    let tiny = ["--set", "hidden=16", "--set", "rollout_steps=25", "--set", "update_epochs=1", "--set", "num_minibatches=1", "--set", "checkpoint_every=1"];
    let mut args = vec!["train", "--env", "simple_tag", "--algo", "ippo", "--envs", "4", "--steps", "200", "--out", run_s];
    args.extend(tiny);
    let (ok, text) = shoal(&args);
    assert!(ok, "{text}");
    let (header, rows) = metrics(&run);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    let (all, adversary, prey) = (col("mean_episode_return"), col("return_adversary"), col("return_agent"));
    assert_eq!(rows.len(), 2);
    for row in &rows {
        // 4 envs × 25 steps: every env ends one episode per update.
        assert_eq!(row[col("episodes")], 4.0);
        // The overall return is the mean over the 4 agents: 3 predators, 1 prey.
        let mean = (3.0 * row[adversary] + row[prey]) / 4.0;
        assert!((mean - row[all]).abs() < 1e-3 * (1.0 + row[all].abs()), "{row:?}");
    }
    for file in ["model.bpk", "optimizer.bpk", "model.agent.bpk", "optimizer.agent.bpk"] {
        assert!(run.join("checkpoint").join(file).is_file(), "{file}");
    }
    // Both groups' policies play in evaluation, each with its return column; a group can be
    // made to play at random (trained predators against a random prey); a group that is not
    // there is named with the ones that are.
    let (ok, text) = shoal(&["eval", "--checkpoint", run_s, "--episodes", "4"]);
    assert!(ok && text.contains("greedy") && text.contains("adversary") && !text.contains("(random)"), "{text}");
    let json = dir.join("eval.json");
    let (ok, text) = shoal(&["eval", "--checkpoint", run_s, "--episodes", "4", "--random-groups", "agent", "--json", json.to_str().unwrap()]);
    assert!(ok && text.contains("agent (random)"), "{text}");
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for mode in results.as_array().unwrap() {
        let groups = mode["groups"].as_array().unwrap();
        assert_eq!((groups[0]["random"].as_bool(), groups[1]["random"].as_bool()), (Some(false), Some(true)));
        let mean = (3.0 * groups[0]["mean_return"].as_f64().unwrap() + groups[1]["mean_return"].as_f64().unwrap()) / 4.0;
        assert!((mean - mode["mean_return"].as_f64().unwrap()).abs() < 1e-3 * (1.0 + mean.abs()), "{mode}");
    }
    let (ok, text) = shoal(&["eval", "--checkpoint", run_s, "--episodes", "4", "--random-groups", "prey"]);
    assert!(!ok && text.contains("adversary, agent") && !text.contains("panicked"), "{text}");
}

/// A run checkpointed mid-episode and resumed reports exactly the per-group returns of a run
/// that was never interrupted (the running returns are part of the checkpoint).
#[test]
fn group_returns_survive_a_resume_exactly() {
    let dir = scratch_dir("groups-resume");
    let ctx = shoal::GpuContext::shared().unwrap();
    // Updates of 10 steps, episodes of 25: checkpoints fall mid-episode.
    let config = TrainConfig { env: EnvKind::SimpleTag, algo: Algo::Ippo, agents: 4, rollout_steps: 10, total_env_steps: 8 * 10 * 6, ..common::tiny_train_config(Algo::Ippo) };
    let mut straight = new_learner(ctx.clone(), config.clone()).unwrap();
    let expected: Vec<UpdateMetrics> = (0..6).map(|_| straight.update().unwrap()).collect();
    let mut first = new_learner(ctx.clone(), config).unwrap();
    for _ in 0..3 {
        first.update().unwrap();
    }
    first.save_checkpoint(&dir.join("checkpoint")).unwrap();
    let mut resumed = resume_learner(ctx, &dir.join("checkpoint")).unwrap();
    let rest: Vec<UpdateMetrics> = (0..3).map(|_| resumed.update().unwrap()).collect();
    // Bit patterns: updates that end no episode report NaN, which must match NaN.
    let groups = |m: &[UpdateMetrics]| -> Vec<Vec<(String, u64)>> { m.iter().map(|u| u.group_returns.iter().map(|(g, r)| (g.clone(), r.to_bits())).collect()).collect() };
    assert_eq!(groups(&rest), groups(&expected[3..]));
    assert!(expected.iter().any(|u| u.episodes > 0.0 && u.group_returns.len() == 2));
}

/// MAPPO's critic of a group sees every group's observations: speaker (3) and listener (11) →
/// a critic over 14 values plus the group's agent id, for both groups.
#[test]
fn mappo_trains_speaker_and_listener_with_a_joint_critic() {
    let dir = scratch_dir("groups-mappo");
    let run = dir.join("sl");
    let (ok, text) = shoal(&[
        "train", "--env", "simple-speaker-listener", "--algo", "mappo", "--envs", "4", "--steps", "100", "--out", run.to_str().unwrap(),
        "--set", "hidden=16", "--set", "rollout_steps=25", "--set", "update_epochs=1", "--set", "num_minibatches=1",
    ]);
    assert!(ok, "{text}");
    let (header, rows) = metrics(&run);
    assert!(header.ends_with(&["return_speaker".to_string(), "return_listener".to_string()]), "{header:?}");
    // Both agents get the same reward: the two columns agree.
    assert_eq!(rows[0][header.len() - 2], rows[0][header.len() - 1]);
    assert!(run.join("checkpoint/model.listener.bpk").is_file());
}
