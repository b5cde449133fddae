//! mpe2's mixed scenarios — agents of several kinds in one world — against mpe2 1.1.1: the
//! golden trajectories of `tests/data/mpe_mixed.jsonl` and `tests/data/mpe_treasure.jsonl` (those
//! scenarios' lines of the shared `mpe.jsonl`, spec in `tests/data/MPE_SPEC.md` §2–8 and §9),
//! replayed from their initial states (goals, keys and treasures included), discrete and
//! continuous, all five seeds in one batch, through the library and `shoal replay --check`.
//! Then what the golden files cannot show: per-group shapes and errors, speakers that do not
//! move, words that reach the listener, and actions out of a group's space.

use std::process::Command;

use shoal::env::{Actions, BatchedEnv, EnvKind, EnvParams, FromParams};
use shoal::replay::{replay, TrajectoryFile};
use shoal::GpuContext;

const MIXED_GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mpe_mixed.jsonl");
const TREASURE_GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mpe_treasure.jsonl");
/// Float32 against float64 over 25 steps (the same bound as simple_spread's replay).
const TOL: f64 = 1e-4;

/// The mixed scenarios and the file holding their golden trajectories.
const SCENARIOS: [(EnvKind, &str); 8] = [
    (EnvKind::SimpleAdversary, MIXED_GOLDEN),
    (EnvKind::SimpleCrypto, MIXED_GOLDEN),
    (EnvKind::SimplePush, MIXED_GOLDEN),
    (EnvKind::SimpleReference, MIXED_GOLDEN),
    (EnvKind::SimpleSpeakerListener, MIXED_GOLDEN),
    (EnvKind::SimpleTag, MIXED_GOLDEN),
    (EnvKind::SimpleWorldComm, MIXED_GOLDEN),
    (EnvKind::CollectTreasure, TREASURE_GOLDEN),
];

/// Replays every golden trajectory of `kind` and checks every recorded field within [`TOL`].
fn replay_golden(kind: EnvKind, golden: &str) {
    let ctx = GpuContext::shared().unwrap();
    let file = TrajectoryFile::read(golden).unwrap().only(kind).unwrap();
    assert_eq!(file.trajectories.len(), 10, "{kind}: five seeds per action kind");
    assert_eq!(file.trajectories.iter().filter(|(_, t)| t.continuous).count(), 5);
    let (ours, report) = replay(&ctx, &file).unwrap();
    eprintln!("{kind}: {:?}", report.max_abs_error);
    assert_eq!((report.trajectories, report.steps), (10, 250));
    let mut fields = vec!["init_obs", "obs", "rew", "agent_pos", "agent_vel", "agent_c"];
    if kind == EnvKind::CollectTreasure {
        fields.push("landmark_pos");
    }
    for field in fields {
        let err = report.max_abs_error.get(field).copied().unwrap_or_else(|| panic!("{kind}: {field} not compared"));
        assert!(err < TOL, "{kind} {field}: max |error| {err:.2e}");
    }
    assert_eq!((report.truncated_mismatches, report.terminated_mismatches), (0, 0));
    assert!(ours.iter().all(|t| t.steps.last().unwrap().truncated));
    // A bug that froze everything would pass a tolerance on constants: the observations change.
    let (_, first) = &file.trajectories[0];
    assert!(first.steps.iter().any(|s| s.obs != first.steps[0].obs), "{kind}: nothing changes");
}

#[test]
fn mixed_scenarios_replay_mpe2_golden_trajectories() {
    for (kind, golden) in SCENARIOS {
        replay_golden(kind, golden);
    }
}

/// collect_treasure's pickups and respawns happen in the golden data, and are replayed: a
/// treasure goes away (-999) and comes back where mpe2 put it.
#[test]
fn collect_treasure_golden_data_has_pickups_and_respawns() {
    let file = TrajectoryFile::read(TREASURE_GOLDEN).unwrap().only(EnvKind::CollectTreasure).unwrap();
    let pickups = file.trajectories.iter().flat_map(|(_, t)| &t.steps).filter(|s| s.landmark_pos.as_ref().unwrap().iter().any(|p| p[0] == -999.0)).count();
    assert!(pickups >= 3, "{pickups} steps with a collected treasure");
}

#[test]
fn replay_cli_checks_every_mixed_scenario() {
    for (kind, golden) in SCENARIOS {
        let output = Command::new(env!("CARGO_BIN_EXE_shoal")).args(["replay", "--env", kind.name(), "--input", golden, "--check"]).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{kind}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains("replayed 10") && stdout.contains("check passed") && stdout.contains("agent_c"), "{kind}: {stdout}");
    }
}

