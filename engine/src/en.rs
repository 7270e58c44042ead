//! English address slots (`tracer/channels/en_address.py`) for ASCII cells.
//! A cell with a Latin letter and any non-ASCII character is `Unsure`:
//! Python's `lower()`, `isupper()` and `\s` are Unicode-wide.

use std::collections::HashMap;

use crate::site::{Found, Site};
use crate::text::{ascii_islower, ascii_isupper, is_space};

const STREET_TYPES: [(&str, &str); 12] = [
    ("street", "st"), ("road", "rd"), ("avenue", "ave"), ("boulevard", "blvd"), ("drive", "dr"), ("lane", "ln"),
    ("court", "ct"), ("place", "pl"), ("parkway", "pkwy"), ("highway", "hwy"), ("terrace", "ter"), ("circle", "cir"),
];
const UNITS: [(&str, &str); 2] = [("apartment", "apt"), ("suite", "ste")];
const DIRECTIONS: [(&str, &str); 8] = [
    ("north", "n"), ("south", "s"), ("east", "e"), ("west", "w"),
    ("northeast", "ne"), ("northwest", "nw"), ("southeast", "se"), ("southwest", "sw"),
];

#[derive(Clone, Copy)]
struct Word {
    bit: bool,
    short: &'static str,
    long: &'static str,
}

fn forms(table: &[(&'static str, &'static str)]) -> HashMap<String, Word> {
    let mut out = HashMap::new();
    for &(long, short) in table {
        out.insert(long.to_string(), Word { bit: true, short, long });
        out.insert(short.to_string(), Word { bit: false, short, long });
        out.insert(format!("{short}."), Word { bit: false, short, long });
    }
    out
}

pub struct En {
    types: HashMap<String, Word>,
    units: HashMap<String, Word>,
    directions: HashMap<String, Word>,
}

struct Address<'a> {
    tokens: Vec<(usize, &'a str)>,
    words: Vec<String>,
    house: Option<usize>,
    street_type: Option<usize>,
    unit: Option<usize>,
}

enum Parsed<'a> {
    Address(Address<'a>),
    Absent,
    Unsure,
}

fn style(word: &str) -> &'static str {
    if ascii_islower(word) {
        "lower"
    } else if ascii_isupper(word) && word.len() > 1 {
        "upper"
    } else {
        "title"
    }
}

fn styled(word: &str, style: &str) -> String {
    match style {
        "lower" => word.to_string(),
        "upper" => word.to_ascii_uppercase(),
        _ => {
            let mut out = word[..1].to_ascii_uppercase();
            out.push_str(&word[1..]);
            out
        }
    }
}

/// `_HOUSE_NUMBER`: `[0-9]+(?:-[0-9]+)?[A-Za-z]?`.
fn house_number(word: &str) -> bool {
    let b = word.as_bytes();
    let mut i = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if i == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'-' {
        let j = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if j > 0 {
            i += 1 + j;
        }
    }
    if i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    i == b.len()
}

