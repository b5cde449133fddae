//! N-player equilibria of the routing game by best-response dynamics: the route groups step as
//! the mean-field push-forward steps, the dynamics end at profiles no single vehicle can improve
//! on (checked here independently, deviation by deviation), Braess's N-player equilibrium costs
//! the mean field's 3.75 from 16 vehicles on, Pigou's shows why a step function lets N-player
//! equilibria keep away from the mean field's value, and the GPU env playing a profile charges
//! every vehicle what the host says.

use shoal::env::{Routing, RoutingConfig};
use shoal::mfg::{NPlayerRouting, RoutingGame, TabularPolicy};
use shoal::GpuContext;

fn route_names(game: &RoutingGame, np: &NPlayerRouting) -> Vec<String> {
    np.routes.iter().map(|r| r.name(game)).collect()
}

/// Mean travel time over the vehicles of a profile.
fn mean_time(np: &NPlayerRouting, counts: &[usize]) -> f64 {
    let times = np.route_times(counts);
    counts.iter().zip(&times).map(|(&c, &t)| c as f64 * t).sum::<f64>() / counts.iter().sum::<usize>() as f64
}

/// Index of the route that uses exactly the named middle links (origin and destination aside).
fn route(game: &RoutingGame, np: &NPlayerRouting, middle: &[&str]) -> usize {
    np.routes
        .iter()
        .position(|r| r.links[1..r.links.len() - 1].iter().map(|&l| game.network.link_name(l)).eq(middle.iter().map(|s| s.to_string())))
        .unwrap_or_else(|| panic!("no route {middle:?} among {:?}", route_names(game, np)))
}

/// The largest gain any one vehicle gets by switching route: recomputed here from route times
/// alone, not from the dynamics' own bookkeeping.
fn best_single_gain(np: &NPlayerRouting, counts: &[usize]) -> f64 {
    let times = np.route_times(counts);
    let mut best = f64::NEG_INFINITY;
    for from in (0..counts.len()).filter(|&r| counts[r] > 0) {
        for to in (0..counts.len()).filter(|&r| r != from && np.routes[r].entry == np.routes[from].entry) {
            let mut moved = counts.to_vec();
            moved[from] -= 1;
            moved[to] += 1;
            best = best.max(times[from] - np.route_times(&moved)[to]);
        }
    }
    best
}

#[test]
fn routes_are_every_simple_path() {
    for (network, expected) in [("braess", 3), ("braess_without_bc", 2), ("pigou", 2)] {
        let game = RoutingGame::load(network).unwrap();
        let np = NPlayerRouting::new(&game, 10).unwrap();
        assert_eq!(np.routes.len(), expected, "{network}: {:?}", route_names(&game, &np));
    }
    let game = RoutingGame::load("braess").unwrap();
    let np = NPlayerRouting::new(&game, 10).unwrap();
    for middle in [&["A->B", "B->C", "C->D"][..], &["A->B", "B->D"], &["A->C", "C->D"]] {
        route(&game, &np, middle);
    }
    assert!(NPlayerRouting::new(&game, 0).is_err());
    let sioux = RoutingGame::load("sioux_falls").unwrap();
    let err = NPlayerRouting::new(&sioux, 1000).unwrap_err().to_string();
    assert!(err.contains("routes") && err.contains("--n-player"), "{err}");
}

