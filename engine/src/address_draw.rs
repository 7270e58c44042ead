//! A canary's Chinese address drawn from the window's addresses: `canary_draws.address_from_rows` with
//! the window's address column (`canary_window.AddressIndex`), for a home written in Chinese.
//!
//! The Python code is the reference; this makes the same rng calls, in the same order, with the same
//! bounds, and returns the same address (`tests/test_address_draw.py` holds the two together).  What it
//! reads of an address is `address_reading`'s: its kind key and number count as every cell enters the
//! window, and its numbers with their roles (`CN_NUMBER`, `_cn_role`) when a draw looks at it.  A cell
//! not written in Chinese has its key and count from Python (`address_kind`), and no Chinese numbers.

use std::cell::OnceCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use crate::py_random::PyRandom;
use crate::quick_hash::QuickMap;
use crate::text::is_space;

const NONE: u64 = u64::MAX;  // no next row

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Role {
    Building,
    Unit,
    Room,
    House,
    Floor,
    Other,
}

/// `address_reading.CN_*_WORDS` in `_cn_role`'s order: the word after a number tells its role.
const ROLE_WORDS: [(Role, &[&str]); 5] = [
    (Role::Unit, &["单元"]),
    (Role::Building, &["号楼", "栋", "幢", "座"]),
    (Role::House, &["号院", "弄", "号"]),
    (Role::Room, &["室", "房", "户"]),
    (Role::Floor, &["层", "楼"]),
];

/// `address_reading.CN_ROLE_HINTS`: what an address holds whenever it has a number of the role.
fn hints(role: Role) -> &'static [&'static str] {
    match role {
        Role::Unit => &["单元", "-"],
        Role::Building => &["号楼", "栋", "幢", "座", "-"],
        Role::House => &["号院", "弄", "号"],
        Role::Room => &["室", "房", "户", "-"],
        Role::Floor => &["层", "楼"],
        Role::Other => &[],
    }
}

/// `address_reading.CJK`: one character of the main CJK block (U+4E00 to U+9FFF), found in the bytes:
/// its UTF-8 leads with 0xE5 to 0xE9, or 0xE4 and then at least 0xB8 (a cell's characters decoded one by
/// one were half of what a window row cost).
pub fn is_cjk(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| (0xE5..=0xE9).contains(&b) || (b == 0xE4 && bytes.get(i + 1) >= Some(&0xB8)))
}

/// Whether the digits of `text` are all ASCII ones: then its digit runs are Python's `\d+` runs exactly.
/// (Python's `\d` is every Unicode decimal digit of its own Unicode version: a cell with any other
/// numeric character is read by Python.)
pub fn plain_digits(text: &str) -> bool {
    // Nothing from U+4000 to U+9FFF is numeric (Han ideographs and the Yijing hexagrams; 一 is a letter):
    // those characters (UTF-8 led by 0xE4 to 0xE9) and ASCII pass on their first byte, the rest is decoded.
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            0x00..=0x7F => at += 1,
            0xE4..=0xE9 => at += 3,
            _ => {
                let c = text[at..].chars().next().expect("a character");
                if c.is_numeric() {
                    return false;
                }
                at += c.len_utf8();
            }
        }
    }
    true
}

fn digit_runs(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut at = 0;
    while let Some(start) = bytes[at..].iter().position(u8::is_ascii_digit).map(|p| p + at) {
        let end = crate::text::digits_end(text, start);
        runs.push((start, end));
        at = end;
    }
    runs
}

fn strip(text: &str) -> &str {
    text.trim_matches(is_space)
}

/// `cjk_key` of a cell written in Chinese whose digits are all ASCII; None for any other cell (Python's
/// `address_key` keys it).
pub fn chinese_key(cell: &str) -> Option<(String, usize)> {
    (is_cjk(cell) && plain_digits(cell)).then(|| cjk_key(cell))
}

/// `address_key` of a cell written in Chinese (with its number count): the shape (digit runs as `#`),
/// stripped; prefixed with `1{count}|` when the cell holds a `#` of its own (then `address_kind`'s).
/// Made in one pass into one string: every cell entering the window is read here.
pub fn cjk_key(text: &str) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut shape = String::with_capacity(text.len());
    let (mut count, mut last, mut at) = (0, 0, 0);
    while at < bytes.len() {
        if bytes[at].is_ascii_digit() {
            shape.push_str(&text[last..at]);
            shape.push('#');
            count += 1;
            at = crate::text::digits_end(text, at);
            last = at;
        } else {
            at += 1;
        }
    }
    shape.push_str(&text[last..]);
    let key = if text.contains('#') {
        format!("1{}|{}", count, strip(&shape))
    } else {
        let (start, len) = (shape.len() - shape.trim_start_matches(is_space).len(), strip(&shape).len());
        shape.truncate(start + len);
        shape.drain(..start);
        shape
    };
    (key, count)
}

fn cn_role(text: &str, end: usize) -> Role {
    let after = &text[end..];
    ROLE_WORDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| after.starts_with(w)))
        .map_or(Role::Other, |&(role, _)| role)
}

