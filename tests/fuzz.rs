//! Every parser of user files, fuzzed (proptest): the replay reader (and the replay itself, for
//! what it accepts), the training TOML and `--set` overrides, the checkpoint loader, PSRO's
//! payoff-matrix parser, and road-network files (with the mean-field game built on them).
//! Inputs are valid files mutated — truncated, spliced, numbers swapped for
//! extremes, arrays cut short — plus arbitrary text. The property: an error or a valid result,
//! never a panic.
//!
//! Bounded in CI (`SHOAL_FUZZ_CASES`, default 128 per parser). A longer run keeps drawing fresh
//! cases for `SHOAL_FUZZ_SECONDS` per parser and prints how many it tried (README, Guarantees).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use shoal::train::{Algo, TrainConfig, Trainer};
use shoal::GpuContext;

const TRAJECTORY: &str = include_str!("data/simple_spread.jsonl");

/// Panics on any thread since the hook was installed: the runtime's device thread catches its
/// own panics and goes on, so a panic there would not fail the test by itself.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics_on_every_thread() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// Runs `check` on cases of `strategy`: `SHOAL_FUZZ_CASES` of them, or fresh batches until
/// `SHOAL_FUZZ_SECONDS` have passed, failing on a panic on any thread. Prints the number tried.
fn fuzz<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    count_panics_on_every_thread();
    let check = |value: S::Value| {
        let before = PANICS.load(Ordering::SeqCst);
        check(value)?;
        // Let queued device work run (a lazy upload would fail on the device thread).
        let _ = GpuContext::shared().map(|ctx| ctx.read_f32(burn::tensor::Tensor::<1>::zeros([1], ctx.device())));
        prop_assert_eq!(PANICS.load(Ordering::SeqCst), before, "a panic on another thread (the device's?): see the log above");
        Ok(())
    };
    let cases: u32 = std::env::var("SHOAL_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128);
    let seconds: u64 = std::env::var("SHOAL_FUZZ_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let started = Instant::now();
    let (mut tried, mut round) = (0u64, 0u64);
    loop {
        let config = Config { cases, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED ^ round), ..Config::default() };
        let mut runner = TestRunner::new(config);
        if let Err(e) = runner.run(&strategy, &check) {
            panic!("{name}: {e}");
        }
        tried += cases as u64;
        round += 1;
        if started.elapsed() >= Duration::from_secs(seconds) {
            break;
        }
    }
    eprintln!("{name}: {tried} inputs in {:.0} s, no panic", started.elapsed().as_secs_f64());
}

/// Numbers a careless or hostile file might hold.
fn extreme_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(serde_json::json!(0)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(1e308)),
        Just(serde_json::json!(-1e308)),
        Just(serde_json::json!(4294967295u64)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!(1e-320)),
        any::<i64>().prop_map(|v| serde_json::json!(v)),
        any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| serde_json::json!(v)),
        Just(Value::Null),
        Just(serde_json::json!("3")),
        Just(serde_json::json!([])),
    ]
}

/// Replaces the `k`-th value of a JSON tree (depth-first) with `new`, or cuts the `k`-th array short.
fn mutate(value: &mut Value, k: &mut usize, new: &Value, cut: bool) {
    if *k == 0 {
        if cut {
            if let Value::Array(items) = value {
                items.truncate(items.len() / 2);
            } else {
                *value = new.clone();
            }
        } else {
            *value = new.clone();
        }
        *k = usize::MAX;
        return;
    }
    *k -= 1;
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| if *k != usize::MAX { mutate(v, k, new, cut) }),
        Value::Object(map) => map.values_mut().for_each(|v| if *k != usize::MAX { mutate(v, k, new, cut) }),
        _ => {}
    }
}

