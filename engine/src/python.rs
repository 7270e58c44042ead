//! The PyO3 face of the engine: one `Engine` per (key, mark plan).

use std::collections::HashMap;

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::anchors::{id_anchor, phone_anchor, AnchorText};
use crate::csv_read::Records;
use crate::export_io::CsvText;
use crate::read_free::marked;
use crate::reader_py::{row_list, CsvReader, RecordBatch};
use crate::row_pass::{CellText, Decide, MarkArrays, MarkAsk, RowPass};
use crate::rows::{CellPlan, Hasher, Plan};
use crate::site::{Found, Site};
use crate::slots::{slot_index, Slots, NAMES};

mod read;

// sendable: a read-ahead thread reads batches with it while the main thread sums the last one in
#[pyclass]
struct Engine {
    hasher: Hasher,
    plan: Plan,
    slots: Slots,
    reference: Py<PyAny>,
}

/// Character offsets (Python) to byte offsets (Rust) in `cell`.
fn byte_offset(cell: &str, chars: usize) -> usize {
    cell.char_indices().nth(chars).map(|(i, _)| i).unwrap_or(cell.len())
}

/// The Python reference as the decider of what the native scanners leave unsure (the GIL held).
struct Reference<'a, 'py>(&'a Bound<'py, PyAny>);

impl Decide for Reference<'_, '_> {
    type Error = PyErr;

    fn anchor(&self, phone: bool, cell: &str) -> PyResult<Option<String>> {
        self.0.call_method1("anchor", (if phone { "phone" } else { "id" }, cell))?.extract()
    }

    fn site(&self, slot: usize, cell: &str) -> PyResult<Option<Site>> {
        let found: Option<(usize, usize, u8, String, String)> = self.0.call_method1("site", (NAMES[slot], cell))?.extract()?;
        Ok(found.map(|(s, e, bit, v0, v1)| Site {
            start: byte_offset(cell, s),
            end: byte_offset(cell, e),
            bit,
            variants: [v0, v1],
        }))
    }
}

impl CellText<PyErr> for Bound<'_, PyAny> {
    fn text(&self) -> PyResult<&str> {
        self.downcast::<PyString>()?.to_str()
    }
}

impl Engine {
    /// A pass over rows with the Python reference deciding what the scanners leave unsure.
    fn pass<'a, 'py>(&'a mut self, reference: &'a Bound<'py, PyAny>) -> RowPass<'a, Reference<'a, 'py>> {
        RowPass { hasher: &mut self.hasher, plan: &self.plan, slots: &self.slots, decide: Reference(reference) }
    }

    /// `mark_records` with the GIL held, the reference deciding what the scanners leave unsure.
    fn mark_batch<'py>(&mut self, py: Python<'py>, records: &Records, ask: &MarkAsk, mut text: Option<CsvText>)
                       -> PyResult<Bound<'py, PyTuple>> {
        let reference = self.reference.bind(py).clone();
        let mut rows = self.pass(&reference);
        let out_rows = PyList::empty(py);
        let mut out = MarkArrays::default();
        for r in 0..records.len() {
            let changes = rows.mark_row(r, |i| record_cell(records, r, i), ask, &mut out)?;
            match text.as_mut() {
                Some(text) => text.row(marked(records, r, &changes)),
                None => {
                    let row = row_list(py, records, r)?;
                    for (i, new) in changes {
                        row.set_item(i, PyString::new(py, &new))?;
                    }
                    out_rows.append(row)?;
                }
            }
        }
        out.into_tuple(py, text, out_rows)
    }
}

/// A record's cell, or the IndexError a row list would raise.
fn record_cell(records: &Records, r: usize, i: usize) -> PyResult<&str> {
    records.cell(r, i).ok_or_else(|| PyIndexError::new_err("no such cell"))
}

