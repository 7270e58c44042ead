"""Workbooks written the way Excel stores them, as test (and fuzz seed) inputs.

Values keep their Python type: str becomes a text cell, int/float a number
cell, datetime/date a date cell with a date format (and, in .xls, a time a
time cell), bool a boolean cell and None no cell at all.  xlsx goes
through xlsxwriter; legacy .xls through xlwt, the only writer of the format
(unmaintained, but BIFF8 has not changed since 2003 and only test inputs are
written with it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tracer.tables.cells import number_value, parse_datetime

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TIME_FORMAT = "hh:mm:ss"


def excel_value(cell: str):
    """What Excel makes of a typed-in cell: a number (leading zeros lost),
    a date, or text."""
    number = number_value(cell)
    if number is not None and cell.strip() == cell:
        return number
    return parse_datetime(cell) or cell


def write_xlsx(path: Path, rows, *, sheet: str = "名单") -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(sheet)
    stamp = book.add_format({"num_format": DATETIME_FORMAT})
    day = book.add_format({"num_format": DATE_FORMAT})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, stamp)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, value, day)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, str):
                ws.write_string(r, c, value)
            elif value is not None:
                ws.write_number(r, c, value)
    book.close()
    return path


def write_xls(path: Path, rows, *, sheet: str = "名单") -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    stamp = xlwt.easyxf(num_format_str=DATETIME_FORMAT)
    day = xlwt.easyxf(num_format_str=DATE_FORMAT)
    clock = xlwt.easyxf(num_format_str=TIME_FORMAT)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write(r, c, value, stamp)
            elif isinstance(value, dt.date):
                ws.write(r, c, value, day)
            elif isinstance(value, dt.time):
                ws.write(r, c, value, clock)
            elif value is not None:
                ws.write(r, c, value)
    book.save(str(path))
    return path
