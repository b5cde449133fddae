// The Ising model as a multi-agent env (Yang et al. 2018, "Mean Field Multi-Agent RL", §5.1):
// every site of an L×L periodic lattice is an agent whose action is its spin (0 → −1, 1 → +1).
// All agents act at once; agent j then gets
//     r_j = h·s_j + (J/2)·s_j·Σ_{k∈N(j)} s_k
// and observes (s_j, mean spin of its 4 neighbours) — the neighbours' mean action ā_j.
//
// One invocation per site. Episodes have a fixed length, so every env of the batch is at the same
// step: the host knows when episodes end and keeps the clock (step, episode, seed, command) in a
// small device buffer that it advances with a tensor add, never a transfer. At the last step of
// an episode the lattice is redrawn (a fair coin per site from the stream (seed, env, episode)).
// Needs grid.wgsl, rng.wgsl, lattice.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const L: u32 = {{size}}u;
const SITES: u32 = L * L;
const MAX_CYCLES: u32 = {{max_cycles}}u;
const COUPLING: f32 = {{coupling}};
const FIELD: f32 = {{field}};
const COMMAND_RESET: i32 = 1;

// [step in episode, episode, seed lo, seed hi, command, 0, 0, 0]
@group(0) @binding(0) var<storage, read_write> clock: array<i32>;
// [envs, sites] in {0, 1}; anything else keeps the old spin and is counted as invalid.
@group(0) @binding(1) var<storage, read_write> actions: array<i32>;
// [envs, sites] ±1
@group(0) @binding(2) var<storage, read_write> spins: array<f32>;
// [envs, sites] (own spin, neighbours' mean spin)
@group(0) @binding(3) var<storage, read_write> obs: array<vec2<f32>>;
// [envs, sites]
@group(0) @binding(4) var<storage, read_write> reward: array<f32>;
// [2, envs]: done, then truncated
@group(0) @binding(5) var<storage, read_write> flags: array<f32>;
// [envs, sites] (return of the running episode so far, invalid actions)
@group(0) @binding(6) var<storage, read_write> site_acc: array<vec2<f32>>;

fn spin_of(env: u32, site: u32) -> f32 {
    let a = actions[env * SITES + site];
    return select(spins[env * SITES + site], f32(2 * a - 1), a == 0 || a == 1);
}

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (index >= N_ENVS * SITES) {
        return;
    }
    let env = index / SITES;
    let site = index % SITES;
    let step = u32(clock[0]);
    let episode = u32(clock[1]);
    let seed_lo = bitcast<u32>(clock[2]);
    let seed_hi = bitcast<u32>(clock[3]);
    let resetting = clock[4] == COMMAND_RESET;
    let nb = lattice_neighbours(site);

    // The step: everyone's new spin is their action (read from the actions of the neighbours, so
    // no invocation depends on another's write).
    let a = actions[index];
    let valid = a == 0 || a == 1;
    let s = spin_of(env, site);
    let neighbour_sum = spin_of(env, nb.x) + spin_of(env, nb.y) + spin_of(env, nb.z) + spin_of(env, nb.w);
    let r = select(FIELD * s + 0.5 * COUPLING * s * neighbour_sum, 0.0, resetting);
    let ends = !resetting && step + 1u == MAX_CYCLES;

    // A reset or an episode end draws the next lattice; any site's initial spin is a hash.
    let next_episode = select(episode + 1u, episode, resetting);
    let fresh = resetting || ends;
    let fresh_spin = initial_spin(seed_lo, seed_hi, env, next_episode, site);
    let fresh_sum = initial_spin(seed_lo, seed_hi, env, next_episode, nb.x)
        + initial_spin(seed_lo, seed_hi, env, next_episode, nb.y)
        + initial_spin(seed_lo, seed_hi, env, next_episode, nb.z)
        + initial_spin(seed_lo, seed_hi, env, next_episode, nb.w);

    let out_spin = select(s, fresh_spin, fresh);
    spins[index] = out_spin;
    obs[index] = vec2<f32>(out_spin, 0.25 * select(neighbour_sum, fresh_sum, fresh));
    reward[index] = r;
    // The first step of an episode starts the running return over; the last leaves it complete.
    let acc = site_acc[index];
    let running = select(acc.x, 0.0, step == 0u || resetting);
    site_acc[index] = vec2<f32>(running + r, select(acc.y + select(1.0, 0.0, valid), 0.0, resetting));
    if (site == 0u) {
        flags[env] = select(0.0, 1.0, ends);
        flags[N_ENVS + env] = select(0.0, 1.0, ends);
    }
}
