//! N-player equilibria of the routing game, by best-response dynamics: the other side of the
//! mean-field limit.
//!
//! The mean-field equilibrium is what the N-player game's equilibria approach as N grows. Playing
//! the mean-field policy with N vehicles (`shoal mfg --n-player`) measures how well the limit
//! serves a finite population; this module finds the finite game's *own* equilibria, so that the
//! gap to the mean field can be read at each N.
//!
//! **Exact, not sampled.** The game has no randomness and every vehicle of a demand entry departs
//! at the same step, so vehicles that share an entry and a route move together: a pure strategy
//! profile is a count per (entry, route), and the congestion each route meets follows from
//! stepping those groups with the mean-field push-forward's clock, waiting times and counting
//! rule (each vehicle weighs `demand / N`, as in the GPU env). A profile is an equilibrium when no
//! single vehicle gains by switching route, its deviation evaluated exactly: one vehicle's load
//! taken off one route and put on the other.
//!
//! **Best-response dynamics.** From the even split over each entry's routes, take the single
//! deviation with the largest gain and move as many vehicles along it as still gain (the last
//! mover checked exactly: doubling, then bisecting), until no deviation gains more than the
//! tolerance. Travel times are step functions of the loads, so the potential argument of static
//! congestion games does not carry over verbatim; the loop is capped and says whether it ended at
//! an equilibrium, and the result's largest remaining gain is reported either way.
//!
//! **Routes** are every simple path from an entry's origin to its destination, found depth first
//! — at most [`MAX_ROUTES`] per network, which Braess and Pigou are far below and Sioux Falls far
//! above (its N-player comparison plays the mean-field policy instead).

use std::collections::{BTreeMap, HashSet};

use super::routing::RoutingGame;
use crate::error::{Result, ShoalError};

/// Most routes (entry, path) best-response dynamics enumerates.
pub const MAX_ROUTES: usize = 4096;

/// One route of one demand entry: the links from its origin to its destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Index into the game's demand.
    pub entry: usize,
    pub links: Vec<usize>,
}

impl Route {
    /// `"O->A A->B …"`: the route's links by name.
    pub fn name(&self, game: &RoutingGame) -> String {
        self.links.iter().map(|&l| game.network.link_name(l)).collect::<Vec<_>>().join(" ")
    }
}

/// The routing game played by N vehicles, each choosing a whole route.
#[derive(Debug, Clone)]
pub struct NPlayerRouting<'a> {
    game: &'a RoutingGame,
    /// N.
    pub vehicles: usize,
    pub routes: Vec<Route>,
    /// Vehicles of each demand entry (N split as the GPU env splits it).
    pub entry_vehicles: Vec<usize>,
    /// Each demand entry's routes, as indices into `routes`.
    entry_routes: Vec<Vec<usize>>,
}

/// A pure strategy profile found by best-response dynamics.
#[derive(Debug, Clone)]
pub struct NPlayerEquilibrium {
    /// Vehicles on each route (same order as [`NPlayerRouting::routes`]).
    pub counts: Vec<usize>,
    /// Each route's travel time under `counts` (for an unused route: a vehicle's that switched
    /// to it would see one vehicle's load less).
    pub route_times: Vec<f64>,
    /// Mean travel time over the N vehicles.
    pub travel_time: f64,
    /// The largest gain any single vehicle could still get by switching route (≤ tolerance at an
    /// equilibrium).
    pub max_gain: f64,
    pub converged: bool,
    /// The dynamics came back to a profile they had left: a better-response cycle.
    pub cycled: bool,
    /// Deviations taken (each moving one or more vehicles).
    pub rounds: usize,
}

/// One decision a route makes: at `step`, the vehicle on `link` takes its successor `choice`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub step: usize,
    pub link: usize,
    pub choice: usize,
}

