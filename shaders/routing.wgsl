// `routing`: V vehicles per env on a road network, each an agent choosing its next link at every
// node; the time to cross a link depends on how many vehicles are on it (BPR), counted on the
// device every step. The N-player form of the mean-field routing game (src/mfg/routing.rs), with
// the same clock: a vehicle decides at the step its waiting time runs out, enters the chosen
// link, and is given a waiting time max(0, ⌊t_link(v) / DT⌋ − 1) from the vehicles on that link
// at the next step (each vehicle weighs WEIGHT = the network's demand / V, so congestion matches
// the mean field at every V).
//
// One file, six launches selected by MODE (one binding list):
//   0 clear   — zero the per-link counters (one thread per env·link);
//   1 move    — deciding vehicles take their action; rewards;
//   2 count   — every vehicle still on the network adds itself to its link's counter (atomics);
//   3 assign  — vehicles that just entered a link get their waiting time; observations; flags;
//   4 respawn — every vehicle back on its origin link (next episode, or after a reset);
//   5 act     — sample actions from a tabular policy (the mean-field solution played by N).
// Needs grid.wgsl and rng.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const V: u32 = {{vehicles}}u;
const L: u32 = {{links}}u;
const N_DEST: u32 = {{destinations}}u;
const T: i32 = {{time_steps}};
const DT: f32 = {{time_step}};
const WEIGHT: f32 = {{weight}};
const MODE: u32 = {{mode}}u;
// Policy choices per (step, destination) block (mode 5).
const BLOCK: u32 = {{block}}u;
// One-hot road and destination, or (COMPACT) their indices scaled to [0, 1).
const COMPACT: bool = {{compact}};
const OBS_DIM: u32 = select(L + N_DEST + 3u, 5u, COMPACT);
// Offsets into `network`: successor starts, successor counts, policy slots, successors, trips.
const COUNT_AT: u32 = L;
const SLOT_AT: u32 = 2u * L;
const SUCC_AT: u32 = 3u * L;
const TRIP_AT: u32 = {{trip_at}}u;
// `decide` of a vehicle that entered a link this step and awaits its waiting time.
const PENDING: i32 = -1;
// `decide` of a vehicle that will never decide again (stuck in a sink; arrived).
const NEVER: i32 = 16777216;
// Steps added before flooring a travel time: f32's 0.05 is not 1/20, and 1.75 / 0.05 must be 35.
const STEP_ROUNDING: f32 = 1e-4;

// [step in episode, episode, seed lo, seed hi, command, 0, 0, 0]
@group(0) @binding(0) var<storage, read_write> clock: array<i32>;
// [envs·V] successor index 0..degree of the deciding vehicles; others are ignored.
@group(0) @binding(1) var<storage, read_write> actions: array<i32>;
// [envs·V] (link, step it decides next, arrival step or −1, 1 if stuck in a sink)
@group(0) @binding(2) var<storage, read_write> vehicle: array<vec4<i32>>;
// the network and the trips, see the offsets above; trips: [V] (origin, destination,
// first decision step, destination index)
@group(0) @binding(3) var<storage, read_write> network: array<i32>;
// [L] (free-flow time, BPR a, BPR b, capacity)
@group(0) @binding(4) var<storage, read_write> bpr: array<vec4<f32>>;
// [envs·L] vehicles counted on each link this step
@group(0) @binding(5) var<storage, read_write> link_count: array<atomic<u32>>;
// [envs·V·OBS_DIM]
@group(0) @binding(6) var<storage, read_write> obs: array<f32>;
// [envs·V]
@group(0) @binding(7) var<storage, read_write> reward: array<f32>;
// [envs·V] (return of the running episode, invalid actions)
@group(0) @binding(8) var<storage, read_write> agent_acc: array<vec2<f32>>;
// [2·envs]: done, then truncated
@group(0) @binding(9) var<storage, read_write> flags: array<f32>;
// mode 5: [T·N_DEST·BLOCK] action probabilities; otherwise unused
@group(0) @binding(10) var<storage, read_write> policy: array<f32>;

fn trip(v: u32) -> vec4<i32> {
    let at = TRIP_AT + 4u * v;
    return vec4<i32>(network[at], network[at + 1u], network[at + 2u], network[at + 3u]);
}

fn on_network(s: vec4<i32>) -> bool {
    return s.z < 0 && s.w == 0;
}

