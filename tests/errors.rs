//! Bad input gets a clear error naming what was wrong and what to do; nothing panics.

mod common;

use std::process::Command;

use common::scratch_dir;
use shoal::env::{Actions, BatchedEnv, SimpleSpreadConfig};
use shoal::replay::TrajectoryFile;
use shoal::{GpuContext, ShoalError};

fn shoal(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shoal")).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn no_gpu_adapter_says_how_to_install_the_software_driver() {
    // Hide every Vulkan driver and the EGL vendor library (OpenGL fallback): no adapter left.
    let out = Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["bench", "--envs", "1", "--steps", "1"])
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no GPU adapter found"), "{stderr}");
    assert!(stderr.contains("mesa-vulkan-drivers"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn zero_envs_and_bad_agent_counts_are_rejected() {
    for (config, field) in [
        (SimpleSpreadConfig::new(0), "envs"),
        (SimpleSpreadConfig::new(4).with_n_agents(0), "n_agents"),
        (SimpleSpreadConfig::new(4).with_n_agents(33), "n_agents"),
        (SimpleSpreadConfig::new(4).with_local_ratio(1.5), "local_ratio"),
        (SimpleSpreadConfig::new(4).with_max_cycles(0), "max_cycles"),
    ] {
        match config.init() {
            Err(ShoalError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            Err(other) => panic!("{field}: wrong error {other}"),
            Ok(_) => panic!("{field}: accepted {config:?}"),
        }
    }
    let (code, _, stderr) = shoal(&["bench", "--envs", "0", "--steps", "1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("`envs` = 0") && stderr.contains("at least 1"), "{stderr}");
}

#[test]
fn a_batch_over_the_device_buffer_limit_names_the_maximum() {
    let ctx = GpuContext::shared().unwrap();
    let limit = ctx.max_storage_bytes();
    // Observations take 3 agents × 18 floats × 4 bytes = 216 bytes per env.
    let too_many = (limit / 216 + 1) as usize;
    match SimpleSpreadConfig::new(too_many).init() {
        Err(ShoalError::BatchTooLarge { max_envs, .. }) => {
            assert_eq!(max_envs as u64, limit / 216);
            let message = SimpleSpreadConfig::new(too_many).init().err().unwrap().to_string();
            assert!(message.contains(&format!("use at most {max_envs} envs")), "{message}");
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("{too_many} envs accepted with a {limit}-byte buffer limit"),
    }
}

#[test]
fn host_actions_out_of_range_are_rejected_with_their_position() {
    let ctx = GpuContext::shared().unwrap();
    let env = SimpleSpreadConfig::new(2).init().unwrap();
    let group = &env.spec().groups[0];
    let mut actions = vec![0, 1, 2, 3, 4, 0];
    actions[4] = 5;
    let err = Actions::discrete_from_host(&ctx, group, 2, &actions).unwrap_err();
    assert!(matches!(err, ShoalError::InvalidAction { env: 1, agent: 1, .. }), "{err}");
    assert!(err.to_string().contains("0..5"), "{err}");
    assert!(Actions::discrete_from_host(&ctx, group, 2, &[-1, 0, 0, 0, 0, 0]).is_err());
    // Wrong length.
    assert!(matches!(
        Actions::discrete_from_host(&ctx, group, 2, &[0; 5]),
        Err(ShoalError::Shape { .. })
    ));

    let cont = SimpleSpreadConfig::new(1).with_continuous(true).init().unwrap();
    let group = &cont.spec().groups[0];
    let mut values = vec![0.5f32; 15];
    values[7] = 1.5;
    let err = Actions::continuous_from_host(&ctx, group, 1, &values).unwrap_err();
    assert!(matches!(err, ShoalError::InvalidAction { env: 0, agent: 1, .. }), "{err}");
    values[7] = f32::NAN;
    assert!(Actions::continuous_from_host(&ctx, group, 1, &values).is_err());
}

#[test]
fn tensor_actions_of_the_wrong_shape_or_kind_are_rejected() {
    let ctx = GpuContext::shared().unwrap();
    let mut env = SimpleSpreadConfig::new(4).init().unwrap();
    env.reset(0).unwrap();
    let wrong_shape = Actions::Discrete(ctx.upload_i32(&[0; 8], [4, 2]).unwrap());
    assert!(matches!(env.step(&[wrong_shape]), Err(ShoalError::Shape { .. })));
    let wrong_kind = Actions::Continuous(ctx.upload_f32(&[0.0; 60], [4, 3, 5]).unwrap());
    assert!(matches!(env.step(&[wrong_kind]), Err(ShoalError::InvalidConfig { .. })));
    assert!(matches!(env.step(&[]), Err(ShoalError::Shape { .. })));
}

#[test]
fn malformed_replay_files_name_the_line() {
    let dir = scratch_dir("malformed");
    let golden = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/simple_spread.jsonl")).unwrap();
    let good = golden.lines().next().unwrap();

    let cases = [
        (format!("{good}\n{{not json\n"), 2, "not a trajectory"),
        (format!("{good}\n{good}\n{}\n", good.replace("\"n_agents\": 3", "\"n_agents\": 4")), 3, "init.agent_pos"),
        (good.replace("\"actions\": [[1, 2, 4]", "\"actions\": [[1, 2, 9]"), 1, "actions[0]"),
        (good.replace("\"env\": \"simple_spread\"", "\"env\": \"simple_tag\""), 1, "simple_tag"),
        (String::new(), 0, "no trajectories"),
    ];
    for (i, (text, line, needle)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.jsonl"));
        std::fs::write(&path, text).unwrap();
        // Out-of-range actions are caught when the file is read... or when replayed.
        let err = match TrajectoryFile::read(&path) {
            Err(e) => e,
            Ok(file) => shoal::replay::replay(&GpuContext::shared().unwrap(), &file).err().expect("must fail"),
        };
        match &err {
            ShoalError::BadInput { line: l, message, .. } => {
                assert_eq!(l, line, "case {i}: {err}");
                assert!(err.to_string().contains(needle), "case {i}: {message}");
            }
            other => panic!("case {i}: wrong error {other}"),
        }
    }
    let (code, _, stderr) = shoal(&["replay", "--input", "/nonexistent/x.jsonl"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("/nonexistent/x.jsonl") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_cli_flags_are_reported_by_name() {
    let (code, _, stderr) = shoal(&["bench", "--envs", "ten"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--envs"), "{stderr}");
    let (code, _, stderr) = shoal(&["bench", "--env", "pong"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("simple-spread"), "{stderr}");
}
