// Sum of squares of one gradient tensor into one slot of the norm buffer (global-norm clipping).
//
// One workgroup strides over the whole tensor and reduces in workgroup memory: a network's
// gradients are thousands of elements, so one launch per parameter tensor with no atomics is
// enough, and the fused Adam kernel (adam.wgsl) adds the slots up itself.

const LEN: u32 = {{len}}u;
const SLOT: u32 = {{slot}}u;
const THREADS: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> squares: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) local_id: vec3<u32>) {
    var sum = 0.0;
    for (var i = local_id.x; i < LEN; i += THREADS) {
        let g = grad[i];
        sum += g * g;
    }
    partial[local_id.x] = sum;
    workgroupBarrier();
    for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
        if (local_id.x < stride) {
            partial[local_id.x] += partial[local_id.x + stride];
        }
        workgroupBarrier();
    }
    if (local_id.x == 0u) {
        squares[SLOT] = partial[0];
    }
}
