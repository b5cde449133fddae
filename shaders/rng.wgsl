// Counter-based random numbers: no state to carry, only keys.
//
// A stream is keyed by (seed, a, b), e.g. (seed, env index, episode index): the numbers an env
// draws depend on nothing else, so env i's episodes are the same whatever the batch size and
// whatever the other envs do. Draws come 4 at a time from pcg4d (Jarzynski & Olano, "Hash
// Functions for GPU Rendering", JCGT 2020), a 4-D hash with good statistical quality at the cost
// of a few multiplies; the draw counter is the fourth input.

fn pcg4d(input: vec4<u32>) -> vec4<u32> {
    var v = input * 1664525u + vec4<u32>(1013904223u);
    v.x += v.y * v.w;
    v.y += v.z * v.x;
    v.z += v.x * v.y;
    v.w += v.y * v.z;
    v = v ^ (v >> vec4<u32>(16u));
    v.x += v.y * v.w;
    v.y += v.z * v.x;
    v.z += v.x * v.y;
    v.w += v.y * v.z;
    return v;
}

struct Rng {
    key: vec4<u32>,
    counter: u32,
}

// A stream for 64-bit `seed` (as two words) and two stream indices.
fn rng_stream(seed_lo: u32, seed_hi: u32, stream_a: u32, stream_b: u32) -> Rng {
    return Rng(pcg4d(vec4<u32>(seed_lo, seed_hi, stream_a, stream_b)), 0u);
}

// The next four independent 32-bit draws of the stream.
fn rng_next4(rng: ptr<function, Rng>) -> vec4<u32> {
    let key = (*rng).key;
    let out = pcg4d(vec4<u32>(key.x, key.y ^ (*rng).counter, key.z, key.w + 0x9E3779B9u * (*rng).counter));
    (*rng).counter += 1u;
    return out;
}

// Uniform in [0, 1) from the top 24 bits (every value exactly representable in f32).
fn unit_f32(bits: vec4<u32>) -> vec4<f32> {
    return vec4<f32>(bits >> vec4<u32>(8u)) * (1.0 / 16777216.0);
}

// Four uniforms in [lo, hi).
fn rng_uniform4(rng: ptr<function, Rng>, lo: f32, hi: f32) -> vec4<f32> {
    return vec4<f32>(lo) + (hi - lo) * unit_f32(rng_next4(rng));
}

// An integer uniform in [0, n) (numpy's `integers(n)` in distribution), from one draw; n ≥ 1.
fn rng_below(rng: ptr<function, Rng>, n: u32) -> u32 {
    return min(u32(unit_f32(rng_next4(rng)).x * f32(n)), n - 1u);
}

// A standard normal draw: Box–Muller on two uniforms of one draw (the first kept off 0).
fn rng_normal(rng: ptr<function, Rng>) -> f32 {
    let u = unit_f32(rng_next4(rng));
    return sqrt(-2.0 * log(1.0 - u.x)) * cos(6.283185307179586 * u.y);
}
