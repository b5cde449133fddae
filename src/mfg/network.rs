//! Road networks: directed links with BPR travel-time functions, origin–destination demand, and
//! the JSON file format they are read from.
//!
//! A link `A->B` takes `t0 · (1 + a · (v / c)^b)` to cross when `v` vehicles are on it (the U.S.
//! Bureau of Public Roads function, as in OpenSpiel's `dynamic_routing_utils.Network`). Vehicles
//! start *on* a link (their origin, e.g. `O->A`) and have arrived when they enter their
//! destination link (e.g. `D->E`); a link whose end node has no successors is a sink, and a
//! vehicle that enters a sink other than its destination never arrives.
//!
//! The file format (`examples/networks/*.json`) is small enough to write by hand:
//!
//! ```json
//! { "name": "braess", "time_step": 0.05, "time_steps": 100,
//!   "nodes": {"O": [0, 0], "A": [1, 0], ...},
//!   "links": [{"from": "A", "to": "B", "free_flow_time": 1.0, "bpr_a": 1.0, "bpr_b": 1.0, "capacity": 5}, ...],
//!   "demand": [{"origin": "O->A", "destination": "D->E", "departure_time": 0, "vehicles": 5}] }
//! ```
//!
//! `nodes` (positions for drawing), `description` and `source` are optional. Links are numbered
//! in the order of the file; every check (unknown nodes, duplicate links, non-finite or negative
//! coefficients, an origin that is not a link, a destination that cannot be reached) happens at
//! load time and names the offending entry.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, ShoalError};

/// The networks shipped with shoal, by name (`shoal mfg --game NAME`).
pub const BUILTIN_NETWORKS: [(&str, &str); 5] = [
    ("braess", include_str!("../../examples/networks/braess.json")),
    ("braess_without_bc", include_str!("../../examples/networks/braess_without_bc.json")),
    ("pigou", include_str!("../../examples/networks/pigou.json")),
    ("sioux_falls", include_str!("../../examples/networks/sioux_falls.json")),
    ("sioux_falls_dummy", include_str!("../../examples/networks/sioux_falls_dummy.json")),
];

/// Most links, nodes and demand entries a network file may hold (a bound on memory, far above
/// Sioux Falls's 124 links).
pub const MAX_NETWORK_ITEMS: usize = 100_000;

/// One road as written in a network file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub from: String,
    pub to: String,
    /// `t0`: the time to cross the empty link.
    pub free_flow_time: f64,
    /// BPR `a` (0: the travel time does not depend on the traffic).
    #[serde(default)]
    pub bpr_a: f64,
    /// BPR `b`, the power of `v / c`.
    #[serde(default = "one")]
    pub bpr_b: f64,
    /// `c`, in vehicles.
    #[serde(default = "one")]
    pub capacity: f64,
}

fn one() -> f64 {
    1.0
}

/// Vehicles that share an origin link, a destination link and a departure time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandSpec {
    /// A link `"A->B"`: the vehicles start on it.
    pub origin: String,
    /// A link `"D->E"`: entering it is arriving.
    pub destination: String,
    /// In the time unit of `free_flow_time`.
    #[serde(default)]
    pub departure_time: f64,
    pub vehicles: f64,
}

/// A network file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub source: String,
    /// Length of a time step, in the time unit of `free_flow_time`.
    pub time_step: f64,
    /// Number of time steps in an episode.
    pub time_steps: usize,
    #[serde(default)]
    pub nodes: BTreeMap<String, [f64; 2]>,
    pub links: Vec<LinkSpec>,
    pub demand: Vec<DemandSpec>,
}

/// A checked road network: links by index, each with its end node's successor links.
#[derive(Debug, Clone)]
pub struct Network {
    pub name: String,
    pub links: Vec<LinkSpec>,
    /// `successors[l]`: the links leaving the node link `l` ends at (empty: `l` is a sink).
    pub successors: Vec<Vec<usize>>,
    /// Drawing positions by node name (may be empty).
    pub positions: BTreeMap<String, [f64; 2]>,
}

impl Network {
    /// The link called `"A->B"`.
    pub fn link(&self, name: &str) -> Option<usize> {
        self.links.iter().position(|l| format!("{}->{}", l.from, l.to) == name)
    }

    /// `"A->B"` for link `l`.
    pub fn link_name(&self, l: usize) -> String {
        format!("{}->{}", self.links[l].from, self.links[l].to)
    }

    /// The BPR travel time of link `l` with `volume` vehicles on it.
    pub fn travel_time(&self, l: usize, volume: f64) -> f64 {
        let link = &self.links[l];
        let ratio = volume / link.capacity;
        link.free_flow_time * (1.0 + link.bpr_a * ratio.powf(link.bpr_b))
    }

