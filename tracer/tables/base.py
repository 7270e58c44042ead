"""The table format record and the error helpers every table module shares.

A :class:`TableFormat` travels from the reader to the writer so that an export
is written in exactly the format its source came in (encoding, delimiter,
quoting, line ending, header, sheet): honest users must not notice tracer.
"""

from __future__ import annotations

import csv
import io
import pathlib
from dataclasses import dataclass
from typing import BinaryIO

from tracer.errors import InputError, OutputError

# Suffix -> kind.  '.txt' and '.tsv' are delimited text like '.csv'; the
# delimiter is sniffed, so a '----' chat-group dump saved as .txt works too.
_KINDS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".json": "json",
    ".xlsx": "xlsx",
    ".xls": "xls",
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_KINDS)

# Kinds tracer reads but does not write, with what to write instead: nothing
# well kept writes legacy .xls, and every Excel since 2007 opens .xlsx.
_READ_ONLY = {"xls": ".xlsx"}

# The multi-character delimiter of chat-group dumps ("张三----138...----江苏...").
DASH_DELIMITER = "----"

# Records examined to sniff delimiter, quoting and header: bounded, so the
# decision costs the same for any file length.
SAMPLE_RECORDS = 50


@dataclass(frozen=True)
class TableFormat:
    """How a table is laid out on disk; enough to write it back byte for byte.

    ``kind`` is 'csv' (also .tsv, .txt and '----' dumps), 'jsonl', 'json',
    'xlsx' or 'xls' (read only).  The text fields matter only to the text
    kinds, ``sheet`` only to the Excel kinds.  ``has_header`` is always True for the JSON kinds (keys are names).
    """

    kind: str
    encoding: str = "utf-8"
    delimiter: str = ","
    quoting: int = csv.QUOTE_MINIMAL
    lineterminator: str = "\r\n"
    has_header: bool = True
    sheet: str | None = None


# Why a reader dropped a line or row instead of yielding it, as the reports
# word it.  A leak is read from whatever is readable; what was dropped is
# counted per cause and reported, never silently lost.
SKIP_CAUSES = {  # cause -> (what, why), worded '3 rows with the wrong number of cells'
    "ragged": ("row", "with the wrong number of cells"),
    "nul": ("line", "with NUL bytes"),
    "long_line": ("line", "longer than 16 Mi characters"),
}


def skip_words(cause: str, count: int) -> str:
    """'1 line with NUL bytes', '3 rows with the wrong number of cells'."""
    what, why = SKIP_CAUSES[cause]
    return f"{count:,} {what}{'' if count == 1 else 's'} {why}"


@dataclass(frozen=True)
class Skip:
    """A line a record stream dropped, passed on in place of a row so the
    Table can count it (one of SKIP_CAUSES)."""

    cause: str


@dataclass(frozen=True, eq=False)
class Member:
    """A table file inside an archive, held in memory: nothing is extracted to
    disk.  Readers take it wherever they take a path: ``name`` (the archive's
    name, '/', the member's name) is what errors and reports show, ``suffix``
    picks the reader, ``open_binary`` gives its bytes."""

    archive: pathlib.Path
    member: str
    data: bytes

    @property
    def name(self) -> str:
        return f"{self.archive.name}/{self.member}"

    @property
    def suffix(self) -> str:
        return pathlib.PurePosixPath(self.member).suffix

    def __str__(self) -> str:
        return f"{self.archive}/{self.member}"


def as_path(path) -> pathlib.Path | Member:
    """Accept str or PathLike everywhere, as callers pass both (and archive members)."""
    return path if isinstance(path, Member) else pathlib.Path(path)


def open_binary(path: pathlib.Path | Member, counted: bool = True) -> BinaryIO:
    """The one way readers open a leak's bytes, a file's or an archive member's;
    ``counted`` streams count into a watching progress meter (see meter.py)."""
    from tracer.tables.meter import watching

    meter = watching() if counted else None
    if isinstance(path, Member):
        raw, group = io.BytesIO(path.data), str(path.archive)
    else:
        raw, group = open(path, "rb", buffering=-1 if meter is None else 0), str(path)
    return raw if meter is None else meter.stream(raw, str(path), group)


def kind_for(path: pathlib.Path) -> str:
    """The table kind for a file name; an unknown suffix is the user's error."""
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        supported = " ".join(SUPPORTED_SUFFIXES)
        shown = path.suffix or "(none)"
        raise input_error(path, f"unsupported file type {shown}; supported: {supported}")
    return kind


def writable_kind(path: pathlib.Path) -> str:
    """The table kind to write a file name as; a read-only kind is refused
    with what to write instead, before anything is written."""
    kind = kind_for(path)
    instead = _READ_ONLY.get(kind)
    if instead is not None:
        raise output_error(path, f"tracer reads {path.suffix} files but cannot write them; "
                                 f"write {instead} instead")
    return kind


def input_error(path: pathlib.Path, message: str) -> InputError:
    """One-line error naming the file, the way the CLI prints it."""
    return InputError(f"{path.name}: {_one_line(message)}")


def output_error(path: pathlib.Path, message: str) -> OutputError:
    """One-line error naming the output file."""
    return OutputError(f"{path.name}: {_one_line(message)}")


def _one_line(message: str) -> str:
    """Library messages (openpyxl, OSError) may span lines; ours must not."""
    return " ".join(str(message).split())
