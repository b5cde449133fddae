//! Policy and critic networks (burn modules): tanh MLPs as in JaxMARL's `ippo_ff_mpe`.
//!
//! Parameters are shared across agents by default, with the agent's one-hot id appended to its
//! input (the usual MAPPO setup); `shared_params = false` gives every agent its own actor and
//! critic. Batches are agent-minor (`env·agents + agent`), so per-agent networks read every
//! `agents`-th row. The critic is decentralised for IPPO, `V(o_i, i)`, and centralised for
//! MAPPO, `V(o_1 … o_N, i)`: it sees every agent's observation during training and is not needed
//! to act.
//!
//! With `shared_trunk` (the Mean Field MARL paper's AC and MF-AC, as mfrl builds them) actor and
//! critic share their hidden layers: the policy head and the value head read the trunk's
//! features, and the value head also reads the critic's extra columns (MF-AC's ā) through one
//! hidden layer of its own. The trunk runs once per sample for both heads, which halves the
//! widest layers' work where observations are wide (Battle's 847 columns feed 64 units).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, softmax, tanh};
use burn::tensor::{Device, Int, Tensor};

use super::dense::dense;
use crate::gpu::reduce::expand_rows;

/// A tanh multi-layer perceptron.
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Input width.
    pub d_input: usize,
    /// Output width.
    pub d_output: usize,
    /// Hidden width.
    #[config(default = 64)]
    pub hidden: usize,
    /// Hidden layers.
    #[config(default = 2)]
    pub layers: usize,
    /// Scale of the output layer's initial weights (0.01 for a near-uniform initial policy).
    #[config(default = 1.0)]
    pub output_scale: f32,
}

/// `layers` dense layers of width `hidden` on a `d_input`-wide input (tanh after each).
fn tanh_layers(d_input: usize, hidden: usize, layers: usize, device: &Device) -> Vec<Linear> {
    (0..layers).map(|l| LinearConfig::new(if l == 0 { d_input } else { hidden }, hidden).init(device)).collect()
}

fn through_tanh_layers(layers: &[Linear], x: Tensor<2>) -> Tensor<2> {
    layers.iter().fold(x, |x, layer| tanh(dense(layer, x)))
}

/// A tanh multi-layer perceptron.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    output: Linear,
}

impl MlpConfig {
    /// Builds the network on `device`.
    pub fn init(&self, device: &Device) -> Mlp {
        let hidden = tanh_layers(self.d_input, self.hidden, self.layers, device);
        let width = if self.layers == 0 { self.d_input } else { self.hidden };
        let mut output = LinearConfig::new(width, self.d_output).init(device);
        if self.output_scale != 1.0 {
            let scale = self.output_scale;
            // Detached: a scaled parameter must be a leaf, not the output of a recorded op.
            let autodiff = device.is_autodiff();
            let leaf = move |t: Tensor<1>| if autodiff { t.detach().require_grad() } else { t };
            let leaf2 = move |t: Tensor<2>| if autodiff { t.detach().require_grad() } else { t };
            output.weight = output.weight.map(|w| leaf2(w * scale));
            output.bias = output.bias.map(|b| b.map(|b| leaf(b * scale)));
        }
        Mlp { hidden, output }
    }
}

impl Mlp {
    /// `[batch, d_input] → [batch, d_output]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        dense(&self.output, through_tanh_layers(&self.hidden, x))
    }
}

/// The hidden layers actor and critic share (`shared_trunk`).
#[derive(Module, Debug)]
pub struct Trunk {
    layers: Vec<Linear>,
}

impl Trunk {
    /// `[batch, actor input] → [batch, hidden]`.
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        through_tanh_layers(&self.layers, x)
    }

    /// The actor input's width, which the trunk reads.
    fn input_width(&self) -> usize {
        self.layers[0].weight.dims()[0]
    }
}

/// Which critic the learner trains.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Critic {
    /// Independent PPO: `V(o_i, i)`.
    Ippo,
    /// Multi-agent PPO: centralised `V(o_1 … o_N, i)`.
    Mappo,
}

