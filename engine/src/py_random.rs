//! CPython's `random.Random` (MT19937), draw for draw: a canary draw that runs here takes the same numbers
//! from the same state as the Python code it stands in for, and hands the state back.
//!
//! The state is `Random.getstate()[1]`: the 624 words and the index (625 ints); `getrandbits` and
//! `_randbelow` are `Modules/_randommodule.c`'s and `Lib/random.py`'s (`_randbelow_with_getrandbits`).

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
    /// From `getstate()[1]`; None when it is not 624 words and an index in 0..=624.
    pub fn from_state(state: &[u64]) -> Option<PyRandom> {
        if state.len() != N + 1 || state[N] > N as u64 || state[..N].iter().any(|&w| w > u32::MAX as u64) {
            return None;
        }
        let mut mt = [0u32; N];
        for (slot, &word) in mt.iter_mut().zip(state) {
            *slot = word as u32;
        }
        Some(PyRandom { mt, index: state[N] as usize })
    }

    /// The state as `setstate` takes it back (the second item of its tuple).
    pub fn state(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self.mt.iter().map(|&w| w as u64).collect();
        out.push(self.index as u64);
        out
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
