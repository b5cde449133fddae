//! A batch seen from the host: plain arrays in and out, for callers that live off the device —
//! the Python package (`python/`), PettingZoo's API, tools that script an env step by step.
//!
//! Everything else in shoal keeps per-step data on the device; this is the one place that
//! carries it across on purpose, and every copy goes through the transfer counter
//! ([`crate::gpu::TransferCounter`]), so a caller can say what its loop costs: one upload per
//! agent group for the actions of a step, one read per tensor handed back (observations per
//! group, rewards, the two flags, the terminal observations). [`HostBatch::run_random`] and
//! [`HostBatch::run_policy`] are the other path: whole rollouts on the device, with nothing but
//! the episode statistics read back.
//!
//! A batch here is always built with terminal observations, because PettingZoo's `step`
//! returns the observation an episode ended in, not the next episode's first one (the device
//! has already auto-reset; [`HostStep::next_obs`] holds that one for batched callers).

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Tensor;

use crate::env::{Actions, ActionSpace, BatchedEnv, EnvKind, EnvParams, EnvSpec, EpisodeStats, NumpyGenerator, RandomActions, StepOutput};
use crate::error::{Result, ShoalError};
use crate::gpu::{GpuContext, TransferSnapshot};
use crate::train::acting::{checkpoint_actors, GroupActor};

/// One agent group's actions for every env, row-major: `[envs, agents]` indices or
/// `[envs, agents, dim]` values.
#[derive(Debug, Clone, PartialEq)]
pub enum HostActions {
    /// Action indices.
    Discrete(Vec<i32>),
    /// Action vectors.
    Continuous(Vec<f32>),
}

/// What a step or a reset hands to the host, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct HostStep {
    /// Per agent group, `[envs, agents, obs_dim]`: the observations each env's episode is in
    /// now — where an episode ended at this step, the observation it ended in.
    pub obs: Vec<Vec<f32>>,
    /// Per agent group: the observation the next step starts from (after the device's automatic
    /// reset where an episode ended; equal to `obs` elsewhere).
    pub next_obs: Vec<Vec<f32>>,
    /// `[envs, agents]`, all groups in spec order.
    pub reward: Vec<f32>,
    /// `[envs]`: the episode ended by reaching a terminal state.
    pub terminated: Vec<bool>,
    /// `[envs]`: the episode ended at its time limit.
    pub truncated: Vec<bool>,
}

/// A batch of one registered env, driven from the host.
pub struct HostBatch {
    ctx: Arc<GpuContext>,
    kind: EnvKind,
    env: Box<dyn BatchedEnv>,
    /// PettingZoo's generator, after a reset that used it: `reset(seed=None)` goes on drawing from
    /// it, as the reference does.
    reference_rng: Option<NumpyGenerator>,
    /// The observations the next step starts from, on the device (for device rollouts).
    device_obs: Option<Vec<Tensor<3>>>,
}

impl HostBatch {
    /// `params.n_envs` envs of `kind` on the shared device (terminal observations on).
    pub fn new(kind: EnvKind, mut params: EnvParams) -> Result<HostBatch> {
        params.terminal_obs = true;
        let ctx = GpuContext::shared()?;
        let env = kind.build(&ctx, &params)?;
        Ok(HostBatch { ctx, kind, env, reference_rng: None, device_obs: None })
    }

