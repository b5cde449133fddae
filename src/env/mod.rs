//! Batched environments that live on the GPU.
//!
//! An environment here is a *batch* of independent instances stepped by one kernel launch. Its
//! state stays in device buffers owned by the env; what it hands out are burn tensors on the
//! shared device ([`crate::gpu::GpuContext`]): observations `[envs, agents, obs_dim]`, rewards
//! `[envs, agents]`, and `done`/`truncated` flags `[envs]` (f32 0/1, ready to use as masks). A
//! learner reads them, samples an actions tensor, and passes it back: nothing crosses to the
//! host.
//!
//! **Agent groups.** Agents are grouped by kind: agents of one group share an observation size and
//! an action space. simple_spread has one group; MPE's adversarial scenarios (simple_tag,
//! simple_adversary, world_comm) and Battle have two or more, with different observation and
//! action spaces, so observations and actions are per group. Rewards are one tensor over all
//! agents, groups in spec order.
//!
//! **Episodes.** Each instance resets itself when its episode ends (time limit or termination):
//! the step that ends an episode returns the *first* observation of the next one, with
//! `done = 1`; the observation the episode ended in is in `terminal_obs` when asked for (it is
//! needed to bootstrap values at a time limit). Episode returns and lengths accumulate on the
//! device; [`BatchedEnv::episode_stats`] reduces them to a few scalars on request.
//!
//! **Randomness** is counter-based (`shaders/rng.wgsl`), keyed by (seed, env index, episode
//! index): env *i* behaves the same whatever the batch size and whatever the other envs do.

pub mod battle;
pub mod collect_treasure;
pub mod formation;
pub mod ising;
pub mod kuhn_poker;
mod lockstep;
pub mod market;
pub mod matrix_game;
pub mod mpe;
pub mod neighbours;
pub mod options;
pub mod random_actions;
pub mod reference_rng;
pub mod registry;
pub mod routing;
pub mod simple;
pub mod simple_adversary;
pub mod simple_crypto;
pub mod simple_push;
pub mod simple_reference;
pub mod simple_speaker_listener;
pub mod simple_spread;
pub mod simple_tag;
pub mod simple_world_comm;
mod snapshot;
pub mod swarm;
pub mod two_player;

use std::sync::Arc;

use burn::tensor::{Int, Tensor};

use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::render::scene::Scene;

pub use battle::{Battle, BattleConfig, BattleOutcomes};
pub use collect_treasure::{CollectTreasure, CollectTreasureConfig};
pub use formation::{FormationConfig, SimpleFormation, SimpleFormationConfig, SimpleLine, SimpleLineConfig};
pub use ising::{InitialSpins, Ising, IsingConfig, Metropolis};
pub use neighbours::NeighbourField;
pub use options::{EnvOption, EnvOptions, OptionValue};
pub use random_actions::RandomActions;
pub use reference_rng::NumpyGenerator;
pub use kuhn_poker::KuhnPoker;
pub use market::{Market, MarketConfig};
pub use matrix_game::MatrixGame;
pub use swarm::{Swarm, SwarmConfig, SwarmState};
pub use mpe::{AgentBody, Mpe, MpeGroup, MpeScenario, MpeWorld, WorldState};
pub use registry::{EnvEntry, EnvKind, Scale};
pub use routing::{Routing, RoutingConfig};
pub use simple::{Simple, SimpleConfig};
pub use simple_adversary::{SimpleAdversary, SimpleAdversaryConfig};
pub use simple_crypto::{SimpleCrypto, SimpleCryptoConfig};
pub use simple_push::{SimplePush, SimplePushConfig};
pub use simple_reference::{SimpleReference, SimpleReferenceConfig};
pub use simple_tag::{SimpleTag, SimpleTagConfig};
pub use simple_world_comm::{SimpleWorldComm, SimpleWorldCommConfig};
pub use simple_speaker_listener::{SimpleSpeakerListener, SimpleSpeakerListenerConfig};
pub use simple_spread::{SimpleSpread, SimpleSpreadConfig};
pub use snapshot::EnvSnapshot;
pub(crate) use snapshot::check_int_dtype;
pub use two_player::{best_response, nash_conv, ExactGame, NashConv, PolicyTable, TwoPlayerBatch};

