//! `battle` against tests/data/BATTLE_SPEC.md: formations, every reward rule and order-dependent case on
//! scripted positions, the random-play statistics MAgent2 reports, batch-size independence and
//! exact snapshots.


mod common;

use std::sync::Arc;

use burn::tensor::Tensor;
use shoal::env::battle::{formations, Fighter, BATTLE_OBS_DIM};
use shoal::env::{Actions, Battle, BattleConfig, BatchedEnv, RandomActions, StepOutput};
use shoal::GpuContext;

const NOOP: i32 = 6;
/// Attack actions by direction.
const ATTACK_RIGHT: i32 = 17;
const ATTACK_LEFT: i32 = 16;
/// Move actions.
const MOVE_RIGHT: i32 = 7;
const MOVE_RIGHT_2: i32 = 8;
const MOVE_UP: i32 = 2;

#[test]
fn formations_match_magent_generate_map() {
    let (left, right) = formations(40);
    assert_eq!((left.len(), right.len()), (64, 64));
    assert!(left.iter().all(|&(x, y)| (1..=15).contains(&x) && (12..=26).contains(&y)));
    assert!(right.iter().all(|&(x, y)| (23..=37).contains(&x) && (12..=26).contains(&y)));
    let (left, right) = formations(45);
    assert_eq!(left.len(), 81);
    for k in 0..81 {
        assert_eq!(left[k], (1 + 2 * (k as i32 / 9), 13 + 2 * (k as i32 % 9)));
        assert_eq!(right[k], (25 + 2 * (k as i32 / 9), 13 + 2 * (k as i32 % 9)));
    }
    for (size, team) in [(12, 2), (16, 6), (20, 12), (25, 20), (30, 30), (32, 36), (50, 100), (64, 144)] {
        assert_eq!(BattleConfig::new(1).with_map_size(size).team_size(), team, "map {size}");
    }
}

fn ctx() -> Arc<GpuContext> {
    GpuContext::shared().unwrap()
}

fn step(ctx: &GpuContext, env: &mut Battle, actions: &[i32]) -> (StepOutput, Vec<f32>) {
    let n = env.spec().groups[0].agents;
    let envs = env.spec().n_envs;
    let all: Vec<i32> = (0..envs).flat_map(|_| actions.iter().copied()).collect();
    assert_eq!(all.len(), envs * n);
    let out = env.step(&[Actions::Discrete(ctx.upload_i32(&all, [envs, n]).unwrap())]).unwrap();
    let reward = ctx.read_f32(out.reward.clone()).unwrap()[..n].to_vec();
    (out, reward)
}

fn fighter(x: i32, y: i32, hp: f32) -> Fighter {
    Fighter { x, y, hp, alive: true }
}

const DEAD: Fighter = Fighter { x: 0, y: 0, hp: 0.0, alive: false };

/// A 12×12 map: two agents a team (slots 0–1 team 0, 2–3 team 1).
fn small(ctx: &Arc<GpuContext>, fighters: [Fighter; 4]) -> Battle {
    let mut env = Battle::new(ctx.clone(), BattleConfig::new(1).with_map_size(12).with_max_cycles(50)).unwrap();
    env.set_fighters(&[fighters.to_vec()], 1).unwrap();
    env
}

