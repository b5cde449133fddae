//! Two-player zero-sum games: the exact evaluator against known solutions, the GPU kernels
//! against the rules, payoff estimation against exact payoffs, the PPO best-response learner,
//! and PSRO (convergence, exact resume, CLI output).

mod common;

use std::process::Command;

use shoal::env::kuhn_poker::{self, KUHN_VALUE};
use shoal::env::{nash_conv, Actions, BatchedEnv, ExactGame, KuhnPoker, MatrixGame, PolicyTable, TwoPlayerBatch};
use shoal::train::psro::{estimate_payoffs, MetaSolver, Oracle, Psro, PsroConfig};
use shoal::train::pool::PolicyPool;
use shoal::train::selfplay::{GameLearner, GameLearnerConfig};
use shoal::GpuContext;

#[test]
fn biased_rps_nash_is_unexploitable_and_pure_strategies_have_their_analytic_nash_conv() {
    let game = MatrixGame::biased_rps();
    let x = MatrixGame::BIASED_RPS_NASH;
    let nash = game.policy(&x, &x);
    let score = nash_conv(&game, &[(1.0, &nash)]);
    assert!(score.nash_conv.abs() < 1e-6 && score.value.abs() < 1e-12, "{score:?}");
    // Both seats play rock: paper answers it in either seat for +0.5 each.
    let rock = game.policy(&[1.0, 0.0, 0.0], &[1.0, 0.0, 0.0]);
    let score = nash_conv(&game, &[(1.0, &rock)]);
    assert!((score.nash_conv - 1.0).abs() < 1e-12 && (score.best_response_0 - 0.5).abs() < 1e-12, "{score:?}");
    // Uniform: A·u = (0.5, 0.4, −0.9)/3, so rock earns 1/6 in each seat.
    let u = [1.0 / 3.0; 3];
    let score = nash_conv(&game, &[(1.0, &game.policy(&u, &u))]);
    assert!((score.nash_conv - 1.0 / 3.0).abs() < 1e-12, "{score:?}");
    // Plain RPS: pure rock loses 1 to paper in each seat.
    let rps = MatrixGame::rps();
    let score = nash_conv(&rps, &[(1.0, &rps.policy(&[1.0, 0.0, 0.0], &[1.0, 0.0, 0.0]))]);
    assert!((score.nash_conv - 2.0).abs() < 1e-12, "{score:?}");
    // A mixture of whole policies is scored as a mixture: ½ rock + ½ paper in both seats.
    let paper = rps.policy(&[0.0, 1.0, 0.0], &[0.0, 1.0, 0.0]);
    let rock = rps.policy(&[1.0, 0.0, 0.0], &[1.0, 0.0, 0.0]);
    let score = nash_conv(&rps, &[(0.5, &rock), (0.5, &paper)]);
    // Best answer to ½R + ½P is paper: ½·1 + ½·0 = ½ per seat.
    assert!((score.nash_conv - 1.0).abs() < 1e-12, "{score:?}");
}

#[test]
fn kuhn_equilibria_have_value_minus_one_eighteenth_and_zero_nash_conv() {
    let game = KuhnPoker;
    for alpha in [0.0, 1.0 / 6.0, 0.2, 1.0 / 3.0] {
        let eq = KuhnPoker::equilibrium(alpha);
        let score = nash_conv(&game, &[(1.0, &eq)]);
        assert!((score.value - KUHN_VALUE).abs() < 1e-12, "α={alpha}: value {}", score.value);
        assert!(score.nash_conv.abs() < 1e-9, "α={alpha}: {score:?}");
        assert!((score.best_response_0 - KUHN_VALUE).abs() < 1e-9);
    }
    // Uniform play: NashConv 11/12 (exploitability 0.4583, as OpenSpiel reports).
    let uniform = PolicyTable::uniform(&game);
    assert!((nash_conv(&game, &[(1.0, &uniform)]).nash_conv - 11.0 / 12.0).abs() < 1e-12);
    // Always betting: seat 1 calls only with K (or Q vs J) — a hand-checked best response value.
    let mut always_bet = uniform.clone();
    for seat in 0..2 {
        for (s, _) in game.decisions(seat) {
            always_bet.set_row(s, &[0.0, 1.0]);
        }
    }
    // Seat 0 always bets: seat 1's best reply folds J, calls Q and K: per deal (1/6 each):
    // (J,Q) −2, (J,K) −2, (Q,J) +1, (Q,K) −2, (K,J) +1, (K,Q) +2 → seat 0 gets −2/6.
    let (br1, _) = shoal::env::best_response(&game, 1, &[(1.0, &always_bet)]);
    assert!((br1 - 2.0 / 6.0).abs() < 1e-12, "{br1}");
}

