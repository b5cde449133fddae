//! `simple_spread`: MPE cooperative navigation, as PettingZoo's `simple_spread_v3` defines it.
//!
//! N agents and N landmarks in the plane. Agents are pushed by their actions and by soft contact
//! with each other; they are rewarded together for covering every landmark (minus the distance
//! from each landmark to its nearest agent) and each is penalised for collisions, mixed by
//! `local_ratio`. Episodes end by time limit (`max_cycles`). The dynamics match mpe2 1.1.1 to
//! float32 rounding (see `tests/conformance.rs` and `shoal replay --check`).
//!
//! The whole step is one launch of `shaders/simple_spread.wgsl`. Host calls that change state
//! (`reset`, `set_state`) upload a small buffer and leave a command for that same kernel to act
//! on, so there is a single code path that writes observations.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::config::Config;
use burn::tensor::{DType, Int, Tensor};

use super::{
    ActionSpace, Actions, AgentGroup, BatchedEnv, EnvSpec, EpisodeStats, StepOutput,
};
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, MPE_PHYSICS_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};

/// The WGSL of this environment.
pub const SIMPLE_SPREAD_WGSL: &str = include_str!("../../shaders/simple_spread.wgsl");

/// Floats of per-env episode statistics (two vec4s; see `EpisodeStats::from_sums`).
const STAT_WIDTH: usize = 8;
/// Words of per-env counters (two vec4<u32>): step, episode, seed lo, seed hi, command, padding.
const COUNTER_WIDTH: usize = 8;
const COMMAND_RESET: u32 = 1;
const COMMAND_OBSERVE: u32 = 2;
const COMMAND_RESTORE: u32 = 3;
/// Largest supported agent count (observations grow as 6N² floats per env).
pub const MAX_AGENTS: usize = 32;

/// Configuration of a batch of simple_spread environments.
#[derive(Config, Debug, PartialEq)]
pub struct SimpleSpreadConfig {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Agents per env; there are as many landmarks. PettingZoo's default: 3.
    #[config(default = 3)]
    pub n_agents: usize,
    /// Weight of the local (collision) reward against the global (coverage) reward, in [0, 1].
    #[config(default = 0.5)]
    pub local_ratio: f32,
    /// Episode length (time limit). PettingZoo's default: 25.
    #[config(default = 25)]
    pub max_cycles: usize,
    /// Continuous actions `[0,1]^5` instead of `Discrete(5)`.
    #[config(default = false)]
    pub continuous: bool,
    /// Also output the observation each episode ended in (for value bootstrapping at truncation).
    #[config(default = false)]
    pub terminal_obs: bool,
}

impl SimpleSpreadConfig {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<()> {
        if self.n_envs == 0 {
            return Err(ShoalError::config("envs", 0, "need at least 1 environment"));
        }
        if self.n_agents == 0 || self.n_agents > MAX_AGENTS {
            return Err(ShoalError::config(
                "n_agents",
                self.n_agents,
                format!("simple_spread supports 1..={MAX_AGENTS} agents"),
            ));
        }
        if !(0.0..=1.0).contains(&self.local_ratio) {
            return Err(ShoalError::config("local_ratio", self.local_ratio, "must be in [0, 1]"));
        }
        if self.max_cycles == 0 || self.max_cycles > u32::MAX as usize {
            return Err(ShoalError::config("max_cycles", self.max_cycles, "must be at least 1"));
        }
        Ok(())
    }

    /// Observation length per agent: 6N.
    pub fn obs_dim(&self) -> usize {
        6 * self.n_agents
    }

    /// Floats of per-env state: positions and velocities (6N), padded to whole vec4s.
    pub fn state_width(&self) -> usize {
        (6 * self.n_agents).div_ceil(4) * 4
    }

    /// Envs one kernel invocation steps: two when one env's observations (6N² floats) are not a
    /// whole number of vec4s, so that every invocation stores whole vec4s.
    pub fn envs_per_invocation(&self) -> usize {
        if (self.n_agents * self.obs_dim()) % 4 == 0 { 1 } else { 2 }
    }

    /// Creates the batch on the shared GPU context. Call [`BatchedEnv::reset`] before stepping.
    pub fn init(&self) -> Result<SimpleSpread> {
        SimpleSpread::new(GpuContext::shared()?, self.clone())
    }
}

