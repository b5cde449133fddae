// simple_spread (MPE cooperative navigation): the scenario's part of the step kernel; the batch
// skeleton is mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to PettingZoo's simple_spread_v3 (mpe2 1.1.1; see tests/data/SIMPLE_SPREAD_SPEC.md):
// N agents (radius 0.15) must cover N landmarks (L = N), rewarded on the post-step state.

const LOCAL_RATIO: f32 = {{local_ratio}};
const AGENT_SIZE: f32 = 0.15;
// Observation: [self_vel 2, self_pos 2, landmark_rel 2N, other_rel 2(N-1), other_comm 2(N-1)]
const COMM_OFFSET: u32 = 4u + 2u * N + 2u * (N - 1u);

// Scenario.reset_world: agents then landmarks uniform in [-1, 1]², velocities zero.
// The stream is keyed by (seed, env, episode) only.
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    for (var i = 0u; i < N; i++) {
        let draw = rng_uniform4(&rng, -1.0, 1.0);
        world.agent_pos[i] = draw.xy;
        world.landmark_pos[i] = draw.zw;
        world.agent_vel[i] = vec2<f32>(0.0);
    }
    return world;
}

// Agent–agent contact forces (landmarks do not collide).
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {
    agent_contact_forces(world, force, AGENT_SIZE);
}

// Scenario.reward / global_reward on the post-step state, mixed by local_ratio.
// Returns the mean over agents.
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

// Scenario.observation of agent i.
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
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
    for (var j = 0u; j < N; j++) {
        if (j != i) {
            // Others in ascending order, self skipped.
            let k = 4u + 2u * N + 2u * (j - select(0u, 1u, j > i));
            let rel = world.agent_pos[j] - own;
            o[k] = rel.x;
            o[k + 1u] = rel.y;
        }
    }
    // Agents are silent: their communication channels are always zero.
    for (var c = COMM_OFFSET; c < OBS_DIM; c++) {
        o[c] = 0.0;
    }
    return o;
}
