//! The mean-field routing game against OpenSpiel's own test values and against closed forms:
//! Braess's equilibrium (3.75, NashConv 0) and social optimum (3.5, NashConv 0.75), Braess's
//! paradox, Pigou's network, online mirror descent's convergence, fictitious play's closed form on Pigou, and the push-forward agreeing
//! with backward induction.

mod common;

use shoal::mfg::{nash_conv, uniform, MeanFieldGame, MeanFieldSolver, NetworkFile, RoutingGame, Solver, TabularPolicy};

/// A policy given as shares by link name: at the end of `from`, go to each `to` with its weight;
/// nodes not listed split evenly.
fn policy(game: &RoutingGame, shares: &[(&str, &[(&str, f64)])]) -> TabularPolicy {
    game.policy_from(|_, _, l, k| {
        let next = game.network.link_name(game.network.successors[l][k]);
        match shares.iter().find(|(from, _)| *from == game.network.link_name(l)) {
            Some((_, split)) => split.iter().find(|(to, _)| *to == next).map_or(0.0, |(_, w)| *w),
            None => 1.0,
        }
    })
}

fn value(game: &RoutingGame, p: &TabularPolicy) -> f64 {
    game.evaluate(&game.distribution(p), Some(p)).value
}

const EQUILIBRIUM: &[(&str, &[(&str, f64)])] =
    &[("O->A", &[("A->B", 0.75), ("A->C", 0.25)]), ("A->B", &[("B->C", 2.0 / 3.0), ("B->D", 1.0 / 3.0)])];
const SOCIAL_OPTIMUM: &[(&str, &[(&str, f64)])] =
    &[("O->A", &[("A->B", 0.5), ("A->C", 0.5)]), ("A->B", &[("B->D", 1.0)])];

#[test]
fn braess_equilibrium_and_social_optimum_match_openspiel() {
    let game = RoutingGame::load("braess").unwrap();
    let ne = policy(&game, EQUILIBRIUM);
    assert!((value(&game, &ne) + 3.75).abs() < 1e-9, "equilibrium travel time {}", -value(&game, &ne));
    assert!(nash_conv(&game, &ne).abs() < 1e-9, "equilibrium NashConv {}", nash_conv(&game, &ne));
    let so = policy(&game, SOCIAL_OPTIMUM);
    assert!((value(&game, &so) + 3.5).abs() < 1e-9, "social optimum travel time {}", -value(&game, &so));
    assert!((nash_conv(&game, &so) - 0.75).abs() < 1e-9, "social optimum NashConv {}", nash_conv(&game, &so));
}

#[test]
fn removing_a_road_makes_everyone_faster() {
    let with_bc = RoutingGame::load("braess").unwrap();
    let without_bc = RoutingGame::load("braess_without_bc").unwrap();
    let split = policy(&without_bc, &[("O->A", &[("A->B", 0.5), ("A->C", 0.5)])]);
    let (time_without, time_with) = (-value(&without_bc, &split), -value(&with_bc, &policy(&with_bc, EQUILIBRIUM)));
    assert!((time_without - 3.5).abs() < 1e-9, "equilibrium without B->C takes {time_without}");
    assert!(nash_conv(&without_bc, &split).abs() < 1e-9, "the even split is the equilibrium without B->C");
    assert!((time_with / time_without - 15.0 / 14.0).abs() < 1e-9, "price of anarchy {}", time_with / time_without);
}

#[test]
fn pigou_equilibrium_and_optimum_in_whole_steps() {
    // Fixed road 2, congestible road 1 + x, each followed by a zero-time link that takes one
    // step (0.05): everyone on the congestible road ties the fixed one at 2.05; the even split
    // averages (1.55 + 2.05) / 2 = 1.80 and leaves 2.05 − 1.55 = 0.5 on the table for half the
    // vehicles, 0.25 in all.
    let game = RoutingGame::load("pigou").unwrap();
    let all_congestible = policy(&game, &[("O->A", &[("A->C", 1.0)])]);
    assert!((value(&game, &all_congestible) + 2.05).abs() < 1e-9);
    assert!(nash_conv(&game, &all_congestible).abs() < 1e-9);
    let even = policy(&game, &[("O->A", &[("A->B", 0.5), ("A->C", 0.5)])]);
    assert!((value(&game, &even) + 1.80).abs() < 1e-9, "even split takes {}", -value(&game, &even));
    assert!((nash_conv(&game, &even) - 0.25).abs() < 1e-9, "even split NashConv {}", nash_conv(&game, &even));
}

