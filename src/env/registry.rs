//! The env registry: every environment shoal can build by name, and what the CLI and the learners
//! need to know about it — one [`EnvEntry`] per env, like wgpu's table of examples.
//!
//! Nothing outside this file matches on env names: `shoal bench`, `train`, `eval`, `render`,
//! `report` and the trainer read an env's entry (its constructor, default sizes, the algorithms
//! it supports) and the env itself (its spec, observation layout, snapshot and scene through
//! [`BatchedEnv`]). Adding an environment is its own module plus one variant and one entry here
//! (ARCHITECTURE.md, "Adding an environment").
//!
//! Names: the CLI and config files take PettingZoo's spelling (`simple_spread`) and the
//! kebab-case one (`simple-spread`); configs and checkpoints are written in PettingZoo's.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{BatchedEnv, BattleConfig, Mpe, MpeScenario, MpeWorld, EnvParams, FromParams, IsingConfig, SimpleConfig, SimpleFormationConfig, SimpleLineConfig, SimpleAdversaryConfig, SimpleCryptoConfig, SimplePushConfig, SimpleReferenceConfig, SimpleTagConfig, SimpleWorldCommConfig, CollectTreasureConfig, SimpleSpeakerListenerConfig, SimpleSpreadConfig, SwarmConfig, RoutingConfig, MarketConfig};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::train::algo::Algo;

/// Every environment the registry can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EnvKind {
    /// MPE's single-agent navigation (PettingZoo simple_v3).
    Simple,
    /// MPE cooperative navigation (PettingZoo simple_spread_v3).
    #[value(alias = "simple_spread")]
    #[serde(alias = "simple-spread")]
    SimpleSpread,
    /// MPE agents spreading evenly along a segment between two landmarks (mpe2 simple_line_v1).
    #[value(alias = "simple_line")]
    #[serde(alias = "simple-line")]
    SimpleLine,
    /// MPE agents forming a circle around a landmark (mpe2 simple_formation_v1).
    #[value(alias = "simple_formation")]
    #[serde(alias = "simple-formation")]
    SimpleFormation,
    /// MPE physical deception: good agents hide the target from an adversary (mpe2 simple_adversary_v3).
    #[value(alias = "simple_adversary")]
    #[serde(alias = "simple-adversary")]
    SimpleAdversary,
    /// MPE covert communication: Alice and Bob share a key, Eve listens (mpe2 simple_crypto_v3).
    #[value(alias = "simple_crypto")]
    #[serde(alias = "simple-crypto")]
    SimpleCrypto,
    /// MPE keep-away: an adversary pushes a good agent off its goal (mpe2 simple_push_v3).
    #[value(alias = "simple_push")]
    #[serde(alias = "simple-push")]
    SimplePush,
    /// MPE referential communication: two agents tell each other where to go (mpe2 simple_reference_v3).
    #[value(alias = "simple_reference")]
    #[serde(alias = "simple-reference")]
    SimpleReference,
    /// MPE predator-prey: three predators chase a faster prey among obstacles (mpe2 simple_tag_v3).
    #[value(alias = "simple_tag")]
    #[serde(alias = "simple-tag")]
    SimpleTag,
    /// MPE predator-prey with a speaking leader, food and forests (mpe2 simple_world_comm_v3).
    #[value(alias = "simple_world_comm")]
    #[serde(alias = "simple-world-comm")]
    SimpleWorldComm,
    /// MPE cooperative communication: a speaker guides a listener (mpe2 simple_speaker_listener_v4).
    #[value(alias = "simple_speaker_listener")]
    #[serde(alias = "simple-speaker-listener")]
    SimpleSpeakerListener,
    /// MPE collectors gather treasures and bring them to deposits (mpe2 collect_treasure_v1).
    #[value(alias = "collect_treasure")]
    #[serde(alias = "collect-treasure")]
    CollectTreasure,
    /// Crowds heading for their goals through congestion (mean-field; up to millions of agents).
    Swarm,
    /// The Ising model with every lattice site an agent (Yang et al. 2018).
    Ising,
    /// MAgent's Battle: two teams of 64 on a 40×40 grid (the Mean Field MARL paper's game).
    Battle,
    /// Vehicles choosing roads through congestion: the N-player dynamic routing game (Braess, Sioux Falls; to 10⁶ vehicles).
    Routing,
    /// Traders lending and borrowing around the mean reserve: the linear-quadratic game of systemic risk (closed-form equilibrium).
    Market,
}

