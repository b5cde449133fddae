//! MF-Q (Yang et al. 2018): Q-learning where each agent's Q-function takes the mean action of its
//! neighbours, Q(s, a, ā), and acts by a Boltzmann policy π(a | s, ā) ∝ exp(Q(s, a, ā) / T).
//!
//! On the Ising lattice (the paper's §5.1 setting) the state is the site's own spin, ā the mean
//! spin of its four neighbours (five possible values) and a ∈ {down, up}, so Q is a 2×5×2 table —
//! one per lattice, shared by all its sites (they are identical agents), as the paper's tabular
//! MF-Q. The MF-Q target uses the mean-field value of the next state,
//!
//! v(s') = Σ_a' π(a' | s', ā') · Q_target(s', a', ā'),
//!
//! with a target table refreshed every `target_update_every` steps. Every site's transition
//! updates its table entry by the mean TD error of the sites that visited it. Everything is burn
//! tensor ops on the device; the host reads nothing until the measurement ends.

use std::sync::Arc;

use burn::config::Config;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Int, Tensor};

use crate::train::checkpoint::{write_checkpoint, CheckpointState, Learner, Progress, UpdateMetrics};
use crate::train::config::TrainConfig;
use crate::env::ising::{accumulate_order, InitialSpins, OrderCurve, OrderPoint};
use crate::env::{ActionSpace, Actions, AgentGroup, BatchedEnv, Ising, IsingConfig, RandomActions};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// Table entries: 2 own spins × 5 neighbour means × 2 actions.
const TABLE: usize = 20;

/// MF-Q hyperparameters.
#[derive(Config, Debug, PartialEq)]
pub struct MfqConfig {
    /// Step size of the tabular update.
    #[config(default = 0.1)]
    pub learning_rate: f32,
    /// Discount factor.
    #[config(default = 0.9)]
    pub gamma: f32,
    /// Steps between copies of Q into the target table.
    #[config(default = 10)]
    pub target_update_every: usize,
    /// One table per site, each learning from its own site only (mlii/mfrl's Ising code),
    /// instead of one per lattice shared by its identical sites.
    #[config(default = false)]
    pub per_site: bool,
    /// Who moves at a step: every site at once (the paper's and the env's default), or the two
    /// colours of the checkerboard in turn, as Metropolis's sites do.
    #[config(default = "Moves::Synchronous")]
    pub moves: Moves,
}

/// Which sites choose a new spin at a step.
#[derive(Config, Debug, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Moves {
    /// All sites at once: a site's reward then depends on its neighbours' *new* spins, which it
    /// cannot see.
    Synchronous,
    /// Sites with (row + col) even at even steps, odd at odd steps; the others keep their spin
    /// (and do not learn from that step). Neighbours of a moving site stand still.
    Checkerboard,
}

impl Moves {
    /// `synchronous` or `checkerboard`.
    pub fn name(self) -> &'static str {
        match self {
            Moves::Synchronous => "synchronous",
            Moves::Checkerboard => "checkerboard",
        }
    }
}

/// Tabular MF-Q agents on a batch of Ising lattices, one temperature per lattice.
pub struct IsingMfq {
    config: MfqConfig,
    /// `[envs, 20]`, indexed by `own_spin·10 + neighbour_mean·2 + action`; per-site tables:
    /// `[envs, sites·20]`, site j's at `20·j`.
    q: Tensor<2>,
    q_target: Tensor<2>,
    /// `[envs, 1]`.
    temperature: Tensor<2>,
    /// Uniforms `[envs, sites, 1]` for the Boltzmann draws.
    noise: RandomActions,
    /// `[1, 1, 20]`: 0..20, to build one-hot masks by comparison.
    entries: Tensor<3>,
    /// Per-site tables: `[1, sites]`, where each site's table starts (`20·j`).
    site_offset: Option<Tensor<2, Int>>,
    /// Checkerboard moves: `[1, sites]` masks (1 = moves) of the even and the odd colour.
    colour_masks: Option<[Tensor<2>; 2]>,
    steps: usize,
}

