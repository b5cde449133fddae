//! The host face (`shoal::host`, what the Python package wraps): PettingZoo-style seeding drawn
//! from NumPy's generator, whole episodes against the float64 reference, counted copies, and
//! refusals.

mod common;

use common::ReferenceSpread;
use shoal::env::{EnvKind, EnvParams, NumpyGenerator};
use shoal::host::{HostActions, HostBatch};

/// The transfer counter is the process's: tests that count copies run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn positions(values: Vec<f32>) -> Vec<[f64; 2]> {
    values.chunks(2).map(|p| [p[0] as f64, p[1] as f64]).collect()
}

#[test]
fn reference_seeding_plays_the_reference_episode() {
    let _serial = serial();
    let n = 3;
    let mut batch = HostBatch::new(EnvKind::SimpleSpread, EnvParams::new(1, n)).unwrap();
    assert!(batch.has_reference_seeding());
    let mut numpy = NumpyGenerator::new(42);
    // mpe2's reset_world: every agent, then every landmark, uniform(-1, 1, 2) each.
    let agent_pos = positions(numpy.uniform_f32(-1.0, 1.0, 2 * n));
    let landmark_pos = positions(numpy.uniform_f32(-1.0, 1.0, 2 * n));
    let mut reference = ReferenceSpread { n, local_ratio: 0.5, max_cycles: 25, continuous: false, agent_vel: vec![[0.0; 2]; n], agent_pos, landmark_pos, steps: 0 };
    let first = batch.reset_like_reference(Some(42), 0).unwrap();
    let close = |ours: &[f32], theirs: &[Vec<f64>], what: &str| {
        let theirs: Vec<f64> = theirs.iter().flatten().copied().collect();
        assert_eq!(ours.len(), theirs.len(), "{what}");
        for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((*a as f64 - b).abs() < 1e-4, "{what}[{k}]: {a} vs {b}");
        }
    };
    close(&first.obs[0], &reference.observe(), "reset");
    for step in 1..=25 {
        let actions: Vec<i32> = (0..n).map(|i| ((step * 7 + i * 3) % 5) as i32).collect();
        let ours = batch.step(&[HostActions::Discrete(actions.clone())]).unwrap();
        let (obs, reward, _) = reference.step(&actions.iter().map(|&a| vec![a as f64]).collect::<Vec<_>>());
        close(&ours.obs[0], &obs, &format!("step {step} obs"));
        close(&ours.reward, &[reward], &format!("step {step} reward"));
        assert_eq!(ours.truncated, vec![step == 25], "step {step}");
        assert_eq!(ours.terminated, vec![false]);
    }
}

#[test]
fn an_unseeded_reset_goes_on_in_the_stream_and_envs_draw_in_order() {
    let _serial = serial();
    let mut two = HostBatch::new(EnvKind::SimpleSpread, EnvParams::new(2, 3)).unwrap();
    let mut one = HostBatch::new(EnvKind::SimpleSpread, EnvParams::new(1, 3)).unwrap();
    let both = two.reset_like_reference(Some(7), 0).unwrap();
    // Env 1 of a batch draws what a lone env's second (unseeded) reset draws.
    let first = one.reset_like_reference(Some(7), 0).unwrap();
    let second = one.reset_like_reference(None, 0).unwrap();
    assert_eq!(both.obs[0], [first.obs[0].clone(), second.obs[0].clone()].concat());
    assert_ne!(first.obs[0], second.obs[0]);
    // A new seed starts a new stream.
    assert_eq!(one.reset_like_reference(Some(7), 0).unwrap().obs, first.obs);
}

#[test]
fn envs_without_reference_draws_refuse_and_say_what_to_do() {
    let _serial = serial();
    let mut batch = HostBatch::new(EnvKind::CollectTreasure, EnvParams::new(1, 8)).unwrap();
    assert!(!batch.has_reference_seeding());
    let err = batch.reset_like_reference(Some(1), 0).unwrap_err().to_string();
    assert!(err.contains("collect_treasure") && err.contains("shoal's own seeding"), "{err}");
}

#[test]
fn a_host_step_copies_what_it_says_and_a_device_rollout_nothing_per_step() {
    let _serial = serial();
    let mut batch = HostBatch::new(EnvKind::SimpleSpread, EnvParams::new(8, 3)).unwrap();
    batch.reset(3).unwrap();
    let before = batch.transfers();
    let out = batch.step(&[HostActions::Discrete(vec![1; 24])]).unwrap();
    let copies = batch.transfers() - before;
    assert_eq!((copies.uploads, copies.upload_bytes), (1, 24 * 4));
    // Next and final observations, rewards, both flags in one read.
    assert_eq!(copies.downloads, 4);
    assert_eq!(copies.download_bytes, (2 * 8 * 3 * 18 + 8 * 3 + 2 * 8) * 4);
    assert_eq!(out.obs, out.next_obs, "no episode ended");
    let before = batch.transfers();
    batch.run_random(100, 1).unwrap();
    assert_eq!((batch.transfers() - before).total(), 0);
    let stats = batch.episode_stats().unwrap();
    assert_eq!(stats.episodes, 8.0 * 4.0);
}

#[test]
fn bad_names_and_actions_are_refused() {
    let _serial = serial();
    let err = HostBatch::kind_named("simple_sprad").unwrap_err().to_string();
    assert!(err.contains("no such env") && err.contains("simple_spread"), "{err}");
    assert_eq!(HostBatch::kind_named("simple-spread").unwrap(), EnvKind::SimpleSpread);
    let mut batch = HostBatch::new(EnvKind::SimpleSpread, EnvParams::new(2, 3)).unwrap();
    batch.reset(0).unwrap();
    let err = batch.step(&[HostActions::Discrete(vec![0, 0, 0, 0, 9, 0])]).unwrap_err().to_string();
    assert!(err.contains("env 1, agent 1: 9"), "{err}");
    let err = batch.step(&[HostActions::Continuous(vec![0.0; 30])]).unwrap_err().to_string();
    assert!(err.contains("discrete"), "{err}");
    let err = batch.step(&[]).unwrap_err().to_string();
    assert!(err.contains("one array per agent group"), "{err}");
}
