//! Training configuration: every hyperparameter, with JaxMARL `ippo_ff_mpe` defaults (except the
//! batch and learning rate, see [`TrainConfig::default`]), settable
//! from a TOML file and from CLI flags. Unknown keys and out-of-range values are errors that
//! name the key.

use serde::{Deserialize, Serialize};

use super::model::Critic;
use crate::error::{Result, ShoalError};

/// Everything a training run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// The environment: `simple_spread` or `swarm`.
    pub env: TrainEnvName,
    /// `ippo`, `mappo` (simple_spread) or `mfac` (swarm).
    pub algo: Algo,
    /// Parallel envs.
    pub envs: usize,
    /// Agents per env (simple_spread: N agents and N landmarks; swarm: the crowd's size).
    pub agents: usize,
    /// simple_spread's local/global reward mix.
    pub local_ratio: f32,
    /// Episode length.
    pub max_cycles: usize,
    /// Continuous (Gaussian) instead of discrete (categorical) actions.
    pub continuous: bool,
    /// Total env steps (one env step = every agent acts once).
    pub total_env_steps: u64,
    /// Steps per env per rollout (T).
    pub rollout_steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Anneal the learning rate linearly to 0 over the run.
    pub anneal_lr: bool,
    /// Discount γ.
    pub gamma: f32,
    /// GAE λ.
    pub gae_lambda: f32,
    /// PPO clip ε.
    pub clip_eps: f32,
    /// Entropy bonus weight.
    pub ent_coef: f32,
    /// Value loss weight.
    pub vf_coef: f32,
    /// Clip the value update around the rollout's values.
    pub clip_value: bool,
    /// Global gradient-norm clip.
    pub max_grad_norm: f32,
    /// Epochs over each rollout.
    pub update_epochs: usize,
    /// Minibatches per epoch.
    pub num_minibatches: usize,
    /// Hidden width of actor and critic.
    pub hidden: usize,
    /// Hidden layers of actor and critic.
    pub layers: usize,
    /// One actor and critic shared by all agents (with an agent one-hot input), or one per agent.
    pub shared_params: bool,
    /// Battle's map side (40: 64 agents a team, the Mean Field MARL paper's setting).
    pub map_size: usize,
    /// Run seed (env spawns, action sampling, minibatch order).
    pub seed: u64,
    /// Write a checkpoint every this many updates (0: only at the end).
    pub checkpoint_every: usize,
    /// Evaluate the rollout's policy with the fused kernel (`shaders/learn/policy.wgsl`, one
    /// launch per step) instead of burn's tensor ops (~40 launches). Off by default: on lavapipe
    /// it measured 8% slower per update (BENCHMARKS.md); both paths give the same actions.
    pub fused_rollout: bool,
    /// MF-Q on ising: the Boltzmann policy's temperature T.
    pub temperature: f32,
    /// MF-Q on ising: step size of the tabular Q update.
    pub q_learning_rate: f32,
    /// MF-Q on ising: steps between copies of Q into the target table.
    pub target_update_every: usize,
}

/// The environments the trainer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainEnvName {
    /// MPE cooperative navigation.
    SimpleSpread,
    /// Crowds heading for goals through congestion (mean-field observations).
    Swarm,
    /// The Ising model, every site an agent (`agents` = L², L even).
    Ising,
    /// MAgent's Battle, both teams one agent group (`agents` = 2 × team size of `map_size`).
    Battle,
}

impl TrainEnvName {
    /// snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            TrainEnvName::SimpleSpread => "simple_spread",
            TrainEnvName::Swarm => "swarm",
            TrainEnvName::Ising => "ising",
            TrainEnvName::Battle => "battle",
        }
    }
}

/// Which critic PPO trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    /// Independent PPO: decentralised critic `V(o_i)`; on swarm, without the neighbours' mean
    /// action ā in actor or critic.
    Ippo,
    /// Multi-agent PPO: centralised critic `V(o_1 … o_N)` (simple_spread).
    Mappo,
    /// Mean-field actor-critic (swarm): actor `π(a | o_i)`, critic `V(o_i, ā_i)` that also sees
    /// the neighbours' mean action.
    Mfac,
    /// Mean-field Q-learning (ising): tabular Q(s, a, ā), Boltzmann policy at `temperature`.
    Mfq,
}

