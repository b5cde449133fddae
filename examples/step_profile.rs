//! Where does a step's time go? For one registered env (simple_spread unless named), times the
//! random-action kernels and the env step separately at several batch sizes, then both as
//! `shoal bench` runs them (synchronised, after warm-up). The gap between the sum and the
//! interleaved time is per-launch overhead.
//!
//! `cargo run --release --example step_profile -- 16384`
//! `cargo run --release --example step_profile -- simple_adversary 1024 16384`

use std::time::Instant;

use shoal::env::{Actions, EnvKind, RandomActions};
use shoal::{GpuContext, ShoalError};

fn main() -> shoal::Result<()> {
    let ctx = GpuContext::shared()?;
    println!("adapter: {}", ctx.adapter_name());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.iter().find(|a| a.parse::<usize>().is_err()).cloned().unwrap_or_else(|| "simple_spread".into());
    let kind = *EnvKind::all()
        .iter()
        .find(|k| k.to_string() == name)
        .ok_or_else(|| ShoalError::config("env", &name, "not a registered env (simple_spread, simple_adversary, battle, …)"))?;
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1024, 16_384, 65_536] } else { sizes };
    let steps = 200;
    for envs in sizes {
        let scale = kind.entry().scale;
        let mut env = kind.build(&ctx, &scale.params(envs, scale.default_size()))?;
        let mut policies: Vec<RandomActions> =
            env.spec().groups.iter().map(|group| RandomActions::new(ctx.clone(), group, envs, 0)).collect::<shoal::Result<_>>()?;
        env.reset(0)?;
        let fixed: Vec<Actions> = policies.iter_mut().map(|p| p.sample()).collect();
        let time = |f: &mut dyn FnMut() -> shoal::Result<()>| -> shoal::Result<f64> {
            for _ in 0..20 {
                f()?;
            }
            ctx.sync()?;
            let start = Instant::now();
            for _ in 0..steps {
                f()?;
            }
            ctx.sync()?;
            Ok(start.elapsed().as_secs_f64() / steps as f64 * 1e3)
        };
        let sample_ms = time(&mut || {
            policies.iter_mut().for_each(|p| drop(p.sample()));
            Ok(())
        })?;
        let step_ms = time(&mut || env.step(&fixed).map(|_| ()))?;
        let both_ms = time(&mut || {
            let actions: Vec<Actions> = policies.iter_mut().map(|p| p.sample()).collect();
            env.step(&actions).map(|_| ())
        })?;
        println!(
            "{kind} {envs:>8} envs: sample {sample_ms:.3} ms ({} groups), step {step_ms:.3} ms → {:.2} M env-steps/s (step alone); sample + step {both_ms:.3} ms → {:.2} M",
            policies.len(),
            envs as f64 / step_ms / 1e3,
            envs as f64 / both_ms / 1e3
        );
    }
    Ok(())
}
