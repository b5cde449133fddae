// Stage 4: sort each cell's segment by agent index. Arrival order (from atomics) varies from run
// to run; sorted segments make every later sum run in the same order, so results are
// bit-reproducible. Segments are short (the mean occupancy of a cell), so insertion sort it is.
@group(0) @binding(0) var<storage, read_write> cell_count: array<u32>;
@group(0) @binding(1) var<storage, read_write> cell_start: array<u32>;
@group(0) @binding(2) var<storage, read_write> sorted_agents: array<u32>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (index >= N_ENVS * CELLS) {
        return;
    }
    let env = index / CELLS;
    let first = env * K + cell_start[index];
    let count = cell_count[index];
    for (var i = 1u; i < count; i++) {
        let agent = sorted_agents[first + i];
        var j = i;
        while (j > 0u && sorted_agents[first + j - 1u] > agent) {
            sorted_agents[first + j] = sorted_agents[first + j - 1u];
            j -= 1u;
        }
        sorted_agents[first + j] = agent;
    }
}
