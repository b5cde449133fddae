// Linear invocation index on a 2-D workgroup grid.
//
// One grid dimension stops at 65,535 workgroups, so large batches are launched as an x*y grid
// (src/gpu/kernel.rs: `grid`). Invocations past the end of the batch must return early.
fn linear_index(workgroup_id: vec3<u32>, local_id: vec3<u32>, num_workgroups: vec3<u32>) -> u32 {
    return (workgroup_id.x + workgroup_id.y * num_workgroups.x) * {{workgroup_size}}u + local_id.x;
}
