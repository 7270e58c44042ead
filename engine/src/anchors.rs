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
    // The digits on the stack and one string made, for a phone: no anchor has more than 15 digits.
    let b = text.as_bytes();
    let (mut buf, mut n) = ([0u8; 15], 0);
    for &c in b.iter().filter(|c| c.is_ascii_digit()) {
        if n == buf.len() {
            return AnchorText::Known(None);
        }
        buf[n] = c;
        n += 1;
    }
    let digits = &buf[..n];
    let us_prefix = text.starts_with("+1")
        || (b.len() >= 2 && b[0] == b'1' && (matches!(b[1], b'-' | b'.' | b'(') || is_space(b[1] as char)));
    let d = if n == 15 && digits.starts_with(b"0086") {
        &digits[4..]
    } else if n == 13 && digits.starts_with(b"86") {
        &digits[2..]
    } else if n == 11 && digits[0] == b'1' && us_prefix {
        &digits[1..]
    } else {
        digits
    };
    let kind = if d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]) {
        "cn:"
    } else if d.len() == 10 && (b'2'..=b'9').contains(&d[0]) {
        "us:"
    } else {
        return AnchorText::Known(None);
    };
    let mut anchor = String::with_capacity(kind.len() + d.len());
    anchor.push_str(kind);
    anchor.extend(d.iter().map(|&c| c as char));
    AnchorText::Known(Some(anchor))
}

pub fn id_anchor(value: &str) -> AnchorText {
    if !value.is_ascii() {
        return AnchorText::Unsure;
    }
    // made in place after its prefix: one string (the cell is ASCII: each byte is a character)
    let mut anchor = String::with_capacity(3 + value.len());
    anchor.push_str("id:");
    anchor.extend(value.bytes().filter(|&c| !is_space(c as char)).map(|c| c.to_ascii_uppercase() as char));
    let text = &anchor[3..];
    if maybe_float(text) {
        return AnchorText::Unsure;
    }
    if text.len() >= 6 && text.bytes().any(|b| b.is_ascii_digit()) {
        AnchorText::Known(Some(anchor))
    } else {
        AnchorText::Known(None)
    }
}
