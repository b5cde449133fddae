// The batch skeleton every MPE scenario shares (src/env/mpe.rs is its host): bindings, the packed
// per-env state, action decoding, integration, episode bookkeeping with automatic reset, and
// observation stores in whole vec4s. One invocation steps ENVS_PER_INVOCATION envs.
//
// A scenario's file (simple_spread.wgsl, ...) supplies what differs (WGSL resolves
// module-scope names in any order):
//   fn spawn_world(env, seed_lo, seed_hi, episode) -> World     Scenario.reset_world
//   fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>)
//   fn write_rewards(env, world) -> f32 (the mean over agents)   Scenario.reward
//   fn observe(world, i) -> array<f32, OBS_DIM>                  Scenario.observation
//   fn is_terminal(world) -> bool (optional; the host adds `false`)  Scenario.is_terminal
//   fn post_step(env, header, world: ptr<function, World>) (optional)  collect_treasure's post_step
// and the host generates `agent_body(i) -> AgentBody` from the scenario's agent groups (which
// agents move, speak, their accel, mass and speed limit).
//
// Agent groups of different kinds share one layout: observations are [envs, agents, OBS_DIM]
// with OBS_DIM the largest group's (a shorter observation is zero-padded; the host hands each
// group its slice), discrete actions [envs, agents], continuous ones [envs, agents, ACTION_DIM]
// (a group with fewer components reads the first ones). Communication (`c`, DIM_C floats per
// agent) and the scenario's hidden per-env variables (goals, keys: HIDDEN floats) are part of
// the packed state, after the positions.
//
// Fusing the whole step into one launch matters: a launch costs ~50 µs on a CPU adapter, more
// than the arithmetic of thousands of envs. Memory is touched in vec4s, each invocation reading
// and writing its own contiguous blocks: per-env state, counters and statistics are padded to
// whole vec4s, and observations [envs, agents, obs_dim] are staged in private memory and stored
// as vec4s (the host picks ENVS_PER_INVOCATION so that an invocation's block is whole vec4s).
// On lavapipe every storage access is a per-lane gather or scatter, so fewer, wider accesses are
// what makes the step fast; on GPUs they coalesce.
//
// Needs grid.wgsl, rng.wgsl and mpe_physics.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const N: u32 = {{n_agents}}u;
const L: u32 = {{n_landmarks}}u;
const MAX_CYCLES: u32 = {{max_cycles}}u;
const CONTINUOUS: bool = {{continuous}};
const WRITE_TERMINAL: bool = {{write_terminal}};
const ENVS_PER_INVOCATION: u32 = {{envs_per_invocation}}u;
const OBS_DIM: u32 = {{obs_dim}}u;
// Components of a continuous action: 5 movement ones for a movable agent, then DIM_C for one
// that speaks; the widest group's.
const ACTION_DIM: u32 = {{action_dim}}u;
// Length of an agent's utterance (World.dim_c); 0 where nobody speaks.
const DIM_C: u32 = {{dim_c}}u;
// Per-env variables of the scenario's own (goal indices, ...), stored as floats.
const HIDDEN: u32 = {{hidden}}u;
// Whether an env whose episode ended starts the next one (off only for `shoal replay`, which
// reads the state an episode ended in).
const AUTO_RESET: bool = {{auto_reset}};
// WGSL has no empty arrays: at least one slot each.
const COMM_SLOTS: u32 = max(1u, N * DIM_C);
const HIDDEN_SLOTS: u32 = max(1u, HIDDEN);
// WGSL has no empty arrays: a world without landmarks (simple_tag with no obstacles) keeps one slot.
const LANDMARK_SLOTS: u32 = max(1u, L);
const OBS_PER_ENV: u32 = N * OBS_DIM;
const OBS_PER_INVOCATION: u32 = ENVS_PER_INVOCATION * OBS_PER_ENV;

// Per-env state, in vec4s: agent_pos (2N floats), agent_vel (2N), landmark_pos (2L),
// agent_comm (N·DIM_C), hidden (HIDDEN), padding.
const STATE_VEC4: u32 = (4u * N + 2u * L + N * DIM_C + HIDDEN + 3u) / 4u;
const STATE_AGENT_POS: u32 = 0u;
const STATE_AGENT_VEL: u32 = 2u * N;
const STATE_LANDMARK_POS: u32 = 4u * N;
const STATE_COMM: u32 = 4u * N + 2u * L;
const STATE_HIDDEN: u32 = STATE_COMM + N * DIM_C;
// Per-env counters, two vec4<u32>: (step, episode, seed lo, seed hi), (command, -, -, -).
const COMMAND_STEP: u32 = 0u;
const COMMAND_RESET: u32 = 1u;
const COMMAND_OBSERVE: u32 = 2u;
// Restore a snapshot: observe the uploaded state, keep the uploaded counters and statistics.
const COMMAND_RESTORE: u32 = 3u;
// Per-env episode statistics, two vec4s (src/env/mod.rs: EpisodeStats::from_sums):
// (running return, running length, episodes, return sum), (return² sum, length sum, invalid, -).

