//! A schema's mark plan applied to rows (`tracer/marks.py`): anchors, their
//! keyed digests, the row seed, marking and reading.  Free of Python: the
//! caller supplies what the native scanners leave `Unsure`.

use std::collections::HashMap;

use crate::site::Site;

pub const ANCHOR_CACHE: usize = 1 << 13;

pub struct CellPlan {
    pub index: usize,
    pub anchor: Option<usize>,
    pub slots: Vec<(usize, usize)>, // (slot index into slots::NAMES, digest word)
}

pub struct Plan {
    pub phone_cols: Vec<usize>,
    pub id_cols: Vec<usize>,
    pub cells: Vec<CellPlan>,
}

pub type Digest = [u8; 64];

/// `Key.anchor_digest`: keyed BLAKE2b-512 in the `tracer.anchor` domain.
pub fn anchor_digest(secret: &[u8], text: &str) -> Digest {
    let hash = blake2b_simd::Params::new().hash_length(64).key(secret).personal(b"tracer.anchor").hash(text.as_bytes());
    let mut out = [0u8; 64];
    out.copy_from_slice(hash.as_bytes());
    out
}

/// `Key.digest("row", data, 16)`.
pub fn row_digest(secret: &[u8], data: &[u8]) -> [u8; 16] {
    let hash = blake2b_simd::Params::new().hash_length(16).key(secret).personal(b"tracer.row").hash(data);
    let mut out = [0u8; 16];
    out.copy_from_slice(hash.as_bytes());
    out
}

pub fn word(digest: &Digest, index: usize) -> u32 {
    u32::from_le_bytes(digest[4 * index..4 * index + 4].try_into().unwrap())
}

pub fn exposure(digest: &Digest) -> i64 {
    i64::from_le_bytes(digest[..8].try_into().unwrap())
}

/// Anchor digests with a bounded cache (a shop's phone repeats on many rows).
pub struct Hasher {
    secret: Vec<u8>,
    cache: HashMap<String, Digest>,
}

impl Hasher {
    pub fn new(secret: Vec<u8>) -> Hasher {
        Hasher { secret, cache: HashMap::new() }
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    pub fn digest(&mut self, text: &str) -> Digest {
        if let Some(d) = self.cache.get(text) {
            return *d;
        }
        if self.cache.len() >= ANCHOR_CACHE {
            self.cache.clear();
        }
        let d = anchor_digest(&self.secret, text);
        self.cache.insert(text.to_string(), d);
        d
    }
}

/// One row's anchors (`marks.RowAnchors`): by column, phones first, in plan order.
pub struct RowAnchors {
    pub by_column: Vec<(usize, Digest)>,
    pub phones: usize,
    pub row: Option<Digest>,
}

impl RowAnchors {
    /// `row_anchors`' choice: the smallest phone digest (first of equals), else the first identifier.
    pub fn new(by_column: Vec<(usize, Digest)>, phones: usize) -> RowAnchors {
        let row = if phones > 0 {
            by_column[..phones].iter().map(|(_, d)| *d).min_by(|a, b| a[..8].cmp(&b[..8]))
        } else {
            by_column.first().map(|(_, d)| *d)
        };
        RowAnchors { by_column, phones, row }
    }

    pub fn of(&self, column: Option<usize>) -> Option<&Digest> {
        match column {
            None => self.row.as_ref(),
            Some(c) => self.by_column.iter().find(|(i, _)| *i == c).map(|(_, d)| d),
        }
    }

    /// `_Exporter.row_seed`: None without anchors.
    pub fn seed(&self, secret: &[u8], uid: &[u8]) -> Option<[u8; 16]> {
        if self.by_column.is_empty() {
            return None;
        }
        let mut data = Vec::with_capacity(uid.len() + 8 * self.by_column.len());
        data.extend_from_slice(uid);
        data.extend_from_slice(&self.sorted_prefixes());
        Some(row_digest(secret, &data))
    }

    /// Every anchor digest's first 8 bytes, sorted, one after another (the row seed's and the record
    /// digest's input): arrays sorted in place, not a vector of slices per use.
    pub fn sorted_prefixes(&self) -> Vec<u8> {
        let mut parts: Vec<[u8; 8]> = self.by_column.iter().map(|(_, d)| d[..8].try_into().unwrap()).collect();
        parts.sort_unstable();
        parts.concat()
    }
}

/// Splice a site's wanted variant into the cell (`MarkSlot.embed`).
pub fn embed(cell: &str, site: &Site, bit: u8) -> String {
    let mut out = String::with_capacity(cell.len() + 8);
    out.push_str(&cell[..site.start]);
    out.push_str(&site.variants[bit as usize]);
    out.push_str(&cell[site.end..]);
    out
}
