//! `market`: thousands to millions of traders (banks) per env, each choosing how much to lend or
//! borrow against the market's mean reserve — the N-player form of the linear-quadratic
//! mean-field game of systemic risk, whose mean-field equilibrium is known in closed form
//! ([`crate::mfg::lin_quad`]).
//!
//! Trader i holds a log-reserve `x_i`; the env's mean reserve `m` is the empirical mean of its
//! traders, recomputed on the device after every move (a reduction over the env's traders, no
//! host copy). Its action is a rate `α ∈ [−max_rate, max_rate]` (continuous, one number; values
//! outside are clamped and counted as invalid), its reward `dt/2 (−α² + 2qα(m − x) − κ(m − x)²)`
//! with `−c/2 (m − x)²` at the last step, its move `x += (K(m − x) + α) dt + σ√dt ξ`. It observes
//! `(m − x, t / steps)`. As traders grow in number `m` stops moving and the game becomes the mean
//! field's: the gains `α = g_t (m − x)` of [`crate::mfg::LinQuad::equilibrium_gains`] are its
//! equilibrium, with the exact value per step that [`crate::mfg::LinQuad::play`] gives.
//!
//! A step is two launches of `shaders/market.wgsl` (move; observe) around one reduction; at an
//! episode's end a respawn, a reduction and an observe. Episodes have a fixed length and every env
//! runs in step ([`LockstepEpisodes`]).

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::Tensor;

use super::lockstep::{step_output, LockstepEpisodes, StepBuffers};
use super::options::EnvOption;
use super::{ActionSpace, Actions, AgentGroup, BatchedEnv, EnvParams, EnvSnapshot, EnvSpec, EpisodeStats, FromParams, StepOutput};
use crate::error::{Result, ShoalError};
use crate::render::scene::{Body, Scene};
use plotters::style::RGBColor;
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, GpuContext, WgslKernel};
use crate::mfg::LinQuad;

/// The WGSL of this environment.
pub const MARKET_WGSL: &str = include_str!("../../shaders/market.wgsl");

/// Observation width: `m − x`, `t / steps`.
pub const MARKET_OBS_DIM: usize = 2;
/// With `time_to_go`: `m − x`, `t / steps`, `1 / (steps − t + 1)`.
pub const MARKET_OBS_DIM_TIME_TO_GO: usize = 3;
const MODE_MOVE: usize = 0;
const MODE_OBSERVE: usize = 1;
const MODE_RESPAWN: usize = 2;
const MODE_OBSERVE_FRESH: usize = 3;

/// The options, by OpenSpiel's parameter names where it has them.
pub const OPTIONS: [EnvOption; 9] = [
    EnvOption { name: "horizon", about: "time horizon T; default 10 (steps = T / dt; max_cycles sets the steps instead)" },
    EnvOption { name: "dt", about: "step length; default 0.1" },
    EnvOption { name: "mean_revert", about: "K, pull toward the mean; default 0" },
    EnvOption { name: "volatility", about: "σ; default 1" },
    EnvOption { name: "cross_q", about: "q; default 0.01" },
    EnvOption { name: "kappa", about: "κ, running cost of being away from the mean; default 0.5" },
    EnvOption { name: "terminal_cost", about: "c; default 1" },
    EnvOption { name: "initial_std", about: "spread of the initial reserves; default 1" },
    EnvOption {
        name: "time_to_go",
        about: "also observe 1 / (steps left + 1), which rises sharply at the end where the equilibrium's gain does; default false",
    },
];

/// A batch of markets.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketConfig {
    /// Instances in the batch.
    pub n_envs: usize,
    /// Traders per env.
    pub traders: usize,
    /// The game's coefficients.
    pub game: LinQuad,
    /// Largest rate a trader may choose.
    pub max_rate: f32,
    /// Observe `1 / (steps left + 1)` as a third number: the equilibrium's gain rises over the
    /// last ~15% of the episode, which `t / steps` alone gives a policy network little to go on.
    pub time_to_go: bool,
}

