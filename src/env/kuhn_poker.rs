//! `kuhn_poker`: Kuhn's three-card poker (1950), batched on the device
//! (`shaders/kuhn_poker.wgsl`), with its exact solution ([`KuhnPoker`] is an [`ExactGame`]).
//!
//! Deck J < Q < K, one card each, ante 1; seat 0 acts first; actions 0 = pass (check/fold),
//! 1 = bet (bet/call), one chip. The game value for seat 0 is −1/18 at every equilibrium.
//!
//! Information states (the one-hot observation, 13 wide): seat 0 deciding = `card·2 + {0: first
//! move, 1: after pass–bet}`; seat 1 deciding = `6 + card·2 + {0: after pass, 1: after bet}`;
//! 12 = waiting for the other seat (only "pass" is legal, and it is ignored).

use super::two_player::{ExactGame, GameKernel, PolicyTable};

/// The game kernel.
pub const KUHN_POKER_WGSL: &str = include_str!("../../shaders/kuhn_poker.wgsl");

/// The game value for seat 0 (Kuhn 1950).
pub const KUHN_VALUE: f64 = -1.0 / 18.0;

/// Information state: seat 0 with `card` (0 = J, 1 = Q, 2 = K) at its first move.
pub fn seat0_first(card: usize) -> usize {
    card * 2
}

/// Information state: seat 0 with `card` facing a bet after it passed.
pub fn seat0_after_pass_bet(card: usize) -> usize {
    card * 2 + 1
}

/// Information state: seat 1 with `card` after seat 0 passed.
pub fn seat1_after_pass(card: usize) -> usize {
    6 + card * 2
}

/// Information state: seat 1 with `card` facing seat 0's bet.
pub fn seat1_after_bet(card: usize) -> usize {
    6 + card * 2 + 1
}

/// Kuhn poker.
#[derive(Debug, Clone, Copy, Default)]
pub struct KuhnPoker;

impl KuhnPoker {
    /// A member of Kuhn's equilibrium family with parameter α ∈ [0, 1/3]: seat 0 bets J with
    /// probability α, never bets Q first, bets K with 3α, calls with Q with α + 1/3; seat 1 bets
    /// K and calls with K, calls with Q with 1/3, bets J after a pass with 1/3, never calls with J.
    pub fn equilibrium(alpha: f64) -> PolicyTable {
        let mut p = PolicyTable { n_actions: 2, probs: vec![0.0; 13 * 2] };
        let bet = |p: &mut PolicyTable, state: usize, prob: f64| p.set_row(state, &[1.0 - prob, prob]);
        bet(&mut p, seat0_first(0), alpha);
        bet(&mut p, seat0_first(1), 0.0);
        bet(&mut p, seat0_first(2), 3.0 * alpha);
        bet(&mut p, seat0_after_pass_bet(0), 0.0);
        bet(&mut p, seat0_after_pass_bet(1), alpha + 1.0 / 3.0);
        bet(&mut p, seat0_after_pass_bet(2), 1.0);
        bet(&mut p, seat1_after_pass(0), 1.0 / 3.0);
        bet(&mut p, seat1_after_pass(1), 0.0);
        bet(&mut p, seat1_after_pass(2), 1.0);
        bet(&mut p, seat1_after_bet(0), 0.0);
        bet(&mut p, seat1_after_bet(1), 1.0 / 3.0);
        bet(&mut p, seat1_after_bet(2), 1.0);
        p.set_row(12, &[1.0, 0.0]);
        p
    }
}

impl ExactGame for KuhnPoker {
    fn name(&self) -> &'static str {
        "kuhn"
    }

    fn n_infostates(&self) -> usize {
        13
    }

    fn n_actions(&self) -> usize {
        2
    }

    fn decisions(&self, seat: usize) -> Vec<(usize, usize)> {
        (0..3)
            .flat_map(|card| {
                if seat == 0 {
                    [seat0_first(card), seat0_after_pass_bet(card)]
                } else {
                    [seat1_after_pass(card), seat1_after_bet(card)]
                }
            })
            .map(|state| (state, 2))
            .collect()
    }

    fn payoff(&self, seat0: &PolicyTable, seat1: &PolicyTable) -> f64 {
        let mut value = 0.0;
        for c0 in 0..3 {
            for c1 in (0..3).filter(|&c| c != c0) {
                let showdown = |stake: f64| if c0 > c1 { stake } else { -stake };
                let bet0 = seat0.prob(seat0_first(c0), 1);
                let bet1_after_pass = seat1.prob(seat1_after_pass(c1), 1);
                let call1 = seat1.prob(seat1_after_bet(c1), 1);
                let call0 = seat0.prob(seat0_after_pass_bet(c0), 1);
                let after_pass = (1.0 - bet1_after_pass) * showdown(1.0)
                    + bet1_after_pass * (-(1.0 - call0) + call0 * showdown(2.0));
                let after_bet = (1.0 - call1) * 1.0 + call1 * showdown(2.0);
                value += ((1.0 - bet0) * after_pass + bet0 * after_bet) / 6.0;
            }
        }
        value
    }

    fn kernel(&self) -> GameKernel {
        GameKernel {
            name: "kuhn",
            obs_dim: 13,
            n_actions: 2,
            max_length: 3,
            wgsl: KUHN_POKER_WGSL,
            constants: vec![],
        }
    }
}
