//! tracer's native row engine, as the private module `tracer._engine`.
//!
//! The pure-Python code (`tracer/marks.py`, `tracer/channels/`) is the
//! reference: this crate computes the same anchors, digests, seeds and mark
//! sites for a whole batch of rows per call, so that the Python/Rust boundary
//! is crossed per batch, not per cell.  Whatever a native scanner does not
//! decide (non-ASCII anchors, spreadsheet floats, non-ASCII English
//! addresses) is asked of the Python reference object given at construction.

pub mod address_draw;
pub mod anchors;
pub mod cn;
pub mod csv_lines;
pub mod csv_read;
pub mod en;
pub mod export_io;
pub mod phone_counts;
pub mod py_random;
pub mod quick_hash;
pub mod read_free;
pub mod row_pass;
pub mod rows;
pub mod simple;
pub mod site;
pub mod slots;
pub mod sorted_find;
pub mod text;

#[cfg(feature = "python")]
mod address_py;
#[cfg(feature = "python")]
mod counts_py;
#[cfg(feature = "python")]
mod python;
#[cfg(feature = "python")]
mod reader_py;
