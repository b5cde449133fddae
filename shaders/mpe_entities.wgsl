// What several mixed MPE scenarios share beyond the skeleton (mpe_batch.wgsl): uniform spawns
// drawn in mpe2's order (agents, then landmarks), the arena penalty of the predator–prey
// scenarios, and soft contacts between agents of different sizes and with fixed obstacles.

// Agents 0..N uniform in [lo, hi)², two per draw.
fn spawn_agents(rng: ptr<function, Rng>, world: ptr<function, World>, lo: f32, hi: f32) {
    for (var i = 0u; i < N; i += 2u) {
        let draw = rng_uniform4(rng, lo, hi);
        (*world).agent_pos[i] = draw.xy;
        if (i + 1u < N) {
            (*world).agent_pos[i + 1u] = draw.zw;
        }
    }
}

// Landmarks first..first + count uniform in [lo, hi)², two per draw.
fn spawn_landmarks(rng: ptr<function, Rng>, world: ptr<function, World>, first: u32, count: u32, lo: f32, hi: f32) {
    for (var k = 0u; k < count; k += 2u) {
        let draw = rng_uniform4(rng, lo, hi);
        (*world).landmark_pos[first + k] = draw.xy;
        if (k + 1u < count) {
            (*world).landmark_pos[first + k + 1u] = draw.zw;
        }
    }
}

// The penalty for leaving the unit square, per axis (simple_tag's and world_comm's `bound`).
fn bound_penalty(x: f32) -> f32 {
    if (x < 0.9) {
        return 0.0;
    }
    if (x < 1.0) {
        return (x - 0.9) * 10.0;
    }
    return min(exp(2.0 * x - 2.0), 10.0);
}

// Sizes of a predator–prey world: `adversaries` agents of `sizes.x` first, the rest `sizes.y`.
fn team_size(i: u32, adversaries: u32, sizes: vec2<f32>) -> f32 {
    return select(sizes.y, sizes.x, i < adversaries);
}

// Every agent pair pushes both ways (dist_min: the sum of their sizes); the first `obstacles`
// landmarks (of size `obstacle_size`) push agents and are not pushed back
// (World.apply_environment_force drops the force on a fixed entity).
fn team_contacts(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>, adversaries: u32, sizes: vec2<f32>, obstacles: u32, obstacle_size: f32) {
    for (var a = 0u; a < N; a++) {
        let size_a = team_size(a, adversaries, sizes);
        for (var b = a + 1u; b < N; b++) {
            let f = mpe_contact_force((*world).agent_pos[a] - (*world).agent_pos[b], size_a + team_size(b, adversaries, sizes));
            (*force)[a] += f;
            (*force)[b] -= f;
        }
        for (var l = 0u; l < obstacles; l++) {
            (*force)[a] += mpe_contact_force((*world).agent_pos[a] - (*world).landmark_pos[l], size_a + obstacle_size);
        }
    }
}