/// Actor and critic for one agent group.
#[derive(Module, Debug)]
pub struct ActorCritic {
    /// The shared actor, or agent 0's.
    actor: Mlp,
    /// The shared critic, or agent 0's.
    critic: Mlp,
    /// Agents 1.. own actors (empty when parameters are shared).
    agent_actors: Vec<Mlp>,
    /// Agents 1.. own critics (empty when parameters are shared).
    agent_critics: Vec<Mlp>,
    /// Log standard deviation of the Gaussian head (continuous actions only).
    log_std: Option<Param<Tensor<1>>>,
    /// Hidden layers shared by actor and critic (`shared_trunk`); the actor and critic above
    /// are then their heads.
    trunk: Option<Trunk>,
}

/// Sizes an [`ActorCritic`] needs.
#[derive(Config, Debug)]
pub struct ActorCriticConfig {
    /// Agents per env.
    pub agents: usize,
    /// Observation width per agent.
    pub obs_dim: usize,
    /// Discrete: number of actions. Continuous: action vector length.
    pub action_dim: usize,
    /// Gaussian head instead of a categorical one.
    pub continuous: bool,
    /// IPPO or MAPPO critic.
    pub critic: Critic,
    /// Hidden width.
    #[config(default = 64)]
    pub hidden: usize,
    /// Hidden layers.
    #[config(default = 2)]
    pub layers: usize,
    /// One actor and one critic for all agents (true) or one per agent (false).
    #[config(default = true)]
    pub shared_params: bool,
    /// Append an agent one-hot id to actor and critic inputs (off for swarms of identical agents).
    #[config(default = true)]
    pub agent_ids: bool,
    /// Extra critic-only input columns (MF-AC: the neighbours' mean action ā).
    #[config(default = 0)]
    pub critic_extra: usize,
    /// Actor and critic share their hidden layers (mfrl's AC and MF-AC). Needs shared
    /// parameters and a decentralised critic (IPPO-style, which reads the actor's input and
    /// `critic_extra` columns after it).
    #[config(default = false)]
    pub shared_trunk: bool,
}

impl ActorCriticConfig {
    /// Actor input width: observation (+ agent one-hot).
    pub fn actor_input(&self) -> usize {
        self.obs_dim + self.id_width()
    }

    fn id_width(&self) -> usize {
        if self.agent_ids { self.agents } else { 0 }
    }

    /// Critic input width: one (IPPO) or all (MAPPO) observations + agent one-hot.
    pub fn critic_input(&self) -> usize {
        match self.critic {
            Critic::Ippo => self.obs_dim + self.critic_extra + self.id_width(),
            Critic::Mappo => self.obs_dim * self.agents + self.critic_extra + self.id_width(),
        }
    }

    /// Builds the networks on `device`.
    pub fn init(&self, device: &Device) -> ActorCritic {
        let mlp = |d_input, d_output, layers, scale| {
            MlpConfig::new(d_input, d_output).with_hidden(self.hidden).with_layers(layers).with_output_scale(scale).init(device)
        };
        let log_std = self.continuous.then(|| Param::from_tensor(Tensor::<1>::zeros([self.action_dim], device)));
        if self.shared_trunk {
            debug_assert!(self.shared_params && self.critic == Critic::Ippo, "TrainConfig::validate refuses other trunks");
            let layers = tanh_layers(self.actor_input(), self.hidden, self.layers.max(1), device);
            return ActorCritic {
                trunk: Some(Trunk { layers }),
                actor: mlp(self.hidden, self.action_dim, 0, 0.01),
                // ā joins the trunk's features through a hidden layer of the value head's own.
                critic: mlp(self.hidden + self.critic_extra, 1, usize::from(self.critic_extra > 0), 1.0),
                agent_actors: Vec::new(),
                agent_critics: Vec::new(),
                log_std,
            };
        }
        let others = if self.shared_params { 0 } else { self.agents - 1 };
        ActorCritic {
            actor: mlp(self.actor_input(), self.action_dim, self.layers, 0.01),
            critic: mlp(self.critic_input(), 1, self.layers, 1.0),
            agent_actors: (0..others).map(|_| mlp(self.actor_input(), self.action_dim, self.layers, 0.01)).collect(),
            agent_critics: (0..others).map(|_| mlp(self.critic_input(), 1, self.layers, 1.0)).collect(),
            log_std,
            trunk: None,
        }
    }
}

