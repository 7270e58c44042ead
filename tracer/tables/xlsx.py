"""Excel workbooks: read streaming with openpyxl (read_only), written with
xlsxwriter in constant_memory mode, so neither holds the sheet in memory.

Cells keep their Excel type through tracer: numbers come in as NumberText and
go out as numbers, dates as DateText and go out as date cells, everything
else is written as a string (never parsed as a formula or number).
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings
import zipfile
from typing import Iterator

from tracer.errors import InputError
from tracer.tables import sheets
from tracer.tables.base import Member, TableFormat, input_error, open_binary, output_error
from tracer.tables.cells import DateText, NumberText, is_date_only, number_value, parse_datetime

_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


# --- reading -------------------------------------------------------------------

# A workbook part may unpack to at most this many times its packed size (real
# sheets compress 5-30x; a zip bomb of repeated bytes, thousands of times)
# once it is past BOMB_FLOOR bytes unpacked.
MAX_RATIO = 200
BOMB_FLOOR = 64 * 1024 * 1024


# What zipfile raises on a hostile archive besides BadZipFile: an unknown
# format version (NotImplementedError), a name flagged UTF-8 that is not
# (UnicodeDecodeError, a ValueError), a truncated record (EOFError).
_BAD_ARCHIVE = (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError)


def _source(path):
    """What zipfile and openpyxl open: a file by name, an archive member as bytes."""
    return io.BytesIO(path.data) if isinstance(path, Member) else path


def check_archive(path: pathlib.Path) -> None:
    """Refuse a zip bomb posing as a workbook before any part is unpacked."""
    try:
        with zipfile.ZipFile(_source(path)) as archive:
            parts = archive.infolist()
    except _BAD_ARCHIVE as exc:
        raise input_error(path, f"not a readable xlsx workbook ({sheets.reason(exc)})") from None
    for info in parts:
        if info.file_size > BOMB_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise input_error(path, f"refused: part {info.filename} would unpack "
                                    f"{info.file_size // info.compress_size if info.compress_size else 0}x "
                                    f"(a zip bomb?)")


def _sheet_rows(path: pathlib.Path) -> Iterator[tuple[str, list[str]]]:
    """(sheet title, trimmed row) for every non-empty row of the first sheet.

    openpyxl raises many kinds of exception on a broken archive or XML
    (BadZipFile, KeyError, ParseError, ...); each becomes one InputError.
    """
    import openpyxl  # imported on first use: it is slow to import

    check_archive(path)
    handle = open_binary(path)  # through here, so a progress display sees the bytes read
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - see docstring
        handle.close()
        raise input_error(path, f"not a readable xlsx workbook ({sheets.reason(exc)})") from None
    try:
        if not book.worksheets:
            raise input_error(path, "workbook has no worksheet")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a stale <dimension> would cut columns
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for values in sheet.iter_rows(values_only=True):
                row = sheets.trimmed(values)
                if row:
                    yield sheet.title, row
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - see docstring
        raise input_error(path, f"broken xlsx worksheet ({sheets.reason(exc)})") from None
    finally:
        book.close()
        handle.close()


def probe(path: pathlib.Path, encoding: str | None, header: bool | None):
    """Sample the first rows of the first sheet for header and width."""
    return sheets.probe(path, _sheet_rows(path), header, "xlsx")


def records(path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> Iterator[list[str]]:
    """Data rows padded to the column count (see sheets.records)."""
    return sheets.records(_sheet_rows(path), fmt, columns)


# --- writing -------------------------------------------------------------------

class XlsxWriter:
    """Streams rows into a one-sheet workbook named like the source's."""

    def __init__(self, path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> None:
        import xlsxwriter  # imported on first use, like openpyxl

        self._path = path
        self._book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        try:
            self._sheet = self._book.add_worksheet(fmt.sheet or None)
        except Exception as exc:  # noqa: BLE001 - invalid sheet names
            raise output_error(path, f"cannot name the sheet: {exc}") from None
        self._date = self._book.add_format({"num_format": _DATE_FORMAT})
        self._datetime = self._book.add_format({"num_format": _DATETIME_FORMAT})
        self._row = 0
        if fmt.has_header:
            self.write_row([str(c) for c in columns])

    def write_row(self, row: list[str]) -> None:
        for col, cell in enumerate(row):
            if cell != "" and self._write_cell(col, cell) != 0:
                raise output_error(self._path, self._refusal(col, cell))
        self._row += 1

    def _write_cell(self, col: int, cell: str) -> int:
        """Write one cell in its type; xlsxwriter returns non-zero on refusal."""
        sheet, row = self._sheet, self._row
        if isinstance(cell, NumberText):
            number = number_value(cell)
            if number is not None:
                return sheet.write_number(row, col, number)
        elif isinstance(cell, DateText):
            moment = parse_datetime(cell)
            if moment is not None:
                style = self._date if is_date_only(cell) else self._datetime
                return sheet.write_datetime(row, col, moment, style)
        return sheet.write_string(row, col, cell)

    def _refusal(self, col: int, cell: str) -> str:
        """Why xlsxwriter refused a cell: Excel's size limits."""
        if self._row >= 1_048_576:
            return "more rows than an Excel sheet holds (1,048,576)"
        if col >= 16_384:
            return "more columns than an Excel sheet holds (16,384)"
        return f"cell of {len(cell)} characters is longer than Excel allows (32,767)"

    def close(self) -> None:
        try:
            self._book.close()
            with open(self._path, "rb") as handle:
                os.fsync(handle.fileno())
        except Exception as exc:  # noqa: BLE001 - xlsxwriter's own errors
            raise output_error(self._path, f"cannot write: {exc}") from None

    def abort(self) -> None:
        try:
            self._book.close()
        except Exception:  # noqa: BLE001 - the write already failed
            pass
