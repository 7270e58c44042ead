//! Chinese address slots (`tracer/channels/cn_address.py`), as hand-written
//! scanners: each function says which Python pattern it stands for and why
//! the backtracking there reduces to the scan here.

use std::collections::HashMap;

use crate::quick_hash::QuickMap;
use crate::site::{Found, Site};
use crate::text::{char_at, digits_end, is_han, is_space};

const NOT_IN_NAMES: &str = "路街巷弄号";

/// `_NAME_CHAR`: a Han character that can be part of an administrative name.
fn name_char(c: char) -> bool {
    is_han(c) && !NOT_IN_NAMES.contains(c)
}

pub struct Province {
    full: String,
    /// first characters the next unit may not start with (`_province_gate`'s `forbidden`)
    forbidden: Vec<char>,
    /// `_city_pattern`'s alternatives, longest first (stable, as Python's `sorted`)
    cities: Vec<String>,
}

pub struct Cn {
    provinces: QuickMap<String, Province>,
}

struct Found_ {
    short: String,
    start: usize,
    end: usize,
    bit: bool,
}

impl Cn {
    /// The tables come from `tracer/channels/_cn_regions.py` (one source of truth).
    pub fn new(provinces: Vec<(String, String)>, cities: HashMap<String, Vec<String>>) -> Cn {
        let provinces = provinces
            .into_iter()
            .map(|(short, full)| {
                let suffix: String = full.chars().skip(short.chars().count()).collect();
                let mut forbidden = vec!['省', '市'];
                forbidden.extend(suffix.chars().next());
                if suffix.contains("自治区") {
                    forbidden.push('自');
                }
                let mut names = cities.get(&short).cloned().unwrap_or_default();
                names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
                (short, Province { full, forbidden, cities: names })
            })
            .collect();
        Cn { provinces }
    }

    /// `_province`: the province after leading whitespace, when a next unit follows.
    fn province(&self, cell: &str) -> Option<Found_> {
        let start = cell.len() - cell.trim_start_matches(is_space).len();
        let rest = &cell[start..];
        let mut chosen = None;
        for width in [3usize, 2] {
            let cut = rest.char_indices().nth(width).map(|(i, _)| i).unwrap_or(rest.len());
            if let Some(p) = self.provinces.get(&rest[..cut]) {
                chosen = Some((rest[..cut].to_string(), p));
                break;
            }
        }
        let (short, p) = chosen?;
        let bit = rest.starts_with(&p.full);
        let end = start + if bit { p.full.len() } else { short.len() };
        if !gate(cell, end, &p.forbidden) {
            return None;
        }
        Some(Found_ { short, start, end, bit })
    }

    pub fn province_suffix(&self, cell: &str, want: bool) -> Found {
        match self.province(cell) {
            Some(f) => {
                let full = || self.provinces[&f.short].full.clone();
                Found::Site(Site::new(f.start, f.end, f.bit, want, || (f.short.clone(), full())))
            }
            None => Found::Absent,
        }
    }

    /// `CityShi`: `\s*(?P<city>names)(?P<shi>市)?\s?(?!市)NAME{1,6}?(?:区|县|市|旗)` matched at the
    /// province's end.  Names start with Han, so `\s*` takes all whitespace; a failed
    /// tail with 市 taken also fails without it (`(?!市)` then sees that 市), but a
    /// shorter city may still succeed: every alternative is tried in order.
    pub fn city_shi(&self, cell: &str, want: bool) -> Found {
        let Some(f) = self.province(cell) else { return Found::Absent };
        let p = &self.provinces[&f.short];
        let at = f.end + cell[f.end..].len() - cell[f.end..].trim_start_matches(is_space).len();
        let first = char_at(cell, at);
        for city in &p.cities {
            if city.chars().next() != first || !cell[at..].starts_with(city.as_str()) {
                continue;
            }
            let after = at + city.len();
            let shi = char_at(cell, after) == Some('市');
            let mut tries = vec![];
            if shi {
                tries.push((true, after + '市'.len_utf8()));
            }
            tries.push((false, after));
            for (long, from) in tries {
                if city_tail(cell, from) {
                    let end = if long { from } else { after };
                    return Found::Site(Site::new(at, end, long, want, || (city.clone(), [city.as_str(), "市"].concat())));
                }
            }
        }
        Found::Absent
    }