impl MarkArrays {
    /// The `mark` tuple: the marked rows as csv text when a dialect was given, else as lists.
    fn into_tuple<'py>(self, py: Python<'py>, text: Option<CsvText>, rows: Bound<'py, PyList>)
                       -> PyResult<Bound<'py, PyTuple>> {
        let out = match text {
            Some(text) => text_out(py, text)?,
            None => rows.into_any(),
        };
        PyTuple::new(
            py,
            [
                out,
                self.marked.into_pyobject(py)?.into_any(),
                PyBytes::new(py, &self.exposures).into_any(),
                PyBytes::new(py, &self.counts).into_any(),
                PyBytes::new(py, &self.phones).into_any(),
                PyBytes::new(py, &self.seeds).into_any(),
                PyBytes::new(py, &self.candidates.rows).into_any(),
                PyBytes::new(py, &self.candidates.records).into_any(),
            ],
        )
    }
}

fn csv_text(csv: Option<(String, bool, String)>) -> PyResult<Option<CsvText>> {
    let Some((delimiter, quote_all, terminator)) = csv else { return Ok(None) };
    let mut chars = delimiter.chars();
    let (Some(d), None) = (chars.next(), chars.next()) else {
        return Err(PyValueError::new_err("a csv delimiter is one character"));
    };
    Ok(Some(CsvText::new(d, quote_all, terminator)))
}

fn text_out<'py>(py: Python<'py>, text: CsvText) -> PyResult<Bound<'py, PyAny>> {
    let (text, starts) = text.finish();
    Ok((PyBytes::new(py, text.as_bytes()), PyBytes::new(py, &starts)).into_pyobject(py)?.into_any())
}

/// A copy of `row` with the marked cells in it (a str subclass's cell stays of its class).
fn marked_row<'py>(py: Python<'py>, row: &Bound<'py, PyList>, changes: Vec<(usize, String)>) -> PyResult<Bound<'py, PyList>> {
    let out = row.get_slice(0, row.len());
    for (index, cell) in changes {
        let original = out.get_item(index)?;
        let text = PyString::new(py, &cell);
        let value = if original.is_exact_instance_of::<PyString>() {
            text.into_any()
        } else {
            original.get_type().call1((text,))?
        };
        out.set_item(index, value)?;
    }
    Ok(out)
}

#[pymethods]
impl Engine {
    /// `plan`: (phone columns, id columns, [(column, anchor column or None, [(slot NAME, word)])]);
    /// `provinces`/`cities`: the tables of `channels._cn_regions`; `reference`: an object with
    /// `anchor(kind, cell)` and `site(slot_name, cell)` from the Python implementation.
    #[new]
    fn new(
        secret: &[u8],
        plan: (Vec<usize>, Vec<usize>, Vec<(usize, Option<usize>, Vec<(String, usize)>)>),
        provinces: Vec<(String, String)>,
        cities: HashMap<String, Vec<String>>,
        reference: Py<PyAny>,
    ) -> PyResult<Engine> {
        let (phone_cols, id_cols, cells) = plan;
        let mut planned = Vec::new();
        for (index, anchor, slots) in cells {
            let mut indexed = Vec::new();
            for (name, word) in slots {
                let slot = slot_index(&name).ok_or_else(|| PyValueError::new_err(format!("no native slot {name}")))?;
                if word >= 16 {
                    return Err(PyValueError::new_err("a digest has 16 words"));
                }
                indexed.push((slot, word));
            }
            planned.push(CellPlan { index, anchor, slots: indexed });
        }
        Ok(Engine {
            hasher: Hasher::new(secret.to_vec()),
            plan: Plan { phone_cols, id_cols, cells: planned },
            slots: Slots::new(provinces, cities),
            reference,
        })
    }

