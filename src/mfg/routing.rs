//! The mean-field dynamic routing game (Cabannes et al., AAMAS 2022; OpenSpiel's
//! `python_mfg_dynamic_routing`): a population of vehicles, each choosing its next link at every
//! node, where the time to cross a link depends on how many vehicles are on it.
//!
//! **Dynamics, step for step as OpenSpiel's.** Time runs in steps of `time_step` up to
//! `time_steps` (T). A vehicle on a link decides at the step its waiting time runs out: it
//! enters one of the successor links at once, and at the next step is given a waiting time
//! `max(0, ⌊t_link(v) / time_step⌋ − 1)`, where `v` is the number of vehicles on that link *at
//! that step* — its own population included, every vehicle on the link counted whether it has
//! just entered or is waiting (those whose waiting time is T or more are not, as in OpenSpiel's
//! distribution support). Entering the destination link at step t is arriving, with travel time
//! `t · time_step`; a vehicle that has not arrived by step T, or that entered a sink that is not
//! its destination, costs `(T + 1) · time_step`. The reward is minus the travel time.
//!
//! **State.** A vehicle is (link, destination, the step it will next decide). The population's
//! distribution over those states is pushed forward exactly: mass, not samples. The step at which
//! mass decides is the state instead of a countdown, so one pass per step moves only the mass
//! that decides; the waiting times of those still counted are read off the step index.
//!
//! **One difference from OpenSpiel, on purpose:** OpenSpiel truncates `t_link / time_step` with
//! `int()`. A sum of probabilities that should be 0.75 can come out one ulp short, and the
//! truncation then drops a whole step (1.75 / 0.05 → 34.999…). shoal adds 1e-9 steps before
//! flooring, so link times that are whole numbers of steps stay whole. On every network shipped
//! the two agree wherever OpenSpiel's own sums are exact (its Braess test values are reproduced).
//!
//! **Why the host, in f64.** The mean-field form has T · destinations · links states (Sioux
//! Falls: 81 × 24 × 124 ≈ 241 k), pushed forward and valued in milliseconds on one core; WGSL has
//! no portable f64, and the checks are exact to 1e-4 only in f64 (the step function above turns
//! a float error in a density into a whole time step). The N-player form, where the work grows
//! with the vehicles, is the one that belongs on the device.

use super::network::{Demand, Network, NetworkFile};
use super::solve::{Evaluation, MeanFieldGame, TabularPolicy};
use crate::error::{Result, ShoalError};

/// Added (in steps) before flooring a link's travel time: see the module doc.
const STEP_ROUNDING: f64 = 1e-9;

/// Most time steps a routing game may have (a bound on memory and on the `--time-steps` flag).
pub const MAX_TIME_STEPS: usize = 100_000;
/// Most (step, destination, link) states: the push-forward holds twice this many f64s.
pub const MAX_STATES: usize = 1 << 24;

/// The mean-field routing game on one network.
#[derive(Debug, Clone)]
pub struct RoutingGame {
    pub network: Network,
    pub demand: Vec<Demand>,
    /// Length of a step, in the network's time unit.
    pub time_step: f64,
    /// T: steps per episode.
    pub time_steps: usize,
    /// Total vehicles (the mass is normalised to 1; volumes multiply by this).
    pub vehicles: f64,
    /// The distinct destination links; a vehicle's destination is an index into this.
    pub destinations: Vec<usize>,
    /// `slot[l]`: where link `l`'s successor choices start in a (step, destination) block.
    slot: Vec<usize>,
    /// Successor choices per (step, destination) block.
    block: usize,
}

/// The population's distribution over a whole episode under one policy.
#[derive(Debug, Clone)]
pub struct RoutingDistribution {
    /// `wait[t][l]`: the waiting time given to a vehicle that enters link `l` at step `t`.
    pub wait: Vec<Vec<usize>>,
    /// `volume[t][l]`: vehicles on link `l` at step `t` (as counted for the waiting time).
    pub volume: Vec<Vec<f64>>,
    /// `deciding[(t · D + d) · L + l]`: mass deciding on link `l` at step `t`, destination `d`.
    pub deciding: Vec<f64>,
    /// Expected travel time (non-arrivals counted at `(T + 1) · time_step`).
    pub travel_time: f64,
    /// Share of the vehicles that reached their destination.
    pub arrived: f64,
}

