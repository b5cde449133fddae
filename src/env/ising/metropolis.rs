//! Metropolis Monte Carlo on the Ising lattices: the physics reference for MF-Q
//! (`shaders/ising_metropolis.wgsl`, checkerboard updates, one temperature per lattice), and
//! [`Energy`], which of two energies it samples — the lattice's (Onsager's T_c = 2.269) or each
//! site's own reward (T_c = 1.135), the one the Mean Field MARL paper compares MF-Q with.

use std::sync::Arc;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::{Int, Tensor};

use super::{check_fits, lattice_constants, Ising, IsingConfig, ISING_METROPOLIS_WGSL, LATTICE_WGSL, ONSAGER_TC};
use crate::env::BatchedEnv;
use crate::error::{Result, ShoalError};
use crate::gpu::kernel::{GRID_WGSL, RNG_WGSL};
use crate::gpu::{float_buffer, float_tensor, int_buffer, GpuContext, WgslKernel};

/// How a Metropolis chain (or an order-parameter curve's lattices) starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitialSpins {
    /// Every spin +1 (the ground state): fastest to equilibrate below T_c.
    Ordered,
    /// A fair coin per site.
    Random,
}

/// Checkerboard Metropolis Monte Carlo on a batch of lattices, one temperature per lattice.
pub struct Metropolis {
    ctx: Arc<GpuContext>,
    n_envs: usize,
    size: usize,
    colours: [WgslKernel; 2],
    spins: CubeTensor,
    temperature: CubeTensor,
    clock: Tensor<1, Int>,
    tick: Tensor<1, Int>,
}

impl Metropolis {
    /// Lattices of side `size` at `temperatures` (one per lattice), coupling J and field h.
    pub fn new(
        ctx: Arc<GpuContext>,
        size: usize,
        temperatures: &[f32],
        coupling: f32,
        field: f32,
        initial: InitialSpins,
        seed: u64,
    ) -> Result<Metropolis> {
        let n_envs = temperatures.len();
        IsingConfig::new(n_envs).with_size(size).with_coupling(coupling).with_field(field).validate()?;
        if let Some(t) = temperatures.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
            return Err(ShoalError::config("temperature", t, "temperatures must be positive"));
        }
        check_fits(&ctx, n_envs, size * size)?;
        let colours = [0, 1].map(|colour| {
            let mut constants = lattice_constants(n_envs, size, coupling, field, 0.0);
            constants.push(("color", colour.to_string()));
            WgslKernel::new("ising_metropolis", &[GRID_WGSL, RNG_WGSL, LATTICE_WGSL, ISING_METROPOLIS_WGSL], &constants)
        });
        let device = ctx.device().clone();
        let sites = size * size;
        let spins = match initial {
            InitialSpins::Ordered => Tensor::<2>::ones([n_envs, sites], &device),
            InitialSpins::Random => {
                // The env's own initial lattice (episode 0 of `seed`), so both start alike.
                let mut env = Ising::new(ctx.clone(), IsingConfig::new(n_envs).with_size(size))?;
                env.reset(seed)?;
                env.spins()
            }
        };
        let clock = ctx.upload_i32(&[0, seed as u32 as i32, (seed >> 32) as u32 as i32, 0], [4])?;
        Ok(Metropolis {
            spins: float_buffer(spins)?,
            temperature: float_buffer(ctx.upload_f32(temperatures, [n_envs])?)?,
            tick: ctx.upload_i32(&[1, 0, 0, 0], [4])?,
            clock,
            colours,
            n_envs,
            size,
            ctx,
        })
    }

    /// One sweep: every site offered a flip once (two launches, one per colour).
    pub fn sweep(&mut self) -> Result<()> {
        let clock = int_buffer(self.clock.clone())?;
        for kernel in &self.colours {
            kernel.launch(&self.ctx, self.n_envs * self.size * self.size / 2, &[&clock, &self.spins, &self.temperature]);
        }
        self.clock = self.clock.clone() + self.tick.clone();
        Ok(())
    }

    /// The spins `[envs, sites]` (±1), on the device.
    pub fn spins(&self) -> Tensor<2> {
        float_tensor(self.spins.clone())
    }

    /// Magnetisation per site of each lattice, `[envs]`, on the device.
    pub fn magnetisation(&self) -> Tensor<1> {
        self.spins().mean_dim(1).squeeze_dim(1)
    }
}


/// Whose energy the Metropolis reference samples. The env rewards site j with
/// `(J/2)·s_j·Σ_k s_k`, so the lattice's energy H = −J·Σ_⟨jk⟩ s_j s_k is minus the sum of the
/// rewards, but a site's own reward changes by only half of H's change when it flips: a
/// Boltzmann policy over its own reward is a heat bath at twice the temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Energy {
    /// The lattice's H: ΔE = 2J·s·Σ s_k, the textbook chain; T_c = 2.269 (Onsager).
    Total,
    /// The flipping site's own reward: ΔE = J·s·Σ s_k, the chain at coupling J/2; T_c = 1.135.
    /// The Mean Field MARL paper's MCMC reference (its Curie temperature, ≈ 1.2 at its sizes).
    Own,
}

impl Energy {
    /// `total` or `own`.
    pub fn name(self) -> &'static str {
        match self {
            Energy::Total => "total",
            Energy::Own => "own",
        }
    }

    /// The coupling of the Metropolis chain for an env of coupling 1.
    pub fn coupling(self) -> f32 {
        match self {
            Energy::Total => 1.0,
            Energy::Own => 0.5,
        }
    }

    /// The infinite-lattice transition temperature under this energy.
    pub fn critical_temperature(self) -> f64 {
        ONSAGER_TC * self.coupling() as f64
    }
}
