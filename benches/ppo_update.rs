//! Criterion bench of one PPO update (rollout of 25 steps on 256 envs × 3 agents, GAE, 4 epochs ×
//! 4 minibatches of Adam) with the default MAPPO configuration.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use shoal::train::{Algo, TrainConfig, Trainer};
use shoal::GpuContext;

fn ppo_update(c: &mut Criterion) {
    let ctx = GpuContext::shared().expect("a GPU adapter (install mesa-vulkan-drivers)");
    let config = TrainConfig { algo: Algo::Mappo, envs: 256, total_env_steps: u64::MAX / 2, checkpoint_every: 0, ..TrainConfig::default() };
    let mut trainer = Trainer::new(ctx, config).unwrap();
    trainer.update().unwrap(); // kernels compiled
    let mut group = c.benchmark_group("ppo_update");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    group.bench_function("mappo_256_envs_x_25_steps", |b| b.iter(|| trainer.update().unwrap()));
    group.finish();
}

criterion_group!(benches, ppo_update);
criterion_main!(benches);