    /// Mark a batch for one account: (marked rows, marked cells, exposure digests as
    /// little-endian int64 (every anchor, row by row), anchors per row (uint8), phones
    /// per row (uint8, the first anchors of their row), row seeds (16 bytes a row, zero
    /// where the row has no anchor), candidate rows (uint32) and their record digests (16 bytes
    /// each): see `export_io::Candidates` for `canary_below` and `slot_below`).
    /// With `csv` (delimiter, quote all, line terminator) the marked rows come as (their csv text,
    /// each row's start in bytes then the end, uint32): see `export_io::CsvText`.
    #[pyo3(signature = (rows, bits, uid, canary_below=0, slot_below=0, csv=None))]
    fn mark<'py>(
        &mut self,
        py: Python<'py>,
        rows: &Bound<'py, PyList>,
        bits: &[u8],
        uid: &[u8],
        canary_below: u128,
        slot_below: u128,
        csv: Option<(String, bool, String)>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let ask = MarkAsk { bits, uid, canary_below, slot_below };
        let out_rows = PyList::empty(py);
        let mut text = csv_text(csv)?;
        let mut out = MarkArrays::default();
        let reference = self.reference.bind(py).clone();
        let mut pass = self.pass(&reference);
        for (r, row) in rows.iter().enumerate() {
            let row = row.downcast::<PyList>()?;
            let changes = pass.mark_row(r, |i| row.get_item(i), &ask, &mut out)?;
            match text.as_mut() {
                Some(text) => {
                    let items: Vec<Bound<'py, PyAny>> = row.iter().collect();
                    let mut cells = Vec::with_capacity(items.len());
                    for (j, item) in items.iter().enumerate() {
                        cells.push(match changes.iter().find(|(i, _)| *i == j) {
                            Some((_, cell)) => cell.as_str(),
                            None => item.downcast::<PyString>()?.to_str()?,
                        });
                    }
                    text.row(cells.into_iter());
                }
                None => out_rows.append(marked_row(py, row, changes)?)?,
            }
        }
        out.into_tuple(py, text, out_rows)
    }

    /// `mark` for rows the byte reader parsed (`RecordBatch`): the same tuple.  With `free` (and `csv`)
    /// the batch is marked with the GIL released (`read_free`), or None is returned when some cell of it
    /// needs the Python reference (the caller then marks it without `free`).
    #[pyo3(signature = (batch, bits, uid, canary_below=0, slot_below=0, csv=None, free=false))]
    fn mark_records<'py>(
        &mut self,
        py: Python<'py>,
        batch: PyRef<'py, RecordBatch>,
        bits: &[u8],
        uid: &[u8],
        canary_below: u128,
        slot_below: u128,
        csv: Option<(String, bool, String)>,
        free: bool,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let ask = MarkAsk { bits, uid, canary_below, slot_below };
        match (csv_text(csv)?, free) {
            (Some(mut text), true) => {
                let (hasher, plan, slots, records) = (&mut self.hasher, &self.plan, &self.slots, &batch.records);
                match py.allow_threads(|| crate::read_free::mark_records(hasher, plan, slots, records, &ask, &mut text)) {
                    Some(out) => Ok(Some(out.into_tuple(py, Some(text), PyList::empty(py))?)),
                    None => Ok(None),
                }
            }
            (text, _) => self.mark_batch(py, &batch.records, &ask, text).map(Some),
        }
    }

    /// Read a batch of leaked rows: (exposure digests (int64), anchors per row (uint32: a wide
    /// leak may hold hundreds of phone columns), and
    /// per readable mark: its row in the batch (uint32), code position (uint32), symbol
    /// (uint8), and which (cell plan, slot) read it as cell plan * 16 + slot place (uint32); then each
    /// such stream once, in the order first read (uint32)).
    fn read<'py>(&mut self, py: Python<'py>, rows: &Bound<'py, PyList>, length: u32) -> PyResult<Bound<'py, PyTuple>> {
        self.read_list(py, rows, length)
    }

    /// `read_records` with the GIL released (`read_free`), or None when some cell of the batch needs
    /// the Python reference (then `read_records` reads it).
    fn read_records_free<'py>(&mut self, py: Python<'py>, batch: PyRef<'py, RecordBatch>, length: u32)
                              -> PyResult<Option<Bound<'py, PyTuple>>> {
        let (hasher, plan, slots, records) = (&mut self.hasher, &self.plan, &self.slots, &batch.records);
        let Some(out) = py.allow_threads(|| crate::read_free::read_records(hasher, plan, slots, records, length)) else {
            return Ok(None);
        };
        Ok(Some(read::tuple_of(py, &out)?))
    }

    /// `read` for rows the byte reader parsed (`RecordBatch`): the same tuple.
    fn read_records<'py>(&mut self, py: Python<'py>, batch: PyRef<'py, RecordBatch>, length: u32) -> PyResult<Bound<'py, PyTuple>> {
        self.read_batch(py, &batch, length)
    }
}