impl RoutingGame {
    /// The game on a network file, with its own time step and horizon unless overridden.
    pub fn new(file: &NetworkFile, time_step: Option<f64>, time_steps: Option<usize>) -> Result<Self> {
        let time_step = time_step.unwrap_or(file.time_step);
        let time_steps = time_steps.unwrap_or(file.time_steps);
        if !(time_step.is_finite() && time_step > 0.0) {
            return Err(ShoalError::config("time_step", time_step, "must be a positive number"));
        }
        if time_steps == 0 || time_steps > MAX_TIME_STEPS {
            return Err(ShoalError::config("time_steps", time_steps, format!("must be in 1..={MAX_TIME_STEPS}")));
        }
        let (network, demand) = file.build()?;
        let mut destinations: Vec<usize> = demand.iter().map(|d| d.destination).collect();
        destinations.sort_unstable();
        destinations.dedup();
        let mut slot = Vec::with_capacity(network.links.len());
        let mut block = 0;
        for succ in &network.successors {
            slot.push(block);
            block += succ.len();
        }
        let states = time_steps.saturating_mul(destinations.len()).saturating_mul(network.links.len().max(block));
        if states > MAX_STATES {
            return Err(ShoalError::config(
                "time_steps",
                time_steps,
                format!("{time_steps} steps × {} destinations × {} links is over {MAX_STATES} states; use fewer steps (a longer time_step)", destinations.len(), network.links.len()),
            ));
        }
        let vehicles = demand.iter().map(|d| d.vehicles).sum();
        Ok(Self { network, demand, time_step, time_steps, vehicles, destinations, slot, block })
    }

    /// A built-in network or a network file, at its own time step and horizon.
    pub fn load(name_or_path: &str) -> Result<Self> {
        Self::new(&NetworkFile::load(name_or_path)?, None, None)
    }

    fn links(&self) -> usize {
        self.network.links.len()
    }

    /// The cost of not arriving: `(T + 1) · time_step`.
    pub fn missed_cost(&self) -> f64 {
        (self.time_steps + 1) as f64 * self.time_step
    }

    /// Where the choices of link `l` at step `t` for destination `d` start in a policy.
    pub fn choice_index(&self, t: usize, d: usize, l: usize) -> usize {
        (t * self.destinations.len() + d) * self.block + self.slot[l]
    }

    /// The step at which mass that starts as demand entry `od` first decides.
    pub(crate) fn first_decision(&self, od: &Demand) -> usize {
        (od.departure_time / self.time_step + STEP_ROUNDING).floor() as usize
    }

    fn destination_index(&self, link: usize) -> usize {
        self.destinations.binary_search(&link).expect("destinations hold every demand's destination")
    }

    /// Which demand entry each of `vehicles` vehicles of the N-player game belongs to: vehicle `i`
    /// takes the entry whose share of the demand covers `(i + ½) / vehicles`, so every entry gets
    /// its share, rounded.
    pub fn vehicle_entries(&self, vehicles: usize) -> Vec<usize> {
        let mut entries = Vec::with_capacity(vehicles);
        let mut entry = 0;
        let mut covered = self.demand[0].vehicles / self.vehicles;
        for i in 0..vehicles {
            let position = (i as f64 + 0.5) / vehicles as f64;
            while position > covered && entry + 1 < self.demand.len() {
                entry += 1;
                covered += self.demand[entry].vehicles / self.vehicles;
            }
            entries.push(entry);
        }
        entries
    }

