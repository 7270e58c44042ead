//! One row through the mark plan, for an export (`mark_row`) or a leak (`read_row`), whoever decides
//! what the native scanners leave `Unsure`: the Python reference, with the GIL held (`python.rs`), or
//! nobody, with the GIL released, when the whole batch is given up and done again with the GIL
//! (`read_free.rs`).  One loop for both, so the two cannot drift apart: their arrays are the same
//! whenever the GIL-free pass finishes.

use crate::anchors::{id_anchor, phone_anchor, AnchorText};
use crate::export_io::{record_digest, Candidates};
use crate::rows::{embed, exposure, word, Hasher, Plan, RowAnchors};
use crate::site::{Found, Site};
use crate::slots::Slots;

/// What decides a cell the native scanners leave unsure.
pub trait Decide {
    type Error;
    /// The anchor text of a phone (`phone`) or identifier cell.
    fn anchor(&self, phone: bool, cell: &str) -> Result<Option<String>, Self::Error>;
    /// Slot `slot`'s site in `cell` (byte offsets).
    fn site(&self, slot: usize, cell: &str) -> Result<Option<Site>, Self::Error>;
}

/// A row's cell as the pass reads it: text the byte reader parsed, or a Python str of a row list.
pub trait CellText<E> {
    fn text(&self) -> Result<&str, E>;
}

impl<E> CellText<E> for &str {
    fn text(&self) -> Result<&str, E> {
        Ok(self)
    }
}

/// Why a GIL-free pass stopped: a cell it cannot decide alone, or a row without a planned column.
pub struct GiveUp;

/// The GIL-free pass's decider: nobody; an unsure cell gives the batch up.
pub struct NativeOnly;

impl Decide for NativeOnly {
    type Error = GiveUp;
    fn anchor(&self, _phone: bool, _cell: &str) -> Result<Option<String>, GiveUp> {
        Err(GiveUp)
    }
    fn site(&self, _slot: usize, _cell: &str) -> Result<Option<Site>, GiveUp> {
        Err(GiveUp)
    }
}

/// What an export asks of a batch beyond the marks: the account's code, its uid (for the row seed),
/// and the draws under which a row may take a decoy (`export_io::Candidates`).
pub struct MarkAsk<'a> {
    pub bits: &'a [u8],
    pub uid: &'a [u8],
    pub canary_below: u128,
    pub slot_below: u128,
}

/// A mark pass's arrays, little-endian bytes (the layout of `Engine.mark`'s tuple).
#[derive(Default)]
pub struct MarkArrays {
    pub marked: usize,
    pub exposures: Vec<u8>,
    pub counts: Vec<u8>,
    pub phones: Vec<u8>,
    pub seeds: Vec<u8>,
    pub candidates: Candidates,
}

/// A read's arrays, little-endian bytes (the layout of `Engine.read`'s tuple).
#[derive(Default)]
pub struct ReadBytes {
    pub exposures: Vec<u8>,
    pub counts: Vec<u8>,
    pub at: Vec<u8>,
    pub positions: Vec<u8>,
    pub symbols: Vec<u8>,
    pub streams: Vec<u8>,
    /// each stream read, once, in the order first read (uint32): how the matcher numbers them, which
    /// numpy found with a stable sort of every mark's stream (a tenth of a match's main thread)
    pub first_read: Vec<u8>,
    seen: Vec<bool>,
}

impl ReadBytes {
    pub fn parts(&self) -> [&Vec<u8>; 7] {
        [&self.exposures, &self.counts, &self.at, &self.positions, &self.symbols, &self.streams, &self.first_read]
    }

    /// One mark read in row `row`: its code position, its bit, and its stream (cell plan `p`, slot `s`).
    fn push_mark(&mut self, row: usize, position: u32, bit: u8, p: usize, s: usize) {
        let stream = p * 16 + s;
        self.at.extend_from_slice(&(row as u32).to_le_bytes());
        self.positions.extend_from_slice(&position.to_le_bytes());
        self.symbols.push(bit);
        self.streams.extend_from_slice(&(stream as u32).to_le_bytes());
        if self.seen.len() <= stream {
            self.seen.resize(stream + 1, false);
        }
        if !self.seen[stream] {
            self.seen[stream] = true;
            self.first_read.extend_from_slice(&(stream as u32).to_le_bytes());
        }
    }
}

/// The engine's parts a pass uses, and its decider.
pub struct RowPass<'a, D> {
    pub hasher: &'a mut Hasher,
    pub plan: &'a Plan,
    pub slots: &'a Slots,
    pub decide: D,
}