@group(0) @binding(0) var<storage, read_write> actions: array<{{action_type}}>;
@group(0) @binding(1) var<storage, read_write> state: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> counters: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> episode_stats: array<vec4<f32>>;
// Observations as vec4s, and the same buffer as floats for a batch's odd last env.
@group(0) @binding(4) var<storage, read_write> obs: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> obs_tail: array<f32>;
@group(0) @binding(6) var<storage, read_write> reward: array<f32>;
@group(0) @binding(7) var<storage, read_write> done: array<f32>;
@group(0) @binding(8) var<storage, read_write> truncated: array<f32>;
// Observation an episode ended in (before the automatic reset), same two views; 1-float dummies
// when disabled.
@group(0) @binding(9) var<storage, read_write> terminal_obs: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> terminal_obs_tail: array<f32>;

struct World {
    agent_pos: array<vec2<f32>, N>,
    agent_vel: array<vec2<f32>, N>,
    landmark_pos: array<vec2<f32>, LANDMARK_SLOTS>,
    // Agent i's utterance is comm[i * DIM_C ..][..DIM_C] (zeros for silent agents).
    comm: array<f32, COMM_SLOTS>,
    hidden: array<f32, HIDDEN_SLOTS>,
}

// What an agent is physically (mpe2's Agent attributes); `agent_body(i)` is generated.
struct AgentBody {
    movable: bool,
    speaks: bool,
    // Action force per unit of action (`accel`, 5 when mpe2's is None).
    accel: f32,
    mass: f32,
    // <= 0: no speed limit (mpe2's `max_speed = None`).
    max_speed: f32,
    // Size of the discrete action space (5 · words, 5, or words).
    n_actions: u32,
}

{{agent_body}}

// Observations of this invocation's envs, stored in one go at the end.
var<private> obs_stage: array<f32, OBS_PER_INVOCATION>;
var<private> terminal_stage: array<f32, OBS_PER_INVOCATION>;

fn unpack(packed: ptr<function, array<vec4<f32>, STATE_VEC4>>, f: u32) -> vec2<f32> {
    return vec2<f32>((*packed)[f / 4u][f % 4u], (*packed)[(f + 1u) / 4u][(f + 1u) % 4u]);
}

fn pack(packed: ptr<function, array<vec4<f32>, STATE_VEC4>>, f: u32, v: vec2<f32>) {
    (*packed)[f / 4u][f % 4u] = v.x;
    (*packed)[(f + 1u) / 4u][(f + 1u) % 4u] = v.y;
}

fn unpack1(packed: ptr<function, array<vec4<f32>, STATE_VEC4>>, f: u32) -> f32 {
    return (*packed)[f / 4u][f % 4u];
}

fn pack1(packed: ptr<function, array<vec4<f32>, STATE_VEC4>>, f: u32, v: f32) {
    (*packed)[f / 4u][f % 4u] = v;
}

fn load_world(env: u32) -> World {
    var packed: array<vec4<f32>, STATE_VEC4>;
    for (var v = 0u; v < STATE_VEC4; v++) {
        packed[v] = state[env * STATE_VEC4 + v];
    }
    var world: World;
    for (var i = 0u; i < N; i++) {
        world.agent_pos[i] = unpack(&packed, STATE_AGENT_POS + 2u * i);
        world.agent_vel[i] = unpack(&packed, STATE_AGENT_VEL + 2u * i);
    }
    for (var l = 0u; l < L; l++) {
        world.landmark_pos[l] = unpack(&packed, STATE_LANDMARK_POS + 2u * l);
    }
    for (var k = 0u; k < N * DIM_C; k++) {
        world.comm[k] = unpack1(&packed, STATE_COMM + k);
    }
    for (var k = 0u; k < HIDDEN; k++) {
        world.hidden[k] = unpack1(&packed, STATE_HIDDEN + k);
    }
    return world;
}

