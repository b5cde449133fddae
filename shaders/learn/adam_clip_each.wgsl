// Adam with each parameter tensor's gradient clipped to its own L2 norm — burn's
// `GradientClipping::Norm`, which is the MADDPG paper's `clip_by_norm` per variable — in one
// launch per tensor: the norm needs the whole tensor before any element moves, so one workgroup
// sums the squares (strided, then a tree in workgroup memory) and the same workgroup then
// updates every element. The off-policy learners' networks are a few thousand parameters per
// tensor, so one workgroup is enough; it replaces ≈19 tensor ops per tensor.
//
// `scalars` holds [lr, combined_factor, epsilon_term] as burn computes them on the host. The
// arithmetic follows burn's order: g ← g · min(max_norm / (‖g‖ + MIN_POSITIVE), 1), then as
// adam.wgsl. Needs adam_bindings.wgsl and grad_square_sum.wgsl.

const LEN: u32 = {{len}}u;
const BETA_1: f32 = {{beta_1}};
const BETA_2: f32 = {{beta_2}};
const MAX_NORM: f32 = {{max_norm}};
const THREADS: u32 = 64u;
// f32's smallest positive normal number, burn's guard against a zero norm.
const MIN_POSITIVE: f32 = 1.17549435e-38;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) local_id: vec3<u32>) {
    let scale = min(MAX_NORM / (sqrt(grad_square_sum(local_id.x)) + MIN_POSITIVE), 1.0);
    let lr = scalars[0];
    let combined_factor = scalars[1];
    let epsilon_term = scalars[2];
    for (var i = local_id.x; i < LEN; i += THREADS) {
        let g = grad[i] * scale;
        let m = moment_1[i] * BETA_1 + g * (1.0 - BETA_1);
        let v = moment_2[i] * BETA_2 + (g * g) * (1.0 - BETA_2);
        moment_1_out[i] = m;
        moment_2_out[i] = v;
        param_out[i] = param[i] - (m * combined_factor / (sqrt(v) + epsilon_term)) * lr;
    }
}
