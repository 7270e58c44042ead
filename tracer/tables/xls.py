"""Legacy Excel 97-2003 workbooks (.xls), read with xlrd; never written.

Leaks still arrive as .xls, so the matcher reads them; an export always
writes .xlsx (see base.writable_kind).  Cells are typed as in .xlsx: numbers
become NumberText, date cells DateText, so both Excel formats read alike.

Memory: .xls cannot be streamed (its cells are records inside an OLE
container), so the first sheet is loaded whole.  ``on_demand`` keeps the
other sheets unparsed and ``ragged_rows`` keeps each row only as long as its
last cell, so memory follows the cells a file holds, within the format's own
bound of 65,536 rows by 256 columns.  python-calamine was tried first and
refused: it expands every sheet of the workbook to the rectangle its cells
span when the file is opened, so two cells at opposite corners of a 6 KB
file take a gigabyte per sheet.
"""

from __future__ import annotations

import os
import pathlib
from typing import Iterator

from tracer.errors import InputError
from tracer.tables import sheets
from tracer.tables.base import Member, TableFormat, input_error, open_binary

_ZIP_MAGIC = b"PK\x03\x04"


def _sheet_rows(path: pathlib.Path) -> sheets.SheetRows:
    """(sheet title, trimmed row) for every non-empty row of the first sheet.

    xlrd raises many kinds of exception on a broken file (XLRDError,
    CompDocError, struct.error, IndexError, ...); each becomes one InputError.
    Its warnings go to /dev/null: by default it prints them on stdout, which
    would corrupt ``--json`` output.
    """
    import xlrd  # imported on first use, like openpyxl

    with open(os.devnull, "w") as log:
        try:
            book = xlrd.open_workbook(**_contents(path), on_demand=True, ragged_rows=True, logfile=log)
        except Exception as exc:  # noqa: BLE001 - see docstring
            raise input_error(path, _unreadable(path, exc)) from None
        try:
            if book.nsheets == 0:
                raise input_error(path, "workbook has no worksheet")
            sheet = book.sheet_by_index(0)
            for index in range(sheet.nrows):
                cells = zip(sheet.row_types(index), sheet.row_values(index))
                row = sheets.trimmed(_value(kind, value, book.datemode) for kind, value in cells)
                if row:
                    yield sheet.name, row
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - see docstring
            raise input_error(path, f"broken xls worksheet ({sheets.reason(exc)})") from None
        finally:
            book.release_resources()


def _contents(path) -> dict:
    """xlrd's argument for a file (by name, so it may map it) or an archive member (its bytes)."""
    return {"file_contents": path.data} if isinstance(path, Member) else {"filename": str(path)}


def _unreadable(path: pathlib.Path, exc: Exception) -> str:
    """Why a file named .xls did not open; an .xlsx saved under the old name
    is common enough to say so."""
    try:
        with open_binary(path) as handle:
            head = handle.read(len(_ZIP_MAGIC))
    except OSError:
        head = b""
    if head == _ZIP_MAGIC:
        return "this is an .xlsx workbook named .xls; rename it to .xlsx"
    return f"not a readable xls workbook ({sheets.reason(exc)})"


def _value(cell_type: int, value, datemode: int):
    """An xlrd cell as the value openpyxl would give for it, for sheets.to_cell."""
    import xlrd

    if cell_type == xlrd.XL_CELL_DATE:
        return _date(value, datemode)
    if cell_type == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if cell_type == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    return value


def _date(serial: float, datemode: int):
    """A date cell as a datetime, or a time when it holds less than a day
    (a time-of-day cell); a serial no calendar can hold stays a number."""
    from xlrd.xldate import XLDateError, xldate_as_datetime

    try:
        moment = xldate_as_datetime(serial, datemode)
    except (XLDateError, ValueError, OverflowError, TypeError):
        return serial
    return moment.time() if 0 <= serial < 1 else moment


def probe(path: pathlib.Path, encoding: str | None, header: bool | None):
    """Sample the first rows of the first sheet for header and width."""
    return sheets.probe(path, _sheet_rows(path), header, "xls")


def records(path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> Iterator[list[str]]:
    """Data rows padded to the column count (see sheets.records)."""
    return sheets.records(_sheet_rows(path), fmt, columns)
