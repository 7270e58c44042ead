//! Which phones an export has carried on more than one row: `tracer/phone_counts.py`'s answers (a
//! `Counter` emptied before the row that finds it at its limit), in an open-addressing table of the
//! digests themselves.
//!
//! The digests are keyed BLAKE2b, uniform already: a digest is its own hash (its place is its top bits
//! scaled to the table), so nobody can choose phones that collide.  The table is sized for the limit
//! once (8 bytes a slot, a bit for "more than once"), so memory does not grow with the export; asked
//! from Python a phone at a time, an answer costs a call, not a numpy search.

const EMPTY: i64 = i64::MIN;  // no digest in this slot (the digest i64::MIN itself is kept apart)

pub struct PhoneCounts {
    limit: usize,
    slots: Vec<i64>,
    many: Vec<u64>,  // bit i: slots[i] was seen more than once
    used: usize,
    min: Option<bool>,  // the digest EMPTY: seen (and whether more than once)
}

impl PhoneCounts {
    pub fn new(limit: usize) -> PhoneCounts {
        let size = (limit + limit / 4).max(16);
        PhoneCounts { limit, slots: vec![EMPTY; size], many: vec![0; size.div_ceil(64)], used: 0, min: None }
    }

    /// Distinct phones since the count last emptied.
    pub fn len(&self) -> usize {
        self.used + self.min.is_some() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn place(&self, digest: i64) -> (usize, bool) {
        let n = self.slots.len();
        let mut at = ((digest as u64 as u128 * n as u128) >> 64) as usize;
        loop {
            match self.slots[at] {
                d if d == digest => return (at, true),
                EMPTY => return (at, false),
                _ => at = if at + 1 == n { 0 } else { at + 1 },
            }
        }
    }

    fn add(&mut self, digest: i64) {
        if digest == EMPTY {
            self.min = Some(self.min.is_some());
            return;
        }
        let (at, found) = self.place(digest);
        if found {
            self.many[at / 64] |= 1 << (at % 64);
            return;
        }
        self.slots[at] = digest;
        self.used += 1;
        if self.used * 10 >= self.slots.len() * 9 {
            self.grow();  // rows of many phones each, past the limit before the next row empties it
        }
    }

    fn grow(&mut self) {
        let old: Vec<(i64, bool)> = self.slots.iter().enumerate().filter(|&(_, &d)| d != EMPTY)
            .map(|(i, &d)| (d, self.many[i / 64] >> (i % 64) & 1 == 1)).collect();
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        self.many = vec![0; size.div_ceil(64)];
        for (digest, many) in old {
            let (at, _) = self.place(digest);
            self.slots[at] = digest;
            if many {
                self.many[at / 64] |= 1 << (at % 64);
            }
        }
    }

    fn clear(&mut self) {
        self.slots.fill(EMPTY);
        self.many.fill(0);
        self.used = 0;
        self.min = None;
    }

    /// Count rows' phones: `digests` row after row, row `i`'s ending at `ends[i + 1]` (`ends[0]` being
    /// where the first row's start); emptied before a row that finds the count at its limit.
    pub fn add_rows(&mut self, digests: &[i64], ends: &[i64]) -> Result<(), &'static str> {
        let Some(&base) = ends.first() else { return Ok(()) };
        for pair in ends.windows(2) {
            let (start, stop) = (pair[0] - base, pair[1] - base);
            if start < 0 || stop < start || stop as usize > digests.len() {
                return Err("phone row ends out of order");
            }
            if self.len() >= self.limit {
                self.clear();
            }
            for &digest in &digests[start as usize..stop as usize] {
                self.add(digest);
            }
        }
        Ok(())
    }

    /// Whether `digest` was seen on more than one row (or twice on one) since the count emptied.
    pub fn repeats(&self, digest: i64) -> bool {
        if digest == EMPTY {
            return self.min == Some(true);
        }
        let (at, found) = self.place(digest);
        found && self.many[at / 64] >> (at % 64) & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_a_counter_emptied_at_its_limit() {
        let mut counts = PhoneCounts::new(3);
        counts.add_rows(&[1, 2, 1, 3], &[0, 1, 2, 4]).unwrap();
        assert_eq!(counts.len(), 3);
        assert!(counts.repeats(1) && !counts.repeats(2) && !counts.repeats(4));
        counts.add_rows(&[1], &[4, 5]).unwrap();
        assert_eq!(counts.len(), 1);
        assert!(!counts.repeats(1));
        counts.add_rows(&[i64::MIN, i64::MIN, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
                        &[0, 2, 19]).unwrap();  // one row past the limit: the table grows, nothing is lost
        assert!(counts.repeats(i64::MIN) && !counts.repeats(7) && counts.len() == 19);
    }
}
