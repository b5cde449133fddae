//! The host side shared by every MPE scenario (PettingZoo's Multi-Particle Environments).
//!
//! An MPE world is agents and landmarks in the plane: positions and velocities, stepped by the
//! same physics (`shaders/mpe_physics.wgsl`). Scenarios differ in how many of each there are, who
//! collides, what agents observe and how they are rewarded — all of which lives in the scenario's
//! own WGSL file. What does not differ lives here, once: the device buffers, the host commands
//! (`reset`, `set_state`, `restore`) that leave a command for the step kernel to act on, so there
//! is a single code path that writes observations, the checkpoint snapshot, and the checks on
//! actions and buffer sizes. A scenario is an [`MpeScenario`] (its configuration type) and a
//! kernel; `Mpe<ItsConfig>` is the env. Scenarios with agents of several kinds (adversaries,
//! speakers, leaders) declare their groups ([`MpeGroup`]); [`groups`] says how one padded
//! buffer serves them all.
//!
//! **Kernel contract** (`shaders/mpe_batch.wgsl`, which every scenario's
//! file completes): bindings in the order actions, state,
//! counters, episode statistics, obs (vec4s), obs (floats), reward, done, truncated, terminal
//! obs (vec4s), terminal obs (floats); per-env state is agent_pos (2A), agent_vel (2A),
//! landmark_pos (2L), agent_comm (A·dim_c), hidden (the scenario's per-env variables), padded to
//! whole vec4s; counters are two vec4<u32> (step, episode, seed lo, seed hi), (command, -, -, -);
//! statistics two vec4s as `EpisodeStats::from_sums` reads them.

pub mod fixed;
pub mod groups;
mod world;

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Int, Tensor};

pub use groups::{AgentBody, MpeGroup};
pub use world::{MpeWorld, WorldState};
use world::pack_state;
use groups::{action_pads, agent_body_wgsl, join_actions, split_obs, JoinedActions, MOVE_DIM};

use super::{check_int_dtype, Actions, BatchedEnv, EnvSnapshot, EnvSpec, EpisodeStats, NumpyGenerator, ObsLayout, StepOutput};
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, MPE_PHYSICS_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};
use crate::render::scene::Scene;

/// The batch skeleton every scenario's kernel is built on.
pub const MPE_BATCH_WGSL: &str = include_str!("../../../shaders/mpe_batch.wgsl");
/// Spawns, arena penalty and team contacts shared by the mixed scenarios (`fixed.rs`).
pub const MPE_ENTITIES_WGSL: &str = include_str!("../../../shaders/mpe_entities.wgsl");
/// Minimum-cost agent↔target assignment (simple_line, simple_formation).
pub const MPE_ASSIGNMENT_WGSL: &str = include_str!("../../../shaders/mpe_assignment.wgsl");

/// Floats of per-env episode statistics (two vec4s; see `EpisodeStats::from_sums`).
const STAT_WIDTH: usize = 8;
/// Words of per-env counters (two vec4<u32>): step, episode, seed lo, seed hi, command, padding.
const COUNTER_WIDTH: usize = 8;
const COMMAND_RESET: u32 = 1;
const COMMAND_OBSERVE: u32 = 2;
const COMMAND_RESTORE: u32 = 3;

