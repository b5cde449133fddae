// simple_line (mpe2's simple_line_v1): the scenario's part of the step kernel; the batch
// skeleton is mpe_batch.wgsl, the assignment mpe_assignment.wgsl (needs both before this file).
//
// Faithful to mpe2 1.1.1 (tests/data/MPE_SPEC.md §9): N agents (radius 0.03, colliding with each
// other) spread evenly along the segment between two landmarks 1.25 apart; every agent gets the
// same reward, minus the mean (clipped) distance of the optimal agent↔slot assignment.

const AGENT_SIZE: f32 = 0.03;
const LINE_LENGTH: f32 = 1.25;

// Scenario.reset_world: agents uniform in [-1, 1]², landmark 0 in [-0.25, 0.25]², landmark 1 at
// 1.25 from it in a uniform direction, turned by 5° until it lies strictly inside (-1, 1)² (72
// turns cover the circle; from within 0.25 of the centre some direction always fits).
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    for (var i = 0u; i < N; i++) {
        world.agent_pos[i] = rng_uniform4(&rng, -1.0, 1.0).xy;
        world.agent_vel[i] = vec2<f32>(0.0);
    }
    let draw = rng_uniform4(&rng, 0.0, 1.0);
    let start = (draw.xy - 0.5) * 0.5;
    var theta = draw.z * 6.2831855;
    var end = start + LINE_LENGTH * vec2<f32>(cos(theta), sin(theta));
    for (var turn = 0u; turn < 72u && !(abs(end.x) < 1.0 && abs(end.y) < 1.0); turn++) {
        theta += 0.08726646;
        end = start + LINE_LENGTH * vec2<f32>(cos(theta), sin(theta));
    }
    world.landmark_pos[0] = start;
    world.landmark_pos[1] = end;
    return world;
}

// Agent–agent contact forces (landmarks do not collide).
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {
    agent_contact_forces(world, force, AGENT_SIZE);
}

// The slots (mpe2's expected positions): evenly spaced from landmark 0 to landmark 1.
fn formation_slots(world: World) -> array<vec2<f32>, N> {
    var slots: array<vec2<f32>, N>;
    for (var k = 0u; k < N; k++) {
        slots[k] = world.landmark_pos[0] + (world.landmark_pos[1] - world.landmark_pos[0]) * (f32(k) / f32(N - 1u));
    }
    return slots;
}

// Scenario.observation: [v, p, l0 - p, l1 - p].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    let p = world.agent_pos[i];
    let a = world.landmark_pos[0] - p;
    let b = world.landmark_pos[1] - p;
    return array<f32, OBS_DIM>(world.agent_vel[i].x, world.agent_vel[i].y, p.x, p.y, a.x, a.y, b.x, b.y);
}