#[test]
fn online_mirror_descent_reaches_braess_equilibrium() {
    // OpenSpiel's test: learning rate 1, 50 iterations, NashConv ≈ 0.
    let game = RoutingGame::load("braess").unwrap();
    let mut omd = MeanFieldSolver::new(&game, Solver::Omd, 1.0);
    let rows: Vec<_> = (0..50).map(|_| omd.step()).collect();
    let last = rows.last().unwrap();
    assert!(last.nash_conv.abs() < 1e-4, "NashConv after 50 iterations: {}", last.nash_conv);
    assert!((last.value + 3.75).abs() < 1e-4, "travel time at the end: {}", -last.value);
    assert!(rows[0].nash_conv > 0.1, "the first iterate should still be far from equilibrium");
}

#[test]
fn fictitious_play_on_pigou_follows_its_closed_form() {
    // From the even split, every best response is the congestible road, so after k iterations
    // the average sends x_k = 1 − 0.5 / (k + 1) of the vehicles there. Once x_k ≥ 0.95 that road
    // takes 39 + 1 steps (2.0) against the fixed road's 40 + 1 (2.05), so the NashConv is what
    // the stragglers lose: (1 − x_k) × 0.05.
    let game = RoutingGame::load("pigou").unwrap();
    let mut fp = MeanFieldSolver::new(&game, Solver::Fp, 1.0);
    let rows: Vec<_> = (0..100).map(|_| fp.step()).collect();
    for row in &rows[9..] {
        let stragglers = 0.5 / (row.iteration as f64 + 1.0);
        assert!((row.nash_conv - stragglers * 0.05).abs() < 1e-12, "iteration {}: {}", row.iteration, row.nash_conv);
        assert!((-row.value - (2.0 + stragglers * 0.05)).abs() < 1e-12, "iteration {}: {}", row.iteration, -row.value);
    }
}

#[test]
fn push_forward_agrees_with_backward_induction() {
    // The expected travel time the forward pass counts equals minus the value backward
    // induction gives, for the uniform policy and for a lopsided one, on Sioux Falls.
    let game = RoutingGame::load("sioux_falls_dummy").unwrap();
    for p in [uniform(&game), game.policy_from(|t, d, l, k| ((t + 3 * d + 7 * l + 11 * k) % 5) as f64)] {
        let dist = game.distribution(&p);
        let backward = game.evaluate(&dist, Some(&p)).value;
        assert!((dist.travel_time + backward).abs() < 1e-9, "forward {} vs backward {}", dist.travel_time, -backward);
        let best = game.evaluate(&dist, None).value;
        assert!(best >= backward - 1e-12, "the best response cannot do worse than the policy");
    }
}

#[test]
fn link_volumes_count_the_population() {
    // Under the Braess equilibrium, 3.75 vehicles enter A->B at step 1 and 3.75 are on C->D
    // when the two streams merge at step 41 (35 + 5 steps for A->B->C, 40 for A->C).
    let game = RoutingGame::load("braess").unwrap();
    let dist = game.distribution(&policy(&game, EQUILIBRIUM));
    let link = |name: &str| game.network.link(name).unwrap();
    assert!((dist.volume[1][link("A->B")] - 3.75).abs() < 1e-12);
    assert!((dist.volume[41][link("C->D")] - 3.75).abs() < 1e-12);
    assert_eq!(dist.wait[1][link("A->B")], 34, "1.75 / 0.05 = 35 steps on the link");
    assert!((dist.arrived - 1.0).abs() < 1e-12);
}

