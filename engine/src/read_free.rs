//! `Engine.read_records` and `Engine.mark_records` without Python: a batch the byte reader parsed,
//! done by the native scanners alone, so the caller can release the GIL while it runs
//! (`tracer/read_ahead.py` reads or marks the next batch while the last one is summed in or written).
//! A cell the scanners leave `Unsure` (the reference must decide it) gives up the whole batch
//! (`None`), and the caller does that batch with the GIL, as before: the arrays are the same either way.

use crate::csv_read::Records;
use crate::export_io::CsvText;
use crate::row_pass::{GiveUp, MarkArrays, MarkAsk, NativeOnly, ReadBytes, RowPass};
use crate::rows::{Hasher, Plan};
use crate::slots::Slots;

fn pass<'a>(hasher: &'a mut Hasher, plan: &'a Plan, slots: &'a Slots) -> RowPass<'a, NativeOnly> {
    RowPass { hasher, plan, slots, decide: NativeOnly }
}

/// Every row of `records` read, or None when some cell needs the Python reference.
pub fn read_records(hasher: &mut Hasher, plan: &Plan, slots: &Slots, records: &Records, length: u32) -> Option<ReadBytes> {
    let mut rows = pass(hasher, plan, slots);
    let mut out = ReadBytes::default();
    for r in 0..records.len() {
        rows.read_row(r, |i| records.cell(r, i).ok_or(GiveUp), length, &mut out).ok()?;
    }
    Some(out)
}

/// Every row of `records` marked, the marked rows written into `text`; None when some cell needs the
/// Python reference (`text` is then partly written: the caller starts again with a new one).
pub fn mark_records(hasher: &mut Hasher, plan: &Plan, slots: &Slots, records: &Records, ask: &MarkAsk,
                    text: &mut CsvText) -> Option<MarkArrays> {
    let mut rows = pass(hasher, plan, slots);
    let mut out = MarkArrays::default();
    for r in 0..records.len() {
        let changes = rows.mark_row(r, |i| records.cell(r, i).ok_or(GiveUp), ask, &mut out).ok()?;
        text.row(marked(records, r, &changes));
    }
    Some(out)
}

/// Row `r`'s cells with the marked ones in place.
pub fn marked<'a>(records: &'a Records, r: usize, changes: &'a [(usize, String)]) -> impl ExactSizeIterator<Item = &'a str> {
    records.row(r).enumerate().map(move |(j, cell)| changes.iter().find(|(i, _)| *i == j).map_or(cell, |(_, new)| new.as_str()))
}
