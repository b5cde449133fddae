// Metropolis Monte Carlo for the 2-D Ising model: the physics reference for the Ising env.
//
// Checkerboard updates: sites of one colour ((row + col) even or odd) have neighbours only of the
// other colour, so all of them can be updated at once without changing the Markov chain; a sweep
// is one launch per colour (COLOR is a template constant). A site flips with probability
// min(1, exp(−ΔE/T)), ΔE = 2·s·(J·Σ s_k + h), with one temperature per env. Random numbers are
// keyed by (seed, env, 2·sweep + colour) and drawn by site, so a run depends on its seed only.
// Needs grid.wgsl, rng.wgsl, lattice.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const L: u32 = {{size}}u;
const SITES: u32 = L * L;
const HALF: u32 = SITES / 2u;
const COLOR: u32 = {{color}}u;
const COUPLING: f32 = {{coupling}};
const FIELD: f32 = {{field}};

// [sweep, seed lo, seed hi, 0]
@group(0) @binding(0) var<storage, read_write> sweep_clock: array<i32>;
// [envs, sites] ±1
@group(0) @binding(1) var<storage, read_write> spins: array<f32>;
// [envs]
@group(0) @binding(2) var<storage, read_write> temperature: array<f32>;

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (index >= N_ENVS * HALF) {
        return;
    }
    let env = index / HALF;
    let k = index % HALF;
    let row = k / (L / 2u);
    let col = 2u * (k % (L / 2u)) + ((row + COLOR) & 1u);
    let site = row * L + col;
    let nb = lattice_neighbours(site);
    let base = env * SITES;
    let s = spins[base + site];
    let field = COUPLING * (spins[base + nb.x] + spins[base + nb.y] + spins[base + nb.z] + spins[base + nb.w]) + FIELD;
    let delta_energy = 2.0 * s * field;

    var rng = rng_stream(bitcast<u32>(sweep_clock[1]), bitcast<u32>(sweep_clock[2]), env, 2u * u32(sweep_clock[0]) + COLOR);
    rng.counter = site >> 2u;
    let u = unit_f32(rng_next4(&rng))[site & 3u];
    // exp of a large positive argument overflows to +inf, which still compares correctly.
    let accept = u < exp(-delta_energy / temperature[env]);
    spins[base + site] = select(s, -s, accept);
}
