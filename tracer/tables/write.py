"""Writing a table in exactly a given format, so an export keeps its source's.

TableWriter writes to the path it is given and fsyncs on close; the caller
writes to a temporary name and renames it into place (atomic release).
"""

from __future__ import annotations

import csv

from tracer.errors import TracerError
from tracer.tables.base import TableFormat, as_path, output_error
from tracer.tables.delimited import DelimitedWriter
from tracer.tables.jsonfmt import JsonWriter
from tracer.tables.xlsx import XlsxWriter

_WRITERS = {
    "csv": DelimitedWriter,
    "jsonl": JsonWriter,
    "json": JsonWriter,
    "xlsx": XlsxWriter,
}

# What a write can raise below us: encoding a cell the codec cannot hold,
# disk full, csv refusing a row.
_WRITE_ERRORS = (OSError, UnicodeError, csv.Error, ValueError)


class TableWriter:
    """Streams rows into ``path`` in ``format``; a context manager.

    With ``format.has_header`` the column names are written first (text and
    xlsx); JSON kinds always use them as keys.  On leaving a ``with`` block
    by an exception the file is closed without fsync and left for the
    caller to delete.
    """

    def __init__(self, path, format: TableFormat, columns: list[str]) -> None:
        self.path = as_path(path)
        self.format = format
        self.columns = list(columns)
        self._closed = False
        writer_class = _WRITERS.get(format.kind)
        if writer_class is None:
            raise output_error(self.path, f"unknown table kind {format.kind!r}")
        try:
            self._impl = writer_class(self.path, format, self.columns)
        except TracerError:
            raise
        except _WRITE_ERRORS as exc:
            raise output_error(self.path, f"cannot write: {exc}") from None

    def write_row(self, row: list[str]) -> None:
        """Write one row of exactly ``len(columns)`` cells."""
        if len(row) != len(self.columns):
            raise output_error(
                self.path, f"row has {len(row)} cells, the table has {len(self.columns)} columns"
            )
        try:
            self._impl.write_row(row)
        except _WRITE_ERRORS as exc:
            raise output_error(self.path, f"cannot write row: {exc}") from None

    def write_rows(self, rows: list[list[str]]) -> None:
        """Write rows as ``write_row`` writes each, the same bytes (the csv module's ``writerows`` for text)."""
        if not set(map(len, rows)) <= {len(self.columns)}:
            for row in rows:
                self.write_row(row)  # the first wrong row's error, after the rows before it
            return
        write = getattr(self._impl, "write_rows", None)
        try:
            if write is None:
                for row in rows:
                    self._impl.write_row(row)
            else:
                write(rows)
        except _WRITE_ERRORS as exc:
            raise output_error(self.path, f"cannot write row: {exc}") from None

    @property
    def csv_dialect(self) -> tuple[str, bool, str] | None:
        """(delimiter, quote every field, line terminator) when rows are written by Python's csv module with
        one of the two quotings the sniffer gives (minimal, all): what ``write_text`` takes text of."""
        dialect = getattr(self._impl, "dialect", None)
        if dialect is None or self.format.quoting not in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL):
            return None
        return dialect

    def write_csv(self, data: bytes | memoryview) -> None:
        """Write rows already as the csv module writes them in ``csv_dialect``, as UTF-8 bytes (the native
        engine's), in the file's own encoding."""
        try:
            self._impl.write_csv(data)
        except _WRITE_ERRORS as exc:
            raise output_error(self.path, f"cannot write row: {exc}") from None

    def close(self) -> None:
        """Flush and fsync the file; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            self._impl.close()
        except _WRITE_ERRORS as exc:
            raise output_error(self.path, f"cannot write: {exc}") from None

    def abort(self) -> None:
        """Close without fsync after a failure; the caller discards the file."""
        if not self._closed:
            self._closed = True
            self._impl.abort()

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
