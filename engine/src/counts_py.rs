//! The PyO3 face of `phone_counts`: an export's phone counts, asked a phone at a time.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::anchors::{phone_anchor, AnchorText};
use crate::phone_counts::PhoneCounts as Counts;
use crate::rows::{anchor_digest, exposure};

#[pyclass(unsendable)]
pub struct PhoneCounts {
    counts: Counts,
    secret: Vec<u8>,  // the export's key: a phone cell's anchor digest is made here (``repeats_phone``)
}

#[pymethods]
impl PhoneCounts {
    #[new]
    #[pyo3(signature = (limit, secret=Vec::new()))]
    fn new(limit: usize, secret: Vec<u8>) -> Self {
        PhoneCounts { counts: Counts::new(limit), secret }
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

    /// ``repeats`` of a phone cell: its anchor (``columns.phone_anchor``) keyed with the secret given
    /// (``Key.anchor_digest``), False for a cell that is no phone; None where the Python reference must read
    /// the cell (not ASCII, or a float's spelling).  A canary draw asks it of ~8 window rows' phones.
    fn repeats_phone(&self, cell: &str) -> Option<bool> {
        match phone_anchor(cell) {
            AnchorText::Unsure => None,
            AnchorText::Known(None) => Some(false),
            AnchorText::Known(Some(text)) => Some(self.counts.repeats(exposure(&anchor_digest(&self.secret, &text)))),
        }
    }
}
