//! CPython's `random.Random` (MT19937), draw for draw: a canary draw that runs here takes the same numbers
//! as the Python code it stands in for, from `random.Random(seed)` for the same int seed.
//!
//! Seeding is `Modules/_randommodule.c`'s `random_seed` for a non-negative int (`init_by_array` over its
//! 32-bit words, least significant first); `getrandbits` and `_randbelow` are `_randommodule.c`'s and
//! `Lib/random.py`'s (`_randbelow_with_getrandbits`).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for an int `seed` below 2^64.
    pub fn from_seed(seed: u64) -> PyRandom {
        let key: &[u32] = &[seed as u32, (seed >> 32) as u32];
        Self::by_array(if seed >> 32 == 0 { &key[..1] } else { key })  // 0 too is one word
    }

    fn by_array(key: &[u32]) -> PyRandom {
        let mut mt = [0u32; N];
        mt[0] = 19_650_218;
        for i in 1..N {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let mixed = (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525);
            mt[i] = (mt[i] ^ mixed).wrapping_add(key[j]).wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let mixed = (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941);
            mt[i] = (mt[i] ^ mixed).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        PyRandom { mt, index: N }
    }

    fn genrand_uint32(&mut self) -> u32 {
        let mag = |y: u32| if y & 1 == 1 { MATRIX_A } else { 0 };
        if self.index >= N {
            let mt = &mut self.mt;
            for kk in 0..N - M {
                let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M] ^ (y >> 1) ^ mag(y);
            }
            for kk in N - M..N - 1 {
                let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M - N] ^ (y >> 1) ^ mag(y);
            }
            let y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
            mt[N - 1] = mt[M - 1] ^ (y >> 1) ^ mag(y);
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `getrandbits(k)` for `k <= 64`: 32-bit words, the least significant first.
    fn getrandbits(&mut self, k: u32) -> u64 {
        if k == 0 {
            return 0;
        }
        if k <= 32 {
            return (self.genrand_uint32() >> (32 - k)) as u64;
        }
        let low = self.genrand_uint32() as u64;
        let high = (self.genrand_uint32() >> (64 - k)) as u64;
        low | (high << 32)
    }

    /// `_randbelow(n)` (what `randrange(n)` and `choice` use), `n >= 1`.
    pub fn below(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PyRandom;

    /// `random.Random(seed)`'s first draws, as CPython 3.11 gives them: `[r.getrandbits(32) for _ in
    /// range(3)]`, then `r.getrandbits(64)`; one word of seed, two, and each word's edge.
    #[test]
    fn seeding_is_cpythons() {
        let cases: [(u64, [u64; 4]); 6] = [
            (0, [3626764237, 1654615998, 3255389356, 7758176404715800194]),
            (1, [577090037, 2444712010, 3639700191, 14089154938208861744]),
            (u32::MAX as u64, [2728839433, 2661025012, 872737089, 11203936300126224297]),
            (1 << 32, [485306839, 1508871100, 1794561286, 307624781732766930]),
            ((1 << 40) + 5, [2166296868, 2220160828, 1153647273, 17077747508935831298]),
            (u64::MAX, [93740670, 1068495656, 1452108352, 3910109989525945107]),
        ];
        for (seed, expected) in cases {
            let mut rng = PyRandom::from_seed(seed);
            let drawn = [rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(64)];
            assert_eq!(drawn, expected, "seed {seed}");
        }
        assert_eq!(PyRandom::from_seed(0).below(1000), 864);
        assert_eq!(PyRandom::from_seed(u64::MAX).below(1000), 22);
    }
}