    /// The env a name stands for: PettingZoo's spelling (`simple_spread`) or the CLI's
    /// (`simple-spread`); an unknown name is refused with the list of known ones.
    pub fn kind_named(name: &str) -> Result<EnvKind> {
        let wanted = name.replace('-', "_");
        EnvKind::all().iter().copied().find(|k| k.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = EnvKind::all().iter().map(|k| k.name()).collect();
            ShoalError::config("env", name, format!("no such env; shoal has {}", names.join(", ")))
        })
    }

    /// Which env this is.
    pub fn kind(&self) -> EnvKind {
        self.kind
    }

    /// Shapes and spaces.
    pub fn spec(&self) -> &EnvSpec {
        self.env.spec()
    }

    /// Every copy between host and device so far (the whole process's).
    pub fn transfers(&self) -> TransferSnapshot {
        self.ctx.transfers().snapshot()
    }

    /// Starts every env with shoal's own seeding (env *i* from the stream `(seed, i)`).
    pub fn reset(&mut self, seed: u64) -> Result<HostStep> {
        self.reference_rng = None;
        let out = self.env.reset(seed)?;
        self.read(out)
    }

    /// Whether [`HostBatch::reset_like_reference`] reproduces the reference's episodes here.
    pub fn has_reference_seeding(&self) -> bool {
        self.env.reproduces_reference_draws()
    }

    /// Starts every env as the reference implementation's `reset(seed=seed)` would, drawing from
    /// NumPy's generator; `seed = None` goes on drawing from the last one (a fresh unseeded
    /// generator, from `fallback_seed`, if there is none yet).
    pub fn reset_like_reference(&mut self, seed: Option<u64>, fallback_seed: u64) -> Result<HostStep> {
        let mut rng = match (seed, self.reference_rng.take()) {
            (Some(seed), _) => NumpyGenerator::new(seed),
            (None, Some(rng)) => rng,
            (None, None) => NumpyGenerator::new(fallback_seed),
        };
        let out = self.env.reset_from_reference(&mut rng)?;
        self.reference_rng = Some(rng);
        self.read(out)
    }

    /// Steps every env with one action array per agent group (checked against the spaces: an
    /// action out of range is refused, naming the env, the agent and the valid range).
    pub fn step(&mut self, actions: &[HostActions]) -> Result<HostStep> {
        let spec = self.env.spec();
        if actions.len() != spec.groups.len() {
            return Err(ShoalError::Shape { what: "actions", expected: format!("one array per agent group ({})", spec.groups.len()), got: format!("{}", actions.len()) });
        }
        let uploaded = spec
            .groups
            .iter()
            .zip(actions)
            .map(|(group, a)| match a {
                HostActions::Discrete(values) => Actions::discrete_from_host(&self.ctx, group, spec.n_envs, values),
                HostActions::Continuous(values) => Actions::continuous_from_host(&self.ctx, group, spec.n_envs, values),
            })
            .collect::<Result<Vec<_>>>()?;
        let out = self.env.step(&uploaded)?;
        self.read(out)
    }

    fn read(&mut self, out: StepOutput) -> Result<HostStep> {
        self.device_obs = Some(out.obs.clone());
        let next_obs = out.obs.into_iter().map(|o| self.ctx.read_f32(o)).collect::<Result<Vec<_>>>()?;
        let obs = match out.terminal_obs {
            Some(terminal) => terminal.into_iter().map(|o| self.ctx.read_f32(o)).collect::<Result<Vec<_>>>()?,
            None => next_obs.clone(),
        };
        let reward = self.ctx.read_f32(out.reward)?;
        let flags = self.ctx.read_f32(Tensor::stack::<2>(vec![out.done, out.truncated], 0))?;
        let envs = self.env.spec().n_envs;
        let (done, truncated) = flags.split_at(envs);
        Ok(HostStep {
            obs,
            next_obs,
            reward,
            terminated: done.iter().zip(truncated).map(|(&d, &t)| d > 0.5 && t < 0.5).collect(),
            truncated: truncated.iter().map(|&t| t > 0.5).collect(),
        })
    }

    /// `steps` steps of uniformly random actions sampled on the device (from `seed`), nothing
    /// read back: the batched path at the engine's speed. Call a reset first.
    pub fn run_random(&mut self, steps: usize, seed: u64) -> Result<()> {
        let spec = self.env.spec().clone();
        let mut sources = spec
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| RandomActions::new(self.ctx.clone(), group, spec.n_envs, seed ^ 0x7A4D ^ g as u64))
            .collect::<Result<Vec<_>>>()?;
        for _ in 0..steps {
            let actions: Vec<Actions> = sources.iter_mut().map(|s| s.sample()).collect();
            self.device_obs = Some(self.env.step(&actions)?.obs);
        }
        self.ctx.sync()
    }

    /// `steps` steps of a trained policy (a `shoal train` run or checkpoint directory), acting
    /// greedily or sampling, all on the device; nothing read back but what the policy's
    /// checkpoint takes to load. Continues from the current observations: call a reset first.
    pub fn run_policy(&mut self, checkpoint: &Path, steps: usize, greedy: bool, seed: u64) -> Result<()> {
        let dir = crate::train::locate_checkpoint(checkpoint)?;
        let (_, mut actors) = checkpoint_actors(&self.ctx, &dir, self.env.as_ref(), greedy, seed)?;
        let mut obs = self.device_obs.take().ok_or_else(|| ShoalError::config("rollout", "before reset", "reset the env before a rollout"))?;
        for _ in 0..steps {
            let actions = actors.iter_mut().zip(&obs).map(|(actor, o)| actor.act(o.clone())).collect::<Result<Vec<_>>>()?;
            obs = self.env.step(&actions)?.obs;
        }
        self.device_obs = Some(obs);
        self.ctx.sync()
    }

    /// Episodes completed since the last reset, their mean return and length (a few scalars).
    pub fn episode_stats(&self) -> Result<EpisodeStats> {
        self.env.episode_stats()
    }

    /// Env 0 as `height × width × 3` RGB bytes (PettingZoo's `render_mode="rgb_array"`).
    pub fn render_rgb(&self, width: u32, height: u32) -> Result<Vec<u8>> {
        crate::render::rgb_frame(&self.env.scene()?, width, height)
    }
}