#[test]
fn route_groups_step_as_the_push_forward_does() {
    // Every profile of 20 vehicles over Braess's three routes (in steps of 2), against the
    // mean-field push-forward of the policy with the same shares: the same expected travel time.
    let game = RoutingGame::load("braess").unwrap();
    let n = 20;
    let np = NPlayerRouting::new(&game, n).unwrap();
    let (abcd, abd, acd) = (route(&game, &np, &["A->B", "B->C", "C->D"]), route(&game, &np, &["A->B", "B->D"]), route(&game, &np, &["A->C", "C->D"]));
    let (ab, ac, bc) = (game.network.link("A->B").unwrap(), game.network.link("A->C").unwrap(), game.network.link("B->C").unwrap());
    let mut checked = 0;
    for via_bc in (0..=n).step_by(2) {
        for via_bd in (0..=n - via_bc).step_by(2) {
            let mut counts = vec![0; 3];
            (counts[abcd], counts[abd], counts[acd]) = (via_bc, via_bd, n - via_bc - via_bd);
            let host = mean_time(&np, &counts);
            let on_ab = (via_bc + via_bd) as f64;
            let policy: TabularPolicy = game.policy_from(|_, _, l, k| {
                let next = game.network.successors[l][k];
                match next {
                    _ if next == ab => on_ab,
                    _ if next == ac => (n - via_bc - via_bd) as f64,
                    _ if next == bc => via_bc as f64,
                    _ if l == ab => via_bd as f64,
                    _ => 1.0,
                }
            });
            let mean_field = shoal::mfg::MeanFieldGame::distribution(&game, &policy).travel_time;
            assert!((host - mean_field).abs() < 1e-9, "counts {counts:?}: groups {host}, push-forward {mean_field}");
            checked += 1;
        }
    }
    assert_eq!(checked, 66);
}

#[test]
fn best_response_dynamics_end_where_no_vehicle_gains() {
    // (N = 10, 11 and 15 on Braess have no pure equilibrium: see below.)
    for network in ["braess", "pigou", "braess_without_bc"] {
        let game = RoutingGame::load(network).unwrap();
        for n in [8, 9, 13, 16, 100, 1000, 65_536] {
            let np = NPlayerRouting::new(&game, n).unwrap();
            let eq = np.best_response_dynamics(10_000, 1e-9);
            assert!(eq.converged && eq.max_gain <= 1e-9, "{network} N={n}: {eq:?}");
            assert_eq!(eq.counts.iter().sum::<usize>(), n, "{network} N={n}");
            let gain = best_single_gain(&np, &eq.counts);
            assert!(gain <= 1e-9, "{network} N={n}: a vehicle still gains {gain} in {:?}", eq.counts);
            assert!((mean_time(&np, &eq.counts) - eq.travel_time).abs() < 1e-12);
        }
    }
}

#[test]
fn braess_n_player_equilibrium_costs_the_mean_field_from_sixteen_vehicles() {
    let game = RoutingGame::load("braess").unwrap();
    for n in [16, 64, 4096, 1 << 20] {
        let eq = NPlayerRouting::new(&game, n).unwrap().best_response_dynamics(10_000, 1e-9);
        assert!((eq.travel_time - 3.75).abs() < 1e-9, "N={n}: {eq:?}");
    }
    // Without B->C the even split is the equilibrium at every N: Braess's paradox holds in the
    // finite game too.
    let without = RoutingGame::load("braess_without_bc").unwrap();
    for n in [8, 64, 4096] {
        let eq = NPlayerRouting::new(&without, n).unwrap().best_response_dynamics(10_000, 1e-9);
        assert!((eq.travel_time - 3.5).abs() < 1e-9, "N={n}: {eq:?}");
    }
}

