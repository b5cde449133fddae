//! The host side shared by every MPE scenario (PettingZoo's Multi-Particle Environments).
//!
//! An MPE world is agents and landmarks in the plane: positions and velocities, stepped by the
//! same physics (`shaders/mpe_physics.wgsl`). Scenarios differ in how many of each there are, who
//! collides, what agents observe and how they are rewarded — all of which lives in the scenario's
//! own WGSL file. What does not differ lives here, once: the device buffers, the host commands
//! (`reset`, `set_state`, `restore`) that leave a command for the step kernel to act on, so there
//! is a single code path that writes observations, the checkpoint snapshot, and the checks on
//! actions and buffer sizes. A scenario is an [`MpeScenario`] (its configuration type) and a
//! kernel; `Mpe<ItsConfig>` is the env.
//!
//! **Kernel contract** (`shaders/mpe_batch.wgsl`, which every scenario's
//! file completes): bindings in the order actions, state,
//! counters, episode statistics, obs (vec4s), obs (floats), reward, done, truncated, terminal
//! obs (vec4s), terminal obs (floats); per-env state is agent_pos (2A), agent_vel (2A),
//! landmark_pos (2L), padded to whole vec4s; counters are two vec4<u32> (step, episode, seed lo,
//! seed hi), (command, -, -, -); statistics two vec4s as `EpisodeStats::from_sums` reads them.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Int, Tensor};

use super::{check_int_dtype, ActionSpace, Actions, AgentGroup, BatchedEnv, EnvSnapshot, EnvSpec, EpisodeStats, ObsLayout, StepOutput};
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, MPE_PHYSICS_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};
use crate::render::scene::Scene;

/// The batch skeleton every scenario's kernel is built on.
pub const MPE_BATCH_WGSL: &str = include_str!("../../shaders/mpe_batch.wgsl");
/// Minimum-cost agent↔target assignment (simple_line, simple_formation).
pub const MPE_ASSIGNMENT_WGSL: &str = include_str!("../../shaders/mpe_assignment.wgsl");

/// Floats of per-env episode statistics (two vec4s; see `EpisodeStats::from_sums`).
const STAT_WIDTH: usize = 8;
/// Words of per-env counters (two vec4<u32>): step, episode, seed lo, seed hi, command, padding.
const COUNTER_WIDTH: usize = 8;
const COMMAND_RESET: u32 = 1;
const COMMAND_OBSERVE: u32 = 2;
const COMMAND_RESTORE: u32 = 3;
/// Length of a continuous MPE action for a movable, silent agent (`[no-op, -x, +x, -y, +y]`).
const MOVE_DIM: usize = 5;

