//! Crash safety of `shoal train`: a run killed with SIGKILL at random points — during start-up,
//! updates and checkpoint writes (widened with `SHOAL_CHECKPOINT_DELAY_MS`) — always resumes with
//! `--resume`, and ends with exactly the parameters of a run that was never interrupted.
//!
//! `SHOAL_CRASH_KILLS` sets the number of kills (default 50; README's Guarantees has a longer run).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use common::scratch_dir;
use rand::{Rng, SeedableRng};
use shoal::train::{load_model, ActorCritic};
use shoal::GpuContext;

const CONFIG: &str = "env = \"simple_spread\"\nalgo = \"mappo\"\nenvs = 16\nrollout_steps = 10\ntotal_env_steps = 1600\nupdate_epochs = 2\nnum_minibatches = 2\nhidden = 16\nseed = 11\ncheckpoint_every = 1\n";

fn train(args: &[&str], delay_ms: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_shoal"))
        .arg("train")
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env("SHOAL_CHECKPOINT_DELAY_MS", delay_ms.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn parameters(model: &ActorCritic) -> Vec<Vec<f32>> {
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.val().flatten(0, D - 1));
        }
    }
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    let ctx = GpuContext::shared().unwrap();
    collect.0.into_iter().map(|t| ctx.read_f32(t).unwrap()).collect()
}

#[test]
fn killed_runs_always_resume_and_end_like_an_uninterrupted_run() {
    let kills_wanted: usize = std::env::var("SHOAL_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let dir = scratch_dir("crash");
    let config = dir.join("run.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let (config, reference, victim) = (config.to_str().unwrap(), dir.join("reference"), dir.join("victim"));

    let out = train(&["--config", config, "--out", reference.to_str().unwrap()], 0).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let ctx = GpuContext::shared().unwrap();
    let (_, expected) = load_model(&reference.join("checkpoint"), &ctx).unwrap();
    let expected = parameters(&expected);
    let rows = |d: &std::path::Path| std::fs::read_to_string(d.join("metrics.csv")).unwrap().lines().map(|l| l.split(',').take(2).collect::<Vec<_>>().join(",")).collect::<Vec<_>>();

    // Runs of the same config, each killed until it is allowed to finish, until enough kills.
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let (mut kills, mut inside_writes, mut restarts, mut runs) = (0, 0, 0, 0);
    let started = Instant::now();
    while kills < kills_wanted {
        let (mut fresh, mut had_checkpoint) = (true, false);
        let run_kills = kills_wanted.min(kills + 20);
        loop {
            let victim_s = victim.to_str().unwrap();
            let args: Vec<&str> = if fresh { vec!["--config", config, "--out", victim_s, "--force"] } else { vec!["--resume", victim_s] };
            let mut child = train(&args, 120);
            let deadline = Instant::now() + Duration::from_millis(rng.random_range(200..3000));
            let finished = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break Some(status);
                }
                if kills < run_kills && Instant::now() >= deadline {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            if let Some(status) = finished {
                let stderr = child.wait_with_output().unwrap().stderr;
                assert!(status.success(), "attempt after {kills} kills failed: {}", String::from_utf8_lossy(&stderr));
                break;
            }
            child.kill().unwrap();
            child.wait().unwrap();
            kills += 1;
            let entries: Vec<String> = std::fs::read_dir(&victim).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
            if entries.iter().any(|e| e.starts_with("checkpoint.tmp-")) {
                inside_writes += 1;
            }
            // A run killed before its first checkpoint was complete has nothing to resume: it
            // starts again. Once a checkpoint existed, one must always be found.
            let located = shoal::train::locate_checkpoint(&victim).is_ok();
            assert!(located || !had_checkpoint, "kill {kills} lost the run: no complete checkpoint left in {entries:?}");
            had_checkpoint |= located;
            fresh = !located;
            restarts += fresh as usize;
            assert!(started.elapsed() < Duration::from_secs(1800), "the kill test ran for 30 minutes");
        }
        runs += 1;
        let (_, got) = load_model(&victim.join("checkpoint"), &ctx).unwrap();
        assert_eq!(parameters(&got), expected, "run {runs} ended with other parameters than the uninterrupted run");
        assert_eq!(rows(&victim), rows(&reference), "run {runs}: metrics.csv does not hold one row per update");
    }
    eprintln!("{kills} kills over {runs} runs ({inside_writes} inside checkpoint writes, {restarts} before the first checkpoint): every resume succeeded and every run ended with the uninterrupted run's parameters");
    assert!(inside_writes > 0, "no kill landed inside a checkpoint write");
}
