// Stage 1: count agents per cell; each agent remembers its cell and its arrival slot in it.
@group(0) @binding(0) var<storage, read_write> agent_state: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> cell_count: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> agent_bin: array<vec2<u32>>;

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
    let cell = cell_of(agent_state[index].xy);
    let slot = atomicAdd(&cell_count[env * CELLS + cell], 1u);
    agent_bin[index] = vec2<u32>(cell, slot);
}
