//! The slots whose whole cell is one regular expression: phone layout, number
//! and seconds parity, e-mail case (`tracer/channels/{phone,number,timestamp,email}.py`).
//!
//! The patterns are Python's, with `\s` and the Han class spelled out (see
//! `text.rs`) and `fullmatch` as `\A(?:…)\z`.  The `regex` crate reports the
//! match a backtracking engine would (leftmost-first), so groups agree.

use regex::Regex;

use crate::site::{Found, Site};
use crate::text::{is_space, HAN, WS};

pub struct Simple {
    cn: Regex,
    us: Regex,
    number: Regex,
    datetime: Regex,
    email: Regex,
}

fn full(pattern: &str) -> Regex {
    Regex::new(&format!(r"\A(?:{pattern})\z").replace("\\s", WS)).expect("slot pattern")
}

impl Simple {
    pub fn new() -> Simple {
        let date = r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日";
        let label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
        Simple {
            cn: full(r"\s*(?:(?:\+|00)86[ -])?(?P<body>(?P<plain>1[3-9][0-9]{9})|(?P<a>1[3-9][0-9]) (?P<b>[0-9]{4}) (?P<c>[0-9]{4}))\s*"),
            us: full(r"\s*(?:(?:\+|00)1[ -])?(?P<body>(?P<hyphen>[2-9][0-9]{2}-[2-9][0-9]{2}-[0-9]{4})|\((?P<a>[2-9][0-9]{2})\) (?P<b>[2-9][0-9]{2})-(?P<c>[0-9]{4}))\s*"),
            number: full(&format!(
                r"\s*(?:[+-]\s*)?(?:[$¥￥€£]\s*)?(?:[+-]\s*)?(?P<int>[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?\s*(?:(?:[A-Za-z%]{{1,5}}|{HAN}{{1,3}})\s*)?"
            )),
            datetime: full(&format!(
                r"\s*(?:(?:{date})(?:T|\s+))?[0-9]{{1,2}}:[0-5][0-9]:(?P<sec>[0-5][0-9])(?:[.,][0-9]{{1,9}})?(?:\s*(?:[AaPp][Mm]|Z|UTC|GMT|[+-][0-9]{{2}}:?[0-9]{{2}}))?\s*"
            )),
            email: full(&format!(r"\s*(?:mailto:)?(?P<first>[A-Za-z])[a-z0-9._%+-]{{0,63}}@{label}(?:\.{label})+\s*")),
        }
    }

    // Each slot asks the regex only whether the whole cell matches (a DFA, no captures: captures
    // cost ~10x more); where the groups are is then fixed by the pattern's shape, as each says.

    /// `_CN`/`_US`: a prefix is taken whenever present, since no body starts with `+` or `0`.
    pub fn phone_layout(&self, cell: &str, want: bool) -> Found {
        let s = skip_space(cell, 0);
        let b = cell.as_bytes();
        if self.cn.is_match(cell) {
            let rest = &cell[s..];
            let p = s + if rest.starts_with("+86") { 4 } else if rest.starts_with("0086") { 5 } else { 0 };
            let spaced = b[p + 3] == b' ';
            let end = if spaced { p + 13 } else { p + 11 };
            return Found::Site(Site::new(p, end, spaced, want, || {
                let digits = if spaced {
                    [&cell[p..p + 3], &cell[p + 4..p + 8], &cell[p + 9..p + 13]].concat()
                } else {
                    cell[p..p + 11].to_string()
                };
                let grouped = [&digits[..3], " ", &digits[3..7], " ", &digits[7..]].concat();
                (digits, grouped)
            }));
        }
        if self.us.is_match(cell) {
            let rest = &cell[s..];
            let p = s + if rest.starts_with("+1") { 3 } else if rest.starts_with("001") { 4 } else { 0 };
            let paren = b[p] == b'(';
            let (end, area, exchange, line) = if paren {
                (p + 14, &cell[p + 1..p + 4], &cell[p + 6..p + 9], &cell[p + 10..p + 14])
            } else {
                (p + 12, &cell[p..p + 3], &cell[p + 4..p + 7], &cell[p + 8..p + 12])
            };
            return Found::Site(Site::new(p, end, paren, want, || {
                ([area, "-", exchange, "-", line].concat(), ["(", area, ") ", exchange, "-", line].concat())
            }));
        }
        Found::Absent
    }

    /// `_NUMBER`: neither the signs and currency before the number nor the unit after it hold an
    /// ASCII digit, so the last shown digit is the cell's last, and `int + frac` its digits.
    pub fn number_parity(&self, cell: &str, want: bool) -> Found {
        if !self.number.is_match(cell) {
            return Found::Absent;
        }
        let digits: String = cell.chars().filter(|c| c.is_ascii_digit()).collect();
        if pair_holds_zero(&digits) {
            return Found::Absent;
        }
        let last = cell.bytes().rposition(|c| c.is_ascii_digit()).unwrap();
        Found::Site(parity_site(cell, last, want))
    }

    /// `_DATETIME`: no date form holds a colon, so the seconds follow the cell's second colon.
    pub fn timestamp_seconds(&self, cell: &str, want: bool) -> Found {
        if !self.datetime.is_match(cell) {
            return Found::Absent;
        }
        let second = cell.match_indices(':').nth(1).unwrap().0;
        Found::Site(parity_site(cell, second + 2, want))
    }

    /// `_EMAIL`: the local part starts with a letter right after the whitespace, or after
    /// `mailto:` (whose colon no local part may hold).
    pub fn email_case(&self, cell: &str, want: bool) -> Found {
        if !self.email.is_match(cell) {
            return Found::Absent;
        }
        let s = skip_space(cell, 0);
        let first = s + if cell[s..].starts_with("mailto:") { 7 } else { 0 };
        let letter = &cell[first..first + 1];
        let upper = letter.bytes().all(|b| b.is_ascii_uppercase());
        Found::Site(Site::new(first, first + 1, upper, want, || (letter.to_ascii_lowercase(), letter.to_ascii_uppercase())))
    }
}

fn skip_space(cell: &str, from: usize) -> usize {
    from + cell[from..].len() - cell[from..].trim_start_matches(is_space).len()
}

/// `number._pair_holds_zero`: one member of the last digit's pair is the value 0.
fn pair_holds_zero(digits: &str) -> bool {
    let (head, last) = digits.split_at(digits.len() - 1);
    matches!(last, "0" | "1") && head.replace(',', "").trim_matches('0').is_empty()
}

/// `_base.parity_site`: the parity bit of the ASCII digit at byte `at`.
fn parity_site(cell: &str, at: usize, want: bool) -> Site {
    let digit = cell.as_bytes()[at] - b'0';
    let even = digit & !1;
    Site::new(at, at + 1, digit & 1 == 1, want, || ((b'0' + even).to_string_char(), (b'0' + (even | 1)).to_string_char()))
}

trait DigitChar {
    fn to_string_char(self) -> String;
}

impl DigitChar for u8 {
    fn to_string_char(self) -> String {
        (self as char).to_string()
    }
}
