//! `routing`: the N-player dynamic routing game on the GPU — every vehicle an agent choosing its
//! next road at every node, congestion from the vehicles actually on each road.
//!
//! Same network files, same clock and same costs as the mean-field game of
//! [`crate::mfg::routing`] (OpenSpiel's dynamic routing): a vehicle decides when its waiting time
//! runs out, enters the road it picks, and waits `max(0, ⌊t_road(v) / time_step⌋ − 1)` steps,
//! where `v` counts the vehicles on that road at the next step. Each of the V vehicles stands for
//! `demand / V` of the network's vehicles, so at every V the congestion is on the scale of the
//! mean field, and as V grows the N-player game approaches it (`shoal mfg --n-player`).
//!
//! **Agents and actions.** One group, `vehicle`, of V agents. An action is the index of the
//! successor road at the node the vehicle's road ends at (`0..max out-degree`); it counts only at
//! the steps the vehicle decides (observation column "deciding" = 1), and an index past the node's
//! degree takes road 0 and is counted as invalid. Observation: the current road (one-hot), the
//! destination (one-hot over the network's destinations), the time `t / T`, deciding, done; with
//! `compact_obs` the road and destination are indices scaled to [0, 1) instead (5 numbers, so that
//! a million vehicles of Sioux Falls fit the 128 MiB storage buffers of some adapters).
//! Reward: `−time_step` per step until arrival; a vehicle still travelling at the last step pays
//! one more (the `(T + 1)·time_step` of a non-arrival), so a return is minus the travel time.
//!
//! **On the device.** A step is four launches of `shaders/routing.wgsl` (clear the per-road
//! counters; move; count with atomics; assign waiting times and observe) — O(V + roads), the
//! congestion a reduction over the vehicles, never a host copy. Episodes last `time_steps` and
//! every env runs in step ([`LockstepEpisodes`]). The game has no randomness of its own: where
//! vehicles go is the policy's doing.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Int, Tensor};

use super::lockstep::{single_discrete, step_output, LockstepEpisodes, StepBuffers};
use super::options::EnvOption;
use super::{ActionSpace, Actions, AgentGroup, BatchedEnv, EnvParams, EnvSnapshot, EnvSpec, EpisodeStats, FromParams, StepOutput};
use crate::error::{Result, ShoalError};
use crate::render::scene::{Body, Scene, Segment};
use plotters::style::RGBColor;
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};
use crate::mfg::{MeanFieldGame, NetworkFile, RoutingGame, TabularPolicy};

/// The WGSL of this environment.
pub const ROUTING_WGSL: &str = include_str!("../../shaders/routing.wgsl");

/// `network`: which road network.
pub const NETWORK: EnvOption =
    EnvOption { name: "network", about: "a built-in network (braess, braess_without_bc, pigou, sioux_falls, sioux_falls_dummy) or a network JSON file; default braess" };
/// `compact_obs`: five numbers per vehicle instead of one-hots (10⁶ vehicles on big networks).
pub const COMPACT_OBS: EnvOption =
    EnvOption { name: "compact_obs", about: "observe road and destination as indices scaled to [0, 1) instead of one-hots (5 numbers); default false" };
/// `time_step`: the length of a step.
pub const TIME_STEP: EnvOption = EnvOption { name: "time_step", about: "length of a time step; default the network file's" };

/// Most vehicles per env: waiting times and indices stay exact in the kernel's words.
pub const MAX_VEHICLES: usize = 1 << 24;
const MODE_CLEAR: usize = 0;
const MODE_MOVE: usize = 1;
const MODE_COUNT: usize = 2;
const MODE_ASSIGN: usize = 3;
const MODE_RESPAWN: usize = 4;
const MODE_ACT: usize = 5;
/// Observation columns after the road and destination one-hots: time, deciding, done.
const EXTRA_OBS: usize = 3;