/// Plays `script` (per step: (seat-0 action, seat-1 action)) in every env and returns each
/// step's (obs index per seat, legal counts per seat, seat-0 reward, done) for env `e`.
fn scripted(ctx: &std::sync::Arc<GpuContext>, envs: usize, seed: u64, script: &[(i32, i32)]) -> Vec<Vec<(Vec<usize>, Vec<f32>, f32, f32)>> {
    let mut env = TwoPlayerBatch::new(ctx.clone(), KuhnPoker.kernel(), envs).unwrap();
    let mut out = env.reset(seed).unwrap();
    let mut log = vec![Vec::new(); envs];
    let read = |out: &shoal::env::StepOutput, log: &mut Vec<Vec<(Vec<usize>, Vec<f32>, f32, f32)>>| {
        let obs = ctx.read_f32(out.obs[0].clone()).unwrap();
        let legal = ctx.read_f32(out.legal_actions.as_ref().unwrap()[0].clone()).unwrap();
        let reward = ctx.read_f32(out.reward.clone()).unwrap();
        let done = ctx.read_f32(out.done.clone()).unwrap();
        for e in 0..envs {
            let states = (0..2).map(|s| (0..13).find(|&i| obs[(e * 2 + s) * 13 + i] == 1.0).unwrap()).collect();
            let legal_counts = (0..2).map(|s| legal[(e * 2 + s) * 2] + legal[(e * 2 + s) * 2 + 1]).collect();
            log[e].push((states, legal_counts, reward[e * 2], done[e]));
            assert_eq!(reward[e * 2], -reward[e * 2 + 1], "zero-sum");
        }
    };
    read(&out, &mut log);
    for &(a0, a1) in script {
        let actions = ctx.upload_i32(&(0..envs).flat_map(|_| [a0, a1]).collect::<Vec<_>>(), [envs, 2]).unwrap();
        out = env.step(&[Actions::Discrete(actions)]).unwrap();
        read(&out, &mut log);
    }
    assert_eq!(env.episode_stats().unwrap().invalid_actions, 0.0, "the script only plays legal actions");
    log
}

#[test]
fn kuhn_kernel_follows_the_rules_in_every_line_of_play() {
    let ctx = GpuContext::shared().unwrap();
    let envs = 64;
    // Four games back to back: bet–call, bet–fold, pass–pass, pass–bet–fold, then pass–bet–call.
    let script = [(1, 0), (0, 1), (1, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 1), (0, 0), (0, 0), (0, 1), (1, 0)];
    let log = scripted(&ctx, envs, 3, &script);
    let mut deals = std::collections::HashSet::new();
    for steps in &log {
        let card = |t: usize, seat: usize| {
            let s = steps[t].0[seat];
            if seat == 0 { s / 2 } else { (s - 6) / 2 }
        };
        let showdown = |c0: usize, c1: usize, stake: f32| if c0 > c1 { stake } else { -stake };
        // Game 1 (steps 0..2): seat 0 at its first move, seat 1 waiting; bet; call.
        assert_eq!(steps[0].0[1], 12);
        assert_eq!(steps[0].1, vec![2.0, 1.0]);
        let (c0, c1) = (card(0, 0), card(1, 1));
        assert_ne!(c0, c1);
        assert_eq!(steps[1].0[1], kuhn_poker::seat1_after_bet(c1));
        assert_eq!(steps[1].1, vec![1.0, 2.0]);
        assert_eq!((steps[1].2, steps[1].3), (0.0, 0.0));
        assert_eq!((steps[2].2, steps[2].3), (showdown(c0, c1, 2.0), 1.0));
        deals.insert((c0, c1));
        // Game 2 (steps 2..4): bet, fold → +1.
        let (c0, c1) = (card(2, 0), card(3, 1));
        assert_eq!((steps[4].2, steps[4].3), (1.0, 1.0));
        deals.insert((c0, c1));
        // Game 3 (steps 4..6): pass, pass → showdown ±1.
        let c0 = card(4, 0);
        assert!(steps[5].0[1] >= 6 && (steps[5].0[1] - 6) % 2 == 0, "seat 1 decides after a pass");
        let c1 = (steps[5].0[1] - 6) / 2;
        assert_eq!((steps[6].2, steps[6].3), (showdown(c0, c1, 1.0), 1.0));
        // Game 4 (steps 6..9): pass, bet, fold → −1; seat 0 decides again after pass–bet.
        assert_eq!(steps[8].0[0], kuhn_poker::seat0_after_pass_bet(card(6, 0)));
        assert_eq!((steps[9].2, steps[9].3), (-1.0, 1.0));
        // Game 5 (steps 9..12): pass, bet, call → showdown ±2.
        let c0 = card(9, 0);
        let c1 = (steps[10].0[1] - 6) / 2;
        assert_eq!((steps[12].2, steps[12].3), (showdown(c0, c1, 2.0), 1.0));
    }
    assert_eq!(deals.len(), 6, "64 envs × 2 games see every deal");
}

