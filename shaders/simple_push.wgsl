// simple_push (MPE keep-away): the scenario's part of the step kernel; the batch skeleton is
// mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's simple_push_v3 (tests/data/MPE_SPEC.md §4): agent 0 the adversary,
// agent 1 the good agent, both of size 0.05 and colliding with each other; two landmarks (no
// collision), one the goal (hidden[0]).

const AGENT_SIZE: f32 = 0.05;
const ADVERSARY: u32 = 0u;
const GOOD: u32 = 1u;

// Scenario.reset_world: the goal, then the agents, then the landmarks uniform in [-1, 1]².
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    world.hidden[0] = f32(rng_below(&rng, L));
    spawn_agents(&rng, &world, -1.0, 1.0);
    spawn_landmarks(&rng, &world, 0u, L, -1.0, 1.0);
    return world;
}

// The two agents push each other.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {
    agent_contact_forces(world, force, AGENT_SIZE);
}

fn goal(world: World) -> u32 {
    return u32(world.hidden[0]);
}

// Scenario.agent_reward / adversary_reward.
fn write_rewards(env: u32, world: World) -> f32 {
    let goal_pos = world.landmark_pos[goal(world)];
    let good_distance = distance(world.agent_pos[GOOD], goal_pos);
    let adversary = good_distance - distance(goal_pos, world.agent_pos[ADVERSARY]);
    reward[env * N + ADVERSARY] = adversary;
    reward[env * N + GOOD] = -good_distance;
    return (adversary - good_distance) / f32(N);
}

// Landmark k's colour: 0.1 everywhere, 0.9 in channel k + 1.
fn landmark_colour(k: u32) -> vec3<f32> {
    return vec3<f32>(0.1, select(0.1, 0.9, k == 0u), select(0.1, 0.9, k == 1u));
}

// Scenario.observation: the adversary [v, l0 - p, l1 - p, p_good - p]; the good agent
// [v, goal - p, own colour, l0 - p, l1 - p, l0 colour, l1 colour, p_adversary - p].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    var o: array<f32, OBS_DIM>;
    let own = world.agent_pos[i];
    let l0 = world.landmark_pos[0] - own;
    let l1 = world.landmark_pos[1] - own;
    let other = world.agent_pos[1u - i] - own;
    o[0] = world.agent_vel[i].x;
    o[1] = world.agent_vel[i].y;
    if (i == ADVERSARY) {
        o[2] = l0.x;
        o[3] = l0.y;
        o[4] = l1.x;
        o[5] = l1.y;
        o[6] = other.x;
        o[7] = other.y;
        return o;
    }
    let g = goal(world);
    let to_goal = world.landmark_pos[g] - own;
    // The good agent's colour: 0.25 everywhere, 0.75 in channel goal + 1.
    let colour = vec3<f32>(0.25, select(0.25, 0.75, g == 0u), select(0.25, 0.75, g == 1u));
    let c0 = landmark_colour(0u);
    let c1 = landmark_colour(1u);
    let values = array<f32, 17>(to_goal.x, to_goal.y, colour.x, colour.y, colour.z, l0.x, l0.y, l1.x, l1.y, c0.x, c0.y, c0.z, c1.x, c1.y, c1.z, other.x, other.y);
    for (var k = 0u; k < 17u; k++) {
        o[2u + k] = values[k];
    }
    return o;
}
