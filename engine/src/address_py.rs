//! The PyO3 face of the address draw (`address_draw`): the window's address column, kept here as cells
//! enter and leave (`canary_window.AddressIndex`), and a canary's Chinese address drawn from it with
//! `random.Random(seed)` for the seed the Python draw takes from its own rng.

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;

use crate::address_draw::{chinese_key, Column};
use crate::py_random::PyRandom;
use crate::reader_py::RecordBatch;

#[pyclass(unsendable)]
#[derive(Default)]
pub struct AddressColumn {
    column: Column,
}

#[pymethods]
impl AddressColumn {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    fn __len__(&self) -> usize {
        self.column.len()
    }

    /// The oldest ``count`` cells leave.
    fn drop_front(&mut self, count: usize) {
        self.column.drop_front(count);
    }

    /// Cells entering, oldest first, joined by NUL (``count`` of them; False, nothing added, when the
    /// join holds another number of cells: a cell holding a NUL is added by ``add_one``). ``key_of`` is
    /// ``address_key``, for a cell not written in Chinese or whose digits are not all ASCII. One string
    /// for all the cells: a UTF-8 copy per cell (which a Python string keeps) cost more than the reading.
    fn add(&mut self, joined: &str, count: usize, key_of: &Bound<'_, PyAny>) -> PyResult<bool> {
        let cells: Vec<&str> = joined.split('\0').collect();
        if cells.len() != count {
            return Ok(false);
        }
        for cell in cells {
            self.add_one(cell, key_of)?;
        }
        Ok(true)
    }

    /// Column ``column`` of rows ``start`` to ``start + count`` of the byte reader's ``batch`` entering,
    /// read from its bytes: the rows' Python strings (``batch.rows()``) are neither joined nor encoded
    /// again; with ``keys`` (the batch's ``address_keys``, made on the marking thread) a Chinese cell's
    /// key is not made here either.  A row without that cell raises IndexError, as ``row[column]`` would.
    #[pyo3(signature = (batch, column, start, count, key_of, keys=None))]
    fn add_records(&mut self, batch: PyRef<'_, RecordBatch>, column: usize, start: usize, count: usize,
                   key_of: &Bound<'_, PyAny>, keys: Option<PyRef<'_, AddressKeys>>) -> PyResult<()> {
        let records = &batch.records;
        if start + count > records.len() {
            return Err(PyIndexError::new_err("row index out of range"));
        }
        let made = keys.as_ref().and_then(|k| k.of_column(column, records.len()));
        for r in start..start + count {
            let cell = records.cell(r, column).ok_or_else(|| PyIndexError::new_err("list index out of range"))?;
            match made {
                Some(made) => self.column.push_made(cell, made[r].as_ref(), |other| python_key(key_of, other))?,
                None => self.add_one(cell, key_of)?,
            }
        }
        Ok(())
    }

    fn add_one(&mut self, cell: &str, key_of: &Bound<'_, PyAny>) -> PyResult<()> {
        self.column.push(cell, |other| python_key(key_of, other))
    }

    fn keys(&self) -> Vec<String> {
        self.column.keys().map(str::to_string).collect()
    }

    fn counts(&self) -> Vec<usize> {
        self.column.counts().collect()
    }

    /// ``address_from_rows(home, ...)``'s draw with ``random.Random(seed)``; None (nothing drawn) for a home
    /// not written in Chinese.  (The draw's state once went in and out as ``getstate()``'s 625 ints: making
    /// and reading them cost more than the draw.)
    fn draw(&self, home: &str, seed: u64) -> Option<String> {
        self.column.draw(home, &mut PyRandom::from_seed(seed))
    }
}

fn python_key(key_of: &Bound<'_, PyAny>, cell: &str) -> PyResult<(String, usize)> {
    key_of.call1((cell,))?.extract::<(String, usize)>()
}

/// The kind key and number count of each address cell of a batch that is written in Chinese with ASCII
/// digits (``address_key``'s, ``cjk_key``), per column asked; None for any other cell (Python's to key).
/// Made by the marking thread without the GIL, so that the window's column only looks them up.
#[pyclass(frozen)]
pub struct AddressKeys {
    columns: Vec<usize>,
    keys: Vec<Vec<Option<(String, usize)>>>,
}

impl AddressKeys {
    fn of_column(&self, column: usize, rows: usize) -> Option<&[Option<(String, usize)>]> {
        let slot = self.columns.iter().position(|&c| c == column)?;
        Some(&self.keys[slot]).filter(|k| k.len() == rows).map(Vec::as_slice)
    }
}

/// ``AddressKeys`` of ``batch``'s ``columns``.
#[pyfunction]
pub fn address_keys(py: Python<'_>, batch: PyRef<'_, RecordBatch>, columns: Vec<usize>) -> AddressKeys {
    let records = &batch.records;
    let keys = py.allow_threads(|| {
        columns.iter().map(|&c| (0..records.len()).map(|r| records.cell(r, c).and_then(chinese_key)).collect()).collect()
    });
    AddressKeys { columns, keys }
}