impl MarketConfig {
    /// `n_envs` envs of `traders` traders, at the default coefficients.
    pub fn new(n_envs: usize, traders: usize) -> MarketConfig {
        MarketConfig { n_envs, traders, game: LinQuad::default(), max_rate: 10.0, time_to_go: false }
    }

    /// Numbers per trader's observation.
    pub fn obs_dim(&self) -> usize {
        if self.time_to_go { MARKET_OBS_DIM_TIME_TO_GO } else { MARKET_OBS_DIM }
    }

    /// A trader's observation at `step` with gap `m − x`, as `write_obs` in
    /// `shaders/market.wgsl` writes it (for probing a policy from the host).
    pub fn observation(&self, gap: f32, step: usize) -> Vec<f32> {
        let steps = self.game.steps();
        let mut obs = vec![gap, step as f32 / steps as f32];
        if self.time_to_go {
            obs.push(1.0 / (steps - step + 1) as f32);
        }
        obs
    }

    /// Rejects settings the kernels cannot run.
    pub fn validate(&self) -> Result<()> {
        if self.n_envs == 0 || self.traders < 2 || self.traders > 1 << 26 {
            return Err(ShoalError::config("agents", self.traders, "a market needs at least one env and 2..=2²⁶ traders per env"));
        }
        if !(self.max_rate.is_finite() && self.max_rate > 0.0) {
            return Err(ShoalError::config("max_rate", self.max_rate, "must be a positive number"));
        }
        self.game.validate()
    }
}

impl FromParams for MarketConfig {
    type Env = Market;
    const OPTIONS: &'static [EnvOption] = &OPTIONS;

    fn from_params(params: &EnvParams) -> Result<MarketConfig> {
        // Rates are the only kind of action: `continuous` (which picks a kind where an env has
        // both) has nothing to choose here.
        let o = &params.options;
        let d = LinQuad::default();
        let dt = o.number(&OPTIONS[1], d.dt)?;
        let horizon = match params.max_cycles {
            Some(steps) => steps as f64 * dt,
            None => o.number(&OPTIONS[0], d.horizon)?,
        };
        let game = LinQuad {
            horizon,
            dt,
            mean_revert: o.number(&OPTIONS[2], d.mean_revert)?,
            volatility: o.number(&OPTIONS[3], d.volatility)?,
            cross_q: o.number(&OPTIONS[4], d.cross_q)?,
            kappa: o.number(&OPTIONS[5], d.kappa)?,
            terminal_cost: o.number(&OPTIONS[6], d.terminal_cost)?,
            initial_std: o.number(&OPTIONS[7], d.initial_std)?,
        };
        let time_to_go = o.flag(&OPTIONS[8], false)?;
        let config = MarketConfig { game, time_to_go, ..MarketConfig::new(params.n_envs, params.agents) };
        config.validate()?;
        Ok(config)
    }

    fn build(self, ctx: &Arc<GpuContext>) -> Result<Market> {
        Market::new(ctx.clone(), self)
    }
}

/// A batch of markets on the GPU.
pub struct Market {
    ctx: Arc<GpuContext>,
    config: MarketConfig,
    spec: EnvSpec,
    kernels: [WgslKernel; 4],
    /// `[envs·V]` log-reserves.
    reserve: CubeTensor,
    /// `[envs]` each env's mean reserve.
    mean_reserve: CubeTensor,
    /// `[envs·V]` (running return, invalid actions).
    agent_acc: CubeTensor,
    idle_actions: CubeTensor,
    episodes: LockstepEpisodes,
    last_obs: Option<CubeTensor>,
}

