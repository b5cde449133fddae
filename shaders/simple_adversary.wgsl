// simple_adversary (MPE physical deception): the scenario's part of the step kernel; the batch
// skeleton is mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's simple_adversary_v3 with N = 2 (tests/data/MPE_SPEC.md §2): agent 0
// is the adversary, agents 1..N the good agents; N landmarks, one the target (hidden[0]), known
// to the good agents only. Nothing collides. Rewards are the shaped ones (mpe2's defaults).

const ADVERSARIES: u32 = 1u;

// Scenario.reset_world: the target, then every agent, then every landmark uniform in [-1, 1]².
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

fn target_pos(world: World) -> vec2<f32> {
    return world.landmark_pos[u32(world.hidden[0])];
}

// Scenario.adversary_reward / agent_reward (shaped): the adversary gets minus its distance to
// the target; every good agent minus the nearest good agent's distance plus the adversaries'.
fn write_rewards(env: u32, world: World) -> f32 {
    let goal = target_pos(world);
    var adversary_distance = 0.0;
    for (var a = 0u; a < ADVERSARIES; a++) {
        let d = distance(world.agent_pos[a], goal);
        adversary_distance += d;
        reward[env * N + a] = -d;
    }
    var nearest_good = 3.4e38;
    for (var i = ADVERSARIES; i < N; i++) {
        nearest_good = min(nearest_good, distance(world.agent_pos[i], goal));
    }
    let good = adversary_distance - nearest_good;
    for (var i = ADVERSARIES; i < N; i++) {
        reward[env * N + i] = good;
    }
    return (-adversary_distance + f32(N - ADVERSARIES) * good) / f32(N);
}

// Scenario.observation: good agents [target - p, landmarks - p, others - p]; the adversary
// [landmarks - p, others - p] (it is not told the target).
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    var o: array<f32, OBS_DIM>;
    let own = world.agent_pos[i];
    var c = 0u;
    if (i >= ADVERSARIES) {
        let rel = target_pos(world) - own;
        o[0] = rel.x;
        o[1] = rel.y;
        c = 2u;
    }
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
    return o;
}
