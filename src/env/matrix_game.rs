//! `matrix_game`: two-player zero-sum normal-form games — rock–paper–scissors, a biased RPS with
//! a known interior mixed equilibrium, or any payoff matrix — batched on the device
//! (`shaders/matrix_game.wgsl`), with their exact solution ([`MatrixGame`] is an [`ExactGame`]).
//!
//! Every episode is one simultaneous move. Seat 0 picks a row, seat 1 a column; seat 0 receives
//! `payoff[row][col]`, seat 1 its negation. Observation: the seat's one-hot. Actions:
//! `max(rows, cols)`, the first `rows` legal for seat 0 and the first `cols` for seat 1.

use super::two_player::{ExactGame, GameKernel, PolicyTable};
use crate::error::{Result, ShoalError};

/// The game kernel.
pub const MATRIX_GAME_WGSL: &str = include_str!("../../shaders/matrix_game.wgsl");

/// Largest |payoff| accepted: f32 on the device, with room for sums over a rollout.
const MAX_PAYOFF: f64 = 1e9;

/// A zero-sum payoff matrix (seat 0's payoffs, rows = seat 0's actions).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatrixGame {
    /// Name as the CLI spells it.
    pub name: &'static str,
    /// `payoff[row][col]`.
    pub payoff: Vec<Vec<f64>>,
}

impl MatrixGame {
    /// Rock–paper–scissors: win 1, lose −1. Nash: uniform; value 0.
    pub fn rps() -> MatrixGame {
        MatrixGame { name: "rps", payoff: vec![vec![0.0, -1.0, 1.0], vec![1.0, 0.0, -1.0], vec![-1.0, 1.0, 0.0]] }
    }

    /// Biased rock–paper–scissors (OpenSpiel's `matrix_brps` payoffs ÷ 50, so |payoff| ≤ 1):
    /// rock beats scissors by 1, paper beats rock by 0.5, scissors beats paper by 0.1. Its
    /// unique Nash equilibrium is (1/16, 10/16, 5/16), value 0; pure and uniform play are
    /// exploitable.
    pub fn biased_rps() -> MatrixGame {
        MatrixGame { name: "biased_rps", payoff: vec![vec![0.0, -0.5, 1.0], vec![0.5, 0.0, -0.1], vec![-1.0, 0.1, 0.0]] }
    }

    /// The Nash equilibrium of [`MatrixGame::biased_rps`].
    pub const BIASED_RPS_NASH: [f64; 3] = [1.0 / 16.0, 10.0 / 16.0, 5.0 / 16.0];

    /// Any payoff matrix, checked: rectangular, finite, at most 64 actions a side.
    pub fn custom(payoff: Vec<Vec<f64>>) -> Result<MatrixGame> {
        let rows = payoff.len();
        let cols = payoff.first().map_or(0, Vec::len);
        if rows == 0 || cols == 0 || rows > 64 || cols > 64 {
            return Err(ShoalError::config("payoff", format!("{rows}×{cols}"), "need 1..=64 rows and columns"));
        }
        if let Some(r) = payoff.iter().position(|row| row.len() != cols) {
            return Err(ShoalError::config("payoff", format!("row {r}"), format!("has {} entries, row 0 has {cols}", payoff[r].len())));
        }
        if payoff.iter().flatten().any(|v| !v.is_finite()) {
            return Err(ShoalError::config("payoff", "non-finite entry", "every payoff must be a finite number"));
        }
        if let Some(v) = payoff.iter().flatten().find(|v| v.abs() > MAX_PAYOFF) {
            return Err(ShoalError::config("payoff", v, format!("payoffs must be within ±{MAX_PAYOFF:e}: the device plays in f32 (and PPO learns best near ±1): rescale the matrix")));
        }
        Ok(MatrixGame { name: "matrix", payoff })
    }

    /// Parses `"a,b,c; d,e,f; ..."` (rows separated by `;`).
    pub fn parse(text: &str) -> Result<MatrixGame> {
        let payoff = text
            .split(';')
            .map(|row| {
                row.split(',')
                    .map(|v| {
                        v.trim().parse::<f64>().map_err(|_| {
                            ShoalError::config("payoff", v.trim(), "expected numbers: rows separated by `;`, entries by `,` (e.g. \"0,-1,1;1,0,-1;-1,1,0\")")
                        })
                    })
                    .collect::<Result<Vec<f64>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        MatrixGame::custom(payoff)
    }

    fn rows(&self) -> usize {
        self.payoff.len()
    }

    fn cols(&self) -> usize {
        self.payoff[0].len()
    }

    /// A policy playing `row` in seat 0 and `col` in seat 1 with these probabilities.
    pub fn policy(&self, row: &[f64], col: &[f64]) -> PolicyTable {
        let n = self.n_actions();
        let mut table = PolicyTable { n_actions: n, probs: vec![0.0; 2 * n] };
        table.probs[..row.len()].copy_from_slice(row);
        table.probs[n..n + col.len()].copy_from_slice(col);
        table
    }
}

impl ExactGame for MatrixGame {
    fn name(&self) -> &'static str {
        self.name
    }

    fn n_infostates(&self) -> usize {
        2
    }

    fn n_actions(&self) -> usize {
        self.rows().max(self.cols())
    }

    fn decisions(&self, seat: usize) -> Vec<(usize, usize)> {
        vec![(seat, if seat == 0 { self.rows() } else { self.cols() })]
    }

    fn payoff(&self, seat0: &PolicyTable, seat1: &PolicyTable) -> f64 {
        let mut value = 0.0;
        for (r, row) in self.payoff.iter().enumerate() {
            for (c, &p) in row.iter().enumerate() {
                value += seat0.prob(0, r) * seat1.prob(1, c) * p;
            }
        }
        value
    }

    fn kernel(&self) -> GameKernel {
        let payoff: Vec<String> = self.payoff.iter().flatten().map(|v| format!("{:?}", *v as f32)).collect();
        GameKernel {
            name: self.name,
            obs_dim: 2,
            n_actions: self.n_actions(),
            max_length: 1,
            wgsl: MATRIX_GAME_WGSL,
            constants: vec![
                ("n_actions", self.n_actions().to_string()),
                ("rows", self.rows().to_string()),
                ("cols", self.cols().to_string()),
                ("cells", payoff.len().to_string()),
                ("payoff", payoff.join(", ")),
            ],
        }
    }
}
