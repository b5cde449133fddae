// Uniformly random actions, sampled on the device (benchmarks, random baselines, smoke tests).
//
// One invocation per env writes all of its agents' actions. Each env keeps its own draw counter,
// so the actions env i gets depend only on (seed, i, call number), not on the batch size.
// Needs grid.wgsl and rng.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const N: u32 = {{n_agents}}u;
// Discrete: number of actions. Continuous: vector length.
const WIDTH: u32 = {{width}}u;
const CONTINUOUS: bool = {{continuous}};
const LOW: f32 = {{low}};
const HIGH: f32 = {{high}};
const SEED_LO: u32 = {{seed_lo}}u;
const SEED_HI: u32 = {{seed_hi}}u;

@group(0) @binding(0) var<storage, read_write> draw_counter: array<u32>;
@group(0) @binding(1) var<storage, read_write> actions: array<{{action_type}}>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let env = linear_index(workgroup_id, local_id, num_workgroups);
    if (env >= N_ENVS) {
        return;
    }
    let call = draw_counter[env];
    draw_counter[env] = call + 1u;
    var rng = rng_stream(SEED_LO, SEED_HI, env, call);
    if (CONTINUOUS) {
        for (var k = 0u; k < N * WIDTH; k += 4u) {
            let draw = rng_uniform4(&rng, LOW, HIGH);
            for (var c = 0u; c < 4u && k + c < N * WIDTH; c++) {
                actions[env * N * WIDTH + k + c] = {{action_type}}(draw[c]);
            }
        }
    } else {
        for (var i = 0u; i < N; i += 4u) {
            let draw = rng_next4(&rng);
            for (var c = 0u; c < 4u && i + c < N; c++) {
                // Multiply-shift maps 32 random bits to [0, WIDTH) without modulo bias worth noting.
                let action = u32((u64_mul_hi(draw[c], WIDTH)));
                actions[env * N + i + c] = {{action_type}}(action);
            }
        }
    }
}

// High 32 bits of a 32×32-bit product (WGSL has no 64-bit integers).
fn u64_mul_hi(a: u32, b: u32) -> u32 {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_hi = a_hi * b_hi;
    let cross = (lo_lo >> 16u) + (hi_lo & 0xFFFFu) + lo_hi;
    return hi_hi + (hi_lo >> 16u) + (cross >> 16u);
}
