//! Head-to-head evaluation of two Battle policies (`shoal arena`): policy A commands one team,
//! policy B the other, in a batch of games played at once on the device.
//!
//! Team 0 is listed first and so wins move conflicts (as in MAgent): half the games seat A as
//! team 0 and half seat B, so that neither policy gets the advantage. A game is won by the team
//! with more survivors when it ends (a team wiped out, or the time limit) — with equal teams that
//! is the team that killed more, mfrl's rule.
//!
//! Any family's checkpoint can play (PPO's AC and MF-AC, IQL as the paper's IL, neural MF-Q):
//! each side's policy is the [`GroupActor`] that evaluation and rendering use, given the whole
//! battle's observations; the arena keeps the actions of the team that side commands.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Tensor;

use crate::env::EnvKind;
use crate::train::acting::{checkpoint_actors, GroupActor};
use crate::train::checkpoint::CheckpointState;
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

fn battle_run(dir: &Path) -> Result<TrainConfig> {
    if !dir.join("state.json").is_file() {
        return Err(ShoalError::config(
            "checkpoint",
            dir.display(),
            "no training checkpoint there: pass the --out directory of `shoal train --env battle` (or its checkpoint/)",
        ));
    }
    let config = CheckpointState::read(dir)?.config;
    if config.env != EnvKind::Battle {
        return Err(ShoalError::config("checkpoint", dir.display(), format!("is a {} run; the arena plays battle checkpoints", config.env.name())));
    }
    Ok(config)
}

/// The policy of checkpoint `dir` for the battles of `env`.
fn battle_actor(ctx: &Arc<GpuContext>, dir: &Path, env: &Battle, greedy: bool, seed: u64) -> Result<Box<dyn GroupActor>> {
    let (_, mut actors) = checkpoint_actors(ctx, dir, env, greedy, seed)?;
    actors.pop().ok_or_else(|| ShoalError::Internal("a battle checkpoint has one agent group".into()))
}

/// Team `team`'s actions `[envs, n]` of a policy's actions for both teams.
fn team_actions(actions: Actions, team: usize, n: usize) -> Result<Tensor<2, burn::tensor::Int>> {
    match actions {
        Actions::Discrete(all) => {
            let [envs, _] = all.dims();
            Ok(all.slice([0..envs, team * n..(team + 1) * n]))
        }
        Actions::Continuous(_) => Err(ShoalError::Internal("battle policies take discrete actions".into())),
    }
}

/// Plays at least `games` games between the checkpoints in `a` and `b` (greedy or sampled).
pub fn play(ctx: &Arc<GpuContext>, a: &Path, b: &Path, games: usize, seed: u64, greedy: bool) -> Result<ArenaResult> {
    if games < 2 {
        return Err(ShoalError::config("games", games, "play at least 2 games (one with each policy as team 0)"));
    }
    let (config_a, config_b) = (battle_run(a)?, battle_run(b)?);
    if config_a.map_size != config_b.map_size {
        return Err(ShoalError::config("checkpoints", format!("map {} vs {}", config_a.map_size, config_b.map_size), "both policies must be trained on the same map size"));
    }
    let envs = games.div_ceil(2);
    let battle = BattleConfig::new(envs).with_map_size(config_a.map_size).with_max_cycles(config_a.max_cycles);
    let n = battle.team_size();
    let mut total = ArenaResult::default();
    for (half, a_first) in [true, false].into_iter().enumerate() {
        let mut env = Battle::new(ctx.clone(), battle.clone())?;
        let mut actor_a = battle_actor(ctx, a, &env, greedy, seed ^ (0xA7E4A + half as u64))?;
        let mut actor_b = battle_actor(ctx, b, &env, greedy, seed ^ (0xB7E4A + half as u64))?;
        let mut obs = env.reset(seed.wrapping_add(half as u64))?.obs.remove(0);
        for _ in 0..battle.max_cycles {
            // Each policy sees the whole battle (an agent's observation is its own either way)
            // and commands its own team.
            let (team_of_a, team_of_b) = if a_first { (0, 1) } else { (1, 0) };
            let from_a = team_actions(actor_a.act(obs.clone())?, team_of_a, n)?;
            let from_b = team_actions(actor_b.act(obs.clone())?, team_of_b, n)?;
            let joint = if a_first { vec![from_a, from_b] } else { vec![from_b, from_a] };
            obs = env.step(&[Actions::Discrete(Tensor::cat(joint, 1))])?.obs.remove(0);
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