/// One MPE scenario: its configuration type says everything the shared host needs.
pub trait MpeScenario: Clone {
    /// The env's name (PettingZoo's, without the version).
    const NAME: &'static str;
    /// The scenario's WGSL (after grid.wgsl, rng.wgsl and mpe_physics.wgsl).
    const WGSL: &'static str;
    /// Shared WGSL the scenario calls beyond the skeleton (placed between it and [`Self::WGSL`]).
    const LIBRARIES: &'static [&'static str] = &[];
    /// Instances in the batch.
    fn n_envs(&self) -> usize;
    /// Agents per env.
    fn agents(&self) -> usize;
    /// Landmarks per env.
    fn landmarks(&self) -> usize;
    /// Observation length per agent.
    fn obs_dim(&self) -> usize;
    /// Episode length.
    fn max_cycles(&self) -> usize;
    /// `Box(0, 1, (5,))` actions instead of `Discrete(5)`.
    fn continuous(&self) -> bool;
    /// Whether steps also output the observations episodes ended in.
    fn terminal_obs(&self) -> bool;
    /// Checks every field, naming the one that is wrong.
    fn validate(&self) -> Result<()>;
    /// The scenario's own `{{placeholders}}` (reward weights, ...), beside the shared ones.
    fn constants(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// How observations split into actor and critic inputs.
    fn obs_layout(&self) -> ObsLayout;
    /// Env 0's world (positions `[agents, 2]` etc.) as a picture.
    fn scene(&self, world: &WorldState) -> Scene;

    /// Floats of per-env state: agent positions and velocities, landmark positions, padded to
    /// whole vec4s.
    fn state_width(&self) -> usize {
        (4 * self.agents() + 2 * self.landmarks()).div_ceil(4) * 4
    }

    /// Envs one invocation steps: enough that their observations fill whole vec4s, so that
    /// every invocation stores whole vec4s (lavapipe pays per access, GPUs coalesce).
    fn envs_per_invocation(&self) -> usize {
        let floats = self.agents() * self.obs_dim();
        4 / gcd(floats, 4)
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Positions and velocities read back from the device, row-major `[envs, agents, 2]` (landmarks
/// `[envs, landmarks, 2]`).
#[derive(Debug, Clone, PartialEq)]
pub struct WorldState {
    /// Agent positions.
    pub agent_pos: Vec<f32>,
    /// Agent velocities.
    pub agent_vel: Vec<f32>,
    /// Landmark positions.
    pub landmark_pos: Vec<f32>,
}

/// A batch of one MPE scenario's envs on the GPU.
pub struct Mpe<S: MpeScenario> {
    ctx: Arc<GpuContext>,
    config: S,
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

impl<S: MpeScenario> Mpe<S> {
    /// Builds the batch on `ctx`, checking `config` and the device's buffer limits.
    pub fn new(ctx: Arc<GpuContext>, config: S) -> Result<Mpe<S>> {
        config.validate()?;
        let (n, envs) = (config.agents(), config.n_envs());
        check_fits(&ctx, &config)?;
        let action = if config.continuous() {
            ActionSpace::Continuous { dim: MOVE_DIM, low: 0.0, high: 1.0 }
        } else {
            ActionSpace::Discrete { n: MOVE_DIM }
        };
        let spec = EnvSpec {
            name: S::NAME,
            n_envs: envs,
            groups: vec![AgentGroup { name: "agent".into(), agents: n, obs_dim: config.obs_dim(), action }],
            max_cycles: config.max_cycles(),
        };
        let mut constants = vec![
            ("n_envs", envs.to_string()),
            ("n_agents", n.to_string()),
            ("n_landmarks", config.landmarks().to_string()),
            ("obs_dim", config.obs_dim().to_string()),
            ("max_cycles", config.max_cycles().to_string()),
            ("continuous", config.continuous().to_string()),
            ("write_terminal", config.terminal_obs().to_string()),
            ("action_type", if config.continuous() { "f32" } else { "i32" }.to_string()),
            ("envs_per_invocation", config.envs_per_invocation().to_string()),
        ];
        constants.extend(config.constants());
        let mut parts = vec![GRID_WGSL, RNG_WGSL, MPE_PHYSICS_WGSL, MPE_BATCH_WGSL];
        parts.extend(S::LIBRARIES);
        parts.push(S::WGSL);
        let step_kernel = WgslKernel::new(S::NAME, &parts, &constants);

        let device = ctx.device().clone();
        let idle_actions = if config.continuous() {
            float_buffer(Tensor::<3>::zeros([envs, n, MOVE_DIM], &device))?
        } else {
            let zeros = int_buffer(Tensor::<2, Int>::zeros([envs, n], &device))?;
            check_int_dtype(&zeros)?;
            zeros
        };
        Ok(Mpe {
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
    pub fn config(&self) -> &S {
        &self.config
    }

    /// Sets every env's state (e.g. a recorded initial state) and returns its observations.
    /// Slices are row-major `[envs, agents, 2]` (landmarks `[envs, landmarks, 2]`); the step
    /// counter restarts at 0.
    pub fn set_state(&mut self, agent_pos: &[f32], agent_vel: &[f32], landmark_pos: &[f32]) -> Result<StepOutput> {
        let (n, l, envs) = (self.config.agents(), self.config.landmarks(), self.config.n_envs());
        for (what, values, count) in [("agent_pos", agent_pos, n), ("agent_vel", agent_vel, n), ("landmark_pos", landmark_pos, l)] {
            if values.len() != envs * count * 2 {
                return Err(ShoalError::Shape {
                    what: "set_state",
                    expected: format!("{what}: {} values ([{envs}, {count}, 2])", envs * count * 2),
                    got: format!("{} values", values.len()),
                });
            }
        }
        let width = self.config.state_width();
        let mut packed = vec![0f32; width * envs];
        for (env, row) in packed.chunks_mut(width).enumerate() {
            let agents = env * n * 2..(env + 1) * n * 2;
            row[..2 * n].copy_from_slice(&agent_pos[agents.clone()]);
            row[2 * n..4 * n].copy_from_slice(&agent_vel[agents]);
            row[4 * n..4 * n + 2 * l].copy_from_slice(&landmark_pos[env * l * 2..(env + 1) * l * 2]);
        }
        self.state = self.ctx.upload_raw(&packed, &[envs, width], DType::F32)?;
        self.upload_counters(0, COMMAND_OBSERVE)?;
        self.ready = true;
        self.lockstep = Some(0);
        Ok(self.launch(self.idle_actions.clone()))
    }

    /// Agent positions, velocities and landmark positions of the first `envs` envs. Reads the
    /// state back (for replay, tests and rendering; never in a training loop).
    pub fn read_state(&self) -> Result<WorldState> {
        self.read_envs(self.config.n_envs())
    }

    fn read_envs(&self, envs: usize) -> Result<WorldState> {
        let (n, l) = (self.config.agents(), self.config.landmarks());
        let width = self.config.state_width();
        let state = float_tensor::<2>(self.state.clone());
        let state = if envs == self.config.n_envs() { state } else { state.slice([0..envs, 0..width]) };
        let packed = self.ctx.read_f32(state)?;
        let gather = |offset: usize, count: usize| -> Vec<f32> {
            (0..envs).flat_map(|env| packed[env * width + offset..env * width + offset + 2 * count].iter().copied()).collect()
        };
        Ok(WorldState { agent_pos: gather(0, n), agent_vel: gather(2 * n, n), landmark_pos: gather(4 * n, l) })
    }

    /// Step and episode counters per env (reads back; for tests).
    pub fn read_counters(&self) -> Result<(Vec<u32>, Vec<u32>)> {
        let envs = self.config.n_envs();
        let words = self.ctx.read_raw_u32(&self.counters)?;
        let column = |c: usize| (0..envs).map(|e| words[e * COUNTER_WIDTH + c]).collect();
        Ok((column(0), column(1)))
    }

    fn upload_counters(&mut self, seed: u64, command: u32) -> Result<()> {
        let envs = self.config.n_envs();
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
        let (n, envs) = (self.config.agents(), self.config.n_envs());
        let obs_dim = self.config.obs_dim();
        let obs = self.ctx.empty(&[envs, n, obs_dim], DType::F32);
        let reward = self.ctx.empty(&[envs, n], DType::F32);
        let done = self.ctx.empty(&[envs], DType::F32);
        let truncated = self.ctx.empty(&[envs], DType::F32);
        let terminal = if self.config.terminal_obs() {
            self.ctx.empty(&[envs, n, obs_dim], DType::F32)
        } else {
            self.terminal_placeholder.clone()
        };
        // Observation buffers are bound twice: as vec4s, and as floats for an odd last env.
        self.step_kernel.launch(
            &self.ctx,
            envs.div_ceil(self.config.envs_per_invocation()),
            &[&actions, &self.state, &self.counters, &self.episode_stats, &obs, &obs, &reward, &done, &truncated, &terminal, &terminal],
        );
        StepOutput {
            obs: vec![float_tensor(obs)],
            reward: float_tensor(reward),
            done: float_tensor(done),
            truncated: float_tensor(truncated),
            terminal_obs: self.config.terminal_obs().then(|| vec![float_tensor(terminal)]),
            legal_actions: None,
        }
    }

    fn action_buffer(&self, actions: &[Actions]) -> Result<CubeTensor> {
        let (n, envs) = (self.config.agents(), self.config.n_envs());
        let [actions] = actions else {
            return Err(ShoalError::Shape {
                what: "actions",
                expected: format!("one Actions ({} has one agent group)", S::NAME),
                got: format!("{} groups", actions.len()),
            });
        };
        match (actions, self.config.continuous()) {
            (Actions::Discrete(t), false) => {
                ShoalError::ensure_dims("actions", &t.dims(), &[envs, n])?;
                let buffer = int_buffer(t.clone())?;
                check_int_dtype(&buffer)?;
                Ok(buffer)
            }
            (Actions::Continuous(t), true) => {
                ShoalError::ensure_dims("actions", &t.dims(), &[envs, n, MOVE_DIM])?;
                float_buffer(t.clone())
            }
            (_, continuous) => Err(ShoalError::config(
                "actions",
                if continuous { "discrete" } else { "continuous" },
                format!("this {} batch takes {} actions", S::NAME, if continuous { "continuous" } else { "discrete" }),
            )),
        }
    }
}

/// What `shoal replay` needs of an MPE batch beyond [`BatchedEnv`]: to set the world to a
/// recorded state and read it back. Every `Mpe<S>` is one; the registry hands it out for the
/// scenarios that have recorded trajectories ([`super::EnvEntry::replay`]).
pub trait MpeWorld: BatchedEnv {
    /// [`Mpe::set_state`].
    fn set_world(&mut self, agent_pos: &[f32], agent_vel: &[f32], landmark_pos: &[f32]) -> Result<StepOutput>;
    /// [`Mpe::read_state`].
    fn read_world(&self) -> Result<WorldState>;
}

impl<S: MpeScenario + 'static> MpeWorld for Mpe<S> {
    fn set_world(&mut self, agent_pos: &[f32], agent_vel: &[f32], landmark_pos: &[f32]) -> Result<StepOutput> {
        self.set_state(agent_pos, agent_vel, landmark_pos)
    }
    fn read_world(&self) -> Result<WorldState> {
        self.read_state()
    }
}

impl<S: MpeScenario> BatchedEnv for Mpe<S> {
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
        self.lockstep = self.lockstep.map(|s| (s + 1) % self.config.max_cycles());
        Ok(self.launch(buffer))
    }

    fn episodes_may_end_next_step(&self) -> bool {
        self.lockstep.is_none_or(|s| s + 1 >= self.config.max_cycles())
    }

    fn episode_stats(&self) -> Result<EpisodeStats> {
        Ok(EpisodeStats::from_sums(&super::sum_over_envs(&self.ctx, &self.episode_stats)?))
    }

    fn clear_episode_stats(&mut self) -> Result<()> {
        self.episode_stats = super::clear_completed_episodes(&self.episode_stats)?;
        Ok(())
    }

    fn obs_layout(&self) -> ObsLayout {
        self.config.obs_layout()
    }

    fn snapshot(&self) -> Result<EnvSnapshot> {
        Ok(EnvSnapshot {
            state: self.ctx.read_f32(float_tensor::<2>(self.state.clone()))?,
            counters: self.ctx.read_raw_u32(&self.counters)?,
            episode_stats: self.ctx.read_f32(float_tensor::<2>(self.episode_stats.clone()))?,
        })
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let envs = self.config.n_envs();
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

    fn scene(&self) -> Result<Scene> {
        Ok(self.config.scene(&self.read_envs(1)?))
    }
}

/// Rejects batches whose largest buffer exceeds the device's per-buffer limit, naming the max.
fn check_fits<S: MpeScenario>(ctx: &GpuContext, config: &S) -> Result<()> {
    let n = config.agents() as u64;
    let limit = ctx.max_storage_bytes();
    let per_env = [
        ("observations", n * config.obs_dim() as u64 * 4),
        ("state", config.state_width() as u64 * 4),
        ("actions", n * if config.continuous() { MOVE_DIM as u64 } else { 1 } * 4),
    ];
    for (what, bytes_per_env) in per_env {
        let needed = bytes_per_env * config.n_envs() as u64;
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

/// Draws MPE bodies the way PettingZoo's renderer frames them: the view grows (in quarter steps,
/// so it jitters less) to keep every body, radius included, in sight.
pub(crate) fn mpe_view(bodies: Vec<crate::render::scene::Body>, caption: String) -> Scene {
    let reach = bodies.iter().fold(1.0f64, |m, b| m.max(b.x.abs() + b.radius).max(b.y.abs() + b.radius));
    Scene::Bodies { half_extent: (reach * 4.0).ceil() / 4.0, bodies, caption }
}
