//! A UTF-8 byte stream cut into physical lines exactly as `tracer/tables/textio.py` reads it:
//! `TextIOWrapper(newline='')`'s readline (`\n`, `\r`, `\r\n`) under `bounded_lines`' rules (a line
//! with a NUL or over `max_line` characters skipped, the endless-line refusal), and a decode error
//! found where Python finds it.
//!
//! Python decodes 8 KiB chunks as readline needs them, and a chunk with an invalid byte fails
//! whole: the lines it gives before the error are the lines that end (a lone `\r` held back by the
//! newline decoder, as it waits for a `\n`) before the start of the failing chunk, and a truncated
//! character at the very end fails only at the end.  The rows read before an error are evidence in a
//! match, so they must be the same rows.

pub const DECODE_CHUNK: u64 = 8192;
const BOM: &[u8] = b"\xef\xbb\xbf";

pub enum Line<'a> {
    Text(&'a [u8]),
    Nul,
    Long,
}

/// Why no line came: more bytes are needed, the stream ended, or it cannot go on.
#[derive(Debug, PartialEq)]
pub enum Stop {
    More,
    Eof,
    Decode,
    Endless,
}

pub fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// Where in `bad` (bytes from an invalid sequence on, `len` of them invalid by Rust's count) Python's
/// decoder sees the error: at the first byte that no valid sequence could start with, which is the
/// lead itself for a byte no sequence starts with, else the byte after the `len` that could.  But
/// CPython reads `\xed` and a second byte of `\xa0..\xbf` (a surrogate) as a sequence still going
/// until its third byte is there: None while it is not (more bytes may come; at the end the whole
/// rest is an error after every whole line, as for a cut character).
fn revealed_at(bad: &[u8], len: usize) -> Option<usize> {
    let lead = bad[0];
    if lead == 0xED && len == 1 && bad.get(1).is_some_and(|b| (0xA0..=0xBF).contains(b)) {
        return (bad.len() > 2).then_some(2);
    }
    Some(if (0xC2..=0xF4).contains(&lead) { len } else { 0 })
}

pub struct Lines {
    buf: Vec<u8>,
    base: u64,           // stream offset of buf[0]
    pos: usize,          // start of the next line in buf
    valid: usize,        // buf[..valid] is checked UTF-8
    cut: Option<usize>,  // a decode error: no text past this index of buf is ever given
    eof: bool,
    bom: bool,           // a BOM at the start is dropped (utf-8-sig)
    started: bool,
    max_line: usize,
    skipping: usize,     // characters so far of an over-long line being passed over
    counted: (usize, usize), // (bytes, characters) counted of the partial line at pos
    skipped: usize,      // characters in all over-long lines
    max_skipped: usize,
}

impl Lines {
    pub fn new(bom: bool, max_line: usize, max_skipped: usize) -> Lines {
        Lines { buf: Vec::new(), base: 0, pos: 0, valid: 0, cut: None, eof: false, bom, started: false,
                max_line, skipping: 0, counted: (0, 0), skipped: 0, max_skipped }
    }

