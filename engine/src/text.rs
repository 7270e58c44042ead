//! Character classes exactly as Python's `re` and `str` see them.

/// Python's `str.isspace()`, which is also what `\s` matches in a `str` pattern.
pub fn is_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x20' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}'
        | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// `\s` as a class for the `regex` crate (its own `\s` is Unicode White_Space, which lacks 0x1c-0x1f).
pub const WS: &str = r"[\t-\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]";

/// Han ideographs as tracer counts them (CJK Unified and Extension A), see `channels._base.HAN`.
pub const HAN: &str = r"[\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}]";

pub fn is_han(c: char) -> bool {
    ('\u{3400}'..='\u{4DBF}').contains(&c) || ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// The character at byte offset `at`, if any.
pub fn char_at(s: &str, at: usize) -> Option<char> {
    s.get(at..).and_then(|rest| rest.chars().next())
}

/// The byte offset just past the run of ASCII digits starting at `at`.
pub fn digits_end(s: &str, at: usize) -> usize {
    at + s.as_bytes()[at..].iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Python's `str.islower()` / `str.isupper()` for ASCII text.
pub fn ascii_islower(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_lowercase()) && !s.bytes().any(|b| b.is_ascii_uppercase())
}

pub fn ascii_isupper(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase()) && !s.bytes().any(|b| b.is_ascii_lowercase())
}