impl IsingMfq {
    /// Agents for `sites`-site lattices at `temperatures` (one per lattice).
    pub fn new(ctx: &Arc<GpuContext>, temperatures: &[f32], sites: usize, config: MfqConfig, seed: u64) -> Result<IsingMfq> {
        if !(0.0..1.0).contains(&config.gamma) || !(config.learning_rate > 0.0 && config.learning_rate <= 1.0) {
            return Err(ShoalError::config("gamma/learning_rate", format!("{}/{}", config.gamma, config.learning_rate), "need 0 ≤ gamma < 1 and 0 < learning_rate ≤ 1"));
        }
        let envs = temperatures.len();
        let device = ctx.device();
        let uniform = AgentGroup { name: "noise".into(), agents: sites, obs_dim: 0, action: ActionSpace::Continuous { dim: 1, low: 0.0, high: 1.0 } };
        let width = if config.per_site { sites * TABLE } else { TABLE };
        Ok(IsingMfq {
            q: Tensor::zeros([envs, width], device),
            q_target: Tensor::zeros([envs, width], device),
            site_offset: config.per_site.then(|| (Tensor::<1, Int>::arange(0..sites as i64, device) * TABLE as i32).reshape([1, sites])),
            colour_masks: match config.moves {
                Moves::Synchronous => None,
                Moves::Checkerboard => Some(colour_masks(ctx, sites)?),
            },
            temperature: ctx.upload_f32(temperatures, [envs, 1])?,
            noise: RandomActions::new(ctx.clone(), &uniform, envs, seed ^ 0x4D46_51)?,
            entries: Tensor::<1, Int>::arange(0..TABLE as i64, device).float().reshape([1, 1, TABLE]),
            steps: 0,
            config,
        })
    }

    /// The Q table `[envs, 20]` (on the device).
    pub fn table(&self) -> Tensor<2> {
        self.q.clone()
    }

    /// Table row of each site's (own spin, neighbour mean), action 0: `[envs, sites]`.
    fn base_index(obs: Tensor<3>) -> Tensor<2, Int> {
        let [envs, sites, _] = obs.dims();
        let spin = obs.clone().slice([0..envs, 0..sites, 0..1]).reshape([envs, sites]);
        let mean = obs.slice([0..envs, 0..sites, 1..2]).reshape([envs, sites]);
        // spin ∈ {−1, 1} → {0, 1}; mean ∈ {−1, −½, 0, ½, 1} → {0, …, 4}.
        ((spin + 1.0) * 5.0 + (mean + 1.0) * 4.0).round().int()
    }

    /// The sites that move at this step, `[1, sites]` (checkerboard moves only).
    fn movers(&self) -> Option<Tensor<2>> {
        self.colour_masks.as_ref().map(|masks| masks[self.steps % 2].clone())
    }

    /// Where each site's entry (action 0) is in the tables: `[envs, sites]`.
    fn table_index(&self, local: Tensor<2, Int>) -> Tensor<2, Int> {
        match &self.site_offset {
            Some(offset) => local + offset.clone(),
            None => local,
        }
    }

    /// Probability of spin up under the Boltzmann policy of `table`, and the two Q values.
    fn policy(&self, table: &Tensor<2>, base: &Tensor<2, Int>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let q_down = table.clone().gather(1, base.clone());
        let q_up = table.clone().gather(1, base.clone() + 1);
        let p_up = sigmoid((q_up.clone() - q_down.clone()) / self.temperature.clone());
        (p_up, q_down, q_up)
    }

    /// Boltzmann actions for observations `[envs, sites, 2]`.
    pub fn act(&mut self, obs: Tensor<3>) -> Result<Tensor<2, Int>> {
        let [envs, sites, _] = obs.dims();
        let (p_up, _, _) = self.policy(&self.q, &self.table_index(Self::base_index(obs.clone())));
        let Actions::Continuous(u) = self.noise.sample() else {
            return Err(ShoalError::Internal("MF-Q noise must be continuous".into()));
        };
        let chosen = u.reshape([envs, sites]).lower(p_up).float();
        Ok(match self.movers() {
            None => chosen.int(),
            Some(movers) => {
                // Sites that stand still play their current spin (−1 → 0, +1 → 1).
                let current = (obs.slice([0..envs, 0..sites, 0..1]).reshape([envs, sites]) + 1.0) * 0.5;
                (chosen * movers.clone() + current * (movers.neg() + 1.0)).round().int()
            }
        })
    }

