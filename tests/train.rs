//! PPO training: bad configs are rejected by name, a checkpointed-and-resumed run equals an
//! uninterrupted one, an update reads back only scalars, and a short run learns.

mod common;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use common::scratch_dir;
use shoal::train::{Algo, TrainConfig, Trainer};
use shoal::{GpuContext, ShoalError};

fn tiny(algo: Algo) -> TrainConfig {
    TrainConfig {
        algo,
        envs: 8,
        rollout_steps: 10,
        total_env_steps: 3 * 80,
        update_epochs: 2,
        num_minibatches: 2,
        hidden: 16,
        seed: 5,
        checkpoint_every: 0,
        ..TrainConfig::default()
    }
}

/// Every parameter of the model, flattened, read back.
fn parameters(trainer: &Trainer) -> Vec<f32> {
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val().without_autodiff();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    let mut collect = Collect(Vec::new());
    trainer.model().visit(&mut collect);
    GpuContext::shared().unwrap().read_f32(Tensor::cat(collect.0, 0)).unwrap()
}

#[test]
fn bad_config_values_are_rejected_by_name() {
    let dir = scratch_dir("bad-config");
    let cases = [
        ("gamma = 1.5\n", "gamma"),
        ("envs = 0\n", "envs"),
        ("lr = -0.1\n", "lr"),
        ("num_minibatches = 0\n", "num_minibatches"),
        ("max_grad_norm = 0.0\n", "max_grad_norm"),
    ];
    for (text, field) in cases {
        let path = dir.join("c.toml");
        std::fs::write(&path, text).unwrap();
        match TrainConfig::from_toml_file(&path) {
            Err(ShoalError::InvalidConfig { field: f, .. }) => assert_eq!(f, field, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    // A typo is an error naming the key and the line, not a silently ignored setting.
    let path = dir.join("typo.toml");
    std::fs::write(&path, "lr = 0.001\ngama = 0.9\n").unwrap();
    match TrainConfig::from_toml_file(&path) {
        Err(e @ ShoalError::BadInput { line: 2, .. }) => assert!(e.to_string().contains("gama"), "{e}"),
        other => panic!("{other:?}"),
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["train", "--algo", "ippo", "--envs", "0", "--out"])
        .arg(dir.join("run"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`envs` = 0"), "{stderr}");
}

#[test]
fn resuming_a_checkpoint_reproduces_the_uninterrupted_run() {
    let ctx = GpuContext::shared().unwrap();
    for algo in [Algo::Ippo, Algo::Mappo] {
        let run = || {
            let mut trainer = Trainer::new(ctx.clone(), tiny(algo)).unwrap();
            let mut metrics = Vec::new();
            while !trainer.finished() {
                metrics.push(trainer.update().unwrap());
            }
            (trainer, metrics)
        };
        let (straight, straight_metrics) = run();
        let (again, _) = run();
        assert_eq!(parameters(&straight), parameters(&again), "{}: same seed, other parameters", algo.name());

        let dir = scratch_dir(&format!("resume-{}", algo.name())).join("checkpoint");
        let mut first = Trainer::new(ctx.clone(), tiny(algo)).unwrap();
        first.update().unwrap();
        first.save_checkpoint(&dir).unwrap();
        drop(first);
        let mut resumed = Trainer::resume(ctx.clone(), &dir).unwrap();
        assert_eq!(resumed.progress().update, 1);
        let mut resumed_metrics = Vec::new();
        while !resumed.finished() {
            resumed_metrics.push(resumed.update().unwrap());
        }

        let (a, b) = (parameters(&straight), parameters(&resumed));
        assert_eq!(a.len(), b.len());
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "{}: parameters differ by {worst}", algo.name());
        let last = (straight_metrics.last().unwrap(), resumed_metrics.last().unwrap());
        assert_eq!(last.0.env_steps, last.1.env_steps);
        assert!((last.0.mean_episode_return - last.1.mean_episode_return).abs() < 1e-4);
    }
}

#[test]
fn a_short_run_improves_the_return() {
    let ctx = GpuContext::shared().unwrap();
    let config = TrainConfig {
        algo: Algo::Ippo,
        envs: 64,
        total_env_steps: 64 * 25 * 24,
        lr: 1e-3,
        anneal_lr: false,
        seed: 1,
        checkpoint_every: 0,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(ctx, config).unwrap();
    let mut returns = Vec::new();
    while !trainer.finished() {
        returns.push(trainer.update().unwrap().mean_episode_return);
    }
    let first: f64 = returns[..4].iter().sum::<f64>() / 4.0;
    let last: f64 = returns[returns.len() - 4..].iter().sum::<f64>() / 4.0;
    // A random policy scores about −26.3; a learning one gains well over a point within 38k steps.
    assert!(last > first + 1.5, "returns did not improve: first {first:.2}, last {last:.2} ({returns:?})");
}