/// A valid JSON document with a few values replaced, arrays cut, or its text spliced.
fn mutated_json(base: Value, nodes: usize) -> impl Strategy<Value = String> {
    let text = base.to_string();
    let len = text.len();
    prop_oneof![
        3 => prop::collection::vec((0..nodes, extreme_number(), any::<bool>()), 1..4).prop_map(move |edits| {
            let mut doc = base.clone();
            for (k, new, cut) in edits {
                mutate(&mut doc, &mut { k }, &new, cut);
            }
            doc.to_string()
        }),
        1 => (0..len, 0..len, ".{0,12}").prop_map(move |(a, b, insert)| {
            let (a, b) = (a.min(b), a.max(b));
            let (a, b) = (floor_char(&text, a), floor_char(&text, b));
            format!("{}{}{}", &text[..a], insert, &text[b..])
        }),
        1 => ".{0,200}",
    ]
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

#[test]
fn the_replay_reader_and_replay_never_panic() {
    let dir = common::scratch_dir("fuzz-replay");
    let ctx = GpuContext::shared().unwrap();
    let mut base: Value = serde_json::from_str(TRAJECTORY.lines().next().unwrap()).unwrap();
    // A short trajectory keeps each replay fast; the reader's checks do not depend on length.
    for key in ["actions", "steps"] {
        base[key].as_array_mut().unwrap().truncate(3);
    }
    let nodes = count_nodes(&base);
    fuzz("replay", mutated_json(base, nodes), |line| {
        let path = dir.join("t.jsonl");
        std::fs::write(&path, &line).unwrap();
        if let Ok(file) = shoal::replay::TrajectoryFile::read(&path) {
            let _ = shoal::replay::replay(&ctx, &file);
        }
        Ok(())
    });
}

#[test]
fn the_training_config_never_panics() {
    let dir = common::scratch_dir("fuzz-config");
    let keys: Vec<String> = toml::Table::try_from(TrainConfig::default()).unwrap().keys().cloned().collect();
    let value = prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("4294967296".to_string()),
        Just("9223372036854775807".to_string()),
        Just("true".to_string()),
        Just("\"swarm\"".to_string()),
        Just("\"battle\"".to_string()),
        Just("\"ising\"".to_string()),
        Just("\"mfq\"".to_string()),
        Just("[1, 2]".to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        "[a-z_\"]{0,10}",
    ];
    let keys_len = keys.len();
    let lines = prop::collection::vec((0..keys_len + 1, value), 0..8);
    fuzz("config", lines, |lines| {
        let text: String = lines.iter().map(|(k, v)| format!("{} = {v}\n", keys.get(*k).map_or("bogus", String::as_str))).collect();
        let path = dir.join("c.toml");
        std::fs::write(&path, &text).unwrap();
        if let Ok(config) = TrainConfig::from_toml_file(&path) {
            let _ = (config.updates(), config.steps_per_update());
        }
        let overrides: Vec<String> = lines.iter().map(|(k, v)| format!("{}={v}", keys.get(*k).map_or("bogus", String::as_str))).collect();
        if let Ok(config) = TrainConfig::default().with_overrides(&overrides) {
            let _ = config.updates();
        }
        Ok(())
    });
}

#[test]
fn the_checkpoint_loader_never_panics() {
    let dir = common::scratch_dir("fuzz-checkpoint");
    let ctx = GpuContext::shared().unwrap();
    let config = TrainConfig { envs: 2, rollout_steps: 5, total_env_steps: 10, hidden: 8, num_minibatches: 1, update_epochs: 1, ..TrainConfig::default() };
    let trainer = Trainer::new(ctx.clone(), TrainConfig { algo: Algo::Mappo, ..config }).unwrap();
    let good = dir.join("good");
    trainer.save_checkpoint(&good).unwrap();
    let state: Value = serde_json::from_slice(&std::fs::read(good.join("state.json")).unwrap()).unwrap();
    let model = std::fs::read(good.join("model.bpk")).unwrap();
    let nodes = count_nodes(&state);
    let case = (mutated_json(state, nodes), prop::collection::vec((0..model.len(), any::<u8>()), 0..3), any::<bool>());
    fuzz("checkpoint", case, |(state, flips, reseal)| {
        let bad = dir.join("bad");
        let _ = std::fs::remove_dir_all(&bad);
        std::fs::create_dir_all(&bad).unwrap();
        for file in ["optimizer.bpk", "manifest.json"] {
            std::fs::copy(good.join(file), bad.join(file)).unwrap();
        }
        let mut bytes = model.clone();
        for (i, b) in flips {
            bytes[i] = b;
        }
        std::fs::write(bad.join("model.bpk"), bytes).unwrap();
        std::fs::write(bad.join("state.json"), state).unwrap();
        if reseal {
            // Without the manifest the loader's own parsing is what stands between the bytes and
            // the run (a checkpoint from before manifests).
            std::fs::remove_file(bad.join("manifest.json")).unwrap();
        }
        if shoal::train::CheckpointState::read(&bad).is_ok() {
            let _ = shoal::train::load_model(&bad, &ctx);
            let _ = shoal::train::resume_learner(ctx.clone(), &bad);
        }
        Ok(())
    });
}

#[test]
fn the_payoff_matrix_parser_never_panics() {
    let number = prop_oneof![Just("1e308".to_string()), Just("-1e308".to_string()), Just("nan".to_string()), Just("".to_string()), any::<f64>().prop_map(|v| v.to_string()), (-3i32..4).prop_map(|v| v.to_string())];
    let matrix = prop::collection::vec(prop::collection::vec(number, 0..5), 0..5)
        .prop_map(|rows| rows.iter().map(|r| r.join(",")).collect::<Vec<_>>().join(";"));
    let text = prop_oneof![3 => matrix, 1 => ".{0,40}"];
    fuzz("payoff matrix", text, |text| {
        if let Ok(game) = shoal::train::psro::GameName::parse(&text) {
            let exact = game.exact();
            let uniform = shoal::env::PolicyTable::uniform(exact.as_ref());
            let _ = shoal::env::nash_conv(exact.as_ref(), &[(1.0, &uniform)]);
        }
        Ok(())
    });
}

#[test]
fn the_network_file_reader_never_panics() {
    use shoal::mfg::{MeanFieldGame, NetworkFile, RoutingGame};
    let base: Value = serde_json::from_str(include_str!("../examples/networks/braess.json")).unwrap();
    let nodes = count_nodes(&base);
    fuzz("network file", mutated_json(base, nodes), |text| {
        if let Ok(game) = NetworkFile::parse(&text, "fuzz.json").and_then(|file| RoutingGame::new(&file, None, None)) {
            // Whatever a file may say, solving on it ends (bounded states) without a panic.
            let uniform = shoal::mfg::uniform(&game);
            let dist = game.distribution(&uniform);
            let _ = game.evaluate(&dist, None);
        }
        Ok(())
    });
}
