//! The careless or hostile user: every input that once panicked, lost data or said the wrong
//! thing now gets a clear error naming what to change, and run directories survive it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{run_shoal as shoal, scratch_dir};

const TINY: &str = "envs = 8\nrollout_steps = 10\ntotal_env_steps = 240\nupdate_epochs = 1\nnum_minibatches = 2\nhidden = 16\nseed = 3\ncheckpoint_every = 1\n";

/// A finished tiny run in `dir/name`, its config file beside it.
fn tiny_run(dir: &Path, name: &str) -> PathBuf {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(&config, TINY).unwrap();
    let run = dir.join(name);
    let (ok, text) = shoal(&["train", "--config", config.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    assert!(ok, "{text}");
    run
}

fn refused(args: &[&str], names: &[&str]) {
    let (ok, text) = shoal(args);
    assert!(!ok, "{args:?} succeeded: {text}");
    assert!(!text.contains("panicked") && !text.contains("RUST_BACKTRACE"), "{args:?} panicked: {text}");
    for name in names {
        assert!(text.contains(name), "{args:?}: the error does not name `{name}`: {text}");
    }
}

#[test]
fn replay_checks_the_initial_observations() {
    let dir = scratch_dir("hostile-replay");
    let mut line: serde_json::Value = serde_json::from_str(include_str!("data/simple_spread.jsonl").lines().next().unwrap()).unwrap();
    line["init"]["obs"].as_array_mut().unwrap().truncate(1);
    let path = dir.join("short.jsonl");
    std::fs::write(&path, line.to_string()).unwrap();
    refused(&["replay", "--input", path.to_str().unwrap(), "--check"], &["init.obs", "short.jsonl:1"]);
}

#[test]
fn sizes_past_their_bounds_are_named_before_anything_runs() {
    let dir = scratch_dir("hostile-sizes");
    let out = dir.join("never");
    let out = out.to_str().unwrap();
    for (set, key) in [
        ("hidden=1000000000", "hidden"),
        ("layers=100000", "layers"),
        ("rollout_steps=100000000", "rollout_steps"),
        ("max_cycles=4294967295", "max_cycles"),
        ("total_env_steps=18446744073709551615", "total_env_steps"),
    ] {
        refused(&["train", "--set", set, "--out", out], &[key]);
    }
    // Products that overflow are named too.
    refused(&["train", "--set", "envs=4294967296", "--set", "rollout_steps=4294967296", "--out", out], &["envs"]);
    refused(&["train", "--set", "envs=16000000", "--set", "rollout_steps=100", "--out", out], &["rollout_steps", "2³⁰"]);
    // Within the bounds but past this adapter's buffers: named by the device check, not a panic.
    refused(&["train", "--set", "hidden=4096", "--set", "envs=65536", "--set", "rollout_steps=1000", "--out", out], &["rollout_steps", "per buffer"]);
    assert!(!Path::new(out).exists(), "a rejected run created its directory");
}

#[test]
fn an_existing_run_is_never_overwritten_by_accident() {
    let dir = scratch_dir("hostile-existing");
    let run = tiny_run(&dir, "run");
    let before: Vec<(String, Vec<u8>)> = ["config.toml", "metrics.csv", "checkpoint/state.json"].iter().map(|f| (f.to_string(), std::fs::read(run.join(f)).unwrap())).collect();
    let run_s = run.to_str().unwrap();
    // A run that cannot start leaves the earlier one as it was.
    refused(&["train", "--envs", "99999999999", "--out", run_s, "--force"], &["envs"]);
    // A run that could start refuses the directory without --force, and names the way out.
    refused(&["train", "--envs", "8", "--steps", "80", "--out", run_s], &["--resume", "--force"]);
    for (file, bytes) in &before {
        assert_eq!(&std::fs::read(run.join(file)).unwrap(), bytes, "{file} changed");
    }
    // `--resume DIR/checkpoint` means the run around it.
    let (ok, text) = shoal(&["train", "--resume", run.join("checkpoint").to_str().unwrap()]);
    assert!(ok, "{text}");
}

#[test]
fn a_second_writer_is_refused_while_the_first_runs() {
    let dir = scratch_dir("hostile-lock");
    let config = dir.join("long.toml");
    std::fs::write(&config, TINY.replace("total_env_steps = 240", "total_env_steps = 4000")).unwrap();
    let run = dir.join("run");
    let mut first = Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["train", "--config", config.to_str().unwrap(), "--out", run.to_str().unwrap()])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the first run's checkpoint of update 0: it holds the lock by then.
    let started = std::time::Instant::now();
    while !run.join("metrics.csv").exists() {
        assert!(started.elapsed().as_secs() < 120, "the first run never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = first.id().to_string();
    refused(&["train", "--resume", run.to_str().unwrap()], &["is writing this run directory", &pid]);
    refused(&["train", "--config", config.to_str().unwrap(), "--out", run.to_str().unwrap(), "--force"], &["is writing this run directory"]);
    first.kill().unwrap();
    first.wait().unwrap();
    // A dead writer's lock is no lock: the run resumes.
    let (ok, text) = shoal(&["train", "--resume", run.to_str().unwrap()]);
    assert!(ok, "{text}");
}

#[test]
fn damaged_checkpoints_are_named_and_crashed_writes_recovered() {
    let dir = scratch_dir("hostile-checkpoint");
    let run = tiny_run(&dir, "run");
    let checkpoint = run.join("checkpoint");
    let good = dir.join("good");
    copy_dir(&checkpoint, &good);

    // The kept previous checkpoint aside for now: with it, a damaged checkpoint is recovered.
    let old = dir.join("old");
    copy_dir(&run.join("checkpoint.old"), &old);
    std::fs::remove_dir_all(run.join("checkpoint.old")).unwrap();

    // A flipped byte in the weights: eval, render and resume all refuse, naming the file, and
    // resume writes nothing over it.
    let mut model = std::fs::read(good.join("model.bpk")).unwrap();
    let middle = model.len() / 2;
    model[middle] ^= 0x40;
    std::fs::write(checkpoint.join("model.bpk"), &model).unwrap();
    let run_s = run.to_str().unwrap();
    refused(&["eval", "--checkpoint", run_s, "--episodes", "2"], &["model.bpk", "corrupt"]);
    refused(&["render", "--checkpoint", run_s, "--out", dir.join("x.gif").to_str().unwrap()], &["model.bpk"]);
    refused(&["train", "--resume", run_s], &["model.bpk"]);
    assert_eq!(std::fs::read(checkpoint.join("model.bpk")).unwrap(), model, "resume overwrote the damaged checkpoint");
    // With the previous checkpoint kept beside it, resume says so and continues from that one.
    copy_dir(&old, &run.join("checkpoint.old"));
    let (ok, text) = shoal(&["train", "--resume", run_s]);
    assert!(ok && text.contains("checkpoint.old") && text.contains("model.bpk"), "{text}");

    // An env-state value edited to 1e30 (no previous checkpoint to fall back on).
    std::fs::remove_dir_all(run.join("checkpoint.old")).unwrap();
    copy_dir(&good, &checkpoint);
    let state = std::fs::read_to_string(good.join("state.json")).unwrap();
    let edited = state.replacen("\"state\":[", "\"state\":[1e30,", 1);
    assert_ne!(edited, state);
    std::fs::write(checkpoint.join("state.json"), edited).unwrap();
    refused(&["eval", "--checkpoint", run_s, "--episodes", "2"], &["state.json"]);

    // A crash between moving the old checkpoint aside and moving the new one in: no
    // `checkpoint/`, two complete copies beside it. Resume finds the newer one.
    std::fs::remove_dir_all(&checkpoint).unwrap();
    copy_dir(&good, &run.join("checkpoint.old"));
    copy_dir(&good, &run.join("checkpoint.tmp-999999"));
    let (ok, text) = shoal(&["train", "--resume", run_s]);
    assert!(ok && text.contains("checkpoint.tmp-999999"), "{text}");
    assert!(checkpoint.join("manifest.json").is_file());
}

#[test]
fn a_metrics_file_cut_by_a_crash_is_repaired_on_resume() {
    let dir = scratch_dir("hostile-metrics");
    let run = tiny_run(&dir, "run");
    let csv = run.join("metrics.csv");
    let full = std::fs::read_to_string(&csv).unwrap();
    // A partial last row (what a crash mid-write leaves) and a lost trailing newline.
    for cut in [full.len() - 7, full.len() - 1] {
        std::fs::write(&csv, &full[..cut]).unwrap();
        let (ok, text) = shoal(&["train", "--resume", run.to_str().unwrap()]);
        assert!(ok, "{text}");
        let repaired = std::fs::read_to_string(&csv).unwrap();
        assert!(repaired.ends_with('\n') && repaired.lines().skip(1).all(|l| l.split(',').count() == 12), "{repaired}");
    }
}

#[test]
fn poor_messages_now_say_what_to_change() {
    let dir = scratch_dir("hostile-messages");
    refused(&["bench", "--env", "swarm", "--agents", "100000000", "--steps", "1"], &["not even one env"]);
    refused(&["psro", "--game", "1e308,0;0,1", "--iterations", "1", "--out", dir.join("p").to_str().unwrap()], &["payoff", "rescale"]);
    refused(&["psro", "--game", "rps", "--iterations", "1", "--eval-steps", "0", "--out", dir.join("p").to_str().unwrap()], &["eval_steps"]);
    refused(&["psro", "--game", "rps", "--iterations", "1", "--min-gain", "NaN", "--out", dir.join("p").to_str().unwrap()], &["min_gain"]);
    let ising = dir.join("ising.toml");
    std::fs::write(&ising, "env = \"ising\"\nalgo = \"mfq\"\nagents = 64\ngamma = 1.0\n").unwrap();
    refused(&["train", "--config", ising.to_str().unwrap(), "--out", dir.join("i").to_str().unwrap()], &["gamma"]);
    let run = tiny_run(&dir, "spread");
    refused(&["render", "--env", "ising", "--checkpoint", run.to_str().unwrap(), "--out", dir.join("x.gif").to_str().unwrap()], &["is a simple_spread run", "--env simple_spread"]);
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn psro_and_league_checkpoints_are_recovered_after_a_crashed_write() {
    let dir = scratch_dir("hostile-psro");
    let out = dir.join("psro");
    let out_s = out.to_str().unwrap();
    let args = ["psro", "--game", "rps", "--meta", "uniform", "--oracle", "exact", "--iterations", "1", "--eval-envs", "64", "--out", out_s];
    let (ok, text) = shoal(&args);
    assert!(ok, "{text}");
    // A crash between moving the checkpoint aside and moving the new one in.
    std::fs::rename(out.join("checkpoint-uniform"), out.join("checkpoint-uniform.old")).unwrap();
    let mut resume = args.to_vec();
    resume[8] = "2";
    resume.push("--resume");
    let (ok, text) = shoal(&resume);
    assert!(ok && text.contains("checkpoint-uniform.old"), "{text}");
    let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("psro.json")).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().last().unwrap()["iteration"], 2, "{rows}");
}