#[test]
fn rewards_follow_every_rule_in_float32() {
    let ctx = ctx();
    let step_reward = -0.005f32;
    // Kill: team 1's agent at 1 HP dies to one hit; the killer gets 5 − 0.1, the victim −0.1.
    let mut env = small(&ctx, [fighter(5, 5, 10.0), fighter(2, 2, 10.0), fighter(6, 5, 1.0), fighter(9, 9, 10.0)]);
    let (out, r) = step(&ctx, &mut env, &[ATTACK_RIGHT, NOOP, NOOP, NOOP]);
    assert_eq!(r, vec![step_reward + (5.0f32 + -0.1f32), step_reward, -0.1, step_reward]);
    let f = &env.read_fighters().unwrap()[0];
    assert!(!f[2].alive && f[0].hp == 10.0);
    assert_eq!(ctx.read_f32(out.done).unwrap(), vec![0.0], "team 1 still has an agent");
    // The dead agent observes zeros and earns nothing afterwards.
    let obs = ctx.read_f32(out.obs[0].clone()).unwrap();
    assert!(obs[2 * BATTLE_OBS_DIM..3 * BATTLE_OBS_DIM].iter().all(|&v| v == 0.0));
    let (_, r) = step(&ctx, &mut env, &[NOOP, NOOP, ATTACK_LEFT, NOOP]);
    assert_eq!(r[2], 0.0);

    // Non-lethal hit on an opponent: −0.005 + (0 − 0.1) + 0.2; the target loses 2 and recovers 0.1.
    // Miss (empty cell) and attack on a teammate: −0.005 + (−0.1), no damage.
    let mut env = small(&ctx, [fighter(5, 5, 10.0), fighter(4, 5, 10.0), fighter(6, 5, 10.0), fighter(9, 9, 10.0)]);
    let (_, r) = step(&ctx, &mut env, &[ATTACK_RIGHT, ATTACK_RIGHT, ATTACK_LEFT, ATTACK_RIGHT]);
    // Agent 0 hits 2; agent 1 hits its teammate 0 (a miss); agent 2 hits 0; agent 3 hits the empty cell.
    let hit = step_reward + (0.0f32 + -0.1f32) + 0.2f32;
    let miss = step_reward + (0.0f32 + -0.1f32);
    assert_eq!(r, vec![hit, miss, hit, miss]);
    let f = &env.read_fighters().unwrap()[0];
    assert_eq!(f[0].hp, 10.0f32 - 2.0 + 0.1, "hit by 2 only (no friendly fire), then recovered");
    assert_eq!(f[1].hp, 10.0);
    assert_eq!(f[2].hp, 10.0f32 - 2.0 + 0.1);
}

#[test]
fn the_kill_threshold_is_strictly_below_zero() {
    let ctx = ctx();
    // Two hits in one step on 4 HP leave exactly 0.0: still alive (then recovers to 0.1).
    let mut env = small(&ctx, [fighter(5, 5, 10.0), fighter(7, 5, 10.0), fighter(6, 5, 4.0), fighter(9, 9, 10.0)]);
    let (_, r) = step(&ctx, &mut env, &[ATTACK_RIGHT, ATTACK_LEFT, NOOP, NOOP]);
    let f = &env.read_fighters().unwrap()[0];
    assert!(f[2].alive && f[2].hp == 0.1, "{:?}", f[2]);
    assert_eq!(r[2], -0.005);
    // From full health a target hit once per step dies on the 6th hit.
    let mut env = small(&ctx, [fighter(5, 5, 10.0), fighter(2, 2, 10.0), fighter(6, 5, 10.0), fighter(9, 9, 10.0)]);
    for hit in 1..=6 {
        let (_, r) = step(&ctx, &mut env, &[ATTACK_RIGHT, NOOP, NOOP, NOOP]);
        let alive = env.read_fighters().unwrap()[0][2].alive;
        assert_eq!(alive, hit < 6, "after hit {hit}");
        if hit == 6 {
            assert_eq!(r[0], -0.005f32 + (5.0f32 + -0.1f32));
        }
    }
}

#[test]
fn moves_resolve_in_list_order_and_kills_free_cells_at_once() {
    let ctx = ctx();
    // Slots 0 and 2 both move into (5,5): slot 0 (team 0) is first and wins.
    let mut env = small(&ctx, [fighter(4, 5, 10.0), fighter(2, 2, 10.0), fighter(5, 4, 10.0), fighter(9, 9, 10.0)]);
    step(&ctx, &mut env, &[MOVE_RIGHT, NOOP, 10 /* (0, +1) */, NOOP]);
    let f = &env.read_fighters().unwrap()[0];
    assert_eq!((f[0].x, f[0].y), (5, 5));
    assert_eq!((f[2].x, f[2].y), (5, 4), "blocked");
    // A two-cell move jumps over an occupied cell; a move into the wall is refused.
    let mut env = small(&ctx, [fighter(4, 5, 10.0), fighter(5, 5, 10.0), fighter(9, 1, 10.0), fighter(9, 9, 10.0)]);
    step(&ctx, &mut env, &[MOVE_RIGHT_2, NOOP, MOVE_UP, NOOP]);
    let f = &env.read_fighters().unwrap()[0];
    assert_eq!((f[0].x, f[0].y), (6, 5));
    assert_eq!((f[2].x, f[2].y), (9, 1), "y = 0 is wall");
    // A kill frees the victim's cell within the step: team 0's slot 1 walks into it.
    let mut env = small(&ctx, [fighter(5, 5, 10.0), fighter(6, 4, 10.0), fighter(6, 5, 1.0), fighter(9, 9, 10.0)]);
    step(&ctx, &mut env, &[ATTACK_RIGHT, 10, NOOP, NOOP]);
    let f = &env.read_fighters().unwrap()[0];
    assert!(!f[2].alive);
    assert_eq!((f[1].x, f[1].y), (6, 5));
}

