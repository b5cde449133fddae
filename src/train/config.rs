//! Training configuration: every hyperparameter, with JaxMARL `ippo_ff_mpe` defaults (except the
//! batch and learning rate, see [`TrainConfig::default`]), settable
//! from a TOML file and from CLI flags. Unknown keys and out-of-range values are errors that
//! name the key.

use serde::{Deserialize, Serialize};

use super::algo::Algo;
use crate::env::{EnvKind, EnvOptions, EnvParams};
use crate::error::{Result, ShoalError};

/// Everything a training run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// The environment, by its registry name (`simple_spread`, `swarm`, `battle`, ...).
    pub env: EnvKind,
    /// The algorithm: one of the env's (`ippo`, `mappo`, `mfac`, `mfq`; see the README's table).
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
    /// Actor and critic share their hidden layers, as the Mean Field MARL paper's AC and MF-AC
    /// (mfrl) do; the value head reads ā through a layer of its own. Off by default (JaxMARL's
    /// separate networks); ippo and mfac only. Halves the widest layers' work where
    /// observations are wide (Battle).
    pub shared_trunk: bool,
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
    /// MF-Q on ising: steps between copies of Q into the target table. IQL/VDN: gradient steps
    /// between hard copies of the Q-network into its target (when `tau` = 1).
    pub target_update_every: usize,
    /// Off-policy learners: joint transitions the replay buffer holds (one per env step of one env).
    pub buffer_size: usize,
    /// Off-policy learners: transitions per gradient step.
    pub batch_size: usize,
    /// Off-policy learners: env steps stored before the first gradient step.
    pub learning_starts: u64,
    /// Off-policy learners: gradient steps per update (after `rollout_steps` steps of every env).
    pub gradient_steps: usize,
    /// IQL/VDN: exploration rate at the start, decaying linearly to `eps_end` ...
    pub eps_start: f32,
    /// ... which it reaches after this fraction of `total_env_steps`, and keeps.
    pub eps_end: f32,
    /// Fraction of the run over which ε decays.
    pub eps_decay_fraction: f32,
    /// Off-policy learners: Polyak rate of the target networks per gradient step (1: hard copies every
    /// `target_update_every` gradient steps instead).
    pub tau: f32,
    /// MADDPG/DDPG with continuous actions: the rollout's Gaussian exploration noise, as a
    /// fraction of the action range.
    pub action_noise: f32,
    /// MADDPG/DDPG/COMA: the actor's learning rate as a fraction of `lr` (the critics'); the
    /// MADDPG paper uses 1, DDPG's 0.1.
    pub actor_lr_scale: f64,
    /// MADDPG: agent groups that learn as DDPG does instead, with critics of their own
    /// observation and action — the MADDPG paper's mixed matches (`ddpg_groups = "agent"` on
    /// simple_tag: MADDPG predators against DDPG prey). A list or a comma-separated string;
    /// empty by default (every group MADDPG).
    #[serde(deserialize_with = "group_names")]
    pub ddpg_groups: Vec<String>,
    /// The env's own options, by mpe2's keywords (`[env_options]` with `num_good = 2`, ...;
    /// see the README's table of environments). Where they decide the population, `agents`
    /// follows them unless it is given.
    pub env_options: EnvOptions,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            env: EnvKind::SimpleSpread,
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
            shared_trunk: false,
            map_size: 40,
            seed: 0,
            temperature: 1.5,
            q_learning_rate: 0.1,
            target_update_every: 10,
            checkpoint_every: 10,
            fused_rollout: false,
            // Off-policy: a 100 k-transition buffer (~46 MB on simple_spread), 25 gradient steps
            // of 128 transitions per 12,800 env steps, ε from 1 to 0.05 over the first 10%.
            buffer_size: 100_000,
            batch_size: 128,
            learning_starts: 10_000,
            gradient_steps: 25,
            eps_start: 1.0,
            eps_end: 0.05,
            eps_decay_fraction: 0.1,
            tau: 1.0,
            action_noise: 0.1,
            actor_lr_scale: 1.0,
            ddpg_groups: Vec::new(),
            env_options: EnvOptions::new(),
        }
    }
}

impl TrainConfig {
    /// MF-Q on the Ising lattice: the tabular learner (elsewhere MF-Q is IQL's network with ā).
    pub fn tabular_mfq(&self) -> bool {
        self.algo == Algo::Mfq && self.env == crate::env::EnvKind::Ising
    }

