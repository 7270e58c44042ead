//! The PyO3 face of the engine: one `Engine` per (key, mark plan).

use std::collections::HashMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::anchors::{id_anchor, phone_anchor, AnchorText};
use crate::export_io::{record_digest, Candidates, CsvText};
use crate::rows::{embed, exposure, word, CellPlan, Hasher, Plan, RowAnchors};
use crate::site::{Found, Site};
use crate::slots::{slot_index, Slots, NAMES};

#[pyclass(unsendable)]
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

    fn anchors(&mut self, py: Python<'_>, row: &Bound<'_, PyList>) -> PyResult<RowAnchors> {
        let mut by_column = Vec::new();
        let mut phones = 0;
        for (kind, columns) in [("phone", &self.plan.phone_cols), ("id", &self.plan.id_cols)] {
            for &index in columns.iter() {
                let item = row.get_item(index)?;
                let cell = item.downcast::<PyString>()?.to_str()?;
                if let Some(text) = self.anchor_text(py, kind, cell)? {
                    by_column.push((index, self.hasher.digest(&text)));
                    phones += (kind == "phone") as usize;
                }
            }
        }
        Ok(RowAnchors::new(by_column, phones))
    }
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
        let length = bits.len();
        let out_rows = PyList::empty(py);
        let mut text = match csv {
            Some((delimiter, quote_all, terminator)) => {
                let mut chars = delimiter.chars();
                let (Some(d), None) = (chars.next(), chars.next()) else {
                    return Err(PyValueError::new_err("a csv delimiter is one character"));
                };
                Some(CsvText::new(d, quote_all, terminator))
            }
            None => None,
        };
        let (mut exposures, mut counts, mut phones, mut seeds) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut marked = 0usize;
        let mut candidates = Candidates::default();
        for (r, row) in rows.iter().enumerate() {
            let row = row.downcast::<PyList>()?;
            let anchors = self.anchors(py, row)?;
            put_exposures(&mut exposures, &mut counts, &mut phones, &anchors);
            let seed = anchors.seed(self.hasher.secret(), uid);
            let record = record_digest(self.hasher.secret(), &anchors);
            candidates.consider(r as u32, seed.as_ref(), record.as_ref(), canary_below, slot_below);
            seeds.extend_from_slice(&seed.unwrap_or([0u8; 16]));
            let mut changes: Vec<(usize, String)> = Vec::new();
            for cell_plan in &self.plan.cells {
                let Some(anchor) = anchors.of(cell_plan.anchor) else { continue };
                let earlier = changes.iter().position(|(i, _)| *i == cell_plan.index);
                let mut cell = match earlier {
                    Some(k) => changes.remove(k).1, // a column of two cell plans: the second marks the first's result
                    None => row.get_item(cell_plan.index)?.downcast::<PyString>()?.to_str()?.to_string(),
                };
                let mut carried = false;
                for &(slot, w) in &cell_plan.slots {
                    if let Some(site) = self.site(py, slot, &cell)? {
                        let bit = bits[word(anchor, w) as usize % length];
                        cell = embed(&cell, &site, bit);
                        carried = true;
                    }
                }
                marked += carried as usize;
                if carried || earlier.is_some() {
                    changes.push((cell_plan.index, cell));
                }
            }
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
        let out = match text {
            Some(text) => {
                let (text, starts) = text.finish();
                (PyString::new(py, &text), PyBytes::new(py, &starts)).into_pyobject(py)?.into_any()
            }
            None => out_rows.into_any(),
        };
        PyTuple::new(
            py,
            [
                out,
                marked.into_pyobject(py)?.into_any(),
                PyBytes::new(py, &exposures).into_any(),
                PyBytes::new(py, &counts).into_any(),
                PyBytes::new(py, &phones).into_any(),
                PyBytes::new(py, &seeds).into_any(),
                PyBytes::new(py, &candidates.rows).into_any(),
                PyBytes::new(py, &candidates.records).into_any(),
            ],
        )
    }

    /// Read a batch of leaked rows: (exposure digests (int64), anchors per row (uint32: a wide
    /// leak may hold hundreds of phone columns), and
    /// per readable mark: its row in the batch (uint32), code position (uint32), symbol
    /// (uint8), and which (cell plan, slot) read it as cell plan * 16 + slot place (uint32)).
    fn read<'py>(&mut self, py: Python<'py>, rows: &Bound<'py, PyList>, length: u32) -> PyResult<Bound<'py, PyTuple>> {
        let (mut exposures, mut counts) = (Vec::new(), Vec::new());
        let (mut at, mut positions, mut symbols, mut streams) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (r, row) in rows.iter().enumerate() {
            let row = row.downcast::<PyList>()?;
            let anchors = self.anchors(py, row)?;
            for (_, d) in &anchors.by_column {
                exposures.extend_from_slice(&exposure(d).to_le_bytes());
            }
            counts.extend_from_slice(&(anchors.by_column.len() as u32).to_le_bytes());
            for (p, cell_plan) in self.plan.cells.iter().enumerate() {
                let Some(anchor) = anchors.of(cell_plan.anchor) else { continue };
                let item = row.get_item(cell_plan.index)?;
                let cell = item.downcast::<PyString>()?.to_str()?;
                for (s, &(slot, w)) in cell_plan.slots.iter().enumerate() {
                    if let Some(site) = self.site(py, slot, cell)? {
                        at.extend_from_slice(&(r as u32).to_le_bytes());
                        positions.extend_from_slice(&(word(anchor, w) % length).to_le_bytes());
                        symbols.push(site.bit);
                        streams.extend_from_slice(&((p * 16 + s) as u32).to_le_bytes());
                    }
                }
            }
        }
        PyTuple::new(
            py,
            [&exposures, &counts, &at, &positions, &symbols, &streams].map(|b| PyBytes::new(py, b).into_any()),
        )
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
    m.add_function(wrap_pyfunction!(anchor_digest, m)?)?;
    Ok(())
}