    /// The waiting time on link `l` with `volume` vehicles on it.
    pub(crate) fn waiting_steps(&self, l: usize, volume: f64) -> usize {
        let steps = (self.network.travel_time(l, volume) / self.time_step + STEP_ROUNDING).floor();
        if steps.is_finite() { (steps.max(1.0) - 1.0).min((2 * self.time_steps) as f64) as usize } else { 2 * self.time_steps }
    }

    /// The policy that sends each population down fixed shares: `share(t, d, l, k)` for the k-th
    /// successor of link `l` (normalised here).
    pub fn policy_from(&self, share: impl Fn(usize, usize, usize, usize) -> f64) -> TabularPolicy {
        let mut probs = vec![0.0; self.policy_len()];
        for t in 0..self.time_steps {
            for d in 0..self.destinations.len() {
                for (l, succ) in self.network.successors.iter().enumerate() {
                    let at = self.choice_index(t, d, l);
                    let raw: Vec<f64> = (0..succ.len()).map(|k| share(t, d, l, k).max(0.0)).collect();
                    let total: f64 = raw.iter().sum();
                    for (k, r) in raw.iter().enumerate() {
                        probs[at + k] = if total > 0.0 { r / total } else { 1.0 / succ.len() as f64 };
                    }
                }
            }
        }
        TabularPolicy { probs }
    }

    /// Pushes the population forward through a whole episode under `policy`.
    pub fn push_forward(&self, policy: &TabularPolicy) -> RoutingDistribution {
        let (links, dests, horizon) = (self.links(), self.destinations.len(), self.time_steps);
        let never = 2 * horizon - 1;
        // pending[(τ · D + d) · L + l]: mass on link l, destination d, that decides at step τ.
        let mut pending = vec![0.0; (never + 1) * dests * links];
        for od in &self.demand {
            let tau = self.first_decision(od).min(never);
            pending[(tau * dests + self.destination_index(od.destination)) * links + od.origin] += od.vehicles / self.vehicles;
        }
        let mut deciding = vec![0.0; horizon * dests * links];
        let mut wait = vec![vec![0; links]; horizon + 1];
        let mut volume = vec![vec![0.0; links]; horizon + 1];
        let (mut arrival_cost, mut arrived) = (0.0, 0.0);
        let mut entering = vec![0.0; dests * links];
        let pending_on = |pending: &[f64], tau: usize, l: usize| (0..dests).map(|d| pending[(tau * dests + d) * links + l]).sum::<f64>();
        // counted[l]: mass on link l deciding within the window [n, n + T − 1] of the current
        // step n (waiting time below T), slid by one step at a time: O(T·D·L) in all.
        let mut counted: Vec<f64> = (0..links).map(|l| (0..horizon).map(|tau| pending_on(&pending, tau, l)).sum()).collect();
        for t in 0..horizon {
            entering.iter_mut().for_each(|m| *m = 0.0);
            for d in 0..dests {
                for (l, succ) in self.network.successors.iter().enumerate() {
                    let m = pending[(t * dests + d) * links + l];
                    deciding[(t * dests + d) * links + l] = m;
                    if m == 0.0 {
                        continue;
                    }
                    let at = self.choice_index(t, d, l);
                    for (k, &next) in succ.iter().enumerate() {
                        let moved = m * policy.probs[at + k];
                        if next == self.destinations[d] {
                            arrival_cost += moved * t as f64 * self.time_step;
                            arrived += moved;
                        } else if !self.network.successors[next].is_empty() {
                            entering[d * links + next] += moved;
                        }
                    }
                }
            }
            let now = t + 1;
            if now == horizon {
                break;
            }
            for (l, c) in counted.iter_mut().enumerate() {
                *c += pending_on(&pending, t + horizon, l) - pending_on(&pending, t, l);
            }
            for l in 0..links {
                let on_link: f64 = (0..dests).map(|d| entering[d * links + l]).sum::<f64>() + counted[l];
                volume[now][l] = on_link * self.vehicles;
                wait[now][l] = self.waiting_steps(l, volume[now][l]);
                let tau = (now + wait[now][l]).min(never);
                let mut added = 0.0;
                for d in 0..dests {
                    pending[(tau * dests + d) * links + l] += entering[d * links + l];
                    added += entering[d * links + l];
                }
                if tau < now + horizon {
                    counted[l] += added;
                }
            }
        }
        let travel_time = arrival_cost + (1.0 - arrived) * self.missed_cost();
        RoutingDistribution { wait, volume, deciding, travel_time, arrived }
    }

