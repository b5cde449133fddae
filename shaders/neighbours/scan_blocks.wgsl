// Stage 2a: the agent count of each block of BLOCK cells.
@group(0) @binding(0) var<storage, read_write> cell_count: array<u32>;
@group(0) @binding(1) var<storage, read_write> block_sum: array<u32>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (index >= N_ENVS * BLOCKS) {
        return;
    }
    let env = index / BLOCKS;
    let first = (index % BLOCKS) * BLOCK;
    var sum = 0u;
    for (var c = first; c < min(first + BLOCK, CELLS); c++) {
        sum += cell_count[env * CELLS + c];
    }
    block_sum[index] = sum;
}
