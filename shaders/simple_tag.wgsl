// simple_tag (MPE predator–prey): the scenario's part of the step kernel; the batch skeleton is
// mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's simple_tag_v3 (tests/data/MPE_SPEC.md §7): agents 0..ADVERSARIES are
// the predators, the rest the prey; the landmarks are obstacles of size 0.2. Everything collides
// (agent–agent and agent–obstacle); rewards are unshaped (mpe2's default).

const ADVERSARIES: u32 = {{adversaries}}u;
const TERMINATE_ON_SUCCESS: bool = {{terminate_on_success}};
const ADVERSARY_SIZE: f32 = 0.075;
const GOOD_SIZE: f32 = 0.05;
const OBSTACLE_SIZE: f32 = 0.2;

fn agent_size(i: u32) -> f32 {
    return team_size(i, ADVERSARIES, vec2<f32>(ADVERSARY_SIZE, GOOD_SIZE));
}

// Scenario.reset_world: agents uniform in [-1, 1]², then obstacles in [-0.9, 0.9]².
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    spawn_agents(&rng, &world, -1.0, 1.0);
    spawn_landmarks(&rng, &world, 0u, L, -0.9, 0.9);
    return world;
}

// Agents push each other; every landmark is an obstacle that pushes agents.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {
    team_contacts(world, force, ADVERSARIES, vec2<f32>(ADVERSARY_SIZE, GOOD_SIZE), L, OBSTACLE_SIZE);
}

// Scenario.is_collision on the post-step state.
fn touching(world: World, a: u32, b: u32) -> bool {
    return distance(world.agent_pos[a], world.agent_pos[b]) < agent_size(a) + agent_size(b);
}

// Scenario.is_terminal (with terminate_on_success): every prey touches some predator.
fn is_terminal(world: World) -> bool {
    var all_caught = TERMINATE_ON_SUCCESS;
    for (var i = ADVERSARIES; i < N; i++) {
        var caught = false;
        for (var a = 0u; a < ADVERSARIES; a++) {
            caught = caught || touching(world, a, i);
        }
        all_caught = all_caught && caught;
    }
    return all_caught;
}

// Scenario.agent_reward / adversary_reward: the prey loses 10 per predator touching it and pays
// for leaving the square; every predator gets 10 per (prey, predator) touch, its own or not.
fn write_rewards(env: u32, world: World) -> f32 {
    var touches = 0.0;
    var sum = 0.0;
    for (var i = ADVERSARIES; i < N; i++) {
        var r = 0.0;
        for (var a = 0u; a < ADVERSARIES; a++) {
            if (touching(world, a, i)) {
                r -= 10.0;
                touches += 1.0;
            }
        }
        let p = world.agent_pos[i];
        r -= bound_penalty(abs(p.x)) + bound_penalty(abs(p.y));
        reward[env * N + i] = r;
        sum += r;
    }
    for (var a = 0u; a < ADVERSARIES; a++) {
        reward[env * N + a] = 10.0 * touches;
    }
    return (sum + f32(ADVERSARIES) * 10.0 * touches) / f32(N);
}

// Scenario.observation: [v, p, obstacles - p, others - p, velocities of the other prey].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    var o: array<f32, OBS_DIM>;
    let own = world.agent_pos[i];
    o[0] = world.agent_vel[i].x;
    o[1] = world.agent_vel[i].y;
    o[2] = own.x;
    o[3] = own.y;
    var c = 4u;
    for (var l = 0u; l < L; l++) {
        let rel = world.landmark_pos[l] - own;
        o[c] = rel.x;
        o[c + 1u] = rel.y;
        c += 2u;
    }
    for (var j = 0u; j < N; j++) {
        if (j != i) {
            let rel = world.agent_pos[j] - own;
            o[c] = rel.x;
            o[c + 1u] = rel.y;
            c += 2u;
        }
    }
    for (var j = ADVERSARIES; j < N; j++) {
        if (j != i) {
            o[c] = world.agent_vel[j].x;
            o[c + 1u] = world.agent_vel[j].y;
            c += 2u;
        }
    }
    return o;
}
