//! Mean-field games with exact answers: traffic on road networks (Wardrop equilibria, Braess's
//! paradox, the price of anarchy), solved by fictitious play and online mirror descent with
//! exact NashConv.
//!
//! Swarms and Battle show what mean-field learning does at scale; these games show that it
//! finds the right answer, because here the answer is known. On Braess's network the mean-field
//! equilibrium takes 3.75 and the social optimum 3.5; removing a road makes everyone faster.
//!
//! - [`network`]: road networks with BPR travel times and their JSON file format; Braess, Braess
//!   without its middle road, Pigou and Sioux Falls ship in `examples/networks/`.
//! - [`routing`]: the mean-field dynamic routing game (OpenSpiel's `python_mfg_dynamic_routing`),
//!   its exact push-forward and backward induction.
//! - [`n_player`]: the same game played by N vehicles choosing whole routes, and its pure
//!   equilibria by best-response dynamics (the finite game the mean field is the limit of).
//! - [`solve`]: the game trait, NashConv, fictitious play and online mirror descent.
//! - [`lin_quad`]: the linear-quadratic game of systemic risk (a market of lending banks), its
//!   exact equilibrium by a discrete Riccati recursion and OpenSpiel's continuous-time closed form.

pub mod lin_quad;
pub mod n_player;
pub mod network;
pub mod routing;
pub mod solve;

pub use lin_quad::{eta, LinQuad, LinQuadStep};
pub use n_player::{NPlayerEquilibrium, NPlayerRouting, Route};
pub use network::{Network, NetworkFile, BUILTIN_NETWORKS};
pub use routing::{RoutingDistribution, RoutingGame};
pub use solve::{greedy, nash_conv, uniform, Evaluation, Iteration, MeanFieldGame, MeanFieldSolver, Solver, TabularPolicy};
