//! No host↔device transfer inside `step`: observations, rewards, dones and actions stay on the
//! device; a PPO update reads back only scalars. The counter is process-wide, so the tests that
//! count take turns (and no test in this binary transfers without counting).

mod common;

use shoal::env::{BatchedEnv, RandomActions, SimpleSpreadConfig};
/// The transfer counter is process-wide: tests that count transfers take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

use shoal::train::{Algo, Trainer};
use shoal::GpuContext;

#[test]
fn stepping_moves_no_data_between_host_and_device() {
    let _serial = SERIAL.lock().unwrap();
    let ctx = GpuContext::shared().unwrap();
    for continuous in [false, true] {
        let config = SimpleSpreadConfig::new(1024).with_continuous(continuous).with_terminal_obs(true);
        let mut env = config.init().unwrap();
        let mut policy = RandomActions::new(ctx.clone(), &env.spec().groups[0], 1024, 1).unwrap();
        env.reset(0).unwrap();
        let before = ctx.transfers().snapshot();
        let mut outputs = Vec::new();
        for _ in 0..60 {
            let out = env.step(&[policy.sample()]).unwrap();
            // Feed the outputs through burn ops, as a learner would: still no transfer.
            outputs.push(out.obs[0].clone().mean() + out.reward.clone().sum() * out.done.clone().sum());
        }
        ctx.sync().unwrap();
        let during = ctx.transfers().snapshot() - before;
        assert_eq!(during.total(), 0, "continuous={continuous}: {during:?}");

        // The counter does see transfers: reading one scalar back counts one download.
        let value = ctx.read_f32(outputs.pop().unwrap()).unwrap();
        assert!(value[0].is_finite());
        let after = ctx.transfers().snapshot() - before;
        assert_eq!(after.downloads, 1);
        assert_eq!(after.download_bytes, 4);
    }
}

/// Every read or upload in the library goes through the counted helpers in src/gpu/transfer.rs.
#[test]
fn no_module_transfers_behind_the_counter() {
    let forbidden = ["into_data", "to_data", "from_data", "create_from_slice", "read_one", "into_vec", "from_floats", "from_ints"];
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("gpu/transfer.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for word in forbidden {
                    if text.contains(word) {
                        offenders.push(format!("{}: {word}", path.display()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "transfers outside src/gpu/transfer.rs: {offenders:?}");
}

#[test]
fn an_update_reads_back_only_scalars() {
    let _serial = SERIAL.lock().unwrap();
    let ctx = GpuContext::shared().unwrap();
    let config = common::tiny_train_config(Algo::Mappo);
    let mut trainer = Trainer::new(ctx.clone(), config.clone()).unwrap();
    trainer.update().unwrap(); // kernels compiled, pools warm
    let before = ctx.transfers().snapshot();
    trainer.update().unwrap();
    let during = ctx.transfers().snapshot() - before;
    // Two reads: the five loss terms, and the episode statistics (8 floats).
    assert_eq!(during.downloads, 2, "{during:?}");
    assert!(during.download_bytes <= (5 + 8) * 4, "{during:?}");
    // Uploads: one minibatch permutation per epoch, nothing per step.
    assert_eq!(during.uploads, config.update_epochs as u64, "{during:?}");
}

