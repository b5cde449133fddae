//! `shoal mfg --game lin_quad`: the market's exact equilibrium — the discrete Riccati gains beside
//! OpenSpiel's continuous-time closed form `q + η_t`, the population's spread and the expected
//! reward of every step — as `lin_quad.json`, `lin_quad_gains.png` and `report.html`; and, with
//! `--checkpoint`, the feedback gain a trained policy plays, measured on the device.

use std::path::Path;

use serde::Serialize;

use shoal::mfg::{eta, LinQuad, LinQuadStep};
use shoal::plot::{LineChart, Scale, Series};
use shoal::report::{Block, Report};

/// One step of the equilibrium, as `lin_quad.json` holds it.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    step: LinQuadStep,
    /// OpenSpiel's continuous-time gain at this time.
    closed_form_gain: f64,
    /// A trained policy's gain at this step, where one was measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    learned_gain: Option<f64>,
}

/// Writes the equilibrium (and a trained policy's gains, if given) to `out`.
pub fn run(game: &LinQuad, learned: Option<&[f64]>, out: &Path, command: String) -> anyhow::Result<()> {
    game.validate()?;
    let gains = game.equilibrium_gains();
    let steps = game.play(&gains);
    let rows: Vec<Row> = steps
        .iter()
        .map(|s| Row { step: *s, closed_form_gain: game.cross_q + eta(game, s.time), learned_gain: learned.map(|l| l[s.step]) })
        .collect();
    println!("{:>5} {:>7} {:>10} {:>12} {:>10} {:>10}", "step", "time", "gain", "q + η_t", "Var(m−x)", "reward");
    let every = (rows.len() / 20).max(1);
    for r in rows.iter().filter(|r| r.step.step % every == 0 || r.step.step + 1 == rows.len()) {
        println!("{:>5} {:>7.3} {:>10.5} {:>12.5} {:>10.5} {:>10.5}", r.step.step, r.step.time, r.step.gain, r.closed_form_gain, r.step.variance, r.step.reward);
    }
    let value = game.value(&gains);
    println!("equilibrium value per trader {value:.6} (best response {:.6}, NashConv {:.2e})", game.best_response_value(), game.nash_conv(&gains));
    if let Some(learned) = learned {
        println!("trained policy's gains: NashConv {:.6}, value {:.6}", game.nash_conv(learned), game.value(learned));
    }
    std::fs::create_dir_all(out).map_err(|e| shoal::ShoalError::io(out, e))?;
    shoal::io::write_atomic(&out.join("lin_quad.json"), &serde_json::to_vec_pretty(&rows)?)?;
    let png = out.join("lin_quad_gains.png");
    let mut series = vec![
        Series { name: "equilibrium gain (discrete Riccati)".into(), points: rows.iter().map(|r| (r.step.time, r.step.gain)).collect(), band: None },
        Series { name: "q + η_t (OpenSpiel's closed form)".into(), points: rows.iter().map(|r| (r.step.time, r.closed_form_gain)).collect(), band: None },
    ];
    if learned.is_some() {
        series.push(Series { name: "trained policy".into(), points: rows.iter().filter_map(|r| Some((r.step.time, r.learned_gain?))).collect(), band: None });
    }
    LineChart {
        title: "market: feedback gain α = g(t)·(m − x)".into(),
        x_label: "time".into(),
        y_label: "gain".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series,
    }
    .save_png(&png, 900, 520)?;
    let mut report = Report::new("shoal mfg — lin_quad (the market)");
    report.push(Block::Facts(vec![
        ("steps".into(), format!("{} of {}", game.steps(), game.dt)),
        ("equilibrium value".into(), format!("{value:.6}")),
        ("shoal".into(), env!("CARGO_PKG_VERSION").into()),
    ]));
    report.push(Block::Text(
        "The linear-quadratic game of systemic risk: the equilibrium gains come from the discrete Riccati recursion \
         (exact in discrete time); OpenSpiel's q + η_t is its continuous-time limit."
            .into(),
    ));
    report.figure("gains", "Feedback gain per step: discrete equilibrium, closed form, and a trained policy if given.", &png);
    report.push(Block::Code(command));
    report.write(&out.join("report.html"))?;
    eprintln!("wrote {}, {} and {}", out.join("lin_quad.json").display(), png.display(), out.join("report.html").display());
    Ok(())
}

/// Reserve gaps `m − x` the probe puts to a trained policy at every step.
const PROBE_GAPS: usize = 41;

/// The feedback gain a trained market policy plays at each step: its greedy rate on a grid of
/// gaps `m − x ∈ [−2, 2]`, fitted by least squares through 0 (one small read per step; analysis,
/// not training). Returns the game it was trained on and its gains.
pub fn learned_gains(checkpoint: &Path) -> anyhow::Result<(LinQuad, Vec<f64>)> {
    use shoal::env::{FromParams, Market, MarketConfig};
    let ctx = super::super::open_gpu()?;
    let dir = shoal::train::locate_checkpoint(checkpoint)?;
    let config = shoal::train::CheckpointState::read(&dir)?.config;
    if config.env != shoal::env::EnvKind::Market {
        return Err(shoal::ShoalError::config("checkpoint", checkpoint.display(), format!("was trained on {}, not market", config.env)).into());
    }
    let market = MarketConfig { traders: PROBE_GAPS, ..MarketConfig::from_params(&config.env_params(1, false))? };
    let (game, obs_dim) = (market.game, market.obs_dim());
    let env = Market::new(ctx.clone(), market.clone())?;
    let (_, mut actors) = shoal::train::acting::checkpoint_actors(&ctx, &dir, &env, true, 0)?;
    let gaps: Vec<f64> = (0..PROBE_GAPS).map(|j| -2.0 + 4.0 * j as f64 / (PROBE_GAPS - 1) as f64).collect();
    let mut gains = Vec::with_capacity(game.steps());
    for k in 0..game.steps() {
        let obs: Vec<f32> = gaps.iter().flat_map(|&y| market.observation(y as f32, k)).collect();
        let actions = actors[0].act(ctx.upload_f32(&obs, [1, PROBE_GAPS, obs_dim])?)?;
        let shoal::env::Actions::Continuous(rates) = actions else { unreachable!("market actions are continuous") };
        let rates = ctx.read_f32(rates.reshape([PROBE_GAPS]))?;
        let (num, den) = gaps.iter().zip(&rates).fold((0.0, 0.0), |(n, d), (&y, &a)| (n + y * a as f64, d + y * y));
        gains.push(num / den);
    }
    Ok((game, gains))
}