/// A trained policy acting on observations handed over from the host: `shoal.load_policy`.
pub struct HostPolicy {
    ctx: Arc<GpuContext>,
    spec: EnvSpec,
    actors: Vec<Box<dyn GroupActor>>,
}

impl HostPolicy {
    /// The policy of `checkpoint` (a run or checkpoint directory) for batches of `n_envs` envs of
    /// the env it was trained on.
    pub fn load(checkpoint: &Path, n_envs: usize, greedy: bool, seed: u64) -> Result<HostPolicy> {
        let ctx = GpuContext::shared()?;
        let dir = crate::train::locate_checkpoint(checkpoint)?;
        let config = crate::train::checkpoint::CheckpointState::read(&dir)?.config;
        let env = config.env.build(&ctx, &config.env_params(n_envs, false))?;
        let (_, actors) = checkpoint_actors(&ctx, &dir, env.as_ref(), greedy, seed)?;
        Ok(HostPolicy { spec: env.spec().clone(), ctx, actors })
    }

    /// The env's shapes and spaces, as the policy was trained on them.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Actions for observations (one `[envs, agents, obs_dim]` array per agent group).
    pub fn act(&mut self, obs: &[Vec<f32>]) -> Result<Vec<HostActions>> {
        if obs.len() != self.spec.groups.len() {
            return Err(ShoalError::Shape { what: "observations", expected: format!("one array per agent group ({})", self.spec.groups.len()), got: format!("{}", obs.len()) });
        }
        let envs = self.spec.n_envs;
        let mut out = Vec::with_capacity(obs.len());
        for ((actor, group), values) in self.actors.iter_mut().zip(&self.spec.groups).zip(obs) {
            let tensor = self.ctx.upload_f32(values, [envs, group.agents, group.obs_dim])?;
            out.push(match (actor.act(tensor)?, &group.action) {
                (Actions::Discrete(a), _) => HostActions::Discrete(self.ctx.read_i32(a)?),
                (Actions::Continuous(a), ActionSpace::Continuous { .. }) => HostActions::Continuous(self.ctx.read_f32(a)?),
                (Actions::Continuous(_), ActionSpace::Discrete { .. }) => {
                    return Err(ShoalError::config("checkpoint", "actions", format!("the policy gives continuous actions to group `{}`, whose actions are discrete", group.name)))
                }
            });
        }
        Ok(out)
    }
}
