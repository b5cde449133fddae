//! Population methods: learning against a pool of policies on two-player zero-sum games (league
//! self-play with latest / uniform / PFSP opponents, PSRO with exact NashConv), and the Battle
//! arena where two checkpoints play each other.

pub mod arena;
pub mod league;
pub mod pool;
pub mod psro;
pub mod selfplay;