/// What building an env by name needs: the keys of a run's configuration that size and shape an
/// env. Each env reads the ones that apply to it (see its `build`) and checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvParams {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Agents per env (simple_spread: N agents and N landmarks; swarm: the crowd; ising: the
    /// lattice's L² sites; battle: both teams, 2 × the team size of `map_size`).
    pub agents: usize,
    /// Grid side of grid worlds (battle).
    pub map_size: usize,
    /// Local/global reward mix (simple_spread).
    pub local_ratio: f32,
    /// Episode length; `None`: the env's own default.
    pub max_cycles: Option<usize>,
    /// Continuous actions where the env has both kinds.
    pub continuous: bool,
    /// Also output the observations episodes ended in (value bootstrapping at time limits).
    pub terminal_obs: bool,
    /// The env's own options (mpe2's keywords: `num_good`, `terminate_on_success`, ...).
    pub options: EnvOptions,
}

impl EnvParams {
    /// `n_envs` envs of `agents` agents; everything else at its default.
    pub fn new(n_envs: usize, agents: usize) -> EnvParams {
        EnvParams { n_envs, agents, map_size: 40, local_ratio: 0.5, max_cycles: None, continuous: false, terminal_obs: false, options: EnvOptions::new() }
    }
}

/// An env's configuration as a run's parameters describe it: what the registry needs of an env.
pub trait FromParams: Sized {
    /// The batch this configuration builds.
    type Env: BatchedEnv + 'static;
    /// The options the env takes ([`EnvParams::options`]); none by default.
    const OPTIONS: &'static [EnvOption] = &[];
    /// The configuration `params` describe, checked (no device needed: configs are checked
    /// before a run starts). The error names the key to change.
    fn from_params(params: &EnvParams) -> Result<Self>;
    /// Agents per env, where the options decide it (the mixed MPE scenarios: `num_good +
    /// num_adversaries`); `None` where `agents` does. `agents` itself is not read.
    fn population(params: &EnvParams) -> Result<Option<usize>> {
        let _ = params;
        Ok(None)
    }
    /// Builds the batch on `ctx`.
    fn build(self, ctx: &Arc<GpuContext>) -> Result<Self::Env>;
}

/// How an agent's observation splits into what each network sees. Learners build their inputs
/// from it, so no learner needs to know which env it trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObsLayout {
    /// Leading columns every policy and critic sees (the agent's own view).
    pub local: usize,
    /// Columns right after `local` that hold the neighbours' mean action ā: seen only by a
    /// mean-field critic `V(o_i, ā_i)` (MF-AC). 0 when the env has none.
    pub mean_action: usize,
    /// Agents are few and distinct (each a role of its own): inputs carry a one-hot agent id,
    /// and a centralised critic over all agents' observations is possible (MAPPO). `false` for
    /// crowds of interchangeable agents, which share one network and see no ids.
    pub distinct_agents: bool,
}

/// What an agent may do.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpace {
    /// One of `n` actions, `0..n` (an `Int` tensor `[envs, agents]`).
    Discrete {
        /// Number of actions.
        n: usize,
    },
    /// A vector of `dim` values in `[low, high]` (a float tensor `[envs, agents, dim]`).
    Continuous {
        /// Vector length.
        dim: usize,
        /// Lower bound of every component.
        low: f32,
        /// Upper bound of every component.
        high: f32,
    },
}

impl ActionSpace {
    /// Numbers per agent in the actions tensor: 1 for discrete, `dim` for continuous.
    pub fn width(&self) -> usize {
        match self {
            ActionSpace::Discrete { .. } => 1,
            ActionSpace::Continuous { dim, .. } => *dim,
        }
    }
}

/// Agents of one kind: same observation size, same action space.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentGroup {
    /// Group name (`"agent"`, `"adversary"`, ...).
    pub name: String,
    /// Agents of this group in each env.
    pub agents: usize,
    /// Observation length of each agent.
    pub obs_dim: usize,
    /// Action space of each agent.
    pub action: ActionSpace,
}

/// The shape of a batched environment: what a learner needs to build its networks.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvSpec {
    /// Environment name as the CLI spells it.
    pub name: &'static str,
    /// Instances in the batch.
    pub n_envs: usize,
    /// Agent groups, in the order of observations, actions and rewards.
    pub groups: Vec<AgentGroup>,
    /// Episode time limit in steps.
    pub max_cycles: usize,
}

impl EnvSpec {
    /// Agents per env over all groups.
    pub fn agents_per_env(&self) -> usize {
        self.groups.iter().map(|g| g.agents).sum()
    }
}