#[test]
fn bad_network_files_are_refused_by_name() {
    let braess = include_str!("../examples/networks/braess.json");
    let cases = [
        (braess.replace("\"D->E\"", "\"D->F\""), "D->F"),
        (braess.replace("\"capacity\": 5}", "\"capacity\": 0}"), "capacity"),
        (braess.replace("\"vehicles\": 5", "\"vehicles\": -5"), "vehicles"),
        (braess.replace("\"time_steps\": 100", "\"time_steps\": 100, \"speed\": 3"), "speed"),
        (braess.replace("{\"from\": \"D\", \"to\": \"E\"", "{\"from\": \"E\", \"to\": \"D\"}, {\"from\": \"D\", \"to\": \"E\""), "free_flow_time"),
    ];
    for (text, needle) in cases {
        let err = NetworkFile::parse(&text, "test.json").and_then(|f| RoutingGame::new(&f, None, None).map(|_| ()));
        let message = format!("{:#}", err.expect_err(needle));
        assert!(message.contains(needle), "error should name {needle}: {message}");
    }
    let dup = braess.replace("{\"from\": \"O\", \"to\": \"A\"", "{\"from\": \"A\", \"to\": \"B\", \"free_flow_time\": 1.0}, {\"from\": \"O\", \"to\": \"A\"");
    let message = format!("{:#}", NetworkFile::parse(&dup, "t").unwrap().build().unwrap_err());
    assert!(message.contains("A->B appears twice"), "{message}");
    let unreachable = braess.replace("\"origin\": \"O->A\", \"destination\": \"D->E\"", "\"origin\": \"D->E\", \"destination\": \"O->A\"");
    let message = format!("{:#}", NetworkFile::parse(&unreachable, "t").unwrap().build().unwrap_err());
    assert!(message.contains("cannot be reached"), "{message}");
    for (dt, steps) in [(Some(0.0), None), (None, Some(0))] {
        let file = NetworkFile::load("braess").unwrap();
        assert!(RoutingGame::new(&file, dt, steps).is_err());
    }
    assert!(format!("{:#}", NetworkFile::load("no_such_network").unwrap_err()).contains("built-in network"));
}

#[test]
fn shoal_mfg_writes_rows_figures_and_the_n_player_comparison() {
    let out = common::scratch_dir("mfg-cli");
    let out_str = out.to_str().unwrap();
    let text = common::shoal_ok(&["mfg", "--game", "pigou", "--iterations", "12", "--n-player", "8,64", "--n-player-vehicles", "512", "--out", out_str]);
    assert!(text.contains("NashConv"), "{text}");
    let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("mfg.json")).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2 * 13, "iterations 0..=12 for fp and omd");
    let fp_last = rows.iter().filter(|r| r["algo"] == "fp").last().unwrap();
    // The closed form of FP on Pigou (see fictitious_play_on_pigou_follows_its_closed_form).
    assert!((fp_last["nash_conv"].as_f64().unwrap() - 0.05 * 0.5 / 13.0).abs() < 1e-12, "{fp_last}");
    let n_player: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("n_player.json")).unwrap()).unwrap();
    let n_player = n_player.as_array().unwrap();
    assert_eq!(n_player.iter().map(|r| r["vehicles"].as_u64().unwrap()).collect::<Vec<_>>(), vec![8, 64]);
    assert_eq!(n_player[0]["envs"], 64);
    // The N-player game's own equilibria: Pigou's two (see tests/n_player_routing.rs), the
    // dynamics' one played on the device at the host's travel time.
    for row in n_player {
        let eq = &row["equilibrium"];
        let n = row["vehicles"].as_f64().unwrap();
        assert_eq!((eq["converged"].as_bool(), eq["exhaustive"].as_bool(), eq["equilibria"].as_u64()), (Some(true), Some(true), Some(2)), "{row}");
        assert!((eq["highest"].as_f64().unwrap() - 2.05).abs() < 1e-9, "{row}");
        assert!((eq["on_device"].as_f64().unwrap() - eq["travel_time"].as_f64().unwrap()).abs() < 1e-4, "{row}");
        if n >= 20.0 {
            assert!((eq["lowest"].as_f64().unwrap() - (2.0 + 0.05 / n)).abs() < 1e-9, "{row}");
        }
    }
    for file in ["nash_conv.png", "link_flows.png", "n_player_gap.png", "report.html"] {
        assert!(out.join(file).exists(), "{file}");
    }
    for (args, needle) in [
        (vec!["mfg", "--game", "atlantis"], "atlantis"),
        (vec!["mfg", "--iterations", "0"], "iterations"),
        (vec!["mfg", "--learning-rate=-1"], "learning-rate"),
        (vec!["mfg", "--time-steps", "0"], "time_steps"),
    ] {
        let (ok, text) = common::run_shoal(&[args.as_slice(), &["--out", out_str]].concat());
        assert!(!ok && text.contains(needle), "{args:?}: {text}");
    }
}