    /// The value of entering link `next` at step `now` for destination `d`, given the values
    /// `decide[(τ · D + d) · L + l]` of the steps after `now`.
    fn entry_value(&self, dist: &RoutingDistribution, decide: &[f64], now: usize, d: usize, next: usize) -> f64 {
        if next == self.destinations[d] {
            return -((now - 1) as f64) * self.time_step;
        }
        if self.network.successors[next].is_empty() || now >= self.time_steps {
            return -self.missed_cost();
        }
        let tau = now + dist.wait[now][next];
        if tau >= self.time_steps {
            return -self.missed_cost();
        }
        decide[(tau * self.destinations.len() + d) * self.links() + next]
    }
}

impl MeanFieldGame for RoutingGame {
    type Distribution = RoutingDistribution;

    fn policy_len(&self) -> usize {
        self.time_steps * self.destinations.len() * self.block
    }

    fn decision_states(&self) -> Vec<std::ops::Range<usize>> {
        let mut states = Vec::new();
        for t in 0..self.time_steps {
            for d in 0..self.destinations.len() {
                for (l, succ) in self.network.successors.iter().enumerate() {
                    if !succ.is_empty() {
                        let at = self.choice_index(t, d, l);
                        states.push(at..at + succ.len());
                    }
                }
            }
        }
        states
    }

    fn distribution(&self, policy: &TabularPolicy) -> RoutingDistribution {
        self.push_forward(policy)
    }

    fn state_mass(&self, dist: &RoutingDistribution) -> Vec<f64> {
        let links = self.links();
        let mut mass = Vec::new();
        for t in 0..self.time_steps {
            for d in 0..self.destinations.len() {
                for (l, succ) in self.network.successors.iter().enumerate() {
                    if !succ.is_empty() {
                        mass.push(dist.deciding[(t * self.destinations.len() + d) * links + l]);
                    }
                }
            }
        }
        mass
    }

    /// Backward induction against the link times `dist` fixes: the action values of every
    /// decision state, and the value of the initial distribution under `policy` (or under the
    /// best response when `policy` is `None`).
    fn evaluate(&self, dist: &RoutingDistribution, policy: Option<&TabularPolicy>) -> Evaluation {
        let (links, dests) = (self.links(), self.destinations.len());
        let mut decide = vec![0.0; self.time_steps * dests * links];
        let mut action_values = vec![0.0; self.policy_len()];
        for t in (0..self.time_steps).rev() {
            for d in 0..dests {
                for (l, succ) in self.network.successors.iter().enumerate() {
                    if succ.is_empty() {
                        continue;
                    }
                    let at = self.choice_index(t, d, l);
                    let mut value = if policy.is_some() { 0.0 } else { f64::NEG_INFINITY };
                    for (k, &next) in succ.iter().enumerate() {
                        let q = self.entry_value(dist, &decide, t + 1, d, next);
                        action_values[at + k] = q;
                        value = match policy {
                            Some(p) => value + p.probs[at + k] * q,
                            None => value.max(q),
                        };
                    }
                    decide[(t * dests + d) * links + l] = value;
                }
            }
        }
        let value = self
            .demand
            .iter()
            .map(|od| {
                let tau = self.first_decision(od);
                let v = if tau >= self.time_steps {
                    -self.missed_cost()
                } else {
                    decide[(tau * dests + self.destination_index(od.destination)) * links + od.origin]
                };
                v * od.vehicles / self.vehicles
            })
            .sum();
        Evaluation { action_values, value }
    }
}