/// A batch of N-player routing games.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingConfig {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Vehicles (agents) per env.
    pub vehicles: usize,
    /// A built-in network or a network file.
    pub network: String,
    /// Step length; `None`: the file's.
    pub time_step: Option<f64>,
    /// Steps per episode; `None`: the file's.
    pub time_steps: Option<usize>,
    /// Observe road and destination as scaled indices (5 numbers) instead of one-hots
    /// (`roads + destinations + 3`): what fits 10⁶ vehicles of Sioux Falls in one buffer.
    pub compact_obs: bool,
    /// Also hand out the observations episodes ended in (value learners' targets).
    pub terminal_obs: bool,
}

impl RoutingConfig {
    /// `n_envs` envs of `vehicles` vehicles on `network`, at the file's clock.
    pub fn new(n_envs: usize, vehicles: usize, network: &str) -> RoutingConfig {
        RoutingConfig { n_envs, vehicles, network: network.to_string(), time_step: None, time_steps: None, compact_obs: false, terminal_obs: false }
    }

    /// The mean-field game on the same network and clock (its network, demand and policy layout
    /// are the env's).
    pub fn game(&self) -> Result<RoutingGame> {
        if self.n_envs == 0 || self.vehicles == 0 || self.vehicles > MAX_VEHICLES {
            return Err(ShoalError::config("agents", self.vehicles, format!("routing needs at least one env and 1..={MAX_VEHICLES} vehicles per env")));
        }
        RoutingGame::new(&NetworkFile::load(&self.network)?, self.time_step, self.time_steps)
    }
}

impl FromParams for RoutingConfig {
    type Env = Routing;
    const OPTIONS: &'static [EnvOption] = &[NETWORK, TIME_STEP, COMPACT_OBS];

    fn from_params(params: &EnvParams) -> Result<RoutingConfig> {
        if params.continuous {
            return Err(ShoalError::config("continuous", true, "vehicles choose roads: discrete actions only"));
        }
        let config = RoutingConfig {
            n_envs: params.n_envs,
            vehicles: params.agents,
            network: params.options.text(&NETWORK, "braess")?,
            time_step: params.options.positive(&TIME_STEP, None)?,
            time_steps: params.max_cycles,
            compact_obs: params.options.flag(&COMPACT_OBS, false)?,
            terminal_obs: params.terminal_obs,
        };
        config.game()?;
        Ok(config)
    }

    fn build(self, ctx: &Arc<GpuContext>) -> Result<Routing> {
        Routing::new(ctx.clone(), self)
    }
}

/// A batch of N-player routing games on the GPU.
pub struct Routing {
    ctx: Arc<GpuContext>,
    config: RoutingConfig,
    game: RoutingGame,
    spec: EnvSpec,
    kernels: [WgslKernel; 6],
    /// `[envs·V]` (road, step of the next decision, arrival step or −1, stuck in a sink).
    vehicle: CubeTensor,
    /// Successor tables, policy slots and each vehicle's trip (see `shaders/routing.wgsl`).
    network: CubeTensor,
    /// `[roads]` (free-flow time, BPR a, BPR b, capacity).
    bpr: CubeTensor,
    /// `[envs·roads]` vehicles counted on each road at the last step.
    link_count: CubeTensor,
    /// `[envs·V]` (running return, invalid actions).
    agent_acc: CubeTensor,
    /// Bound where a launch has no policy.
    no_policy: CubeTensor,
    episodes: LockstepEpisodes,
    last_obs: Option<CubeTensor>,
}