/// What the size flags (`--agents`, `--size`) of the CLI mean for an env, with their defaults.
#[derive(Debug, Clone, Copy)]
pub enum Scale {
    /// `--agents N`: agents per env.
    Agents {
        /// When not given (render, train).
        default: usize,
        /// `shoal bench`'s sweep.
        bench: &'static [usize],
    },
    /// `--size L`: the side of a square lattice of L² agents.
    LatticeSide {
        /// When not given.
        default: usize,
        /// `shoal bench`'s sweep.
        bench: &'static [usize],
    },
    /// `--size L`: the side of a square map; the env decides the agent count.
    MapSide {
        /// When not given.
        default: usize,
        /// `shoal bench`'s sweep.
        bench: &'static [usize],
        /// Agents per env on a map of this side.
        agents: fn(usize) -> usize,
    },
}

impl Scale {
    /// The sweep `shoal bench` runs when no size is given.
    pub fn bench(&self) -> &'static [usize] {
        match *self {
            Scale::Agents { bench, .. } | Scale::LatticeSide { bench, .. } | Scale::MapSide { bench, .. } => bench,
        }
    }

    /// The size used when none is given.
    pub fn default_size(&self) -> usize {
        match *self {
            Scale::Agents { default, .. } | Scale::LatticeSide { default, .. } | Scale::MapSide { default, .. } => default,
        }
    }

    /// Whether the size is given with `--size` (a side) rather than `--agents`.
    pub fn is_side(&self) -> bool {
        !matches!(self, Scale::Agents { .. })
    }

    /// `n_envs` envs of size `size` (agents, or a side, as this scale reads it).
    pub fn params(&self, n_envs: usize, size: usize) -> EnvParams {
        match self {
            Scale::Agents { .. } => EnvParams::new(n_envs, size),
            Scale::LatticeSide { .. } => EnvParams::new(n_envs, size.saturating_mul(size)),
            Scale::MapSide { agents, .. } => EnvParams { map_size: size, ..EnvParams::new(n_envs, agents(size)) },
        }
    }
}

/// One environment in the registry.
#[derive(Debug, Clone, Copy)]
pub struct EnvEntry {
    /// The name shoal writes (PettingZoo's, for PettingZoo's envs).
    pub name: &'static str,
    /// One line for `--help` and the README.
    pub about: &'static str,
    /// What the CLI's size flags mean, and their defaults.
    pub scale: Scale,
    /// `shoal bench`'s batch sizes when none are given.
    pub bench_envs: &'static [usize],
    /// Episode length of a rendered random episode when the env's own default is not wanted.
    pub render_cycles: Option<usize>,
    /// The algorithms `shoal train` runs on it (the first is the default; at least one).
    pub algos: &'static [Algo],
    /// A `shoal train` TOML for it, when `TrainConfig`'s defaults (simple_spread's) do not fit:
    /// what `shoal bench --learner` starts from.
    pub example_config: Option<&'static str>,
    /// Agents have roles of their own (as the batches' [`super::ObsLayout::distinct_agents`]):
    /// per-agent networks apply. `false` for crowds, which share one network.
    pub distinct_agents: bool,
    /// Checks the parameters the env reads, without a device (a config is checked before a run
    /// starts).
    pub check: fn(&EnvParams) -> Result<()>,
    /// Builds a batch (after `check`).
    pub build: fn(&Arc<GpuContext>, &EnvParams) -> Result<Box<dyn BatchedEnv>>,
    /// Agents per env where the env's options decide it ([`FromParams::population`]).
    pub population: fn(&EnvParams) -> Result<Option<usize>>,
    /// Builds the batch `shoal replay` runs recorded reference trajectories on: the MPE
    /// scenarios (`replay_world::<Config>`), `None` for envs without a recorded reference.
    pub replay: Option<fn(&Arc<GpuContext>, &EnvParams) -> Result<Box<dyn MpeWorld>>>,
}