/// What the policy produced for a batch of agents.
pub struct PolicyOutput {
    /// Sampled (or greedy) actions: discrete `[B]` as ints; continuous `[B, dim]`.
    pub action: Action,
    /// Log-probability of the actions `[B]`.
    pub log_prob: Tensor<1>,
    /// Entropy of the action distribution `[B]`.
    pub entropy: Tensor<1>,
}

/// Actions of a batch.
#[derive(Debug, Clone)]
pub enum Action {
    /// `[B]` indices.
    Discrete(Tensor<1, Int>),
    /// `[B, dim]` vectors.
    Continuous(Tensor<2>),
}

impl Action {
    /// The actions of several batches, one after the other (all of one kind).
    pub fn cat(actions: Vec<Action>) -> Action {
        match actions.first() {
            Some(Action::Continuous(_)) => Action::Continuous(Tensor::cat(
                actions.into_iter().filter_map(|a| match a { Action::Continuous(t) => Some(t), Action::Discrete(_) => None }).collect(),
                0,
            )),
            _ => Action::Discrete(Tensor::cat(
                actions.into_iter().filter_map(|a| match a { Action::Discrete(t) => Some(t), Action::Continuous(_) => None }).collect(),
                0,
            )),
        }
    }

    /// The actions at `indices` (a minibatch).
    pub fn select(&self, indices: Tensor<1, Int>) -> Action {
        match self {
            Action::Discrete(a) => Action::Discrete(a.clone().select(0, indices)),
            Action::Continuous(a) => Action::Continuous(a.clone().select(0, indices)),
        }
    }
}

impl ActorCritic {
    /// State values `[B]`.
    pub fn value(&self, critic_input: Tensor<2>) -> Tensor<1> {
        match &self.trunk {
            None => self.value_head(critic_input, None),
            Some(trunk) => {
                let [batch, _] = critic_input.dims();
                let features = trunk.forward(critic_input.clone().slice([0..batch, 0..trunk.input_width()]));
                self.value_head(features, self.critic_part(critic_input))
            }
        }
    }

    /// What the value needs of a critic input beside the actor's: all of it (separate
    /// networks), or with a trunk only the columns after the actor's (ā; `None` if none). The
    /// rollout keeps only this, and minibatches gather only this.
    pub fn critic_part(&self, critic_input: Tensor<2>) -> Option<Tensor<2>> {
        let Some(trunk) = &self.trunk else { return Some(critic_input) };
        let [batch, width] = critic_input.dims();
        (width > trunk.input_width()).then(|| critic_input.slice([0..batch, trunk.input_width()..width]))
    }

    /// The value head on `x` (the critic's input, or the trunk's features) beside `extra`.
    fn value_head(&self, x: Tensor<2>, extra: Option<Tensor<2>>) -> Tensor<1> {
        let [batch, _] = x.dims();
        let x = match extra {
            Some(extra) => Tensor::cat(vec![x, extra], 1),
            None => x,
        };
        per_agent(&self.critic, &self.agent_critics, x).reshape([batch])
    }

    /// What the actor's head reads: the input, or the trunk's features of it.
    fn features(&self, actor_input: Tensor<2>) -> Tensor<2> {
        match &self.trunk {
            Some(trunk) => trunk.forward(actor_input),
            None => actor_input,
        }
    }

    /// [`ActorCritic::act`] and [`ActorCritic::value`] together (a shared trunk runs once).
    pub fn act_with_value(&self, actor_input: Tensor<2>, critic_input: Tensor<2>, noise: Option<Tensor<2>>) -> (PolicyOutput, Tensor<1>) {
        if self.trunk.is_none() {
            return (self.act(actor_input, noise), self.value(critic_input));
        }
        let features = self.features(actor_input);
        let out = self.act_on(features.clone(), noise);
        (out, self.value_head(features, self.critic_part(critic_input)))
    }

