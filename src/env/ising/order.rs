//! The order parameter ⟨|m|⟩ against temperature, measured on a batch of lattices (all
//! temperatures in one batch, everything on the device until the final read): the Metropolis
//! curve here, MF-Q's in `train::mfq`; with the steepest drop as a finite-size estimate of the
//! transition and Curie–Weiss theory as the mean-field reference.

use std::sync::Arc;

use burn::tensor::Tensor;

use super::{Energy, InitialSpins, Metropolis};
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;

/// One temperature's equilibrium measurement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderPoint {
    /// Temperature T.
    pub temperature: f64,
    /// ⟨|m|⟩: mean absolute magnetisation per site over measurements and lattices.
    pub order_parameter: f64,
    /// Susceptibility per site, L²·(⟨m²⟩ − ⟨|m|⟩²)/T.
    pub susceptibility: f64,
}

/// Averages `|m|` and `m²` of a `[temperatures × replicas]` batch over `measurements` device-side
/// samples; `sample` advances the chain and returns the magnetisations `[envs]`.
pub fn accumulate_order(
    ctx: &GpuContext,
    temperatures: &[f32],
    replicas: usize,
    sites: usize,
    measurements: usize,
    mut sample: impl FnMut() -> Result<Tensor<1>>,
) -> Result<Vec<OrderPoint>> {
    let envs = temperatures.len() * replicas;
    let mut abs_sum = Tensor::<1>::zeros([envs], ctx.device());
    let mut sq_sum = Tensor::<1>::zeros([envs], ctx.device());
    for _ in 0..measurements {
        let m = sample()?;
        abs_sum = abs_sum + m.clone().abs();
        sq_sum = sq_sum + m.powi_scalar(2);
    }
    let abs = ctx.read_f32(abs_sum)?;
    let sq = ctx.read_f32(sq_sum)?;
    let n = (measurements * replicas) as f64;
    Ok(temperatures
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let rows = i * replicas..(i + 1) * replicas;
            let m_abs = abs[rows.clone()].iter().map(|&x| x as f64).sum::<f64>() / n;
            let m_sq = sq[rows].iter().map(|&x| x as f64).sum::<f64>() / n;
            OrderPoint {
                temperature: t as f64,
                order_parameter: m_abs,
                // f32 sums can leave m² a hair below |m|² when the lattice barely fluctuates.
                susceptibility: (sites as f64 * (m_sq - m_abs * m_abs) / t as f64).max(0.0),
            }
        })
        .collect())
}

/// The temperature of every env of an order-parameter batch: `replicas` lattices per
/// temperature, in order; checks there is something to measure.
pub fn temperature_per_env(temperatures: &[f32], replicas: usize, measurements: usize) -> Result<Vec<f32>> {
    if replicas == 0 || measurements == 0 || temperatures.is_empty() {
        return Err(ShoalError::config("replicas/measurements/temperatures", 0, "need at least one of each"));
    }
    Ok(temperatures.iter().flat_map(|&t| std::iter::repeat_n(t, replicas)).collect())
}


/// The Curie–Weiss (mean-field) magnetisation at `temperature` for a heat bath on `energy`:
/// every site sees its z = 4 neighbours only through the lattice's mean spin, so
/// m = tanh(4·J·m / T) with J the chain's coupling (T_c = 4J). MF-Q agents moving all at once
/// learn exactly this field (BENCHMARKS.md, the Ising section).
pub fn curie_weiss_magnetisation(temperature: f64, energy: Energy) -> f64 {
    let gain = 4.0 * energy.coupling() as f64 / temperature;
    if gain <= 1.0 {
        return 0.0;
    }
    // m − tanh(gain·m) is negative on (0, m*) and positive above: bisect.
    let (mut low, mut high) = (1e-12, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (low + high);
        if mid < (gain * mid).tanh() { low = mid } else { high = mid }
    }
    0.5 * (low + high)
}

/// An order-parameter measurement: `replicas` lattices of side `size` per temperature, all in
/// one batch; `equilibration` sweeps (or learning steps) first, then `measurements` more, one
/// sample of |m| each.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderCurve {
    /// Lattice side L.
    pub size: usize,
    /// Temperatures, one curve point each.
    pub temperatures: Vec<f32>,
    /// Lattices per temperature.
    pub replicas: usize,
    /// Sweeps or steps before measuring.
    pub equilibration: usize,
    /// Sweeps or steps measured.
    pub measurements: usize,
    /// Seed of every random draw.
    pub seed: u64,
    /// The lattices' first spins. Ordered: below T_c the run then only has to melt, never to
    /// coarsen domains (which at L = 64 takes far more sweeps than equilibrating).
    pub initial: InitialSpins,
}

/// Metropolis order parameter vs temperature under `energy`. `progress` is called after every
/// sweep with the sweeps done.
pub fn order_parameter_curve(ctx: &Arc<GpuContext>, curve: &OrderCurve, energy: Energy, mut progress: impl FnMut(usize)) -> Result<Vec<OrderPoint>> {
    let OrderCurve { size, ref temperatures, replicas, equilibration, measurements, seed, initial } = *curve;
    let per_env = temperature_per_env(temperatures, replicas, measurements)?;
    let mut chain = Metropolis::new(ctx.clone(), size, &per_env, energy.coupling(), 0.0, initial, seed)?;
    for sweep in 0..equilibration {
        chain.sweep()?;
        progress(sweep + 1);
    }
    let mut done = equilibration;
    accumulate_order(ctx, temperatures, replicas, size * size, measurements, || {
        chain.sweep()?;
        done += 1;
        progress(done);
        Ok(chain.magnetisation())
    })
}

/// Where the order parameter falls fastest: the midpoint of the steepest drop between adjacent
/// temperatures (sorted), a finite-size estimate of the transition temperature.
pub fn steepest_drop(points: &[OrderPoint]) -> Option<f64> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.temperature.total_cmp(&b.temperature));
    sorted
        .windows(2)
        .map(|w| {
            let slope = (w[1].order_parameter - w[0].order_parameter) / (w[1].temperature - w[0].temperature);
            (slope, 0.5 * (w[0].temperature + w[1].temperature))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, t)| t)
}
