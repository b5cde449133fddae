//! `battle`: MAgent's Battle, the Mean Field MARL paper's two-team game, batched on the device
//! (`shaders/battle.wgsl`), with the rules of magent2 0.3.4 / mlii/mfrl
//! (`tests/data/BATTLE_SPEC.md`, summarised in the WGSL file).
//!
//! Defaults are the paper's: a 40×40 map, 64 agents a team, 400 steps. Both teams are one agent
//! group (agents `0..N` are team 0, `N..2N` team 1): they share the observation and action
//! spaces, so one network can play both sides (self-play) or two networks one side each
//! (`shoal arena`). Team 0 is listed first, so it wins move conflicts as in MAgent; which team
//! starts on the left is a coin flip per episode, as in mfrl.
//!
//! Observation (868): the 13×13 view (radius 6) × [wall, own team, own HP/10, opponents,
//! opponents HP/10], the position (x/W, y/H), and last the own team's mean action of the previous
//! step (21: the mean-field input; mfrl averages over the whole team, and so do we). Dead agents
//! observe zeros, earn nothing and their actions are ignored until the episode ends. Differences
//! from mfrl's observation: no minimap channels and no id/last-action/last-reward features (the
//! mean action and the position take their place).

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::config::Config;
use burn::tensor::{DType, Tensor};

use plotters::style::RGBColor;

use super::{check_int_dtype, ActionSpace, Actions, AgentGroup, BatchedEnv, EnvParams, FromParams, EnvSnapshot, EnvSpec, EpisodeStats, ObsLayout, StepOutput};
use crate::render::scene::Scene;
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};

/// The kernel.
pub const BATTLE_WGSL: &str = include_str!("../../shaders/battle.wgsl");
/// Observation width: 13·13·5 view + 21 mean action + 2 position.
pub const BATTLE_OBS_DIM: usize = 868;
/// Observation columns before the mean action: the view (`0..845`) and the position
/// (`845..847`); the mean action is `847..868`.
pub const BATTLE_LOCAL_OBS: usize = 847;
/// Actions: 13 moves, 8 attacks.
pub const BATTLE_ACTIONS: usize = 21;
/// The no-op action (move by (0, 0)).
pub const BATTLE_NOOP: i32 = 6;

const STATE_WIDTH: usize = 8;
const STAT_WIDTH: usize = 12;
const COMMAND_OBSERVE: u32 = 1;

/// Configuration of a batch of Battle games.
#[derive(Config, Debug, PartialEq)]
pub struct BattleConfig {
    /// Games in the batch.
    pub n_envs: usize,
    /// Map side (walls on the border). 40 gives MAgent's 64 agents a team, 45 gives 81.
    #[config(default = 40)]
    pub map_size: usize,
    /// Episode time limit (mfrl: 400).
    #[config(default = 400)]
    pub max_cycles: usize,
}

impl BattleConfig {
    /// Rejects maps and batches the kernel cannot run.
    pub fn validate(&self) -> Result<()> {
        if self.n_envs == 0 {
            return Err(ShoalError::config("n_envs", 0, "need at least one game"));
        }
        if !(12..=64).contains(&self.map_size) {
            return Err(ShoalError::config("map_size", self.map_size, "Battle maps are 12..=64 cells a side (MAgent asserts ≥ 12; 64 gives 144 agents a team)"));
        }
        if self.max_cycles == 0 {
            return Err(ShoalError::config("max_cycles", 0, "episodes need at least one step"));
        }
        Ok(())
    }

    /// Agents per team on this map.
    pub fn team_size(&self) -> usize {
        formations(self.map_size).0.len()
    }
}

impl FromParams for BattleConfig {
    type Env = Battle;

