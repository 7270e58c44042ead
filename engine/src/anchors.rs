//! Record anchors (`columns.phone_anchor`, `columns.id_anchor`) for ASCII cells.
//!
//! NFKC and Unicode case mapping are Python's to define: a cell that is not
//! ASCII, or that may be a spreadsheet float (`13812345678.0`, handled by
//! `tables.cells.exact_integer` with `Decimal`), comes back `Unsure` and the
//! caller asks the Python reference.

use crate::text::is_space;

pub enum AnchorText {
    Known(Option<String>),
    Unsure,
}

/// Text `exact_integer` might turn into other digits: float-like, not a plain integer.
fn maybe_float(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+'))
        && !text.bytes().all(|b| b.is_ascii_digit())
}

pub fn phone_anchor(value: &str) -> AnchorText {
    if !value.is_ascii() {
        return AnchorText::Unsure;
    }
    let text = value.trim_matches(is_space);
    if maybe_float(text) {
        return AnchorText::Unsure;
    }
    let mut digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let b = text.as_bytes();
    let us_prefix = text.starts_with("+1")
        || (b.len() >= 2 && b[0] == b'1' && (matches!(b[1], b'-' | b'.' | b'(') || is_space(b[1] as char)));
    if digits.len() == 15 && digits.starts_with("0086") {
        digits = digits[4..].to_string();
    } else if digits.len() == 13 && digits.starts_with("86") {
        digits = digits[2..].to_string();
    } else if digits.len() == 11 && digits.starts_with('1') && us_prefix {
        digits = digits[1..].to_string();
    }
    let d = digits.as_bytes();
    if d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]) {
        return AnchorText::Known(Some(["cn:", &digits].concat()));
    }
    if d.len() == 10 && (b'2'..=b'9').contains(&d[0]) {
        return AnchorText::Known(Some(["us:", &digits].concat()));
    }
    AnchorText::Known(None)
}

pub fn id_anchor(value: &str) -> AnchorText {
    if !value.is_ascii() {
        return AnchorText::Unsure;
    }
    let text: String = value.chars().filter(|c| !is_space(*c)).map(|c| c.to_ascii_uppercase()).collect();
    if maybe_float(&text) {
        return AnchorText::Unsure;
    }
    if text.len() >= 6 && text.bytes().any(|b| b.is_ascii_digit()) {
        AnchorText::Known(Some(["id:", &text].concat()))
    } else {
        AnchorText::Known(None)
    }
}
