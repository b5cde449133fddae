// simple_formation (mpe2's simple_formation_v1): the scenario's part of the step kernel; the
// batch skeleton is mpe_batch.wgsl, the assignment mpe_assignment.wgsl (needs both before this
// file).
//
// Faithful to mpe2 1.1.1 (tests/data/MPE_SPEC.md §9): N agents (radius 0.05, colliding with each
// other) form a circle of radius 0.5 around one landmark. Each step the N slots are anchored at
// the smallest polar angle (in [0, 2π), around the landmark) of any agent; every agent gets the
// same reward, minus the mean (clipped) distance of the optimal agent↔slot assignment.

const AGENT_SIZE: f32 = 0.05;
const RADIUS: f32 = 0.5;
const TWO_PI: f32 = 6.2831855;

// Scenario.reset_world: agents uniform in [-1, 1]², the landmark in [-0.5, 0.5]².
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    for (var i = 0u; i < N; i++) {
        world.agent_pos[i] = rng_uniform4(&rng, -1.0, 1.0).xy;
        world.agent_vel[i] = vec2<f32>(0.0);
    }
    world.landmark_pos[0] = rng_uniform4(&rng, -0.5, 0.5).xy;
    return world;
}

// Agent–agent contact forces (the landmark does not collide).
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {
    agent_contact_forces(world, force, AGENT_SIZE);
}

// The slots on the post-step state: the circle anchored at the smallest polar angle.
fn formation_slots(world: World) -> array<vec2<f32>, N> {
    let centre = world.landmark_pos[0];
    var theta_min = 3.4e38;
    for (var i = 0u; i < N; i++) {
        let rel = world.agent_pos[i] - centre;
        var angle = atan2(rel.y, rel.x);
        if (angle < 0.0) {
            angle += TWO_PI;
        }
        theta_min = min(theta_min, angle);
    }
    var slots: array<vec2<f32>, N>;
    for (var k = 0u; k < N; k++) {
        let angle = theta_min + f32(k) * (TWO_PI / f32(N));
        slots[k] = centre + RADIUS * vec2<f32>(cos(angle), sin(angle));
    }
    return slots;
}

// Scenario.observation: [v, p, l0 - p].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    let p = world.agent_pos[i];
    let rel = world.landmark_pos[0] - p;
    return array<f32, OBS_DIM>(world.agent_vel[i].x, world.agent_vel[i].y, p.x, p.y, rel.x, rel.y);
}
