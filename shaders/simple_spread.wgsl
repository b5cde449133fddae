// simple_spread (MPE cooperative navigation), one invocation per environment.
//
// Faithful to PettingZoo's simple_spread_v3 (mpe2 1.1.1; see tests/data/SIMPLE_SPREAD_SPEC.md):
// N agents (radius 0.15) must cover N landmarks. One launch does the whole step: decode actions,
// contact forces, integration, rewards on the post-step state, episode bookkeeping, automatic
// reset at max_cycles and the observations. Fusing them matters: a launch costs ~50 µs on a CPU
// adapter, more than the arithmetic of thousands of envs.
//
// Layout: state and counters are structure-of-arrays (`row * N_ENVS + env`), so neighbouring
// invocations touch neighbouring words (coalesced on GPUs, vector loads on lavapipe). Outputs are
// the tensors the learner wants: obs [envs, agents, obs_dim], reward [envs, agents], done and
// truncated [envs], all f32.
//
// Needs grid.wgsl, rng.wgsl and mpe_physics.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const N: u32 = {{n_agents}}u;
const MAX_CYCLES: u32 = {{max_cycles}}u;
const LOCAL_RATIO: f32 = {{local_ratio}};
const CONTINUOUS: bool = {{continuous}};
const WRITE_TERMINAL: bool = {{write_terminal}};

const AGENT_SIZE: f32 = 0.15;
const ACTION_DIM: u32 = 5u;
// [self_vel 2, self_pos 2, landmark_rel 2N, other_rel 2(N-1), other_comm 2(N-1)]
const OBS_DIM: u32 = 6u * N;
const OBS_PER_ENV: u32 = N * OBS_DIM;
const COMM_OFFSET: u32 = 4u + 2u * N + 2u * (N - 1u);

// state rows (each N_ENVS long): agent_pos x/y, agent_vel x/y, landmark_pos x/y
const ROW_AGENT_POS: u32 = 0u;
const ROW_AGENT_VEL: u32 = 2u * N;
const ROW_LANDMARK_POS: u32 = 4u * N;
// counters rows
const ROW_STEP: u32 = 0u;
const ROW_EPISODE: u32 = 1u;
const ROW_SEED_LO: u32 = 2u;
const ROW_SEED_HI: u32 = 3u;
const ROW_COMMAND: u32 = 4u;
// commands a host call leaves for the next launch
const COMMAND_STEP: u32 = 0u;
const COMMAND_RESET: u32 = 1u;
const COMMAND_OBSERVE: u32 = 2u;
// episode statistics rows (src/env/mod.rs: EpisodeStats)
const STAT_RETURN: u32 = 0u;
const STAT_LENGTH: u32 = 1u;
const STAT_EPISODES: u32 = 2u;
const STAT_RETURN_SUM: u32 = 3u;
const STAT_RETURN_SQ_SUM: u32 = 4u;
const STAT_LENGTH_SUM: u32 = 5u;
const STAT_INVALID_ACTIONS: u32 = 6u;
const STAT_ROWS: u32 = 7u;

@group(0) @binding(0) var<storage, read_write> actions: array<{{action_type}}>;
@group(0) @binding(1) var<storage, read_write> state: array<f32>;
@group(0) @binding(2) var<storage, read_write> counters: array<u32>;
@group(0) @binding(3) var<storage, read_write> episode_stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> obs: array<f32>;
@group(0) @binding(5) var<storage, read_write> reward: array<f32>;
@group(0) @binding(6) var<storage, read_write> done: array<f32>;
@group(0) @binding(7) var<storage, read_write> truncated: array<f32>;
// Observation an episode ended in (before the automatic reset); a 1-word dummy when disabled.
@group(0) @binding(8) var<storage, read_write> terminal_obs: array<f32>;

struct World {
    agent_pos: array<vec2<f32>, N>,
    agent_vel: array<vec2<f32>, N>,
    landmark_pos: array<vec2<f32>, N>,
}

fn load_vec2(row: u32, env: u32) -> vec2<f32> {
    return vec2<f32>(state[row * N_ENVS + env], state[(row + 1u) * N_ENVS + env]);
}

fn store_vec2(row: u32, env: u32, value: vec2<f32>) {
    state[row * N_ENVS + env] = value.x;
    state[(row + 1u) * N_ENVS + env] = value.y;
}