/// The native scanners alone, one cell at a time: what the differential tests
/// compare with each Python slot and anchor function (never used to export: per cell is slow).
#[pyclass(unsendable)]
struct Scanner {
    slots: Slots,
}

#[pymethods]
impl Scanner {
    #[new]
    fn new(provinces: Vec<(String, String)>, cities: HashMap<String, Vec<String>>) -> Scanner {
        Scanner { slots: Slots::new(provinces, cities) }
    }

    /// (start, end, bit, variant 0, variant 1) in characters, None, or the string 'unsure'.
    fn locate(&self, py: Python<'_>, name: &str, cell: &str) -> PyResult<PyObject> {
        let slot = slot_index(name).ok_or_else(|| PyValueError::new_err(format!("no native slot {name}")))?;
        Ok(match self.slots.locate(slot, cell, true) {
            Found::Site(site) => {
                let chars = |b: usize| cell[..b].chars().count();
                let [v0, v1] = site.variants;
                (chars(site.start), chars(site.end), site.bit, v0, v1).into_pyobject(py)?.into_any().unbind()
            }
            Found::Absent => py.None(),
            Found::Unsure => "unsure".into_pyobject(py)?.into_any().unbind(),
        })
    }

    /// The anchor text of a 'phone' or 'id' cell, None, or the string 'unsure'.
    #[staticmethod]
    fn anchor(py: Python<'_>, kind: &str, cell: &str) -> PyResult<PyObject> {
        let found = if kind == "phone" { phone_anchor(cell) } else { id_anchor(cell) };
        Ok(match found {
            AnchorText::Known(text) => text.into_pyobject(py)?.into_any().unbind(),
            AnchorText::Unsure => "unsure".into_pyobject(py)?.into_any().unbind(),
        })
    }
}

/// Keyed BLAKE2b-512 of an anchor text (`Key.anchor_digest`), for the differential tests.
#[pyfunction]
fn anchor_digest<'py>(py: Python<'py>, secret: &[u8], text: &str) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &crate::rows::anchor_digest(secret, text))
}

/// ``registry.runs._matching``'s searches: for sorted int64 ``haystack`` and sorted ``wanted``,
/// each wanted digest's left insertion point and count (``sorted_find``), as int64 bytes.  The arrays are
/// read where they are, not copied (a run is megabytes).
#[pyfunction]
fn find_sorted<'py>(py: Python<'py>, haystack: PyBuffer<i64>, wanted: PyBuffer<i64>)
                    -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let not_contiguous = || PyValueError::new_err("not a contiguous int64 array");
    let (hay, want) = (haystack.as_slice(py).ok_or_else(not_contiguous)?, wanted.as_slice(py).ok_or_else(not_contiguous)?);
    let want: Vec<i64> = want.iter().map(|c| c.get()).collect();
    let (starts, counts) = crate::sorted_find::find_sorted(hay.len(), |i| hay[i].get(), &want)
        .ok_or_else(|| PyValueError::new_err("the wanted digests are not sorted"))?;
    let bytes = |v: Vec<i64>| PyBytes::new(py, &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>());
    Ok((bytes(starts), bytes(counts)))
}

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SLOTS", PyTuple::new(m.py(), NAMES)?)?;
    m.add_class::<Engine>()?;
    m.add_class::<Scanner>()?;
    m.add_class::<CsvReader>()?;
    m.add_class::<RecordBatch>()?;
    m.add_class::<crate::address_py::AddressColumn>()?;
    m.add_class::<crate::address_py::AddressKeys>()?;
    m.add_function(wrap_pyfunction!(crate::address_py::address_keys, m)?)?;
    m.add_class::<crate::counts_py::PhoneCounts>()?;
    m.add_function(wrap_pyfunction!(anchor_digest, m)?)?;
    m.add_function(wrap_pyfunction!(find_sorted, m)?)?;
    Ok(())
}