    /// [`ActorCritic::evaluate`] and the value together, from the actor's input and the
    /// [`ActorCritic::critic_part`] of the critic's (a shared trunk runs once). Without a trunk,
    /// `None` means the critic reads the actor's input (IPPO's critic does).
    pub fn evaluate_with_value(&self, actor_input: Tensor<2>, critic_part: Option<Tensor<2>>, action: &Action) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
        match (&self.trunk, critic_part) {
            (None, critic_input) => {
                let critic_input = critic_input.unwrap_or_else(|| actor_input.clone());
                let (log_prob, entropy) = self.evaluate(actor_input, action);
                (log_prob, entropy, self.value_head(critic_input, None))
            }
            (Some(_), extra) => {
                let features = self.features(actor_input);
                let (log_prob, entropy) = self.evaluate_on(features.clone(), action);
                (log_prob, entropy, self.value_head(features, extra))
            }
        }
    }

    /// Samples actions given `noise` (uniform in [0, 1), `[B, action_dim]` for discrete Gumbel
    /// sampling, `[B, 2·dim]` for Box–Muller), or takes the mode when `noise` is `None`.
    pub fn act(&self, actor_input: Tensor<2>, noise: Option<Tensor<2>>) -> PolicyOutput {
        self.act_on(self.features(actor_input), noise)
    }

    fn act_on(&self, features: Tensor<2>, noise: Option<Tensor<2>>) -> PolicyOutput {
        let out = per_agent(&self.actor, &self.agent_actors, features);
        match &self.log_std {
            None => {
                let logp_all = log_softmax(out.clone(), 1);
                let choice = match noise {
                    // Gumbel-max: argmax(logits + G), G = −log(−log U), is a categorical sample.
                    Some(u) => {
                        let gumbel = u.clamp(1e-7, 1.0 - 1e-7).log().neg().log().neg();
                        (out.clone() + gumbel).argmax(1)
                    }
                    None => out.clone().argmax(1),
                };
                let [batch, _] = out.dims();
                let log_prob = logp_all.clone().gather(1, choice.clone()).reshape([batch]);
                let entropy = (softmax(out, 1) * logp_all).sum_dim(1).reshape([batch]).neg();
                PolicyOutput { action: Action::Discrete(choice.reshape([batch])), log_prob, entropy }
            }
            Some(log_std) => {
                let [batch, dim] = out.dims();
                let log_std = expand_rows(log_std.val(), batch);
                let std = log_std.clone().exp();
                let sample = match noise {
                    Some(u) => {
                        // Box–Muller: two uniforms per component.
                        let u1 = u.clone().slice([0..batch, 0..dim]).clamp(1e-7, 1.0);
                        let u2 = u.slice([0..batch, dim..2 * dim]);
                        let normal = (u1.log() * -2.0).sqrt() * (u2 * (2.0 * std::f32::consts::PI)).cos();
                        out.clone() + std.clone() * normal
                    }
                    None => out.clone(),
                };
                self.continuous_output(out, log_std, sample)
            }
        }
    }

    /// Log-probability and entropy of given actions under the current policy (for the update).
    pub fn evaluate(&self, actor_input: Tensor<2>, action: &Action) -> (Tensor<1>, Tensor<1>) {
        self.evaluate_on(self.features(actor_input), action)
    }

    fn evaluate_on(&self, features: Tensor<2>, action: &Action) -> (Tensor<1>, Tensor<1>) {
        let out = per_agent(&self.actor, &self.agent_actors, features);
        let [batch, _] = out.dims();
        match (action, &self.log_std) {
            (Action::Discrete(a), None) => {
                let logp_all = log_softmax(out.clone(), 1);
                let log_prob = logp_all.clone().gather(1, a.clone().reshape([batch, 1])).reshape([batch]);
                let entropy = (softmax(out, 1) * logp_all).sum_dim(1).reshape([batch]).neg();
                (log_prob, entropy)
            }
            (Action::Continuous(a), Some(log_std)) => {
                let log_std = expand_rows(log_std.val(), batch);
                let o = self.continuous_output(out, log_std, a.clone());
                (o.log_prob, o.entropy)
            }
            _ => unreachable!("the action kind follows the model's head"),
        }
    }

    fn continuous_output(&self, mean: Tensor<2>, log_std: Tensor<2>, sample: Tensor<2>) -> PolicyOutput {
        let [batch, dim] = mean.dims();
        let z = (sample.clone() - mean) / log_std.clone().exp();
        let half_log_2pi = 0.5 * (2.0 * std::f32::consts::PI).ln();
        let log_prob = (z.powf_scalar(2.0) * -0.5 - log_std.clone() - half_log_2pi).sum_dim(1).reshape([batch]);
        let entropy = (log_std + 0.5 + half_log_2pi).sum_dim(1).reshape([batch]);
        let _ = dim;
        PolicyOutput { action: Action::Continuous(sample), log_prob, entropy }
    }
}

