"""Reading and writing tables: CSV/TSV/TXT (incl. '----' dumps), JSONL, JSON, XLSX.

Reads stream at constant memory and detect encoding, delimiter, quoting,
line ending and header; writes reproduce a given format so an export looks
exactly like its source.  Every cell is a str; NumberText and DateText mark
cells that were numbers or dates in the source.
"""

from tracer.tables.base import SUPPORTED_SUFFIXES, TableFormat
from tracer.tables.cells import DateText, NumberText
from tracer.tables.read import Table, open_table
from tracer.tables.write import TableWriter

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DateText",
    "NumberText",
    "Table",
    "TableFormat",
    "TableWriter",
    "open_table",
]