impl Algo {
    /// The critic this algorithm trains.
    pub fn critic(self) -> Critic {
        match self {
            Algo::Ippo | Algo::Mfac | Algo::Mfq => Critic::Ippo,
            Algo::Mappo => Critic::Mappo,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Ippo => "ippo",
            Algo::Mappo => "mappo",
            Algo::Mfac => "mfac",
            Algo::Mfq => "mfq",
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            env: TrainEnvName::SimpleSpread,
            algo: Algo::Mappo,
            // 512 envs × 25 steps = 12,800 env steps per update (157 updates in 2M steps): on a
            // CPU adapter the learner's cost is per launch, so fewer, larger updates train faster.
            envs: 512,
            agents: 3,
            local_ratio: 0.5,
            max_cycles: 25,
            continuous: false,
            total_env_steps: 2_000_000,
            rollout_steps: 25,
            // JaxMARL uses 2.5e-4 with 4× smaller updates (3,200 env steps); with 4× fewer
            // updates a higher rate reaches its returns in the same 2M steps (BENCHMARKS.md).
            lr: 7e-4,
            anneal_lr: true,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_eps: 0.2,
            ent_coef: 0.01,
            vf_coef: 0.5,
            clip_value: true,
            max_grad_norm: 0.5,
            update_epochs: 4,
            num_minibatches: 4,
            hidden: 64,
            layers: 2,
            shared_params: true,
            map_size: 40,
            seed: 0,
            temperature: 1.5,
            q_learning_rate: 0.1,
            target_update_every: 10,
            checkpoint_every: 10,
            fused_rollout: false,
        }
    }
}