/// `address_numbers` of a Chinese address: (role, start, end) of each number (byte offsets), read as
/// `CN_NUMBER` reads it: `3-2-301` (building, unit, room), `3-301` before 室 or the end (building, room),
/// else one number whose role is the word after it.
pub fn cn_numbers(text: &str) -> Vec<(Role, usize, usize)> {
    let runs = digit_runs(text);
    let bytes = text.as_bytes();
    let joined = |a: usize, b: usize| b < runs.len() && runs[b].0 == runs[a].1 + 1 && bytes[runs[a].1] == b'-';
    let at_end = |p: usize| p == text.len() || (p + 1 == text.len() && bytes[p] == b'\n');  // Python's $
    let mut out = Vec::with_capacity(runs.len());
    let mut i = 0;
    while i < runs.len() {
        if joined(i, i + 1) && joined(i + 1, i + 2) {
            out.extend([(Role::Building, runs[i]), (Role::Unit, runs[i + 1]), (Role::Room, runs[i + 2])]
                .map(|(role, (s, e))| (role, s, e)));
            i += 3;
        } else if joined(i, i + 1) && (text[runs[i + 1].1..].starts_with('室') || at_end(runs[i + 1].1)) {
            out.extend([(Role::Building, runs[i]), (Role::Room, runs[i + 1])].map(|(role, (s, e))| (role, s, e)));
            i += 2;
        } else {
            out.push((cn_role(text, runs[i].1), runs[i].0, runs[i].1));
            i += 1;
        }
    }
    out
}

struct Entry {
    cell: Rc<str>,
    key: String,
    count: usize,
    cjk: bool,  // written in Chinese, its numbers read here
    unread: bool,  // written in Chinese, its numbers left to Python (digits not all ASCII)
    first: bool,  // the first row of the window holding this cell
    next: u64,  // the next row holding this cell, or NONE
    numbers: OnceCell<Vec<(Role, usize, usize)>>,  // cn_numbers, read when a draw first looks
}

impl Entry {
    fn numbers(&self) -> &[(Role, usize, usize)] {
        self.numbers.get_or_init(|| cn_numbers(&self.cell))
    }

    fn of_role(&self, role: Role) -> impl Iterator<Item = &str> {
        self.numbers().iter().filter(move |&&(r, _, _)| r == role).map(move |&(_, s, e)| &self.cell[s..e])
    }
}

/// The window's address column: each cell with its kind key and number count, oldest first, and where
/// each distinct cell first is (kept as rows enter and leave: a draw asks for the distinct cells in the
/// order of their first rows, and whether a row is its cell's first).
#[derive(Default)]
pub struct Column {
    entries: VecDeque<Entry>,
    start: u64,  // rows that left: entry k is row start + k
    unread: usize,  // entries written in Chinese whose numbers are left to Python (digits not all ASCII)
    // each cell's first and last rows in the window (its rows linked by `Entry::next`): a window of 512
    // rows bounds what colliding cells could cost.  (A deque of rows per cell was an allocation per cell.)
    rows_of: QuickMap<Rc<str>, (u64, u64)>,
}

impl Column {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn drop_front(&mut self, count: usize) {
        for _ in 0..count.min(self.entries.len()) {
            let entry = self.entries.pop_front().expect("an entry");
            self.start += 1;
            self.unread -= entry.unread as usize;
            if entry.next == NONE {
                self.rows_of.remove(&entry.cell);
            } else {
                self.entries[(entry.next - self.start) as usize].first = true;
                self.rows_of.get_mut(&entry.cell).expect("its rows").0 = entry.next;
            }
        }
    }

    /// A cell entering; `python` gives (key, count) of one not written in Chinese or whose digits are not
    /// all ASCII (`address_key`): no Chinese numbers are read here of either.  A cell the window holds
    /// already takes its key and count from its last row.
    pub fn push<E>(&mut self, cell: &str, python: impl FnOnce(&str) -> Result<(String, usize), E>) -> Result<(), E> {
        let repeated = self.rows_of.contains_key(cell);  // then its key is its last row's
        let made = if repeated { None } else { chinese_key(cell) };
        self.push_made(cell, made.as_ref(), python)
    }