/// A batch of simple_spread environments on the GPU.
pub struct SimpleSpread {
    ctx: Arc<GpuContext>,
    config: SimpleSpreadConfig,
    spec: EnvSpec,
    step_kernel: WgslKernel,
    /// Positions and velocities, `[envs, state_width]`: agent_pos, agent_vel, landmark_pos, padding.
    state: CubeTensor,
    /// Step, episode, seed and pending command per env, `[envs, 8]` u32.
    counters: CubeTensor,
    /// On-device episode accumulators, `[envs, 8]`.
    episode_stats: CubeTensor,
    /// Zero actions, bound when a reset or set_state launches the step kernel.
    idle_actions: CubeTensor,
    /// Bound in place of `terminal_obs` when it is not requested.
    terminal_placeholder: CubeTensor,
    /// Whether reset, set_state or restore has given every env a world to step.
    ready: bool,
    /// Steps since every env last started an episode, when all envs are in step (they are after
    /// reset and set_state, and episodes end only at the time limit); `None` if unknown.
    lockstep: Option<usize>,
}

impl SimpleSpread {
    /// Builds the batch on `ctx`, checking `config` and the device's buffer limits.
    pub fn new(ctx: Arc<GpuContext>, config: SimpleSpreadConfig) -> Result<SimpleSpread> {
        config.validate()?;
        let n = config.n_agents;
        let envs = config.n_envs;
        check_fits(&ctx, &config)?;

        let action = if config.continuous {
            ActionSpace::Continuous { dim: 5, low: 0.0, high: 1.0 }
        } else {
            ActionSpace::Discrete { n: 5 }
        };
        let spec = EnvSpec {
            name: "simple_spread",
            n_envs: envs,
            groups: vec![AgentGroup {
                name: "agent".into(),
                agents: n,
                obs_dim: config.obs_dim(),
                action,
            }],
            max_cycles: config.max_cycles,
        };

        let step_kernel = WgslKernel::new(
            "simple_spread",
            &[GRID_WGSL, RNG_WGSL, MPE_PHYSICS_WGSL, SIMPLE_SPREAD_WGSL],
            &[
                ("n_envs", envs.to_string()),
                ("n_agents", n.to_string()),
                ("max_cycles", config.max_cycles.to_string()),
                ("local_ratio", format!("{:?}f", config.local_ratio)),
                ("continuous", config.continuous.to_string()),
                ("write_terminal", config.terminal_obs.to_string()),
                ("action_type", if config.continuous { "f32" } else { "i32" }.to_string()),
                ("envs_per_invocation", config.envs_per_invocation().to_string()),
            ],
        );

        let device = ctx.device().clone();
        let idle_actions = if config.continuous {
            float_buffer(Tensor::<3>::zeros([envs, n, 5], &device))?
        } else {
            let zeros = int_buffer(Tensor::<2, Int>::zeros([envs, n], &device))?;
            check_int_dtype(&zeros)?;
            zeros
        };
        Ok(SimpleSpread {
            state: float_buffer(Tensor::<2>::zeros([envs, config.state_width()], &device))?,
            counters: ctx.empty(&[envs, COUNTER_WIDTH], DType::U32),
            episode_stats: float_buffer(Tensor::<2>::zeros([envs, STAT_WIDTH], &device))?,
            // One vec4: the smallest binding an `array<vec4<f32>>` accepts.
            terminal_placeholder: ctx.empty(&[4], DType::F32),
            idle_actions,
            ready: false,
            lockstep: None,
            step_kernel,
            spec,
            config,
            ctx,
        })
    }

    /// The configuration this batch was built with.
    pub fn config(&self) -> &SimpleSpreadConfig {
        &self.config
    }

    /// Sets every env's state (e.g. a recorded initial state) and returns its observations.
    /// Slices are row-major `[envs, agents, 2]`; the step counter restarts at 0.
    pub fn set_state(
        &mut self,
        agent_pos: &[f32],
        agent_vel: &[f32],
        landmark_pos: &[f32],
    ) -> Result<StepOutput> {
        let (n, envs) = (self.config.n_agents, self.config.n_envs);
        for (what, values) in [("agent_pos", agent_pos), ("agent_vel", agent_vel), ("landmark_pos", landmark_pos)] {
            if values.len() != envs * n * 2 {
                return Err(ShoalError::Shape {
                    what: "set_state",
                    expected: format!("{what}: {} values ([{envs}, {n}, 2])", envs * n * 2),
                    got: format!("{} values", values.len()),
                });
            }
        }
        let width = self.config.state_width();
        let mut packed = vec![0f32; width * envs];
        for (env, row) in packed.chunks_mut(width).enumerate() {
            let block = env * n * 2..(env + 1) * n * 2;
            row[..2 * n].copy_from_slice(&agent_pos[block.clone()]);
            row[2 * n..4 * n].copy_from_slice(&agent_vel[block.clone()]);
            row[4 * n..6 * n].copy_from_slice(&landmark_pos[block]);
        }
        self.state = self.ctx.upload_raw(&packed, &[envs, width], DType::F32)?;
        self.upload_counters(0, COMMAND_OBSERVE)?;
        self.ready = true;
        self.lockstep = Some(0);
        Ok(self.launch(self.idle_actions.clone()))
    }

