//! The population a learner plays against, and the learner's own table.
//!
//! * [`PolicyPool`]: frozen policy snapshots on the device, one `[policies·states, actions]`
//!   log-probability table. Any env of a batch can play any member: an opponent's action is a row
//!   gather at `member·states + information state`, so one dispatch serves a batch in which
//!   every env faces a different opponent.
//! * [`TabularPolicy`]: the learner, a softmax policy and a value per information state (the
//!   observations of these games are one-hot information states, so a linear layer on them *is*
//!   a table), trained by PPO with burn's autodiff.

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};

use crate::env::{ExactGame, PolicyTable};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Log-probability given to illegal actions (exp underflows to exactly 0).
pub(crate) const ILLEGAL: f32 = -1.0e9;

/// `[states, actions]` 0/1 legal mask of a game's information states (the waiting state and
/// other non-decisions allow action 0 only).
pub fn legal_table(game: &dyn ExactGame) -> Vec<f32> {
    let (s, n) = (game.n_infostates(), game.n_actions());
    let mut legal = vec![0.0f32; s * n];
    for state in 0..s {
        legal[state * n] = 1.0;
    }
    for seat in 0..2 {
        for (state, k) in game.decisions(seat) {
            for a in 0..k {
                legal[state * n + a] = 1.0;
            }
        }
    }
    legal
}

/// Frozen policies on the device.
pub struct PolicyPool {
    ctx: Arc<GpuContext>,
    states: usize,
    pub(crate) actions: usize,
    /// `[members·states, actions]` log-probabilities (illegal = −1e9).
    log_probs: Option<Tensor<2>>,
    /// The same tables on the host, for exact evaluation.
    tables: Vec<PolicyTable>,
}

impl PolicyPool {
    /// An empty pool for `game`.
    pub fn new(ctx: Arc<GpuContext>, game: &dyn ExactGame) -> PolicyPool {
        PolicyPool { ctx, states: game.n_infostates(), actions: game.n_actions(), log_probs: None, tables: Vec::new() }
    }

    /// Members so far.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether the pool has no member.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The members' tables (host copies).
    pub fn tables(&self) -> &[PolicyTable] {
        &self.tables
    }

    /// Adds a member from its `[states, actions]` log-probabilities on the device (one small read
    /// for the host copy).
    pub fn push(&mut self, log_probs: Tensor<2>) -> Result<()> {
        ShoalError::ensure_dims("policy table", &log_probs.dims(), &[self.states, self.actions])?;
        let log_probs = log_probs.without_autodiff().detach();
        let host = self.ctx.read_f32(log_probs.clone())?;
        self.tables.push(PolicyTable { n_actions: self.actions, probs: host.iter().map(|&l| (l as f64).exp()).collect() });
        self.log_probs = Some(match self.log_probs.take() {
            Some(all) => Tensor::cat(vec![all, log_probs], 0),
            None => log_probs,
        });
        Ok(())
    }

    /// Removes the newest member.
    pub fn pop(&mut self) {
        if self.tables.pop().is_some() {
            let rows = self.tables.len() * self.states;
            self.log_probs = self.log_probs.take().filter(|_| rows > 0).map(|t| t.slice([0..rows, 0..self.actions]));
        }
    }

    /// Adds a member given as a host table (e.g. an exact best response).
    pub fn push_table(&mut self, table: &PolicyTable) -> Result<()> {
        let logs: Vec<f32> = table.probs.iter().map(|&p| if p > 0.0 { (p.ln() as f32).max(ILLEGAL) } else { ILLEGAL }).collect();
        let tensor = self.ctx.upload_f32(&logs, [self.states, self.actions])?;
        self.push(tensor)
    }

    /// Every member's log-probabilities, row-major `[members·states, actions]` (for checkpoints).
    pub fn read_log_probs(&self) -> Result<Vec<f32>> {
        match &self.log_probs {
            Some(t) => self.ctx.read_f32(t.clone()),
            None => Ok(Vec::new()),
        }
    }

    /// Rebuilds a pool from [`PolicyPool::read_log_probs`].
    pub fn from_log_probs(ctx: Arc<GpuContext>, game: &dyn ExactGame, log_probs: &[f32]) -> Result<PolicyPool> {
        let mut pool = PolicyPool::new(ctx, game);
        let width = pool.states * pool.actions;
        if !log_probs.len().is_multiple_of(width) {
            return Err(ShoalError::config("pool", log_probs.len(), format!("not a whole number of {width}-entry tables")));
        }
        for member in log_probs.chunks(width) {
            let t = pool.ctx.upload_f32(member, [pool.states, pool.actions])?;
            pool.push(t)?;
        }
        Ok(pool)
    }

    /// Samples actions `[E]`: env e plays member `member[e]` in information state `state[e]`,
    /// restricted to `legal [E, A]`, with Gumbel noise from `uniform [E, A]`.
    pub fn act(&self, member: Tensor<1, Int>, state: Tensor<1, Int>, legal: Tensor<2>, uniform: Tensor<2>) -> Result<Tensor<1, Int>> {
        let table = self.log_probs.as_ref().ok_or_else(|| ShoalError::config("pool", "empty", "add a policy before playing the pool"))?;
        let rows = member * self.states as i64 + state;
        let logits = table.clone().select(0, rows) + (legal - 1.0) * -ILLEGAL;
        let [envs, _] = logits.dims();
        Ok(gumbel_argmax(logits, uniform).reshape([envs]))
    }
}

/// `argmax(logits + Gumbel(uniform))`: a categorical sample, `[E, 1]`.
pub(crate) fn gumbel_argmax(logits: Tensor<2>, uniform: Tensor<2>) -> Tensor<2, Int> {
    let gumbel = uniform.clamp(1e-7, 1.0 - 1e-7).log().neg().log().neg();
    (logits + gumbel).argmax(1)
}

/// A tabular softmax policy and value function over information states.
#[derive(Module, Debug)]
pub struct TabularPolicy {
    /// `[states, actions]` logits.
    logits: Param<Tensor<2>>,
    /// `[states, 1]` values.
    values: Param<Tensor<2>>,
}

impl TabularPolicy {
    /// The uniform policy with zero values.
    pub fn new(states: usize, actions: usize, device: &Device) -> TabularPolicy {
        TabularPolicy {
            logits: Param::from_tensor(Tensor::zeros([states, actions], device)),
            values: Param::from_tensor(Tensor::zeros([states, 1], device)),
        }
    }

    /// Masked log-probabilities `[B, A]` in information states `state [B]`.
    pub fn log_probs(&self, state: Tensor<1, Int>, legal: Tensor<2>) -> Tensor<2> {
        log_softmax(self.logits.val().select(0, state) + (legal - 1.0) * -ILLEGAL, 1)
    }

    /// Values `[B]`.
    pub fn value(&self, state: Tensor<1, Int>) -> Tensor<1> {
        let [batch] = state.dims();
        self.values.val().select(0, state).reshape([batch])
    }

    /// The policy as a `[states, actions]` log-probability table, masked by `legal`.
    pub fn table(&self, legal: Tensor<2>) -> Tensor<2> {
        log_softmax(self.logits.val() + (legal - 1.0) * -ILLEGAL, 1)
    }
}