/// PettingZoo's spaces per group: names, counts, observation widths and action spaces.
#[test]
fn groups_have_pettingzoo_spaces() {
    let ctx = GpuContext::shared().unwrap();
    let expected: [(EnvKind, &[(&str, usize, usize, usize)]); 8] = [
        (EnvKind::SimpleAdversary, &[("adversary", 1, 8, 5), ("agent", 2, 10, 5)]),
        (EnvKind::SimpleCrypto, &[("eve", 1, 4, 4), ("bob", 1, 8, 4), ("alice", 1, 8, 4)]),
        (EnvKind::SimplePush, &[("adversary", 1, 8, 5), ("agent", 1, 19, 5)]),
        (EnvKind::SimpleReference, &[("agent", 2, 21, 50)]),
        (EnvKind::SimpleSpeakerListener, &[("speaker", 1, 3, 3), ("listener", 1, 11, 5)]),
        (EnvKind::SimpleTag, &[("adversary", 3, 16, 5), ("agent", 1, 14, 5)]),
        (EnvKind::SimpleWorldComm, &[("leadadversary", 1, 34, 20), ("adversary", 3, 34, 5), ("agent", 2, 28, 5)]),
        (EnvKind::CollectTreasure, &[("collector", 6, 86, 5), ("deposit", 2, 84, 5)]),
    ];
    for (kind, groups) in expected {
        let agents = groups.iter().map(|g| g.1).sum();
        for continuous in [false, true] {
            let params = EnvParams { continuous, ..EnvParams::new(3, agents) };
            let mut env = kind.build(&ctx, &params).unwrap();
            let spec = env.spec().clone();
            let obs = env.reset(1).unwrap().obs;
            assert_eq!(spec.groups.len(), groups.len(), "{kind}");
            for ((group, &(name, count, obs_dim, actions)), o) in spec.groups.iter().zip(groups).zip(&obs) {
                assert_eq!((group.name.as_str(), group.agents, group.obs_dim), (name, count, obs_dim), "{kind}");
                assert_eq!(o.dims(), [3, count, obs_dim], "{kind} {name}");
                // Continuous: 5 movement components then the words; discrete 5·words + move.
                let width = if continuous { group.action.width() } else { actions };
                let want = if continuous { continuous_width(actions) } else { actions };
                assert_eq!(width, want, "{kind} {name}");
            }
        }
        // The wrong population is refused by name.
        let err = kind.build(&ctx, &EnvParams::new(3, agents + 1)).err().unwrap().to_string();
        assert!(err.contains("agents") && err.contains(&agents.to_string()), "{kind}: {err}");
    }
}

/// The continuous width of a discrete space of `n`: movers 5 (+ words), speakers their words.
fn continuous_width(n: usize) -> usize {
    match n {
        5 => 5,
        20 => 9,
        50 => 15,
        words => words,
    }
}

/// The speaker cannot move and its word is what the listener hears; the listener cannot speak.
#[test]
fn speaker_is_fixed_and_its_word_reaches_the_listener() {
    let ctx = GpuContext::shared().unwrap();
    let mut env = shoal::env::SimpleSpeakerListenerConfig(shoal::env::mpe::fixed::MpeOptions::new(3)).build(&ctx).unwrap();
    env.reset(4).unwrap();
    let before = env.read_state().unwrap();
    for word in [2, 0, 1] {
        let speaker = Actions::Discrete(ctx.upload_i32(&[word, word, word], [3, 1]).unwrap());
        let listener = Actions::Discrete(ctx.upload_i32(&[4, 4, 4], [3, 1]).unwrap());
        let step = env.step(&[speaker, listener]).unwrap();
        let heard = ctx.read_f32(step.obs[1].clone()).unwrap();
        for e in 0..3 {
            let words = &heard[e * 11 + 8..e * 11 + 11];
            let expect: Vec<f32> = (0..3).map(|k| if k == word as usize { 1.0 } else { 0.0 }).collect();
            assert_eq!(words, expect.as_slice(), "env {e} heard {words:?} for word {word}");
        }
    }
    let after = env.read_state().unwrap();
    // Speaker (agent 0) where it was, listener (agent 1) moved up (action 4: +y) and silent.
    for e in 0..3 {
        assert_eq!(after.agent_pos[e * 4..e * 4 + 2], before.agent_pos[e * 4..e * 4 + 2]);
        assert!(after.agent_pos[e * 4 + 3] > before.agent_pos[e * 4 + 3] + 0.1);
        assert_eq!(after.agent_comm[e * 6 + 3..e * 6 + 6], [0.0, 0.0, 0.0]);
    }
}

/// One Actions per group, each of its group's shape and kind; values out of a group's space are
/// counted as invalid (the speaker has 3 words: 3 is out, 4 is in for the listener).
#[test]
fn actions_are_checked_per_group() {
    let ctx = GpuContext::shared().unwrap();
    let mut env = EnvKind::SimpleSpeakerListener.build(&ctx, &EnvParams::new(2, 2)).unwrap();
    env.reset(1).unwrap();
    let one = |v: i32| Actions::Discrete(ctx.upload_i32(&[v, v], [2, 1]).unwrap());
    let err = env.step(&[one(0)]).unwrap_err().to_string();
    assert!(err.contains("speaker, listener"), "{err}");
    let wide = Actions::Discrete(ctx.upload_i32(&[0, 0, 0, 0], [2, 2]).unwrap());
    let err = env.step(&[wide, one(0)]).unwrap_err().to_string();
    assert!(err.contains("actions"), "{err}");
    let continuous = Actions::Continuous(ctx.upload_f32(&[0.0; 6], [2, 1, 3]).unwrap());
    let err = env.step(&[continuous, one(0)]).unwrap_err().to_string();
    assert!(err.contains("speaker") && err.contains("discrete"), "{err}");
    env.step(&[one(3), one(4)]).unwrap();
    env.step(&[one(2), one(5)]).unwrap();
    assert_eq!(env.episode_stats().unwrap().invalid_actions, 4.0);
}