    /// Agent positions, velocities and landmark positions, row-major `[envs, agents, 2]` each.
    /// Reads the state back (for replay, tests and rendering; never in a training loop).
    pub fn read_state(&self) -> Result<WorldState> {
        let (n, envs) = (self.config.n_agents, self.config.n_envs);
        let width = self.config.state_width();
        let packed = self.ctx.read_f32(float_tensor::<2>(self.state.clone()))?;
        let gather = |offset: usize| -> Vec<f32> {
            (0..envs)
                .flat_map(|env| packed[env * width + offset..env * width + offset + 2 * n].iter().copied())
                .collect()
        };
        Ok(WorldState {
            agent_pos: gather(0),
            agent_vel: gather(2 * n),
            landmark_pos: gather(4 * n),
        })
    }

    /// Everything that defines where the batch is: world state, counters (step, episode, seed)
    /// and episode statistics, read back to the host (for checkpoints).
    pub fn snapshot(&self) -> Result<EnvSnapshot> {
        Ok(EnvSnapshot {
            state: self.ctx.read_f32(float_tensor::<2>(self.state.clone()))?,
            counters: self.ctx.read_raw_u32(&self.counters)?,
            episode_stats: self.ctx.read_f32(float_tensor::<2>(self.episode_stats.clone()))?,
        })
    }

    /// Puts the batch back where [`SimpleSpread::snapshot`] found it and returns the current
    /// observations; stepping then continues exactly as it would have.
    pub fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let envs = self.config.n_envs;
        let width = self.config.state_width();
        ShoalError::ensure_len("snapshot state", snapshot.state.len(), &[envs, width])?;
        ShoalError::ensure_len("snapshot counters", snapshot.counters.len(), &[envs, COUNTER_WIDTH])?;
        ShoalError::ensure_len("snapshot statistics", snapshot.episode_stats.len(), &[envs, STAT_WIDTH])?;
        let mut counters = snapshot.counters.clone();
        for env_words in counters.chunks_mut(COUNTER_WIDTH) {
            env_words[4] = COMMAND_RESTORE;
        }
        self.state = self.ctx.upload_raw(&snapshot.state, &[envs, width], DType::F32)?;
        self.counters = self.ctx.upload_raw(&counters, &[envs, COUNTER_WIDTH], DType::U32)?;
        self.episode_stats = self.ctx.upload_raw(&snapshot.episode_stats, &[envs, STAT_WIDTH], DType::F32)?;
        self.ready = true;
        let steps: Vec<u32> = snapshot.counters.chunks(COUNTER_WIDTH).map(|c| c[0]).collect();
        self.lockstep = steps.windows(2).all(|w| w[0] == w[1]).then(|| steps[0] as usize);
        Ok(self.launch(self.idle_actions.clone()))
    }

    /// Step and episode counters per env (reads back; for tests).
    pub fn read_counters(&self) -> Result<(Vec<u32>, Vec<u32>)> {
        let envs = self.config.n_envs;
        let words = self.ctx.read_raw_u32(&self.counters)?;
        let column = |c: usize| (0..envs).map(|e| words[e * COUNTER_WIDTH + c]).collect();
        Ok((column(0), column(1)))
    }

    fn upload_counters(&mut self, seed: u64, command: u32) -> Result<()> {
        let envs = self.config.n_envs;
        let mut words = vec![0u32; COUNTER_WIDTH * envs];
        for env_words in words.chunks_mut(COUNTER_WIDTH) {
            env_words[2] = seed as u32;
            env_words[3] = (seed >> 32) as u32;
            env_words[4] = command;
        }
        self.counters = self.ctx.upload_raw(&words, &[envs, COUNTER_WIDTH], DType::U32)?;
        Ok(())
    }

    fn launch(&self, actions: CubeTensor) -> StepOutput {
        let (n, envs) = (self.config.n_agents, self.config.n_envs);
        let obs_dim = self.config.obs_dim();
        let obs = self.ctx.empty(&[envs, n, obs_dim], DType::F32);
        let reward = self.ctx.empty(&[envs, n], DType::F32);
        let done = self.ctx.empty(&[envs], DType::F32);
        let truncated = self.ctx.empty(&[envs], DType::F32);
        let terminal = if self.config.terminal_obs {
            self.ctx.empty(&[envs, n, obs_dim], DType::F32)
        } else {
            self.terminal_placeholder.clone()
        };
        // Observation buffers are bound twice: as vec4s, and as floats for an odd last env.
        self.step_kernel.launch(
            &self.ctx,
            envs.div_ceil(self.config.envs_per_invocation()),
            &[
                &actions,
                &self.state,
                &self.counters,
                &self.episode_stats,
                &obs,
                &obs,
                &reward,
                &done,
                &truncated,
                &terminal,
                &terminal,
            ],
        );
        StepOutput {
            obs: vec![float_tensor(obs)],
            reward: float_tensor(reward),
            done: float_tensor(done),
            truncated: float_tensor(truncated),
            terminal_obs: self.config.terminal_obs.then(|| vec![float_tensor(terminal)]),
            legal_actions: None,
        }
    }

    fn action_buffer(&self, actions: &[Actions]) -> Result<CubeTensor> {
        let (n, envs) = (self.config.n_agents, self.config.n_envs);
        let [actions] = actions else {
            return Err(ShoalError::Shape {
                what: "actions",
                expected: "one Actions (simple_spread has one agent group)".into(),
                got: format!("{} groups", actions.len()),
            });
        };
        match (actions, self.config.continuous) {
            (Actions::Discrete(t), false) => {
                ShoalError::ensure_dims("actions", &t.dims(), &[envs, n])?;
                let buffer = int_buffer(t.clone())?;
                check_int_dtype(&buffer)?;
                Ok(buffer)
            }
            (Actions::Continuous(t), true) => {
                ShoalError::ensure_dims("actions", &t.dims(), &[envs, n, 5])?;
                float_buffer(t.clone())
            }
            (_, continuous) => Err(ShoalError::config(
                "actions",
                if continuous { "discrete" } else { "continuous" },
                format!(
                    "this simple_spread batch takes {} actions",
                    if continuous { "continuous" } else { "discrete" }
                ),
            )),
        }
    }
}

