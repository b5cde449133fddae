//! Criterion benches of the mean-field envs, synchronised like `simple_spread_step`: a swarm
//! step (random actions, motion, the neighbour grid, observations) at 10⁴ and 10⁵ agents in one
//! env, and an Ising step on 64 lattices of 64×64 sites.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shoal::bench::ThroughputRig;
use shoal::env::{BatchedEnv, Ising, IsingConfig, Swarm, SwarmConfig};
use shoal::GpuContext;

fn bench_env(c: &mut Criterion, group_name: &str, cases: Vec<(String, Box<dyn BatchedEnv>)>) {
    let mut group = c.benchmark_group(group_name);
    group.measurement_time(Duration::from_secs(5)).sample_size(10);
    for (name, env) in cases {
        let agents = (env.spec().n_envs * env.spec().agents_per_env()) as u64;
        let mut rig = ThroughputRig::new(env, 0).unwrap();
        rig.run(5).unwrap();
        rig.sync().unwrap();
        group.throughput(Throughput::Elements(agents));
        group.bench_function(name, |b| {
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

fn mean_field_steps(c: &mut Criterion) {
    let ctx = GpuContext::shared().expect("a GPU adapter (install mesa-vulkan-drivers)");
    let swarms: Vec<(String, Box<dyn BatchedEnv>)> = [10_000usize, 100_000]
        .into_iter()
        .map(|k| (format!("{k}_agents"), Box::new(Swarm::new(ctx.clone(), SwarmConfig::new(1).with_agents(k)).unwrap()) as Box<dyn BatchedEnv>))
        .collect();
    bench_env(c, "swarm_step", swarms);
    let lattices: Vec<(String, Box<dyn BatchedEnv>)> =
        vec![("64_lattices_64x64".into(), Box::new(Ising::new(ctx.clone(), IsingConfig::new(64).with_size(64)).unwrap()))];
    bench_env(c, "ising_step", lattices);
}

criterion_group!(benches, mean_field_steps);
criterion_main!(benches);