/// Actions for one agent group.
#[derive(Debug, Clone)]
pub enum Actions {
    /// Action indices `[envs, agents]`.
    Discrete(Tensor<2, Int>),
    /// Action vectors `[envs, agents, dim]`.
    Continuous(Tensor<3>),
}

impl Actions {
    /// Uploads discrete actions given row-major `[envs, agents]`, checking every value is in the
    /// group's space (the host API's guard; the device path counts invalid actions instead).
    pub fn discrete_from_host(
        ctx: &GpuContext,
        group: &AgentGroup,
        n_envs: usize,
        values: &[i32],
    ) -> Result<Actions> {
        let ActionSpace::Discrete { n } = group.action else {
            return Err(ShoalError::config(
                "actions",
                "discrete",
                format!("group `{}` has continuous actions", group.name),
            ));
        };
        ShoalError::ensure_len("actions", values.len(), &[n_envs, group.agents])?;
        if let Some(bad) = values.iter().position(|&a| a < 0 || a as usize >= n) {
            return Err(ShoalError::InvalidAction {
                env: bad / group.agents,
                agent: bad % group.agents,
                value: values[bad].to_string(),
                valid: format!("integers 0..{n} (0..={})", n - 1),
            });
        }
        Ok(Actions::Discrete(ctx.upload_i32(values, [n_envs, group.agents])?))
    }

    /// Uploads continuous actions given row-major `[envs, agents, dim]`, checking bounds.
    pub fn continuous_from_host(
        ctx: &GpuContext,
        group: &AgentGroup,
        n_envs: usize,
        values: &[f32],
    ) -> Result<Actions> {
        let ActionSpace::Continuous { dim, low, high } = group.action else {
            return Err(ShoalError::config(
                "actions",
                "continuous",
                format!("group `{}` has discrete actions", group.name),
            ));
        };
        ShoalError::ensure_len("actions", values.len(), &[n_envs, group.agents, dim])?;
        if let Some(bad) = values.iter().position(|a| !(low..=high).contains(a)) {
            return Err(ShoalError::InvalidAction {
                env: bad / (group.agents * dim),
                agent: (bad / dim) % group.agents,
                value: values[bad].to_string(),
                valid: format!("finite values in [{low}, {high}]"),
            });
        }
        Ok(Actions::Continuous(ctx.upload_f32(values, [n_envs, group.agents, dim])?))
    }
}

/// What one step (or a reset) returns. All tensors live on the device.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// Observations per agent group, `[envs, group agents, obs_dim]`. For an env whose episode
    /// just ended this is the first observation of its next episode.
    pub obs: Vec<Tensor<3>>,
    /// Rewards of this step, `[envs, agents]` (all groups, spec order).
    pub reward: Tensor<2>,
    /// 1.0 where the episode ended at this step (terminated or truncated), else 0.0. `[envs]`
    pub done: Tensor<1>,
    /// 1.0 where the episode ended by the time limit (bootstrap from `terminal_obs`). `[envs]`
    pub truncated: Tensor<1>,
    /// Observations the step ended in, before any automatic reset (equal to `obs` where
    /// `done = 0`). Only when the env was configured with `terminal_obs = true`.
    pub terminal_obs: Option<Vec<Tensor<3>>>,
    /// Legal-action masks per agent group, `[envs, group agents, n]` (1.0 legal, 0.0 not), for
    /// discrete groups whose legal actions depend on the state (turn-based games). `None`: every
    /// action is always legal.
    pub legal_actions: Option<Vec<Tensor<3>>>,
}

/// Episode statistics reduced over the batch (a handful of scalars read from the device).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EpisodeStats {
    /// Episodes completed since the last reset or [`BatchedEnv::clear_episode_stats`].
    pub episodes: f64,
    /// Mean return of those episodes (return = sum over the episode of the mean-over-agents
    /// reward, i.e. the mean over agents of each agent's own return). NaN if none completed.
    pub mean_return: f64,
    /// Standard deviation of those returns.
    pub std_return: f64,
    /// Mean length of those episodes.
    pub mean_length: f64,
    /// Actions outside the action space seen by the device (treated as no-ops).
    pub invalid_actions: f64,
}

impl EpisodeStats {
    /// Builds the summary from the per-stat sums over envs, in the kernel's row order:
    /// running return, running length, episodes, return sum, return² sum, length sum, invalid.
    pub(crate) fn from_sums(sums: &[f32]) -> EpisodeStats {
        let episodes = sums[2] as f64;
        let mean = sums[3] as f64 / episodes;
        let var = (sums[4] as f64 / episodes - mean * mean).max(0.0);
        EpisodeStats {
            episodes,
            mean_return: mean,
            std_return: var.sqrt(),
            mean_length: sums[5] as f64 / episodes,
            invalid_actions: sums[6] as f64,
        }
    }
}

