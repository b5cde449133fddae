//! Hand-written WGSL kernels, templated and launched on burn's compute client.
//!
//! A [`WgslKernel`] is the text of one compute shader: the shared WGSL library files it needs
//! (`shaders/rng.wgsl`, `shaders/mpe_physics.wgsl`, ...) followed by the env's own file, with
//! `{{name}}` placeholders filled once at construction (agent counts, reward weights, workgroup
//! size). Compile-time constants let the WGSL compiler unroll the per-agent loops; a kernel is
//! compiled once per configuration and cached by burn under the hash of its final text.
//!
//! Launching goes through burn's template API (`SourceKernel`) on the tensors' own buffers:
//! no copy, no flush, ordered on burn's stream with everything the learner does.
//!
//! WGSL contract: the entry point is `main`; bindings are `@group(0) @binding(i)` in the order the
//! buffers are passed, all `var<storage, read_write>` (burn sub-allocates tensors from shared wgpu
//! buffers, and one buffer cannot be bound read-only and writable in the same dispatch); every
//! declared binding must be used (the pipeline layout is derived from the shader); workgroups form a 2-D grid (see [`grid`]) because one dimension stops at 65,535.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use burn::backend::wgpu::{CubeDim, CubeTensor, KernelSource, SourceTemplate};
use burn::cubecl::ir::metadata::Info;
use burn::cubecl::ir::{ElemType, Scope, UIntKind};
use burn::cubecl::prelude::{ExecutionMode, KernelDefinition, KernelId, KernelMetadata, KernelSettings};
use burn::cubecl::server::KernelArguments;
use burn::cubecl::{CubeCount, CubeKernel, PrecompiledSource};

use super::context::GpuContext;

/// Shared WGSL: counter-based random numbers.
pub const RNG_WGSL: &str = include_str!("../../shaders/rng.wgsl");
/// Shared WGSL: the MPE physics helpers (contact force, integration).
pub const MPE_PHYSICS_WGSL: &str = include_str!("../../shaders/mpe_physics.wgsl");
/// Shared WGSL: the 2-D launch grid → linear invocation index helper.
pub const GRID_WGSL: &str = include_str!("../../shaders/grid.wgsl");

/// Threads per workgroup for shoal's 1-D kernels.
pub const WORKGROUP_SIZE: u32 = 64;

/// One compiled-once WGSL compute shader.
#[derive(Clone)]
pub struct WgslKernel {
    label: &'static str,
    source: Arc<str>,
    source_hash: u64,
    workgroup_size: u32,
}

impl WgslKernel {
    /// Concatenates `parts` (library files first, then the kernel's own file), fills the
    /// placeholders (`workgroup_size` is added) and fixes the text.
    pub fn new(label: &'static str, parts: &[&str], constants: &[(&str, String)]) -> Self {
        let mut template = SourceTemplate::new(String::new());
        for part in parts {
            template = template.add_template(*part);
        }
        template = template.register("workgroup_size", WORKGROUP_SIZE.to_string());
        for (name, value) in constants {
            template = template.register(*name, value.clone());
        }
        let source: Arc<str> = template.complete().into();
        let mut hasher = DefaultHasher::new();
        source.hash(&mut hasher);
        WgslKernel {
            label,
            source_hash: hasher.finish(),
            source,
            workgroup_size: WORKGROUP_SIZE,
        }
    }

    /// Launches with `size` threads per workgroup instead of [`WORKGROUP_SIZE`]; the shader must
    /// declare the same `@workgroup_size` (kernels whose threads cooperate through workgroup
    /// memory, one thread per hidden unit for instance).
    pub fn with_workgroup_size(mut self, size: u32) -> Self {
        self.workgroup_size = size;
        self
    }

    /// The final WGSL text (for debugging and for validation in tests).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Queues the kernel over `invocations` threads with `buffers` bound in order.
    /// Lazy like every burn op: errors surface at the next read of an output.
    pub fn launch(&self, ctx: &GpuContext, invocations: usize, buffers: &[&CubeTensor]) {
        let bindings = buffers
            .iter()
            .map(|t| t.handle.clone().binding())
            .collect::<Vec<_>>();
        let (x, y) = grid(invocations, self.workgroup_size);
        ctx.client().launch(
            Box::new(Unchecked { kernel: self.clone(), cube_dim: CubeDim::new_1d(self.workgroup_size) }),
            CubeCount::Static(x, y, 1),
            KernelArguments::new().with_buffers(bindings),
        );
    }
}

impl KernelSource for WgslKernel {
    fn source(&self) -> SourceTemplate {
        SourceTemplate::new(self.source.to_string())
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info((self.label, self.source_hash))
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// A [`WgslKernel`] as cubecl launches it, in unchecked mode.
///
/// burn's `SourceKernel` launches templates in checked mode, and for WGSL that makes wgpu compile
/// the module with `force_loop_bounding`: naga adds a guard counter to every loop, which keeps
/// LLVM (lavapipe) from unrolling and vectorising them. The learner's kernels are loops over
/// weights and rows and ran several times slower for it. Every shoal kernel bounds its own
/// indices (each returns early past the end of its batch, and loops run to constants), which is
/// what unchecked mode asks of it; wgpu's bounds checks are off in both modes.
struct Unchecked {
    kernel: WgslKernel,
    cube_dim: CubeDim,
}

impl KernelMetadata for Unchecked {
    fn id(&self) -> KernelId {
        self.kernel.id()
    }

    fn address_type(&self) -> ElemType {
        UIntKind::U32.into()
    }
}

impl CubeKernel for Unchecked {
    fn define(&self) -> KernelDefinition {
        // The text is the kernel: the definition only carries the settings.
        let settings = KernelSettings::new(self.cube_dim.0, ExecutionMode::Unchecked, burn::cubecl::ir::AddressType::U32);
        KernelDefinition { body: Scope::root(settings.clone()), settings, info: Info::default() }
    }

    fn source(&self) -> Option<PrecompiledSource> {
        Some(PrecompiledSource { source: self.kernel.source.to_string(), entrypoint_name: "main".to_string(), lang: "wgsl" })
    }
}

/// Workgroup grid `(x, y)` covering `invocations` threads, `x ≤ 65,535`.
/// `shaders/grid.wgsl` turns `(workgroup_id, num_workgroups)` back into the linear index.
pub fn grid(invocations: usize, workgroup_size: u32) -> (u32, u32) {
    let groups = invocations.div_ceil(workgroup_size as usize).max(1);
    const MAX_X: usize = 65_535;
    if groups <= MAX_X {
        (groups as u32, 1)
    } else {
        let y = groups.div_ceil(MAX_X);
        (groups.div_ceil(y) as u32, y as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn grid_covers_every_invocation_within_limits() {
        for n in [1usize, 63, 64, 65, 4_194_240, 4_194_305, 64_000_000] {
            let (x, y) = grid(n, 64);
            assert!(x <= 65_535 && y <= 65_535, "{n}: {x}x{y}");
            assert!((x as usize) * (y as usize) * 64 >= n, "{n}: {x}x{y} too small");
        }
    }
}
