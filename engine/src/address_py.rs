//! The PyO3 face of the address draw (`address_draw`): the window's address column, kept here as cells
//! enter and leave (`canary_window.AddressIndex`), and a canary's Chinese address drawn from it with the
//! draw's own `random.Random`, whose state goes in and comes back out.

use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::address_draw::Column;
use crate::py_random::PyRandom;

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

    fn add_one(&mut self, cell: &str, key_of: &Bound<'_, PyAny>) -> PyResult<()> {
        self.column.push(cell, |other| key_of.call1((other,))?.extract::<(String, usize)>())
    }

    fn keys(&self) -> Vec<String> {
        self.column.keys().map(str::to_string).collect()
    }

    fn counts(&self) -> Vec<usize> {
        self.column.counts().collect()
    }

    /// ``address_from_rows(home, ...)`` drawn with the rng whose ``getstate()[1]`` is ``state``: the
    /// address and the state to ``setstate`` back; None (nothing drawn) for a home not written in Chinese.
    fn draw<'py>(&self, py: Python<'py>, home: &str, state: &Bound<'py, PyTuple>)
                 -> PyResult<Option<(String, Bound<'py, PyTuple>)>> {
        let words = state_words(state)?;
        let mut rng = PyRandom::from_state(&words).ok_or_else(|| PyValueError::new_err("not a random.Random state"))?;
        Ok(match self.column.draw(home, &mut rng) {
            Some(address) => Some((address, state_tuple(py, &rng.state(), state, &words)?)),
            None => None,
        })
    }
}

// The state's 625 ints go through the C API's own conversions: pyo3's generic ones (a sequence of
// `u64`, each checked and converted alone) cost more than the draw they carried.

/// ``getstate()[1]``'s ints as words (one that is no int, or negative, or too large: the C API's error).
fn state_words(state: &Bound<'_, PyTuple>) -> PyResult<Vec<u64>> {
    let mut words = Vec::with_capacity(state.len());
    for item in state.iter_borrowed() {
        // SAFETY: `item` is borrowed from the tuple, alive while it is; the GIL is held.  `unsigned long`:
        // CPython 3.11 converts it digit by digit, an `unsigned long long` through a byte array (twice the
        // cost); every word fits 32 bits, which an `unsigned long` has everywhere.
        let word = unsafe { ffi::PyLong_AsUnsignedLong(item.as_ptr()) };
        if word == std::os::raw::c_ulong::MAX {
            if let Some(err) = PyErr::take(state.py()) {
                return Err(err);
            }
        }
        words.push(word as u64);
    }
    Ok(words)
}

/// Words as the tuple of ints ``setstate`` takes back; the ints of ``before`` (whose words are
/// ``before_words``) where a word is unchanged: a draw's few numbers change the index alone, until
/// every 624th regenerates the words.
fn state_tuple<'py>(py: Python<'py>, words: &[u64], before: &Bound<'py, PyTuple>, before_words: &[u64])
                    -> PyResult<Bound<'py, PyTuple>> {
    // SAFETY: a new tuple is owned here and filled before anything else sees it; `PyTuple_SetItem`
    // steals each item, a new int or a new reference to one of `before`'s (alive: `before` holds it).
    unsafe {
        let tuple = Bound::from_owned_ptr_or_err(py, ffi::PyTuple_New(words.len() as ffi::Py_ssize_t))?;
        for (i, &word) in words.iter().enumerate() {
            let item = if before_words.get(i) == Some(&word) {
                let same = before.get_borrowed_item(i)?.as_ptr();
                ffi::Py_INCREF(same);
                same
            } else {
                ffi::PyLong_FromUnsignedLong(word as std::os::raw::c_ulong)  // a word, or the index
            };
            if item.is_null() {
                return Err(PyErr::fetch(py));
            }
            ffi::PyTuple_SetItem(tuple.as_ptr(), i as ffi::Py_ssize_t, item);
        }
        Ok(tuple.downcast_into_unchecked())
    }
}