#[test]
fn wiping_out_a_team_ends_the_game_and_counts_the_win() {
    let ctx = ctx();
    let mut env = small(&ctx, [fighter(5, 5, 10.0), fighter(2, 2, 10.0), fighter(6, 5, 1.0), DEAD]);
    let (out, _) = step(&ctx, &mut env, &[ATTACK_RIGHT, NOOP, NOOP, NOOP]);
    assert_eq!(ctx.read_f32(out.done.clone()).unwrap(), vec![1.0]);
    assert_eq!(ctx.read_f32(out.truncated).unwrap(), vec![0.0]);
    let outcome = env.outcomes().unwrap();
    assert_eq!((outcome.games, outcome.team0_wins, outcome.team1_wins, outcome.draws), (1.0, 1.0, 0.0, 0.0));
    assert_eq!((outcome.team0_survivors, outcome.team1_survivors), (2.0, 0.0));
    // The next game started: everyone alive in formation.
    let f = &env.read_fighters().unwrap()[0];
    assert!(f.iter().all(|a| a.alive && a.hp == 10.0));
}

#[test]
fn observations_show_walls_teams_hp_and_the_team_mean_action() {
    let ctx = ctx();
    let mut env = small(&ctx, [fighter(2, 3, 10.0), fighter(3, 3, 5.0), fighter(2, 5, 10.0), fighter(9, 9, 10.0)]);
    let (out, _) = step(&ctx, &mut env, &[ATTACK_RIGHT, NOOP, NOOP, NOOP]);
    let obs = ctx.read_f32(out.obs[0].clone()).unwrap();
    let view = |agent: usize, dx: i32, dy: i32, c: usize| obs[agent * BATTLE_OBS_DIM + (((dy + 6) * 13 + dx + 6) as usize) * 5 + c];
    // Agent 0 at (2,3): itself, its teammate (HP 5, missed by the friendly attack) and the enemy.
    assert_eq!((view(0, 0, 0, 1), view(0, 0, 0, 2)), (1.0, 1.0));
    assert_eq!((view(0, 1, 0, 1), view(0, 1, 0, 2)), (1.0, (5.0f32 + 0.1) / 10.0));
    assert_eq!((view(0, 0, 2, 3), view(0, 0, 2, 4)), (1.0, 1.0));
    // Walls at x = 0 (dx = −2) and y = 0 (dy = −3); off-map (x = −1) reads 0.
    assert_eq!((view(0, -2, 0, 0), view(0, 0, -3, 0), view(0, -3, 0, 0)), (1.0, 1.0, 0.0));
    // Outside the radius-6 circle: always 0 (the corner dx = dy = 6 is on the map but masked).
    assert_eq!(view(0, 6, 6, 0) + view(0, 6, 6, 1) + view(0, 6, 6, 3), 0.0);
    // The enemy sees agent 0 as an opponent.
    assert_eq!(view(2, 0, -2, 3), 1.0);
    // Position, then the team's mean action of this step: team 0 played attack-right and no-op.
    let tail = &obs[845..BATTLE_OBS_DIM];
    assert_eq!((tail[0], tail[1]), (2.0 / 12.0, 3.0 / 12.0));
    let mean = &tail[2..];
    assert_eq!((mean[17], mean[6]), (0.5, 0.5));
    assert_eq!(mean.iter().sum::<f32>(), 1.0);
}