impl Market {
    /// Builds the batch on `ctx`, checking `config` and the device's buffer limits.
    pub fn new(ctx: Arc<GpuContext>, config: MarketConfig) -> Result<Market> {
        config.validate()?;
        let (envs, v, game) = (config.n_envs, config.traders, config.game);
        let limit = ctx.max_storage_bytes();
        let obs_dim = config.obs_dim();
        let bytes_per_env = (v * obs_dim * 4) as u64;
        if bytes_per_env * envs as u64 > limit || envs * v > (u32::MAX / 16) as usize {
            return Err(ShoalError::BatchTooLarge {
                what: format!("the observation buffer ({bytes_per_env} bytes per env of {v} traders)"),
                needed_bytes: bytes_per_env * envs as u64,
                limit_bytes: limit,
                max_envs: (limit / bytes_per_env) as usize,
            });
        }
        let f = |x: f64| format!("{:?}f", x as f32);
        let kernels = [MODE_MOVE, MODE_OBSERVE, MODE_RESPAWN, MODE_OBSERVE_FRESH].map(|mode| {
            WgslKernel::new(
                "market",
                &[GRID_WGSL, RNG_WGSL, MARKET_WGSL],
                &[
                    ("n_envs", envs.to_string()),
                    ("traders", v.to_string()),
                    ("mode", mode.to_string()),
                    ("steps", game.steps().to_string()),
                    ("dt", f(game.dt)),
                    ("mean_revert", f(game.mean_revert)),
                    ("volatility", f(game.volatility)),
                    ("cross_q", f(game.cross_q)),
                    ("kappa", f(game.kappa)),
                    ("terminal_cost", f(game.terminal_cost)),
                    ("initial_std", f(game.initial_std)),
                    ("max_rate", f(config.max_rate as f64)),
                    ("obs_dim", obs_dim.to_string()),
                ],
            )
        });
        let spec = EnvSpec {
            name: "market",
            n_envs: envs,
            groups: vec![AgentGroup {
                name: "trader".into(),
                agents: v,
                obs_dim,
                action: ActionSpace::Continuous { dim: 1, low: -config.max_rate, high: config.max_rate },
            }],
            max_cycles: game.steps(),
        };
        let device = ctx.device().clone();
        Ok(Market {
            reserve: float_buffer(Tensor::<1>::zeros([envs * v], &device))?,
            mean_reserve: float_buffer(Tensor::<1>::zeros([envs], &device))?,
            agent_acc: float_buffer(Tensor::<3>::zeros([envs, v, 2], &device))?,
            idle_actions: float_buffer(Tensor::<1>::zeros([envs * v], &device))?,
            episodes: LockstepEpisodes::new(ctx.clone(), envs, game.steps())?,
            last_obs: None,
            kernels,
            spec,
            config,
            ctx,
        })
    }

    /// The configuration this batch was built with.
    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    /// Every trader's log-reserve, `[envs · traders]` (tests, diagnostics).
    pub fn read_reserves(&self) -> Result<Vec<f32>> {
        self.ctx.read_f32(float_tensor::<1>(self.reserve.clone()))
    }

    fn launch(&self, mode: usize, actions: &CubeTensor, out: &StepBuffers) -> Result<()> {
        let clock = self.episodes.clock()?;
        self.kernels[mode].launch(
            &self.ctx,
            self.config.n_envs * self.config.traders,
            &[&clock, actions, &self.reserve, &self.mean_reserve, &out.obs, &out.reward, &self.agent_acc, &out.flags],
        );
        Ok(())
    }

    /// Each env's mean reserve, by a reduction on the device.
    fn update_mean(&mut self) -> Result<()> {
        let (envs, v) = (self.config.n_envs, self.config.traders);
        let reserve = float_tensor::<1>(self.reserve.clone()).reshape([envs, v]);
        self.mean_reserve = float_buffer(reserve.mean_dim(1).reshape([envs]))?;
        Ok(())
    }

    fn respawn(&mut self, out: &StepBuffers) -> Result<()> {
        self.launch(MODE_RESPAWN, &self.idle_actions, out)?;
        self.update_mean()?;
        self.launch(MODE_OBSERVE_FRESH, &self.idle_actions, out)
    }

    fn buffers(&self) -> StepBuffers {
        StepBuffers::new(&self.ctx, self.config.n_envs, self.config.traders, self.config.obs_dim())
    }
}


