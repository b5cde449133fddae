// collect_treasure (mpe2's collectors and deposits): the scenario's part of the step kernel; the
// batch skeleton is mpe_batch.wgsl (needs it, and what it needs, before this file).
//
// Faithful to mpe2 1.1.1's collect_treasure_v1 (tests/data/MPE_SPEC.md §9):
// agents 0..COLLECTORS are collectors, the rest deposits (deposit d takes treasure type d);
// landmarks are the treasures. Nothing collides physically. After physics (post_step) a
// collector touching a live treasure picks it up, a dead treasure respawns, and a collector
// touching the deposit of what it holds delivers it; each pickup and delivery adds 5 to
// everyone's reward.
//
// hidden: treasure types (T), alive flags (T), what each collector holds (C; type + 1, 0 for
// nothing), the respawn drawn in advance for each treasure (3T: x, y, type — drawn before the
// step that uses it, so that `shoal replay` can put mpe2's draw in its place), and the step's
// pickups + deliveries (1).

const COLLECTORS: u32 = {{collectors}}u;
const DEPOSITS: u32 = N - COLLECTORS;
const T: u32 = L;
const COLLECTOR_SIZE: f32 = 0.05;
const DEPOSIT_SIZE: f32 = 0.075;
const TREASURE_SIZE: f32 = 0.025;
const H_TYPE: u32 = 0u;
const H_ALIVE: u32 = T;
const H_HOLDING: u32 = 2u * T;
const H_RESPAWN: u32 = 2u * T + COLLECTORS;
const H_EVENTS: u32 = 5u * T + COLLECTORS;
// Where a collected treasure waits to respawn (mpe2 moves it out of the world).
const AWAY: f32 = -999.0;

// The respawns of step `step` (position in [-0.95, 0.95]², type), from their own stream.
fn draw_respawns(world: ptr<function, World>, seed_lo: u32, seed_hi: u32, env: u32, episode: u32, step: u32) {
    var rng = rng_stream(seed_lo ^ 0x9E3779B9u, seed_hi, env, episode);
    rng.counter = step * T;
    for (var t = 0u; t < T; t++) {
        let u = unit_f32(rng_next4(&rng));
        (*world).hidden[H_RESPAWN + 3u * t] = -0.95 + 1.9 * u.x;
        (*world).hidden[H_RESPAWN + 3u * t + 1u] = -0.95 + 1.9 * u.y;
        (*world).hidden[H_RESPAWN + 3u * t + 2u] = f32(min(u32(u.z * f32(DEPOSITS)), DEPOSITS - 1u));
    }
}

// Scenario.reset_world: agents uniform in [-1, 1]², then each treasure's type and position in
// [-0.95, 0.95]²; nobody holds anything.
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    spawn_agents(&rng, &world, -1.0, 1.0);
    for (var t = 0u; t < T; t++) {
        let u = unit_f32(rng_next4(&rng));
        world.hidden[H_TYPE + t] = f32(min(u32(u.x * f32(DEPOSITS)), DEPOSITS - 1u));
        world.landmark_pos[t] = vec2<f32>(-0.95 + 1.9 * u.y, -0.95 + 1.9 * u.z);
        world.hidden[H_ALIVE + t] = 1.0;
    }
    draw_respawns(&world, seed_lo, seed_hi, env, episode, 0u);
    return world;
}

// Nothing collides.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {}

fn agent_size(i: u32) -> f32 {
    return select(DEPOSIT_SIZE, COLLECTOR_SIZE, i < COLLECTORS);
}

// Type + 1 of what collector c holds, 0 for nothing.
fn holding(world: World, c: u32) -> u32 {
    return u32(world.hidden[H_HOLDING + c]);
}

// Scenario.post_step: pickups (first free collector touching a live treasure), respawns of the
// treasures collected at the previous step, then deliveries; draws the next step's respawns.
fn post_step(env: u32, header: vec4<u32>, world: ptr<function, World>) {
    var events = 0.0;
    for (var t = 0u; t < T; t++) {
        if ((*world).hidden[H_ALIVE + t] > 0.5) {
            for (var c = 0u; c < COLLECTORS; c++) {
                let free = (*world).hidden[H_HOLDING + c] < 0.5;
                if (free && distance((*world).agent_pos[c], (*world).landmark_pos[t]) < COLLECTOR_SIZE + TREASURE_SIZE) {
                    (*world).hidden[H_HOLDING + c] = (*world).hidden[H_TYPE + t] + 1.0;
                    (*world).hidden[H_ALIVE + t] = 0.0;
                    (*world).landmark_pos[t] = vec2<f32>(AWAY);
                    events += 1.0;
                    break;
                }
            }
        } else {
            (*world).landmark_pos[t] = vec2<f32>((*world).hidden[H_RESPAWN + 3u * t], (*world).hidden[H_RESPAWN + 3u * t + 1u]);
            (*world).hidden[H_TYPE + t] = (*world).hidden[H_RESPAWN + 3u * t + 2u];
            (*world).hidden[H_ALIVE + t] = 1.0;
        }
    }
    for (var c = 0u; c < COLLECTORS; c++) {
        let held = u32((*world).hidden[H_HOLDING + c]);
        if (held > 0u) {
            let deposit = COLLECTORS + held - 1u;
            if (distance((*world).agent_pos[c], (*world).agent_pos[deposit]) < COLLECTOR_SIZE + DEPOSIT_SIZE) {
                (*world).hidden[H_HOLDING + c] = 0.0;
                events += 1.0;
            }
        }
    }
    (*world).hidden[H_EVENTS] = events;
    draw_respawns(world, header.z, header.w, env, header.y, header.x + 1u);
}

