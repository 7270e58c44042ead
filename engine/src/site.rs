//! What a slot finds in a cell (`channels._base.Site`), in byte offsets.

pub struct Site {
    pub start: usize,
    pub end: usize,
    pub bit: u8,
    pub variants: [String; 2],
}

impl Site {
    /// A site whose variants are made only when `want`ed: a read asks for the bit alone, and a match
    /// locates about twenty sites a row (making their 40 strings was an eighth of its reading).  The
    /// scanners join variants with `concat`, not `format!` (whose machinery was ~5% of a match).
    pub fn new(start: usize, end: usize, bit: bool, want: bool, variants: impl FnOnce() -> (String, String)) -> Site {
        let (v0, v1) = if want { variants() } else { (String::new(), String::new()) };
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
