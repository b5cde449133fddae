//! The env registry: every registered env benches and renders through the CLI — at random with
//! its own action spaces, and from a checkpoint of a run on it — and takes PettingZoo's spelling
//! of its name wherever the CLI takes an env. Nothing here names an env's constructor: a new
//! env in the registry is covered by these tests without an edit.

mod common;

use common::{decode_gif, run_shoal as shoal, scratch_dir};
use shoal::env::{EnvKind, Scale};
use shoal::train::{new_learner, TrainConfig};
use shoal::GpuContext;

/// The smallest size of an env the CLI accepts, as (flag, value).
fn small_size(kind: EnvKind) -> (&'static str, String) {
    match kind.entry().scale {
        Scale::Agents { default, .. } => ("--agents", default.min(12).to_string()),
        Scale::LatticeSide { .. } => ("--size", "8".into()),
        Scale::MapSide { .. } => ("--size", "12".into()),
    }
}

#[test]
fn every_registered_env_benches_under_both_spellings() {
    let dir = scratch_dir("registry-bench");
    for &kind in EnvKind::all() {
        let (flag, size) = small_size(kind);
        let json = dir.join(format!("{kind}.json"));
        // PettingZoo's spelling (`simple_spread`), as configs write it.
        let (ok, text) = shoal(&["bench", "--env", kind.name(), "--envs", "2", flag, &size, "--steps", "3", "--warmup", "1", "--json", json.to_str().unwrap()]);
        assert!(ok, "{kind}: {text}");
        let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(rows[0]["env"], kind.name(), "{kind}");
        assert!(rows[0]["env_steps_per_s"].as_f64().unwrap() > 0.0, "{kind}");
        // clap's kebab-case spelling.
        let kebab = kind.name().replace('_', "-");
        let (ok, text) = shoal(&["bench", "--env", &kebab, "--envs", "1", flag, &size, "--steps", "2", "--warmup", "1"]);
        assert!(ok, "{kebab}: {text}");
    }
    // The wrong size flag for an env is named, not ignored.
    let (ok, text) = shoal(&["bench", "--env", "ising", "--agents", "64", "--steps", "2"]);
    assert!(!ok && text.contains("--size") && !text.contains("panicked"), "{text}");
}

#[test]
fn every_registered_env_renders_at_random() {
    let dir = scratch_dir("registry-render");
    let ctx = GpuContext::shared().unwrap();
    for &kind in EnvKind::all() {
        let (flag, size) = small_size(kind);
        let gif = dir.join(format!("{kind}.gif"));
        let (ok, text) = shoal(&["render", "--env", kind.name(), "--random", flag, &size, "--width", "120", "--height", "140", "--out", gif.to_str().unwrap()]);
        assert!(ok, "{kind}: {text}");
        let frames = decode_gif(&std::fs::read(&gif).unwrap());
        // One frame per step of the episode: its time limit, or fewer where it ends early (Battle).
        let params = shoal::env::EnvParams { max_cycles: kind.entry().render_cycles, ..kind.entry().scale.params(1, size.parse().unwrap()) };
        let limit = kind.build(&ctx, &params).unwrap().spec().max_cycles;
        assert!((1..=limit).contains(&frames.len()), "{kind}: {} frames, episodes of {limit}", frames.len());
        assert!(text.contains(&format!("{} frames", frames.len())), "{kind}: {text}");
        assert!(frames.iter().all(|f| (f.0, f.1) == (120, 140)), "{kind}: frame size");
        assert_ne!(frames[0].2, frames[frames.len() - 1].2, "{kind}: nothing moved");
    }
}

/// A tiny run of each algorithm family an env trains with, checkpointed after one update.
fn tiny_run(kind: EnvKind) -> TrainConfig {
    let algo = kind.entry().algos[0];
    let base = TrainConfig { env: kind, algo, ..common::tiny_train_config(algo) };
    match kind.entry().scale {
        Scale::Agents { default, .. } => TrainConfig { agents: default.min(16), max_cycles: 12, ..base },
        Scale::LatticeSide { .. } => TrainConfig { agents: 64, envs: 2, max_cycles: 12, temperature: 1.0, ..base },
        scale @ Scale::MapSide { .. } => TrainConfig { map_size: 12, agents: scale.params(1, 12).agents, envs: 2, max_cycles: 12, ..base },
    }
}

#[test]
fn every_registered_env_trains_evaluates_and_renders_from_a_checkpoint() {
    let dir = scratch_dir("registry-checkpoint");
    let ctx = GpuContext::shared().unwrap();
    for &kind in EnvKind::all() {
        let run = dir.join(kind.name());
        let mut learner = new_learner(ctx.clone(), tiny_run(kind)).unwrap();
        learner.update().unwrap();
        learner.save_checkpoint(&run.join("checkpoint")).unwrap();
        let gif = dir.join(format!("{kind}.gif"));
        let (ok, text) = shoal(&["render", "--env", kind.name(), "--checkpoint", run.to_str().unwrap(), "--width", "120", "--height", "140", "--out", gif.to_str().unwrap()]);
        assert!(ok, "{kind}: {text}");
        let frames = decode_gif(&std::fs::read(&gif).unwrap()).len();
        assert!((1..=12).contains(&frames), "{kind}: {frames} frames for episodes of 12 steps");
        // A checkpoint rendered as another env is refused by name.
        let other = EnvKind::all().iter().copied().find(|&k| k != kind).unwrap();
        let (ok, text) = shoal(&["render", "--env", other.name(), "--checkpoint", run.to_str().unwrap(), "--out", gif.to_str().unwrap()]);
        assert!(!ok && text.contains(&format!("is a {kind} run")) && !text.contains("panicked"), "{kind}: {text}");
    }
}

#[test]
fn train_takes_pettingzoo_names_in_flags_and_configs() {
    let dir = scratch_dir("registry-names");
    let toml = dir.join("run.toml");
    std::fs::write(&toml, "env = \"swarm\"\nalgo = \"mfac\"\nagents = 64\nenvs = 4\n").unwrap();
    let config = TrainConfig::from_toml_file(&toml).unwrap();
    assert_eq!(config.env, EnvKind::Swarm);
    for spelling in ["simple_spread", "simple-spread"] {
        let parsed: TrainConfig = toml::from_str(&format!("env = \"{spelling}\"")).unwrap();
        assert_eq!(parsed.env, EnvKind::SimpleSpread, "{spelling}");
    }
    // Written back in PettingZoo's spelling, as earlier checkpoints have it.
    assert!(toml::to_string(&TrainConfig::default()).unwrap().contains("env = \"simple_spread\""));
    // `--env` alone picks the env's own size, and its own algorithm where the default
    // (simple_spread's MAPPO) does not apply: the only complaint left is the key set to fail last.
    for &kind in EnvKind::all() {
        let (ok, text) = shoal(&["train", "--env", kind.name(), "--set", "num_minibatches=100000000", "--out", dir.join("never").to_str().unwrap()]);
        assert!(!ok && text.contains("num_minibatches") && !text.contains("panicked"), "{kind}: {text}");
    }
    assert!(!dir.join("never").exists(), "a rejected run wrote its directory");
    // An algorithm the env does not train with is refused with the ones it does.
    let err = TrainConfig { env: EnvKind::Swarm, ..TrainConfig::default() }.validate().unwrap_err().to_string();
    assert!(err.contains("mappo") && err.contains("mfac or ippo"), "{err}");
}

#[test]
fn every_example_config_parses_and_validates() {
    let mut seen = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let config = TrainConfig::from_toml_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            config.validate().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 7, "{seen} example configs");
}