/// One MPE scenario: its configuration type says everything the shared host needs.
pub trait MpeScenario: Clone {
    /// The env's name (PettingZoo's, without the version).
    const NAME: &'static str;
    /// The scenario's WGSL (after grid.wgsl, rng.wgsl and mpe_physics.wgsl).
    const WGSL: &'static str;
    /// Shared WGSL the scenario calls beyond the skeleton (placed between it and [`Self::WGSL`]).
    const LIBRARIES: &'static [&'static str] = &[];
    /// Whether [`Self::WGSL`] defines `is_terminal` (else the host adds one that never ends an
    /// episode early).
    const DEFINES_IS_TERMINAL: bool = false;
    /// Instances in the batch.
    fn n_envs(&self) -> usize;
    /// Agents per env (over all groups).
    fn agents(&self) -> usize;
    /// Landmarks per env.
    fn landmarks(&self) -> usize;
    /// Observation length per agent: the widest group's.
    fn obs_dim(&self) -> usize;
    /// The kinds of agents, in PettingZoo's agent order. Default: one group of `agent`s that
    /// move and never speak.
    fn groups(&self) -> Vec<MpeGroup> {
        vec![MpeGroup::movers("agent", self.agents(), self.obs_dim())]
    }
    /// Length of an utterance (mpe2's `World.dim_c` where someone speaks; else 0).
    fn dim_c(&self) -> usize {
        0
    }
    /// Floats of per-env variables the scenario keeps in the state (goal indices, keys, ...).
    fn hidden(&self) -> usize {
        0
    }
    /// Whether episodes can end before the time limit (mpe2's `terminate_on_success`; the kernel
    /// then defines `is_terminal`, see [`Self::DEFINES_IS_TERMINAL`]).
    fn may_terminate(&self) -> bool {
        false
    }
    /// Whether the kernel defines `post_step` (world changes after physics, before rewards).
    fn has_post_step(&self) -> bool {
        false
    }
    /// Sets the hidden variables of one env (`hidden`) so that the step after this one does
    /// what the recorded `next` step did where the scenario draws during a step (a respawn);
    /// `shoal replay` calls it before every step. Returns whether anything changed.
    fn steer_replay(&self, hidden: &mut [f32], next: &crate::replay::StepRecord) -> bool {
        let _ = (hidden, next);
        false
    }
    /// The hidden floats of a recorded world (`init.hidden` of the MPE suite's golden files:
    /// per-agent `goal_a`/`goal_b`, keys, ...), for `shoal replay`.
    fn hidden_from_reference(&self, hidden: &serde_json::Value) -> std::result::Result<Vec<f32>, String> {
        let _ = hidden;
        Ok(Vec::new())
    }
    /// One env's first world drawn as the reference (mpe2's `reset_world`) draws it from its
    /// NumPy generator, draw for draw: `Some` for the scenarios whose draws shoal reproduces, so
    /// that PettingZoo's `reset(seed)` starts the reference's episode
    /// ([`crate::env::reference_rng`]). `None` (the default): the reference draws more than
    /// positions (goals, colours, types) and shoal does not follow it.
    fn reference_world(&self, rng: &mut NumpyGenerator) -> Option<WorldState> {
        let _ = rng;
        None
    }
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

    /// Floats of per-env state: agent positions and velocities, landmark positions, utterances
    /// and hidden variables, padded to whole vec4s.
    fn state_width(&self) -> usize {
        (4 * self.agents() + 2 * self.landmarks() + self.agents() * self.dim_c() + self.hidden()).div_ceil(4) * 4
    }

    /// Components of a continuous action in the kernel's layout: the widest group's.
    fn action_dim(&self) -> usize {
        self.groups().iter().map(|g| g.body.action_width(self.dim_c())).max().unwrap_or(MOVE_DIM)
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

/// A batch of one MPE scenario's envs on the GPU.
pub struct Mpe<S: MpeScenario> {
    ctx: Arc<GpuContext>,
    config: S,
    spec: EnvSpec,
    /// The scenario's agent groups (`spec.groups` with their bodies).
    groups: Vec<MpeGroup>,
    /// Zeros that pad each continuous group's actions to the kernel's width (made once).
    action_pads: Vec<Option<Tensor<3>>>,
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
        let groups = config.groups();
        debug_assert_eq!(groups.iter().map(|g| g.agents).sum::<usize>(), n, "{}: groups and agents() disagree", S::NAME);
        debug_assert_eq!(groups.iter().map(|g| g.obs_dim).max(), Some(config.obs_dim()), "{}: obs_dim() is not the widest group's", S::NAME);
        check_fits(&ctx, &config)?;
        let spec = EnvSpec {
            name: S::NAME,
            n_envs: envs,
            groups: groups.iter().map(|g| g.agent_group(config.dim_c(), config.continuous())).collect(),
            max_cycles: config.max_cycles(),
        };
        let device = ctx.device().clone();
        let idle_actions = if config.continuous() {
            float_buffer(Tensor::<3>::zeros([envs, n, config.action_dim()], &device))?
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
            step_kernel: step_kernel(&config, &groups, true),
            action_pads: action_pads(&spec.groups, envs, config.action_dim(), &device),
            groups,
            spec,
            config,
            ctx,
        })
    }

    /// The same batch, except that an env whose episode ends keeps the world it ended in
    /// instead of starting the next episode (`shoal replay` reads that world; `done` and
    /// `truncated` are still reported).
    pub fn without_auto_reset(mut self) -> Mpe<S> {
        self.step_kernel = step_kernel(&self.config, &self.groups, false);
        self
    }

    /// The configuration this batch was built with.
    pub fn config(&self) -> &S {
        &self.config
    }

    /// Sets every env's world (e.g. a recorded initial state) and returns its observations.
    /// Every field of `world` is row-major over envs ([`WorldState`]); the step counter
    /// restarts at 0.
    pub fn set_state(&mut self, world: &WorldState) -> Result<StepOutput> {
        let (envs, width) = (self.config.n_envs(), self.config.state_width());
        let packed = pack_state(&self.config, world)?;
        self.state = self.ctx.upload_raw(&packed, &[envs, width], DType::F32)?;
        self.upload_counters(0, COMMAND_OBSERVE)?;
        self.ready = true;
        self.lockstep = Some(0);
        Ok(self.launch(self.idle_actions.clone()))
    }

    /// The world of every env. Reads the state back (for replay, tests and rendering; never in
    /// a training loop).
    pub fn read_state(&self) -> Result<WorldState> {
        self.read_envs(self.config.n_envs())
    }

    fn read_envs(&self, envs: usize) -> Result<WorldState> {
        let c = &self.config;
        let (n, l, dim_c, hidden) = (c.agents(), c.landmarks(), c.dim_c(), c.hidden());
        let width = c.state_width();
        let state = float_tensor::<2>(self.state.clone());
        let state = if envs == c.n_envs() { state } else { state.slice([0..envs, 0..width]) };
        let packed = self.ctx.read_f32(state)?;
        let gather = |offset: usize, count: usize| -> Vec<f32> {
            (0..envs).flat_map(|env| packed[env * width + offset..env * width + offset + count].iter().copied()).collect()
        };
        Ok(WorldState {
            agent_pos: gather(0, 2 * n),
            agent_vel: gather(2 * n, 2 * n),
            landmark_pos: gather(4 * n, 2 * l),
            agent_comm: gather(4 * n + 2 * l, n * dim_c),
            hidden: gather(4 * n + 2 * l + n * dim_c, hidden),
        })
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
            obs: split_obs(float_tensor(obs), &self.groups),
            reward: float_tensor(reward),
            done: float_tensor(done),
            truncated: float_tensor(truncated),
            terminal_obs: self.config.terminal_obs().then(|| split_obs(float_tensor(terminal), &self.groups)),
            legal_actions: None,
        }
    }

    fn action_buffer(&self, actions: &[Actions]) -> Result<CubeTensor> {
        let c = &self.config;
        match join_actions(S::NAME, &self.spec.groups, c.n_envs(), &self.action_pads, actions)? {
            JoinedActions::Discrete(t) => {
                let buffer = int_buffer(t)?;
                check_int_dtype(&buffer)?;
                Ok(buffer)
            }
            JoinedActions::Continuous(t) => float_buffer(t),
        }
    }
}

