// Stage 5: copy each agent's state and action into its slot of the cell-sorted list, so the
// gather reads neighbours from contiguous memory. (Agents are numbered in spawn order, which
// is random in space: reading them by index misses the cache on every neighbour once a swarm
// outgrows it — 10× slower per agent at a million agents on a CPU adapter.)
@group(0) @binding(0) var<storage, read_write> agent_state: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> actions: array<i32>;
@group(0) @binding(2) var<storage, read_write> sorted_agents: array<u32>;
@group(0) @binding(3) var<storage, read_write> sorted_state: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> sorted_actions: array<i32>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let slot = linear_index(workgroup_id, local_id, num_workgroups);
    if (slot >= N_ENVS * K) {
        return;
    }
    let env = slot / K;
    let agent = env * K + sorted_agents[slot];
    sorted_state[slot] = agent_state[agent];
    sorted_actions[slot] = actions[agent];
}