impl Mlp {
    /// Every weight and bias, layer by layer (weights `[d_in, d_out]` row-major, then the bias),
    /// flattened: the layout `shaders/learn/policy.wgsl` reads.
    fn flat_parameters(&self) -> Vec<Tensor<1>> {
        self.hidden
            .iter()
            .chain(std::iter::once(&self.output))
            .flat_map(|layer| {
                let weight = layer.weight.val();
                let [d_in, d_out] = weight.dims();
                let bias = layer.bias.as_ref().map(|b| b.val()).unwrap_or_else(|| Tensor::zeros([d_out], &weight.device()));
                [weight.reshape([d_in * d_out]), bias]
            })
            .collect()
    }
}

impl ActorCritic {
    /// Actor, critic and (Gaussian heads) log std packed into one vector for the fused rollout
    /// kernel, or `None` with per-agent networks (the kernel serves shared parameters only).
    pub fn packed_parameters(&self) -> Option<Tensor<1>> {
        if !self.agent_actors.is_empty() || self.trunk.is_some() {
            return None;
        }
        let mut parts = self.actor.flat_parameters();
        parts.extend(self.critic.flat_parameters());
        parts.extend(self.log_std.as_ref().map(|p| p.val()));
        Some(Tensor::cat(parts, 0))
    }

    /// The same model with another Gaussian log std (tests of the continuous head).
    #[cfg(test)]
    pub(crate) fn with_log_std(mut self, log_std: Tensor<1>) -> ActorCritic {
        self.log_std = Some(Param::from_tensor(log_std));
        self
    }
}

/// Applies the shared network to the whole batch, or (with per-agent networks) agent `a`'s
/// network to rows `a, a + A, a + 2A, …`.
fn per_agent(first: &Mlp, others: &[Mlp], input: Tensor<2>) -> Tensor<2> {
    if others.is_empty() {
        return first.forward(input);
    }
    let agents = others.len() + 1;
    let [batch, width] = input.dims();
    let grouped = input.reshape([batch / agents, agents, width]);
    let outputs: Vec<Tensor<2>> = std::iter::once(first)
        .chain(others)
        .enumerate()
        .map(|(a, net)| net.forward(grouped.clone().slice([0..batch / agents, a..a + 1, 0..width]).reshape([batch / agents, width])))
        .collect();
    let out_width = outputs[0].dims()[1];
    Tensor::stack::<3>(outputs, 1).reshape([batch, out_width])
}

/// `[envs, agents, obs] → [envs·agents, obs + agents]`: each agent's observation and one-hot id
/// (`agent_ids` is the `[agents, agents]` identity).
pub fn actor_input(obs: Tensor<3>, agent_ids: &Tensor<2>) -> Tensor<2> {
    let [envs, agents, dim] = obs.dims();
    let ids = agent_ids.clone().unsqueeze_dim::<3>(0).expand([envs, agents, agents]);
    Tensor::cat(vec![obs, ids], 2).reshape([envs * agents, dim + agents])
}

/// The critic's input: the actor's (IPPO), or every agent's observation of the env plus the
/// agent's one-hot id (MAPPO).
pub fn critic_input(obs: Tensor<3>, agent_ids: &Tensor<2>, critic: Critic) -> Tensor<2> {
    match critic {
        Critic::Ippo => actor_input(obs, agent_ids),
        Critic::Mappo => {
            let [envs, agents, dim] = obs.dims();
            let joint = obs.reshape([envs, 1, agents * dim]).expand([envs, agents, agents * dim]);
            let ids = agent_ids.clone().unsqueeze_dim::<3>(0).expand([envs, agents, agents]);
            Tensor::cat(vec![joint, ids], 2).reshape([envs * agents, agents * dim + agents])
        }
    }
}