fn move_vehicle(index: u32, t: i32) {
    var s = vehicle[index];
    let goal = trip(index % V);
    var r = select(0.0, -DT, s.z < 0);
    var invalid = 0.0;
    if (on_network(s) && s.y == t) {
        let link = u32(s.x);
        let degree = network[COUNT_AT + link];
        let a = actions[index];
        let valid = a >= 0 && a < degree;
        invalid = select(1.0, 0.0, valid);
        let next = network[SUCC_AT + u32(network[link]) + u32(select(0, a, valid))];
        s.x = next;
        if (next == goal.y) {
            // Arrived at step t: the t steps before it were paid at −DT each.
            s.z = t;
            s.y = NEVER;
            r = 0.0;
        } else if (network[COUNT_AT + u32(next)] == 0) {
            s.w = 1;
            s.y = NEVER;
        } else {
            s.y = PENDING;
        }
        vehicle[index] = s;
    }
    // Not arrived by the end: (T + 1)·DT in all, as in OpenSpiel.
    r = r - select(0.0, DT, t == T - 1 && s.z < 0);
    reward[index] = r;
    let acc = agent_acc[index];
    agent_acc[index] = vec2<f32>(select(acc.x + r, r, t == 0), acc.y + invalid);
}

fn count_vehicle(index: u32, t: i32) {
    let s = vehicle[index];
    // Counted as OpenSpiel's distribution support counts: just entered, or waiting < T.
    if (on_network(s) && (s.y == PENDING || s.y <= t + T)) {
        atomicAdd(&link_count[(index / V) * L + u32(s.x)], 1u);
    }
}

fn power(x: f32, b: f32) -> f32 {
    if (b == 0.0) {
        return 1.0;
    }
    if (x <= 0.0) {
        return 0.0;
    }
    return pow(x, b);
}

fn write_obs(index: u32, now: i32) {
    let s = vehicle[index];
    let o = index * OBS_DIM;
    var tail = o + 2u;
    if (COMPACT) {
        obs[o] = f32(s.x) / f32(L);
        obs[o + 1u] = f32(trip(index % V).w) / f32(N_DEST);
    } else {
        for (var i = 0u; i < OBS_DIM; i = i + 1u) {
            obs[o + i] = 0.0;
        }
        obs[o + u32(s.x)] = 1.0;
        obs[o + L + u32(trip(index % V).w)] = 1.0;
        tail = o + L + N_DEST;
    }
    obs[tail] = f32(now) / f32(T);
    obs[tail + 1u] = select(0.0, 1.0, on_network(s) && s.y == now);
    obs[tail + 2u] = select(1.0, 0.0, on_network(s));
}

fn assign_vehicle(index: u32, t: i32) {
    var s = vehicle[index];
    if (on_network(s) && s.y == PENDING) {
        let link = u32(s.x);
        let c = bpr[link];
        let volume = f32(atomicLoad(&link_count[(index / V) * L + link])) * WEIGHT;
        let travel = c.x * (1.0 + c.y * power(volume / c.w, c.z));
        let steps = floor(travel / DT + STEP_ROUNDING);
        let wait = i32(min(max(steps, 1.0), f32(2 * T))) - 1;
        s.y = t + 1 + wait;
        vehicle[index] = s;
    }
    write_obs(index, t + 1);
    if (index % V == 0u) {
        let env = index / V;
        flags[env] = select(0.0, 1.0, t == T - 1);
        flags[N_ENVS + env] = 0.0;
    }
}

fn respawn_vehicle(index: u32) {
    let goal = trip(index % V);
    vehicle[index] = vec4<i32>(goal.x, min(goal.z, NEVER), -1, 0);
    write_obs(index, 0);
}

fn act_vehicle(index: u32, t: i32) {
    let s = vehicle[index];
    var choice = 0;
    if (on_network(s) && s.y == t) {
        let link = u32(s.x);
        let goal = trip(index % V);
        let at = (u32(t) * N_DEST + u32(goal.w)) * BLOCK + u32(network[SLOT_AT + link]);
        var rng = rng_stream(u32(clock[2]), u32(clock[3]) ^ 0x5bd1e995u, index, u32(clock[1] * T + t));
        let u = unit_f32(rng_next4(&rng)).x;
        let degree = network[COUNT_AT + link];
        var cumulative = 0.0;
        choice = degree - 1;
        for (var k = 0; k < degree; k = k + 1) {
            cumulative = cumulative + policy[at + u32(k)];
            if (u < cumulative) {
                choice = k;
                break;
            }
        }
    }
    actions[index] = choice;
}

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    let t = clock[0];
    if (MODE == 0u) {
        if (index < N_ENVS * L) {
            atomicStore(&link_count[index], 0u);
        }
        return;
    }
    if (index >= N_ENVS * V) {
        return;
    }
    if (MODE == 1u) {
        move_vehicle(index, t);
    } else if (MODE == 2u) {
        count_vehicle(index, t);
    } else if (MODE == 3u) {
        assign_vehicle(index, t);
    } else if (MODE == 4u) {
        respawn_vehicle(index);
    } else {
        act_vehicle(index, t);
    }
}