fn load_world(env: u32) -> World {
    var world: World;
    for (var i = 0u; i < N; i++) {
        world.agent_pos[i] = load_vec2(ROW_AGENT_POS + 2u * i, env);
        world.agent_vel[i] = load_vec2(ROW_AGENT_VEL + 2u * i, env);
        world.landmark_pos[i] = load_vec2(ROW_LANDMARK_POS + 2u * i, env);
    }
    return world;
}

fn store_world(env: u32, world: World) {
    for (var i = 0u; i < N; i++) {
        store_vec2(ROW_AGENT_POS + 2u * i, env, world.agent_pos[i]);
        store_vec2(ROW_AGENT_VEL + 2u * i, env, world.agent_vel[i]);
        store_vec2(ROW_LANDMARK_POS + 2u * i, env, world.landmark_pos[i]);
    }
}

// Scenario.reset_world: agents then landmarks uniform in [-1, 1]², velocities zero.
// The stream is keyed by (seed, env, episode) only.
fn spawn_world(env: u32, episode: u32) -> World {
    var rng = rng_stream(counters[ROW_SEED_LO * N_ENVS + env], counters[ROW_SEED_HI * N_ENVS + env], env, episode);
    var world: World;
    for (var i = 0u; i < N; i++) {
        let draw = rng_uniform4(&rng, -1.0, 1.0);
        world.agent_pos[i] = draw.xy;
        world.landmark_pos[i] = draw.zw;
        world.agent_vel[i] = vec2<f32>(0.0);
    }
    return world;
}

// Action force of agent i (SimpleEnv._set_action), and whether the action was valid.
fn action_force(env: u32, i: u32) -> vec3<f32> {
    if (CONTINUOUS) {
        let base = (env * N + i) * ACTION_DIM;
        let movement = mpe_continuous_move(f32(actions[base + 1u]), f32(actions[base + 2u]), f32(actions[base + 3u]), f32(actions[base + 4u]));
        return vec3<f32>(movement * MPE_DEFAULT_SENSITIVITY, 1.0);
    } else {
        let action = i32(actions[env * N + i]);
        if (action < 0 || action >= i32(ACTION_DIM)) {
            // Out of the action space: counted, and treated as no-op.
            return vec3<f32>(0.0, 0.0, 0.0);
        }
        return vec3<f32>(mpe_discrete_move(u32(action)) * MPE_DEFAULT_SENSITIVITY, 1.0);
    }
}

// World.step: action forces, agent–agent contact forces (landmarks do not collide), integration.
// Returns the number of invalid actions seen.
fn physics_step(env: u32, world: ptr<function, World>) -> f32 {
    var force: array<vec2<f32>, N>;
    var invalid = 0.0;
    for (var i = 0u; i < N; i++) {
        let applied = action_force(env, i);
        force[i] = applied.xy;
        invalid += 1.0 - applied.z;
    }
    for (var a = 0u; a < N; a++) {
        for (var b = a + 1u; b < N; b++) {
            let f = mpe_contact_force((*world).agent_pos[a] - (*world).agent_pos[b], 2.0 * AGENT_SIZE);
            force[a] += f;
            force[b] -= f;
        }
    }
    for (var i = 0u; i < N; i++) {
        let body = mpe_integrate(Body((*world).agent_pos[i], (*world).agent_vel[i]), force[i], 1.0, 0.0);
        (*world).agent_pos[i] = body.pos;
        (*world).agent_vel[i] = body.vel;
    }
    return invalid;
}

// Scenario.reward / global_reward on the post-step state, mixed by local_ratio.
fn write_rewards(env: u32, world: World) -> f32 {
    var global_reward = 0.0;
    for (var l = 0u; l < N; l++) {
        var nearest = 3.4e38;
        for (var i = 0u; i < N; i++) {
            nearest = min(nearest, distance(world.agent_pos[i], world.landmark_pos[l]));
        }
        global_reward -= nearest;
    }
    var reward_sum = 0.0;
    for (var i = 0u; i < N; i++) {
        var collisions = 0.0;
        for (var j = 0u; j < N; j++) {
            if (j != i && distance(world.agent_pos[i], world.agent_pos[j]) < 2.0 * AGENT_SIZE) {
                collisions += 1.0;
            }
        }
        let r = global_reward * (1.0 - LOCAL_RATIO) - collisions * LOCAL_RATIO;
        reward[env * N + i] = r;
        reward_sum += r;
    }
    return reward_sum / f32(N);
}