impl Routing {
    /// Builds the batch on `ctx`, checking the network and the device's buffer limits.
    pub fn new(ctx: Arc<GpuContext>, config: RoutingConfig) -> Result<Routing> {
        let game = config.game()?;
        let (envs, v, links) = (config.n_envs, config.vehicles, game.network.links.len());
        let dests = game.destinations.len();
        let obs_dim = if config.compact_obs { 2 + EXTRA_OBS } else { links + dests + EXTRA_OBS };
        let limit = ctx.max_storage_bytes();
        let bytes_per_env = (v * obs_dim * 4) as u64;
        if bytes_per_env * envs as u64 > limit || envs * v > (u32::MAX / 16) as usize {
            return Err(ShoalError::BatchTooLarge {
                what: format!("the observation buffer ({bytes_per_env} bytes per env of {v} vehicles)"),
                needed_bytes: bytes_per_env * envs as u64,
                limit_bytes: limit,
                max_envs: (limit / bytes_per_env) as usize,
            });
        }
        let max_degree = game.network.successors.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let (tables, trip_at) = network_tables(&game, v);
        let block = game.policy_len() / (game.time_steps * dests);
        let kernels = [MODE_CLEAR, MODE_MOVE, MODE_COUNT, MODE_ASSIGN, MODE_RESPAWN, MODE_ACT].map(|mode| {
            WgslKernel::new(
                "routing",
                &[GRID_WGSL, RNG_WGSL, ROUTING_WGSL],
                &[
                    ("n_envs", envs.to_string()),
                    ("vehicles", v.to_string()),
                    ("links", links.to_string()),
                    ("destinations", dests.to_string()),
                    ("time_steps", game.time_steps.to_string()),
                    ("time_step", format!("{:?}f", game.time_step as f32)),
                    ("weight", format!("{:?}f", (game.vehicles / v as f64) as f32)),
                    ("mode", mode.to_string()),
                    ("block", block.to_string()),
                    ("trip_at", trip_at.to_string()),
                    ("compact", config.compact_obs.to_string()),
                ],
            )
        });
        let bpr: Vec<f32> = game.network.links.iter().flat_map(|l| [l.free_flow_time, l.bpr_a, l.bpr_b, l.capacity].map(|x| x as f32)).collect();
        let spec = EnvSpec {
            name: "routing",
            n_envs: envs,
            groups: vec![AgentGroup { name: "vehicle".into(), agents: v, obs_dim, action: ActionSpace::Discrete { n: max_degree } }],
            max_cycles: game.time_steps,
        };
        let device = ctx.device().clone();
        Ok(Routing {
            vehicle: int_buffer(Tensor::<2, Int>::zeros([envs * v, 4], &device))?,
            network: int_buffer(ctx.upload_i32(&tables, [tables.len()])?)?,
            bpr: float_buffer(ctx.upload_f32(&bpr, [links, 4])?)?,
            link_count: int_buffer(Tensor::<1, Int>::zeros([envs * links], &device))?,
            agent_acc: float_buffer(Tensor::<3>::zeros([envs, v, 2], &device))?,
            no_policy: float_buffer(Tensor::<1>::zeros([1], &device))?,
            episodes: LockstepEpisodes::new(ctx.clone(), envs, game.time_steps)?,
            last_obs: None,
            kernels,
            spec,
            game,
            config,
            ctx,
        })
    }

    /// The configuration this batch was built with.
    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    /// The mean-field game on the same network, clock and policy layout.
    pub fn game(&self) -> &RoutingGame {
        &self.game
    }

    fn launch(&self, mode: usize, actions: &CubeTensor, out: &StepBuffers, policy: &CubeTensor) -> Result<()> {
        let clock = self.episodes.clock()?;
        let invocations = if mode == MODE_CLEAR { self.config.n_envs * self.game.network.links.len() } else { self.config.n_envs * self.config.vehicles };
        self.kernels[mode].launch(
            &self.ctx,
            invocations,
            &[&clock, actions, &self.vehicle, &self.network, &self.bpr, &self.link_count, &out.obs, &out.reward, &self.agent_acc, &out.flags, policy],
        );
        Ok(())
    }

    fn buffers(&self) -> StepBuffers {
        StepBuffers::new(&self.ctx, self.config.n_envs, self.config.vehicles, self.spec.groups[0].obs_dim)
    }

    /// Actions drawn from a tabular policy of the mean-field game ([`Routing::upload_policy`])
    /// for the vehicles deciding at the current step, on the device (0 for the others).
    pub fn policy_actions(&self, policy: &CubeTensor) -> Result<Actions> {
        self.episodes.ensure_started()?;
        let (envs, v) = (self.config.n_envs, self.config.vehicles);
        let actions = self.ctx.empty(&[envs, v], DType::I32);
        let out = StepBuffers { obs: self.no_policy.clone(), reward: self.no_policy.clone(), flags: self.no_policy.clone() };
        self.launch(MODE_ACT, &actions, &out, policy)?;
        Ok(Actions::Discrete(Tensor::<2, Int>::from_primitive::<burn::backend::Wgpu>(actions)))
    }

