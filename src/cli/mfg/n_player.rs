//! `shoal mfg --n-player`: the routing game played by N vehicles on the device, two ways.
//!
//! - **The mean-field policy played by N**: every vehicle samples the final mean-field policy,
//!   `--n-player-vehicles / N` envs at once for the average's precision. How well the limit's
//!   answer serves a finite population.
//! - **The N-player game's own equilibrium**: best-response dynamics over whole routes
//!   ([`shoal::mfg::NPlayerRouting`], exact, on the host), then played on the device by one env of
//!   N vehicles following the equilibrium's routes — the device's travel time checks the host's.
//!   Only networks with few routes (Braess, Pigou); elsewhere the row says why it is absent.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use shoal::env::{BatchedEnv, Routing, RoutingConfig};
use shoal::mfg::{MeanFieldGame, NPlayerRouting, RoutingGame, TabularPolicy};
use shoal::plot::{LineChart, Scale, Series};

use super::MfgArgs;

/// Deviations best-response dynamics may take before it stops unconverged.
const MAX_ROUNDS: usize = 100_000;
/// A switch must save more than this to count as a gain (travel times are multiples of a step).
const GAIN_TOLERANCE: f64 = 1e-9;
/// Most profiles checked one by one for every pure equilibrium (Braess: N ≤ 630, ~4 s); beyond,
/// those within [`NEAR`] vehicles per route of the dynamics' equilibrium.
const MAX_PROFILES: usize = 200_000;
const NEAR: usize = 4;

/// One N, as `n_player.json` holds it.
#[derive(Debug, Clone, Serialize)]
pub struct NPlayerRow {
    vehicles: usize,
    envs: usize,
    /// The mean-field policy played by N: mean over envs of the vehicles' mean travel time.
    travel_time: f64,
    /// Standard error of that mean over envs (`None` with one env).
    std_error: Option<f64>,
    /// The mean-field travel time of the same policy.
    mean_field: f64,
    /// The N-player game's own equilibrium, where routes can be enumerated.
    equilibrium: Option<EquilibriumRow>,
    seconds: f64,
}

/// An N-player equilibrium found by best-response dynamics.
#[derive(Debug, Clone, Serialize)]
pub struct EquilibriumRow {
    /// Mean travel time over the N vehicles, computed on the host (exact).
    travel_time: f64,
    /// The same profile played on the device.
    on_device: f64,
    converged: bool,
    /// The largest saving any one vehicle could still get by switching route.
    max_gain: f64,
    rounds: usize,
    /// Vehicles per route ("O->A A->B …").
    routes: Vec<(String, usize)>,
    /// The pure equilibria found by checking profiles: all of them (`exhaustive`), or those near
    /// the dynamics' one.
    equilibria: usize,
    exhaustive: bool,
    /// Their lowest and highest mean travel time (`None` when there are none).
    lowest: Option<f64>,
    highest: Option<f64>,
}

/// Plays `policy`, and finds and plays the N-player equilibrium, at each N of `--n-player`.
pub fn run(args: &MfgArgs, game: &RoutingGame, policy: &TabularPolicy) -> anyhow::Result<Vec<NPlayerRow>> {
    let ctx = super::super::open_gpu()?;
    let mean_field = game.distribution(policy).travel_time;
    if let Err(why) = NPlayerRouting::new(game, 1) {
        println!("no N-player equilibrium: {why}");
    }
    println!(
        "{:>9} {:>7} {:>10} {:>7} {:>10} {:>10} {:>22} {:>10} {:>8}",
        "vehicles", "envs", "MF policy", "± s.e.", "BR eq.", "on device", "pure equilibria", "mean field", "seconds"
    );
    let mut rows = Vec::new();
    for &vehicles in &args.n_player {
        let start = Instant::now();
        let envs = (args.n_player_vehicles / vehicles.max(1)).max(1);
        // The policy acts from the vehicles' state: the observations can be small.
        let config = |envs| RoutingConfig {
            time_step: Some(game.time_step),
            time_steps: Some(game.time_steps),
            compact_obs: true,
            ..RoutingConfig::new(envs, vehicles, &args.game)
        };
        let mut env = Routing::new(ctx.clone(), config(envs))?;
        let uploaded = env.upload_policy(policy)?;
        env.reset(0)?;
        for _ in 0..game.time_steps {
            let actions = env.policy_actions(&uploaded)?;
            env.step(&[actions])?;
        }
        let stats = env.episode_stats()?;
        drop(env);
        let equilibrium = match NPlayerRouting::new(game, vehicles) {
            Ok(np) => {
                let eq = np.best_response_dynamics(MAX_ROUNDS, GAIN_TOLERANCE);
                let played = Routing::new(ctx.clone(), config(1))?.play_plan(0, &np.actions_by_step(&eq.counts))?;
                let routes = np
                    .routes
                    .iter()
                    .zip(&eq.counts)
                    .map(|(r, &c)| (r.name(game), c))
                    .collect();
                let all = np.pure_equilibria(MAX_PROFILES, GAIN_TOLERANCE);
                let exhaustive = all.is_some();
                let all = all.unwrap_or_else(|| np.equilibria_near(&eq.counts, NEAR, GAIN_TOLERANCE));
                let times = || all.iter().map(|e| e.travel_time);
                Some(EquilibriumRow {
                    travel_time: eq.travel_time,
                    on_device: -played.mean_return,
                    converged: eq.converged,
                    max_gain: eq.max_gain,
                    rounds: eq.rounds,
                    routes,
                    equilibria: all.len(),
                    exhaustive,
                    lowest: times().reduce(f64::min),
                    highest: times().reduce(f64::max),
                })
            }
            Err(_) => None,
        };
        let row = NPlayerRow {
            vehicles,
            envs,
            travel_time: -stats.mean_return,
            std_error: (envs > 1).then(|| stats.std_return / ((envs - 1) as f64).sqrt()),
            mean_field,
            equilibrium,
            seconds: start.elapsed().as_secs_f64(),
        };
        print_row(&row);
        rows.push(row);
    }
    Ok(rows)
}

