// Adam with global gradient-norm clipping, one parameter tensor per launch, one invocation per
// element: burn's Adam (`burn_optim::Adam`) and the clip, ~17 tensor ops per parameter tensor,
// become one launch that reads each element once.
//
// `scalars` holds the squared norms of every gradient tensor of the model (slots 0..N_PARAMS,
// written by grad_norm.wgsl) followed by [lr, combined_factor, epsilon_term] as burn computes
// them on the host (bias corrections included). The arithmetic follows burn's order:
// m' = β₁m + (1−β₁)g, v' = β₂v + (1−β₂)g², p' = p − lr·(m'·cf / (√v' + ε·√bc₂)). Needs grid.wgsl
// and adam_bindings.wgsl.

const LEN: u32 = {{len}}u;
const N_PARAMS: u32 = {{n_params}}u;
const BETA_1: f32 = {{beta_1}};
const BETA_2: f32 = {{beta_2}};
const CLIP: bool = {{clip}};
const MAX_NORM: f32 = {{max_norm}};


@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let i = linear_index(workgroup_id, local_id, num_workgroups);
    if (i >= LEN) {
        return;
    }
    var g = grad[i];
    if (CLIP) {
        var squares = 0.0;
        for (var k = 0u; k < N_PARAMS; k++) {
            squares += scalars[k];
        }
        let scale = min((1.0 / (sqrt(squares) + 1e-6)) * MAX_NORM, 1.0);
        g = g * scale;
    }
    let lr = scalars[N_PARAMS];
    let combined_factor = scalars[N_PARAMS + 1u];
    let epsilon_term = scalars[N_PARAMS + 2u];
    let m = moment_1[i] * BETA_1 + g * (1.0 - BETA_1);
    let v = moment_2[i] * BETA_2 + (g * g) * (1.0 - BETA_2);
    moment_1_out[i] = m;
    moment_2_out[i] = v;
    param_out[i] = param[i] - (m * combined_factor / (sqrt(v) + epsilon_term)) * lr;
}