#[test]
fn braess_keeps_an_equilibrium_a_step_below_the_mean_field_at_every_n() {
    // One vehicle fewer than half on A->B->C->D keeps C->D a whole step short of the mean
    // field's load: switching onto it would bring it back, so nobody gains by it. Everyone on
    // C->D saves a step, at every N: the N-player equilibria do not all approach the mean field's
    // 3.75 (the travel time is a step function of the load, so the limit theorem's continuity
    // fails).
    let game = RoutingGame::load("braess").unwrap();
    for n in [100, 1000, 1 << 20] {
        let np = NPlayerRouting::new(&game, n).unwrap();
        let mut counts = vec![0; 3];
        counts[route(&game, &np, &["A->B", "B->C", "C->D"])] = n / 2 - 1;
        counts[route(&game, &np, &["A->B", "B->D"])] = n / 4 + 1;
        counts[route(&game, &np, &["A->C", "C->D"])] = n / 4;
        assert!(best_single_gain(&np, &counts) <= 1e-9, "N={n}: {counts:?}");
        let mean = mean_time(&np, &counts);
        let expected = 3.75 - 0.05 * (3 * n / 4 - 1) as f64 / n as f64;
        assert!((mean - expected).abs() < 1e-9, "N={n}: {mean} vs {expected}");
    }
    // Checking every profile: at N = 100 that is the lowest equilibrium, and at N = 10 there is
    // none at all — where best-response dynamics cycle.
    let np = NPlayerRouting::new(&game, 100).unwrap();
    let all = np.pure_equilibria(1_000_000, 1e-9).unwrap();
    let lowest = all.iter().map(|e| e.travel_time).fold(f64::INFINITY, f64::min);
    assert!((lowest - (3.75 - 0.05 * 74.0 / 100.0)).abs() < 1e-9, "{lowest}");
    assert!(all.iter().all(|e| best_single_gain(&np, &e.counts) <= 1e-9));
    let ten = NPlayerRouting::new(&game, 10).unwrap();
    assert_eq!(ten.pure_equilibria(1_000_000, 1e-9).unwrap().len(), 0);
    let dynamics = ten.best_response_dynamics(10_000, 1e-9);
    assert!(dynamics.cycled && !dynamics.converged && dynamics.max_gain > 1e-9, "{dynamics:?}");
    assert!(np.pure_equilibria(1000, 1e-9).is_none(), "5,151 profiles are over a cap of 1,000");
}

#[test]
fn pigou_has_n_player_equilibria_on_both_sides_of_the_step() {
    // The congestible road takes a whole step less while any vehicle stays off it, so "one
    // vehicle on the fixed road" and "everyone on the congestible road" are both equilibria
    // (ties are not gains): travel time 2 + 0.05/N and 2.05, while the mean field's is 2.05.
    // (From N = 20 on, where N − 1 of N vehicles load the congestible road past 0.95.)
    let game = RoutingGame::load("pigou").unwrap();
    for n in [20, 1000, 1 << 20] {
        let np = NPlayerRouting::new(&game, n).unwrap();
        let fixed = route(&game, &np, &["A->B", "B->D"]);
        let mut everyone = vec![n; 2];
        everyone[fixed] = 0;
        let mut one_off = vec![n - 1; 2];
        one_off[fixed] = 1;
        for (counts, expected) in [(everyone, 2.05), (one_off, 2.0 + 0.05 / n as f64)] {
            assert!(best_single_gain(&np, &counts) <= 1e-9, "N={n}: {counts:?} is not an equilibrium");
            let mean = mean_time(&np, &counts);
            assert!((mean - expected).abs() < 1e-9, "N={n}: {counts:?} costs {mean}, expected {expected}");
        }
    }
}

#[test]
fn the_gpu_env_playing_an_equilibrium_charges_what_the_host_says() {
    for (network, n) in [("braess", 8), ("braess", 1000), ("pigou", 64), ("braess_without_bc", 9)] {
        let game = RoutingGame::load(network).unwrap();
        let np = NPlayerRouting::new(&game, n).unwrap();
        let eq = np.best_response_dynamics(10_000, 1e-9);
        let mut env = Routing::new(GpuContext::shared().unwrap(), RoutingConfig::new(2, n, network)).unwrap();
        let stats = env.play_plan(0, &np.actions_by_step(&eq.counts)).unwrap();
        assert_eq!(stats.episodes, 2.0, "{network} N={n}");
        assert_eq!(stats.invalid_actions, 0.0, "{network} N={n}");
        assert!((stats.mean_return + eq.travel_time).abs() < 1e-4, "{network} N={n}: device {}, host {}", -stats.mean_return, eq.travel_time);
        // The standard deviation comes from f32 sums of squares: ~1e-3 of cancellation noise.
        assert!(stats.std_return < 5e-3, "{network} N={n}: the two envs differ: {stats:?}");
    }
}