/// The one continuous actions tensor `[envs, traders, 1]`.
fn rates(actions: &[Actions], envs: usize, traders: usize) -> Result<CubeTensor> {
    let [Actions::Continuous(a)] = actions else {
        return Err(ShoalError::Shape { what: "market actions", expected: "one Continuous actions tensor [envs, traders, 1]".into(), got: format!("{} tensor(s) or a discrete one", actions.len()) });
    };
    ShoalError::ensure_dims("market actions", &a.dims(), &[envs, traders, 1])?;
    float_buffer(a.clone())
}

impl BatchedEnv for Market {
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
        out.reward = float_buffer(Tensor::<2>::zeros([self.config.n_envs, self.config.traders], self.ctx.device()))?;
        self.respawn(&out)?;
        self.episodes.reset_done();
        self.last_obs = Some(out.obs.clone());
        Ok(out.into_output(self.config.n_envs))
    }

    fn step(&mut self, actions: &[Actions]) -> Result<StepOutput> {
        self.episodes.ensure_started()?;
        let actions = rates(actions, self.config.n_envs, self.config.traders)?;
        let out = self.buffers();
        self.launch(MODE_MOVE, &actions, &out)?;
        self.update_mean()?;
        self.launch(MODE_OBSERVE, &actions, &out)?;
        if self.episodes.ending() {
            self.respawn(&out)?;
        }
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

    /// Env 0's traders as dots: across, their reserve relative to the mean; up, their index. Red
    /// lend (above the mean), blue borrow.
    fn scene(&self) -> Result<Scene> {
        let v = self.config.traders;
        let reserves = self.read_reserves()?;
        let env0 = &reserves[..v];
        let mean = env0.iter().map(|&x| x as f64).sum::<f64>() / v as f64;
        let shown = v.min(400);
        let half = 4.0 * self.config.game.initial_std.max(self.config.game.volatility).max(0.25);
        let bodies = (0..shown)
            .map(|i| {
                let gap = env0[i * v / shown] as f64 - mean;
                Body {
                    x: gap.clamp(-half, half),
                    y: -half + 2.0 * half * (i as f64 + 0.5) / shown as f64,
                    radius: half * 0.012,
                    fill: if gap > 0.0 { RGBColor(200, 50, 40) } else { RGBColor(50, 80, 200) },
                    ring: None,
                }
            })
            .collect();
        let spread = (env0.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v as f64).sqrt();
        Ok(Scene::Bodies { half_extent: half, bodies, caption: format!("{v} traders, mean reserve {mean:+.3}, spread {spread:.3}") })
    }

    /// State layout: reserves `[envs·V]`, accumulators `[envs·V·2]`, the last observations.
    fn snapshot(&self) -> Result<EnvSnapshot> {
        let obs = self.last_obs.clone().ok_or_else(|| ShoalError::config("snapshot", "before reset", "reset the market before taking a snapshot"))?;
        let mut state = self.read_reserves()?;
        state.extend(self.ctx.read_f32(float_tensor::<3>(self.agent_acc.clone()))?);
        state.extend(self.ctx.read_f32(float_tensor::<3>(obs))?);
        let (counters, episode_stats) = self.episodes.snapshot()?;
        Ok(EnvSnapshot { state, counters, episode_stats })
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<StepOutput> {
        let (envs, v) = (self.config.n_envs, self.config.traders);
        let n = envs * v;
        ShoalError::ensure_len("snapshot state", snapshot.state.len(), &[n, 1 + 2 + self.config.obs_dim()])?;
        self.reserve = float_buffer(self.ctx.upload_f32(&snapshot.state[..n], [n])?)?;
        self.agent_acc = float_buffer(self.ctx.upload_f32(&snapshot.state[n..3 * n], [envs, v, 2])?)?;
        let obs = float_buffer(self.ctx.upload_f32(&snapshot.state[3 * n..], [envs, v, self.config.obs_dim()])?)?;
        self.update_mean()?;
        self.episodes.restore(&snapshot.counters, &snapshot.episode_stats)?;
        self.last_obs = Some(obs.clone());
        let device = self.ctx.device();
        let flags = float_buffer(Tensor::<2>::zeros([2, envs], device))?;
        let reward = float_buffer(Tensor::<2>::zeros([envs, v], device))?;
        Ok(step_output(obs, reward, flags, envs))
    }
}
