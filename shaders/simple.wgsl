// simple (MPE's single-agent navigation): the scenario's part of the step kernel; the batch
// skeleton is mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's simple_v3 (tests/data/MPE_SPEC.md §1): one agent, one landmark,
// nothing collides; the agent observes its velocity and the landmark relative to itself (not its
// own position) and is rewarded minus the squared distance to the landmark.

// Scenario.reset_world: the agent, then the landmark, uniform in [-1, 1]²; velocities zero.
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    let draw = rng_uniform4(&rng, -1.0, 1.0);
    var world: World;
    world.agent_pos[0] = draw.xy;
    world.agent_vel[0] = vec2<f32>(0.0);
    world.landmark_pos[0] = draw.zw;
    return world;
}

// No entity collides.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {}

// Scenario.reward: -|p - l|².
fn write_rewards(env: u32, world: World) -> f32 {
    let delta = world.agent_pos[0] - world.landmark_pos[0];
    let r = -(delta.x * delta.x + delta.y * delta.y);
    reward[env] = r;
    return r;
}

// Scenario.observation: [v, l - p].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    let rel = world.landmark_pos[0] - world.agent_pos[0];
    return array<f32, OBS_DIM>(world.agent_vel[0].x, world.agent_vel[0].y, rel.x, rel.y);
}