#[test]
fn kuhn_deals_are_uniform_and_independent_of_batch_size() {
    let ctx = GpuContext::shared().unwrap();
    // Pass–pass games: a deal every two steps.
    let script: Vec<(i32, i32)> = (0..40).map(|_| (0, 0)).collect();
    let small = scripted(&ctx, 5, 11, &script);
    let large = scripted(&ctx, 4000, 11, &script);
    for e in 0..5 {
        assert_eq!(small[e], large[e], "env {e} differs between batch sizes");
    }
    let mut counts = [0usize; 9];
    for steps in &large {
        for t in (0..steps.len() - 1).step_by(2) {
            let c0 = steps[t].0[0] / 2;
            let c1 = (steps[t + 1].0[1] - 6) / 2;
            counts[c0 * 3 + c1] += 1;
        }
    }
    let total: usize = counts.iter().sum();
    for c0 in 0..3 {
        assert_eq!(counts[c0 * 4], 0, "a card dealt twice");
        for c1 in (0..3).filter(|&c| c != c0) {
            let p = counts[c0 * 3 + c1] as f64 / total as f64;
            // 84,000 deals: the standard error of a 1/6 frequency is 0.0013.
            assert!((p - 1.0 / 6.0).abs() < 0.006, "deal ({c0},{c1}): {p}");
        }
    }
}

#[test]
fn matrix_kernel_pays_the_matrix_and_counts_illegal_actions() {
    let ctx = GpuContext::shared().unwrap();
    let game = MatrixGame::parse("1,2;3,4;5,6").unwrap(); // 3 rows, 2 columns
    let mut env = TwoPlayerBatch::new(ctx.clone(), game.kernel(), 6).unwrap();
    let out = env.reset(0).unwrap();
    let legal = ctx.read_f32(out.legal_actions.unwrap()[0].clone()).unwrap();
    assert_eq!(&legal[..6], &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0], "seat 0 has 3 actions, seat 1 has 2");
    let actions = [0, 0, 0, 1, 1, 0, 2, 1, 2, 2, -1, 0];
    let out = env.step(&[Actions::Discrete(ctx.upload_i32(&actions, [6, 2]).unwrap())]).unwrap();
    let reward = ctx.read_f32(out.reward).unwrap();
    let seat0: Vec<f32> = reward.chunks(2).map(|r| r[0]).collect();
    // The illegal column 2 and row −1 play as action 0.
    assert_eq!(seat0, vec![1.0, 2.0, 3.0, 6.0, 5.0, 1.0]);
    assert_eq!(ctx.read_f32(out.done).unwrap(), vec![1.0; 6]);
    let stats = env.episode_stats().unwrap();
    assert_eq!(stats.invalid_actions, 2.0);
    assert_eq!(stats.episodes, 6.0);
}