    /// Continues the Q and target tables, the step count and the noise stream of a checkpoint.
    pub fn restore(&mut self, ctx: &GpuContext, state: &MfqState) -> Result<()> {
        let [envs, width] = self.q.dims();
        ShoalError::ensure_len("MF-Q table", state.q.len(), &[envs, width])?;
        ShoalError::ensure_len("MF-Q target table", state.q_target.len(), &[envs, width])?;
        self.q = ctx.upload_f32(&state.q, [envs, width])?;
        self.q_target = ctx.upload_f32(&state.q_target, [envs, width])?;
        self.steps = state.steps;
        self.noise.set_calls(state.steps as u32)
    }

    /// The tables and counters to checkpoint (reads the two small tables back).
    pub fn state(&self, ctx: &GpuContext) -> Result<MfqState> {
        Ok(MfqState { q: ctx.read_f32(self.q.clone())?, q_target: ctx.read_f32(self.q_target.clone())?, steps: self.steps })
    }

    /// One MF-Q update from the transition (obs, action, reward, next_obs) of every site;
    /// `done` (`[envs]`, 1 where the step ended the episode) drops that transition: episodes end
    /// by time limit only, and `next_obs` is then already the next episode's fresh lattice, so
    /// there is neither a terminal state nor a true next state to learn from. Returns the mean
    /// squared TD error (on the device).
    pub fn learn(&mut self, obs: Tensor<3>, action: Tensor<2, Int>, reward: Tensor<2>, next_obs: Tensor<3>, done: Tensor<1>) -> Tensor<1> {
        let [envs, sites, _] = obs.dims();
        let (p_next, q_down_next, q_up_next) = self.policy(&self.q_target, &self.table_index(Self::base_index(next_obs)));
        let value_next = p_next.clone() * q_up_next + (p_next.neg() + 1.0) * q_down_next;
        let continuing = (done.neg() + 1.0).reshape([envs, 1]);
        let target = reward + value_next * self.config.gamma;
        let local = Self::base_index(obs) + action;
        let mut td = (target - self.q.clone().gather(1, self.table_index(local.clone()))) * continuing;
        if let Some(movers) = self.movers() {
            td = td * movers;
        }
        let td_squared = td.clone().powi_scalar(2).mean();
        // One-hot masks of the visited entries (deterministic, unlike atomic scatter-adds).
        let one_hot = (local.float().reshape([envs, sites, 1]) - self.entries.clone()).abs().lower_elem(0.5).float();
        let step = if self.site_offset.is_some() {
            // Each site's table learns from that site alone.
            (one_hot * td.reshape([envs, sites, 1])).reshape([envs, sites * TABLE])
        } else {
            // The shared table: the mean TD error of the sites that visited each entry.
            let visited = match self.movers() {
                Some(movers) => one_hot * movers.reshape([1, sites, 1]),
                None => one_hot,
            };
            let td_sum = (visited.clone() * td.reshape([envs, sites, 1])).sum_dim(1).reshape([envs, TABLE]);
            td_sum / visited.sum_dim(1).reshape([envs, TABLE]).clamp_min(1.0)
        };
        self.q = self.q.clone() + step * self.config.learning_rate;
        self.steps += 1;
        if self.steps % self.config.target_update_every.max(1) == 0 {
            self.q_target = self.q.clone();
        }
        td_squared
    }
}

/// MF-Q order parameter vs temperature: agents with `config` (empty tables: their first moves
/// are coin flips) on lattices starting from `curve.initial`; `curve.equilibration` steps of acting and learning, then `curve.measurements` more
/// (still learning), sampling |m| at each. One long episode (no resets).
pub fn order_parameter_curve(ctx: &Arc<GpuContext>, curve: &OrderCurve, config: MfqConfig, mut progress: impl FnMut(usize)) -> Result<Vec<OrderPoint>> {
    let OrderCurve { size, ref temperatures, replicas, equilibration, measurements, seed, initial } = *curve;
    let per_env = crate::env::ising::temperature_per_env(temperatures, replicas, measurements)?;
    let lattices = IsingConfig::new(per_env.len())
        .with_size(size)
        .with_max_cycles(equilibration + measurements + 1)
        .with_initial_magnetisation(if initial == InitialSpins::Ordered { 1.0 } else { 0.0 });
    let mut env = Ising::new(ctx.clone(), lattices)?;
    let mut agents = IsingMfq::new(ctx, &per_env, size * size, config, seed)?;
    let mut obs = env.reset(seed)?.obs.remove(0);
    let mut step = |env: &mut Ising, obs: &mut Tensor<3>| -> Result<()> {
        let action = agents.act(obs.clone())?;
        let out = env.step(&[Actions::Discrete(action.clone())])?;
        let next = out.obs[0].clone();
        let _ = agents.learn(obs.clone(), action, out.reward, next.clone(), out.done);
        *obs = next;
        Ok(())
    };
    for t in 0..equilibration {
        step(&mut env, &mut obs)?;
        progress(t + 1);
    }
    let mut done = equilibration;
    accumulate_order(ctx, temperatures, replicas, size * size, measurements, || {
        step(&mut env, &mut obs)?;
        done += 1;
        progress(done);
        Ok(env.magnetisation())
    })
}

