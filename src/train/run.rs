//! Picks the learner a run's configuration asks for.

use std::sync::Arc;

use super::actor_critic::coma::ComaTrainer;
use super::actor_critic::trainer::Trainer;
use super::algo::Algo;
use super::checkpoint::{CheckpointState, Learner};
use super::config::TrainConfig;
use super::mean_field::mfq::MfqTrainer;
use super::off_policy::{IqlTrainer, MaddpgTrainer};
use crate::error::Result;
use crate::gpu::GpuContext;

/// A fresh run of the learner `config` asks for.
pub fn new_learner(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<Box<dyn Learner>> {
    Ok(match config.algo {
        Algo::Mfq if config.tabular_mfq() => Box::new(MfqTrainer::new(ctx, config)?),
        Algo::Iql | Algo::Vdn | Algo::Mfq => Box::new(IqlTrainer::new(ctx, config)?),
        Algo::Maddpg | Algo::Ddpg => Box::new(MaddpgTrainer::new(ctx, config)?),
        Algo::Coma => Box::new(ComaTrainer::new(ctx, config)?),
        _ => Box::new(Trainer::new(ctx, config)?),
    })
}

/// Resumes the run in a checkpoint, whichever learner wrote it.
pub fn resume_learner(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<Box<dyn Learner>> {
    let config = CheckpointState::read(dir)?.config;
    Ok(match config.algo {
        Algo::Mfq if config.tabular_mfq() => Box::new(MfqTrainer::resume(ctx, dir)?),
        Algo::Iql | Algo::Vdn | Algo::Mfq => Box::new(IqlTrainer::resume(ctx, dir)?),
        Algo::Maddpg | Algo::Ddpg => Box::new(MaddpgTrainer::resume(ctx, dir)?),
        Algo::Coma => Box::new(ComaTrainer::resume(ctx, dir)?),
        _ => Box::new(Trainer::resume(ctx, dir)?),
    })
}

