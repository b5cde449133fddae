//! The README's example: 4,096 simple_spread envs driven by a device-side random policy, with
//! the episode statistics read back at the end (the only transfer).
//!
//! `cargo run --release --example random_rollout`

use shoal::env::{BatchedEnv, RandomActions};
use shoal::SimpleSpreadConfig;

fn main() -> shoal::Result<()> {
    let mut env = SimpleSpreadConfig::new(4096).init()?; // 4,096 envs × 3 agents
    let mut policy = RandomActions::new(env.context().clone(), &env.spec().groups[0], 4096, 0)?;
    let first = env.reset(7)?; // obs[0]: [4096, 3, 18] tensor
    println!("observations: {:?}", first.obs[0].dims());
    for _ in 0..100 {
        let out = env.step(&[policy.sample()])?; // one kernel launch, no transfer
        // out.obs[0], out.reward [4096, 3], out.done [4096], out.truncated [4096]: burn tensors
        let _ = out;
    }
    let before = env.context().transfers().snapshot();
    let stats = env.episode_stats()?; // a handful of scalars read back
    let read = env.context().transfers().snapshot() - before;
    println!("{stats:?}");
    println!("read back {} bytes in {} transfer(s)", read.download_bytes, read.downloads);
    Ok(())
}
