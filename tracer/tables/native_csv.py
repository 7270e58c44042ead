"""A delimited table's rows read from its bytes by the native engine, a batch at a time.

Reading a UTF-8 CSV through ``TextIOWrapper`` and the csv module, then handing
every cell to the engine as a Python string, cost more than marking the rows
(issue 15).  Where the native engine is built and the table is UTF-8 text with
a one-character ASCII delimiter, ``record_batches`` gives the data rows as the
engine's ``RecordBatch``es instead: the engine (``engine/src/csv_lines.rs``,
``csv_read.rs``) splits lines, skips and counts what ``textio.bounded_lines``
skips, parses as ``csv.reader`` does and checks widths as ``Table`` does, from
1 MiB chunks of the same binary stream.  The Python readers stay the reference
(``tests/test_engine.py`` holds the two to the same rows, counts and errors);
every other table, and ``TRACER_ENGINE=python``, reads as before.
"""

from __future__ import annotations

import csv
from collections import Counter
from typing import Iterator

from tracer.tables import textio
from tracer.tables.base import input_error, open_binary

CHUNK_BYTES = 1 << 20  # a multiple of the 8 KiB Python decodes at a time (csv_lines.rs)
_ENCODINGS = {"utf-8": False, "utf-8-sig": True}  # codec -> a BOM at the start is dropped


def _engine():
    from tracer import engine

    return engine._engine if engine.default_engine() == "native" else None


def takes(table) -> bool:
    """Whether the byte reader reads ``table`` (else its Python rows are the only ones)."""
    fmt = table.format
    return (fmt.kind == "csv" and fmt.encoding in _ENCODINGS and len(fmt.delimiter) == 1
            and fmt.delimiter.isascii() and fmt.delimiter not in '"\r\n' and _engine() is not None)


def record_batches(table, size: int, keep: int | None = None) -> Iterator:
    """The table's data rows in ``RecordBatch``es of ``size`` (the last one shorter), each row its first
    ``keep`` cells (all by default), counting what is skipped into ``table.skipped`` as ``Table.rows`` does.  A failure comes after the rows read
    before it, as the Python readers' rows do (``engine.batches``)."""
    fmt, path = table.format, table.path
    reader = _engine().CsvReader(fmt.delimiter, _ENCODINGS[fmt.encoding], len(table.columns),
                                 len(table.columns) if keep is None else keep, fmt.has_header,
                                 textio.MAX_LINE, csv.field_size_limit(),
                                 textio.MAX_SKIPPED_LINES * textio.MAX_LINE)
    table.skipped = Counter()
    try:
        handle = open_binary(path)
    except OSError as exc:
        raise input_error(path, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        while not reader.done:
            batch = reader.take(size)
            if batch is not None:
                _count(table, reader)
                yield batch
                continue
            chunk = _read_chunk(handle)
            if chunk:
                reader.feed(chunk)
            else:
                reader.finish()
    _count(table, reader)
    failure = reader.failure()
    if failure is not None:
        raise _failure(table, failure)
    table._check_readable(reader.counts()[0])


def _read_chunk(handle) -> bytes:
    """CHUNK_BYTES, or what is left: the reader places a decode error by 8 KiB chunks from the start."""
    chunk = handle.read(CHUNK_BYTES)
    while 0 < len(chunk) < CHUNK_BYTES and (more := handle.read(CHUNK_BYTES - len(chunk))):
        chunk += more
    return chunk


def _count(table, reader) -> None:
    _, ragged, nul, long_line = reader.counts()
    counts = {"ragged": ragged, "nul": nul, "long_line": long_line}
    table.skipped = Counter({cause: n for cause, n in counts.items() if n})


def _failure(table, failure: tuple):
    """The error the Python readers raise for the same failure."""
    from tracer.tables import delimited

    kind, *detail = failure
    if kind == "decode":
        return textio.decode_failure(table.path, table.format.encoding, detail[0])
    if kind == "csv":
        return delimited.malformed(table.path, *detail)
    return textio.endless_line(table.path)