/// Per-env statistics `[envs, width]` with their completed-episode columns (`2..`) zeroed and
/// the running episode (columns 0–1) kept: a fresh buffer that only the env holds, so its kernel
/// may update it in place. The `clear_episode_stats` of envs that keep [`EpisodeStats`] rows.
pub(crate) fn clear_completed_episodes(stats: &burn::backend::wgpu::CubeTensor) -> Result<burn::backend::wgpu::CubeTensor> {
    let stats = crate::gpu::float_tensor::<2>(stats.clone());
    let [envs, width] = stats.dims();
    let running = stats.clone().slice([0..envs, 0..2]);
    crate::gpu::float_buffer(Tensor::cat(vec![running, stats.slice([0..envs, 2..width]).zeros_like()], 1))
}

/// Sums of per-env statistics `[envs, width]` over the batch (one small read).
pub(crate) fn sum_over_envs(ctx: &GpuContext, stats: &burn::backend::wgpu::CubeTensor) -> Result<Vec<f32>> {
    ctx.read_f32(crate::gpu::float_tensor::<2>(stats.clone()).sum_dim(0))
}

/// A batch of environment instances stepped on the GPU.
pub trait BatchedEnv {
    /// Shapes and spaces.
    fn spec(&self) -> &EnvSpec;

    /// The GPU context the env's tensors live on.
    fn context(&self) -> &Arc<GpuContext>;

    /// Starts a new episode in every env, seeded by `seed` (env *i* draws from the stream
    /// `(seed, i, episode)`). Returns the first observations; rewards and flags are zero.
    fn reset(&mut self, seed: u64) -> Result<StepOutput>;

    /// Advances every env by one step with one [`Actions`] per agent group.
    /// Queues GPU work only: no host transfer.
    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput>;

    /// Whether any episode can end at the next step. `true` unless the env knows otherwise
    /// without reading the device (e.g. time limits reached by every env together); learners use
    /// it to skip work that only matters at episode ends.
    fn episodes_may_end_next_step(&self) -> bool {
        true
    }

    /// Reduces the on-device episode accumulators (one small read).
    fn episode_stats(&self) -> Result<EpisodeStats>;

    /// Forgets completed-episode statistics (running episodes keep accumulating).
    fn clear_episode_stats(&mut self) -> Result<()>;

    /// How observations split into actor and critic inputs. Default: every column is local,
    /// agents are interchangeable.
    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: self.spec().groups[0].obs_dim, mean_action: 0, distinct_agents: false }
    }

    /// Everything that defines where the batch is (world state, counters, episode statistics),
    /// read back to the host for a checkpoint.
    fn snapshot(&self) -> Result<EnvSnapshot> {
        Err(ShoalError::config("env", self.spec().name, "this env cannot be checkpointed"))
    }

    /// Puts the batch back where [`BatchedEnv::snapshot`] found it and returns the current
    /// observations; stepping then continues exactly as it would have.
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let _ = snapshot;
        Err(ShoalError::config("env", self.spec().name, "this env cannot be checkpointed"))
    }

    /// Env 0 as a picture (one small read back; for rendering, never in a training loop). The
    /// caption says what the picture alone does not (collisions, survivors, magnetisation); the
    /// renderer adds the episode and step.
    fn scene(&self) -> Result<Scene> {
        Err(ShoalError::config("env", self.spec().name, "this env has no renderer"))
    }

    /// Whether [`BatchedEnv::reset_from_reference`] reproduces the reference's draws here.
    fn reproduces_reference_draws(&self) -> bool {
        false
    }

    /// Starts a new episode in every env, in order, from the world the reference implementation
    /// (PettingZoo's) draws from `rng`: with `rng = NumpyGenerator::new(seed)` this is the
    /// reference's `reset(seed=seed)`, the same episode. Host work and one upload (for
    /// PettingZoo's one-env face, not for training). Envs whose reference draws shoal does not
    /// reproduce refuse.
    fn reset_from_reference(&mut self, rng: &mut NumpyGenerator) -> Result<StepOutput> {
        let _ = rng;
        Err(ShoalError::config("reset", self.spec().name, "shoal does not reproduce this env's reference draws: reset with shoal's own seeding"))
    }
}
