//! Criterion bench of one batched simple_spread step (device-side random actions + env step),
//! synchronised: each sample queues `iters` steps and waits for the device to finish them.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shoal::bench::ThroughputRig;
use shoal::{GpuContext, SimpleSpreadConfig};

fn simple_spread_step(c: &mut Criterion) {
    let ctx = GpuContext::shared().expect("a GPU adapter (install mesa-vulkan-drivers)");
    let mut group = c.benchmark_group("simple_spread_step");
    group.measurement_time(Duration::from_secs(5)).sample_size(20);
    for envs in [1024usize, 16_384] {
        let mut rig = ThroughputRig::simple_spread(&ctx, SimpleSpreadConfig::new(envs), 0).unwrap();
        rig.run(20).unwrap();
        rig.sync().unwrap();
        group.throughput(Throughput::Elements(envs as u64));
        group.bench_function(format!("{envs}_envs"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                rig.run(iters as usize).unwrap();
                rig.sync().unwrap();
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, simple_spread_step);
criterion_main!(benches);