    /// The batch a run's parameters describe. `agents` must be both teams: 2 × the team size of
    /// `map_size`.
    fn from_params(params: &EnvParams) -> Result<BattleConfig> {
        let config = BattleConfig::new(params.n_envs).with_map_size(params.map_size);
        let config = match params.max_cycles { Some(t) => config.with_max_cycles(t), None => config };
        config.validate()?;
        if params.continuous {
            return Err(ShoalError::config("continuous", true, "battle's fighters take discrete actions"));
        }
        let agents = 2 * config.team_size();
        if params.agents != agents {
            return Err(ShoalError::config("agents", params.agents, format!("a {0}×{0} battle has {1} agents (2 × {2}); set agents = {1}", params.map_size, agents, config.team_size())));
        }
        Ok(config)
    }

    fn build(self, ctx: &Arc<GpuContext>) -> Result<Battle> {
        Battle::new(ctx.clone(), self)
    }
}

/// MAgent's `generate_map`: the left and right formations, `(x, y)` per agent, in agent order.
pub fn formations(map_size: usize) -> (Vec<(i32, i32)>, Vec<(i32, i32)>) {
    let (w, h) = (map_size as i32, map_size as i32);
    let init_num = (map_size * map_size) as f64 * 0.04;
    let gap = 3;
    let side = (init_num.sqrt() as i32) * 2;
    let ys = ((h - side) / 2..(h - side) / 2 + side).step_by(2);
    let inside = |&(x, y): &(i32, i32)| 0 < x && x < w - 1 && 0 < y && y < h - 1;
    let left: Vec<(i32, i32)> = (w / 2 - gap - side..w / 2 - gap)
        .step_by(2)
        .flat_map(|x| ys.clone().map(move |y| (x, y)))
        .filter(inside)
        .collect();
    let mut right: Vec<(i32, i32)> =
        (w / 2 + gap..w / 2 + gap + side).step_by(2).flat_map(|x| ys.clone().map(move |y| (x, y))).filter(inside).collect();
    right.truncate(left.len());
    (left, right)
}

/// Game outcomes summed over the batch (from the device's episode statistics).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct BattleOutcomes {
    /// Finished games.
    pub games: f64,
    /// Games team 0 ended with more survivors.
    pub team0_wins: f64,
    /// Games team 1 ended with more survivors.
    pub team1_wins: f64,
    /// Games with equal survivors.
    pub draws: f64,
    /// Mean survivors of team 0 at the end of a game.
    pub team0_survivors: f64,
    /// Mean survivors of team 1 at the end of a game.
    pub team1_survivors: f64,
}

/// One agent as the host sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fighter {
    /// Column.
    pub x: i32,
    /// Row.
    pub y: i32,
    /// Hit points.
    pub hp: f32,
    /// Alive.
    pub alive: bool,
}

/// A batch of Battle games on the GPU.
pub struct Battle {
    ctx: Arc<GpuContext>,
    config: BattleConfig,
    spec: EnvSpec,
    team_size: usize,
    step_kernel: WgslKernel,
    observe_kernel: WgslKernel,
    agents: CubeTensor,
    grid: CubeTensor,
    state: CubeTensor,
    mean_action: CubeTensor,
    episode_stats: CubeTensor,
    ready: bool,
}

