//! The PyO3 face of the byte reader (`csv_read`): Python hands it the file's bytes a chunk at a time
//! and takes rows a batch at a time, as `RecordBatch`es the engine marks and reads without a Python
//! string per cell (`tracer/tables/native_csv.py`).

use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::csv_read::{Failure, Reader, Records};

// sendable (as `RecordBatch`): a read-ahead thread may go on reading what the main thread began
#[pyclass]
pub struct CsvReader {
    reader: Reader,
}

/// Rows read from bytes; as a sequence, each row a list of its cells.
#[pyclass(sequence)]
pub struct RecordBatch {
    pub records: Records,
}

pub fn row_list<'py>(py: Python<'py>, records: &Records, r: usize) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, records.row(r).map(|cell| PyString::new(py, cell)))
}

#[pymethods]
impl RecordBatch {
    fn __len__(&self) -> usize {
        self.records.len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: isize) -> PyResult<Bound<'py, PyList>> {
        let n = self.records.len() as isize;
        let r = if index < 0 { index + n } else { index };
        if r < 0 || r >= n {
            return Err(PyIndexError::new_err("row index out of range"));
        }
        row_list(py, &self.records, r as usize)
    }

    /// Every row as a list of its cells.
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = PyList::empty(py);
        for r in 0..self.records.len() {
            rows.append(row_list(py, &self.records, r)?)?;
        }
        Ok(rows)
    }
}

#[pymethods]
impl CsvReader {
    /// `delimiter`: one ASCII character, not a quote or line break; `bom`: drop a UTF-8 BOM at the start
    /// (utf-8-sig); `width`: the header's cells; `keep`: the cells of a row kept (the first); `header`:
    /// the first record is the header.
    #[new]
    fn new(delimiter: &str, bom: bool, width: usize, keep: usize, header: bool, max_line: usize, max_field: usize,
           max_skipped: usize) -> PyResult<CsvReader> {
        let d = delimiter.as_bytes();
        if d.len() != 1 || !d[0].is_ascii() || b"\"\r\n".contains(&d[0]) || max_line == 0 {
            return Err(PyValueError::new_err("the byte reader takes one ASCII delimiter, not a quote or line break"));
        }
        Ok(CsvReader { reader: Reader::new(d[0], bom, width, keep, header, max_line, max_field, max_skipped) })
    }

    fn feed(&mut self, data: &[u8]) {
        self.reader.feed(data);
    }

    fn finish(&mut self) {
        self.reader.finish();
    }

    #[getter]
    fn done(&self) -> bool {
        self.reader.done()
    }

    /// `n` rows, fewer at the end, or None when more bytes are needed first; parsed with the GIL
    /// released (a read-ahead thread parses while the main thread works).
    fn take(&mut self, py: Python<'_>, n: usize) -> Option<RecordBatch> {
        let reader = &mut self.reader;
        py.allow_threads(|| reader.take(n)).map(|records| RecordBatch { records })
    }

    /// (good rows, ragged rows, NUL lines, long lines) counted so far.
    fn counts(&self) -> (u64, u64, u64, u64) {
        let c = self.reader.counts;
        (c.good, c.ragged, c.nul, c.long_line)
    }

    /// None, ('decode', line), ('csv', line, message) or ('endless',).
    fn failure<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        Ok(match &self.reader.failure {
            None => None,
            Some(Failure::Decode { line }) => Some(("decode", *line).into_pyobject(py)?),
            Some(Failure::Csv { line, message }) => Some(("csv", *line, message.as_str()).into_pyobject(py)?),
            Some(Failure::Endless) => Some(PyTuple::new(py, ["endless"])?),
        })
    }
}
