//! Where does a simple_spread step's time go? Times the random-action kernel and the env kernel
//! separately at several batch sizes, then both as `shoal bench` runs them (synchronised, after
//! warm-up).
//!
//! `cargo run --release --example step_profile -- 16384`

use std::time::Instant;

use shoal::env::{BatchedEnv, RandomActions};
use shoal::{GpuContext, SimpleSpreadConfig};

fn main() -> shoal::Result<()> {
    let ctx = GpuContext::shared()?;
    println!("adapter: {}", ctx.adapter_name());
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1024, 16_384, 65_536] } else { sizes };
    let steps = 200;
    for envs in sizes {
        let mut env = SimpleSpreadConfig::new(envs).init()?;
        let mut policy = RandomActions::new(ctx.clone(), &env.spec().groups[0], envs, 0)?;
        env.reset(0)?;
        let fixed = policy.sample();
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
            policy.sample();
            Ok(())
        })?;
        let step_ms = time(&mut || env.step(std::slice::from_ref(&fixed)).map(|_| ()))?;
        let both_ms = time(&mut || {
            let actions = policy.sample();
            env.step(std::slice::from_ref(&actions)).map(|_| ())
        })?;
        println!(
            "{envs:>8} envs: sample {sample_ms:.3} ms, step {step_ms:.3} ms → {:.2} M env-steps/s (step alone); sample + step {both_ms:.3} ms → {:.2} M",
            envs as f64 / step_ms / 1e3,
            envs as f64 / both_ms / 1e3
        );
    }
    Ok(())
}