    pub fn building(&self, cell: &str, want: bool) -> Found {
        match building(cell) {
            Some(b) => Found::Site(Site::new(b.start, b.end, b.long, want, || {
                ([b.n, "-", b.m, "-", b.r].concat(), [b.n, "栋", b.m, "单元", b.r, "室"].concat())
            })),
            None => Found::Absent,
        }
    }

    /// `BuildingWord`: `(?P<n>[0-9]{1,3})(?P<word>栋|号楼)` after a Han character that is no road word.
    pub fn lou(&self, cell: &str, want: bool) -> Found {
        let bytes = cell.as_bytes();
        let mut found = None;
        for s in 0..bytes.len() {
            if !bytes[s].is_ascii_digit() || !cell.is_char_boundary(s) {
                continue;
            }
            let e = digits_end(cell, s);
            if e - s > 3 {
                continue; // a shorter n is followed by a digit, not by the word
            }
            let (word_len, long) = if cell[e..].starts_with('栋') {
                ('栋'.len_utf8(), false)
            } else if cell[e..].starts_with("号楼") {
                ("号楼".len(), true)
            } else {
                continue;
            };
            let before = cell[..s].chars().next_back();
            if matches!(before, Some(c) if is_han(c) && !"路街巷弄道".contains(c)) {
                found = Some((s, e, e + word_len, long));
                break;
            }
        }
        let Some((s, e, end, long)) = found else { return Found::Absent };
        if unit_after(cell, end) || building(cell).is_some() {
            return Found::Absent;
        }
        let n = &cell[s..e];
        Found::Site(Site::new(s, end, long, want, || ([n, "栋"].concat(), [n, "号楼"].concat())))
    }
}

/// `_province_gate(...).match(cell, end)`: `\s*[first](?:NAME|\s){0,16}?(?:市|州|盟|地区|(?<!小)区|县|旗)`.
/// `[first]` is Han, so `\s*` takes all whitespace; then any of the 17 ends may close it.
fn gate(cell: &str, end: usize, forbidden: &[char]) -> bool {
    let mut p = end + cell[end..].len() - cell[end..].trim_start_matches(is_space).len();
    match char_at(cell, p) {
        Some(c) if name_char(c) && !forbidden.contains(&c) => p += c.len_utf8(),
        _ => return false,
    }
    for k in 0..=16 {
        let rest = &cell[p..];
        if rest.starts_with("地区") || rest.starts_with(['市', '州', '盟', '县', '旗'])
            || (rest.starts_with('区') && !cell[..p].ends_with('小'))
        {
            return true;
        }
        if k == 16 {
            return false;
        }
        match rest.chars().next() {
            Some(c) if name_char(c) || is_space(c) => p += c.len_utf8(),
            _ => return false,
        }
    }
    false
}

/// `\s?(?!市)NAME{1,6}?(?:(?<!小)区|县|市|旗)` at `from`: a whitespace is taken (not taking it leaves
/// it for NAME, which fails), then one to six name characters and a unit word.
fn city_tail(cell: &str, from: usize) -> bool {
    let mut p = from;
    if let Some(c) = char_at(cell, p) {
        if is_space(c) {
            p += c.len_utf8();
        }
    }
    match char_at(cell, p) {
        Some(c) if c != '市' && name_char(c) => p += c.len_utf8(),
        _ => return false,
    }
    for k in 1..=6 {
        match char_at(cell, p) {
            Some('县' | '市' | '旗') => return true,
            Some('区') if !cell[..p].ends_with('小') => return true,
            Some(c) if k < 6 && name_char(c) => p += c.len_utf8(),
            _ => return false,
        }
    }
    false
}

/// `_UNIT_AFTER.match(cell, end)`: `\s?[0-9]+单元`.
fn unit_after(cell: &str, end: usize) -> bool {
    let mut p = end;
    if let Some(c) = char_at(cell, p) {
        if is_space(c) {
            p += c.len_utf8();
        }
    }
    let e = digits_end(cell, p);
    e > p && cell[e..].starts_with("单元")
}

struct Building<'a> {
    start: usize,
    end: usize,
    long: bool,
    n: &'a str,
    m: &'a str,
    r: &'a str,
}

