//! Episodes of a fixed length that every env of a batch runs in step (`ising`, `swarm`).
//!
//! When episodes end only by time limit and all envs reset together, the host knows at which
//! step they end without reading anything back. [`LockstepEpisodes`] keeps the kernels' clock —
//! `[step in episode, episode, seed lo, seed hi, command, 0, 0, 0]` as a small device tensor —
//! and advances it with tensor adds of constants uploaded once, so a step moves no data. It also
//! folds per-agent running returns into per-env episode statistics at each episode end, on the
//! device, and reduces them to an [`EpisodeStats`] on request (one small read).

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{Int, Tensor};

use super::{Actions, EpisodeStats, StepOutput};
use crate::error::{Result, ShoalError};
use crate::gpu::reduce::sum_all;
use crate::gpu::{float_tensor, int_buffer, GpuContext};

const CLOCK_WIDTH: usize = 8;
/// The `command` word of the clock during a reset launch.
pub(crate) const COMMAND_RESET: i32 = 1;

/// The clock and episode statistics of a lockstep batch.
pub(crate) struct LockstepEpisodes {
    ctx: Arc<GpuContext>,
    n_envs: usize,
    max_cycles: usize,
    clock: Tensor<1, Int>,
    tick: Tensor<1, Int>,
    wrap: Tensor<1, Int>,
    clear_command: Tensor<1, Int>,
    /// Per env, over completed episodes: Σ return, Σ return².
    return_sum: Tensor<1>,
    return_sq_sum: Tensor<1>,
    /// Completed episodes per env since the statistics were cleared.
    episodes: usize,
    /// Steps into the current episode; `None` before the first reset.
    step: Option<usize>,
}

impl LockstepEpisodes {
    pub(crate) fn new(ctx: Arc<GpuContext>, n_envs: usize, max_cycles: usize) -> Result<LockstepEpisodes> {
        let word = |i: usize, v: i32| {
            let mut w = vec![0i32; CLOCK_WIDTH];
            w[i] = v;
            w
        };
        let mut wrap = word(0, -(max_cycles as i32 - 1));
        wrap[1] = 1;
        let device = ctx.device().clone();
        Ok(LockstepEpisodes {
            clock: Tensor::zeros([CLOCK_WIDTH], &device),
            tick: ctx.upload_i32(&word(0, 1), [CLOCK_WIDTH])?,
            wrap: ctx.upload_i32(&wrap, [CLOCK_WIDTH])?,
            clear_command: ctx.upload_i32(&word(4, -COMMAND_RESET), [CLOCK_WIDTH])?,
            return_sum: Tensor::zeros([n_envs], &device),
            return_sq_sum: Tensor::zeros([n_envs], &device),
            episodes: 0,
            step: None,
            n_envs,
            max_cycles,
            ctx,
        })
    }

    /// The clock buffer to bind.
    pub(crate) fn clock(&self) -> Result<CubeTensor> {
        int_buffer(self.clock.clone())
    }

    /// Sets the clock to step 0 of episode 0 of `seed` with the reset command (one small upload);
    /// launch the reset, then call [`LockstepEpisodes::reset_done`].
    pub(crate) fn begin_reset(&mut self, seed: u64) -> Result<()> {
        let mut clock = vec![0i32; CLOCK_WIDTH];
        clock[2] = seed as u32 as i32;
        clock[3] = (seed >> 32) as u32 as i32;
        clock[4] = COMMAND_RESET;
        self.clock = self.ctx.upload_i32(&clock, [CLOCK_WIDTH])?;
        Ok(())
    }

    /// Clears the reset command and the statistics.
    pub(crate) fn reset_done(&mut self) {
        self.clock = self.clock.clone() + self.clear_command.clone();
        self.step = Some(0);
        self.clear();
    }

    /// Fails unless the batch has been reset.
    pub(crate) fn ensure_started(&self) -> Result<usize> {
        self.step.ok_or_else(|| ShoalError::config("step", "before reset", "call reset(seed) before the first step"))
    }

    /// Whether the step about to be launched ends the episode.
    pub(crate) fn ending(&self) -> bool {
        self.step.is_none_or(|s| s + 1 >= self.max_cycles)
    }

    /// After the launches of a step: folds the completed returns in if the episode ended, and
    /// advances the clock. `agent_acc` is the envs' `[envs, agents, 2]` accumulator (running
    /// return, invalid actions), which holds whole episodes' returns at an episode's last step.
    pub(crate) fn advance(&mut self, agent_acc: &CubeTensor) {
        if self.ending() {
            let episode_return = column(agent_acc, 0).mean_dim(1).squeeze_dim(1);
            self.return_sum = self.return_sum.clone() + episode_return.clone();
            self.return_sq_sum = self.return_sq_sum.clone() + episode_return.powi_scalar(2);
            self.episodes += 1;
            self.clock = self.clock.clone() + self.wrap.clone();
            self.step = Some(0);
        } else {
            self.clock = self.clock.clone() + self.tick.clone();
            self.step = self.step.map(|s| s + 1);
        }
    }

