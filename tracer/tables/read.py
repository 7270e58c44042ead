"""Opening a table: pick the reader by suffix, sniff the layout, stream rows.

``open_table`` reads only a bounded prefix to decide the format; ``rows()``
then streams the file from the start each time it is called, so a caller may
make several passes (e.g. sample the rows, then rewrite them) at constant
memory.
"""

from __future__ import annotations

import functools
import pathlib
import stat
import weakref
from collections import Counter
from typing import Callable, Iterator

from tracer.tables import delimited, jsonfmt, textio, xls, xlsx
from tracer.tables.base import Member, Skip, TableFormat, as_path, input_error, kind_for

# kind -> (probe(path, encoding, header) -> (format, columns),
#          records(path, format, columns) -> iterator of data rows)
_READERS = {
    "csv": (delimited.probe, delimited.records),
    "jsonl": (jsonfmt.probe_jsonl, jsonfmt.records_jsonl),
    "json": (jsonfmt.probe_json, jsonfmt.records_json),
    "xlsx": (xlsx.probe, xlsx.records),
    "xls": (xls.probe, xls.records),
}


class Table:
    """An opened table: its format, its column names and a row stream.

    Rows are lists of cells (str, NumberText or DateText) as wide as
    ``columns``; a row of another width is skipped and counted in
    ``skipped['ragged']``, like the lines the readers drop (NUL bytes, over
    16 Mi characters) under their own causes (see SKIP_CAUSES); the counts
    are complete once ``rows()`` has been consumed.  A table made mostly of
    dropped lines is not a table: the stream ends in an InputError.
    """

    def __init__(
        self,
        path: pathlib.Path,
        format: TableFormat,
        columns: list[str],
        records: Callable[[], Iterator[list[str]]],
    ) -> None:
        self.path = path
        self.format = format
        self.columns = columns
        self.skipped: Counter[str] = Counter()
        self._records = records
        self._streams: weakref.WeakSet = weakref.WeakSet()

    def rows(self) -> Iterator[list[str]]:
        """A fresh generator over the data rows, from the first one."""
        stream = self._rows()
        self._streams.add(stream)
        return stream

    @property
    def ragged(self) -> int:
        return self.skipped["ragged"]

    def _rows(self) -> Iterator[list[str]]:
        skipped = self.skipped = Counter()
        width, good = len(self.columns), 0
        for row in self._records():
            if type(row) is Skip:
                skipped[row.cause] += 1
            elif len(row) == width:
                good += 1
                yield row
            elif row:  # [] is a blank line, not a record
                skipped["ragged"] += 1
        self._check_readable(good)

    def _check_readable(self, good: int) -> None:
        """No good row, or no fewer unreadable lines than rows: the one-line refusal of a file that is no table."""
        dropped = self.skipped["nul"] + self.skipped["long_line"]
        if good > dropped:
            return
        if self.skipped["nul"] and self.skipped["nul"] >= self.skipped["long_line"]:
            raise input_error(self.path, f"binary file (NUL bytes in {self.skipped['nul']} lines), not a text table")
        if dropped:
            raise textio.endless_line(self.path)
        if self.skipped["ragged"]:
            raise input_error(
                self.path,
                f"ragged rows: none of the {self.ragged} data rows has the header's {len(self.columns)} cells",
            )

    def close(self) -> None:
        """Close any row stream still open (and with it its file)."""
        for stream in list(self._streams):
            stream.close()

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Table({self.path.name!r}, {self.format}, {len(self.columns)} columns)"


def open_table(path, *, encoding: str | None = None, header: bool | None = None) -> Table:
    """Open a table file for streaming.

    The format comes from the suffix (see SUPPORTED_SUFFIXES); ``encoding``
    overrides detection for text formats; ``header`` None means detect
    (delimited text and xlsx; JSON keys are always the header).  Every
    problem with the file is an InputError naming it.
    """
    path = as_path(path)
    kind = kind_for(path)
    _check_file(path)
    probe, records = _READERS[kind]
    fmt, columns = probe(path, encoding, header)
    return Table(path, fmt, columns, functools.partial(records, path, fmt, columns))


def _check_file(path: pathlib.Path | Member) -> None:
    """Missing, not a regular file, or zero bytes: say so before sniffing."""
    if isinstance(path, Member):
        if not path.data:
            raise input_error(path, "empty file (0 bytes)")
        return
    try:
        info = path.stat()
    except FileNotFoundError:
        raise input_error(path, "file not found") from None
    except OSError as exc:
        raise input_error(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise input_error(path, "not a regular file")
    if info.st_size == 0:
        raise input_error(path, "empty file (0 bytes)")
