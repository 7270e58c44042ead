"""Masking personal data in the report, and the few leaked rows it shows.

A report travels: it is mailed, printed, attached to a case file.  So the real
people in a leak appear masked by default: names keep their first character,
phones their first three and last two digits, e-mails their first letter and
domain.  Canary rows are decoys (nobody real), so they are always shown in
full: they are the evidence.  ``--unmask`` shows everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import TracerError
from ..tables import open_table
from ..tables.sources import find_member

PREVIEW_ROWS = 5
MASK = "*"
# A phone number inside any other cell: a CN mobile (optionally +86) or a 10-digit US number.
PHONE_IN_TEXT = re.compile(r"(?<![\d*])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d){8}(?![\d*])"
                           r"|(?<![\d*])\(?[2-9]\d{2}\)?[-.\s]?\d{3}[-.\s]?\d{4}(?![\d*])")
UNSCRUBBED_KINDS = ("id", "number", "datetime", "zip")


def mask_phone(value: str) -> str:
    """Digits hidden except a prefix (the carrier segment) and the last two: layout kept."""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    if len(digits) <= 4:
        return "".join(MASK if ch.isdigit() else ch for ch in value)
    keep_head = 3 if len(digits) <= 11 else len(digits) - 8
    hidden = set(digits[keep_head:-2])
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(value))


def mask_name(value: str) -> str:
    """Each word keeps its first character: '郭桂芝' -> '郭**', 'John Smith' -> 'J*** S****'."""
    return re.sub(r"\S+", lambda m: m.group()[0] + MASK * (len(m.group()) - 1), value)


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return mask_name(value)
    return (local[:1] + MASK * 3 if local else "") + "@" + domain


def scrub_phones(value: str) -> str:
    """Phones written into a cell of another kind (an address, a note) are masked too."""
    return PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), value)


MASKERS = {"phone": mask_phone, "name": mask_name, "email": mask_email}


def mask_cell(kind: str, value: str) -> str:
    """The cell as the report shows it by default, given its recognised kind."""
    masker = MASKERS.get(kind)
    if masker is not None:
        return masker(value)
    return value if kind in UNSCRUBBED_KINDS else scrub_phones(value)


@dataclass(frozen=True)
class PreviewRow:
    number: int  # 1-based data row in the leak file
    cells: tuple[str, ...]
    canary: bool  # a canary row: shown in full


def preview(leak_file, canary_rows: set[tuple[str, int]], *, unmask: bool,
            encoding: str | None = None) -> list[PreviewRow] | None:
    """The first rows of a leak file, masked unless ``unmask``; None when it can no longer be read.

    Re-reading a few rows is cheaper than carrying rows through the verdict,
    and lets the reader check the recognised columns against real values.
    """
    kinds = [c.kind for c in leak_file.schema.columns]
    rows = []
    try:
        path = find_member(Path(leak_file.archive[0]), leak_file.archive[2]) if leak_file.archive else leak_file.path
        with open_table(path, encoding=encoding) as table:
            for number, row in enumerate(table.rows(), start=1):
                canary = (leak_file.name, number) in canary_rows
                cells = tuple(str(cell) if unmask or canary else mask_cell(kind, str(cell))
                              for kind, cell in zip(kinds, row))
                rows.append(PreviewRow(number, cells, canary))
                if number >= PREVIEW_ROWS:
                    break
    except (TracerError, OSError, ValueError):
        return None
    return rows