/// A batch's complete device state on the host (see [`SimpleSpread::snapshot`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvSnapshot {
    /// Per-env world state, `[envs, state_width]`.
    pub state: Vec<f32>,
    /// Per-env counters, `[envs, 8]`.
    pub counters: Vec<u32>,
    /// Per-env episode statistics, `[envs, 8]`.
    pub episode_stats: Vec<f32>,
}

/// Positions and velocities read back from the device, row-major `[envs, agents, 2]`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldState {
    /// Agent positions.
    pub agent_pos: Vec<f32>,
    /// Agent velocities.
    pub agent_vel: Vec<f32>,
    /// Landmark positions.
    pub landmark_pos: Vec<f32>,
}

impl BatchedEnv for SimpleSpread {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn reset(&mut self, seed: u64) -> Result<StepOutput> {
        self.upload_counters(seed, COMMAND_RESET)?;
        self.ready = true;
        self.lockstep = Some(0);
        Ok(self.launch(self.idle_actions.clone()))
    }

    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput> {
        if !self.ready {
            return Err(ShoalError::config("step", "before reset", "call reset(seed) before the first step"));
        }
        let buffer = self.action_buffer(actions)?;
        self.lockstep = self.lockstep.map(|s| (s + 1) % self.config.max_cycles);
        Ok(self.launch(buffer))
    }

    fn episodes_may_end_next_step(&self) -> bool {
        self.lockstep.is_none_or(|s| s + 1 >= self.config.max_cycles)
    }

    fn episode_stats(&self) -> Result<EpisodeStats> {
        Ok(EpisodeStats::from_sums(&super::sum_over_envs(&self.ctx, &self.episode_stats)?))
    }

    fn clear_episode_stats(&mut self) -> Result<()> {
        self.episode_stats = super::clear_completed_episodes(&self.episode_stats)?;
        Ok(())
    }
}

pub(crate) fn check_int_dtype(buffer: &CubeTensor) -> Result<()> {
    match buffer.dtype {
        DType::I32 | DType::U32 => Ok(()),
        other => Err(ShoalError::config(
            "actions",
            format!("{other:?}"),
            "discrete actions must be 32-bit integers (cast with `.cast(DType::I32)`)",
        )),
    }
}

/// Rejects batches whose largest buffer exceeds the device's per-buffer limit, naming the max.
fn check_fits(ctx: &GpuContext, config: &SimpleSpreadConfig) -> Result<()> {
    let n = config.n_agents as u64;
    let limit = ctx.max_storage_bytes();
    let per_env = [
        ("observations", n * config.obs_dim() as u64 * 4),
        ("state", config.state_width() as u64 * 4),
        ("actions", n * if config.continuous { 5 } else { 1 } * 4),
    ];
    for (what, bytes_per_env) in per_env {
        let needed = bytes_per_env * config.n_envs as u64;
        if needed > limit {
            return Err(ShoalError::BatchTooLarge {
                what: format!("the {what} buffer ({bytes_per_env} bytes per env)"),
                needed_bytes: needed,
                limit_bytes: limit,
                max_envs: (limit / bytes_per_env) as usize,
            });
        }
    }
    Ok(())
}
