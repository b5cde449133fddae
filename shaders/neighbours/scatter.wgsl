// Stage 3: agents into their cell's segment of the env's agent list (in arrival order).
@group(0) @binding(0) var<storage, read_write> agent_bin: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> cell_start: array<u32>;
@group(0) @binding(2) var<storage, read_write> sorted_agents: array<u32>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (index >= N_ENVS * K) {
        return;
    }
    let env = index / K;
    let bin = agent_bin[index];
    sorted_agents[env * K + cell_start[env * CELLS + bin.x] + bin.y] = index % K;
}