#[test]
fn payoffs_estimated_by_batched_play_match_the_exact_payoffs() {
    let ctx = GpuContext::shared().unwrap();
    let game = KuhnPoker;
    let mut pool = PolicyPool::new(ctx.clone(), &game);
    pool.push_table(&PolicyTable::uniform(&game)).unwrap();
    pool.push_table(&KuhnPoker::equilibrium(0.2)).unwrap();
    let mut aggressive = KuhnPoker::equilibrium(1.0 / 3.0);
    aggressive.set_row(kuhn_poker::seat1_after_pass(1), &[0.2, 0.8]);
    pool.push_table(&aggressive).unwrap();
    let pairs = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 0), (1, 1)];
    let mut env = TwoPlayerBatch::new(ctx.clone(), game.kernel(), 60_000).unwrap();
    let (means, steps) = estimate_payoffs(&mut env, &pool, &pairs, 30, 5).unwrap();
    assert_eq!(steps, 60_000 * 30);
    for (&(i, j), m) in pairs.iter().zip(&means) {
        let exact = game.payoff(&pool.tables()[i], &pool.tables()[j]);
        // ≈ 120,000 games per pair; |payoff| ≤ 2: 5 standard errors ≈ 0.02.
        assert!((m - exact).abs() < 0.02, "pair ({i},{j}): estimated {m}, exact {exact}");
    }
}

#[test]
fn ppo_learns_a_best_response_in_kuhn_poker() {
    let ctx = GpuContext::shared().unwrap();
    let game = KuhnPoker;
    // An exploitable opponent: the equilibrium, except seat 1 always calls with J.
    let mut opponent = KuhnPoker::equilibrium(0.2);
    opponent.set_row(kuhn_poker::seat1_after_bet(0), &[0.0, 1.0]);
    opponent.set_row(kuhn_poker::seat0_after_pass_bet(0), &[0.0, 1.0]);
    let mut pool = PolicyPool::new(ctx.clone(), &game);
    pool.push_table(&opponent).unwrap();
    let config = GameLearnerConfig::new().with_envs(1024).with_seed(2);
    let mut learner = GameLearner::new(ctx.clone(), &game, config).unwrap();
    for _ in 0..40 {
        learner.update(&pool, &[1.0]).unwrap();
    }
    pool.push(learner.greedy_table()).unwrap();
    let learned = &pool.tables()[1];
    let (best0, _) = shoal::env::best_response(&game, 0, &[(1.0, &opponent)]);
    let (best1, _) = shoal::env::best_response(&game, 1, &[(1.0, &opponent)]);
    let got = game.payoff(learned, &opponent) - game.payoff(&opponent, learned);
    let best = best0 + best1;
    assert!(best > 0.1, "the opponent is exploitable: {best}");
    assert!(got > best - 0.03, "learned {got} of the best response's {best}");
    // The results per opponent were booked: every game of the last rollouts was against member 0.
    let results = learner.take_results(1).unwrap();
    assert!(results[0].1 > 1000.0 && results[0].0 / results[0].1 > 0.5, "{results:?}");
}

/// Runs `shoal ARGS DIR` (the last flag given is `--out`), requires success, returns `DIR/json`'s rows.
fn run_rows(args: &[&str], dir: &std::path::Path, json: &str) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_shoal")).args(args).arg(dir).env("XDG_RUNTIME_DIR", std::env::temp_dir()).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&std::fs::read(dir.join(json)).unwrap()).unwrap()
}

fn exact_psro(iterations: usize, seed: u64) -> PsroConfig {
    PsroConfig {
        game: "biased_rps".into(),
        iterations,
        meta: MetaSolver::Nash,
        oracle: Oracle::Exact,
        min_gain: 0.002,
        br_updates: 0,
        greedy_best_response: true,
        learner: GameLearnerConfig::new().with_envs(256),
        eval_envs: 8192,
        eval_steps: 4,
        seed,
    }
}

