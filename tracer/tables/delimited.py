"""Delimited text: .csv, .tsv, .txt and '----' chat-group dumps.

Single-character delimiters go through the csv module (quoted fields, line
breaks inside quotes); '----' dumps are split by hand because the csv module
cannot take a multi-character delimiter, and such dumps never quote anyway.
"""

from __future__ import annotations

import csv
import pathlib
from typing import Iterator

from tracer.tables import sniff, textio
from tracer.tables.base import Skip, TableFormat, input_error, output_error

# The csv module refuses fields over 128 KiB; leaks carry long remarks.  A
# field over this bound is a malformed or hostile file, refused with an error.
MAX_FIELD = 16 * 1024 * 1024
csv.field_size_limit(MAX_FIELD)


def probe(path: pathlib.Path, encoding: str | None, header: bool | None):
    """Sniff encoding, delimiter, quoting, line ending and header from the
    start of the file; returns (format, columns)."""
    sample = textio.sample_text(path, encoding)
    lines = textio.sample_lines(sample)
    prefer = "\t" if path.suffix.lower() == ".tsv" else None
    delimiter = sniff.sniff_delimiter(lines, prefer)
    records = sniff.parse_records(lines, delimiter)
    if not records:
        raise input_error(path, "empty file: no rows")
    has_header = sniff.decide_header(records, header)
    if has_header:
        columns, data = list(records[0]), records[1:]
    else:
        columns, data = sniff.default_columns(sniff.modal_width(records)[0]), records
    if not data and sample.complete:
        raise input_error(path, "no data rows, only a header")
    quote_all = sniff.sniff_quote_all(lines, delimiter)
    fmt = TableFormat(
        kind="csv",
        encoding=sample.encoding,
        delimiter=delimiter,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator=textio.line_terminator(sample.text, "\r\n"),
        has_header=has_header,
    )
    return fmt, columns


def records(path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> Iterator[list[str]]:
    """Every data record (header skipped) as parsed; blank lines give [].
    Width checking is the Table's job."""
    with textio.open_text(path, fmt.encoding) as handle:
        if len(fmt.delimiter) == 1:
            yield from _csv_records(path, fmt, handle)
        else:
            yield from _split_records(path, fmt, handle)


def _csv_records(path, fmt, handle) -> Iterator[list[str] | Skip]:
    skips: list[Skip] = []
    reader = csv.reader(textio.bounded_lines(handle, path, skips), delimiter=fmt.delimiter)
    try:
        if fmt.has_header:
            for first in reader:
                if first:
                    break
        for record in reader:
            if skips:
                yield from skips
                skips.clear()
            yield record
        yield from skips
    except UnicodeError:
        raise textio.decode_failure(path, fmt.encoding, reader.line_num) from None
    except csv.Error as exc:
        raise malformed(path, reader.line_num, exc) from None


def malformed(path, line: int, exc) -> Exception:
    """The InputError for what the csv module refuses (also what the native reader reports)."""
    return input_error(path, f"malformed CSV near line {line}: {exc}")


def _split_records(path, fmt, handle) -> Iterator[list[str] | Skip]:
    lineno, skip, skips = 0, fmt.has_header, []
    try:
        for lineno, line in enumerate(textio.bounded_lines(handle, path, skips), 1):
            if skips:
                yield from skips
                skips.clear()
            line = line.rstrip("\r\n")
            if not line:
                continue
            if skip:
                skip = False
                continue
            yield line.split(fmt.delimiter)
        yield from skips
    except UnicodeError:
        raise textio.decode_failure(path, fmt.encoding, lineno) from None


class DelimitedWriter:
    """Writes rows with the source's encoding, delimiter, quoting and line
    ending, so unchanged rows come out byte-identical."""

    def __init__(self, path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> None:
        self._path = path
        self._handle = textio.create_text(path, fmt.encoding)
        if len(fmt.delimiter) == 1:
            writer = csv.writer(
                self._handle,
                delimiter=fmt.delimiter,
                quoting=fmt.quoting,
                lineterminator=fmt.lineterminator,
            )
            self.write_row = writer.writerow
            self.write_rows = writer.writerows
            self.write_csv = getattr(self._handle, "write_bytes", None) or self._write_decoded
            self.dialect = (fmt.delimiter, fmt.quoting == csv.QUOTE_ALL, fmt.lineterminator)
        else:
            self.dialect = None
            self._delimiter, self._end = fmt.delimiter, fmt.lineterminator
            self.write_row = self._write_split
        if fmt.has_header:
            self.write_row(columns)

    def _write_decoded(self, data) -> None:
        """UTF-8 csv bytes into a file of another encoding."""
        self._handle.write(bytes(data).decode("utf-8"))

    def _write_split(self, row: list[str]) -> None:
        """A '----' line; a cell holding the delimiter or a line break would
        silently shift or split the record, so it is refused."""
        for cell in row:
            if self._delimiter in cell or "\n" in cell or "\r" in cell:
                raise output_error(
                    self._path, f"cell {cell[:40]!r} contains {self._delimiter!r} or a line break"
                )
        self._handle.write(self._delimiter.join(row) + self._end)

    def close(self) -> None:
        textio.sync_close(self._handle)

    def abort(self) -> None:
        self._handle.close()
