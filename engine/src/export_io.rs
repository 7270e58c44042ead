//! What an export asks of each row beyond its marks: whether the row may be
//! followed by a decoy.  The exporter looks at a row in Python only when it
//! may: when its account seed is under the canary rate, or when its record
//! digest (`shared_canaries.record_digest`, no account in it) is under the
//! highest shared-slot rate any gap can give.  Every other row is written,
//! spooled and remembered a batch at a time (`tracer/export_rows.py`).

use crate::rows::RowAnchors;

/// `Key.digest(domain, data, 16)`: keyed BLAKE2b in the `tracer.<domain>` domain.
pub fn keyed16(secret: &[u8], personal: &[u8], data: &[u8]) -> [u8; 16] {
    let hash = blake2b_simd::Params::new().hash_length(16).key(secret).personal(personal).hash(data);
    let mut out = [0u8; 16];
    out.copy_from_slice(hash.as_bytes());
    out
}

/// `shared_canaries.record_digest`: the record's anchors (their first 8 bytes, sorted), keyed
/// in `tracer.sh.slot`; None without anchors.
pub fn record_digest(secret: &[u8], anchors: &RowAnchors) -> Option<[u8; 16]> {
    if anchors.by_column.is_empty() {
        return None;
    }
    Some(keyed16(secret, b"tracer.sh.slot", &anchors.sorted_prefixes()))
}

fn draw(digest: &[u8; 16]) -> u128 {
    u64::from_le_bytes(digest[..8].try_into().unwrap()) as u128
}

/// The rows of a batch that may be followed by a decoy, and the record digest of each.
#[derive(Default)]
pub struct Candidates {
    pub rows: Vec<u8>,    // row indices in the batch, uint32 little-endian
    pub records: Vec<u8>, // 16 bytes per candidate: its record digest
}

impl Candidates {
    /// Row `index` is a candidate when its seed's draw is under `canary_below` or its record's
    /// under `slot_below` (rows without anchors never are).
    pub fn consider(&mut self, index: u32, seed: Option<&[u8; 16]>, record: Option<&[u8; 16]>,
                    canary_below: u128, slot_below: u128) {
        let (Some(seed), Some(record)) = (seed, record) else { return };
        if draw(seed) < canary_below || draw(record) < slot_below {
            self.rows.extend_from_slice(&index.to_le_bytes());
            self.records.extend_from_slice(record);
        }
    }
}

/// Rows as Python's csv writer writes them (`tracer/tables/delimited.py`'s `DelimitedWriter`), into
/// one UTF-8 text with each row's start in bytes, so the exporter writes stretches of it whole, as bytes
/// (a str made of it was encoded straight back).
/// A field is quoted (its quotes doubled) under `quote_all`, or when it holds the delimiter, a
/// quote or a character of the line terminator; a row of one empty field is `""`.
pub struct CsvText {
    delimiter: char,
    quote_all: bool,
    terminator: String,
    pub text: String,
    pub starts: Vec<u8>, // uint32 little-endian: where each row starts, in bytes, then the end
}

impl CsvText {
    pub fn new(delimiter: char, quote_all: bool, terminator: String) -> CsvText {
        CsvText { delimiter, quote_all, terminator, text: String::new(), starts: Vec::new() }
    }

    fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
    }

    pub fn row<'a>(&mut self, cells: impl ExactSizeIterator<Item = &'a str>) {
        self.starts.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        let single = cells.len() == 1;
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                let mut d = [0u8; 4];
                self.push(self.delimiter.encode_utf8(&mut d));
            }
            let quote = self.quote_all
                || (single && cell.is_empty())
                || cell.chars().any(|c| c == self.delimiter || c == '"' || self.terminator.contains(c));
            if quote {
                self.push("\"");
                self.push(&cell.replace('"', "\"\""));
                self.push("\"");
            } else {
                self.push(cell);
            }
        }
        let terminator = std::mem::take(&mut self.terminator);
        self.push(&terminator);
        self.terminator = terminator;
    }

    /// The starts, closed by the text's end.
    pub fn finish(mut self) -> (String, Vec<u8>) {
        self.starts.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        (self.text, self.starts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_under_either_bound_is_a_candidate() {
        let anchors = RowAnchors::new(vec![(0, [7u8; 64])], 1);
        let record = record_digest(b"k", &anchors).unwrap();
        let seed = [0xffu8; 16];
        let mut found = Candidates::default();
        found.consider(3, Some(&seed), Some(&record), 0, 0);
        assert!(found.rows.is_empty());
        found.consider(4, Some(&seed), Some(&record), 0, draw(&record) + 1);
        found.consider(5, Some(&[0u8; 16]), Some(&record), 1, 0);
        assert_eq!(found.rows, [4u32.to_le_bytes(), 5u32.to_le_bytes()].concat());
        assert_eq!(found.records.len(), 32);
    }

    #[test]
    fn rows_are_written_as_pythons_csv_module_writes_them() {
        let mut csv = CsvText::new(',', false, "\r\n".into());
        csv.row(["a\rb", "c\"d", " e ", "f,g", "\u{85}"].into_iter());
        csv.row([""].into_iter());
        csv.row(["", ""].into_iter());
        let (text, starts) = csv.finish();
        assert_eq!(text, "\"a\rb\",\"c\"\"d\", e ,\"f,g\",\u{85}\r\n\"\"\r\n,\r\n");
        let end = text.len() as u32;  // bytes: U+0085 is two
        assert_eq!(starts, [0u32, 27, 31, end].iter().flat_map(|s| s.to_le_bytes()).collect::<Vec<u8>>());
    }
}
