//! Head-to-head evaluation of two Battle policies (`shoal arena`): policy A commands one team,
//! policy B the other, in a batch of games played at once on the device.
//!
//! Team 0 is listed first and so wins move conflicts (as in MAgent): half the games seat A as
//! team 0 and half seat B, so that neither policy gets the advantage. A game is won by the team
//! with more survivors when it ends (a team wiped out, or the time limit) — with equal teams that
//! is the team that killed more, mfrl's rule.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Tensor;

use crate::env::EnvKind;
use crate::train::actor_critic::eval::load_model;
use crate::train::actor_critic::inputs::Inputs;
use crate::train::actor_critic::model::{Action, ActorCritic};
use crate::train::actor_critic::noise::PolicyNoise;
use crate::train::config::TrainConfig;
use crate::env::{Actions, Battle, BattleConfig, BatchedEnv};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// What an arena found, from A's side.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ArenaResult {
    /// Games finished.
    pub games: f64,
    /// Games A won.
    pub wins: f64,
    /// Games that ended with equal survivors.
    pub draws: f64,
    /// Games B won.
    pub losses: f64,
    /// A's mean survivors at the end of a game.
    pub survivors_a: f64,
    /// B's mean survivors at the end of a game.
    pub survivors_b: f64,
}

fn load_battle(dir: &Path, ctx: &Arc<GpuContext>) -> Result<(TrainConfig, ActorCritic)> {
    if !dir.join("state.json").is_file() {
        return Err(ShoalError::config(
            "checkpoint",
            dir.display(),
            "no training checkpoint there: pass the --out directory of `shoal train --env battle` (or its checkpoint/)",
        ));
    }
    let (config, model) = load_model(dir, ctx)?;
    if config.env != EnvKind::Battle {
        return Err(ShoalError::config("checkpoint", dir.display(), format!("is a {} run; the arena plays battle checkpoints", config.env.name())));
    }
    Ok((config, model))
}

/// Plays at least `games` games between the checkpoints in `a` and `b` (greedy or sampled).
pub fn play(ctx: &Arc<GpuContext>, a: &Path, b: &Path, games: usize, seed: u64, greedy: bool) -> Result<ArenaResult> {
    if games < 2 {
        return Err(ShoalError::config("games", games, "play at least 2 games (one with each policy as team 0)"));
    }
    let (config_a, model_a) = load_battle(a, ctx)?;
    let (config_b, model_b) = load_battle(b, ctx)?;
    if config_a.map_size != config_b.map_size {
        return Err(ShoalError::config("checkpoints", format!("map {} vs {}", config_a.map_size, config_b.map_size), "both policies must be trained on the same map size"));
    }
    let envs = games.div_ceil(2);
    let battle = BattleConfig::new(envs).with_map_size(config_a.map_size).with_max_cycles(config_a.max_cycles);
    let n = battle.team_size();
    let mut total = ArenaResult::default();
    for (half, a_first) in [true, false].into_iter().enumerate() {
        let mut env = Battle::new(ctx.clone(), battle.clone())?;
        let (inputs_a, inputs_b) = (Inputs::new(&env, config_a.algo, ctx.device()), Inputs::new(&env, config_b.algo, ctx.device()));
        let action = env.spec().groups[0].action.clone();
        let mut noise = PolicyNoise::new(ctx.clone(), &action, 2 * n, envs, seed ^ (0xA7E4A + half as u64))?;
        let mut obs = env.reset(seed.wrapping_add(half as u64))?.obs.remove(0);
        for _ in 0..battle.max_cycles {
            let width = noise.width();
            let u = noise.sample()?.reshape([envs, 2 * n, width]);
            let team = |t: usize| obs.clone().slice([0..envs, t * n..(t + 1) * n]);
            let noise_of = |t: usize| u.clone().slice([0..envs, t * n..(t + 1) * n]).reshape([envs * n, width]);
            let act = |model: &ActorCritic, inputs: &Inputs, t: usize| -> Tensor<2, burn::tensor::Int> {
                match model.act(inputs.actor(team(t)), (!greedy).then(|| noise_of(t))).action {
                    Action::Discrete(x) => x.reshape([envs, n]),
                    Action::Continuous(_) => unreachable!("battle policies are categorical"),
                }
            };
            let (first, second) = if a_first { (act(&model_a, &inputs_a, 0), act(&model_b, &inputs_b, 1)) } else { (act(&model_b, &inputs_b, 0), act(&model_a, &inputs_a, 1)) };
            obs = env.step(&[Actions::Discrete(Tensor::cat(vec![first, second], 1))])?.obs.remove(0);
        }
        let o = env.outcomes()?;
        let (wins, losses, survivors_a, survivors_b) =
            if a_first { (o.team0_wins, o.team1_wins, o.team0_survivors, o.team1_survivors) } else { (o.team1_wins, o.team0_wins, o.team1_survivors, o.team0_survivors) };
        total.games += o.games;
        total.wins += wins;
        total.losses += losses;
        total.draws += o.draws;
        total.survivors_a += survivors_a * o.games;
        total.survivors_b += survivors_b * o.games;
    }
    total.survivors_a /= total.games.max(1.0);
    total.survivors_b /= total.games.max(1.0);
    Ok(total)
}