    /// Which links can reach link `target` (including itself), by a backward search.
    fn reaching(&self, target: usize) -> Vec<bool> {
        let mut entering: HashMap<&str, Vec<usize>> = HashMap::new();
        for (k, link) in self.links.iter().enumerate() {
            entering.entry(link.to.as_str()).or_default().push(k);
        }
        let mut reach = vec![false; self.links.len()];
        reach[target] = true;
        let mut queue = VecDeque::from([target]);
        while let Some(l) = queue.pop_front() {
            for &k in entering.get(self.links[l].from.as_str()).into_iter().flatten() {
                if !reach[k] {
                    reach[k] = true;
                    queue.push_back(k);
                }
            }
        }
        reach
    }
}

/// Where a group of vehicles starts and ends, by link index.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    pub origin: usize,
    pub destination: usize,
    pub departure_time: f64,
    pub vehicles: f64,
}

impl NetworkFile {
    /// Parses a network file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| ShoalError::BadInput {
            path: origin.to_string(),
            line: e.line(),
            message: format!("not a network file ({e}); see examples/networks/braess.json for the format"),
        })
    }

    /// A built-in network by name, or a JSON file by path.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some((_, text)) = BUILTIN_NETWORKS.iter().find(|(name, _)| *name == name_or_path) {
            return Self::parse(text, name_or_path);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            let names: Vec<&str> = BUILTIN_NETWORKS.iter().map(|(n, _)| *n).collect();
            return Err(ShoalError::config(
                "game",
                name_or_path,
                format!("is neither a built-in network ({}) nor a network file", names.join(", ")),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| ShoalError::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Checks the file and builds the network and its demand.
    pub fn build(&self) -> Result<(Network, Vec<Demand>)> {
        let bad = |what: String| ShoalError::config("network", &self.name, what);
        if self.links.is_empty() || self.demand.is_empty() {
            return Err(bad("needs at least one link and one demand entry".into()));
        }
        if self.links.len() + self.demand.len() + self.nodes.len() > MAX_NETWORK_ITEMS {
            return Err(bad(format!("has more than {MAX_NETWORK_ITEMS} links, nodes and demand entries")));
        }
        let mut by_name = HashMap::new();
        for (i, link) in self.links.iter().enumerate() {
            let name = format!("{}->{}", link.from, link.to);
            let finite = [link.free_flow_time, link.bpr_a, link.bpr_b, link.capacity].iter().all(|v| v.is_finite());
            if !finite || link.free_flow_time < 0.0 || link.bpr_a < 0.0 || link.bpr_b < 0.0 || link.capacity <= 0.0 {
                return Err(bad(format!(
                    "link {name}: free_flow_time, bpr_a and bpr_b must be finite and ≥ 0, capacity > 0"
                )));
            }
            if by_name.insert(name.clone(), i).is_some() {
                return Err(bad(format!("link {name} appears twice (parallel links are not supported)")));
            }
        }
        if !self.nodes.is_empty() {
            if let Some(l) = self.links.iter().find(|l| !self.nodes.contains_key(&l.from) || !self.nodes.contains_key(&l.to)) {
                return Err(bad(format!("link {}->{} uses a node missing from \"nodes\"", l.from, l.to)));
            }
        }
        let mut leaving: HashMap<&str, Vec<usize>> = HashMap::new();
        for (k, link) in self.links.iter().enumerate() {
            leaving.entry(link.from.as_str()).or_default().push(k);
        }
        let successors = self.links.iter().map(|l| leaving.get(l.to.as_str()).cloned().unwrap_or_default()).collect();
        let network = Network { name: self.name.clone(), links: self.links.clone(), successors, positions: self.nodes.clone() };
        let mut demand = Vec::with_capacity(self.demand.len());
        let mut reaching: HashMap<usize, Vec<bool>> = HashMap::new();
        for d in &self.demand {
            let find = |link: &str, role: &str| {
                by_name.get(link).copied().ok_or_else(|| bad(format!("the {role} {link} is not a link of the network")))
            };
            let (origin, destination) = (find(&d.origin, "origin")?, find(&d.destination, "destination")?);
            if origin == destination {
                return Err(bad(format!("demand {} → {}: origin and destination are the same link", d.origin, d.destination)));
            }
            if !(d.vehicles.is_finite() && d.vehicles > 0.0 && d.departure_time.is_finite() && d.departure_time >= 0.0) {
                return Err(bad(format!("demand {} → {}: vehicles must be > 0 and departure_time ≥ 0", d.origin, d.destination)));
            }
            if !reaching.entry(destination).or_insert_with(|| network.reaching(destination))[origin] {
                return Err(bad(format!("demand {} → {}: the destination cannot be reached from the origin", d.origin, d.destination)));
            }
            demand.push(Demand { origin, destination, departure_time: d.departure_time, vehicles: d.vehicles });
        }
        Ok((network, demand))
    }
}