impl<'a> NPlayerRouting<'a> {
    /// The game with `vehicles` players on `game`'s network and demand.
    pub fn new(game: &'a RoutingGame, vehicles: usize) -> Result<Self> {
        if vehicles == 0 {
            return Err(ShoalError::config("vehicles", vehicles, "the N-player game needs at least one vehicle"));
        }
        let mut entry_vehicles = vec![0; game.demand.len()];
        for entry in game.vehicle_entries(vehicles) {
            entry_vehicles[entry] += 1;
        }
        let mut routes = Vec::new();
        for (entry, od) in game.demand.iter().enumerate() {
            let mut path = vec![od.origin];
            paths(game, od.destination, &mut path, &mut |links| {
                routes.push(Route { entry, links: links.to_vec() });
                routes.len() <= MAX_ROUTES
            });
            if routes.len() > MAX_ROUTES {
                return Err(ShoalError::config(
                    "network",
                    &game.network.name,
                    format!("has more than {MAX_ROUTES} routes between its origins and destinations: too many for best-response dynamics over whole routes (play the mean-field policy with --n-player instead)"),
                ));
            }
            if !routes.iter().any(|r| r.entry == entry) {
                return Err(ShoalError::config("network", &game.network.name, format!("demand entry {entry} has no route from its origin to its destination")));
            }
        }
        let entry_routes = (0..game.demand.len()).map(|e| (0..routes.len()).filter(|&r| routes[r].entry == e).collect()).collect();
        Ok(Self { game, vehicles, routes, entry_vehicles, entry_routes })
    }

    /// Travel time of each route when `counts[r]` vehicles take route `r`, and each route's
    /// decisions (when its vehicles choose which successor).
    pub fn simulate(&self, counts: &[usize]) -> (Vec<f64>, Vec<Vec<Decision>>) {
        let game = self.game;
        let (horizon, weight) = (game.time_steps, game.vehicles / self.vehicles as f64);
        let never = 2 * horizon - 1;
        let n = self.routes.len();
        let mut at = vec![0usize; n];
        let mut decide: Vec<usize> = self.routes.iter().map(|r| game.first_decision(&game.demand[r.entry]).min(never)).collect();
        let mut arrival: Vec<Option<f64>> = vec![None; n];
        let mut decisions = vec![Vec::new(); n];
        let mut volume = vec![0.0; game.network.links.len()];
        let mut entering = vec![false; n];
        for t in 0..horizon {
            for r in 0..n {
                entering[r] = false;
                if arrival[r].is_some() || decide[r] != t {
                    continue;
                }
                let (link, next) = (self.routes[r].links[at[r]], self.routes[r].links[at[r] + 1]);
                let choice = game.network.successors[link].iter().position(|&s| s == next).expect("a route follows successor links");
                decisions[r].push(Decision { step: t, link, choice });
                at[r] += 1;
                if at[r] + 1 == self.routes[r].links.len() {
                    arrival[r] = Some(t as f64 * game.time_step);
                } else {
                    entering[r] = true;
                }
            }
            let now = t + 1;
            if now == horizon {
                break;
            }
            // Counted as the push-forward counts: those entering now, and those on the road who
            // decide within the next T steps.
            volume.iter_mut().for_each(|v| *v = 0.0);
            for r in (0..n).filter(|&r| arrival[r].is_none()) {
                if entering[r] || (decide[r] >= now && decide[r] < now + horizon) {
                    volume[self.routes[r].links[at[r]]] += counts[r] as f64 * weight;
                }
            }
            for r in (0..n).filter(|&r| entering[r]) {
                let link = self.routes[r].links[at[r]];
                decide[r] = (now + game.waiting_steps(link, volume[link])).min(never);
            }
        }
        let times = arrival.into_iter().map(|a| a.unwrap_or_else(|| game.missed_cost())).collect();
        (times, decisions)
    }

    /// Each route's travel time under `counts`.
    pub fn route_times(&self, counts: &[usize]) -> Vec<f64> {
        self.simulate(counts).0
    }

    /// The even split: each entry's vehicles spread over its routes, the remainder to the first.
    pub fn even_split(&self) -> Vec<usize> {
        let mut counts = vec![0; self.routes.len()];
        for (mine, &vehicles) in self.entry_routes.iter().zip(&self.entry_vehicles) {
            for (k, &r) in mine.iter().enumerate() {
                counts[r] = vehicles / mine.len() + usize::from(k < vehicles % mine.len());
            }
        }
        counts
    }