    pub fn feed(&mut self, data: &[u8]) {
        if self.eof || self.cut.is_some() {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.valid -= self.pos;
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
        match std::str::from_utf8(&self.buf[self.valid..]) {
            Ok(_) => self.valid = self.buf.len(),
            Err(e) => {
                self.valid += e.valid_up_to();
                if let Some(len) = e.error_len() {
                    if let Some(reveal) = revealed_at(&self.buf[self.valid..], len) {
                        let at = (self.base + (self.valid + reveal) as u64) / DECODE_CHUNK * DECODE_CHUNK;
                        self.cut = Some(self.char_start(at.saturating_sub(self.base) as usize));
                    }
                }
            }
        }
    }

    /// The start of the character at `at` of buf: the chunks before a failing one give their text up to
    /// the last whole character (a character cut by the chunk start is held back by the decoder, so a
    /// `\r` just before it waits for it and is no line end).
    fn char_start(&self, mut at: usize) -> usize {
        while at > 0 && at < self.valid && (self.buf[at] & 0xC0) == 0x80 {
            at -= 1;
        }
        at
    }

    /// The stream ended: a character cut at its end is a decode error (after every whole line).
    pub fn finish(&mut self) {
        let head = &self.buf[self.pos..];
        if self.bom && !self.started && head.len() < 3 && BOM.starts_with(head) {
            self.buf.truncate(self.pos); // a BOM's start alone is no text to utf_8_sig, and no error
        }
        if self.cut.is_none() && self.valid < self.buf.len() {
            self.cut = Some(self.valid);
        }
        self.eof = true;
    }

    fn line_chars(&mut self, end: usize) -> usize {
        let (done, n) = self.counted;
        let n = n + chars(&self.buf[self.pos + done..end]);
        self.counted = (end - self.pos, n);
        n
    }

    pub fn next_line(&mut self) -> Result<Line<'_>, Stop> {
        let end = self.cut.map_or(self.valid, |c| c.min(self.valid));
        let last = self.eof && self.cut.is_none(); // no more text will come
        if !self.started {
            // utf_8_sig's decoder: it waits only while its bytes (decodable or not) are fewer than 3
            // and a BOM's start; else it drops a BOM or decodes them as they are
            let head = &self.buf[self.pos..];
            if self.bom && head.len() < 3 && BOM.starts_with(head) && !self.eof {
                return Err(self.waiting());
            }
            if self.bom && head.starts_with(BOM) && self.pos + 3 <= end {
                self.pos += 3;
            }
            self.started = true;
        }
        let start = self.pos;
        let found = memchr::memchr2(b'\n', b'\r', &self.buf[start..end]).map(|i| start + i);
        let line_end = match found {
            Some(i) if self.buf[i] == b'\n' => Some(i + 1),
            Some(i) if i + 1 < end => Some(if self.buf[i + 1] == b'\n' { i + 2 } else { i + 1 }),
            Some(i) if last => Some(i + 1),
            Some(_) => None, // a '\r' at the end: a '\n' may follow
            None if last && (start < end || self.skipping > 0) => Some(end),
            None if last => return Err(Stop::Eof),
            None => None,
        };
        let Some(line_end) = line_end else {
            let held = if found.is_some() { end - 1 } else { end };
            // a partial line past max_line is over-long whatever follows: passed over as it comes
            if self.skipping > 0 {
                self.skipping += chars(&self.buf[start..held]);
            } else if self.line_chars(held) > self.max_line {
                self.skipping = self.counted.1;
            } else {
                return Err(self.waiting());
            }
            self.pos = held;
            self.counted = (0, 0);
            return Err(self.waiting());
        };
        let length = if self.skipping > 0 || line_end - start > self.max_line {
            self.skipping + self.line_chars(line_end)
        } else {
            line_end - start
        };
        self.skipping = 0;
        self.counted = (0, 0);
        if length > self.max_line {
            // readline(max_line + 1), then pieces of max_line: a piece may end between '\r' and '\n'
            let first = self.max_line + 1;
            let crlf = self.buf[start..line_end].ends_with(b"\r\n");
            let split = crlf && length - 1 >= first && (length - 1 - first) % self.max_line == 0;
            let (read, next) = if split { (length - 1, line_end - 1) } else { (length, line_end) };
            self.pos = next;
            self.skipped += read;
            if self.skipped > self.max_skipped {
                return Err(Stop::Endless);
            }
            return Ok(Line::Long);
        }
        self.pos = line_end;
        let line = &self.buf[start..line_end];
        if memchr::memchr(0, line).is_some() {
            return Ok(Line::Nul);
        }
        Ok(Line::Text(line))
    }

    fn waiting(&self) -> Stop {
        if self.cut.is_some() {
            Stop::Decode
        } else {
            Stop::More
        }
    }
}