    /// Mean and std of completed episode returns, and the invalid actions counted in `agent_acc`.
    pub(crate) fn stats(&self, agent_acc: &CubeTensor) -> Result<EpisodeStats> {
        let sums = Tensor::cat(
            vec![sum_all(self.return_sum.clone()), sum_all(self.return_sq_sum.clone()), sum_all(column(agent_acc, 1).flatten(0, 1))],
            0,
        );
        let sums = self.ctx.read_f32(sums)?;
        let episodes = (self.episodes * self.n_envs) as f64;
        let mean = sums[0] as f64 / episodes;
        Ok(EpisodeStats {
            episodes,
            mean_return: mean,
            std_return: (sums[1] as f64 / episodes - mean * mean).max(0.0).sqrt(),
            mean_length: if self.episodes > 0 { self.max_cycles as f64 } else { f64::NAN },
            invalid_actions: sums[2] as f64,
        })
    }

    /// The clock and statistics on the host (for checkpoints): counters (the clock's 8 words,
    /// then step in episode and completed episodes) and statistics (Σ return, then Σ return²).
    pub(crate) fn snapshot(&self) -> Result<(Vec<u32>, Vec<f32>)> {
        let mut counters: Vec<u32> = self.ctx.read_i32(self.clock.clone())?.into_iter().map(|w| w as u32).collect();
        counters.push(self.ensure_started()? as u32);
        counters.push(self.episodes as u32);
        let stats = self.ctx.read_f32(Tensor::cat(vec![self.return_sum.clone(), self.return_sq_sum.clone()], 0))?;
        Ok((counters, stats))
    }

    /// Puts back what [`LockstepEpisodes::snapshot`] returned.
    pub(crate) fn restore(&mut self, counters: &[u32], stats: &[f32]) -> Result<()> {
        ShoalError::ensure_len("snapshot counters", counters.len(), &[CLOCK_WIDTH + 2])?;
        ShoalError::ensure_len("snapshot statistics", stats.len(), &[2, self.n_envs])?;
        let clock: Vec<i32> = counters[..CLOCK_WIDTH].iter().map(|&w| w as i32).collect();
        self.clock = self.ctx.upload_i32(&clock, [CLOCK_WIDTH])?;
        self.step = Some(counters[CLOCK_WIDTH] as usize);
        self.episodes = counters[CLOCK_WIDTH + 1] as usize;
        self.return_sum = self.ctx.upload_f32(&stats[..self.n_envs], [self.n_envs])?;
        self.return_sq_sum = self.ctx.upload_f32(&stats[self.n_envs..], [self.n_envs])?;
        Ok(())
    }

    /// Forgets completed episodes.
    pub(crate) fn clear(&mut self) {
        let device = self.ctx.device();
        self.return_sum = Tensor::zeros([self.n_envs], device);
        self.return_sq_sum = Tensor::zeros([self.n_envs], device);
        self.episodes = 0;
    }
}

/// Column `c` of an `[envs, agents, 2]` accumulator, `[envs, agents]`.
fn column(agent_acc: &CubeTensor, c: usize) -> Tensor<2> {
    let acc = float_tensor::<3>(agent_acc.clone());
    let [envs, agents, _] = acc.dims();
    acc.slice([0..envs, 0..agents, c..c + 1]).reshape([envs, agents])
}

/// The one discrete actions tensor of a single-group env, checked against `[envs, agents]`.
pub(crate) fn single_discrete(actions: &[Actions], what: &'static str, envs: usize, agents: usize) -> Result<CubeTensor> {
    let [Actions::Discrete(a)] = actions else {
        return Err(ShoalError::Shape { what, expected: "one Discrete actions tensor [envs, agents]".into(), got: format!("{} action tensor(s) or a continuous one", actions.len()) });
    };
    ShoalError::ensure_dims(what, &a.dims(), &[envs, agents])?;
    int_buffer(a.clone())
}

/// The output buffers one step of a lockstep env's kernels writes: observations
/// `[envs, agents, obs_dim]`, rewards `[envs, agents]`, flags `[2, envs]` (done, then truncated).
pub(crate) struct StepBuffers {
    pub(crate) obs: CubeTensor,
    pub(crate) reward: CubeTensor,
    pub(crate) flags: CubeTensor,
}

impl StepBuffers {
    /// Fresh (uninitialised) buffers for one step.
    pub(crate) fn new(ctx: &GpuContext, envs: usize, agents: usize, obs_dim: usize) -> StepBuffers {
        use burn::tensor::DType;
        StepBuffers {
            obs: ctx.empty(&[envs, agents, obs_dim], DType::F32),
            reward: ctx.empty(&[envs, agents], DType::F32),
            flags: ctx.empty(&[2, envs], DType::F32),
        }
    }

    /// The step's outputs.
    pub(crate) fn into_output(self, envs: usize) -> StepOutput {
        step_output(self.obs, self.reward, self.flags, envs)
    }
}

/// A step's outputs from its kernel-written buffers: observations `[envs, agents, obs_dim]`,
/// rewards `[envs, agents]` and flags `[2, envs]` (done, then truncated).
pub(crate) fn step_output(obs: CubeTensor, reward: CubeTensor, flags: CubeTensor, envs: usize) -> StepOutput {
    let flags = float_tensor::<2>(flags);
    StepOutput {
        obs: vec![float_tensor(obs)],
        reward: float_tensor(reward),
        done: flags.clone().slice([0..1, 0..envs]).reshape([envs]),
        truncated: flags.slice([1..2, 0..envs]).reshape([envs]),
        terminal_obs: None,
        legal_actions: None,
    }
}
