// Stage 6: each agent's neighbourhood within RADIUS (itself excluded), from the 3×3 cells around
// it: neighbour count, mean velocity, mean one-hot action (the mean action ā of mean-field RL).
// Invocations run over the cell-sorted slots, so neighbouring invocations read the same cells.
// Output row per agent (in agent order): [count, mean vx, mean vy, ā_0 … ā_{N_ACTIONS−1}].
@group(0) @binding(0) var<storage, read_write> sorted_state: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> sorted_actions: array<i32>;
@group(0) @binding(2) var<storage, read_write> cell_count: array<u32>;
@group(0) @binding(3) var<storage, read_write> cell_start: array<u32>;
@group(0) @binding(4) var<storage, read_write> sorted_agents: array<u32>;
@group(0) @binding(5) var<storage, read_write> field: array<f32>;

const WIDTH: u32 = 3u + N_ACTIONS;

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
    let pos = sorted_state[slot].xy;
    let home = cell_coords(pos);
    var count = 0u;
    var velocity = vec2<f32>(0.0);
    var action_counts: array<u32, N_ACTIONS>;
    for (var a = 0u; a < N_ACTIONS; a++) {
        action_counts[a] = 0u;
    }
    for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
            let c = home + vec2<i32>(dx, dy);
            if (c.x < 0 || c.y < 0 || c.x >= i32(SIDE) || c.y >= i32(SIDE)) {
                continue;
            }
            let cell = env * CELLS + u32(c.y) * SIDE + u32(c.x);
            let first = env * K + cell_start[cell];
            for (var i = first; i < first + cell_count[cell]; i++) {
                let state = sorted_state[i];
                let d = state.xy - pos;
                let near = i != slot && dot(d, d) < RADIUS * RADIUS;
                count += select(0u, 1u, near);
                velocity += select(vec2<f32>(0.0), state.zw, near);
                let a = u32(clamp(sorted_actions[i], 0, i32(N_ACTIONS) - 1));
                action_counts[a] += select(0u, 1u, near);
            }
        }
    }
    let inv = select(0.0, 1.0 / f32(count), count > 0u);
    let row = (env * K + sorted_agents[slot]) * WIDTH;
    field[row] = f32(count);
    field[row + 1u] = velocity.x * inv;
    field[row + 2u] = velocity.y * inv;
    for (var a = 0u; a < N_ACTIONS; a++) {
        field[row + 3u + a] = f32(action_counts[a]) * inv;
    }
}
