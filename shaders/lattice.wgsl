// Periodic square lattices (L×L sites per env, site = row·L + col), shared by the Ising env and
// its Metropolis reference. Needs rng.wgsl before it and the constants L and SITES.

// The four neighbours of `site` (up, down, left, right), wrapping around the edges.
fn lattice_neighbours(site: u32) -> vec4<u32> {
    let row = site / L;
    let col = site % L;
    let up = ((row + L - 1u) % L) * L + col;
    let down = ((row + 1u) % L) * L + col;
    let left = row * L + (col + L - 1u) % L;
    let right = row * L + (col + 1u) % L;
    return vec4<u32>(up, down, left, right);
}

// Probability that a site starts up (the initial magnetisation is 2·P_UP − 1).
const P_UP: f32 = {{p_up}};

// The spin (±1) of `site` at the start of episode `episode` of env `env`: up with probability
// P_UP, drawn from the stream (seed, env, episode), draw `site` — any invocation can compute any
// site's spin, so a reset needs no second pass to know its neighbours.
fn initial_spin(seed_lo: u32, seed_hi: u32, env: u32, episode: u32, site: u32) -> f32 {
    var rng = rng_stream(seed_lo, seed_hi, env, episode);
    rng.counter = site >> 2u;
    let u = unit_f32(rng_next4(&rng))[site & 3u];
    return select(-1.0, 1.0, u < P_UP);
}
