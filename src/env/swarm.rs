//! `swarm`: crowds of 16 to millions of agents per env, each heading for its own goal while paying
//! for congestion — the traffic setting of mean-field RL, where an agent reacts to the average
//! crowd around it, not to individuals.
//!
//! Agents move like MPE particles (5 discrete actions that accelerate, damping, a speed cap) in a
//! walled square whose area grows with the agent count, so the density — and the work per agent
//! — stays the same from a thousand agents to a million. Goals are drawn within `goal_range` of
//! each agent's start. Reward: `progress_weight · (distance before − distance after) −
//! congestion_weight · (agents within radius)`. Observation (12): own velocity, vector to goal,
//! neighbour count, neighbours' mean velocity, neighbours' mean action ā (5).
//!
//! A step is four launches of `shaders/swarm.wgsl` (move; then the mean field of
//! [`NeighbourField`]; then observe) — O(agents), no O(N²) pass — plus, at an episode end, a
//! respawn and a second mean field. Episodes have a fixed length and every env runs in step
//! ([`LockstepEpisodes`]), so no step moves data between host and device.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::config::Config;
use burn::tensor::{Int, Tensor};

use super::lockstep::{single_discrete, LockstepEpisodes, StepBuffers};
use super::neighbours::NeighbourField;
use plotters::style::RGBColor;

use super::{ActionSpace, Actions, AgentGroup, BatchedEnv, EnvParams, FromParams, EnvSnapshot, EnvSpec, EpisodeStats, ObsLayout, StepOutput};
use crate::render::scene::{Body, Scene};
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};

/// The WGSL of this environment.
pub const SWARM_WGSL: &str = include_str!("../../shaders/swarm.wgsl");

/// Observation width.
pub const SWARM_OBS_DIM: usize = 12;
const N_ACTIONS: usize = 5;
const MODE_MOVE: usize = 0;
const MODE_OBSERVE: usize = 1;
const MODE_RESPAWN: usize = 2;
const MODE_OBSERVE_FRESH: usize = 3;

/// Configuration of a batch of swarms.
#[derive(Config, Debug, PartialEq)]
pub struct SwarmConfig {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Agents per env (16 to tens of millions, memory permitting).
    #[config(default = 1000)]
    pub agents: usize,
    /// Agents per unit area: the world's side is √(agents / density).
    #[config(default = 1.0)]
    pub density: f32,
    /// Neighbourhood radius of the mean field and of congestion.
    #[config(default = 1.0)]
    pub radius: f32,
    /// Goals are drawn up to this far from an agent's start, along each axis.
    #[config(default = 4.0)]
    pub goal_range: f32,
    /// Episode length in steps.
    #[config(default = 100)]
    pub max_cycles: usize,
    /// Reward per unit of distance gained toward the goal.
    #[config(default = 1.0)]
    pub progress_weight: f32,
    /// Cost per neighbour within `radius`, per step.
    #[config(default = 0.01)]
    pub congestion_weight: f32,
    /// Acceleration of a move action.
    #[config(default = 3.0)]
    pub accel: f32,
    /// Speed cap.
    #[config(default = 1.0)]
    pub max_speed: f32,
}

impl SwarmConfig {
    /// Rejects settings the kernels cannot run.
    pub fn validate(&self) -> Result<()> {
        if self.n_envs == 0 {
            return Err(ShoalError::config("n_envs", 0, "need at least one env"));
        }
        if self.agents < 2 {
            return Err(ShoalError::config("agents", self.agents, "a swarm needs at least 2 agents"));
        }
        if self.max_cycles == 0 {
            return Err(ShoalError::config("max_cycles", 0, "episodes need at least one step"));
        }
        for (name, v) in [("density", self.density), ("radius", self.radius), ("goal_range", self.goal_range), ("max_speed", self.max_speed), ("accel", self.accel)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(ShoalError::config(name, v, "must be a positive number"));
            }
        }
        for (name, v) in [("progress_weight", self.progress_weight), ("congestion_weight", self.congestion_weight)] {
            if !v.is_finite() {
                return Err(ShoalError::config(name, v, "must be a finite number"));
            }
        }
        Ok(())
    }

    /// Half the side of the square world.
    pub fn half_extent(&self) -> f32 {
        0.5 * (self.agents as f32 / self.density).sqrt()
    }

    /// Builds the batch on the shared GPU context.
    pub fn init(&self) -> Result<Swarm> {
        Swarm::new(GpuContext::shared()?, self.clone())
    }
}

