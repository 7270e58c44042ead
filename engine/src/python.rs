//! The PyO3 face of the engine: one `Engine` per (key, mark plan).

use std::collections::HashMap;

use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::anchors::{id_anchor, phone_anchor, AnchorText};
use crate::export_io::{record_digest, Candidates, CsvText};
use crate::reader_py::{row_list, CsvReader, RecordBatch};
use crate::rows::{embed, exposure, word, CellPlan, Hasher, Plan, RowAnchors};
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

impl Engine {
    fn anchor_text(&self, py: Python<'_>, kind: &str, cell: &str) -> PyResult<Option<String>> {
        let native = if kind == "phone" { phone_anchor(cell) } else { id_anchor(cell) };
        match native {
            AnchorText::Known(text) => Ok(text),
            AnchorText::Unsure => self.reference.bind(py).call_method1("anchor", (kind, cell))?.extract(),
        }
    }

    fn site(&self, py: Python<'_>, slot: usize, cell: &str) -> PyResult<Option<Site>> {
        match self.slots.locate(slot, cell) {
            Found::Site(site) => Ok(Some(site)),
            Found::Absent => Ok(None),
            Found::Unsure => {
                let found: Option<(usize, usize, u8, String, String)> =
                    self.reference.bind(py).call_method1("site", (NAMES[slot], cell))?.extract()?;
                Ok(found.map(|(s, e, bit, v0, v1)| Site {
                    start: byte_offset(cell, s),
                    end: byte_offset(cell, e),
                    bit,
                    variants: [v0, v1],
                }))
            }
        }
    }

    fn anchors<T: CellText>(&mut self, py: Python<'_>, cell: &impl Fn(usize) -> PyResult<T>) -> PyResult<RowAnchors> {
        let mut by_column = Vec::with_capacity(self.plan.phone_cols.len() + self.plan.id_cols.len());
        let mut phones = 0;
        let first_id = self.plan.phone_cols.len();
        for k in 0..first_id + self.plan.id_cols.len() {
            // by position, not a clone of the plan's columns per row (the hasher is borrowed mutably)
            let (kind, index) = if k < first_id { ("phone", self.plan.phone_cols[k]) } else { ("id", self.plan.id_cols[k - first_id]) };
            let item = cell(index)?;
            if let Some(text) = self.anchor_text(py, kind, item.text()?)? {
                by_column.push((index, self.hasher.digest(&text)));
                phones += (k < first_id) as usize;
            }
        }
        Ok(RowAnchors::new(by_column, phones))
    }

    /// One row of a `mark`: its anchors into `out`, and its marked cells as (column, new text).
    fn mark_row<T: CellText>(&mut self, py: Python<'_>, r: usize, cell: impl Fn(usize) -> PyResult<T>,
                             ask: &MarkAsk, out: &mut MarkArrays) -> PyResult<Vec<(usize, String)>> {
        let anchors = self.anchors(py, &cell)?;
        put_exposures(&mut out.exposures, &mut out.counts, &mut out.phones, &anchors);
        let seed = anchors.seed(self.hasher.secret(), ask.uid);
        let record = record_digest(self.hasher.secret(), &anchors);
        out.candidates.consider(r as u32, seed.as_ref(), record.as_ref(), ask.canary_below, ask.slot_below);
        out.seeds.extend_from_slice(&seed.unwrap_or([0u8; 16]));
        let mut changes: Vec<(usize, String)> = Vec::new();
        for p in 0..self.plan.cells.len() {
            let (index, anchor_column) = (self.plan.cells[p].index, self.plan.cells[p].anchor);
            let Some(anchor) = anchors.of(anchor_column) else { continue };
            let earlier = changes.iter().position(|(i, _)| *i == index);
            let mut text = match earlier {
                Some(k) => changes.remove(k).1, // a column of two cell plans: the second marks the first's result
                None => cell(index)?.text()?.to_string(),
            };
            let mut carried = false;
            for s in 0..self.plan.cells[p].slots.len() {
                let (slot, w) = self.plan.cells[p].slots[s];
                if let Some(site) = self.site(py, slot, &text)? {
                    let bit = ask.bits[word(anchor, w) as usize % ask.bits.len()];
                    text = embed(&text, &site, bit);
                    carried = true;
                }
            }
            out.marked += carried as usize;
            if carried || earlier.is_some() {
                changes.push((index, text));
            }
        }
        Ok(changes)
    }
}

