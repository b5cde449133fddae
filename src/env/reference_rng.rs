//! NumPy's default generator on the host, bit for bit: what PettingZoo's envs draw their episodes
//! from, so that shoal can start an episode exactly where the reference does for the same seed.
//!
//! PettingZoo (through Gymnasium's `seeding.np_random`) seeds an env with
//! `np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))`, and mpe2's scenarios draw
//! every initial position with `np_random.uniform(-1, 1, 2)`. A PettingZoo user who passes the
//! same seed to shoal and to mpe2 expects the same episode; the device's counter-based RNG
//! (`shaders/rng.wgsl`, keyed by env and episode so that batches are reproducible at any size)
//! cannot give that, so [`NumpyGenerator`] does it on the host, once per reset, and the world it
//! draws is uploaded ([`crate::env::BatchedEnv::reset_from_reference`]). Stepping is the device's
//! as always.
//!
//! Four parts, each as NumPy (1.17+) defines it: `SeedSequence`'s entropy pool and
//! `generate_state` (numpy/random/bit_generator.pyx), PCG64 — the 128-bit LCG with the XSL-RR
//! output, stepped before each draw (numpy/random/src/pcg64), whose 32-bit draws split a 64-bit
//! one and keep its upper half for the next — `random`/`uniform`, 53 bits per double, and
//! `integers(n)`, Lemire's multiply-and-reject on 32-bit draws. The unit tests hold values printed by NumPy 2.4; the Python tests compare live
//! against mpe2.

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
/// `SeedSequence`'s default pool size, in 32-bit words.
const POOL_SIZE: usize = 4;
/// PCG64's multiplier (PCG's 128-bit default).
const PCG_MULT: u128 = (0x2360_ed05_1fc6_5da4 << 64) | 0x4385_df64_9fcc_f645;

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut value = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    value = value.wrapping_mul(*hash_const);
    value ^ (value >> XSHIFT)
}

fn mix(x: u32, y: u32) -> u32 {
    let result = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    result ^ (result >> XSHIFT)
}

/// `np.random.SeedSequence(seed)` for a non-negative integer seed: its mixed entropy pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSequence {
    pool: [u32; POOL_SIZE],
}

impl SeedSequence {
    /// The sequence NumPy builds from `seed` (no spawn key).
    pub fn new(seed: u64) -> SeedSequence {
        // The integer as little-endian 32-bit words, at least one (0 is `[0]`).
        let entropy: Vec<u32> = if seed >> 32 == 0 { vec![seed as u32] } else { vec![seed as u32, (seed >> 32) as u32] };
        let mut pool = [0u32; POOL_SIZE];
        let mut hash_const = INIT_A;
        for (i, word) in pool.iter_mut().enumerate() {
            *word = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
        }
        for src in 0..POOL_SIZE {
            for dst in 0..POOL_SIZE {
                if src != dst {
                    pool[dst] = mix(pool[dst], hashmix(pool[src], &mut hash_const));
                }
            }
        }
        // Entropy longer than the pool is folded in after; a u64 never is (2 words ≤ 4).
        SeedSequence { pool }
    }

    /// `generate_state(n, np.uint64)`: 2n 32-bit words from the pool, paired little-endian.
    pub fn generate_state_u64(&self, n: usize) -> Vec<u64> {
        let mut hash_const = INIT_B;
        let words: Vec<u32> = (0..2 * n)
            .map(|i| {
                let mut value = self.pool[i % POOL_SIZE] ^ hash_const;
                hash_const = hash_const.wrapping_mul(MULT_B);
                value = value.wrapping_mul(hash_const);
                value ^ (value >> XSHIFT)
            })
            .collect();
        words.chunks(2).map(|pair| pair[0] as u64 | (pair[1] as u64) << 32).collect()
    }
}

/// `np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumpyGenerator {
    state: u128,
    increment: u128,
    /// The upper half of a 64-bit draw whose lower half a 32-bit draw used (NumPy's PCG64 keeps
    /// it for the next 32-bit draw, across calls; doubles never touch it).
    buffered_u32: Option<u32>,
}

impl NumpyGenerator {
    /// The generator Gymnasium's `seeding.np_random(seed)` returns.
    pub fn new(seed: u64) -> NumpyGenerator {
        let words = SeedSequence::new(seed).generate_state_u64(4);
        let initial_state = (words[0] as u128) << 64 | words[1] as u128;
        let stream = (words[2] as u128) << 64 | words[3] as u128;
        let mut rng = NumpyGenerator { state: 0, increment: (stream << 1) | 1, buffered_u32: None };
        rng.advance();
        rng.state = rng.state.wrapping_add(initial_state);
        rng.advance();
        rng
    }

