// simple_world_comm (MPE predator–prey with a leader, food and forests): the scenario's part of
// the step kernel; the batch skeleton is mpe_batch.wgsl (needs it, and what it needs, before
// this file).
//
// Faithful to mpe2 1.1.1's simple_world_comm_v3 (tests/data/MPE_SPEC.md §8): agent 0 is the
// leader (an adversary that speaks 4-vectors), agents 1..ADVERSARIES the other adversaries, the
// rest good agents. Landmarks are the obstacles (they collide), the food (good agents eat) and the
// forests (they hide who is inside), in that order. Adversaries' rewards are shaped.

const ADVERSARIES: u32 = {{adversaries}}u;
const LEADER: u32 = 0u;
const ADVERSARY_SIZE: f32 = 0.075;
const GOOD_SIZE: f32 = 0.045;
const OBSTACLES: u32 = {{obstacles}}u;
const FOOD: u32 = {{food}}u;
const FORESTS: u32 = {{forests}}u;
const FIRST_FOOD: u32 = OBSTACLES;
const FIRST_FOREST: u32 = OBSTACLES + FOOD;
const OBSTACLE_SIZE: f32 = 0.2;
const FOOD_SIZE: f32 = 0.03;
const FOREST_SIZE: f32 = 0.3;

fn agent_size(i: u32) -> f32 {
    return team_size(i, ADVERSARIES, vec2<f32>(ADVERSARY_SIZE, GOOD_SIZE));
}

// Scenario.reset_world: agents uniform in [-1, 1]²; every landmark in [-0.9, 0.9]²; then the
// food and the forests again (mpe2 draws them twice and keeps the second draws).
fn spawn_world(env: u32, seed_lo: u32, seed_hi: u32, episode: u32) -> World {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    var world: World;
    spawn_agents(&rng, &world, -1.0, 1.0);
    spawn_landmarks(&rng, &world, 0u, L, -0.9, 0.9);
    return world;
}

// Agent pairs push both ways; the obstacle pushes agents. Food and forests do not collide.
fn contact_forces(world: ptr<function, World>, force: ptr<function, array<vec2<f32>, N>>) {
    team_contacts(world, force, ADVERSARIES, vec2<f32>(ADVERSARY_SIZE, GOOD_SIZE), OBSTACLES, OBSTACLE_SIZE);
}

fn touching(world: World, a: u32, b: u32) -> bool {
    return distance(world.agent_pos[a], world.agent_pos[b]) < agent_size(a) + agent_size(b);
}

fn in_forest(world: World, i: u32, f: u32) -> bool {
    return distance(world.agent_pos[i], world.landmark_pos[FIRST_FOREST + f]) < agent_size(i) + FOREST_SIZE;
}

// Scenario.agent_reward / adversary_reward (shaped): good agents lose 5 per adversary touching
// them and twice the square's penalty, gain 2 per food they touch, and are drawn to the nearest
// food; adversaries gain 5 per (good, adversary) touch and are drawn to the nearest good agent.
fn write_rewards(env: u32, world: World) -> f32 {
    var touches = 0.0;
    var sum = 0.0;
    for (var i = ADVERSARIES; i < N; i++) {
        var r = 0.0;
        for (var a = 0u; a < ADVERSARIES; a++) {
            if (touching(world, a, i)) {
                r -= 5.0;
                touches += 1.0;
            }
        }
        let p = world.agent_pos[i];
        r -= 2.0 * (bound_penalty(abs(p.x)) + bound_penalty(abs(p.y)));
        var nearest_food = 3.4e38;
        for (var f = FIRST_FOOD; f < FIRST_FOREST; f++) {
            let d = distance(world.landmark_pos[f], p);
            if (d < GOOD_SIZE + FOOD_SIZE) {
                r += 2.0;
            }
            nearest_food = min(nearest_food, d);
        }
        r -= 0.05 * nearest_food;
        reward[env * N + i] = r;
        sum += r;
    }
    for (var a = 0u; a < ADVERSARIES; a++) {
        var nearest_good = 3.4e38;
        for (var g = ADVERSARIES; g < N; g++) {
            nearest_good = min(nearest_good, distance(world.agent_pos[g], world.agent_pos[a]));
        }
        let r = -0.1 * nearest_good + 5.0 * touches;
        reward[env * N + a] = r;
        sum += r;
    }
    return sum / f32(N);
}

// Whether agent i sees agent j: both in one forest, both outside every forest, or i the leader.
fn sees(world: World, i: u32, j: u32) -> bool {
    var together = false;
    var i_hidden = false;
    var j_hidden = false;
    for (var f = 0u; f < FORESTS; f++) {
        let i_in = in_forest(world, i, f);
        let j_in = in_forest(world, j, f);
        together = together || (i_in && j_in);
        i_hidden = i_hidden || i_in;
        j_hidden = j_hidden || j_in;
    }
    return together || (!i_hidden && !j_hidden) || i == LEADER;
}

// Scenario.observation: [v, p, landmarks - p, others - p (zeros if unseen), ...]; adversaries
// then the good agents' velocities, the forest flags and the leader's words; good agents the
// forest flags, then the other good agents' velocities.
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
    var velocities: array<vec2<f32>, N>;
    var seen_good = 0u;
    for (var j = 0u; j < N; j++) {
        if (j == i) {
            continue;
        }
        let visible = sees(world, i, j);
        let rel = select(vec2<f32>(0.0), world.agent_pos[j] - own, visible);
        o[c] = rel.x;
        o[c + 1u] = rel.y;
        c += 2u;
        if (j >= ADVERSARIES) {
            velocities[seen_good] = select(vec2<f32>(0.0), world.agent_vel[j], visible);
            seen_good += 1u;
        }
    }
    let adversary = i < ADVERSARIES;
    if (adversary) {
        for (var k = 0u; k < seen_good; k++) {
            o[c] = velocities[k].x;
            o[c + 1u] = velocities[k].y;
            c += 2u;
        }
    }
    for (var f = 0u; f < FORESTS; f++) {
        o[c] = select(-1.0, 1.0, in_forest(world, i, f));
        c += 1u;
    }
    if (adversary) {
        for (var k = 0u; k < DIM_C; k++) {
            o[c + k] = world.comm[LEADER * DIM_C + k];
        }
    } else {
        for (var k = 0u; k < seen_good; k++) {
            o[c] = velocities[k].x;
            o[c + 1u] = velocities[k].y;
            c += 2u;
        }
    }
    return o;
}