/// The step kernel of `config`'s scenario (see the kernel contract above).
fn step_kernel<S: MpeScenario>(config: &S, groups: &[MpeGroup], auto_reset: bool) -> WgslKernel {
    let mut constants = vec![
        ("n_envs", config.n_envs().to_string()),
        ("n_agents", config.agents().to_string()),
        ("n_landmarks", config.landmarks().to_string()),
        ("obs_dim", config.obs_dim().to_string()),
        ("action_dim", config.action_dim().to_string()),
        ("dim_c", config.dim_c().to_string()),
        ("hidden", config.hidden().to_string()),
        ("auto_reset", auto_reset.to_string()),
        ("agent_body", agent_body_wgsl(groups, config.dim_c())),
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
    // Scenarios without early termination leave `is_terminal` to the skeleton.
    if !S::DEFINES_IS_TERMINAL {
        parts.push("fn is_terminal(world: World) -> bool {\n    return false;\n}\n");
    }
    if !config.has_post_step() {
        parts.push("fn post_step(env: u32, header: vec4<u32>, world: ptr<function, World>) {}\n");
    }
    WgslKernel::new(S::NAME, &parts, &constants)
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
        self.config.may_terminate() || self.lockstep.is_none_or(|s| s + 1 >= self.config.max_cycles())
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

    fn reproduces_reference_draws(&self) -> bool {
        self.config.reference_world(&mut NumpyGenerator::new(0)).is_some()
    }

    fn reset_from_reference(&mut self, rng: &mut NumpyGenerator) -> Result<StepOutput> {
        let mut world = WorldState::default();
        for _ in 0..self.config.n_envs() {
            let drawn = self.config.reference_world(rng).ok_or_else(|| {
                ShoalError::config("reset", S::NAME, "shoal does not reproduce this scenario's reference draws: reset with shoal's own seeding")
            })?;
            world.append(drawn);
        }
        self.set_state(&world)
    }
}

/// Rejects batches whose largest buffer exceeds the device's per-buffer limit, naming the max.
fn check_fits<S: MpeScenario>(ctx: &GpuContext, config: &S) -> Result<()> {
    let n = config.agents() as u64;
    let limit = ctx.max_storage_bytes();
    let per_env = [
        ("observations", n * config.obs_dim() as u64 * 4),
        ("state", config.state_width() as u64 * 4),
        ("actions", n * if config.continuous() { config.action_dim() as u64 } else { 1 } * 4),
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