    /// `push` with the cell's key made already (`Some` exactly for a cell written in Chinese with ASCII
    /// digits: `cjk_key`'s).
    pub fn push_made<E>(&mut self, cell: &str, made: Option<&(String, usize)>,
                        python: impl FnOnce(&str) -> Result<(String, usize), E>) -> Result<(), E> {
        let row = self.start + self.entries.len() as u64;
        if let Some(rows) = self.rows_of.get_mut(cell) {
            let last = &mut self.entries[(rows.1 - self.start) as usize];
            last.next = row;
            rows.1 = row;
            let entry = Entry { cell: last.cell.clone(), key: last.key.clone(), count: last.count, cjk: last.cjk,
                                unread: last.unread, first: false, next: NONE, numbers: OnceCell::new() };
            self.unread += entry.unread as usize;
            self.entries.push_back(entry);
            return Ok(());
        }
        let cjk = made.is_some();
        let (key, count) = match made {
            Some((key, count)) => (key.clone(), *count),
            None => python(cell)?,
        };
        let cell: Rc<str> = Rc::from(cell);
        self.rows_of.insert(cell.clone(), (row, row));
        let unread = !cjk && is_cjk(&cell);
        self.unread += unread as usize;
        self.entries.push_back(Entry { cell, key, count, cjk, unread, first: true, next: NONE, numbers: OnceCell::new() });
        Ok(())
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.as_str())
    }

    pub fn counts(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries.iter().map(|e| e.count)
    }

    /// Every distinct cell, in the order of their first rows.
    fn distinct(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.first)
    }

    /// `address_from_rows(home, ...)` for a home written in Chinese, drawing from `rng`; None for any
    /// other home (the Python code draws it), before any number is drawn.
    pub fn draw(&self, home: &str, rng: &mut PyRandom) -> Option<String> {
        if !is_cjk(home) || !plain_digits(home) || self.is_empty() || self.unread > 0 {
            return None;
        }
        let mine = cn_numbers(home);
        if mine.iter().all(|&(role, _, _)| role == Role::Other) {
            return Some(home.to_string());
        }
        let key = cjk_key(home).0;
        let same: Vec<&Entry> = self.distinct().filter(|e| e.key == key && &*e.cell != home).collect();
        let most = self.counts().max().unwrap_or(0).max(1);
        let mut numbers = RoleNumbers { column: self, home, most, every: HashMap::new() };
        let mut result = home.to_string();
        for _ in 0..8 {
            result.clear();
            let mut last = 0;
            for (k, &(role, start, end)) in mine.iter().enumerate() {
                let mut value = home[start..end].to_string();
                if role != Role::Other && !same.is_empty() {
                    let other = same[rng.below(same.len() as u64) as usize];
                    let (_, s, e) = other.numbers()[k];
                    value = other.cell[s..e].to_string();
                } else if role != Role::Other {
                    if let Some(found) = numbers.draw(role, rng) {
                        value = found;
                    }
                }
                result.push_str(&home[last..start]);
                result.push_str(&value);
                last = end;
            }
            result.push_str(&home[last..]);
            if result != home {
                return Some(result);
            }
        }
        Some(result)
    }
}

/// `canary_draws._RoleNumbers` for a Chinese home: one number of a role, each number of that role in a
/// distinct address (not the home) as likely; found by rejection first, then from the list of them all.
struct RoleNumbers<'a> {
    column: &'a Column,
    home: &'a str,
    most: usize,
    every: HashMap<Role, Vec<String>>,
}

impl RoleNumbers<'_> {
    fn draw(&mut self, role: Role, rng: &mut PyRandom) -> Option<String> {
        let hints = hints(role);
        let hinted = |cell: &str| hints.iter().any(|h| cell.contains(h));
        if !self.every.contains_key(&role) {
            let (entries, most) = (&self.column.entries, self.most);
            let span = (entries.len() * most) as u64;
            for _ in 0..64 {
                let drawn = rng.below(span) as usize;
                let (k, place) = (drawn / most, drawn % most);
                let entry = &entries[k];
                if place >= entry.count || &*entry.cell == self.home || !hinted(&entry.cell) {
                    continue;
                }
                if !entry.cjk {
                    continue;  // its numbers are not read as Chinese ones: none of this role
                }
                if let Some(found) = entry.of_role(role).nth(place) {
                    if entry.first {
                        return Some(found.to_string());
                    }
                }
            }
            let all: Vec<String> = self.column.distinct()
                .filter(|e| e.cjk && &*e.cell != self.home && hinted(&e.cell))
                .flat_map(|e| e.of_role(role).map(str::to_string))
                .collect();
            self.every.insert(role, all);
        }
        let all = &self.every[&role];
        if all.is_empty() {
            return None;
        }
        Some(all[rng.below(all.len() as u64) as usize].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_roles_as_cn_number_reads_them() {
        let roles = |t: &str| cn_numbers(t).into_iter().map(|(r, s, e)| (r, t[s..e].to_string())).collect::<Vec<_>>();
        assert_eq!(roles("幸福小区3-2-301"), vec![(Role::Building, "3".into()), (Role::Unit, "2".into()),
                                                 (Role::Room, "301".into())]);
        assert_eq!(roles("幸福小区3-301室"), vec![(Role::Building, "3".into()), (Role::Room, "301".into())]);
        assert_eq!(roles("幸福小区3-301号"), vec![(Role::Other, "3".into()), (Role::House, "301".into())]);
        assert_eq!(roles("建设路12号5栋2单元1201"), vec![(Role::House, "12".into()), (Role::Building, "5".into()),
                                                        (Role::Unit, "2".into()), (Role::Other, "1201".into())]);
        assert_eq!(cjk_key(" 建设路12号5栋 ").0, "建设路#号#栋");
        assert_eq!(cjk_key("建设路#12号"), ("11|建设路##号".to_string(), 1));
    }
}

