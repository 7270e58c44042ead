//! What a slot finds in a cell (`channels._base.Site`), in byte offsets.

pub struct Site {
    pub start: usize,
    pub end: usize,
    pub bit: u8,
    pub variants: [String; 2],
}

impl Site {
    /// The scanners join a site's variants with `concat`, not `format!`: a match locates about seven
    /// sites a row and never writes one, and `format!`'s machinery was ~5% of a match's instructions.
    pub fn new(start: usize, end: usize, bit: bool, v0: String, v1: String) -> Site {
        Site { start, end, bit: bit as u8, variants: [v0, v1] }
    }
}

/// A slot's answer: a site, no site, or "ask the Python reference" (input
/// the native scanner does not decide, e.g. non-ASCII text in an English address).
pub enum Found {
    Site(Site),
    Absent,
    Unsure,
}