#[test]
fn psro_with_exact_best_responses_finds_the_biased_rps_equilibrium() {
    let ctx = GpuContext::shared().unwrap();
    let mut psro = Psro::new(ctx.clone(), exact_psro(4, 1)).unwrap();
    while !psro.finished() {
        psro.iterate(|_, _, _| {}).unwrap();
    }
    let rows = psro.rows();
    assert_eq!(rows.len(), 5);
    // Tables live on the device as f32 log-probabilities: equal to float rounding.
    assert!((rows[0].nash_conv - 1.0 / 3.0).abs() < 1e-6, "iteration 0 is the uniform policy");
    let last = rows.last().unwrap();
    assert!(last.nash_conv < 0.01, "{rows:#?}");
    // The uniform meta-solver (fictitious play) is slower: the baseline must lag.
    let mut fp = Psro::new(ctx, PsroConfig { meta: MetaSolver::Uniform, ..exact_psro(4, 1) }).unwrap();
    while !fp.finished() {
        fp.iterate(|_, _, _| {}).unwrap();
    }
    assert!(fp.rows().last().unwrap().nash_conv > 0.05);
}

#[test]
fn psro_resumes_exactly_from_a_checkpoint() {
    let ctx = GpuContext::shared().unwrap();
    let config = PsroConfig {
        game: "kuhn".into(),
        oracle: Oracle::Ppo,
        br_updates: 2,
        eval_steps: 6,
        learner: GameLearnerConfig::new().with_envs(256).with_rollout_steps(4),
        ..exact_psro(3, 9)
    };
    let mut straight = Psro::new(ctx.clone(), config.clone()).unwrap();
    while !straight.finished() {
        straight.iterate(|_, _, _| {}).unwrap();
    }
    let dir = common::scratch_dir("psro_resume");
    let mut first = Psro::new(ctx.clone(), config).unwrap();
    first.iterate(|_, _, _| {}).unwrap();
    first.save_checkpoint(&dir.join("ckpt")).unwrap();
    drop(first);
    let mut resumed = Psro::resume(ctx, &dir.join("ckpt"), None).unwrap();
    while !resumed.finished() {
        resumed.iterate(|_, _, _| {}).unwrap();
    }
    let key = |p: &Psro| p.rows().iter().map(|r| (r.policies, r.nash_conv, r.weights.clone(), r.env_steps)).collect::<Vec<_>>();
    assert_eq!(key(&straight), key(&resumed));
}

#[test]
fn shoal_psro_writes_rows_plot_and_report() {
    let dir = common::scratch_dir("psro_cli");
    let rows = run_rows(&["psro", "--game", "biased_rps", "--oracle", "exact", "--meta", "nash,uniform", "--iterations", "3", "--eval-envs", "4096", "--out"], &dir, "psro.json");
    assert_eq!(rows.len(), 8, "iterations 0..=3 for each of two meta-solvers");
    for row in &rows {
        for key in ["iteration", "nash_conv", "meta", "policies", "env_steps", "seconds"] {
            assert!(row.get(key).is_some(), "row lacks {key}: {row}");
        }
    }
    assert_eq!(rows[3]["meta"], "nash");
    assert_eq!(rows[7]["meta"], "uniform");
    assert!(rows[3]["nash_conv"].as_f64().unwrap() < 0.01);
    assert_eq!(common::check_report(&dir.join("report.html")), vec!["nash_conv"]);
    // Resume raises the iteration count and continues both runs.
    let rows = run_rows(&["psro", "--game", "biased_rps", "--meta", "nash,uniform", "--iterations", "4", "--resume", "--out"], &dir, "psro.json");
    assert_eq!(rows.len(), 10);
}

#[test]
fn bad_game_input_is_named() {
    let err = shoal::train::psro::GameName::parse("poker").unwrap_err().to_string();
    assert!(err.contains("poker") && err.contains("kuhn"), "{err}");
    let err = MatrixGame::parse("1,2;3").unwrap_err().to_string();
    assert!(err.contains("row 1"), "{err}");
    let err = MatrixGame::parse("1,x").unwrap_err().to_string();
    assert!(err.contains("`x`") || err.contains("x"), "{err}");
    let ctx = GpuContext::shared().unwrap();
    let pool = PolicyPool::new(ctx.clone(), &KuhnPoker);
    let mut learner = GameLearner::new(ctx.clone(), &KuhnPoker, GameLearnerConfig::new().with_envs(64)).unwrap();
    let err = learner.update(&pool, &[]).unwrap_err().to_string();
    assert!(err.contains("weights"), "{err}");
    let err = GameLearner::new(ctx, &KuhnPoker, GameLearnerConfig::new().with_envs(100).with_num_minibatches(7)).err().unwrap().to_string();
    assert!(err.contains("num_minibatches"), "{err}");
}

