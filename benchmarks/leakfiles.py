"""Leak files as a reseller writes them, and plain CSV for fixtures and exports.

A *table* is ``(header, rows)`` of strings (see ``attacks.py``).  The writers
turn one into a leak file: any encoding (utf-8, utf-8-sig, gb18030, utf-16),
any delimiter (',' '\\t' '|' '----'), with or without header; the chat-group
dump (headerless GBK ``----``, CRLF); an Excel workbook as Excel saves it
(numbers as numbers); JSON lines.  No tracer code here.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

Table = tuple[list[str], list[list[str]]]


def read_csv(path: str | Path) -> Table:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: str | Path, table: Table) -> Path:
    return write_delimited(path, table)


def digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


EXCEL_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*|[0-9]+)(?:\.[0-9]+)?$")
EXCEL_DATETIME = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def excel_number(cell: str) -> float | None:
    """The number Excel makes of a cell typed in (or opened from CSV), or None for text."""
    text = cell.strip()
    if not EXCEL_NUMBER.match(text) or len(digits(text)) > 15:
        return None
    return float(text)

DASH = "----"


def write_delimited(path: str | Path, table: Table, *, encoding: str = "utf-8", delimiter: str = ",",
                    header: bool = True, newline: str = "\n") -> Path:
    """A delimited text file; ``----`` (or any multi-character delimiter) is joined by hand, unquoted."""
    path = Path(path)
    head, rows = table
    lines = ([head] if header else []) + rows
    with open(path, "w", encoding=encoding, newline="") as handle:
        if len(delimiter) == 1:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator=newline)
            writer.writerows(lines)
        else:
            for line in lines:
                handle.write(delimiter.join(line) + newline)
    return path


def write_dump(path: str | Path, table: Table, encoding: str = "gb18030") -> Path:
    """The chat-group format: headerless, ``----``-separated, GBK, CRLF."""
    return write_delimited(path, table, encoding=encoding, delimiter=DASH, header=False, newline="\r\n")


def write_xlsx(path: str | Path, table: Table, *, header: bool = True) -> Path:
    """An Excel workbook as Excel would save it after opening the CSV: numbers as
    numbers (phones become numbers: their layout, a leading zero, a trailing
    decimal zero are gone), date-times as dates (format 'yyyy/m/d h:mm'; the
    stored value keeps its seconds), the rest as text."""
    import xlsxwriter

    path = Path(path)
    head, rows = table
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    try:
        sheet = book.add_worksheet("Sheet1")
        date_format = book.add_format({"num_format": "yyyy/m/d h:mm"})
        r = 0
        if header:
            for c, name in enumerate(head):
                sheet.write_string(r, c, name)
            r += 1
        for row in rows:
            for c, cell in enumerate(row):
                number = excel_number(cell)
                match = EXCEL_DATETIME.match(cell.strip()) if number is None else None
                if number is not None:
                    sheet.write_number(r, c, number)
                elif match:
                    y, mo, d, h, mi = (int(g) for g in match.groups()[:5])
                    s = int(match.group(6) or 0)
                    sheet.write_datetime(r, c, dt.datetime(y, mo, d, h, mi, s), date_format)
                elif cell:
                    sheet.write_string(r, c, cell)
            r += 1
    finally:
        book.close()
    return path


def write_jsonl(path: str | Path, table: Table, encoding: str = "utf-8") -> Path:
    path = Path(path)
    head, rows = table
    with open(path, "w", encoding=encoding, newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(dict(zip(head, row)), ensure_ascii=False) + "\n")
    return path
