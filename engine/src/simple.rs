//! The slots whose whole cell is one regular expression: phone layout, number
//! and seconds parity, e-mail case (`tracer/channels/{phone,number,timestamp,email}.py`).
//!
//! The patterns are Python's, with `\s` and the Han class spelled out (see
//! `text.rs`) and `fullmatch` as `\A(?:…)\z`.  The `regex` crate reports the
//! match a backtracking engine would (leftmost-first), so groups agree.

use regex::{Captures, Regex};

use crate::site::{Found, Site};
use crate::text::{HAN, WS};

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

    pub fn phone_layout(&self, cell: &str) -> Found {
        if let Some(m) = self.cn.captures(cell) {
            let body = m.name("body").unwrap();
            let plain = m.name("plain");
            let digits = match plain {
                Some(p) => p.as_str().to_string(),
                None => format!("{}{}{}", &m["a"], &m["b"], &m["c"]),
            };
            let spaced = format!("{} {} {}", &digits[..3], &digits[3..7], &digits[7..]);
            return Found::Site(Site::new(body.start(), body.end(), plain.is_none(), digits, spaced));
        }
        if let Some(m) = self.us.captures(cell) {
            let body = m.name("body").unwrap();
            let hyphen = m.name("hyphen");
            let (area, exchange, line) = match hyphen {
                Some(h) => {
                    let parts: Vec<&str> = h.as_str().split('-').collect();
                    (parts[0].to_string(), parts[1].to_string(), parts[2].to_string())
                }
                None => (m["a"].to_string(), m["b"].to_string(), m["c"].to_string()),
            };
            let v0 = format!("{area}-{exchange}-{line}");
            let v1 = format!("({area}) {exchange}-{line}");
            return Found::Site(Site::new(body.start(), body.end(), hyphen.is_none(), v0, v1));
        }
        Found::Absent
    }

    pub fn number_parity(&self, cell: &str) -> Found {
        let Some(m) = self.number.captures(cell) else { return Found::Absent };
        let group = m.name("frac").unwrap_or_else(|| m.name("int").unwrap());
        let mut digits: String = m["int"].to_string();
        if let Some(frac) = m.name("frac") {
            digits.push_str(frac.as_str());
        }
        if pair_holds_zero(&digits) {
            return Found::Absent;
        }
        Found::Site(parity_site(cell, group.end() - 1))
    }

    pub fn timestamp_seconds(&self, cell: &str) -> Found {
        match self.datetime.captures(cell) {
            Some(m) => Found::Site(parity_site(cell, m.name("sec").unwrap().end() - 1)),
            None => Found::Absent,
        }
    }

    pub fn email_case(&self, cell: &str) -> Found {
        let Some(m): Option<Captures> = self.email.captures(cell) else { return Found::Absent };
        let first = m.name("first").unwrap();
        let letter = first.as_str();
        let upper = letter.bytes().all(|b| b.is_ascii_uppercase());
        Found::Site(Site::new(first.start(), first.end(), upper, letter.to_ascii_lowercase(), letter.to_ascii_uppercase()))
    }
}

/// `number._pair_holds_zero`: one member of the last digit's pair is the value 0.
fn pair_holds_zero(digits: &str) -> bool {
    let (head, last) = digits.split_at(digits.len() - 1);
    matches!(last, "0" | "1") && head.replace(',', "").trim_matches('0').is_empty()
}

/// `_base.parity_site`: the parity bit of the ASCII digit at byte `at`.
fn parity_site(cell: &str, at: usize) -> Site {
    let digit = cell.as_bytes()[at] - b'0';
    let even = digit & !1;
    Site::new(at, at + 1, digit & 1 == 1, (b'0' + even).to_string_char(), (b'0' + (even | 1)).to_string_char())
}

trait DigitChar {
    fn to_string_char(self) -> String;
}

impl DigitChar for u8 {
    fn to_string_char(self) -> String {
        (self as char).to_string()
    }
}
