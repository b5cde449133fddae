// `swarm`: K agents per env in a square world, each heading for its own goal through a crowd.
//
// Agent i picks one of 5 actions (no-op, −x, +x, −y, +y, as in MPE) that accelerates it; velocity
// is damped and capped, positions are clamped to the world (walls). Its reward is its progress
// toward its goal minus a congestion cost proportional to how many agents are within RADIUS:
//     r_i = PROGRESS · (d_before − d_after) − CONGESTION · n_i
// It observes [own velocity (2), vector to goal (2), n_i, neighbours' mean velocity (2),
// neighbours' mean action ā_i (5)] — the crowd only through its local mean field, computed by the
// grid pipeline of shaders/neighbours/ between the `move` and `observe` launches.
//
// One file, four launches selected by the MODE constant (all share one binding list):
//   0 move     — apply actions, integrate, progress reward;
//   1 observe  — congestion cost, episode bookkeeping, observations;
//   2 respawn  — fresh positions and goals for the next episode (or after a reset);
//   3 observe_fresh — observations only, after a respawn.
// Needs grid.wgsl and rng.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const K: u32 = {{agents}}u;
const MODE: u32 = {{mode}}u;
const MAX_CYCLES: u32 = {{max_cycles}}u;
const HALF_EXTENT: f32 = {{half_extent}};
const GOAL_RANGE: f32 = {{goal_range}};
const DT: f32 = 0.1;
const DAMPING: f32 = 0.25;
const ACCEL: f32 = {{accel}};
const MAX_SPEED: f32 = {{max_speed}};
const PROGRESS: f32 = {{progress_weight}};
const CONGESTION: f32 = {{congestion_weight}};
const N_ACTIONS: u32 = 5u;
const FIELD_WIDTH: u32 = 3u + N_ACTIONS;
const OBS_DIM: u32 = 12u;
const COMMAND_RESET: i32 = 1;

// [step in episode, episode, seed lo, seed hi, command, 0, 0, 0]
@group(0) @binding(0) var<storage, read_write> clock: array<i32>;
// [envs·K] in 0..5; others are no-ops, counted as invalid.
@group(0) @binding(1) var<storage, read_write> actions: array<i32>;
// [envs·K] (position, velocity)
@group(0) @binding(2) var<storage, read_write> agent_state: array<vec4<f32>>;
// [envs·K] (goal position, distance to goal, 0)
@group(0) @binding(3) var<storage, read_write> goal: array<vec4<f32>>;
// [envs·K·8] the neighbourhood mean field: count, mean velocity, mean action
@group(0) @binding(4) var<storage, read_write> field: array<f32>;
// [envs·K·12]
@group(0) @binding(5) var<storage, read_write> obs: array<f32>;
// [envs·K]
@group(0) @binding(6) var<storage, read_write> reward: array<f32>;
// [envs·K] (return of the running episode, invalid actions)
@group(0) @binding(7) var<storage, read_write> agent_acc: array<vec2<f32>>;
// [2·envs]: done, then truncated
@group(0) @binding(8) var<storage, read_write> flags: array<f32>;

fn move_agent(index: u32) {
    let a = actions[index];
    let valid = a >= 0 && a < i32(N_ACTIONS);
    // Branch-free action decoding: 1/2 move along x, 3/4 along y.
    let dir = vec2<f32>(select(0.0, 1.0, a == 2) - select(0.0, 1.0, a == 1), select(0.0, 1.0, a == 4) - select(0.0, 1.0, a == 3));
    let s = agent_state[index];
    var vel = s.zw * (1.0 - DAMPING) + dir * ACCEL * DT;
    let speed = length(vel);
    vel = vel * select(1.0, MAX_SPEED / max(speed, 1e-12), speed > MAX_SPEED);
    let pos = clamp(s.xy + vel * DT, vec2<f32>(-HALF_EXTENT), vec2<f32>(HALF_EXTENT));
    agent_state[index] = vec4<f32>(pos, vel);
    let g = goal[index];
    let distance = length(g.xy - pos);
    goal[index] = vec4<f32>(g.xy, distance, 0.0);
    reward[index] = PROGRESS * (g.z - distance);
    let acc = agent_acc[index];
    agent_acc[index] = vec2<f32>(acc.x, acc.y + select(1.0, 0.0, valid));
}

fn write_obs(index: u32) {
    let s = agent_state[index];
    let g = goal[index];
    let f = index * FIELD_WIDTH;
    let o = index * OBS_DIM;
    obs[o] = s.z;
    obs[o + 1u] = s.w;
    obs[o + 2u] = g.x - s.x;
    obs[o + 3u] = g.y - s.y;
    for (var c = 0u; c < FIELD_WIDTH; c++) {
        obs[o + 4u + c] = field[f + c];
    }
}

fn observe(index: u32) {
    let step = u32(clock[0]);
    let r = reward[index] - CONGESTION * field[index * FIELD_WIDTH];
    reward[index] = r;
    let acc = agent_acc[index];
    // The first step of an episode starts the running return over; the last leaves it complete.
    agent_acc[index] = vec2<f32>(select(acc.x, 0.0, step == 0u) + r, acc.y);
    if (index % K == 0u) {
        let ends = step + 1u == MAX_CYCLES;
        let env = index / K;
        flags[env] = select(0.0, 1.0, ends);
        flags[N_ENVS + env] = select(0.0, 1.0, ends);
    }
    write_obs(index);
}

fn respawn(index: u32) {
    let env = index / K;
    let resetting = clock[4] == COMMAND_RESET;
    let episode = select(u32(clock[1]) + 1u, u32(clock[1]), resetting);
    var rng = rng_stream(bitcast<u32>(clock[2]), bitcast<u32>(clock[3]), env, episode);
    rng.counter = index % K;
    let u = rng_uniform4(&rng, -1.0, 1.0);
    let start = u.xy * HALF_EXTENT;
    let goal_pos = clamp(start + u.zw * GOAL_RANGE, vec2<f32>(-HALF_EXTENT), vec2<f32>(HALF_EXTENT));
    agent_state[index] = vec4<f32>(start, 0.0, 0.0);
    goal[index] = vec4<f32>(goal_pos, length(goal_pos - start), 0.0);
    if (resetting) {
        agent_acc[index] = vec2<f32>(0.0);
        reward[index] = 0.0;
        if (index % K == 0u) {
            flags[env] = 0.0;
            flags[N_ENVS + env] = 0.0;
        }
    }
}

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
    // MODE is a constant: the compiler keeps one branch.
    if (MODE == 0u) {
        move_agent(index);
    } else if (MODE == 1u) {
        observe(index);
    } else if (MODE == 2u) {
        respawn(index);
    } else {
        write_obs(index);
    }
}
