// Stage 2b: exclusive prefix sums of the block counts, one env per invocation.
@group(0) @binding(0) var<storage, read_write> block_sum: array<u32>;

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
    var running = 0u;
    for (var b = 0u; b < BLOCKS; b++) {
        let count = block_sum[env * BLOCKS + b];
        block_sum[env * BLOCKS + b] = running;
        running += count;
    }
}
