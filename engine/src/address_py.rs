//! The PyO3 face of the address draw (`address_draw`): the window's address column, kept here as cells
//! enter and leave (`canary_window.AddressIndex`), and a canary's Chinese address drawn from it with
//! `random.Random(seed)` for the seed the Python draw takes from its own rng.

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;

use crate::address_draw::Column;
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
    /// again.  A row without that cell raises IndexError, as ``row[column]`` would.
    fn add_records(&mut self, batch: PyRef<'_, RecordBatch>, column: usize, start: usize, count: usize,
                   key_of: &Bound<'_, PyAny>) -> PyResult<()> {
        let records = &batch.records;
        if start + count > records.len() {
            return Err(PyIndexError::new_err("row index out of range"));
        }
        for r in start..start + count {
            let cell = records.cell(r, column).ok_or_else(|| PyIndexError::new_err("list index out of range"))?;
            self.add_one(cell, key_of)?;
        }
        Ok(())
    }

    fn add_one(&mut self, cell: &str, key_of: &Bound<'_, PyAny>) -> PyResult<()> {
        self.column.push(cell, |other| key_of.call1((other,))?.extract::<(String, usize)>())
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
