//! Throughput measurement: env-steps per second of a batched env driven by device-side random
//! actions. Shared by `shoal bench` and the criterion benches so both time the same thing.
//!
//! Timing is synchronised: the clock starts after warm-up steps have completed on the device and
//! stops when the last timed step has completed (`GpuContext::sync`), so queued-but-unfinished
//! work is never counted as done. Each timed step is one action-sampling launch plus one env
//! launch; nothing is read back.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::env::{BatchedEnv, RandomActions, SimpleSpreadConfig};
use crate::error::Result;
use crate::gpu::GpuContext;

/// One line of `shoal bench` output (and of its `--json` file).
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// Environment name.
    pub env: String,
    /// Instances in the batch.
    pub envs: usize,
    /// Agents in each instance.
    pub agents_per_env: usize,
    /// Timed steps.
    pub steps: usize,
    /// Wall time of the timed steps.
    pub seconds: f64,
    /// `envs * steps / seconds`.
    pub env_steps_per_s: f64,
    /// `envs * agents_per_env * steps / seconds`.
    pub agent_steps_per_s: f64,
    /// The adapter that ran it.
    pub adapter: String,
    /// What was timed: `simulator` (env steps with device-side random actions) or `learner`
    /// (rollout with the policy + PPO update, `shoal bench --learner`).
    pub phase: String,
}

/// A batched env plus the random policy that drives it.
pub struct ThroughputRig {
    env: Box<dyn BatchedEnv>,
    policies: Vec<RandomActions>,
}

impl ThroughputRig {
    /// A simple_spread batch with a random policy, reset with `seed`.
    pub fn simple_spread(ctx: &Arc<GpuContext>, config: SimpleSpreadConfig, seed: u64) -> Result<Self> {
        let env = crate::env::SimpleSpread::new(ctx.clone(), config)?;
        Self::new(Box::new(env), seed)
    }

    /// Wraps any batched env.
    pub fn new(mut env: Box<dyn BatchedEnv>, seed: u64) -> Result<Self> {
        let spec = env.spec().clone();
        let policies = spec
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                RandomActions::new(env.context().clone(), group, spec.n_envs, seed ^ (0xA5A5 + g as u64))
            })
            .collect::<Result<Vec<_>>>()?;
        env.reset(seed)?;
        Ok(ThroughputRig { env, policies })
    }

    /// Queues `steps` env steps with fresh random actions (no synchronisation).
    pub fn run(&mut self, steps: usize) -> Result<()> {
        for _ in 0..steps {
            let actions: Vec<_> = self.policies.iter_mut().map(|p| p.sample()).collect();
            self.env.step(&actions)?;
        }
        Ok(())
    }

    /// Waits for every queued step to finish.
    pub fn sync(&self) -> Result<()> {
        self.env.context().sync()
    }

    /// The env being driven.
    pub fn env(&self) -> &dyn BatchedEnv {
        self.env.as_ref()
    }

    /// Warm up, then time `steps` steps, synchronised at both ends.
    pub fn measure(&mut self, warmup: usize, steps: usize) -> Result<BenchRow> {
        self.run(warmup)?;
        self.sync()?;
        let start = Instant::now();
        self.run(steps)?;
        self.sync()?;
        let seconds = start.elapsed().as_secs_f64();
        let spec = self.env.spec();
        let env_steps = (spec.n_envs * steps) as f64;
        Ok(BenchRow {
            env: spec.name.to_string(),
            envs: spec.n_envs,
            agents_per_env: spec.agents_per_env(),
            steps,
            seconds,
            env_steps_per_s: env_steps / seconds,
            agent_steps_per_s: env_steps * spec.agents_per_env() as f64 / seconds,
            adapter: self.env.context().adapter_name(),
            phase: "simulator".into(),
        })
    }
}