    /// Reads a TOML file; missing keys keep their defaults.
    pub fn from_toml_file(path: &std::path::Path) -> Result<TrainConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| ShoalError::io(path, e))?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Reads TOML text (`origin` names it in errors: a path, `<config>`); missing keys keep
    /// their defaults, and without `agents` the env's options decide the population.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<TrainConfig> {
        let bad = |e: toml::de::Error| ShoalError::BadInput {
            path: origin.to_string(),
            line: e.span().map(|s| text[..s.start].matches('\n').count() + 1).unwrap_or(0),
            message: e.message().to_string(),
        };
        let mut config: TrainConfig = toml::from_str(text).map_err(bad)?;
        if !toml::from_str::<toml::Table>(text).map_err(bad)?.contains_key("agents") {
            // The env's own size (simple: 1 agent, swarm: 1,000), not simple_spread's 3.
            config.agents = default_agents(config.env, config.map_size);
            config.sync_population()?;
        }
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
        let mut config: TrainConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| ShoalError::config("set", overrides.join(" "), e.message().to_string()))?;
        let set = |key: &str| overrides.iter().any(|o| o.split_once('=').is_some_and(|(k, _)| k.trim() == key));
        if (set("env") || set("env_options")) && !set("agents") {
            config.sync_population()?;
        }
        config.validate()?;
        Ok(config)
    }

    /// The env parameters of this run, for a batch of `n_envs` (with `terminal_obs` if asked).
    pub fn env_params(&self, n_envs: usize, terminal_obs: bool) -> EnvParams {
        EnvParams {
            n_envs,
            agents: self.agents,
            map_size: self.map_size,
            local_ratio: self.local_ratio,
            max_cycles: Some(self.max_cycles),
            continuous: self.continuous,
            terminal_obs,
            options: self.env_options.clone(),
        }
    }

    /// Sets `agents` to the population the env's options give, where they decide it.
    pub fn sync_population(&mut self) -> Result<()> {
        if let Some(agents) = self.env.population(&self.env_options)? {
            self.agents = agents;
        }
        Ok(())
    }

    /// The same run with `options` set over the config's (`agents` follows where they decide it).
    pub fn with_env_options(mut self, options: &EnvOptions) -> Result<TrainConfig> {
        self.env_options = self.env_options.merged(options);
        self.sync_population()?;
        Ok(self)
    }

    /// The learning rate of update `update` (0-based): `lr`, annealed linearly to 0 over the
    /// run when `anneal_lr` is set.
    pub fn lr_at(&self, update: usize) -> f64 {
        match self.anneal_lr {
            true => self.lr * (1.0 - update as f64 / self.updates() as f64).max(0.0),
            false => self.lr,
        }
    }

    /// Env steps gathered per update.
    pub fn steps_per_update(&self) -> u64 {
        (self.envs * self.rollout_steps) as u64
    }

    /// Updates in the run.
    pub fn updates(&self) -> usize {
        self.total_env_steps.div_ceil(self.steps_per_update()) as usize
    }

    /// The same run on `kind` at that env's own default size (the config's agent count was the
    /// other env's: `--env simple-formation` trains mpe2's default N = 4, not simple_spread's 3)
    /// and with its default options (the config's were the other env's).
    pub fn on_env(mut self, kind: crate::env::EnvKind) -> TrainConfig {
        if kind != self.env {
            self.env = kind;
            self.env_options = EnvOptions::new();
            self.agents = default_agents(kind, self.map_size);
        }
        self
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
        // Upper bounds, each with its reason: past them a run exhausts memory or never ends
        // rather than failing clearly.
        let at_most = |field: &'static str, v: u64, max: u64, why: &str| {
            if v > max { Err(ShoalError::config(field, v, format!("must be at most {max}: {why}"))) } else { Ok(()) }
        };
        at_most("envs", self.envs as u64, 1 << 24, "a bound for sanity, far past any adapter's buffer limits (the device check names the buffer)")?;
        at_most("agents", self.agents as u64, 1 << 24, "a bound for sanity, 16× the largest swarm tested (10⁶)")?;
        at_most("hidden", self.hidden as u64, 4096, "a 4096×4096 layer is already 64 MiB of weights and Adam state each")?;
        at_most("layers", self.layers as u64, 16, "deeper MLPs do not train better here and cost a launch per layer")?;
        at_most("rollout_steps", self.rollout_steps as u64, 100_000, "longer rollouts only delay updates; use more envs")?;
        at_most("max_cycles", self.max_cycles as u64, 1_000_000, "evaluation and rendering play whole episodes")?;
        at_most("update_epochs", self.update_epochs as u64, 1_000, "PPO reuses a rollout a few times (JaxMARL: 4)")?;
        at_most("total_env_steps", self.total_env_steps, 1_000_000_000_000, "10¹² env steps is months at today's speeds")?;
        let rows = self.envs.checked_mul(self.rollout_steps).filter(|&r| r <= 1 << 30).ok_or_else(|| {
            ShoalError::config("rollout_steps", self.rollout_steps, format!("envs × rollout_steps = {} × {} rows per update exceeds 2³⁰: lower one", self.envs, self.rollout_steps))
        })?;
        rows.checked_mul(self.agents).filter(|&s| s <= 1 << 32).ok_or_else(|| {
            ShoalError::config("envs", self.envs, format!("envs × rollout_steps × agents = {rows} × {} samples per update exceeds 2³²: lower one", self.agents))
        })?;
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
        self.env.check_algo(self.algo)?;
        if self.algo.is_off_policy() {
            positive("batch_size", self.batch_size)?;
            positive("gradient_steps", self.gradient_steps)?;
            positive("target_update_every", self.target_update_every)?;
            let max = crate::train::off_policy::MAX_CAPACITY;
            if self.buffer_size == 0 || self.buffer_size > max {
                return Err(ShoalError::config("buffer_size", self.buffer_size, format!("must be in 1..={max} transitions")));
            }
            unit("eps_start", self.eps_start)?;
            unit("eps_end", self.eps_end)?;
            unit("eps_decay_fraction", self.eps_decay_fraction)?;
            if !(self.tau > 0.0 && self.tau <= 1.0) {
                return Err(ShoalError::config("tau", self.tau, "must be in (0, 1]: 1 copies the network every target_update_every steps"));
            }
            if self.continuous && matches!(self.algo, Algo::Iql | Algo::Vdn | Algo::Mfq) {
                return Err(ShoalError::config("continuous", true, format!("{} learns Q-values of discrete actions: set continuous = false", self.algo.name())));
            }
            if !(self.actor_lr_scale > 0.0 && self.actor_lr_scale.is_finite()) {
                return Err(ShoalError::config("actor_lr_scale", self.actor_lr_scale, "must be a positive number (the actor's learning rate over lr)"));
            }
            if !(self.action_noise >= 0.0 && self.action_noise.is_finite()) {
                return Err(ShoalError::config("action_noise", self.action_noise, "must be a non-negative number (a fraction of the action range)"));
            }
        }
        if !self.ddpg_groups.is_empty() {
            if self.algo != Algo::Maddpg {
                return Err(ShoalError::config("ddpg_groups", self.ddpg_groups.join(","), format!("names groups of a maddpg run that learn as DDPG; with algo = {} leave it empty", self.algo.name())));
            }
        }
        if self.shared_trunk {
            if !matches!(self.algo, Algo::Ippo | Algo::Mfac) {
                return Err(ShoalError::config("shared_trunk", true, format!("a shared trunk serves ippo and mfac (decentralised critics), not {}: set shared_trunk = false", self.algo.name())));
            }
            if !self.shared_params || self.layers == 0 {
                return Err(ShoalError::config("shared_trunk", true, "a shared trunk needs shared_params = true and layers ≥ 1"));
            }
        }
        if self.algo == Algo::Coma && self.continuous {
            return Err(ShoalError::config("continuous", true, "coma's critic values discrete actions: set continuous = false"));
        }
        if self.tabular_mfq() {
            if !(self.temperature > 0.0 && self.temperature.is_finite()) {
                return Err(ShoalError::config("temperature", self.temperature, "must be a positive number"));
            }
            if !(self.q_learning_rate > 0.0 && self.q_learning_rate <= 1.0) {
                return Err(ShoalError::config("q_learning_rate", self.q_learning_rate, "MF-Q needs 0 < q_learning_rate ≤ 1"));
            }
            if self.gamma >= 1.0 {
                return Err(ShoalError::config("gamma", self.gamma, "MF-Q's Q-values need gamma < 1"));
            }
        }
        crate::env::registry::check_params(self.env, &self.env_params(1, false))?;
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

/// Agents per env of `kind` at its default size (on a map of side `map_size` where the map decides).
fn default_agents(kind: crate::env::EnvKind, map_size: usize) -> usize {
    let scale = kind.entry().scale;
    let side = if matches!(scale, crate::env::Scale::MapSide { .. }) { map_size } else { scale.default_size() };
    scale.params(1, side).agents
}

/// `ddpg_groups`: a TOML list of group names, or one comma-separated string (`--set
/// ddpg_groups=agent`).
fn group_names<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Names {
        List(Vec<String>),
        Joined(String),
    }
    Ok(match Names::deserialize(deserializer)? {
        Names::List(names) => names,
        Names::Joined(text) => text.split(',').map(str::trim).filter(|n| !n.is_empty()).map(String::from).collect(),
    })
}
