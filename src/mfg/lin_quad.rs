//! A market with an exact answer: the linear-quadratic mean-field game of systemic risk
//! (Carmona, Fouque & Sun 2015; Perrin et al. 2020 §4.1; OpenSpiel's `mean_field_lin_quad`).
//!
//! Each bank (trader) holds a log-reserve `x` and borrows or lends at rate `α`; the population's
//! mean reserve is `m`. In discrete time with step `dt` and Gaussian noise:
//!
//! ```text
//! x' = x + (K (m − x) + α) dt + σ √dt ξ,      ξ ~ N(0, 1)
//! reward = dt/2 · (−α² + 2 q α (m − x) − κ (m − x)²),   at the end −c/2 · (m − x)²
//! ```
//!
//! (OpenSpiel's parameters: `mean_revert` K, `volatility` σ, `cross_q` q, `kappa` κ,
//! `terminal_cost` c; its game rounds `x` onto a ring of integers, this one keeps it real so that
//! the answer is exact.) With `y = m − x` and a population playing a linear policy `α = g_k y`,
//! the mean `m` never moves (every `E[y] = 0`), so a trader's best response solves a scalar LQ
//! problem: `V_k(y) = −½ P_k y² − r_k` with
//!
//! ```text
//! g_k = (q + a P_{k+1}) / (1 + dt P_{k+1}),   a = 1 − K dt
//! P_k = dt (g_k² − 2 q g_k + κ) + (a − g_k dt)² P_{k+1},   P_N = c,   r_k = r_{k+1} + ½ σ² dt P_{k+1}
//! ```
//!
//! — the discrete Riccati recursion, whose gains are the equilibrium: every trader playing them is
//! a best response to everyone playing them. As `dt → 0`, `g(t) → q + η_t`, OpenSpiel's
//! continuous-time closed form (`eta_t`, [`eta`]), at rate O(dt). The population's distribution
//! stays Gaussian with `Var y' = (a − g dt)² Var y + σ² dt`, so the value of any linear policy, the
//! best response's and hence the NashConv are exact ([`LinQuad::nash_conv`]).

use serde::Serialize;

use crate::error::{Result, ShoalError};

/// The game's coefficients (defaults: OpenSpiel's `mean_field_lin_quad`, with `dt = 0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinQuad {
    /// Time horizon T (in time units).
    pub horizon: f64,
    /// Step length; the game has `horizon / dt` steps.
    pub dt: f64,
    /// K: pull of every reserve toward the mean, without anyone's action.
    pub mean_revert: f64,
    /// σ.
    pub volatility: f64,
    /// q: incentive to lend when above the mean and borrow when below.
    pub cross_q: f64,
    /// κ: cost of being away from the mean.
    pub kappa: f64,
    /// c: the final cost of being away from the mean.
    pub terminal_cost: f64,
    /// Standard deviation of the initial reserves around their mean.
    pub initial_std: f64,
}

impl Default for LinQuad {
    fn default() -> Self {
        LinQuad { horizon: 10.0, dt: 0.1, mean_revert: 0.0, volatility: 1.0, cross_q: 0.01, kappa: 0.5, terminal_cost: 1.0, initial_std: 1.0 }
    }
}

/// One step of a linear policy played by the whole population.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinQuadStep {
    pub step: usize,
    /// `t = step · dt`.
    pub time: f64,
    /// The feedback gain `α = gain · (m − x)` played at this step.
    pub gain: f64,
    /// `Var(m − x)` at this step, before acting.
    pub variance: f64,
    /// Expected reward of this step (the terminal cost included at the last).
    pub reward: f64,
}

impl LinQuad {
    /// Steps in an episode.
    pub fn steps(&self) -> usize {
        (self.horizon / self.dt).round() as usize
    }