/// Observation columns before the neighbours' mean action (velocity, goal vector, count, mean
/// velocity): what an agent's policy sees.
pub const SWARM_LOCAL_OBS: usize = 7;

impl FromParams for SwarmConfig {
    type Env = Swarm;

    /// The batch a run's parameters describe.
    fn from_params(params: &EnvParams) -> Result<SwarmConfig> {
        if params.continuous {
            return Err(ShoalError::config("continuous", true, "swarm agents take discrete actions"));
        }
        let config = SwarmConfig::new(params.n_envs).with_agents(params.agents);
        let config = match params.max_cycles { Some(t) => config.with_max_cycles(t), None => config };
        config.validate()?;
        Ok(config)
    }

    fn build(self, ctx: &Arc<GpuContext>) -> Result<Swarm> {
        Swarm::new(ctx.clone(), self)
    }
}

/// Positions read back for rendering and tests, row-major `[envs, agents, 2]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmState {
    /// Agent positions.
    pub agent_pos: Vec<f32>,
    /// Agent velocities.
    pub agent_vel: Vec<f32>,
    /// Goal positions.
    pub goal_pos: Vec<f32>,
}

/// A batch of swarms on the GPU.
pub struct Swarm {
    ctx: Arc<GpuContext>,
    config: SwarmConfig,
    spec: EnvSpec,
    kernels: [WgslKernel; 4],
    neighbours: NeighbourField,
    /// `[envs·agents]` vec4: position, velocity.
    agent_state: CubeTensor,
    /// `[envs·agents]` vec4: goal, distance to goal, 0.
    goal: CubeTensor,
    /// `[envs·agents]` vec2: running return, invalid actions.
    agent_acc: CubeTensor,
    idle_actions: CubeTensor,
    episodes: LockstepEpisodes,
    /// The observations last handed out (kept for checkpoints; no copy).
    last_obs: Option<CubeTensor>,
}

impl Swarm {
    /// Builds the batch on `ctx`, checking `config` and the device's buffer limits.
    pub fn new(ctx: Arc<GpuContext>, config: SwarmConfig) -> Result<Swarm> {
        config.validate()?;
        let (envs, k) = (config.n_envs, config.agents);
        let limit = ctx.max_storage_bytes();
        let bytes_per_env = (k * SWARM_OBS_DIM * 4) as u64;
        if bytes_per_env * envs as u64 > limit || envs * k > (u32::MAX / 16) as usize {
            return Err(ShoalError::BatchTooLarge {
                what: format!("the observation buffer ({bytes_per_env} bytes per env of {k} agents)"),
                needed_bytes: bytes_per_env * envs as u64,
                limit_bytes: limit,
                max_envs: (limit / bytes_per_env) as usize,
            });
        }
        let half_extent = config.half_extent();
        let neighbours = NeighbourField::new(ctx.clone(), envs, k, half_extent, config.radius, N_ACTIONS)?;
        let kernels = [MODE_MOVE, MODE_OBSERVE, MODE_RESPAWN, MODE_OBSERVE_FRESH].map(|mode| {
            WgslKernel::new(
                "swarm",
                &[GRID_WGSL, RNG_WGSL, SWARM_WGSL],
                &[
                    ("n_envs", envs.to_string()),
                    ("agents", k.to_string()),
                    ("mode", mode.to_string()),
                    ("max_cycles", config.max_cycles.to_string()),
                    ("half_extent", format!("{half_extent:?}f")),
                    ("goal_range", format!("{:?}f", config.goal_range)),
                    ("accel", format!("{:?}f", config.accel)),
                    ("max_speed", format!("{:?}f", config.max_speed)),
                    ("progress_weight", format!("{:?}f", config.progress_weight)),
                    ("congestion_weight", format!("{:?}f", config.congestion_weight)),
                ],
            )
        });
        let spec = EnvSpec {
            name: "swarm",
            n_envs: envs,
            groups: vec![AgentGroup { name: "agent".into(), agents: k, obs_dim: SWARM_OBS_DIM, action: ActionSpace::Discrete { n: N_ACTIONS } }],
            max_cycles: config.max_cycles,
        };
        let device = ctx.device().clone();
        Ok(Swarm {
            agent_state: float_buffer(Tensor::<2>::zeros([envs * k, 4], &device))?,
            goal: float_buffer(Tensor::<2>::zeros([envs * k, 4], &device))?,
            agent_acc: float_buffer(Tensor::<3>::zeros([envs, k, 2], &device))?,
            idle_actions: int_buffer(Tensor::<2, Int>::zeros([envs, k], &device))?,
            episodes: LockstepEpisodes::new(ctx.clone(), envs, config.max_cycles)?,
            last_obs: None,
            neighbours,
            kernels,
            spec,
            config,
            ctx,
        })
    }

