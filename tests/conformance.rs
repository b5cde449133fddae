//! simple_spread against PettingZoo's MPE: every recorded trajectory, through the library and
//! through `shoal replay --check`, plus trajectories with settings the golden file lacks,
//! recorded by an independent float64 implementation of the spec.

mod common;

use std::process::Command;

use common::{scratch_dir, ReferenceSpread, SplitMix};
use shoal::replay::{replay, TrajectoryFile};
use shoal::GpuContext;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/simple_spread.jsonl");
const TOLERANCE: f64 = 1e-4;

#[test]
fn every_pettingzoo_trajectory_matches_within_1e4() {
    let ctx = GpuContext::shared().unwrap();
    let file = TrajectoryFile::read(GOLDEN).unwrap();
    let (ours, report) = replay(&ctx, &file).unwrap();
    assert_eq!(report.trajectories, 20);
    assert_eq!(report.steps, 20 * 25);
    assert_eq!(ours.len(), 20);
    for field in ["init_obs", "obs", "rew", "agent_pos", "agent_vel"] {
        let err = report.max_abs_error[field];
        assert!(err <= TOLERANCE, "{field}: max abs error {err:e} > {TOLERANCE:e}");
    }
    assert_eq!(report.truncated_mismatches, 0);
    // The last step of every 25-step episode is a truncation, and our output says so.
    assert!(ours.iter().all(|t| t.steps.last().unwrap().truncated));
    assert!(ours.iter().all(|t| t.steps[..24].iter().all(|s| !s.truncated)));
}

#[test]
fn replay_cli_check_passes_and_writes_the_same_format() {
    let out = scratch_dir("replay-cli").join("ours.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["replay", "--env", "simple-spread", "--input", GOLDEN, "--check", "--output"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&status.stderr));
    assert!(stdout.contains("check passed"), "{stdout}");
    // Our output is itself a valid trajectory file, and checks against the golden one.
    let reread = TrajectoryFile::read(&out).unwrap();
    assert_eq!(reread.trajectories.len(), 20);
}

#[test]
fn replay_cli_check_fails_on_a_perturbed_reference() {
    let text = std::fs::read_to_string(GOLDEN).unwrap();
    let mut line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let rew = &mut line["steps"][10]["rew"][1];
    *rew = serde_json::json!(rew.as_f64().unwrap() + 1e-3);
    let path = scratch_dir("perturbed").join("perturbed.jsonl");
    std::fs::write(&path, format!("{line}\n")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["replay", "--check", "--input"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("check FAILED"), "{stdout}");
    assert!(stdout.contains("rew"), "{stdout}");
}

/// Trajectories with other agent counts, reward mixes, time limits and action types, recorded
/// by the float64 reference in tests/common, starting from overlapping agents so that contact
/// forces and collision penalties are exercised.
#[test]
fn unseen_settings_are_honoured() {
    let mut rng = SplitMix(7);
    let mut lines = Vec::new();
    let settings = [(2, 0.0, 9, false), (4, 0.3, 12, false), (5, 1.0, 25, true), (3, 0.75, 1, true), (4, 0.3, 12, false)];
    for (n, local_ratio, max_cycles, continuous) in settings {
        // Agents start in a 0.4-wide box: several pairs overlap (contact distance 0.3).
        let reference = ReferenceSpread {
            n,
            local_ratio,
            max_cycles,
            continuous,
            agent_pos: (0..n).map(|_| [rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)]).collect(),
            agent_vel: (0..n).map(|_| [rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)]).collect(),
            landmark_pos: (0..n).map(|_| [rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)]).collect(),
            steps: 0,
        };
        let actions: Vec<Vec<Vec<f64>>> = (0..max_cycles)
            .map(|_| {
                (0..n)
                    .map(|_| {
                        if continuous {
                            (0..5).map(|_| rng.uniform(0.0, 1.0) as f32 as f64).collect()
                        } else {
                            vec![(rng.next_u64() % 5) as f64]
                        }
                    })
                    .collect()
            })
            .collect();
        lines.push(reference.record(&actions).to_string());
    }
    let path = scratch_dir("unseen").join("unseen.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let ctx = GpuContext::shared().unwrap();
    let file = TrajectoryFile::read(&path).unwrap();
    let (_, report) = replay(&ctx, &file).unwrap();
    assert_eq!(report.trajectories, settings.len());
    assert_eq!(report.steps, settings.iter().map(|s| s.2).sum::<usize>());
    assert!(report.passes(TOLERANCE), "{report:?}");
}
