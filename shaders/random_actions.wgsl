// Uniformly random actions, sampled on the device (benchmarks, random baselines, policy noise).
//
// One invocation per (env, agent), so a single env of a million agents is as parallel as a
// million envs of one. Agent i of env e at call c takes the draws i·WIDTH .. (i+1)·WIDTH − 1 of
// the stream (seed, e, c): the actions depend only on (seed, env, agent, call), never on the batch
// size. The call number is one device-side counter that the host advances with a tensor add.
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

@group(0) @binding(0) var<storage, read_write> calls: array<u32>;
@group(0) @binding(1) var<storage, read_write> next_calls: array<u32>;
@group(0) @binding(2) var<storage, read_write> actions: array<{{action_type}}>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (index >= N_ENVS * N) {
        return;
    }
    let env = index / N;
    let agent = index % N;
    let call = calls[0];
    if (index == 0u) {
        next_calls[0] = call + 1u;
    }
    var rng = rng_stream(SEED_LO, SEED_HI, env, call);
    if (CONTINUOUS) {
        // Draw k of the stream is component k % 4 of block k / 4.
        for (var c = 0u; c < WIDTH; c++) {
            let k = agent * WIDTH + c;
            rng.counter = k >> 2u;
            let draw = unit_f32(rng_next4(&rng))[k & 3u];
            actions[index * WIDTH + c] = {{action_type}}(LOW + (HIGH - LOW) * draw);
        }
    } else {
        rng.counter = agent >> 2u;
        let bits = rng_next4(&rng)[agent & 3u];
        // Multiply-shift maps 32 random bits to [0, WIDTH) without modulo bias worth noting.
        actions[index] = {{action_type}}(u64_mul_hi(bits, WIDTH));
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
