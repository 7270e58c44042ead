//! Records from physical lines as Python's `csv.reader` parses them for tracer's dialect (excel with
//! the sniffed one-character delimiter: quote `"`, doubled quotes, not strict), with the rules of
//! `tracer/tables/delimited.py`'s `_csv_records` and `read.Table` around it: the header skipped, blank
//! records dropped, rows of the wrong width counted as ragged, skipped lines counted only once a
//! record follows them (or the stream ends), as the Python generator yields them.

use crate::csv_lines::{chars, Line, Lines, Stop};

#[derive(Clone, Copy, PartialEq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
    EatCrnl,
}

/// `_csv.c`'s `parse_process_char` over one line at a time (a line ends only at its terminator).
struct Parser {
    delimiter: u8,
    max_field: usize,
    state: State,
    text: Vec<u8>,
    ends: Vec<usize>,
    field: usize,            // where the current field starts in text
    counted: (usize, usize), // (bytes, characters) of the current field counted, once it may be too long
}

impl Parser {
    fn add(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.text.extend_from_slice(bytes);
        if self.text.len() - self.field > self.max_field {
            let (done, n) = self.counted;
            let n = n + chars(&self.text[self.field + done..]);
            self.counted = (self.text.len() - self.field, n);
            if n > self.max_field {
                return Err(format!("field larger than field limit ({})", self.max_field));
            }
        }
        Ok(())
    }

    fn save(&mut self) {
        self.ends.push(self.text.len());
        self.field = self.text.len();
        self.counted = (0, 0);
    }

    /// One line, then its end (`EOL`); whether a record is complete.
    fn line(&mut self, line: &[u8]) -> Result<bool, String> {
        let d = self.delimiter;
        let mut i = 0;
        while i < line.len() {
            let c = line[i];
            match self.state {
                State::StartRecord => {
                    if c == b'\n' || c == b'\r' {
                        self.state = State::EatCrnl;
                        i += 1;
                    } else {
                        self.state = State::StartField;
                    }
                }
                State::StartField => {
                    if c == b'\n' || c == b'\r' {
                        self.save();
                        self.state = State::EatCrnl;
                    } else if c == b'"' {
                        self.state = State::InQuoted;
                    } else if c == d {
                        self.save();
                    } else {
                        self.state = State::InField;
                        continue;
                    }
                    i += 1;
                }
                State::InField => {
                    let run = memchr::memchr3(d, b'\n', b'\r', &line[i..]).map_or(line.len(), |j| i + j);
                    self.add(&line[i..run])?;
                    i = run;
                    if i < line.len() {
                        self.save();
                        self.state = if line[i] == d { State::StartField } else { State::EatCrnl };
                        i += 1;
                    }
                }
                State::InQuoted => {
                    let run = memchr::memchr(b'"', &line[i..]).map_or(line.len(), |j| i + j);
                    self.add(&line[i..run])?;
                    i = run;
                    if i < line.len() {
                        self.state = State::QuoteInQuoted;
                        i += 1;
                    }
                }
                State::QuoteInQuoted => {
                    if c == b'"' {
                        self.add(b"\"")?;
                        self.state = State::InQuoted;
                    } else if c == d {
                        self.save();
                        self.state = State::StartField;
                    } else if c == b'\n' || c == b'\r' {
                        self.save();
                        self.state = State::EatCrnl;
                    } else {
                        self.state = State::InField;
                        continue;
                    }
                    i += 1;
                }
                State::EatCrnl => {
                    if c != b'\n' && c != b'\r' {
                        return Err("new-line character seen in unquoted field - do you need to open the file with newline=''?".into());
                    }
                    i += 1;
                }
            }
        }
        match self.state {
            State::InQuoted => return Ok(false),
            State::StartField | State::InField | State::QuoteInQuoted => self.save(),
            State::StartRecord | State::EatCrnl => {}
        }
        self.state = State::StartRecord;
        Ok(true)
    }

    /// The end of the input: a quoted field left open is the record's last (csv, not strict).
    fn end(&mut self) -> bool {
        if self.state == State::InQuoted {
            self.save();
            self.state = State::StartRecord;
            return true;
        }
        false
    }
}

/// Rows as one text and each cell's end in it.
#[derive(Default)]
pub struct Records {
    pub text: String,
    cell_ends: Vec<usize>,
    row_ends: Vec<usize>, // each row's end in cell_ends
}

impl Records {
    pub fn len(&self) -> usize {
        self.row_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_ends.is_empty()
    }

    fn push(&mut self, text: &str, ends: &[usize]) {
        let base = self.text.len();
        self.text.push_str(text);
        self.cell_ends.extend(ends.iter().map(|e| base + e));
        self.row_ends.push(self.cell_ends.len());
    }

