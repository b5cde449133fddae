// Generalised advantage estimation, one invocation per sample stream (every agent of every env).
//
// The backward recursion over T steps runs inside one invocation, so a whole rollout's advantages
// cost one launch instead of T × 6 small tensor ops. `done[t] = 1` means the episode ended with
// step t: nothing is bootstrapped across it. Time-limit bootstraps are already in the rewards
// (src/train/gae.rs). Needs grid.wgsl before it.

const STEPS: u32 = {{steps}}u;
const STREAMS: u32 = {{streams}}u;
const GAMMA: f32 = {{gamma}};
const GAMMA_LAMBDA: f32 = {{gamma_lambda}};

// [T, B] each; last_value [B].
@group(0) @binding(0) var<storage, read_write> rewards: array<f32>;
@group(0) @binding(1) var<storage, read_write> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> dones: array<f32>;
@group(0) @binding(3) var<storage, read_write> last_value: array<f32>;
@group(0) @binding(4) var<storage, read_write> advantages: array<f32>;
@group(0) @binding(5) var<storage, read_write> returns: array<f32>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let stream = linear_index(workgroup_id, local_id, num_workgroups);
    if (stream >= STREAMS) {
        return;
    }
    var next_value = last_value[stream];
    var next_advantage = 0.0;
    for (var k = 0u; k < STEPS; k++) {
        let i = (STEPS - 1u - k) * STREAMS + stream;
        let alive = 1.0 - dones[i];
        let value = values[i];
        let delta = rewards[i] + next_value * alive * GAMMA - value;
        let advantage = delta + next_advantage * alive * GAMMA_LAMBDA;
        advantages[i] = advantage;
        returns[i] = advantage + value;
        next_advantage = advantage;
        next_value = value;
    }
}