/// `_UNIT_ID`: `#?(?:[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*|[A-Za-z])`.
fn unit_id(text: &str) -> bool {
    let rest = text.strip_prefix('#').unwrap_or(text);
    let b = rest.as_bytes();
    (b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-') && b.iter().any(|c| c.is_ascii_digit()))
        || (b.len() == 1 && b[0].is_ascii_alphabetic())
}

/// `_ALPHA`: `[A-Za-z]+\.?`.
fn alpha(text: &str) -> bool {
    let t = text.strip_suffix('.').unwrap_or(text);
    !t.is_empty() && t.bytes().all(|c| c.is_ascii_alphabetic())
}

/// Whether the cell holds an ASCII letter, as `bytes().any(is_ascii_alphabetic)` answers, without
/// stopping early: the loop vectorises.  Four English slots ask it of every Chinese address (which
/// has none), 1.6 million times in a 200k-row match.
fn has_ascii_letter(cell: &str) -> bool {
    cell.bytes().fold(false, |seen, b| seen | ((b | 0x20).wrapping_sub(b'a') < 26))
}

impl En {
    pub fn new() -> En {
        En { types: forms(&STREET_TYPES), units: forms(&UNITS), directions: forms(&DIRECTIONS) }
    }

    fn parse<'a>(&self, cell: &'a str) -> Parsed<'a> {
        if !has_ascii_letter(cell) {
            return Parsed::Absent;
        }
        if !cell.is_ascii() {
            return Parsed::Unsure;
        }
        // _TOKEN: [^\s,]+|,
        let mut tokens = vec![];
        let b = cell.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i] as char;
            if c == ',' {
                tokens.push((i, &cell[i..i + 1]));
                i += 1;
            } else if is_space(c) {
                i += 1;
            } else {
                let s = i;
                while i < b.len() && b[i] != b',' && !is_space(b[i] as char) {
                    i += 1;
                }
                tokens.push((s, &cell[s..i]));
            }
        }
        let words: Vec<String> = tokens.iter().map(|(_, t)| t.to_ascii_lowercase()).collect();
        let house = (0..words.len()).find(|&i| (i == 0 || words[i - 1] == ",") && house_number(&words[i]));
        let unit = words.iter().position(|w| self.units.contains_key(w));
        let street_type = house.and_then(|h| self.street_type(&words, h));
        Parsed::Address(Address { tokens, words, house, street_type, unit })
    }

    fn street_type(&self, words: &[String], house: usize) -> Option<usize> {
        let mut chosen = None;
        for index in house + 1..words.len() {
            let word = &words[index];
            if word == "," || self.units.contains_key(word) || word.starts_with('#') {
                break;
            }
            if self.types.contains_key(word) && index > house + 1 {
                chosen = Some(index);
            } else if chosen.is_some() && !self.directions.contains_key(word) {
                chosen = None;
            }
        }
        chosen
    }

    fn word_site(token: (usize, &str), word: Word, style: &str, want: bool) -> Site {
        let (start, text) = token;
        Site::new(start, start + text.len(), word.bit, want, || (styled(word.short, style), styled(word.long, style)))
    }

    fn own_style(token: &str) -> &'static str {
        style(token.trim_end_matches('.'))
    }

    pub fn street(&self, cell: &str, want: bool) -> Found {
        let a = match self.parse(cell) {
            Parsed::Address(a) => a,
            Parsed::Absent => return Found::Absent,
            Parsed::Unsure => return Found::Unsure,
        };
        let Some(t) = a.street_type else { return Found::Absent };
        let token = a.tokens[t];
        Found::Site(Self::word_site(token, self.types[&a.words[t]], Self::own_style(token.1), want))
    }

    pub fn unit(&self, cell: &str, want: bool) -> Found {
        let a = match self.parse(cell) {
            Parsed::Address(a) => a,
            Parsed::Absent => return Found::Absent,
            Parsed::Unsure => return Found::Unsure,
        };
        let Some(u) = a.unit else { return Found::Absent };
        if u + 1 >= a.tokens.len() || !unit_id(a.tokens[u + 1].1) {
            return Found::Absent;
        }
        let token = a.tokens[u];
        Found::Site(Self::word_site(token, self.units[&a.words[u]], Self::own_style(token.1), want))
    }

    pub fn direction(&self, cell: &str, want: bool) -> Found {
        let a = match self.parse(cell) {
            Parsed::Address(a) => a,
            Parsed::Absent => return Found::Absent,
            Parsed::Unsure => return Found::Unsure,
        };
        let (Some(t), Some(h)) = (a.street_type, a.house) else { return Found::Absent };
        let index = h + 1;
        let Some(word) = self.directions.get(&a.words[index]).copied() else { return Found::Absent };
        if t < index + 2 {
            return Found::Absent;
        }
        let token = a.tokens[index];
        let style = if ascii_islower(token.1) {
            "lower"
        } else if a.tokens.iter().enumerate().any(|(i, o)| i != index && !ascii_isupper(o.1) && alpha(o.1)) {
            "title"
        } else {
            "upper"
        };
        Found::Site(Self::word_site(token, word, style, want))
    }
}

const ORDINALS: [&str; 10] = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];

fn ordinal_digits(n: usize) -> String {
    let suffix = match n {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

impl En {
    /// `en_ordinal.StreetOrdinal`: the street name is the ordinal alone, right before the street type.
    pub fn ordinal(&self, cell: &str, want: bool) -> Found {
        let a = match self.parse(cell) {
            Parsed::Address(a) => a,
            Parsed::Absent => return Found::Absent,
            Parsed::Unsure => return Found::Unsure,
        };
        let (Some(t), Some(h)) = (a.street_type, a.house) else { return Found::Absent };
        let index = t - 1;
        let mut name_starts = h + 1;
        let pre = a.words[name_starts].trim_end_matches('.');
        if index == name_starts + 1 && DIRECTIONS.iter().any(|(long, short)| pre == *long || pre == *short) {
            name_starts += 1;
        }
        if index != name_starts {
            return Found::Absent;
        }
        let word = &a.words[index];
        let found = (1..=10).find(|&n| ordinal_digits(n) == *word).map(|n| (n, 0u8))
            .or_else(|| ORDINALS.iter().position(|o| o == word).map(|i| (i + 1, 1u8)));
        let Some((n, bit)) = found else { return Found::Absent };
        let style = style(a.tokens[t].1.trim_end_matches('.'));
        let digits = ordinal_digits(n);
        let v0 = if style == "upper" { digits.to_ascii_uppercase() } else { digits };
        let v1 = styled(ORDINALS[n - 1], style);
        let token = a.tokens[index];
        if token.1 != if bit == 0 { &v0 } else { &v1 } {
            return Found::Absent;
        }
        Found::Site(Site::new(token.0, token.0 + token.1.len(), bit == 1, want, || (v0, v1)))
    }
}

#[cfg(test)]
mod tests {
    use super::has_ascii_letter;

    #[test]
    fn a_letter_is_found_as_any_would_find_it() {
        for c in (0..0x3100u32).filter_map(char::from_u32) {
            for text in [c.to_string(), format!("号{c}楼"), format!("{c}12")] {
                assert_eq!(has_ascii_letter(&text), text.bytes().any(|b| b.is_ascii_alphabetic()), "{text:?}");
            }
        }
    }
}