    /// The configuration this batch was built with.
    pub fn config(&self) -> &SwarmConfig {
        &self.config
    }

    /// Positions, velocities and goals, read back (rendering, tests; never in a training loop).
    pub fn read_state(&self) -> Result<SwarmState> {
        let state = self.ctx.read_f32(float_tensor::<2>(self.agent_state.clone()))?;
        let goal = self.ctx.read_f32(float_tensor::<2>(self.goal.clone()))?;
        let pick = |v: &[f32], offset: usize| v.chunks(4).flat_map(|c| [c[offset], c[offset + 1]]).collect();
        Ok(SwarmState { agent_pos: pick(&state, 0), agent_vel: pick(&state, 2), goal_pos: pick(&goal, 0) })
    }

    /// Launches `mode` with the step's buffers.
    fn launch(&self, mode: usize, actions: &CubeTensor, field: &CubeTensor, out: &StepBuffers) -> Result<()> {
        let clock = self.episodes.clock()?;
        self.kernels[mode].launch(
            &self.ctx,
            self.config.n_envs * self.config.agents,
            &[&clock, actions, &self.agent_state, &self.goal, field, &out.obs, &out.reward, &self.agent_acc, &out.flags],
        );
        Ok(())
    }

    /// Respawns every agent (next episode, or episode 0 after a reset) and observes.
    fn respawn(&self, out: &StepBuffers) -> Result<()> {
        self.launch(MODE_RESPAWN, &self.idle_actions, &out.obs, out)?;
        let field = self.neighbours.launch(&self.agent_state, &self.idle_actions)?;
        self.launch(MODE_OBSERVE_FRESH, &self.idle_actions, &field, out)
    }

    fn buffers(&self) -> StepBuffers {
        StepBuffers::new(&self.ctx, self.config.n_envs, self.config.agents, SWARM_OBS_DIM)
    }
}



