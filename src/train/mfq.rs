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

use crate::env::ising::{accumulate_order, OrderPoint};
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
}

/// Tabular MF-Q agents on a batch of Ising lattices, one temperature per lattice.
pub struct IsingMfq {
    config: MfqConfig,
    /// `[envs, 20]`, indexed by `own_spin·10 + neighbour_mean·2 + action`.
    q: Tensor<2>,
    q_target: Tensor<2>,
    /// `[envs, 1]`.
    temperature: Tensor<2>,
    /// Uniforms `[envs, sites, 1]` for the Boltzmann draws.
    noise: RandomActions,
    /// `[1, 1, 20]`: 0..20, to build one-hot masks by comparison.
    entries: Tensor<3>,
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
        Ok(IsingMfq {
            q: Tensor::zeros([envs, TABLE], device),
            q_target: Tensor::zeros([envs, TABLE], device),
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
        let (p_up, _, _) = self.policy(&self.q, &Self::base_index(obs));
        let Actions::Continuous(u) = self.noise.sample() else {
            return Err(ShoalError::Gpu("MF-Q noise must be continuous".into()));
        };
        Ok(u.reshape([envs, sites]).lower(p_up).int())
    }

    /// One MF-Q update from the transition (obs, action, reward, next_obs) of every site.
    pub fn learn(&mut self, obs: Tensor<3>, action: Tensor<2, Int>, reward: Tensor<2>, next_obs: Tensor<3>) {
        let [envs, sites, _] = obs.dims();
        let (p_next, q_down_next, q_up_next) = self.policy(&self.q_target, &Self::base_index(next_obs));
        let value_next = p_next.clone() * q_up_next + (p_next.neg() + 1.0) * q_down_next;
        let target = reward + value_next * self.config.gamma;
        let index = Self::base_index(obs) + action;
        let td = target - self.q.clone().gather(1, index.clone());
        // Mean TD error per table entry (one-hot sums: deterministic, unlike atomic scatter-adds).
        let one_hot = (index.float().reshape([envs, sites, 1]) - self.entries.clone()).abs().lower_elem(0.5).float();
        let td_sum = (one_hot.clone() * td.reshape([envs, sites, 1])).sum_dim(1).reshape([envs, TABLE]);
        let visits = one_hot.sum_dim(1).reshape([envs, TABLE]);
        self.q = self.q.clone() + td_sum / visits.clamp_min(1.0) * self.config.learning_rate;
        self.steps += 1;
        if self.steps % self.config.target_update_every.max(1) == 0 {
            self.q_target = self.q.clone();
        }
    }
}

/// MF-Q order parameter vs temperature: `replicas` lattices of side `size` per temperature, all
/// in one batch, starting from random spins; `learning` steps of acting and learning, then
/// `measurements` more (still learning), sampling |m| at each. One long episode (no resets).
pub fn order_parameter_curve(
    ctx: &Arc<GpuContext>,
    size: usize,
    temperatures: &[f32],
    replicas: usize,
    learning: usize,
    measurements: usize,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> Result<Vec<OrderPoint>> {
    if replicas == 0 || measurements == 0 || temperatures.is_empty() {
        return Err(ShoalError::config("replicas/measurements/temperatures", 0, "need at least one of each"));
    }
    let per_env: Vec<f32> = temperatures.iter().flat_map(|&t| std::iter::repeat_n(t, replicas)).collect();
    let config = IsingConfig::new(per_env.len()).with_size(size).with_max_cycles(learning + measurements + 1);
    let mut env = Ising::new(ctx.clone(), config)?;
    let mut agents = IsingMfq::new(ctx, &per_env, size * size, MfqConfig::new(), seed)?;
    let mut obs = env.reset(seed)?.obs.remove(0);
    let mut step = |env: &mut Ising, obs: &mut Tensor<3>| -> Result<()> {
        let action = agents.act(obs.clone())?;
        let out = env.step(&[Actions::Discrete(action.clone())])?;
        let next = out.obs[0].clone();
        agents.learn(obs.clone(), action, out.reward, next.clone());
        *obs = next;
        Ok(())
    };
    for t in 0..learning {
        step(&mut env, &mut obs)?;
        progress(t + 1);
    }
    let mut done = learning;
    accumulate_order(ctx, temperatures, replicas, size * size, measurements, || {
        step(&mut env, &mut obs)?;
        done += 1;
        progress(done);
        Ok(env.magnetisation())
    })
}