fn store_world(env: u32, world: World) {
    var packed: array<vec4<f32>, STATE_VEC4>;
    for (var i = 0u; i < N; i++) {
        pack(&packed, STATE_AGENT_POS + 2u * i, world.agent_pos[i]);
        pack(&packed, STATE_AGENT_VEL + 2u * i, world.agent_vel[i]);
    }
    for (var l = 0u; l < L; l++) {
        pack(&packed, STATE_LANDMARK_POS + 2u * l, world.landmark_pos[l]);
    }
    for (var k = 0u; k < N * DIM_C; k++) {
        pack1(&packed, STATE_COMM + k, world.comm[k]);
    }
    for (var k = 0u; k < HIDDEN; k++) {
        pack1(&packed, STATE_HIDDEN + k, world.hidden[k]);
    }
    for (var v = 0u; v < STATE_VEC4; v++) {
        state[env * STATE_VEC4 + v] = packed[v];
    }
}

// Agent i's action (SimpleEnv._set_action): its movement force, written to `force`, and its
// utterance, written to the world's comm (update_agent_state: silent agents say zeros). Returns
// 1 for a valid action, 0 for one out of the space (counted, and read as action 0).
fn apply_action(env: u32, i: u32, world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) -> f32 {
    let body = agent_body(i);
    if (CONTINUOUS) {
        let base = (env * N + i) * ACTION_DIM;
        var first_word = 0u;
        if (body.movable) {
            let movement = mpe_continuous_move(f32(actions[base + 1u]), f32(actions[base + 2u]), f32(actions[base + 3u]), f32(actions[base + 4u]));
            (*force)[i] = movement * body.accel;
            first_word = 5u;
        }
        // `c = action[5:]` (the whole action for a non-movable speaker), clipped as the movement
        // part is.
        for (var k = 0u; k < DIM_C; k++) {
            (*world).comm[i * DIM_C + k] = select(0.0, clamp(f32(actions[base + first_word + k]), 0.0, 1.0), body.speaks);
        }
        return 1.0;
    } else {
        let action = i32(actions[env * N + i]);
        let valid = action >= 0 && action < i32(body.n_actions);
        var a = u32(select(0, action, valid));
        if (body.movable) {
            (*force)[i] = mpe_discrete_move(a) * body.accel;
            a = a / 5u;
        }
        // `5·word + move`, or the word alone for a non-movable speaker: c = one_hot(word).
        for (var k = 0u; k < DIM_C; k++) {
            (*world).comm[i * DIM_C + k] = select(0.0, 1.0, body.speaks && k == a);
        }
        return select(0.0, 1.0, valid);
    }
}

// Soft contact between every pair of agents of equal radius (World.get_collision_force for
// agent–agent pairs): what a scenario's contact_forces calls when only agents collide.
fn agent_contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>, agent_size: f32) {
    for (var a = 0u; a < N; a++) {
        for (var b = a + 1u; b < N; b++) {
            let f = mpe_contact_force((*world).agent_pos[a] - (*world).agent_pos[b], 2.0 * agent_size);
            (*force)[a] += f;
            (*force)[b] -= f;
        }
    }
}

// World.step: action forces, the scenario's contact forces, integration of the movable agents
// (landmarks never move), then the utterances. Returns the number of invalid actions seen.
fn physics_step(env: u32, world: ptr<function, World>) -> f32 {
    var force: array<vec2<f32>, N>;
    var invalid = 0.0;
    for (var i = 0u; i < N; i++) {
        invalid += 1.0 - apply_action(env, i, world, &force);
    }
    contact_forces(world, &force);
    for (var i = 0u; i < N; i++) {
        let agent = agent_body(i);
        if (agent.movable) {
            let body = mpe_integrate(Body((*world).agent_pos[i], (*world).agent_vel[i]), force[i], agent.mass, agent.max_speed);
            (*world).agent_pos[i] = body.pos;
            (*world).agent_vel[i] = body.vel;
        }
    }
    return invalid;
}

// The scenario's observation of every agent of the env in slot `slot`, into a staging array
// (`obs_stage`, or `terminal_stage` when `terminal`).
fn stage_observations(slot: u32, world: World, terminal: bool) {
    for (var i = 0u; i < N; i++) {
        let base = slot * OBS_PER_ENV + i * OBS_DIM;
        let o = observe(world, i);
        for (var c = 0u; c < OBS_DIM; c++) {
            if (terminal) {
                terminal_stage[base + c] = o[c];
            } else {
                obs_stage[base + c] = o[c];
            }
        }
    }
}