/// The checkerboard's two colours on an L×L lattice of `sites` sites: `[1, sites]` masks, 1 on
/// sites with (row + col) even, then odd.
fn colour_masks(ctx: &GpuContext, sites: usize) -> Result<[Tensor<2>; 2]> {
    let side = crate::env::ising::lattice_side(sites);
    let even: Vec<f32> = (0..sites).map(|j| ((j / side + j % side) % 2 == 0) as u8 as f32).collect();
    let odd: Vec<f32> = even.iter().map(|e| 1.0 - e).collect();
    Ok([ctx.upload_f32(&even, [1, sites])?, ctx.upload_f32(&odd, [1, sites])?])
}

/// An MF-Q checkpoint's tables (`q.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MfqState {
    /// Q tables `[envs, 20]`.
    pub q: Vec<f32>,
    /// Target tables `[envs, 20]`.
    pub q_target: Vec<f32>,
    /// Learning steps so far (= noise draws).
    pub steps: usize,
}

/// `shoal train --env ising --algo mfq`: MF-Q agents on `envs` lattices at one temperature, with
/// the training loop's metrics, checkpoints and resume. An "update" is `rollout_steps` steps of
/// acting and learning.
pub struct MfqTrainer {
    ctx: Arc<GpuContext>,
    config: TrainConfig,
    env: Ising,
    agents: IsingMfq,
    obs: Tensor<3>,
    progress: Progress,
}

impl MfqTrainer {
    /// A fresh run.
    pub fn new(ctx: Arc<GpuContext>, config: TrainConfig) -> Result<MfqTrainer> {
        config.validate()?;
        let mut env = lattices_of(&ctx, &config, config.envs)?;
        let mfq = MfqConfig::new()
            .with_learning_rate(config.q_learning_rate)
            .with_gamma(config.gamma)
            .with_target_update_every(config.target_update_every);
        let agents = IsingMfq::new(&ctx, &vec![config.temperature; config.envs], config.agents, mfq, config.seed)?;
        let obs = env.reset(config.seed)?.obs.remove(0);
        Ok(MfqTrainer { ctx, env, agents, obs, progress: Progress::default(), config })
    }

    /// Continues the run in `dir` exactly.
    pub fn resume(ctx: Arc<GpuContext>, dir: &std::path::Path) -> Result<MfqTrainer> {
        let state = CheckpointState::read(dir)?;
        let mut trainer = MfqTrainer::new(ctx.clone(), state.config.clone())?;
        let tables: MfqState = crate::io::read_json(&dir.join("q.json"), "an MF-Q table file")?;
        trainer.agents.restore(&ctx, &tables)?;
        trainer.obs = trainer.env.restore(&state.env)?.obs.remove(0);
        trainer.progress = state.progress;
        Ok(trainer)
    }

    /// The agents (Q tables) being trained.
    pub fn agents(&self) -> &IsingMfq {
        &self.agents
    }

    /// Mean |magnetisation| per site over the lattices now (one small read).
    pub fn order_parameter(&self) -> Result<f64> {
        Ok(self.ctx.read_f32(self.env.magnetisation().abs().mean())?[0] as f64)
    }
}