    /// What the m-th of the vehicles moving from `from` to `to` gains by its move.
    fn mover_gain(&self, counts: &[usize], from: usize, to: usize, m: usize) -> f64 {
        let mut before = counts.to_vec();
        before[from] -= m - 1;
        before[to] += m - 1;
        let stay = self.route_times(&before)[from];
        before[from] -= 1;
        before[to] += 1;
        stay - self.route_times(&before)[to]
    }

    /// The single deviation that gains most: (from, to, gain).
    fn best_deviation(&self, counts: &[usize]) -> Option<(usize, usize, f64)> {
        let mut best: Option<(usize, usize, f64)> = None;
        for from in (0..self.routes.len()).filter(|&r| counts[r] > 0) {
            for &to in self.entry_routes[self.routes[from].entry].iter().filter(|&&r| r != from) {
                let gain = self.mover_gain(counts, from, to, 1);
                if best.is_none_or(|b| gain > b.2) {
                    best = Some((from, to, gain));
                }
            }
        }
        best
    }

    /// Best-response dynamics from the even split, at most `max_rounds` deviations; they stop
    /// early if they cycle.
    pub fn best_response_dynamics(&self, max_rounds: usize, tolerance: f64) -> NPlayerEquilibrium {
        self.best_response_dynamics_from(self.even_split(), max_rounds, tolerance)
    }

    /// Best-response dynamics from `counts`.
    pub fn best_response_dynamics_from(&self, mut counts: Vec<usize>, max_rounds: usize, tolerance: f64) -> NPlayerEquilibrium {
        let mut seen = HashSet::new();
        let mut rounds = 0;
        let (converged, max_gain) = loop {
            let Some((from, to, gain)) = self.best_deviation(&counts) else { break (true, 0.0) };
            if gain <= tolerance || rounds == max_rounds || !seen.insert(counts.clone()) {
                break (gain <= tolerance, gain.max(0.0));
            }
            let gains = |m: usize| m <= counts[from] && self.mover_gain(&counts, from, to, m) > tolerance;
            let mut moved = 1;
            while gains(2 * moved) {
                moved *= 2;
            }
            let mut beyond = 2 * moved;
            while beyond - moved > 1 {
                let mid = (moved + beyond) / 2;
                if gains(mid) {
                    moved = mid;
                } else {
                    beyond = mid;
                }
            }
            counts[from] -= moved;
            counts[to] += moved;
            rounds += 1;
        };
        let cycled = !converged && rounds < max_rounds;
        self.profile(counts, max_gain, converged, cycled, rounds)
    }

    fn profile(&self, counts: Vec<usize>, max_gain: f64, converged: bool, cycled: bool, rounds: usize) -> NPlayerEquilibrium {
        let route_times = self.route_times(&counts);
        let travel_time = counts.iter().zip(&route_times).map(|(&c, &t)| c as f64 * t).sum::<f64>() / self.vehicles as f64;
        NPlayerEquilibrium { counts, route_times, travel_time, max_gain, converged, cycled, rounds }
    }

    /// The largest gain any single vehicle gets by switching route under `counts`.
    pub fn max_gain(&self, counts: &[usize]) -> f64 {
        self.best_deviation(counts).map_or(0.0, |(_, _, gain)| gain.max(0.0))
    }

    /// Every pure equilibrium, by checking every profile — or `None` when there are more than
    /// `max_profiles` profiles. What settles whether a game where the dynamics cycle has one.
    pub fn pure_equilibria(&self, max_profiles: usize, tolerance: f64) -> Option<Vec<NPlayerEquilibrium>> {
        let mut profiles = 1usize;
        for (routes, &n) in self.entry_routes.iter().zip(&self.entry_vehicles) {
            // Compositions of n into k parts: C(n + k − 1, k − 1), stopped past the cap.
            let k = routes.len();
            let mut c = 1usize;
            for i in 1..k {
                c = c.checked_mul(n + i)? / i;
                if c > max_profiles {
                    return None;
                }
            }
            profiles = profiles.checked_mul(c).filter(|&p| p <= max_profiles)?;
        }
        let lo = vec![0; self.routes.len()];
        let hi: Vec<usize> = self.routes.iter().map(|r| self.entry_vehicles[r.entry]).collect();
        Some(self.equilibria_between(&lo, &hi, tolerance))
    }