// Stores the staged observations of the invocation's first `envs` envs (all of them but in a
// batch's odd last invocation). Every index into the staging arrays is a compile-time constant,
// as in `stage_observations`: see `main`.
fn flush_observations(first_env: u32, envs: u32) {
    let first_float = first_env * OBS_PER_ENV;
    if (envs == ENVS_PER_INVOCATION) {
        // A whole invocation's block is whole vec4s (the host picks ENVS_PER_INVOCATION so).
        for (var v = 0u; v < OBS_PER_INVOCATION / 4u; v++) {
            obs[first_float / 4u + v] = vec4<f32>(obs_stage[4u * v], obs_stage[4u * v + 1u], obs_stage[4u * v + 2u], obs_stage[4u * v + 3u]);
            if (WRITE_TERMINAL) {
                terminal_obs[first_float / 4u + v] = vec4<f32>(terminal_stage[4u * v], terminal_stage[4u * v + 1u], terminal_stage[4u * v + 2u], terminal_stage[4u * v + 3u]);
            }
        }
        return;
    }
    // The batch's last invocation, with fewer envs: float by float.
    for (var c = 0u; c < OBS_PER_INVOCATION; c++) {
        if (c < envs * OBS_PER_ENV) {
            obs_tail[first_float + c] = obs_stage[c];
            if (WRITE_TERMINAL) {
                terminal_obs_tail[first_float + c] = terminal_stage[c];
            }
        }
    }
}

// One env: a step with automatic reset, or a host command (reset / observe the uploaded state).
//
// Written without divergent work on purpose: a CPU adapter runs both sides of a branch under a
// lane mask, so every path that could be taken is paid for. The world is observed once (twice
// with terminal observations) and re-spawning is a select, not a second code path.
fn run_env(env: u32, slot: u32) {
    var header = counters[2u * env];
    let command = counters[2u * env + 1u].x;
    var stats_a = episode_stats[2u * env];
    var stats_b = episode_stats[2u * env + 1u];
    let stepping = command == COMMAND_STEP;
    let resetting = command == COMMAND_RESET;

    // The world this env would start next: episode 0 on reset, else the next episode. Drawn
    // unconditionally (a few hashes) so that there is one spawn, not one per path.
    let next_episode = select(header.y + 1u, 0u, resetting);
    let spawned = spawn_world(env, header.z, header.w, next_episode);
    var world = load_world(env);
    if (resetting) {
        world = spawned;
        header.y = 0u;
    }
    if (!stepping) {
        // reset(seed) / set_state(..): fresh counters and statistics, nothing to reward.
        if (command != COMMAND_RESTORE) {
            header.x = 0u;
            stats_a = vec4<f32>(0.0);
            stats_b = vec4<f32>(0.0);
        }
        counters[2u * env + 1u] = vec4<u32>(COMMAND_STEP, 0u, 0u, 0u);
    }

    var mean_reward = 0.0;
    if (stepping) {
        stats_b.z += physics_step(env, &world);
        post_step(env, header, &world);
        mean_reward = write_rewards(env, world);
        header.x += 1u;
    } else {
        for (var i = 0u; i < N; i++) {
            reward[env * N + i] = 0.0;
        }
    }
    stats_a.x += mean_reward;
    stats_a.y = f32(header.x);

    // max_cycles is a time limit (truncation); before it, a scenario may end the episode
    // (termination, for all agents at once, as SimpleEnv.step decides).
    let truncating = stepping && header.x >= MAX_CYCLES;
    let finished = truncating || (stepping && is_terminal(world));
    done[env] = select(0.0, 1.0, finished);
    truncated[env] = select(0.0, 1.0, truncating);
    if (WRITE_TERMINAL) {
        stage_observations(slot, world, true);
    }
    if (finished) {
        stats_a.z += 1.0;
        stats_a.w += stats_a.x;
        stats_b.x += stats_a.x * stats_a.x;
        stats_b.y += stats_a.y;
        stats_a.x = 0.0;
        stats_a.y = 0.0;
        header.x = 0u;
        header.y = next_episode;
        if (AUTO_RESET) {
            world = spawned;
        }
    }
    stage_observations(slot, world, false);
    store_world(env, world);
    counters[2u * env] = header;
    episode_stats[2u * env] = stats_a;
    episode_stats[2u * env + 1u] = stats_b;
}

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let first_env = linear_index(workgroup_id, local_id, num_workgroups) * ENVS_PER_INVOCATION;
    if (first_env >= N_ENVS) {
        return;
    }
    let envs = min(ENVS_PER_INVOCATION, N_ENVS - first_env);
    // The loop runs to a constant so that it unrolls and every index into the private staging
    // arrays is a compile-time constant: LLVM then keeps them in registers. With `slot < envs`
    // as the bound the indices varied per lane, the arrays lived in memory, and lavapipe read
    // and wrote them lane by lane: that was 60% of simple_spread's step.
    for (var slot = 0u; slot < ENVS_PER_INVOCATION; slot++) {
        if (slot < envs) {
            run_env(first_env + slot, slot);
        }
    }
    flush_observations(first_env, envs);
}