impl TrainConfig {
    /// Reads a TOML file; missing keys keep their defaults.
    pub fn from_toml_file(path: &std::path::Path) -> Result<TrainConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| ShoalError::io(path, e))?;
        let config: TrainConfig = toml::from_str(&text).map_err(|e| ShoalError::BadInput {
            path: path.display().to_string(),
            line: e.span().map(|s| text[..s.start].matches('\n').count() + 1).unwrap_or(0),
            message: e.message().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Applies `key=value` overrides (TOML values: `gamma=0.95`, `anneal_lr=false`,
    /// `algo="ippo"` or `algo=ippo`), so that every key is settable from the command line.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<TrainConfig> {
        let mut table = toml::Table::try_from(self).map_err(|e| ShoalError::config("set", "", e.to_string()))?;
        for item in overrides {
            let Some((key, value)) = item.split_once('=') else {
                return Err(ShoalError::config("set", item, "expected KEY=VALUE, e.g. --set gamma=0.95"));
            };
            let key = key.trim();
            if !table.contains_key(key) {
                let known: Vec<&str> = table.keys().map(|k| k.as_str()).collect();
                return Err(ShoalError::config("set", item, format!("unknown key `{key}`; keys: {}", known.join(", "))));
            }
            let value = value.trim();
            // Bare words are strings (`algo=ippo`); everything else parses as a TOML value.
            let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(value.to_string()));
            table.insert(key.to_string(), parsed);
        }
        let config: TrainConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| ShoalError::config("set", overrides.join(" "), e.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Env steps gathered per update.
    pub fn steps_per_update(&self) -> u64 {
        (self.envs * self.rollout_steps) as u64
    }

    /// Updates in the run.
    pub fn updates(&self) -> usize {
        self.total_env_steps.div_ceil(self.steps_per_update()) as usize
    }

    /// Checks every value; the error names the key and the valid range.
    pub fn validate(&self) -> Result<()> {
        let positive = |field: &'static str, v: usize| {
            if v == 0 { Err(ShoalError::config(field, v, "must be at least 1")) } else { Ok(()) }
        };
        positive("envs", self.envs)?;
        positive("agents", self.agents)?;
        positive("max_cycles", self.max_cycles)?;
        positive("rollout_steps", self.rollout_steps)?;
        positive("update_epochs", self.update_epochs)?;
        positive("num_minibatches", self.num_minibatches)?;
        positive("hidden", self.hidden)?;
        if self.total_env_steps == 0 {
            return Err(ShoalError::config("total_env_steps", 0, "must be at least 1"));
        }
        let unit = |field: &'static str, v: f32| {
            if (0.0..=1.0).contains(&v) { Ok(()) } else { Err(ShoalError::config(field, v, "must be in [0, 1]")) }
        };
        unit("gamma", self.gamma)?;
        unit("gae_lambda", self.gae_lambda)?;
        unit("local_ratio", self.local_ratio)?;
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(ShoalError::config("lr", self.lr, "must be a positive number"));
        }
        for (field, v) in [("clip_eps", self.clip_eps), ("max_grad_norm", self.max_grad_norm)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(ShoalError::config(field, v, "must be a positive number"));
            }
        }
        for (field, v) in [("ent_coef", self.ent_coef), ("vf_coef", self.vf_coef)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(ShoalError::config(field, v, "must be a non-negative number"));
            }
        }
        match (self.env, self.algo) {
            (TrainEnvName::Ising, Algo::Mfq) => {
                let side = (self.agents as f64).sqrt().round() as usize;
                if side * side != self.agents || side % 2 == 1 || side < 2 {
                    return Err(ShoalError::config("agents", self.agents, "ising's agents are the lattice's L² sites with L even, e.g. agents = 4096 for 64×64"));
                }
                if !(self.temperature > 0.0 && self.temperature.is_finite()) {
                    return Err(ShoalError::config("temperature", self.temperature, "must be a positive number"));
                }
                if !(self.q_learning_rate > 0.0 && self.q_learning_rate <= 1.0) || self.gamma >= 1.0 {
                    return Err(ShoalError::config("q_learning_rate", self.q_learning_rate, "MF-Q needs 0 < q_learning_rate ≤ 1 and gamma < 1"));
                }
            }
            (TrainEnvName::Ising, other) => {
                return Err(ShoalError::config("algo", other.name(), "ising trains with algo = \"mfq\""))
            }
            (_, Algo::Mfq) => return Err(ShoalError::config("algo", "mfq", "MF-Q trains on env = \"ising\"")),
            (TrainEnvName::SimpleSpread, Algo::Mfac) => {
                return Err(ShoalError::config("algo", "mfac", "MF-AC needs a mean-field env: set env = \"swarm\" or \"battle\" (simple_spread: ippo or mappo)"))
            }
            (TrainEnvName::Swarm, Algo::Mappo) => {
                return Err(ShoalError::config("algo", "mappo", "a centralised critic over a whole swarm is not supported: use ippo or mfac on swarm"))
            }
            (TrainEnvName::Battle, Algo::Mappo) => {
                return Err(ShoalError::config("algo", "mappo", "battle trains by self-play with ippo (AC without the mean action) or mfac"))
            }
            (TrainEnvName::Battle, _) if self.continuous || !self.shared_params => {
                return Err(ShoalError::config("env", "battle", "battle trains discrete actions with one network for both teams (self-play)"))
            }
            (TrainEnvName::Battle, _) => {
                let teams = crate::env::BattleConfig::new(1).with_map_size(self.map_size);
                teams.validate()?;
                if self.agents != 2 * teams.team_size() {
                    return Err(ShoalError::config("agents", self.agents, format!("a {0}×{0} battle has {1} agents (2 × {2}); set agents = {1}", self.map_size, 2 * teams.team_size(), teams.team_size())));
                }
            }
            (TrainEnvName::Swarm, _) if self.continuous || !self.shared_params || self.agents < 2 => {
                return Err(ShoalError::config("env", "swarm", "swarm trains discrete actions, shared parameters and at least 2 agents"))
            }
            _ => {}
        }
        let rows = self.envs * self.rollout_steps;
        if rows < self.num_minibatches {
            return Err(ShoalError::config(
                "num_minibatches",
                self.num_minibatches,
                format!("more minibatches than the {rows} (step, env) rows of a rollout"),
            ));
        }
        Ok(())
    }
}
