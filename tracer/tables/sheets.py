"""Spreadsheet rows as a table: what the .xlsx and .xls readers share.

Each reader yields (sheet title, row) for the non-empty rows of a workbook's
first sheet, with the library's cell values; this module turns those values
into typed cells, decides header and width from the first rows, and pads the
data rows.  Both formats thus read the same way, whichever library parses them.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Iterable, Iterator

from tracer.tables import sniff
from tracer.tables.base import SAMPLE_RECORDS, TableFormat, input_error
from tracer.tables.cells import DateText, NumberText, format_datetime, format_duration, format_number

SheetRows = Iterator[tuple[str, list[str]]]


def to_cell(value) -> str:
    """A spreadsheet value as a cell: '' for empty, typed text for numbers
    and dates, Excel's spelling for booleans and durations."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return NumberText(format_number(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return DateText(format_datetime(value))
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    return str(value)


def trimmed(values: Iterable) -> list[str]:
    """Cells of a sheet row without trailing empties (Excel rows end at
    their last used cell, so trailing blanks carry no width information)."""
    row = [to_cell(v) for v in values]
    while row and row[-1] == "":
        row.pop()
    return row


def probe(path: pathlib.Path, rows: SheetRows, header: bool | None, kind: str):
    """Sample the first rows of the sheet for header and width; returns
    (format, columns).  ``rows`` is closed here, whatever happens.

    Excel ends a row at its last used cell, so the sample is judged padded
    to its widest row: a title above the table ('运单明细' alone in A1) or a
    header without names for the last columns then reads as a headerless
    table, instead of a one-column header under which every row is ragged.
    """
    title, sample = None, []
    try:
        for title, row in rows:
            sample.append(row)
            if len(sample) > SAMPLE_RECORDS:
                break
    finally:
        rows.close()
    if not sample:
        raise input_error(path, "empty workbook: no rows")
    width = max(len(r) for r in sample)
    padded = [r + [""] * (width - len(r)) for r in sample]
    has_header = sniff.decide_header(padded, header)
    if has_header:
        named = [str(c) for c in sample[0]]
        columns = named + sniff.default_columns(width)[len(named):]
    else:
        columns = sniff.default_columns(width)
    if len(sample) == 1 and has_header:
        raise input_error(path, "no data rows, only a header")
    return TableFormat(kind=kind, has_header=has_header, sheet=title), columns


def records(rows: SheetRows, fmt: TableFormat, columns: list[str]) -> Iterator[list[str]]:
    """Data rows padded to the column count; a row with values beyond the
    last column keeps them and so counts as ragged."""
    width = len(columns)
    skip = fmt.has_header
    for _title, row in rows:
        if skip:
            skip = False
            continue
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        yield row


def reason(exc: BaseException) -> str:
    """A library exception as a short clause for a one-line error."""
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")