/// Counts of each reward value over all agent-steps, kept on the device.
fn random_play(ctx: &Arc<GpuContext>, map: usize, envs: usize, steps: usize, seed: u64) -> (Vec<f64>, f64, Vec<Vec<Fighter>>) {
    let mut env = Battle::new(ctx.clone(), BattleConfig::new(envs).with_map_size(map).with_max_cycles(steps + 1)).unwrap();
    let group = env.spec().groups[0].clone();
    let mut random = RandomActions::new(ctx.clone(), &group, envs, seed).unwrap();
    env.reset(seed).unwrap();
    let values = [-0.005f32, -0.105, 0.095, 4.895, -0.1, 0.1];
    let mut counts: Vec<Tensor<1>> = values.iter().map(|_| Tensor::zeros([1], ctx.device())).collect();
    let mut alive_steps = Tensor::<1>::zeros([1], ctx.device());
    for _ in 0..steps {
        let out = env.step(&[random.sample()]).unwrap();
        for (count, &v) in counts.iter_mut().zip(&values) {
            let hits = (out.reward.clone() - v).abs().lower_elem(1e-6).float().sum();
            *count = count.clone() + hits;
        }
        alive_steps = alive_steps + out.reward.clone().abs().greater_elem(0.0).float().sum();
    }
    let counts = counts.into_iter().map(|c| ctx.read_f32(c).unwrap()[0] as f64).collect();
    (counts, ctx.read_f32(alive_steps).unwrap()[0] as f64, env.read_fighters().unwrap())
}

#[test]
fn random_play_matches_magent_statistics() {
    // BATTLE_SPEC §11: 45×45, 81 v 81, 1000 steps of uniform actions, 20 seeds: reward values
    // −0.005 61.9 %, −0.105 37.0 %, 0.095 1.10 %; 4.95 ± 1.75 deaths per episode.
    let ctx = ctx();
    let (counts, agent_steps, fighters) = random_play(&ctx, 45, 20, 1000, 4);
    let freq = |i: usize| counts[i] / agent_steps;
    eprintln!("random play 45×45: −0.005 {:.4}, −0.105 {:.4}, 0.095 {:.4} over {agent_steps} agent-steps", freq(0), freq(1), freq(2));
    assert!((freq(0) - 0.619).abs() < 0.005, "−0.005: {}", freq(0));
    assert!((freq(1) - 0.370).abs() < 0.005, "−0.105: {}", freq(1));
    assert!((freq(2) - 0.0110).abs() < 0.0015, "0.095: {}", freq(2));
    let deaths: usize = fighters.iter().map(|env| env.iter().filter(|a| !a.alive).count()).sum();
    let per_episode = deaths as f64 / 20.0;
    eprintln!("deaths per 1000-step episode: {per_episode:.2}");
    // Mean of 20 episodes with sd 1.75: standard error 0.39.
    assert!((per_episode - 4.95).abs() < 1.6, "deaths per episode {per_episode}");
    // Every death is one killing hit; the killer keeps its 4.895 unless it dies later in the step.
    assert!(counts[3] <= deaths as f64 && counts[3] >= 0.9 * deaths as f64, "{} kills rewarded, {deaths} deaths", counts[3]);
}

#[test]
fn envs_are_independent_of_batch_size_and_snapshots_are_exact() {
    let ctx = ctx();
    let (_, _, small) = random_play(&ctx, 20, 2, 60, 8);
    let (_, _, large) = random_play(&ctx, 20, 7, 60, 8);
    assert_eq!(small[0], large[0]);
    assert_eq!(small[1], large[1]);

    let mut env = Battle::new(ctx.clone(), BattleConfig::new(3).with_map_size(20).with_max_cycles(30)).unwrap();
    let group = env.spec().groups[0].clone();
    let mut random = RandomActions::new(ctx.clone(), &group, 3, 1).unwrap();
    env.reset(1).unwrap();
    for _ in 0..25 {
        env.step(&[random.sample()]).unwrap();
    }
    let snapshot = env.snapshot().unwrap();
    let actions: Vec<Actions> = (0..10).map(|_| random.sample()).collect();
    let run = |env: &mut Battle| {
        let mut obs = Vec::new();
        for a in &actions {
            let out = env.step(std::slice::from_ref(a)).unwrap();
            obs.extend(ctx.read_f32(out.obs[0].clone()).unwrap());
            obs.extend(ctx.read_f32(out.reward).unwrap());
        }
        obs
    };
    let first = run(&mut env);
    env.restore(&snapshot).unwrap();
    assert_eq!(first, run(&mut env), "crosses an episode end (30 steps) too");
}

