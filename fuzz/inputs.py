"""Fuzz inputs: one byte naming the kind of file, then the file's bytes.

The fuzzer mutates plain bytes, so the kind travels inside the input: its
first byte picks one of KINDS (modulo their number) and the rest is the
file.  Two kinds wrap the rest into a workbook instead: the bytes become the
worksheet XML or the shared-strings XML of an otherwise valid .xlsx, because
a mutated zip almost always fails its CRC check and never reaches the XML
parser behind it.
"""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

SHEET_PART = "xl/worksheets/sheet1.xml"
STRINGS_PART = "xl/sharedStrings.xml"

# Kind -> the suffix the file gets; the two part kinds are .xlsx files.
KINDS: dict[str, str] = {
    "csv": ".csv",
    "tsv": ".tsv",
    "txt": ".txt",
    "json": ".json",
    "jsonl": ".jsonl",
    "xlsx": ".xlsx",
    "xls": ".xls",
    "sheet": ".xlsx",
    "strings": ".xlsx",
    # Archives of leak files (tracer/tables/sources.py); a plain tar has no
    # data checksum, so mutations reach the member's reader.
    "zip": ".zip",
    "tar": ".tar",
    "7z": ".7z",
}
_NAMES = tuple(KINDS)
_PARTS = {"sheet": SHEET_PART, "strings": STRINGS_PART}


def encode(kind: str, body: bytes) -> bytes:
    """The fuzz input that stands for ``body`` read as ``kind``."""
    return bytes([_NAMES.index(kind)]) + body


def decode(data: bytes) -> tuple[str, bytes]:
    """(kind, body) of a fuzz input; the empty input is an empty .csv."""
    if not data:
        return "csv", b""
    return _NAMES[data[0] % len(_NAMES)], data[1:]


def file_bytes(kind: str, body: bytes) -> bytes:
    """The bytes of the file a (kind, body) pair stands for."""
    part = _PARTS.get(kind)
    return body if part is None else workbook_with(part, body)


def materialise(data: bytes, directory: Path) -> Path:
    """Write the file a fuzz input stands for into ``directory``; its path."""
    kind, body = decode(data)
    path = directory / f"leak{KINDS[kind]}"
    path.write_bytes(file_bytes(kind, body))
    return path


@functools.cache
def _template() -> dict[str, bytes]:
    """The parts of a small valid workbook (header and one row, shared strings)."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["姓名", "电话", "地址"])
    sheet.write_row(1, 0, ["张三", 13800138000, "江苏省南京市玄武区中山路12号"])
    book.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def workbook_parts(data: bytes) -> dict[str, bytes]:
    """The parts of an .xlsx file, to seed the part kinds from real workbooks."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def workbook_with(part: str, body: bytes) -> bytes:
    """The template workbook with one part replaced by ``body``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _template().items():
            archive.writestr(name, body if name == part else content)
    return buffer.getvalue()