    /// Row `r`'s cells.
    pub fn row(&self, r: usize) -> impl ExactSizeIterator<Item = &str> + '_ {
        let first = if r == 0 { 0 } else { self.row_ends[r - 1] };
        (first..self.row_ends[r]).map(move |k| {
            let start = if k == 0 { 0 } else { self.cell_ends[k - 1] };
            &self.text[start..self.cell_ends[k]]
        })
    }

    /// Cell `c` of row `r`, if the row has one.
    pub fn cell(&self, r: usize, c: usize) -> Option<&str> {
        let first = if r == 0 { 0 } else { self.row_ends[r - 1] };
        if first + c >= self.row_ends[r] {
            return None;
        }
        let k = first + c;
        let start = if k == 0 { 0 } else { self.cell_ends[k - 1] };
        Some(&self.text[start..self.cell_ends[k]])
    }
}

/// Why the stream stopped early: `line` is csv's `line_num` (the lines it was given).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Decode { line: u64 },
    Csv { line: u64, message: String },
    Endless,
}

#[derive(Default, Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    pub good: u64,
    pub ragged: u64,
    pub nul: u64,
    pub long_line: u64,
}

pub struct Reader {
    lines: Lines,
    parser: Parser,
    width: usize,
    keep: usize,  // cells of a row kept (a match looks at so many columns)
    header: bool, // the header record is still to come
    pending: (u64, u64), // NUL and long lines not yet counted
    pub counts: Counts,
    line_num: u64,
    pub failure: Option<Failure>,
    ended: bool,
    out: Records,
}

impl Reader {
    pub fn new(delimiter: u8, bom: bool, width: usize, keep: usize, header: bool, max_line: usize, max_field: usize,
               max_skipped: usize) -> Reader {
        let parser = Parser { delimiter, max_field, state: State::StartRecord, text: Vec::new(), ends: Vec::new(),
                              field: 0, counted: (0, 0) };
        Reader { lines: Lines::new(bom, max_line, max_skipped), parser, width, keep: keep.max(1), header, pending: (0, 0),
                 counts: Counts::default(), line_num: 0, failure: None, ended: false, out: Records::default() }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.lines.feed(data);
    }

    pub fn finish(&mut self) {
        self.lines.finish();
    }

    /// Nothing more will come: the stream ended or failed, and every record read is taken.
    pub fn done(&self) -> bool {
        (self.ended || self.failure.is_some()) && self.out.is_empty()
    }

    /// Up to `n` rows: `n` when they are there, fewer only at the end (or a failure), else None.
    pub fn take(&mut self, n: usize) -> Option<Records> {
        self.fill(n);
        if self.out.len() >= n || ((self.ended || self.failure.is_some()) && !self.out.is_empty()) {
            return Some(std::mem::take(&mut self.out));
        }
        None
    }

    fn fill(&mut self, n: usize) {
        while self.failure.is_none() && !self.ended && self.out.len() < n {
            match self.lines.next_line() {
                Ok(Line::Text(line)) => {
                    self.line_num += 1;
                    match self.parser.line(line) {
                        Ok(true) => self.record(),
                        Ok(false) => {}
                        Err(message) => self.failure = Some(Failure::Csv { line: self.line_num, message }),
                    }
                }
                Ok(Line::Nul) => self.pending.0 += 1,
                Ok(Line::Long) => self.pending.1 += 1,
                Err(Stop::More) => return,
                Err(Stop::Eof) => {
                    if self.parser.end() {
                        self.record();
                    }
                    self.count_skips();
                    self.ended = true;
                }
                Err(Stop::Decode) => self.failure = Some(Failure::Decode { line: self.line_num }),
                Err(Stop::Endless) => self.failure = Some(Failure::Endless),
            }
        }
    }

    fn count_skips(&mut self) {
        self.counts.nul += self.pending.0;
        self.counts.long_line += self.pending.1;
        self.pending = (0, 0);
    }

    fn record(&mut self) {
        let cells = self.parser.ends.len();
        if self.header {
            self.header = cells == 0;
        } else {
            self.count_skips();
            if cells == self.width {
                let ends = &self.parser.ends[..cells.min(self.keep)];
                let bytes = &self.parser.text[..ends[ends.len() - 1]];
                debug_assert!(std::str::from_utf8(bytes).is_ok());
                // SAFETY: the parser's text is bytes of lines `Lines` gave, which are checked UTF-8 cut
                // only at line ends, and its cells end at ASCII delimiters, quotes and line breaks
                // (a doubled quote adds one '"'): never inside a character.
                let text = unsafe { std::str::from_utf8_unchecked(bytes) };
                self.out.push(text, ends);
                self.counts.good += 1;
            } else if cells > 0 {
                self.counts.ragged += 1;
            }
        }
        self.parser.text.clear();
        self.parser.ends.clear();
        self.parser.field = 0;
    }
}
