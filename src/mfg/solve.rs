//! Solving mean-field games exactly: fictitious play, online mirror descent and NashConv, for any
//! game that can push its population forward and value a policy against a distribution.
//!
//! The algorithms are OpenSpiel's (`open_spiel/python/mfg/algorithms/`), on tabular policies:
//!
//! - **NashConv** of a policy π: let μ be the distribution π induces; NashConv is the value of the
//!   best response to μ minus the value of π against μ. Zero exactly at a mean-field Nash
//!   equilibrium.
//! - **Fictitious play** (Perrin et al., 2020): start uniform; each iteration takes the best
//!   response to the current average policy's distribution and averages it in with weight
//!   1/(k + 1), state by state in proportion to how often each policy reaches the state (so the
//!   average policy induces the average distribution).
//! - **Online mirror descent** (Pérolat et al., 2022): start uniform; each iteration adds
//!   `lr × Q_{π,μ}(s, a)` to a cumulative score and plays its softmax, then recomputes μ.
//!
//! A game exposes its decision states as ranges of one flat probability vector (the
//! [`TabularPolicy`]); everything here works on those ranges, so a new game (routing, the
//! linear-quadratic market, a crowd on a grid) plugs in by implementing [`MeanFieldGame`].

use std::ops::Range;

use serde::Serialize;

/// A policy over a game's decision states: `probs[range]` is one state's action distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct TabularPolicy {
    pub probs: Vec<f64>,
}

/// What valuing a policy (or the best response) against a distribution gives.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Q(s, a), laid out as the policy.
    pub action_values: Vec<f64>,
    /// Expected return of the initial distribution.
    pub value: f64,
}

/// A mean-field game with tabular policies and exact expectations.
pub trait MeanFieldGame {
    /// The population's distribution over an episode.
    type Distribution;
    /// Length of the flat policy vector.
    fn policy_len(&self) -> usize;
    /// Each decision state's slice of the policy vector.
    fn decision_states(&self) -> Vec<Range<usize>>;
    /// The distribution a policy induces.
    fn distribution(&self, policy: &TabularPolicy) -> Self::Distribution;
    /// The probability of reaching each decision state (same order as `decision_states`).
    fn state_mass(&self, dist: &Self::Distribution) -> Vec<f64>;
    /// Action values against `dist`, and the initial value under `policy`, or under the best
    /// response when `policy` is `None`.
    fn evaluate(&self, dist: &Self::Distribution, policy: Option<&TabularPolicy>) -> Evaluation;
}

/// The best response's value minus the policy's, against the distribution the policy induces.
pub fn nash_conv<G: MeanFieldGame>(game: &G, policy: &TabularPolicy) -> f64 {
    let dist = game.distribution(policy);
    nash_conv_against(game, &dist, policy)
}

fn nash_conv_against<G: MeanFieldGame>(game: &G, dist: &G::Distribution, policy: &TabularPolicy) -> f64 {
    game.evaluate(dist, None).value - game.evaluate(dist, Some(policy)).value
}

/// The greedy policy of action values: all probability on the first best action of each state.
pub fn greedy<G: MeanFieldGame>(game: &G, action_values: &[f64]) -> TabularPolicy {
    let mut probs = vec![0.0; game.policy_len()];
    for state in game.decision_states() {
        let best = state.clone().fold(state.start, |best, i| if action_values[i] > action_values[best] { i } else { best });
        probs[best] = 1.0;
    }
    TabularPolicy { probs }
}

/// The uniform policy: every action of every state equally likely.
pub fn uniform<G: MeanFieldGame>(game: &G) -> TabularPolicy {
    let mut probs = vec![0.0; game.policy_len()];
    for state in game.decision_states() {
        let n = state.len() as f64;
        probs[state].iter_mut().for_each(|p| *p = 1.0 / n);
    }
    TabularPolicy { probs }
}

/// Which algorithm solves the game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// Fictitious play: average the best responses.
    Fp,
    /// Online mirror descent: softmax of the cumulative Q-values.
    Omd,
}

/// One iteration's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Iteration {
    pub iteration: usize,
    pub nash_conv: f64,
    /// The policy's expected return against its own distribution.
    pub value: f64,
}

/// Fictitious play or online mirror descent, one iteration at a time.
pub struct MeanFieldSolver<'g, G: MeanFieldGame> {
    game: &'g G,
    solver: Solver,
    /// OMD's step size.
    learning_rate: f64,
    states: Vec<Range<usize>>,
    policy: TabularPolicy,
    /// OMD: the cumulative scaled Q-values.
    cumulative: Vec<f64>,
    iterations: usize,
}

impl<'g, G: MeanFieldGame> MeanFieldSolver<'g, G> {
    /// Starts from the uniform policy.
    pub fn new(game: &'g G, solver: Solver, learning_rate: f64) -> Self {
        Self {
            game,
            solver,
            learning_rate,
            states: game.decision_states(),
            policy: uniform(game),
            cumulative: vec![0.0; game.policy_len()],
            iterations: 0,
        }
    }

    /// The current policy (FP: the average policy).
    pub fn policy(&self) -> &TabularPolicy {
        &self.policy
    }

    /// Runs one iteration and reports the NashConv and value of the policy it leaves.
    pub fn step(&mut self) -> Iteration {
        self.iterations += 1;
        let dist = self.game.distribution(&self.policy);
        match self.solver {
            Solver::Fp => {
                let best = greedy(self.game, &self.game.evaluate(&dist, None).action_values);
                let best_dist = self.game.distribution(&best);
                let (mass, best_mass) = (self.game.state_mass(&dist), self.game.state_mass(&best_dist));
                let k = self.iterations as f64;
                let (w_old, w_new) = (k / (k + 1.0), 1.0 / (k + 1.0));
                for (s, state) in self.states.iter().enumerate() {
                    let norm = w_old * mass[s] + w_new * best_mass[s];
                    for i in state.clone() {
                        self.policy.probs[i] = if norm > 0.0 {
                            (w_old * mass[s] * self.policy.probs[i] + w_new * best_mass[s] * best.probs[i]) / norm
                        } else {
                            1.0 / state.len() as f64
                        };
                    }
                }
            }
            Solver::Omd => {
                let q = self.game.evaluate(&dist, Some(&self.policy)).action_values;
                for (c, q) in self.cumulative.iter_mut().zip(&q) {
                    *c += self.learning_rate * q;
                }
                for state in &self.states {
                    let max = state.clone().map(|i| self.cumulative[i]).fold(f64::NEG_INFINITY, f64::max);
                    let total: f64 = state.clone().map(|i| (self.cumulative[i] - max).exp()).sum();
                    for i in state.clone() {
                        self.policy.probs[i] = (self.cumulative[i] - max).exp() / total;
                    }
                }
            }
        }
        let dist = self.game.distribution(&self.policy);
        let value = self.game.evaluate(&dist, Some(&self.policy)).value;
        Iteration { iteration: self.iterations, nash_conv: nash_conv_against(self.game, &dist, &self.policy), value }
    }
}