/// `_building`: the first `N栋M单元R室` / `N-M-R` not followed by `[0-9\-室号]`, after a Han
/// character and at most one space.  Every run of digits must fit its counted
/// repetition exactly: a shorter one leaves a digit where a word, a hyphen or
/// the end is needed, so backtracking never finds another match at that start.
fn building(cell: &str) -> Option<Building<'_>> {
    let bytes = cell.as_bytes();
    for s in 0..bytes.len() {
        if !bytes[s].is_ascii_digit() || !cell.is_char_boundary(s) {
            continue;
        }
        let Some(b) = building_at(cell, s) else { continue };
        let mut before = cell[..s].chars().rev();
        let ok = match (before.next(), before.next()) {
            (Some(c), _) if is_han(c) => true,
            (Some(' '), Some(c)) => is_han(c),
            _ => false,
        };
        if ok {
            return Some(b);
        }
    }
    None
}

fn building_at(cell: &str, s: usize) -> Option<Building<'_>> {
    let ne = digits_end(cell, s);
    if ne - s > 3 {
        return None;
    }
    let (long, m, r, end) = if cell[ne..].starts_with('栋') {
        let ms = ne + '栋'.len_utf8();
        let me = digits_end(cell, ms);
        if !(1..=2).contains(&(me - ms)) || !cell[me..].starts_with("单元") {
            return None;
        }
        let rs = me + "单元".len();
        let re = digits_end(cell, rs);
        if !(2..=4).contains(&(re - rs)) || !cell[re..].starts_with('室') {
            return None;
        }
        (true, &cell[ms..me], &cell[rs..re], re + '室'.len_utf8())
    } else if cell[ne..].starts_with('-') {
        let ms = ne + 1;
        let me = digits_end(cell, ms);
        if !(1..=2).contains(&(me - ms)) || !cell[me..].starts_with('-') {
            return None;
        }
        let rs = me + 1;
        let re = digits_end(cell, rs);
        if !(2..=4).contains(&(re - rs)) {
            return None;
        }
        (false, &cell[ms..me], &cell[rs..re], re)
    } else {
        return None;
    };
    if matches!(char_at(cell, end), Some(c) if c.is_ascii_digit() || matches!(c, '-' | '室' | '号')) {
        return None;
    }
    Some(Building { start: s, end, long, n: &cell[s..ne], m, r })
}

const RESIDENTIAL: [&str; 12] = ["花园", "家园", "新村", "新城", "山庄", "苑", "园", "城", "府", "庭", "湾", "居"];

/// `cn_estate._NAME`: a Han character that is no road or administrative word.
fn estate_char(c: char) -> bool {
    is_han(c) && !"路街巷弄道号区县市省旗".contains(c)
}

/// `cn_estate._ESTATE.search`: `(?<=[号区县旗])(?P<name>NAME{1,6}?(?:RESIDENTIAL))(?P<xq>小区)?(?=[0-9])`,
/// tried in the order a backtracking engine tries it: leftmost start, fewest name characters,
/// the residential words in order, 小区 taken when a digit follows it.
pub fn estate(cell: &str, want: bool) -> Found {
    let mut prev: Option<char> = None;
    for (s, c) in cell.char_indices() {
        if matches!(prev, Some('号' | '区' | '县' | '旗')) {
            if let Some(found) = estate_at(cell, s, want) {
                return found;
            }
        }
        prev = Some(c);
    }
    Found::Absent
}

fn estate_at(cell: &str, s: usize, want: bool) -> Option<Found> {
    let digit_at = |at: usize| cell.as_bytes().get(at).is_some_and(|b| b.is_ascii_digit());
    let mut q = s;
    for _ in 1..=6 {
        let c = char_at(cell, q).filter(|c| estate_char(*c))?;
        q += c.len_utf8();
        let next = char_at(cell, q);
        for word in RESIDENTIAL {
            // the first characters compared before the words: a word-long compare per word was most of this
            if word.chars().next() != next || !cell[q..].starts_with(word) {
                continue;
            }
            let e = q + word.len();
            let name = &cell[s..e];
            let variants = || (name.to_string(), [name, "小区"].concat());
            if cell[e..].starts_with("小区") && digit_at(e + "小区".len()) {
                return Some(Found::Site(Site::new(s, e + "小区".len(), true, want, variants)));
            }
            if digit_at(e) {
                return Some(Found::Site(Site::new(s, e, false, want, variants)));
            }
        }
    }
    None
}