    /// Uploads a policy of [`Routing::game`] for [`Routing::policy_actions`] (once per policy).
    pub fn upload_policy(&self, policy: &TabularPolicy) -> Result<CubeTensor> {
        ShoalError::ensure_len("routing policy", policy.probs.len(), &[self.game.policy_len()])?;
        let probs: Vec<f32> = policy.probs.iter().map(|&p| p as f32).collect();
        float_buffer(self.ctx.upload_f32(&probs, [probs.len()])?)
    }

    /// Plays one episode from a reset in which every vehicle follows a fixed plan: `plan[t]` is
    /// each vehicle's action at step `t` (the same in every env; steps not listed act 0, for
    /// steps where nobody decides), e.g. an N-player equilibrium's routes
    /// ([`crate::mfg::NPlayerRouting::actions_by_step`]). The plan is uploaded before the first
    /// step; the episode's statistics come back.
    pub fn play_plan(&mut self, seed: u64, plan: &BTreeMap<usize, Vec<i32>>) -> Result<EpisodeStats> {
        let (envs, v) = (self.config.n_envs, self.config.vehicles);
        let group = &self.spec.groups[0];
        let tiled = |actions: &[i32]| -> Result<Actions> {
            ShoalError::ensure_len("planned actions", actions.len(), &[v])?;
            Actions::discrete_from_host(&self.ctx, group, envs, &actions.repeat(envs))
        };
        let idle = tiled(&vec![0; v])?;
        let uploaded: BTreeMap<usize, Actions> = plan.iter().map(|(&t, a)| Ok((t, tiled(a)?))).collect::<Result<_>>()?;
        self.clear_episode_stats()?;
        self.reset(seed)?;
        for t in 0..self.game.time_steps {
            self.step(&[uploaded.get(&t).unwrap_or(&idle).clone()])?;
        }
        self.episode_stats()
    }

    /// Vehicles counted on each road at the last step, `[envs · roads]` (tests, diagnostics).
    pub fn read_link_counts(&self) -> Result<Vec<i32>> {
        self.ctx.read_i32(Tensor::<1, Int>::from_primitive::<burn::backend::Wgpu>(self.link_count.clone()))
    }

    /// Every vehicle as (road, next decision step, arrival step or −1, stuck), `[envs · V]`.
    pub fn read_vehicles(&self) -> Result<Vec<[i32; 4]>> {
        let raw = self.ctx.read_i32(Tensor::<2, Int>::from_primitive::<burn::backend::Wgpu>(self.vehicle.clone()))?;
        Ok(raw.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect())
    }
}

/// The kernel's integer tables: successor starts `[L]`, counts `[L]`, policy slots `[L]`, the
/// successors themselves, then each vehicle's trip (origin, destination, first decision step,
/// destination index). Returns the tables and where the trips start.
fn network_tables(game: &RoutingGame, vehicles: usize) -> (Vec<i32>, usize) {
    let successors = &game.network.successors;
    let links = successors.len();
    let mut starts = Vec::with_capacity(links);
    let mut flat = Vec::new();
    for succ in successors {
        starts.push(flat.len() as i32);
        flat.extend(succ.iter().map(|&s| s as i32));
    }
    let mut tables = starts;
    tables.extend(successors.iter().map(|s| s.len() as i32));
    tables.extend((0..links).map(|l| (game.choice_index(0, 0, l)) as i32));
    tables.extend(flat);
    let trip_at = tables.len();
    for trip in vehicle_trips(game, vehicles) {
        tables.extend(trip);
    }
    (tables, trip_at)
}

