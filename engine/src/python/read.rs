//! The engine's read path (`tracer match`): a leaked batch's exposure digests and every mark it can
//! read, as flat arrays, for rows as Python lists or as the byte reader's records.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::{record_cell, Engine};
use crate::reader_py::RecordBatch;
use crate::row_pass::ReadBytes;

/// A read's arrays as the tuple of bytes `Engine.read` returns.
pub(super) fn tuple_of<'py>(py: Python<'py>, out: &ReadBytes) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, out.parts().map(|b| PyBytes::new(py, b).into_any()))
}

impl Engine {
    /// `Engine.read`: rows as Python lists.
    pub(super) fn read_list<'py>(&mut self, py: Python<'py>, rows: &Bound<'py, PyList>, length: u32)
                                 -> PyResult<Bound<'py, PyTuple>> {
        let reference = self.reference.bind(py).clone();
        let mut pass = self.pass(&reference);
        let mut out = ReadBytes::default();
        for (r, row) in rows.iter().enumerate() {
            let row = row.downcast::<PyList>()?;
            pass.read_row(r, |i| row.get_item(i), length, &mut out)?;
        }
        tuple_of(py, &out)
    }

    /// `Engine.read_records`: rows the byte reader parsed.
    pub(super) fn read_batch<'py>(&mut self, py: Python<'py>, batch: &RecordBatch, length: u32)
                                  -> PyResult<Bound<'py, PyTuple>> {
        let reference = self.reference.bind(py).clone();
        let mut pass = self.pass(&reference);
        let mut out = ReadBytes::default();
        let records = &batch.records;
        for r in 0..records.len() {
            pass.read_row(r, |i| record_cell(records, r, i), length, &mut out)?;
        }
        tuple_of(py, &out)
    }
}
