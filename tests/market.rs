//! The market (linear-quadratic game of systemic risk): the discrete Riccati gains converge to
//! OpenSpiel's closed form `q + η_t` at rate O(dt), they are an exact equilibrium (NashConv 0,
//! every other linear policy loses), and on the device 10⁶ traders playing them get the exact
//! mean-field reward of every step within sampling error.

mod common;

use burn::tensor::Tensor;
use shoal::env::{Actions, BatchedEnv, EnvKind, EnvOptions, EnvParams, Market, MarketConfig};
use shoal::mfg::{eta, LinQuad};
use shoal::GpuContext;

fn closed_form_error(dt: f64) -> f64 {
    let game = LinQuad { dt, ..LinQuad::default() };
    let gains = game.equilibrium_gains();
    gains.iter().enumerate().map(|(k, g)| (g - (game.cross_q + eta(&game, k as f64 * dt))).abs()).fold(0.0, f64::max)
}

#[test]
fn riccati_gains_converge_to_openspiels_closed_form_at_rate_dt() {
    let (coarse, fine) = (closed_form_error(0.01), closed_form_error(0.001));
    assert!(fine < 2e-3, "gain error at dt = 0.001: {fine}");
    let rate = coarse / fine;
    assert!((8.0..12.5).contains(&rate), "error ratio for a 10× smaller step: {rate} ({coarse} vs {fine})");
    // The last step faces P_N = c: its gain is (q + c) / (1 + c·dt) (K = 0), and η_T = c.
    let game = LinQuad::default();
    let last = *game.equilibrium_gains().last().unwrap();
    assert!((last - (game.cross_q + game.terminal_cost) / (1.0 + game.terminal_cost * game.dt)).abs() < 1e-15);
    assert!((eta(&game, game.horizon) - game.terminal_cost).abs() < 1e-12);
}

#[test]
fn the_riccati_gains_are_an_exact_equilibrium() {
    for game in [LinQuad::default(), LinQuad { mean_revert: 0.3, volatility: 0.5, cross_q: 0.2, dt: 0.05, ..LinQuad::default() }] {
        let gains = game.equilibrium_gains();
        assert!(game.nash_conv(&gains).abs() < 1e-12, "NashConv at equilibrium: {}", game.nash_conv(&gains));
        for shift in [-0.2, -0.01, 0.01, 0.2] {
            let other: Vec<f64> = gains.iter().map(|g| g + shift).collect();
            assert!(game.nash_conv(&other) > 0.0, "shifting the gains by {shift} must lose");
        }
        let constant = vec![gains[0]; gains.len()];
        assert!(game.nash_conv(&constant) > 0.0);
    }
}

#[test]
fn a_million_traders_playing_the_equilibrium_earn_its_exact_rewards() {
    // 4 envs × 250,000 traders; each plays α = g_k (m − x) from its own observation, on the
    // device. The mean reward of each step must match the mean field's exact expectation within
    // 6 standard errors (per-trader rewards are quadratic in Gaussians: their std is bounded by
    // a few times their mean).
    let game = LinQuad::default();
    let (envs, traders) = (4, 250_000);
    let ctx = GpuContext::shared().unwrap();
    let mut market = Market::new(ctx.clone(), MarketConfig { game, ..MarketConfig::new(envs, traders) }).unwrap();
    let gains = game.equilibrium_gains();
    let exact = game.play(&gains);
    let mut obs = market.reset(3).unwrap().obs[0].clone();
    for (k, step) in exact.iter().enumerate() {
        let gap = obs.clone().slice([0..envs, 0..traders, 0..1]);
        let out = market.step(&[Actions::Continuous(gap * gains[k])]).unwrap();
        let reward: Tensor<2> = out.reward;
        let mean = ctx.read_f32(reward.clone().mean().reshape([1])).unwrap()[0] as f64;
        let second = ctx.read_f32(reward.powi_scalar(2).mean().reshape([1])).unwrap()[0] as f64;
        let std_error = ((second - mean * mean).max(0.0) / (envs * traders) as f64).sqrt();
        assert!((mean - step.reward).abs() < 6.0 * std_error + 1e-6, "step {k}: {mean} vs exact {} (s.e. {std_error})", step.reward);
        obs = out.obs[0].clone();
    }
    let stats = market.episode_stats().unwrap();
    let value = game.value(&gains);
    assert!((stats.mean_return - value).abs() < 0.02 * value.abs(), "episode return {} vs exact {value}", stats.mean_return);
    assert_eq!(stats.invalid_actions, 0.0);
}