impl BatchedEnv for Swarm {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn reset(&mut self, seed: u64) -> Result<StepOutput> {
        self.episodes.begin_reset(seed)?;
        let out = self.buffers();
        self.respawn(&out)?;
        self.episodes.reset_done();
        self.last_obs = Some(out.obs.clone());
        Ok(out.into_output(self.config.n_envs))
    }

    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput> {
        self.episodes.ensure_started()?;
        let actions = single_discrete(actions, "swarm actions", self.config.n_envs, self.config.agents)?;
        let out = self.buffers();
        self.launch(MODE_MOVE, &actions, &out.obs, &out)?;
        let field = self.neighbours.launch(&self.agent_state, &actions)?;
        self.launch(MODE_OBSERVE, &actions, &field, &out)?;
        if self.episodes.ending() {
            // Before the clock advances: respawn draws the episode after the clock's.
            self.respawn(&out)?;
        }
        // Respawning leaves the running returns alone, so they still hold the finished episode.
        self.episodes.advance(&self.agent_acc);
        self.last_obs = Some(out.obs.clone());
        Ok(out.into_output(self.config.n_envs))
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

    fn snapshot(&self) -> Result<EnvSnapshot> {
        let obs = self.last_obs.clone().ok_or_else(|| ShoalError::config("snapshot", "before reset", "reset the swarm before taking a snapshot"))?;
        let mut state = self.ctx.read_f32(float_tensor::<2>(self.agent_state.clone()))?;
        state.extend(self.ctx.read_f32(float_tensor::<2>(self.goal.clone()))?);
        state.extend(self.ctx.read_f32(float_tensor::<3>(self.agent_acc.clone()))?);
        state.extend(self.ctx.read_f32(float_tensor::<3>(obs))?);
        let (counters, episode_stats) = self.episodes.snapshot()?;
        Ok(EnvSnapshot { state, counters, episode_stats })
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let (envs, k) = (self.config.n_envs, self.config.agents);
        let n = envs * k;
        ShoalError::ensure_len("snapshot state", snapshot.state.len(), &[n, 4 + 4 + 2 + SWARM_OBS_DIM])?;
        let part = |from: usize, width: usize| &snapshot.state[from * n..(from + width) * n];
        self.agent_state = float_buffer(self.ctx.upload_f32(part(0, 4), [n, 4])?)?;
        self.goal = float_buffer(self.ctx.upload_f32(part(4, 4), [n, 4])?)?;
        self.agent_acc = float_buffer(self.ctx.upload_f32(part(8, 2), [envs, k, 2])?)?;
        let obs = float_buffer(self.ctx.upload_f32(part(10, SWARM_OBS_DIM), [envs, k, SWARM_OBS_DIM])?)?;
        self.episodes.restore(&snapshot.counters, &snapshot.episode_stats)?;
        self.last_obs = Some(obs.clone());
        let device = self.ctx.device();
        Ok(StepOutput {
            obs: vec![float_tensor(obs)],
            reward: Tensor::zeros([envs, k], device),
            done: Tensor::zeros([envs], device),
            truncated: Tensor::zeros([envs], device),
            terminal_obs: None,
            legal_actions: None,
        })
    }

    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: SWARM_LOCAL_OBS, mean_action: SWARM_OBS_DIM - SWARM_LOCAL_OBS, distinct_agents: false }
    }

    fn scene(&self) -> Result<Scene> {
        Ok(scene(&self.read_state()?, &self.config))
    }
}

/// Above this many agents a frame is a density map instead of dots.
pub const MAX_DOTS: usize = 4000;
/// Cells per side of the density map.
const DENSITY_CELLS: usize = 96;

/// The scene of env 0 of `state`.
pub fn scene(state: &SwarmState, config: &SwarmConfig) -> Scene {
    let k = config.agents;
    let h = config.half_extent() as f64;
    let caption = format!("{k} agents");
    let pos: Vec<(f64, f64)> = (0..k).map(|i| (state.agent_pos[2 * i] as f64, state.agent_pos[2 * i + 1] as f64)).collect();
    // Agents per cell of a coarse grid: the density map, and "crowded" for the dots.
    let cells = if k <= MAX_DOTS { ((2.0 * h / config.radius as f64).floor() as usize).max(1) } else { DENSITY_CELLS };
    let cell_of = |p: (f64, f64)| {
        let c = |v: f64| (((v + h) / (2.0 * h) * cells as f64) as usize).min(cells - 1);
        c(-p.1) * cells + c(p.0)
    };
    let mut counts = vec![0u32; cells * cells];
    for &p in &pos {
        counts[cell_of(p)] += 1;
    }
    if k <= MAX_DOTS {
        let crowded = |p| counts[cell_of(p)] >= 4;
        let bodies = pos
            .iter()
            .map(|&(x, y)| Body {
                x,
                y,
                radius: 0.3 * config.radius as f64,
                fill: if crowded((x, y)) { RGBColor(220, 50, 40) } else { RGBColor(60, 90, 200) },
                ring: None,
            })
            .collect();
        Scene::Bodies { half_extent: h, bodies, caption: caption + "  (red: crowded)" }
    } else {
        let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let colors = counts
            .iter()
            .map(|&c| {
                // White (empty) to deep blue (densest cell of the frame).
                let t = c as f64 / max;
                let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
                RGBColor(mix(255.0, 8.0), mix(255.0, 40.0), mix(255.0, 120.0))
            })
            .collect();
        Scene::Cells { columns: cells, rows: cells, colors, caption: caption + "  (density)" }
    }
}