// Scenario.reward: collectors pay 5 per other collector they touch and are drawn to the nearest
// live treasure (or to their deposit when holding); deposits are drawn to the nearest collector
// holding their type (or to the collectors' centroid); everyone gets 5 per pickup and delivery.
fn write_rewards(env: u32, world: World) -> f32 {
    let shared_reward = 5.0 * world.hidden[H_EVENTS];
    var sum = 0.0;
    var centroid = vec2<f32>(0.0);
    for (var c = 0u; c < COLLECTORS; c++) {
        centroid += world.agent_pos[c];
    }
    centroid = centroid / f32(COLLECTORS);
    for (var i = 0u; i < N; i++) {
        let p = world.agent_pos[i];
        var r = 0.0;
        var nearest = 3.4e38;
        if (i < COLLECTORS) {
            for (var c = 0u; c < COLLECTORS; c++) {
                if (c != i && distance(world.agent_pos[c], p) < 2.0 * COLLECTOR_SIZE) {
                    r -= 5.0;
                }
            }
            let held = holding(world, i);
            if (held == 0u) {
                for (var t = 0u; t < T; t++) {
                    if (world.hidden[H_ALIVE + t] > 0.5) {
                        nearest = min(nearest, distance(world.landmark_pos[t], p));
                    }
                }
            } else {
                nearest = distance(world.agent_pos[COLLECTORS + held - 1u], p);
            }
        } else {
            for (var c = 0u; c < COLLECTORS; c++) {
                if (holding(world, c) == i - COLLECTORS + 1u) {
                    nearest = min(nearest, distance(world.agent_pos[c], p));
                }
            }
            if (nearest > 3.0e38) {
                nearest = distance(centroid, p);
            }
        }
        // (With every treasure collected at once there is nothing to be near: no pull.)
        r -= select(0.1 * nearest, 0.0, nearest > 3.0e38);
        r += shared_reward;
        reward[env * N + i] = r;
        sum += r;
    }
    return sum / f32(N);
}

// Scenario.observation: [p, v, (collectors) what it holds one-hot], the other agents nearest
// first as [p_j - p, v_j, deposit type one-hot | held type one-hot], then the treasures nearest
// first (collected ones last, as zeros) as [p_t - p, type one-hot].
fn observe(world: World, i: u32) -> array<f32, OBS_DIM> {
    var o: array<f32, OBS_DIM>;
    let own = world.agent_pos[i];
    o[0] = own.x;
    o[1] = own.y;
    o[2] = world.agent_vel[i].x;
    o[3] = world.agent_vel[i].y;
    var c = 4u;
    if (i < COLLECTORS) {
        let held = holding(world, i);
        for (var d = 0u; d < DEPOSITS; d++) {
            o[c + d] = select(0.0, 1.0, held == d + 1u);
        }
        c += DEPOSITS;
    }
    // Others by distance, stable (insertion sort of at most N - 1 indices).
    var order: array<u32, N>;
    var key: array<f32, N>;
    var count = 0u;
    for (var j = 0u; j < N; j++) {
        if (j == i) {
            continue;
        }
        let k = distance(world.agent_pos[j], own);
        var at = count;
        while (at > 0u && key[at - 1u] > k) {
            order[at] = order[at - 1u];
            key[at] = key[at - 1u];
            at -= 1u;
        }
        order[at] = j;
        key[at] = k;
        count += 1u;
    }
    for (var s = 0u; s < count; s++) {
        let j = order[s];
        let rel = world.agent_pos[j] - own;
        o[c] = rel.x;
        o[c + 1u] = rel.y;
        o[c + 2u] = world.agent_vel[j].x;
        o[c + 3u] = world.agent_vel[j].y;
        let held = select(holding(world, j), 0u, j >= COLLECTORS);
        for (var d = 0u; d < DEPOSITS; d++) {
            o[c + 4u + d] = select(0.0, 1.0, j >= COLLECTORS && j - COLLECTORS == d);
            o[c + 4u + DEPOSITS + d] = select(0.0, 1.0, held == d + 1u);
        }
        c += 4u + 2u * DEPOSITS;
    }
    // Treasures: live ones by distance, collected ones last (stable).
    var treasures: array<u32, T>;
    var tkey: array<f32, T>;
    for (var t = 0u; t < T; t++) {
        let alive = world.hidden[H_ALIVE + t] > 0.5;
        let k = select(3.4e38, distance(world.landmark_pos[t], own), alive);
        var at = t;
        while (at > 0u && tkey[at - 1u] > k) {
            treasures[at] = treasures[at - 1u];
            tkey[at] = tkey[at - 1u];
            at -= 1u;
        }
        treasures[at] = t;
        tkey[at] = k;
    }
    for (var s = 0u; s < T; s++) {
        let t = treasures[s];
        if (world.hidden[H_ALIVE + t] > 0.5) {
            let rel = world.landmark_pos[t] - own;
            o[c] = rel.x;
            o[c + 1u] = rel.y;
            let kind = u32(world.hidden[H_TYPE + t]);
            for (var d = 0u; d < DEPOSITS; d++) {
                o[c + 2u + d] = select(0.0, 1.0, kind == d);
            }
        }
        c += 2u + DEPOSITS;
    }
    return o;
}