#[test]
fn time_to_go_adds_steps_left_to_the_same_observations() {
    // Same seed and actions with and without the option: the same gaps and times, plus
    // 1 / (steps left + 1) in a third column.
    let ctx = GpuContext::shared().unwrap();
    let (envs, traders) = (2, 64);
    let game = LinQuad::default();
    let steps = game.steps();
    let mut plain = Market::new(ctx.clone(), MarketConfig::new(envs, traders)).unwrap();
    let mut timed = Market::new(ctx.clone(), MarketConfig { time_to_go: true, ..MarketConfig::new(envs, traders) }).unwrap();
    assert_eq!((plain.spec().groups[0].obs_dim, timed.spec().groups[0].obs_dim), (2, 3));
    let (mut a, mut b) = (plain.reset(5).unwrap().obs[0].clone(), timed.reset(5).unwrap().obs[0].clone());
    for t in 0..steps {
        let (a_host, b_host) = (ctx.read_f32(a.clone().reshape([envs * traders * 2])).unwrap(), ctx.read_f32(b.clone().reshape([envs * traders * 3])).unwrap());
        for i in 0..envs * traders {
            assert_eq!((a_host[2 * i], a_host[2 * i + 1]), (b_host[3 * i], b_host[3 * i + 1]), "step {t}, trader {i}");
            assert!((b_host[3 * i + 2] - 1.0 / (steps - t + 1) as f32).abs() < 1e-7, "step {t}: {}", b_host[3 * i + 2]);
        }
        let gap_a = a.clone().slice([0..envs, 0..traders, 0..1]);
        let gap_b = b.clone().slice([0..envs, 0..traders, 0..1]);
        let (out_a, out_b) = (plain.step(&[Actions::Continuous(gap_a * 0.7)]).unwrap(), timed.step(&[Actions::Continuous(gap_b * 0.7)]).unwrap());
        if t + 1 == steps {
            // The episode ended: the observation is the next episode's first.
            let next = ctx.read_f32(out_b.obs[0].clone().reshape([envs * traders * 3])).unwrap();
            assert!(next.chunks(3).all(|o| o[1] == 0.0 && (o[2] - 1.0 / (steps + 1) as f32).abs() < 1e-7));
        }
        (a, b) = (out_a.obs[0].clone(), out_b.obs[0].clone());
    }
    assert_eq!(plain.episode_stats().unwrap().mean_return, timed.episode_stats().unwrap().mean_return);
}

#[test]
fn market_options_and_bad_input_are_checked() {
    let ctx = GpuContext::shared().unwrap();
    let build = |items: &[&str], continuous: bool, agents: usize| {
        let options = EnvOptions::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        EnvKind::Market.build(&ctx, &EnvParams { options, continuous, ..EnvParams::new(2, agents) }).map(|_| ()).map_err(|e| format!("{e:#}"))
    };
    assert!(build(&[], true, 100).is_ok());
    assert!(build(&["kappa=0.3", "cross_q=0.2", "dt=0.05"], true, 100).is_ok());
    assert!(build(&["time_to_go=true"], true, 100).is_ok());
    assert!(build(&["time_to_go=maybe"], true, 100).unwrap_err().contains("time_to_go"));
    assert!(build(&[], false, 100).is_ok(), "rates are the market's only actions, whatever `continuous` says");
    assert!(build(&["kappa=0.001", "cross_q=0.5"], true, 100).unwrap_err().contains("kappa"));
    assert!(build(&["dt=0.3"], true, 100).unwrap_err().contains("dt"), "10 / 0.3 is not a whole number of steps");
    assert!(build(&["volatility=much"], true, 100).unwrap_err().contains("volatility"));
    assert!(build(&["leverage=2"], true, 100).unwrap_err().contains("leverage"));
    assert!(build(&[], true, 1).unwrap_err().contains("traders"));
}

#[test]
fn shoal_mfg_measures_a_trained_policys_gain_beside_the_equilibrium() {
    let dir = common::scratch_dir("market-gain");
    let run = dir.join("run");
    let run = run.to_str().unwrap();
    // Training runs take their episode length from max_cycles (100 steps of 0.1: the default game).
    // Both observation layouts: the probe builds the policy's inputs as the env does.
    for time_to_go in ["false", "true"] {
        let option = format!("time_to_go={time_to_go}");
        common::shoal_ok(&["train", "--env", "market", "--agents", "50", "--envs", "2", "--steps", "400", "--set", "max_cycles=100", "--env-option", &option, "--out", run]);
        let out = dir.join("mfg");
        let text = common::shoal_ok(&["mfg", "--game", "lin_quad", "--checkpoint", run, "--out", out.to_str().unwrap()]);
        assert!(text.contains("trained policy's gains: NashConv"), "{text}");
        let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("lin_quad.json")).unwrap()).unwrap();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 100);
        for row in rows {
            assert!(row["learned_gain"].as_f64().unwrap().is_finite() && row["closed_form_gain"].as_f64().unwrap() > 0.0, "{row}");
        }
        assert!(out.join("lin_quad_gains.png").exists() && out.join("report.html").exists());
        std::fs::remove_dir_all(&dir.join("run")).unwrap();
    }
    common::shoal_ok(&["train", "--env", "market", "--agents", "50", "--envs", "2", "--steps", "400", "--set", "max_cycles=100", "--out", run]);
    let out = dir.join("mfg");
    let (ok, text) = common::run_shoal(&["mfg", "--game", "braess", "--checkpoint", run, "--out", out.to_str().unwrap()]);
    assert!(!ok && text.contains("lin_quad"), "{text}");
}
