//! Where an update's time goes: a clock that waits for the device at phase boundaries.
//!
//! Work is queued lazily, so timing a phase on the host alone measures only how long it took to
//! queue. With profiling on, [`PhaseClock::mark`] synchronises the device and books the time
//! since the previous mark to the phase that just ended. The syncs cost time of their own (one
//! per mark), so profiled updates run slower than plain ones: the table says where the time goes,
//! `shoal bench --learner` without `--profile` says how fast training runs.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::error::Result;
use crate::gpu::GpuContext;

/// Total time booked to one phase.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseTime {
    /// What ran (`rollout: policy`, `update: backward`, …).
    pub phase: &'static str,
    /// Seconds, summed over every mark of the phase.
    pub seconds: f64,
    /// How many times the phase ran.
    pub count: u64,
}

/// A phase clock; see the module doc.
pub struct PhaseClock {
    ctx: Arc<GpuContext>,
    last: Instant,
    phases: Vec<PhaseTime>,
}

impl PhaseClock {
    /// A clock starting now (after waiting for queued work).
    pub fn new(ctx: Arc<GpuContext>) -> Result<PhaseClock> {
        ctx.sync()?;
        Ok(PhaseClock { ctx, last: Instant::now(), phases: Vec::new() })
    }

    /// Waits for the device and books the time since the last mark to `phase`.
    pub fn mark(&mut self, phase: &'static str) -> Result<()> {
        self.ctx.sync()?;
        let now = Instant::now();
        let seconds = (now - self.last).as_secs_f64();
        self.last = now;
        match self.phases.iter_mut().find(|p| p.phase == phase) {
            Some(p) => {
                p.seconds += seconds;
                p.count += 1;
            }
            None => self.phases.push(PhaseTime { phase, seconds, count: 1 }),
        }
        Ok(())
    }

    /// The phases in the order they first ran.
    pub fn phases(&self) -> &[PhaseTime] {
        &self.phases
    }
}

/// Marks `phase` on `clock` where profiling is on; nothing (and no device sync) where it is off.
pub fn mark(clock: &mut Option<PhaseClock>, phase: &'static str) -> Result<()> {
    match clock {
        Some(clock) => clock.mark(phase),
        None => Ok(()),
    }
}