impl Learner for MfqTrainer {
    fn config(&self) -> &TrainConfig {
        &self.config
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn update(&mut self) -> Result<UpdateMetrics> {
        let started = std::time::Instant::now();
        // Mean over the update's steps of each step's mean squared TD error.
        let mut td_squared = Tensor::<1>::zeros([1], self.ctx.device());
        for _ in 0..self.config.rollout_steps {
            let action = self.agents.act(self.obs.clone())?;
            let out = self.env.step(&[Actions::Discrete(action.clone())])?;
            let next = out.obs[0].clone();
            td_squared = td_squared + self.agents.learn(self.obs.clone(), action, out.reward, next.clone(), out.done);
            self.obs = next;
        }
        let td = self.ctx.read_f32(td_squared)?[0] as f64 / self.config.rollout_steps as f64;
        let episodes = self.env.episode_stats()?;
        self.env.clear_episode_stats()?;
        let seconds = started.elapsed().as_secs_f64();
        self.progress.advance(self.config.steps_per_update(), seconds);
        self.progress.noise_calls += self.config.rollout_steps as u32;
        Ok(UpdateMetrics {
            update: self.progress.update,
            env_steps: self.progress.env_steps,
            wall_seconds: self.progress.wall_seconds,
            mean_episode_return: episodes.mean_return,
            episodes: episodes.episodes,
            // Q-learning has no policy loss, entropy bonus or KL: its loss is the TD error.
            total_loss: td,
            policy_loss: f64::NAN,
            value_loss: td,
            entropy: f64::NAN,
            approx_kl: f64::NAN,
            env_steps_per_s: self.config.steps_per_update() as f64 / seconds,
            lr: self.config.q_learning_rate as f64,
            group_returns: Vec::new(),
        })
    }

    fn save_checkpoint(&self, dir: &std::path::Path) -> Result<()> {
        write_checkpoint(dir, |tmp| {
            crate::io::write_json(&tmp.join("q.json"), &self.agents.state(&self.ctx)?)?;
            CheckpointState { config: self.config.clone(), progress: self.progress.clone(), env: self.env.snapshot()?, group_running: Vec::new() }.write(tmp)
        })
    }
}

/// A checkpoint's MF-Q agents for `lattices` lattices (each with env 0's tables), and its config.
pub fn load_agents(ctx: &Arc<GpuContext>, dir: &std::path::Path, lattices: usize, seed: u64) -> Result<(TrainConfig, IsingMfq)> {
    let state = CheckpointState::read(dir)?;
    let config = state.config;
    let path = dir.join("q.json");
    let tables: MfqState = crate::io::read_json(&path, "an MF-Q table file")?;
    if tables.q.len() < TABLE || tables.q_target.len() < TABLE {
        return Err(ShoalError::BadInput { path: path.display().to_string(), line: 0, message: "MF-Q tables are too short".into() });
    }
    let mfq = MfqConfig::new().with_learning_rate(config.q_learning_rate).with_gamma(config.gamma);
    let mut agents = IsingMfq::new(ctx, &vec![config.temperature; lattices], config.agents, mfq, seed)?;
    let repeat = |t: &[f32]| t[..TABLE].repeat(lattices);
    agents.restore(ctx, &MfqState { q: repeat(&tables.q), q_target: repeat(&tables.q_target), steps: 0 })?;
    Ok((config, agents))
}

/// `lattices` Ising lattices of a run (MF-Q needs the lattice itself: its magnetisation).
fn lattices_of(ctx: &Arc<GpuContext>, config: &TrainConfig, lattices: usize) -> Result<Ising> {
    if config.env != crate::env::EnvKind::Ising {
        return Err(ShoalError::config("env", config.env.name(), "MF-Q trains on ising"));
    }
    crate::env::registry::check_params(config.env, &config.env_params(lattices, false))?;
    let size = crate::env::ising::lattice_side(config.agents);
    Ising::new(ctx.clone(), IsingConfig::new(lattices).with_size(size).with_max_cycles(config.max_cycles))
}

/// Plays one episode on `lattices` fresh lattices with a checkpoint's agents (acting, not
/// learning): the mean episode return and the order parameter at the episode's last step.
pub fn evaluate_checkpoint(ctx: &Arc<GpuContext>, dir: &std::path::Path, lattices: usize, seed: u64) -> Result<(f64, f64)> {
    let (config, mut agents) = load_agents(ctx, dir, lattices, seed)?;
    let mut env = lattices_of(ctx, &config, lattices)?;
    let mut obs = env.reset(seed)?.obs.remove(0);
    let mut order = Tensor::<1>::zeros([1], ctx.device());
    for step in 0..config.max_cycles {
        if step + 1 == config.max_cycles {
            // Before the last step: the lattice the episode ends on (the last step redraws it).
            order = env.magnetisation().abs().mean();
        }
        let action = agents.act(obs)?;
        obs = env.step(&[Actions::Discrete(action)])?.obs.remove(0);
    }
    let stats = env.episode_stats()?;
    Ok((stats.mean_return, ctx.read_f32(order)?[0] as f64))
}
