//! The engine's read path (`tracer match`): a leaked batch's exposure digests and every mark it can
//! read, as flat arrays, for rows as Python lists or as the byte reader's records.

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::{CellText, Engine};
use crate::read_free::ReadBytes;
use crate::reader_py::RecordBatch;
use crate::rows::word;

/// A read's arrays as the tuple of bytes `Engine.read` returns.
pub(super) fn tuple_of<'py>(py: Python<'py>, out: &ReadBytes) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, out.parts().map(|b| PyBytes::new(py, b).into_any()))
}

impl Engine {
    /// `Engine.read`: rows as Python lists.
    pub(super) fn read_list<'py>(&mut self, py: Python<'py>, rows: &Bound<'py, PyList>, length: u32)
                                 -> PyResult<Bound<'py, PyTuple>> {
        let mut out = ReadBytes::default();
        for (r, row) in rows.iter().enumerate() {
            let row = row.downcast::<PyList>()?;
            self.read_row(py, r, |i| row.get_item(i), length, &mut out)?;
        }
        tuple_of(py, &out)
    }

    /// `Engine.read_records`: rows the byte reader parsed.
    pub(super) fn read_batch<'py>(&mut self, py: Python<'py>, batch: &RecordBatch, length: u32)
                                  -> PyResult<Bound<'py, PyTuple>> {
        let mut out = ReadBytes::default();
        let records = &batch.records;
        for r in 0..records.len() {
            self.read_row(py, r, |i| records.cell(r, i).ok_or_else(|| PyIndexError::new_err("no such cell")), length, &mut out)?;
        }
        tuple_of(py, &out)
    }

    /// One row of a `read`: its exposures and anchor count, and a mark per readable slot.
    fn read_row<T: CellText>(&mut self, py: Python<'_>, r: usize, cell: impl Fn(usize) -> PyResult<T>, length: u32,
                             out: &mut ReadBytes) -> PyResult<()> {
        let anchors = self.anchors(py, &cell)?;
        out.push_anchors(&anchors);
        for p in 0..self.plan.cells.len() {
            let (index, anchor_column) = (self.plan.cells[p].index, self.plan.cells[p].anchor);
            let Some(anchor) = anchors.of(anchor_column) else { continue };
            let item = cell(index)?;
            let text = item.text()?;
            for s in 0..self.plan.cells[p].slots.len() {
                let (slot, w) = self.plan.cells[p].slots[s];
                if let Some(site) = self.site(py, slot, text)? {
                    out.push_mark(r, word(anchor, w) % length, site.bit, p, s);
                }
            }
        }
        Ok(())
    }

}
