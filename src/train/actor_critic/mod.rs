//! Actor–critic learners: PPO with an independent (IPPO), centralised (MAPPO) or mean-field
//! (MF-AC) critic, COMA's counterfactual policy gradient, and the pieces they are built from —
//! each on the device, one file a concern.

pub mod adam;
pub mod coma;
pub mod dense;
pub mod eval;
pub mod gae;
pub mod group;
pub mod inputs;
pub mod model;
pub mod noise;
pub mod policy_kernel;
pub mod ppo;
pub mod profile;
pub mod rollout;
pub mod trainer;
