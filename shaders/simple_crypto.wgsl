// simple_crypto (MPE covert communication): the scenario's part of the step kernel; the batch
// skeleton is mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's simple_crypto_v3 (tests/data/MPE_SPEC.md §3): agent 0 is Eve, 1 Bob,
// 2 Alice; none moves, all speak 4-vectors. hidden[0] is the goal (0 or 1), hidden[1] the key
// (0 or 1); landmark k's colour, the goal's and the key's encoding, is one_hot(k, 4).

const EVE: u32 = 0u;
const BOB: u32 = 1u;
const ALICE: u32 = 2u;

// Scenario.reset_world: goal, key, then positions (drawn as mpe2 draws them, never used).
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    world.hidden[0] = f32(rng_below(&rng, L));
    world.hidden[1] = f32(rng_below(&rng, L));
    spawn_agents(&rng, &world, -1.0, 1.0);
    spawn_landmarks(&rng, &world, 0u, L, -1.0, 1.0);
    return world;
}

// Nobody moves, nothing collides.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {}

fn one_hot(k: u32) -> vec4<f32> {
    return vec4<f32>(select(0.0, 1.0, k == 0u), select(0.0, 1.0, k == 1u), select(0.0, 1.0, k == 2u), select(0.0, 1.0, k == 3u));
}

fn said(world: World, agent: u32) -> vec4<f32> {
    let c = agent * DIM_C;
    return vec4<f32>(world.comm[c], world.comm[c + 1u], world.comm[c + 2u], world.comm[c + 3u]);
}

// sum((c - goal colour)²) of an utterance, 0 for one that is all zeros (mpe2 skips those).
fn guess_error(world: World, agent: u32) -> f32 {
    let c = said(world, agent);
    let d = c - one_hot(u32(world.hidden[0]));
    return select(dot(d, d), 0.0, all(c == vec4<f32>(0.0)));
}

// Scenario.adversary_reward / agent_reward: Eve minus her error; Alice and Bob Eve's error minus
// Bob's (Alice's own utterance is not rewarded directly).
fn write_rewards(env: u32, world: World) -> f32 {
    let eve = guess_error(world, EVE);
    let team = eve - guess_error(world, BOB);
    reward[env * N + EVE] = -eve;
    reward[env * N + BOB] = team;
    reward[env * N + ALICE] = team;
    return (2.0 * team - eve) / f32(N);
}

// Scenario.observation: Eve [Alice's words]; Bob [key, Alice's words]; Alice [goal, key].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    var o: array<f32, OBS_DIM>;
    let key = one_hot(u32(world.hidden[1]));
    let alice = said(world, ALICE);
    var first = alice;
    var second = vec4<f32>(0.0);
    if (i == BOB) {
        first = key;
        second = alice;
    } else if (i == ALICE) {
        first = one_hot(u32(world.hidden[0]));
        second = key;
    }
    for (var k = 0u; k < 4u; k++) {
        o[k] = first[k];
        if (i != EVE) {
            o[4u + k] = second[k];
        }
    }
    return o;
}