impl Battle {
    /// Builds the batch on `ctx`, checking `config` and the device's buffer limits.
    pub fn new(ctx: Arc<GpuContext>, config: BattleConfig) -> Result<Battle> {
        config.validate()?;
        let (left, right) = formations(config.map_size);
        let n = left.len();
        let envs = config.n_envs;
        let limit = ctx.max_storage_bytes();
        let bytes_per_env = (2 * n * BATTLE_OBS_DIM * 4) as u64;
        if bytes_per_env * envs as u64 > limit {
            return Err(ShoalError::BatchTooLarge {
                what: format!("the observation buffer ({bytes_per_env} bytes per game of {} agents)", 2 * n),
                needed_bytes: bytes_per_env * envs as u64,
                limit_bytes: limit,
                max_envs: (limit / bytes_per_env) as usize,
            });
        }
        let list = |v: &[(i32, i32)], pick: fn(&(i32, i32)) -> i32| v.iter().map(|p| pick(p).to_string()).collect::<Vec<_>>().join(", ");
        let kernel = |mode: u32| {
            WgslKernel::new(
                "battle",
                &[GRID_WGSL, RNG_WGSL, BATTLE_WGSL],
                &[
                    ("n_envs", envs.to_string()),
                    ("team_size", n.to_string()),
                    ("agents", (2 * n).to_string()),
                    ("map_size", config.map_size.to_string()),
                    ("max_cycles", config.max_cycles.to_string()),
                    ("mode", mode.to_string()),
                    ("left_x", list(&left, |p| p.0)),
                    ("left_y", list(&left, |p| p.1)),
                    ("right_x", list(&right, |p| p.0)),
                    ("right_y", list(&right, |p| p.1)),
                ],
            )
        };
        let spec = EnvSpec {
            name: "battle",
            n_envs: envs,
            groups: vec![AgentGroup {
                name: "fighter".into(),
                agents: 2 * n,
                obs_dim: BATTLE_OBS_DIM,
                action: ActionSpace::Discrete { n: BATTLE_ACTIONS },
            }],
            max_cycles: config.max_cycles,
        };
        let device = ctx.device().clone();
        let cells = config.map_size * config.map_size;
        Ok(Battle {
            step_kernel: kernel(0),
            observe_kernel: kernel(1),
            agents: float_buffer(Tensor::<2>::zeros([envs * 2 * n, 4], &device))?,
            grid: ctx.empty(&[envs, cells], DType::I32),
            state: ctx.empty(&[envs, STATE_WIDTH], DType::U32),
            mean_action: float_buffer(Tensor::<2>::zeros([envs * 2, BATTLE_ACTIONS], &device))?,
            episode_stats: float_buffer(Tensor::<2>::zeros([envs, STAT_WIDTH], &device))?,
            ready: false,
            team_size: n,
            spec,
            config,
            ctx,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BattleConfig {
        &self.config
    }

    /// Agents per team.
    pub fn team_size(&self) -> usize {
        self.team_size
    }

    /// Every agent of every env, `[envs][2N]` (reads back; for tests and rendering).
    pub fn read_fighters(&self) -> Result<Vec<Vec<Fighter>>> {
        let values = self.ctx.read_f32(float_tensor::<2>(self.agents.clone()))?;
        let per_env = 2 * self.team_size;
        Ok(values
            .chunks(4 * per_env)
            .map(|env| env.chunks(4).map(|a| Fighter { x: a[0] as i32, y: a[1] as i32, hp: a[2], alive: a[3] > 0.5 }).collect())
            .collect())
    }

    /// Places every agent (`[envs][2N]`, dead ones off the map) and the attack-shuffle state,
    /// then returns the observations (for scripted tests; the step counter restarts at 0).
    pub fn set_fighters(&mut self, fighters: &[Vec<Fighter>], shuffle_state: u32) -> Result<StepOutput> {
        let (envs, per_env, side) = (self.config.n_envs, 2 * self.team_size, self.config.map_size);
        ShoalError::ensure_len("fighters", fighters.len(), &[envs])?;
        let mut packed = Vec::with_capacity(envs * per_env * 4);
        let mut grid = vec![-1i32; envs * side * side];
        for (e, env) in fighters.iter().enumerate() {
            ShoalError::ensure_len("fighters per env", env.len(), &[per_env])?;
            for (slot, f) in env.iter().enumerate() {
                packed.extend([f.x as f32, f.y as f32, f.hp, if f.alive { 1.0 } else { 0.0 }]);
                if f.alive {
                    let inside = f.x > 0 && f.y > 0 && (f.x as usize) < side - 1 && (f.y as usize) < side - 1;
                    let c = e * side * side + f.y as usize * side + f.x as usize;
                    if !inside || grid[c] >= 0 {
                        return Err(ShoalError::config("fighters", format!("env {e} agent {slot}"), "alive agents need distinct cells inside the walls"));
                    }
                    grid[c] = slot as i32;
                }
            }
        }
        self.agents = self.ctx.upload_raw(&packed, &[envs * per_env, 4], DType::F32)?;
        self.grid = self.ctx.upload_raw(&grid, &[envs, side * side], DType::I32)?;
        let words: Vec<u32> = (0..envs).flat_map(|_| [0, 0, 0, 0, shuffle_state.max(1), COMMAND_OBSERVE, 0, 0]).collect();
        self.state = self.ctx.upload_raw(&words, &[envs, STATE_WIDTH], DType::U32)?;
        self.mean_action = float_buffer(Tensor::<2>::zeros([envs * 2, BATTLE_ACTIONS], self.ctx.device()))?;
        self.ready = true;
        Ok(self.launch(self.idle_actions()?))
    }

    /// Game outcomes since the last [`BatchedEnv::clear_episode_stats`] (one small read).
    pub fn outcomes(&self) -> Result<BattleOutcomes> {
        let sums = super::sum_over_envs(&self.ctx, &self.episode_stats)?;
        let games = sums[2] as f64;
        Ok(BattleOutcomes {
            games,
            team0_wins: sums[7] as f64,
            team1_wins: sums[8] as f64,
            draws: sums[9] as f64,
            team0_survivors: sums[10] as f64 / games.max(1.0),
            team1_survivors: sums[11] as f64 / games.max(1.0),
        })
    }

    fn idle_actions(&self) -> Result<CubeTensor> {
        let n = 2 * self.team_size;
        let noop = Tensor::<2, burn::tensor::Int>::full([self.config.n_envs, n], BATTLE_NOOP, self.ctx.device());
        let buffer = int_buffer(noop)?;
        check_int_dtype(&buffer)?;
        Ok(buffer)
    }

    fn launch(&self, actions: CubeTensor) -> StepOutput {
        let envs = self.config.n_envs;
        let n = 2 * self.team_size;
        let obs = self.ctx.empty(&[envs, n, BATTLE_OBS_DIM], DType::F32);
        let reward = self.ctx.empty(&[envs, n], DType::F32);
        let flags = self.ctx.empty(&[2, envs], DType::F32);
        let buffers = [&actions, &self.agents, &self.grid, &self.state, &self.mean_action, &self.episode_stats, &obs, &reward, &flags];
        self.step_kernel.launch(&self.ctx, envs, &buffers);
        self.observe_kernel.launch(&self.ctx, envs * n, &buffers);
        let flags = float_tensor::<2>(flags);
        StepOutput {
            obs: vec![float_tensor(obs)],
            reward: float_tensor(reward),
            done: flags.clone().slice([0..1, 0..envs]).reshape([envs]),
            truncated: flags.slice([1..2, 0..envs]).reshape([envs]),
            terminal_obs: None,
            legal_actions: None,
        }
    }
}

impl BatchedEnv for Battle {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn reset(&mut self, seed: u64) -> Result<StepOutput> {
        let envs = self.config.n_envs;
        let words: Vec<u32> = (0..envs).flat_map(|_| [seed as u32, (seed >> 32) as u32, 0, 0, 0, COMMAND_OBSERVE, 0, 0]).collect();
        self.state = self.ctx.upload_raw(&words, &[envs, STATE_WIDTH], DType::U32)?;
        self.episode_stats = float_buffer(Tensor::<2>::zeros([envs, STAT_WIDTH], self.ctx.device()))?;
        self.ready = true;
        Ok(self.launch(self.idle_actions()?))
    }

    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput> {
        if !self.ready {
            return Err(ShoalError::config("step", "before reset", "call reset(seed) before the first step"));
        }
        let (envs, n) = (self.config.n_envs, 2 * self.team_size);
        let [Actions::Discrete(actions)] = actions else {
            return Err(ShoalError::Shape {
                what: "actions",
                expected: format!("one discrete Actions [envs, {n}] (both teams, team 0 first)"),
                got: format!("{} groups or continuous actions", actions.len()),
            });
        };
        ShoalError::ensure_dims("actions", &actions.dims(), &[envs, n])?;
        let buffer = int_buffer(actions.clone())?;
        check_int_dtype(&buffer)?;
        Ok(self.launch(buffer))
    }

    fn episode_stats(&self) -> Result<EpisodeStats> {
        Ok(EpisodeStats::from_sums(&super::sum_over_envs(&self.ctx, &self.episode_stats)?[..7]))
    }

    fn clear_episode_stats(&mut self) -> Result<()> {
        self.episode_stats = super::clear_completed_episodes(&self.episode_stats)?;
        Ok(())
    }

    fn snapshot(&self) -> Result<EnvSnapshot> {
        let mut state = self.ctx.read_f32(float_tensor::<2>(self.agents.clone()))?;
        state.extend(self.ctx.read_f32(float_tensor::<2>(self.mean_action.clone()))?);
        let mut counters = self.ctx.read_raw_u32(&self.state)?;
        counters.extend(self.ctx.read_raw_u32(&self.grid)?);
        Ok(EnvSnapshot { state, counters, episode_stats: self.ctx.read_f32(float_tensor::<2>(self.episode_stats.clone()))? })
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let (envs, per_env, side) = (self.config.n_envs, 2 * self.team_size, self.config.map_size);
        let agent_words = envs * per_env * 4;
        ShoalError::ensure_len("snapshot state", snapshot.state.len(), &[agent_words + envs * 2 * BATTLE_ACTIONS])?;
        ShoalError::ensure_len("snapshot counters", snapshot.counters.len(), &[envs * (STATE_WIDTH + side * side)])?;
        ShoalError::ensure_len("snapshot statistics", snapshot.episode_stats.len(), &[envs, STAT_WIDTH])?;
        let mut words = snapshot.counters[..envs * STATE_WIDTH].to_vec();
        for env_words in words.chunks_mut(STATE_WIDTH) {
            env_words[5] = COMMAND_OBSERVE;
        }
        self.agents = self.ctx.upload_raw(&snapshot.state[..agent_words], &[envs * per_env, 4], DType::F32)?;
        self.mean_action = self.ctx.upload_raw(&snapshot.state[agent_words..], &[envs * 2, BATTLE_ACTIONS], DType::F32)?;
        self.state = self.ctx.upload_raw(&words, &[envs, STATE_WIDTH], DType::U32)?;
        let grid: &[i32] = bytemuck::cast_slice(&snapshot.counters[envs * STATE_WIDTH..]);
        self.grid = self.ctx.upload_raw(grid, &[envs, side * side], DType::I32)?;
        self.episode_stats = self.ctx.upload_raw(&snapshot.episode_stats, &[envs, STAT_WIDTH], DType::F32)?;
        self.ready = true;
        Ok(self.launch(self.idle_actions()?))
    }

    fn obs_layout(&self) -> ObsLayout {
        ObsLayout { local: BATTLE_LOCAL_OBS, mean_action: BATTLE_OBS_DIM - BATTLE_LOCAL_OBS, distinct_agents: false }
    }

    fn scene(&self) -> Result<Scene> {
        let fighters = self.read_fighters()?;
        Ok(scene(&fighters[0], self.config.map_size))
    }
}

/// The scene of one env's fighters.
pub fn scene(fighters: &[Fighter], side: usize) -> Scene {
    let mut colors = vec![RGBColor(245, 245, 240); side * side];
    for i in 0..side {
        for c in [i, (side - 1) * side + i, i * side, i * side + side - 1] {
            colors[c] = RGBColor(120, 120, 120);
        }
    }
    let team_size = fighters.len() / 2;
    let mut alive = [0usize; 2];
    for (slot, f) in fighters.iter().enumerate().filter(|(_, f)| f.alive) {
        let team = slot / team_size;
        alive[team] += 1;
        let t = (f.hp / 10.0).clamp(0.0, 1.0) as f64;
        let mix = |pale: f64, full: f64| (pale + (full - pale) * t).round() as u8;
        colors[f.y as usize * side + f.x as usize] =
            if team == 0 { RGBColor(mix(250.0, 200.0), mix(190.0, 30.0), mix(190.0, 30.0)) } else { RGBColor(mix(190.0, 30.0), mix(200.0, 70.0), mix(250.0, 200.0)) };
    }
    let caption = format!("{side}×{side}  red {} v blue {}", alive[0], alive[1]);
    Scene::Cells { columns: side, rows: side, colors, caption }
}