/// Each vehicle's trip (origin, destination, first decision step, destination index), from the
/// demand entry [`RoutingGame::vehicle_entries`] gives it.
pub fn vehicle_trips(game: &RoutingGame, vehicles: usize) -> Vec<[i32; 4]> {
    game.vehicle_entries(vehicles)
        .into_iter()
        .map(|entry| {
            let od = &game.demand[entry];
            let first = game.first_decision(od).min(1 << 24);
            let dest = game.destinations.binary_search(&od.destination).expect("every destination is listed");
            [od.origin as i32, od.destination as i32, first as i32, dest as i32]
        })
        .collect()
}


impl BatchedEnv for Routing {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn reset(&mut self, seed: u64) -> Result<StepOutput> {
        self.episodes.begin_reset(seed)?;
        let mut out = self.buffers();
        out.flags = float_buffer(Tensor::<2>::zeros([2, self.config.n_envs], self.ctx.device()))?;
        // Counted once so that the roads' loads are there to draw before the first step.
        for mode in [MODE_RESPAWN, MODE_CLEAR, MODE_COUNT] {
            self.launch(mode, &self.no_policy, &out, &self.no_policy)?;
        }
        self.episodes.reset_done();
        self.last_obs = Some(out.obs.clone());
        Ok(out.into_output(self.config.n_envs))
    }

    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput> {
        self.episodes.ensure_started()?;
        let actions = single_discrete(actions, "routing actions", self.config.n_envs, self.config.vehicles)?;
        let out = self.buffers();
        for mode in [MODE_CLEAR, MODE_MOVE, MODE_COUNT, MODE_ASSIGN] {
            self.launch(mode, &actions, &out, &self.no_policy)?;
        }
        let mut terminal = self.config.terminal_obs.then(|| out.obs.clone());
        let mut out = out;
        if self.episodes.ending() {
            // With terminal observations asked for, the next episode's go to a fresh buffer and
            // the ones the episode ended in stay where the assign launch wrote them.
            if self.config.terminal_obs {
                let fresh = self.buffers().obs;
                terminal = Some(std::mem::replace(&mut out.obs, fresh));
            }
            self.launch(MODE_RESPAWN, &actions, &out, &self.no_policy)?;
        }
        self.episodes.advance(&self.agent_acc);
        self.last_obs = Some(out.obs.clone());
        let mut output = out.into_output(self.config.n_envs);
        output.terminal_obs = terminal.map(|obs| vec![float_tensor(obs)]);
        Ok(output)
    }

    fn episodes_may_end_next_step(&self) -> bool {
        self.episodes.ending()
    }

    fn episode_stats(&self) -> Result<EpisodeStats> {
        self.episodes.stats(&self.agent_acc)
    }

    fn clear_episode_stats(&mut self) -> Result<()> {
        self.episodes.clear();
        Ok(())
    }

    /// State layout: vehicles `[envs·V·4]` (as f32: every word is below 2²⁴ in magnitude), the
    /// accumulators `[envs·V·2]`, the last observations.
    fn snapshot(&self) -> Result<EnvSnapshot> {
        let obs = self.last_obs.clone().ok_or_else(|| ShoalError::config("snapshot", "before reset", "reset the batch before taking a snapshot"))?;
        let mut state: Vec<f32> = self.read_vehicles()?.iter().flatten().map(|&w| w as f32).collect();
        state.extend(self.ctx.read_f32(float_tensor::<3>(self.agent_acc.clone()))?);
        state.extend(self.ctx.read_f32(float_tensor::<3>(obs))?);
        let (counters, episode_stats) = self.episodes.snapshot()?;
        Ok(EnvSnapshot { state, counters, episode_stats })
    }