#[test]
fn bad_battle_input_is_named() {
    let ctx = ctx();
    let err = Battle::new(ctx.clone(), BattleConfig::new(1).with_map_size(8)).err().unwrap().to_string();
    assert!(err.contains("map_size"), "{err}");
    let mut env = Battle::new(ctx.clone(), BattleConfig::new(1).with_map_size(12)).unwrap();
    let err = env.set_fighters(&[vec![fighter(0, 5, 10.0), DEAD, DEAD, DEAD]], 1).err().unwrap().to_string();
    assert!(err.contains("inside the walls"), "{err}");
    let err = env.step(&[Actions::Discrete(ctx.upload_i32(&[0, 0, 0, 0], [1, 4]).unwrap())]).err().unwrap().to_string();
    assert!(err.contains("reset"), "{err}");
    env.reset(0).unwrap();
    let err = env.step(&[Actions::Discrete(ctx.upload_i32(&[0, 0], [1, 2]).unwrap())]).err().unwrap().to_string();
    assert!(err.contains("actions"), "{err}");
}

#[test]
fn battle_trains_by_self_play_renders_and_plays_the_arena() {
    let dir = common::scratch_dir("battle-cli");
    let shoal = common::run_shoal;
    let run = dir.join("mfac");
    let run_s = run.to_str().unwrap();
    let (ok, text) = shoal(&["train", "--env", "battle", "--algo", "mfac", "--agents", "4", "--envs", "2", "--steps", "40",
        "--set", "map_size=12", "--set", "rollout_steps=10", "--set", "max_cycles=20", "--set", "hidden=16", "--out", run_s]);
    assert!(ok, "{text}");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("data-figure=\"episode_animation\""), "the report shows a game");
    let gif = dir.join("game.gif");
    let (ok, text) = shoal(&["render", "--env", "battle", "--checkpoint", run_s, "--width", "120", "--height", "140", "--out", gif.to_str().unwrap()]);
    assert!(ok, "{text}");
    let frames = decode_frames(&std::fs::read(&gif).unwrap());
    assert!((1..=20).contains(&frames), "one game of at most 20 steps: {frames} frames");
    let json = dir.join("arena.json");
    let (ok, text) = shoal(&["arena", "--a", run_s, "--b", run_s, "--games", "6", "--json", json.to_str().unwrap()]);
    assert!(ok, "{text}");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let games = r["games"].as_f64().unwrap();
    assert!(games >= 6.0, "{r}");
    assert_eq!(r["wins"].as_f64().unwrap() + r["draws"].as_f64().unwrap() + r["losses"].as_f64().unwrap(), games);
    assert!((0.0..=2.0).contains(&r["survivors_a"].as_f64().unwrap()));
    // AC with mfrl's shared trunk, against the separate networks: checkpoints of either shape play.
    let trunk = dir.join("ac-trunk");
    let (ok, text) = shoal(&["train", "--env", "battle", "--algo", "ippo", "--agents", "4", "--envs", "2", "--steps", "40",
        "--set", "map_size=12", "--set", "rollout_steps=10", "--set", "max_cycles=20", "--set", "hidden=16", "--set", "shared_trunk=true", "--out", trunk.to_str().unwrap()]);
    assert!(ok, "{text}");
    let (ok, text) = shoal(&["arena", "--a", trunk.to_str().unwrap(), "--b", run_s, "--games", "2"]);
    assert!(ok && text.contains("draws"), "{text}");
    let (ok, text) = shoal(&["arena", "--a", dir.to_str().unwrap(), "--b", run_s]);
    assert!(!ok && text.contains("shoal train --env battle"), "{text}");
    // A battle needs 2 × team size agents; the message gives the number.
    let (ok, text) = shoal(&["train", "--env", "battle", "--algo", "ippo", "--agents", "100", "--out", dir.join("bad").to_str().unwrap()]);
    assert!(!ok && text.contains("agents = 128"), "{text}");
    let (ok, text) = shoal(&["train", "--env", "battle", "--algo", "mappo", "--agents", "128", "--out", dir.join("bad").to_str().unwrap()]);
    assert!(!ok && text.contains("mappo"), "{text}");
}

fn decode_frames(bytes: &[u8]) -> usize {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(std::io::Cursor::new(bytes)).unwrap();
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    frames
}