impl EnvKind {
    /// The env's registry entry.
    pub fn entry(self) -> &'static EnvEntry {
        match self {
            EnvKind::Simple => &EnvEntry {
                name: "simple",
                about: "MPE single-agent navigation (PettingZoo simple_v3)",
                scale: Scale::Agents { default: 1, bench: &[1] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Iql, Algo::Coma, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleConfig>,
                build: build::<SimpleConfig>,
                population: population::<SimpleConfig>,
                replay: Some(replay_world::<SimpleConfig>),
            },
            EnvKind::SimpleSpread => &EnvEntry {
                name: "simple_spread",
                about: "MPE cooperative navigation (PettingZoo simple_spread_v3)",
                scale: Scale::Agents { default: 3, bench: &[3] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Mappo, Algo::Ippo, Algo::Iql, Algo::Vdn, Algo::Coma, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleSpreadConfig>,
                build: build::<SimpleSpreadConfig>,
                population: population::<SimpleSpreadConfig>,
                replay: Some(replay_world::<SimpleSpreadConfig>),
            },
            EnvKind::SimpleLine => &EnvEntry {
                name: "simple_line",
                about: "MPE agents spreading evenly along a segment (mpe2 simple_line_v1)",
                scale: Scale::Agents { default: 4, bench: &[4] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Mappo, Algo::Ippo, Algo::Iql, Algo::Vdn, Algo::Coma, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleLineConfig>,
                build: build::<SimpleLineConfig>,
                population: population::<SimpleLineConfig>,
                replay: Some(replay_world::<SimpleLineConfig>),
            },
            EnvKind::SimpleFormation => &EnvEntry {
                name: "simple_formation",
                about: "MPE agents forming a circle around a landmark (mpe2 simple_formation_v1)",
                scale: Scale::Agents { default: 4, bench: &[4] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Mappo, Algo::Ippo, Algo::Iql, Algo::Vdn, Algo::Coma, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleFormationConfig>,
                build: build::<SimpleFormationConfig>,
                population: population::<SimpleFormationConfig>,
                replay: Some(replay_world::<SimpleFormationConfig>),
            },
            EnvKind::SimpleAdversary => &EnvEntry {
                name: "simple_adversary",
                about: "MPE physical deception: good agents hide the target from an adversary (mpe2 simple_adversary_v3)",
                scale: Scale::Agents { default: 3, bench: &[3] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleAdversaryConfig>,
                build: build::<SimpleAdversaryConfig>,
                population: population::<SimpleAdversaryConfig>,
                replay: Some(replay_world::<SimpleAdversaryConfig>),
            },
            EnvKind::SimpleCrypto => &EnvEntry {
                name: "simple_crypto",
                about: "MPE covert communication: Alice and Bob share a key, Eve listens (mpe2 simple_crypto_v3)",
                scale: Scale::Agents { default: 3, bench: &[3] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleCryptoConfig>,
                build: build::<SimpleCryptoConfig>,
                population: population::<SimpleCryptoConfig>,
                replay: Some(replay_world::<SimpleCryptoConfig>),
            },
            EnvKind::SimplePush => &EnvEntry {
                name: "simple_push",
                about: "MPE keep-away: an adversary pushes a good agent off its goal (mpe2 simple_push_v3)",
                scale: Scale::Agents { default: 2, bench: &[2] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimplePushConfig>,
                build: build::<SimplePushConfig>,
                population: population::<SimplePushConfig>,
                replay: Some(replay_world::<SimplePushConfig>),
            },
            EnvKind::SimpleReference => &EnvEntry {
                name: "simple_reference",
                about: "MPE referential communication: two agents tell each other where to go (mpe2 simple_reference_v3)",
                scale: Scale::Agents { default: 2, bench: &[2] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleReferenceConfig>,
                build: build::<SimpleReferenceConfig>,
                population: population::<SimpleReferenceConfig>,
                replay: Some(replay_world::<SimpleReferenceConfig>),
            },
            EnvKind::SimpleTag => &EnvEntry {
                name: "simple_tag",
                about: "MPE predator-prey: three predators chase a faster prey among obstacles (mpe2 simple_tag_v3)",
                scale: Scale::Agents { default: 4, bench: &[4] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleTagConfig>,
                build: build::<SimpleTagConfig>,
                population: population::<SimpleTagConfig>,
                replay: Some(replay_world::<SimpleTagConfig>),
            },
            EnvKind::SimpleWorldComm => &EnvEntry {
                name: "simple_world_comm",
                about: "MPE predator-prey with a speaking leader, food and forests (mpe2 simple_world_comm_v3)",
                scale: Scale::Agents { default: 6, bench: &[6] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleWorldCommConfig>,
                build: build::<SimpleWorldCommConfig>,
                population: population::<SimpleWorldCommConfig>,
                replay: Some(replay_world::<SimpleWorldCommConfig>),
            },
            EnvKind::SimpleSpeakerListener => &EnvEntry {
                name: "simple_speaker_listener",
                about: "MPE cooperative communication: a speaker guides a listener (mpe2 simple_speaker_listener_v4)",
                scale: Scale::Agents { default: 2, bench: &[2] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<SimpleSpeakerListenerConfig>,
                build: build::<SimpleSpeakerListenerConfig>,
                population: population::<SimpleSpeakerListenerConfig>,
                replay: Some(replay_world::<SimpleSpeakerListenerConfig>),
            },
            EnvKind::CollectTreasure => &EnvEntry {
                name: "collect_treasure",
                about: "MPE collectors gather treasures and bring them to deposits (mpe2 collect_treasure_v1)",
                scale: Scale::Agents { default: 8, bench: &[8] },
                bench_envs: &[1, 64, 1024, 16384, 65536],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Mappo, Algo::Maddpg, Algo::Ddpg],
                example_config: None,
                distinct_agents: true,
                check: check::<CollectTreasureConfig>,
                build: build::<CollectTreasureConfig>,
                population: population::<CollectTreasureConfig>,
                replay: Some(replay_world::<CollectTreasureConfig>),
            },
            EnvKind::Swarm => &EnvEntry {
                name: "swarm",
                about: "crowds heading for goals through congestion (mean-field, to 10⁶ agents)",
                scale: Scale::Agents { default: 1000, bench: &[1000, 10_000, 100_000, 1_000_000] },
                bench_envs: &[1],
                render_cycles: None,
                algos: &[Algo::Mfac, Algo::Ippo],
                example_config: Some(include_str!("../../examples/swarm_1000.toml")),
                distinct_agents: false,
                check: check::<SwarmConfig>,
                build: build::<SwarmConfig>,
                population: population::<SwarmConfig>,
                replay: None,
            },
            EnvKind::Ising => &EnvEntry {
                name: "ising",
                about: "the Ising model, every lattice site an agent (Yang et al. 2018)",
                scale: Scale::LatticeSide { default: 64, bench: &[64] },
                bench_envs: &[1, 16, 64, 256],
                render_cycles: Some(50),
                algos: &[Algo::Mfq],
                example_config: None,
                distinct_agents: false,
                check: check::<IsingConfig>,
                build: build::<IsingConfig>,
                population: population::<IsingConfig>,
                replay: None,
            },
            EnvKind::Battle => &EnvEntry {
                name: "battle",
                about: "MAgent's Battle: two teams of 64 on a 40×40 grid (Mean Field MARL)",
                scale: Scale::MapSide { default: 40, bench: &[40], agents: |side| 2 * BattleConfig::new(1).with_map_size(side).team_size() },
                bench_envs: &[1, 16, 64, 256],
                render_cycles: Some(200),
                algos: &[Algo::Mfac, Algo::Ippo, Algo::Mfq, Algo::Iql],
                example_config: Some(include_str!("../../examples/battle_selfplay.toml")),
                distinct_agents: false,
                check: check::<BattleConfig>,
                build: build::<BattleConfig>,
                population: population::<BattleConfig>,
                replay: None,
            },
            EnvKind::Routing => &EnvEntry {
                name: "routing",
                about: "vehicles choosing roads through congestion: N-player dynamic routing (Braess, Sioux Falls; to 10⁶ vehicles)",
                scale: Scale::Agents { default: 1000, bench: &[1000, 10_000, 100_000, 1_000_000] },
                bench_envs: &[1],
                render_cycles: None,
                algos: &[Algo::Ippo, Algo::Iql],
                example_config: Some(include_str!("../../examples/routing_braess.toml")),
                distinct_agents: false,
                check: check::<RoutingConfig>,
                build: build::<RoutingConfig>,
                population: population::<RoutingConfig>,
                replay: None,
            },
            EnvKind::Market => &EnvEntry {
                name: "market",
                about: "traders lending and borrowing around the mean reserve: the linear-quadratic mean-field game of systemic risk (closed form)",
                scale: Scale::Agents { default: 1000, bench: &[1000, 10_000, 100_000, 1_000_000] },
                bench_envs: &[1],
                render_cycles: None,
                algos: &[Algo::Ippo],
                example_config: Some(include_str!("../../examples/market.toml")),
                distinct_agents: false,
                check: check::<MarketConfig>,
                build: build::<MarketConfig>,
                population: population::<MarketConfig>,
                replay: None,
            },
        }
    }

    /// Agents per env that `options` give (with `n_envs`, `max_cycles` and the rest at their
    /// defaults), where they decide it; `None` where `--agents` does.
    pub fn population(self, options: &super::EnvOptions) -> Result<Option<usize>> {
        (self.entry().population)(&EnvParams { options: options.clone(), ..EnvParams::new(1, 0) })
    }

    /// The name shoal writes.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// Builds a batch of this env.
    pub fn build(self, ctx: &Arc<GpuContext>, params: &EnvParams) -> Result<Box<dyn BatchedEnv>> {
        (self.entry().check)(params)?;
        (self.entry().build)(ctx, params)
    }

    /// Every env, in the order of the README's table.
    pub fn all() -> &'static [EnvKind] {
        <EnvKind as clap::ValueEnum>::value_variants()
    }

    /// The names of the envs `shoal replay` can replay (those with a [`EnvEntry::replay`]),
    /// comma-separated, for error messages.
    pub fn replayable_names() -> String {
        let names: Vec<&str> = Self::all().iter().filter(|k| k.entry().replay.is_some()).map(|k| k.name()).collect();
        names.join(", ")
    }

    /// The algorithm `shoal train` runs when none is given.
    pub fn default_algo(self) -> Algo {
        self.entry().algos[0]
    }

    /// Checks that `algo` trains on this env, naming the ones that do.
    pub fn check_algo(self, algo: Algo) -> Result<()> {
        let algos = self.entry().algos;
        if algos.contains(&algo) {
            return Ok(());
        }
        let names: Vec<&str> = algos.iter().map(|a| a.name()).collect();
        Err(ShoalError::config("algo", algo.name(), format!("{} trains with {}", self.name(), names.join(" or "))))
    }
}

impl std::fmt::Display for EnvKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Checks a run's env parameters without a device (see [`EnvEntry::check`]).
pub fn check_params(kind: EnvKind, params: &EnvParams) -> Result<()> {
    (kind.entry().check)(params)
}

/// The registry's check of an env whose configuration is `C`: options it does not take first
/// (a typo must not train the default).
fn check<C: FromParams>(params: &EnvParams) -> Result<()> {
    params.options.check_known(C::OPTIONS)?;
    C::from_params(params).map(|_| ())
}

/// The registry's constructor of an env whose configuration is `C`.
fn build<C: FromParams>(ctx: &Arc<GpuContext>, params: &EnvParams) -> Result<Box<dyn BatchedEnv>> {
    check::<C>(params)?;
    Ok(Box::new(C::from_params(params)?.build(ctx)?))
}

/// The registry's population of an env whose configuration is `C`.
fn population<C: FromParams>(params: &EnvParams) -> Result<Option<usize>> {
    params.options.check_known(C::OPTIONS)?;
    C::population(params)
}

/// The registry's constructor of an MPE batch for `shoal replay`: one that keeps the world an
/// episode ended in, for the replay to read.
fn replay_world<C>(ctx: &Arc<GpuContext>, params: &EnvParams) -> Result<Box<dyn MpeWorld>>
where
    C: FromParams<Env = Mpe<C>> + MpeScenario + 'static,
{
    check::<C>(params)?;
    Ok(Box::new(C::from_params(params)?.build(ctx)?.without_auto_reset()))
}