/// A cell as the engine reads it: a Python str of a row list, or text the byte reader parsed.
trait CellText {
    fn text(&self) -> PyResult<&str>;
}

impl CellText for Bound<'_, PyAny> {
    fn text(&self) -> PyResult<&str> {
        self.downcast::<PyString>()?.to_str()
    }
}

impl CellText for &str {
    fn text(&self) -> PyResult<&str> {
        Ok(self)
    }
}

struct MarkAsk<'a> {
    bits: &'a [u8],
    uid: &'a [u8],
    canary_below: u128,
    slot_below: u128,
}

#[derive(Default)]
struct MarkArrays {
    marked: usize,
    exposures: Vec<u8>,
    counts: Vec<u8>,
    phones: Vec<u8>,
    seeds: Vec<u8>,
    candidates: Candidates,
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
    Ok((PyString::new(py, &text), PyBytes::new(py, &starts)).into_pyobject(py)?.into_any())
}

fn put_exposures(out: &mut Vec<u8>, counts: &mut Vec<u8>, phones: &mut Vec<u8>, anchors: &RowAnchors) {
    for (_, d) in &anchors.by_column {
        out.extend_from_slice(&exposure(d).to_le_bytes());
    }
    counts.push(anchors.by_column.len() as u8);
    phones.push(anchors.phones as u8);
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
    /// each row's start in characters then the end, uint32): see `export_io::CsvText`.
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
        for (r, row) in rows.iter().enumerate() {
            let row = row.downcast::<PyList>()?;
            let changes = self.mark_row(py, r, |i| row.get_item(i), &ask, &mut out)?;
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

    /// `mark` for rows the byte reader parsed (`RecordBatch`): the same tuple.
    #[pyo3(signature = (batch, bits, uid, canary_below=0, slot_below=0, csv=None))]
    fn mark_records<'py>(
        &mut self,
        py: Python<'py>,
        batch: PyRef<'py, RecordBatch>,
        bits: &[u8],
        uid: &[u8],
        canary_below: u128,
        slot_below: u128,
        csv: Option<(String, bool, String)>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let ask = MarkAsk { bits, uid, canary_below, slot_below };
        let records = &batch.records;
        let out_rows = PyList::empty(py);
        let mut text = csv_text(csv)?;
        let mut out = MarkArrays::default();
        for r in 0..records.len() {
            let changes = self.mark_row(py, r, |i| records.cell(r, i).ok_or_else(|| PyIndexError::new_err("no such cell")), &ask, &mut out)?;
            match text.as_mut() {
                Some(text) => text.row(records.row(r).enumerate().map(|(j, cell)| {
                    changes.iter().find(|(i, _)| *i == j).map_or(cell, |(_, new)| new.as_str())
                })),
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

    /// Read a batch of leaked rows: (exposure digests (int64), anchors per row (uint32: a wide
    /// leak may hold hundreds of phone columns), and
    /// per readable mark: its row in the batch (uint32), code position (uint32), symbol
    /// (uint8), and which (cell plan, slot) read it as cell plan * 16 + slot place (uint32)).
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
        Ok(match self.slots.locate(slot, cell) {
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

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SLOTS", PyTuple::new(m.py(), NAMES)?)?;
    m.add_class::<Engine>()?;
    m.add_class::<Scanner>()?;
    m.add_class::<CsvReader>()?;
    m.add_class::<RecordBatch>()?;
    m.add_function(wrap_pyfunction!(anchor_digest, m)?)?;
    Ok(())
}