    /// Rejects coefficients the recursion cannot use.
    pub fn validate(&self) -> Result<()> {
        let all = [self.horizon, self.dt, self.mean_revert, self.volatility, self.cross_q, self.kappa, self.terminal_cost, self.initial_std];
        if all.iter().any(|v| !v.is_finite()) || self.horizon <= 0.0 || self.dt <= 0.0 {
            return Err(ShoalError::config("lin_quad", format!("{self:?}"), "every coefficient must be finite, horizon and dt positive"));
        }
        let steps = self.horizon / self.dt;
        if (steps - steps.round()).abs() > 1e-9 * steps.max(1.0) || !(1.0..=1e6).contains(&steps.round()) {
            return Err(ShoalError::config("dt", self.dt, format!("horizon / dt must be a whole number of steps in 1..=1000000 (horizon {})", self.horizon)));
        }
        if self.volatility < 0.0 || self.kappa < self.cross_q * self.cross_q || self.terminal_cost < 0.0 || self.initial_std < 0.0 {
            return Err(ShoalError::config("kappa", self.kappa, "needs σ ≥ 0, c ≥ 0, initial_std ≥ 0 and κ ≥ q² (otherwise the cost is not convex and there is no equilibrium)"));
        }
        Ok(())
    }

    /// The equilibrium (and best-response) gains `g_0 … g_{N−1}` and `P_0 … P_N`, `r_0 … r_N`.
    fn riccati(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (n, dt, q) = (self.steps(), self.dt, self.cross_q);
        let a = 1.0 - self.mean_revert * dt;
        let (mut gains, mut p, mut r) = (vec![0.0; n], vec![0.0; n + 1], vec![0.0; n + 1]);
        p[n] = self.terminal_cost;
        for k in (0..n).rev() {
            let g = (q + a * p[k + 1]) / (1.0 + dt * p[k + 1]);
            gains[k] = g;
            p[k] = dt * (g * g - 2.0 * q * g + self.kappa) + (a - g * dt).powi(2) * p[k + 1];
            r[k] = r[k + 1] + 0.5 * self.volatility.powi(2) * dt * p[k + 1];
        }
        (gains, p, r)
    }

    /// The equilibrium feedback gains, one per step.
    pub fn equilibrium_gains(&self) -> Vec<f64> {
        self.riccati().0
    }

    /// The population playing `gains`, step by step: variance of `m − x` and expected reward.
    pub fn play(&self, gains: &[f64]) -> Vec<LinQuadStep> {
        let (dt, q, a) = (self.dt, self.cross_q, 1.0 - self.mean_revert * self.dt);
        let mut variance = self.initial_std.powi(2);
        let n = gains.len();
        gains
            .iter()
            .enumerate()
            .map(|(k, &g)| {
                let mut reward = 0.5 * dt * (-g * g + 2.0 * q * g - self.kappa) * variance;
                let step = LinQuadStep { step: k, time: k as f64 * dt, gain: g, variance, reward: 0.0 };
                variance = (a - g * dt).powi(2) * variance + self.volatility.powi(2) * dt;
                if k + 1 == n {
                    reward -= 0.5 * self.terminal_cost * variance;
                }
                LinQuadStep { reward, ..step }
            })
            .collect()
    }

    /// Expected return of a trader when everyone (itself included) plays `gains`.
    pub fn value(&self, gains: &[f64]) -> f64 {
        self.play(gains).iter().map(|s| s.reward).sum()
    }

    /// Expected return of the best response to a population playing any linear policy: the
    /// mean does not move, so it is the same whatever the population plays.
    pub fn best_response_value(&self) -> f64 {
        let (_, p, r) = self.riccati();
        -0.5 * p[0] * self.initial_std.powi(2) - r[0]
    }

    /// NashConv of the linear policy `gains`: best response value minus its own (≥ 0, 0 at the
    /// equilibrium).
    pub fn nash_conv(&self, gains: &[f64]) -> f64 {
        self.best_response_value() - self.value(gains)
    }
}

/// OpenSpiel's continuous-time `eta_t` (Carmona, Fouque & Sun): the equilibrium control is
/// `α = (q + η_t)(m − x)`.
pub fn eta(game: &LinQuad, t: f64) -> f64 {
    let (k, q, kappa, c, horizon) = (game.mean_revert, game.cross_q, game.kappa, game.terminal_cost, game.horizon);
    let r = (k + q).powi(2) + (kappa - q * q);
    let (dp, dm) = (-(k + q) + r.sqrt(), -(k + q) - r.sqrt());
    let e = ((dp - dm) * (horizon - t)).exp();
    let numerator = -(kappa - q * q) * (e - 1.0) - c * (dp * e - dm);
    let denominator = (dm * e - dp) - c * (e - 1.0);
    numerator / denominator
}