// Scenario.observation for every agent, into `obs` and, when asked, `terminal_obs`.
fn write_observations(env: u32, world: World, to_obs: bool, to_terminal: bool) {
    for (var i = 0u; i < N; i++) {
        let base = env * OBS_PER_ENV + i * OBS_DIM;
        let own = world.agent_pos[i];
        var o: array<f32, OBS_DIM>;
        o[0] = world.agent_vel[i].x;
        o[1] = world.agent_vel[i].y;
        o[2] = own.x;
        o[3] = own.y;
        for (var l = 0u; l < N; l++) {
            let rel = world.landmark_pos[l] - own;
            o[4u + 2u * l] = rel.x;
            o[5u + 2u * l] = rel.y;
        }
        var k = 4u + 2u * N;
        for (var j = 0u; j < N; j++) {
            if (j != i) {
                let rel = world.agent_pos[j] - own;
                o[k] = rel.x;
                o[k + 1u] = rel.y;
                k += 2u;
            }
        }
        // Agents are silent: their communication channels are always zero.
        for (var c = COMM_OFFSET; c < OBS_DIM; c++) {
            o[c] = 0.0;
        }
        for (var c = 0u; c < OBS_DIM; c++) {
            if (to_obs) {
                obs[base + c] = o[c];
            }
            if (WRITE_TERMINAL && to_terminal) {
                terminal_obs[base + c] = o[c];
            }
        }
    }
}

fn stat_index(row: u32, env: u32) -> u32 {
    return row * N_ENVS + env;
}

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
    let command = counters[ROW_COMMAND * N_ENVS + env];
    counters[ROW_COMMAND * N_ENVS + env] = COMMAND_STEP;

    if (command != COMMAND_STEP) {
        // reset(seed) spawns a world from the RNG; set_state(..) keeps the uploaded one.
        var world: World;
        if (command == COMMAND_RESET) {
            world = spawn_world(env, 0u);
            store_world(env, world);
            counters[ROW_EPISODE * N_ENVS + env] = 0u;
        } else {
            world = load_world(env);
        }
        counters[ROW_STEP * N_ENVS + env] = 0u;
        for (var row = 0u; row < STAT_ROWS; row++) {
            episode_stats[stat_index(row, env)] = 0.0;
        }
        for (var i = 0u; i < N; i++) {
            reward[env * N + i] = 0.0;
        }
        done[env] = 0.0;
        truncated[env] = 0.0;
        write_observations(env, world, true, true);
        return;
    }

    var world = load_world(env);
    let invalid = physics_step(env, &world);
    let mean_reward = write_rewards(env, world);

    let step = counters[ROW_STEP * N_ENVS + env] + 1u;
    let episode_return = episode_stats[stat_index(STAT_RETURN, env)] + mean_reward;
    episode_stats[stat_index(STAT_INVALID_ACTIONS, env)] += invalid;

    // max_cycles is a time limit: the episode is truncated, never terminated.
    let finished = step >= MAX_CYCLES;
    done[env] = select(0.0, 1.0, finished);
    truncated[env] = select(0.0, 1.0, finished);
    if (finished) {
        write_observations(env, world, false, true);
        episode_stats[stat_index(STAT_EPISODES, env)] += 1.0;
        episode_stats[stat_index(STAT_RETURN_SUM, env)] += episode_return;
        episode_stats[stat_index(STAT_RETURN_SQ_SUM, env)] += episode_return * episode_return;
        episode_stats[stat_index(STAT_LENGTH_SUM, env)] += f32(step);
        episode_stats[stat_index(STAT_RETURN, env)] = 0.0;
        episode_stats[stat_index(STAT_LENGTH, env)] = 0.0;
        let episode = counters[ROW_EPISODE * N_ENVS + env] + 1u;
        counters[ROW_EPISODE * N_ENVS + env] = episode;
        counters[ROW_STEP * N_ENVS + env] = 0u;
        world = spawn_world(env, episode);
        write_observations(env, world, true, false);
    } else {
        episode_stats[stat_index(STAT_RETURN, env)] = episode_return;
        episode_stats[stat_index(STAT_LENGTH, env)] = f32(step);
        counters[ROW_STEP * N_ENVS + env] = step;
        write_observations(env, world, true, true);
    }
    store_world(env, world);
}
