// Sum of squares of one gradient tensor into one slot of the norm buffer (global-norm clipping).
//
// One workgroup strides over the whole tensor and reduces in workgroup memory: a network's
// gradients are thousands of elements, so one launch per parameter tensor with no atomics is
// enough, and the fused Adam kernel (adam.wgsl) adds the slots up itself. Needs
// grad_square_sum.wgsl.

const LEN: u32 = {{len}}u;
const SLOT: u32 = {{slot}}u;

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> squares: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) local_id: vec3<u32>) {
    let total = grad_square_sum(local_id.x);
    if (local_id.x == 0u) {
        squares[SLOT] = total;
    }
}