    fn advance(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.increment);
    }

    /// The next 64 random bits (`bit_generator.random_raw()`).
    pub fn next_u64(&mut self) -> u64 {
        self.advance();
        let rotation = (self.state >> 122) as u32;
        (((self.state >> 64) as u64) ^ self.state as u64).rotate_right(rotation)
    }

    /// 32 random bits: the buffered upper half of the last split draw, else the lower half of a
    /// new one (PCG64's `next_uint32`).
    fn next_u32(&mut self) -> u32 {
        if let Some(upper) = self.buffered_u32.take() {
            return upper;
        }
        let draw = self.next_u64();
        self.buffered_u32 = Some((draw >> 32) as u32);
        draw as u32
    }

    /// `Generator.integers(n)` for `1 ≤ n ≤ 2³²`: an integer in `0..n` by Lemire's method on
    /// 32-bit draws, rejecting as NumPy does (`random_bounded_uint64` → the 32-bit Lemire path).
    pub fn integers(&mut self, n: u32) -> u32 {
        let range = n.saturating_sub(1);
        if range == 0 {
            return 0;
        }
        let exclusive = range as u64 + 1;
        let mut m = self.next_u32() as u64 * exclusive;
        let mut leftover = m as u32;
        if (leftover as u64) < exclusive {
            let threshold = ((u32::MAX - range) as u64 % exclusive) as u32;
            while leftover < threshold {
                m = self.next_u32() as u64 * exclusive;
                leftover = m as u32;
            }
        }
        (m >> 32) as u32
    }

    /// A double in [0, 1) from the top 53 bits (`Generator.random()`).
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `Generator.uniform(low, high)`: `low + (high - low) · random()`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random()
    }

    /// `Generator.uniform(low, high, n)` as f32 (the device's precision), drawn in order.
    pub fn uniform_f32(&mut self, low: f64, high: f64, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.uniform(low, high) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Printed by NumPy 2.4.6: `np.random.SeedSequence(s).generate_state(4, np.uint64)`,
    // `PCG64(SeedSequence(s)).random_raw(3)` and `Generator(...).uniform(-1, 1, 4)`.
    #[test]
    fn seed_sequence_matches_numpy() {
        assert_eq!(SeedSequence::new(0).generate_state_u64(4), [0xdb2cd7e7b0f478be, 0xabf4641a2c71ba49, 0x20c6ed6d9d7b8d41, 0x2c4099de223c39d4]);
        assert_eq!(SeedSequence::new(42).generate_state_u64(4), [0x9f1e2e6dcd540ab7, 0xd57873dc79fb94b6, 0x7d282a1b64d420b7, 0x336579714692d5ff]);
        assert_eq!(SeedSequence::new((1 << 40) + 7).generate_state_u64(4), [0xd8672e10e3d1a15, 0x9aef4ada4ecfa161, 0x999c1c3b83dba903, 0x408927dc0dc8a316]);
    }

    #[test]
    fn pcg64_matches_numpy() {
        let cases: [(u64, [u64; 3]); 3] = [
            (0, [0xa30febcfd9c2825f, 0x4510bdf882d9d721, 0xa7d3da94ecde8b8]),
            (42, [0xc621fbcd16d92688, 0x705a5661a791ffc1, 0xdbcd12c26eda1624]),
            ((1 << 40) + 7, [0xd46e9e2034de21aa, 0x415badc99c087675, 0x275ed40f045acb84]),
        ];
        for (seed, raw) in cases {
            let mut rng = NumpyGenerator::new(seed);
            assert_eq!([rng.next_u64(), rng.next_u64(), rng.next_u64()], raw, "seed {seed}");
        }
    }

    #[test]
    fn integers_match_numpy_and_share_the_32_bit_buffer_across_calls() {
        // NumPy: integers(3), uniform(-1, 1), integers(2), integers(2), uniform(-1, 1),
        // integers(5), integers(1000000007) from seed 42; twelve integers(3) from seed 7.
        let mut rng = NumpyGenerator::new(42);
        assert_eq!(rng.integers(3), 0);
        assert_eq!(rng.uniform(-1.0, 1.0), -0.12224312049589536);
        assert_eq!([rng.integers(2), rng.integers(2)], [1, 0]);
        assert_eq!(rng.uniform(-1.0, 1.0), 0.3947360581187278);
        assert_eq!([rng.integers(5), rng.integers(1_000_000_007)], [4, 201469537]);
        let mut rng = NumpyGenerator::new(7);
        let drawn: Vec<u32> = (0..12).map(|_| rng.integers(3)).collect();
        assert_eq!(drawn, [2, 1, 2, 2, 1, 2, 2, 0, 0, 0, 0, 2]);
    }

    #[test]
    fn uniform_matches_numpy() {
        let cases: [(u64, [f64; 4]); 3] = [
            (0, [0.2739233746429086, -0.4604265724722594, -0.9180529521276106, -0.9669447289429418]),
            (42, [0.5479120971119267, -0.12224312049589536, 0.7171958398227649, 0.3947360581187278]),
            ((1 << 40) + 7, [0.659625783658826, -0.48938968330179167, -0.6924185682940249, 0.3490090917352171]),
        ];
        for (seed, expected) in cases {
            let mut rng = NumpyGenerator::new(seed);
            let drawn: Vec<f64> = (0..4).map(|_| rng.uniform(-1.0, 1.0)).collect();
            assert_eq!(drawn, expected, "seed {seed}");
        }
    }
}
