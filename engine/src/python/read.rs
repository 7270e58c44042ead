//! The engine's read path (`tracer match`): a leaked batch's exposure digests and every mark it can
//! read, as flat arrays, for rows as Python lists or as the byte reader's records.

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::{CellText, Engine};
use crate::reader_py::RecordBatch;
use crate::rows::{exposure, word};

#[derive(Default)]
struct ReadArrays {
    exposures: Vec<u8>,
    counts: Vec<u8>,
    at: Vec<u8>,
    positions: Vec<u8>,
    symbols: Vec<u8>,
    streams: Vec<u8>,
}

impl ReadArrays {
    fn into_tuple<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let parts = [&self.exposures, &self.counts, &self.at, &self.positions, &self.symbols, &self.streams];
        PyTuple::new(py, parts.map(|b| PyBytes::new(py, b).into_any()))
    }
}

impl Engine {
    /// `Engine.read`: rows as Python lists.
    pub(super) fn read_list<'py>(&mut self, py: Python<'py>, rows: &Bound<'py, PyList>, length: u32)
                                 -> PyResult<Bound<'py, PyTuple>> {
        let mut out = ReadArrays::default();
        for (r, row) in rows.iter().enumerate() {
            let row = row.downcast::<PyList>()?;
            self.read_row(py, r, |i| row.get_item(i), length, &mut out)?;
        }
        out.into_tuple(py)
    }

    /// `Engine.read_records`: rows the byte reader parsed.
    pub(super) fn read_batch<'py>(&mut self, py: Python<'py>, batch: &RecordBatch, length: u32)
                                  -> PyResult<Bound<'py, PyTuple>> {
        let mut out = ReadArrays::default();
        let records = &batch.records;
        for r in 0..records.len() {
            self.read_row(py, r, |i| records.cell(r, i).ok_or_else(|| PyIndexError::new_err("no such cell")), length, &mut out)?;
        }
        out.into_tuple(py)
    }

    /// One row of a `read`: its exposures and anchor count, and a mark per readable slot.
    fn read_row<T: CellText>(&mut self, py: Python<'_>, r: usize, cell: impl Fn(usize) -> PyResult<T>, length: u32,
                             out: &mut ReadArrays) -> PyResult<()> {
        let anchors = self.anchors(py, &cell)?;
        for (_, d) in &anchors.by_column {
            out.exposures.extend_from_slice(&exposure(d).to_le_bytes());
        }
        out.counts.extend_from_slice(&(anchors.by_column.len() as u32).to_le_bytes());
        for p in 0..self.plan.cells.len() {
            let (index, anchor_column) = (self.plan.cells[p].index, self.plan.cells[p].anchor);
            let Some(anchor) = anchors.of(anchor_column) else { continue };
            let item = cell(index)?;
            let text = item.text()?;
            for s in 0..self.plan.cells[p].slots.len() {
                let (slot, w) = self.plan.cells[p].slots[s];
                if let Some(site) = self.site(py, slot, text)? {
                    out.at.extend_from_slice(&(r as u32).to_le_bytes());
                    out.positions.extend_from_slice(&(word(anchor, w) % length).to_le_bytes());
                    out.symbols.push(site.bit);
                    out.streams.extend_from_slice(&((p * 16 + s) as u32).to_le_bytes());
                }
            }
        }
        Ok(())
    }

}
