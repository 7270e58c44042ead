//! The PyO3 face of `phone_counts`: an export's phone counts, asked a phone at a time.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::phone_counts::PhoneCounts as Counts;

#[pyclass(unsendable)]
pub struct PhoneCounts {
    counts: Counts,
}

#[pymethods]
impl PhoneCounts {
    #[new]
    fn new(limit: usize) -> Self {
        PhoneCounts { counts: Counts::new(limit) }
    }

    fn __len__(&self) -> usize {
        self.counts.len()
    }

    /// ``phone_counts.PhoneCounts.add_rows``: int64 arrays of the digests and of where each row ends.
    fn add_rows(&mut self, py: Python<'_>, digests: PyBuffer<i64>, ends: PyBuffer<i64>) -> PyResult<()> {
        self.counts.add_rows(&digests.to_vec(py)?, &ends.to_vec(py)?).map_err(PyValueError::new_err)
    }

    fn repeats(&self, digest: i64) -> bool {
        self.counts.repeats(digest)
    }
}