fn print_row(row: &NPlayerRow) {
    let error = row.std_error.map_or("n/a".to_string(), |e| format!("{e:.4}"));
    let (eq, device, all) = match &row.equilibrium {
        Some(e) => (
            format!("{:.4}{}", e.travel_time, if e.converged { "" } else { "*" }),
            format!("{:.4}", e.on_device),
            match (e.lowest, e.highest) {
                (Some(lo), Some(hi)) => format!("{}{} in {lo:.4}..{hi:.4}", e.equilibria, if e.exhaustive { "" } else { " near" }),
                _ if e.exhaustive => "none exists".into(),
                _ => "none near".into(),
            },
        ),
        None => ("n/a".into(), "n/a".into(), "n/a".into()),
    };
    println!(
        "{:>9} {:>7} {:>10.4} {:>7} {:>10} {:>10} {:>22} {:>10.4} {:>8.1}",
        row.vehicles, row.envs, row.travel_time, error, eq, device, all, row.mean_field, row.seconds
    );
    if row.equilibrium.as_ref().is_some_and(|e| !e.converged) {
        println!("          * best-response dynamics cycled or stopped without reaching an equilibrium");
    }
    if row.equilibrium.as_ref().is_some_and(|e| (e.on_device - e.travel_time).abs() > 1e-3) {
        // The kernel adds 1e-4 of a step before flooring a travel time (f32 cannot hold 0.05),
        // where the host adds 1e-9: a load within 1e-4 steps below a whole step counts as past it.
        println!("          the device rounds up loads within 1e-4 of a step of a whole step (f32); one vehicle is less than that here, and the profile sits at a step's edge");
    }
}

/// The gap to the mean field's travel time against N, for the mean-field policy played by N and
/// for the N-player equilibrium.
pub fn plot_gap(network: &str, rows: &[NPlayerRow], png: &Path) -> anyhow::Result<()> {
    let gap = |travel_time: f64, r: &NPlayerRow| (travel_time - r.mean_field).abs().max(1e-6);
    let mut series = vec![
        Series { name: "mean-field policy played by N".into(), points: rows.iter().map(|r| (r.vehicles as f64, gap(r.travel_time, r))).collect(), band: None },
        Series {
            name: "standard error of that mean".into(),
            points: rows.iter().filter_map(|r| Some((r.vehicles as f64, r.std_error?.max(1e-6)))).collect(),
            band: None,
        },
    ];
    let converged = |r: &NPlayerRow| r.equilibrium.as_ref().filter(|e| e.converged).map(|e| e.travel_time);
    let equilibria: Vec<(f64, f64)> = rows.iter().filter_map(|r| Some((r.vehicles as f64, gap(converged(r)?, r)))).collect();
    if !equilibria.is_empty() {
        let lowest_of_all = |r: &NPlayerRow| r.equilibrium.as_ref().filter(|e| e.exhaustive).and_then(|e| e.lowest);
        let lowest: Vec<(f64, f64)> = rows.iter().filter_map(|r| Some((r.vehicles as f64, gap(lowest_of_all(r)?, r)))).collect();
        series.insert(0, Series { name: "N-player equilibrium (best-response dynamics)".into(), points: equilibria, band: None });
        series.insert(1, Series { name: "the pure equilibrium farthest below (every profile checked)".into(), points: lowest, band: None });
    }
    LineChart {
        title: format!("{network}: |N-player − mean-field travel time| (0 drawn at 1e-6)"),
        x_label: "vehicles N".into(),
        y_label: "travel-time gap".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        series,
    }
    .save_png(png, 900, 520)?;
    Ok(())
}