#[test]
fn league_samplers_weight_the_pool_as_documented() {
    use shoal::train::league::OpponentSampler;
    let results = [(9.0, 10.0), (5.0, 10.0), (1.0, 10.0), (0.0, 0.0)];
    assert_eq!(OpponentSampler::Latest.weights(&results), vec![0.0, 0.0, 0.0, 1.0]);
    assert_eq!(OpponentSampler::Uniform.weights(&results), vec![0.25; 4]);
    // PFSP: (1 − p)² with p = 0.9, 0.5, 0.1 and ½ for the unplayed member.
    let w = OpponentSampler::Pfsp.weights(&results);
    let raw = [0.01, 0.25, 0.81, 0.25];
    let total: f64 = raw.iter().sum();
    for (got, r) in w.iter().zip(raw) {
        assert!((got - r / total).abs() < 1e-12, "{w:?}");
    }
}

#[test]
fn shoal_league_runs_every_sampler_and_writes_rows_plot_and_report() {
    let dir = common::scratch_dir("league_cli");
    let rows = run_rows(&["league", "--game", "rps", "--opponents", "latest,uniform,pfsp", "--updates", "4", "--snapshot-every", "2", "--envs", "256", "--out"], &dir, "league.json");
    assert_eq!(rows.len(), 6, "two snapshots for each of three samplers");
    for (row, (sampler, policies)) in rows.iter().zip([("latest", 2), ("latest", 3), ("uniform", 2), ("uniform", 3), ("pfsp", 2), ("pfsp", 3)]) {
        assert_eq!(row["opponents"], sampler);
        assert_eq!(row["policies"], policies);
        let nc = row["nash_conv_latest"].as_f64().unwrap();
        // RPS NashConv lies in [0, 2].
        assert!((0.0..=2.0 + 1e-9).contains(&nc), "{row}");
    }
    assert_eq!(common::check_report(&dir.join("report.html")), vec!["nash_conv"]);
    // Resume continues every sampler's league to the new total.
    let rows = run_rows(&["league", "--game", "rps", "--opponents", "latest,uniform,pfsp", "--updates", "6", "--resume", "--out"], &dir, "league.json");
    assert_eq!(rows.len(), 9);
    let out = Command::new(env!("CARGO_BIN_EXE_shoal")).args(["league", "--game", "chess"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chess"));
}

#[test]
fn a_league_resumes_exactly_from_a_checkpoint() {
    use shoal::train::league::{League, LeagueConfig, OpponentSampler};
    let ctx = GpuContext::shared().unwrap();
    let config = LeagueConfig {
        game: "kuhn".into(),
        opponents: OpponentSampler::Pfsp,
        updates: 6,
        snapshot_every: 2,
        learner: GameLearnerConfig::new().with_envs(128).with_rollout_steps(4).with_seed(4),
    };
    let mut straight = League::new(ctx.clone(), config.clone()).unwrap();
    while !straight.finished() {
        straight.step().unwrap();
    }
    let mut first = League::new(ctx.clone(), config).unwrap();
    for _ in 0..3 {
        first.step().unwrap();
    }
    let dir = common::scratch_dir("league_resume").join("ckpt");
    first.save_checkpoint(&dir).unwrap();
    drop(first);
    let mut resumed = League::resume(ctx, &dir, None).unwrap();
    assert_eq!(resumed.updates(), 3);
    while !resumed.finished() {
        resumed.step().unwrap();
    }
    let key = |l: &League| l.rows().iter().map(|r| (r.update, r.policies, r.nash_conv_latest, r.nash_conv_pool, r.mean_return, r.env_steps)).collect::<Vec<_>>();
    assert_eq!(key(&straight).len(), 3);
    assert_eq!(key(&straight), key(&resumed));
}