    fn scene(&self) -> Result<Scene> {
        // Env 0 only: its vehicles' arrival steps and its road counts.
        let per_env = self.config.vehicles;
        let vehicles = Tensor::<2, Int>::from_primitive::<burn::backend::Wgpu>(self.vehicle.clone());
        let arrival = self.ctx.read_i32(vehicles.slice([0..per_env, 2..3]).reshape([per_env]))?;
        let counts = self.read_link_counts()?;
        let arrived = arrival.iter().filter(|&&a| a >= 0).count();
        Ok(network_scene(&self.game, &counts[..self.game.network.links.len()], arrived, per_env))
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let (envs, v, obs_dim) = (self.config.n_envs, self.config.vehicles, self.spec.groups[0].obs_dim);
        let n = envs * v;
        ShoalError::ensure_len("snapshot state", snapshot.state.len(), &[n, 4 + 2 + obs_dim])?;
        let words: Vec<i32> = snapshot.state[..4 * n].iter().map(|&w| w as i32).collect();
        self.vehicle = int_buffer(self.ctx.upload_i32(&words, [n, 4])?)?;
        self.agent_acc = float_buffer(self.ctx.upload_f32(&snapshot.state[4 * n..6 * n], [envs, v, 2])?)?;
        let obs = float_buffer(self.ctx.upload_f32(&snapshot.state[6 * n..], [envs, v, obs_dim])?)?;
        self.episodes.restore(&snapshot.counters, &snapshot.episode_stats)?;
        self.last_obs = Some(obs.clone());
        let device = self.ctx.device();
        let flags = float_buffer(Tensor::<2>::zeros([2, envs], device))?;
        let reward = float_buffer(Tensor::<2>::zeros([envs, v], device))?;
        Ok(step_output(obs, reward, flags, envs))
    }
}

/// The network of env 0: each road a line from grey (empty) to red (the busiest road of the
/// frame), thicker with its load, offset to its right so two-way roads show both directions.
pub fn network_scene(game: &RoutingGame, counts: &[i32], arrived: usize, vehicles: usize) -> Scene {
    let network = &game.network;
    let names: Vec<&String> = network.links.iter().flat_map(|l| [&l.from, &l.to]).collect();
    // Nodes without a position go on a circle.
    let position = |name: &String| -> (f64, f64) {
        network.positions.get(name).map(|p| (p[0], p[1])).unwrap_or_else(|| {
            let i = names.iter().position(|n| *n == name).unwrap_or(0) as f64;
            let angle = i / names.len().max(1) as f64 * std::f64::consts::TAU;
            (angle.cos(), angle.sin())
        })
    };
    let points: Vec<(f64, f64)> = names.iter().map(|n| position(n)).collect();
    let (lo_x, hi_x) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (lo_y, hi_y) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let half = 0.5 * (hi_x - lo_x).max(hi_y - lo_y).max(1e-9) * 1.1;
    let centre = (0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y));
    let at = |name: &String| {
        let (x, y) = position(name);
        (x - centre.0, y - centre.1)
    };
    let busiest = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let weight = game.vehicles / vehicles as f64;
    let segments = network
        .links
        .iter()
        .zip(counts)
        .filter(|(l, _)| l.from != l.to)
        .map(|(l, &c)| {
            let (from, to) = (at(&l.from), at(&l.to));
            let (dx, dy) = (to.0 - from.0, to.1 - from.1);
            let length = (dx * dx + dy * dy).sqrt().max(1e-9);
            let offset = (dy / length * half * 0.012, -dx / length * half * 0.012);
            let load = c as f64 / busiest;
            let mix = |a: f64, b: f64| (a + (b - a) * load).round() as u8;
            Segment {
                from: (from.0 + offset.0, from.1 + offset.1),
                to: (to.0 + offset.0, to.1 + offset.1),
                width: 2 + (6.0 * load).round() as u32,
                color: RGBColor(mix(190.0, 220.0), mix(190.0, 30.0), mix(190.0, 30.0)),
            }
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let bodies = names
        .iter()
        .filter(|n| seen.insert(n.as_str()))
        .map(|n| {
            let (x, y) = at(n);
            Body { x, y, radius: half * 0.02, fill: RGBColor(40, 60, 120), ring: None }
        })
        .collect();
    let on_roads: f64 = counts.iter().map(|&c| c as f64 * weight).sum();
    Scene::Graph { half_extent: half, segments, bodies, caption: format!("{on_roads:.0} vehicles on the roads, {arrived} of {vehicles} agents arrived") }
}
