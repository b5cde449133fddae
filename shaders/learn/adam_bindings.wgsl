// The bindings of the fused Adam kernels (adam.wgsl, adam_clip_each.wgsl): a parameter tensor,
// its gradient and moments, the step's scalars, and the three updated tensors.

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> moment_1: array<f32>;
@group(0) @binding(3) var<storage, read_write> moment_2: array<f32>;
@group(0) @binding(4) var<storage, read_write> scalars: array<f32>;
@group(0) @binding(5) var<storage, read_write> param_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> moment_1_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> moment_2_out: array<f32>;
