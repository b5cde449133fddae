// simple_reference (MPE referential communication): the scenario's part of the step kernel; the
// batch skeleton is mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's simple_reference_v3 (tests/data/MPE_SPEC.md §5): two agents that
// move and speak (10 words), three landmarks, nothing collides. hidden[i] is agent i's goal_b:
// the landmark the *other* agent must reach, which agent i sees.

const LOCAL_RATIO: f32 = {{local_ratio}};

// Scenario.reset_world: both goals, then the agents, then the landmarks uniform in [-1, 1]².
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    world.hidden[0] = f32(rng_below(&rng, L));
    world.hidden[1] = f32(rng_below(&rng, L));
    spawn_agents(&rng, &world, -1.0, 1.0);
    spawn_landmarks(&rng, &world, 0u, L, -1.0, 1.0);
    return world;
}

// Nothing collides.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {}

// Scenario.reward: agent i's local reward is minus the other's distance to the landmark i
// knows; each gets the mean (global) and its own, mixed by local_ratio.
fn write_rewards(env: u32, world: World) -> f32 {
    let local0 = -distance(world.agent_pos[1], world.landmark_pos[u32(world.hidden[0])]);
    let local1 = -distance(world.agent_pos[0], world.landmark_pos[u32(world.hidden[1])]);
    let global_reward = (local0 + local1) / 2.0;
    let r0 = global_reward * (1.0 - LOCAL_RATIO) + local0 * LOCAL_RATIO;
    let r1 = global_reward * (1.0 - LOCAL_RATIO) + local1 * LOCAL_RATIO;
    reward[env * N] = r0;
    reward[env * N + 1u] = r1;
    return (r0 + r1) / 2.0;
}

// Scenario.observation: [v, landmarks - p, colour of the landmark i knows, the other's words].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    var o: array<f32, OBS_DIM>;
    let own = world.agent_pos[i];
    o[0] = world.agent_vel[i].x;
    o[1] = world.agent_vel[i].y;
    for (var l = 0u; l < L; l++) {
        let rel = world.landmark_pos[l] - own;
        o[2u + 2u * l] = rel.x;
        o[3u + 2u * l] = rel.y;
    }
    // Landmark k: 0.75 in channel k, 0.25 elsewhere.
    let g = u32(world.hidden[i]);
    o[8] = select(0.25, 0.75, g == 0u);
    o[9] = select(0.25, 0.75, g == 1u);
    o[10] = select(0.25, 0.75, g == 2u);
    let other = 1u - i;
    for (var k = 0u; k < DIM_C; k++) {
        o[11u + k] = world.comm[other * DIM_C + k];
    }
    return o;
}
