//! `Engine.read_records` without Python: a batch the byte reader parsed, read by the native scanners
//! alone, so the caller can release the GIL while it runs (`tracer/read_ahead.py` reads the next batch
//! while the last one is summed in).  A cell the scanners leave `Unsure` (the reference must decide it)
//! gives up the whole batch (`None`), and the caller reads that batch with the GIL, as before: the
//! arrays are the same either way.

use crate::anchors::{id_anchor, phone_anchor, AnchorText};
use crate::csv_read::Records;
use crate::rows::{exposure, word, Hasher, Plan, RowAnchors};
use crate::site::Found;
use crate::slots::Slots;

/// A read's arrays, little-endian bytes (the layout of `Engine.read`'s tuple).
#[derive(Default)]
pub struct ReadBytes {
    pub exposures: Vec<u8>,
    pub counts: Vec<u8>,
    pub at: Vec<u8>,
    pub positions: Vec<u8>,
    pub symbols: Vec<u8>,
    pub streams: Vec<u8>,
}

impl ReadBytes {
    pub fn parts(&self) -> [&Vec<u8>; 6] {
        [&self.exposures, &self.counts, &self.at, &self.positions, &self.symbols, &self.streams]
    }

    /// A row's exposure digests and how many there are.
    pub fn push_anchors(&mut self, anchors: &RowAnchors) {
        for (_, d) in &anchors.by_column {
            self.exposures.extend_from_slice(&exposure(d).to_le_bytes());
        }
        self.counts.extend_from_slice(&(anchors.by_column.len() as u32).to_le_bytes());
    }

    /// One mark read in row `row`: its code position, its bit, and its stream (cell plan `p`, slot `s`).
    pub fn push_mark(&mut self, row: usize, position: u32, bit: u8, p: usize, s: usize) {
        self.at.extend_from_slice(&(row as u32).to_le_bytes());
        self.positions.extend_from_slice(&position.to_le_bytes());
        self.symbols.push(bit);
        self.streams.extend_from_slice(&((p * 16 + s) as u32).to_le_bytes());
    }
}

/// Every row of `records`, or None when some cell needs the Python reference.
pub fn read_records(hasher: &mut Hasher, plan: &Plan, slots: &Slots, records: &Records, length: u32) -> Option<ReadBytes> {
    let mut out = ReadBytes::default();
    for r in 0..records.len() {
        read_row(hasher, plan, slots, |i| records.cell(r, i), r, length, &mut out)?;
    }
    Some(out)
}

fn anchors<'a>(hasher: &mut Hasher, plan: &Plan, cell: &impl Fn(usize) -> Option<&'a str>) -> Option<RowAnchors> {
    let mut by_column = Vec::with_capacity(plan.phone_cols.len() + plan.id_cols.len());
    let mut phones = 0;
    let columns = plan.phone_cols.iter().map(|c| (true, *c)).chain(plan.id_cols.iter().map(|c| (false, *c)));
    for (phone, index) in columns {
        let text = cell(index)?;
        let found = if phone { phone_anchor(text) } else { id_anchor(text) };
        match found {
            AnchorText::Known(Some(anchor)) => {
                by_column.push((index, hasher.digest(&anchor)));
                phones += phone as usize;
            }
            AnchorText::Known(None) => {}
            AnchorText::Unsure => return None,
        }
    }
    Some(RowAnchors::new(by_column, phones))
}

fn read_row<'a>(hasher: &mut Hasher, plan: &Plan, slots: &Slots, cell: impl Fn(usize) -> Option<&'a str>, r: usize,
                length: u32, out: &mut ReadBytes) -> Option<()> {
    let anchors = anchors(hasher, plan, &cell)?;
    out.push_anchors(&anchors);
    for (p, cell_plan) in plan.cells.iter().enumerate() {
        let Some(anchor) = anchors.of(cell_plan.anchor) else { continue };
        let text = cell(cell_plan.index)?;
        for (s, &(slot, w)) in cell_plan.slots.iter().enumerate() {
            match slots.locate(slot, text) {
                Found::Site(site) => out.push_mark(r, word(anchor, w) % length, site.bit, p, s),
                Found::Absent => {}
                Found::Unsure => return None,
            }
        }
    }
    Some(())
}