    /// The pure equilibria within `radius` vehicles per route of `center` (a profile): the other
    /// equilibria near one found by the dynamics, when N is too large to check every profile.
    pub fn equilibria_near(&self, center: &[usize], radius: usize, tolerance: f64) -> Vec<NPlayerEquilibrium> {
        let lo: Vec<usize> = center.iter().map(|&c| c.saturating_sub(radius)).collect();
        let hi: Vec<usize> = center.iter().map(|&c| c + radius).collect();
        self.equilibria_between(&lo, &hi, tolerance)
    }

    fn equilibria_between(&self, lo: &[usize], hi: &[usize], tolerance: f64) -> Vec<NPlayerEquilibrium> {
        let mut found = Vec::new();
        let mut counts = vec![0; self.routes.len()];
        let mut visit = |counts: &[usize]| {
            let gain = self.max_gain(counts);
            if gain <= tolerance {
                found.push(self.profile(counts.to_vec(), gain, true, false, 0));
            }
        };
        self.each_profile((lo, hi), 0, 0, &mut counts, &mut visit);
        found
    }

    /// Calls `visit` with every way to spread each entry's vehicles over its routes with
    /// `lo[r] ≤ counts[r] ≤ hi[r]`.
    fn each_profile(
        &self,
        (lo, hi): (&[usize], &[usize]),
        entry: usize,
        k: usize,
        counts: &mut [usize],
        visit: &mut impl FnMut(&[usize]),
    ) {
        if entry == self.entry_routes.len() {
            return visit(counts);
        }
        let routes = &self.entry_routes[entry];
        let left = self.entry_vehicles[entry] - routes[..k].iter().map(|&r| counts[r]).sum::<usize>();
        let r = routes[k];
        if k + 1 == routes.len() {
            if (lo[r]..=hi[r]).contains(&left) {
                counts[r] = left;
                self.each_profile((lo, hi), entry + 1, 0, counts, visit);
            }
            return;
        }
        for c in lo[r]..=hi[r].min(left) {
            counts[r] = c;
            self.each_profile((lo, hi), entry, k + 1, counts, visit);
        }
    }

    /// The action each vehicle of one env takes at each step where some vehicle decides, when
    /// vehicles take routes by `counts` (an entry's vehicles in order, route by route): what the
    /// GPU env needs to play the profile. Steps not listed have no decisions.
    pub fn actions_by_step(&self, counts: &[usize]) -> BTreeMap<usize, Vec<i32>> {
        let (_, decisions) = self.simulate(counts);
        let entries = self.game.vehicle_entries(self.vehicles);
        let mut taken = vec![0usize; self.routes.len()];
        let mut by_step: BTreeMap<usize, Vec<i32>> = BTreeMap::new();
        for (vehicle, &entry) in entries.iter().enumerate() {
            let Some(&route) = self.entry_routes[entry].iter().find(|&&r| taken[r] < counts[r]) else { continue };
            taken[route] += 1;
            for d in &decisions[route] {
                by_step.entry(d.step).or_insert_with(|| vec![0; self.vehicles])[vehicle] = d.choice as i32;
            }
        }
        by_step
    }
}

/// Calls `found` with every simple path (by links) from `path`'s last link to `destination`;
/// stops when `found` returns false.
fn paths(game: &RoutingGame, destination: usize, path: &mut Vec<usize>, found: &mut impl FnMut(&[usize]) -> bool) -> bool {
    let last = *path.last().expect("a path starts at its origin");
    if last == destination {
        return found(path);
    }
    for &next in &game.network.successors[last] {
        let node = &game.network.links[next].to;
        let revisits = path.iter().any(|&l| game.network.links[l].from == *node) || path.contains(&next);
        if revisits {
            continue;
        }
        path.push(next);
        let more = paths(game, destination, path, found);
        path.pop();
        if !more {
            return false;
        }
    }
    true
}
