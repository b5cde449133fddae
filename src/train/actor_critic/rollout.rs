//! What every PPO learner does around its own inputs: keep the rollout's per-step log-probs,
//! values, rewards and done flags, turn them into advantages and returns (GAE, one kernel), and
//! walk shuffled minibatches over the epochs. The trainer (`trainer.rs`) and the two-player game
//! learner (`population/selfplay.rs`) store their inputs beside a [`Rollout`] and share both.

use burn::tensor::{Int, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::gae::gae;
use crate::error::Result;
use crate::gpu::reduce::sum_all;
use crate::gpu::GpuContext;

/// The per-step tensors of a rollout, each `[batch]` per step.
#[derive(Default)]
pub struct Rollout {
    log_probs: Vec<Tensor<1>>,
    values: Vec<Tensor<1>>,
    rewards: Vec<Tensor<1>>,
    dones: Vec<Tensor<1>>,
}

/// A rollout flattened over time: `[steps · batch]` each, step-major.
pub struct RolloutBatch {
    /// Log-probability of each action under the rollout's policy.
    pub old_log_probs: Tensor<1>,
    /// The critic's value at each step (for value clipping).
    pub old_values: Tensor<1>,
    /// GAE advantages.
    pub advantages: Tensor<1>,
    /// Value targets (advantages + values).
    pub returns: Tensor<1>,
}

impl Rollout {
    /// Books one step: the actions' log-probs, the critic's values, rewards and done flags.
    pub fn push(&mut self, log_prob: Tensor<1>, value: Tensor<1>, reward: Tensor<1>, done: Tensor<1>) {
        self.log_probs_and_values(log_prob, value);
        self.rewards_and_dones(reward, done);
    }

    /// Books the policy's half of a step (the env's half comes after the env steps).
    pub fn log_probs_and_values(&mut self, log_prob: Tensor<1>, value: Tensor<1>) {
        self.log_probs.push(log_prob);
        self.values.push(value);
    }

    /// Books the env's half of a step.
    pub fn rewards_and_dones(&mut self, reward: Tensor<1>, done: Tensor<1>) {
        self.rewards.push(reward);
        self.dones.push(done);
    }

    /// Sums over the rollout of the rewards booked (before any bootstrap the caller added) and
    /// of the done flags (episodes that ended), `[1]` each, on the device. Only learners that
    /// report them ask: the trainer reads the env's own episode statistics instead.
    pub fn totals(&self) -> (Tensor<1>, Tensor<1>) {
        (sum_all(Tensor::cat(self.rewards.clone(), 0)), sum_all(Tensor::cat(self.dones.clone(), 0)))
    }

    /// Advantages and returns by GAE(γ, λ) from the value after the last step, flattened.
    pub fn finish(self, ctx: &GpuContext, last_value: Tensor<1>, gamma: f32, lambda: f32) -> Result<RolloutBatch> {
        let values = Tensor::stack::<2>(self.values, 0);
        let rewards = Tensor::stack::<2>(self.rewards, 0);
        let dones = Tensor::stack::<2>(self.dones, 0);
        let [steps, batch] = values.dims();
        let samples = steps * batch;
        let (advantages, returns) = gae(ctx, rewards, values.clone(), dones, last_value, gamma, lambda)?;
        Ok(RolloutBatch {
            old_log_probs: Tensor::cat(self.log_probs, 0),
            old_values: values.reshape([samples]),
            advantages: advantages.reshape([samples]),
            returns: returns.reshape([samples]),
        })
    }
}

/// How one update walks its samples: `epochs` passes of `minibatches` minibatches over `rows`
/// rows of `row_width` consecutive samples each (a (step, env) row of agents kept together and in
/// order, so per-agent networks find their agent every `row_width`-th sample).
#[derive(Debug, Clone, Copy)]
pub struct Minibatches {
    /// Passes over the rollout.
    pub epochs: usize,
    /// Minibatches per pass.
    pub minibatches: usize,
    /// Rows shuffled as units.
    pub rows: usize,
    /// Samples per row.
    pub row_width: usize,
    /// Run seed.
    pub seed: u64,
    /// Update index (the order of each epoch is keyed by (seed, update, epoch): reproducible and
    /// resumable without saving generator state).
    pub update: usize,
}

impl Minibatches {
    /// Calls `step(minibatch, indices)` for every minibatch of every epoch (`minibatch` counts
    /// within the epoch; 0 right after the epoch's order was uploaded), indices
    /// `[samples / minibatches]` on the device (one upload per epoch).
    pub fn run(&self, ctx: &GpuContext, mut step: impl FnMut(usize, Tensor<1, Int>) -> Result<()>) -> Result<()> {
        let samples = self.rows * self.row_width;
        let size = (self.rows / self.minibatches) * self.row_width;
        for epoch in 0..self.epochs {
            let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed ^ ((self.update as u64) << 20) ^ ((epoch as u64) << 8));
            let mut rows: Vec<i32> = (0..self.rows as i32).collect();
            rows.shuffle(&mut rng);
            let width = self.row_width as i32;
            let order: Vec<i32> = rows.iter().flat_map(|&r| (0..width).map(move |a| r * width + a)).collect();
            let order = ctx.upload_i32(&order, [samples])?;
            for mb in 0..self.minibatches {
                step(mb, order.clone().slice([mb * size..(mb + 1) * size]))?;
            }
        }
        Ok(())
    }
}
