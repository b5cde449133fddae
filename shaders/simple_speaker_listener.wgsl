// simple_speaker_listener (MPE cooperative communication): the scenario's part of the step
// kernel; the batch skeleton is mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's simple_speaker_listener_v4 (tests/data/MPE_SPEC.md §6): agent 0 is
// the speaker (cannot move, says one of 3 words), agent 1 the listener (moves, silent); three
// landmarks, one of them the goal (hidden[0]); nothing collides.

const SPEAKER: u32 = 0u;
const LISTENER: u32 = 1u;

// Scenario.reset_world: the goal, then speaker, listener and landmarks uniform in [-1, 1]².
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    world.hidden[0] = f32(rng_below(&rng, L));
    spawn_agents(&rng, &world, -1.0, 1.0);
    spawn_landmarks(&rng, &world, 0u, L, -1.0, 1.0);
    return world;
}

// Nothing collides.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {}

fn goal(world: World) -> u32 {
    return u32(world.hidden[0]);
}

// Scenario.reward: both agents get -|p_listener - l_goal|².
fn write_rewards(env: u32, world: World) -> f32 {
    let d = world.agent_pos[LISTENER] - world.landmark_pos[goal(world)];
    let r = -dot(d, d);
    reward[env * N + SPEAKER] = r;
    reward[env * N + LISTENER] = r;
    return r;
}

// The goal's colour (landmark k: 0.65 in channel k, 0.15 elsewhere).
fn goal_colour(world: World) -> vec3<f32> {
    let g = goal(world);
    return vec3<f32>(select(0.15, 0.65, g == 0u), select(0.15, 0.65, g == 1u), select(0.15, 0.65, g == 2u));
}

// Scenario.observation: the speaker sees the goal's colour; the listener its velocity, the
// landmarks relative to itself and the speaker's word (no own position).
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    var o: array<f32, OBS_DIM>;
    if (i == SPEAKER) {
        let colour = goal_colour(world);
        o[0] = colour.x;
        o[1] = colour.y;
        o[2] = colour.z;
        return o;
    }
    let own = world.agent_pos[LISTENER];
    o[0] = world.agent_vel[LISTENER].x;
    o[1] = world.agent_vel[LISTENER].y;
    for (var l = 0u; l < L; l++) {
        let rel = world.landmark_pos[l] - own;
        o[2u + 2u * l] = rel.x;
        o[3u + 2u * l] = rel.y;
    }
    for (var k = 0u; k < DIM_C; k++) {
        o[8u + k] = world.comm[SPEAKER * DIM_C + k];
    }
    return o;
}