impl<D: Decide> RowPass<'_, D> {
    /// The slot's site (`want`: with its variants, for a write) from the native scanner, or the decider.
    fn site(&self, slot: usize, cell: &str, want: bool) -> Result<Option<Site>, D::Error> {
        match self.slots.locate(slot, cell, want) {
            Found::Site(site) => Ok(Some(site)),
            Found::Absent => Ok(None),
            Found::Unsure => self.decide.site(slot, cell),
        }
    }

    /// The row's anchors, phones first, in plan order.
    fn anchors<T: CellText<D::Error>>(&mut self, cell: &impl Fn(usize) -> Result<T, D::Error>)
                                      -> Result<RowAnchors, D::Error> {
        let plan = self.plan;
        let mut by_column = Vec::with_capacity(plan.phone_cols.len() + plan.id_cols.len());
        let mut phones = 0;
        let columns = plan.phone_cols.iter().map(|c| (true, *c)).chain(plan.id_cols.iter().map(|c| (false, *c)));
        for (phone, index) in columns {
            let item = cell(index)?;
            let text = item.text()?;
            let found = match if phone { phone_anchor(text) } else { id_anchor(text) } {
                AnchorText::Known(found) => found,
                AnchorText::Unsure => self.decide.anchor(phone, text)?,
            };
            if let Some(anchor) = found {
                by_column.push((index, self.hasher.digest(&anchor)));
                phones += phone as usize;
            }
        }
        Ok(RowAnchors::new(by_column, phones))
    }

    /// Row `r` of a mark pass: its anchors, seed and candidacy into `out`, and its marked cells as
    /// (column, new text).
    pub fn mark_row<T: CellText<D::Error>>(&mut self, r: usize, cell: impl Fn(usize) -> Result<T, D::Error>,
                                           ask: &MarkAsk, out: &mut MarkArrays)
                                           -> Result<Vec<(usize, String)>, D::Error> {
        let anchors = self.anchors(&cell)?;
        for (_, d) in &anchors.by_column {
            out.exposures.extend_from_slice(&exposure(d).to_le_bytes());
        }
        out.counts.push(anchors.by_column.len() as u8);
        out.phones.push(anchors.phones as u8);
        let seed = anchors.seed(self.hasher.secret(), ask.uid);
        let record = record_digest(self.hasher.secret(), &anchors);
        out.candidates.consider(r as u32, seed.as_ref(), record.as_ref(), ask.canary_below, ask.slot_below);
        out.seeds.extend_from_slice(&seed.unwrap_or([0u8; 16]));
        let mut changes: Vec<(usize, String)> = Vec::new();
        for cell_plan in &self.plan.cells {
            let index = cell_plan.index;
            let Some(anchor) = anchors.of(cell_plan.anchor) else { continue };
            let earlier = changes.iter().position(|(i, _)| *i == index);
            let mut text = match earlier {
                Some(k) => changes.remove(k).1, // a column of two cell plans: the second marks the first's result
                None => cell(index)?.text()?.to_string(),
            };
            let mut carried = false;
            for &(slot, w) in &cell_plan.slots {
                if let Some(site) = self.site(slot, &text, true)? {
                    let bit = ask.bits[word(anchor, w) as usize % ask.bits.len()];
                    text = embed(&text, &site, bit);
                    carried = true;
                }
            }
            out.marked += carried as usize;
            if carried || earlier.is_some() {
                changes.push((index, text));
            }
        }
        Ok(changes)
    }

    /// Row `r` of a read: its exposures and anchor count, and a mark per readable slot.
    pub fn read_row<T: CellText<D::Error>>(&mut self, r: usize, cell: impl Fn(usize) -> Result<T, D::Error>,
                                           length: u32, out: &mut ReadBytes) -> Result<(), D::Error> {
        let anchors = self.anchors(&cell)?;
        for (_, d) in &anchors.by_column {
            out.exposures.extend_from_slice(&exposure(d).to_le_bytes());
        }
        out.counts.extend_from_slice(&(anchors.by_column.len() as u32).to_le_bytes());
        for (p, cell_plan) in self.plan.cells.iter().enumerate() {
            let Some(anchor) = anchors.of(cell_plan.anchor) else { continue };
            let item = cell(cell_plan.index)?;
            let text = item.text()?;
            for (s, &(slot, w)) in cell_plan.slots.iter().enumerate() {
                if let Some(site) = self.site(slot, text, false)? {
                    out.push_mark(r, word(anchor, w) % length, site.bit, p, s);
                }
            }
        }
        Ok(())
    }
}
