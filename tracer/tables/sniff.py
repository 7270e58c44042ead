"""Sniffing a table's layout from its first records: delimiter, quoting, header.

All rules are deterministic and look only at a bounded sample, so the same
file always reads the same way and memory does not depend on its length.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from typing import Sequence

from tracer.tables.base import DASH_DELIMITER, SAMPLE_RECORDS
from tracer.tables.cells import DateText, NumberText

# Single-character candidates in preference order for ties.
_SINGLE = (",", "\t", "|", ";")
# Share of sample records that must agree on the width for a delimiter to
# count: a clear majority, not near-unanimity, since ragged rows in an otherwise
# good leak (addresses with a stray comma, a dump line missing a field) are
# skipped and counted, and must not make the whole file unreadable.
_MIN_SHARE = 0.6


def parse_records(lines: Sequence[str], delimiter: str) -> list[list[str]]:
    """The first SAMPLE_RECORDS non-blank records in sample lines under one
    delimiter.

    A csv.Error (e.g. an unterminated quote swallowing the sample) gives the
    records parsed so far: the sample is only evidence, never the data.
    """
    if len(delimiter) != 1:  # '----': split by hand, a ',' inside is data
        cut = (line.rstrip("\r\n") for line in lines)
        return [line.split(delimiter) for line in cut if line][:SAMPLE_RECORDS]
    records = []
    try:
        for record in csv.reader(lines, delimiter=delimiter):
            if record:
                records.append(record)
            if len(records) == SAMPLE_RECORDS:
                break
    except csv.Error:
        pass
    return records


def modal_width(records: Sequence[Sequence[str]]) -> tuple[int, float]:
    """The most common record width and the share of records having it
    (ties go to the first record's width, which is what a header sets)."""
    if not records:
        return 0, 0.0
    counts = Counter(len(r) for r in records)
    best = max(counts.values())
    width = next(len(r) for r in records if counts[len(r)] == best)
    return width, best / len(records)


def sniff_delimiter(lines: Sequence[str], prefer: str | None = None) -> str:
    """The delimiter that splits the sample into a consistent width > 1.

    '----' wins whenever it qualifies: it never occurs by chance, while a
    dump's addresses may contain commas.  Otherwise the suffix's preference
    (tab for .tsv), then the most consistent, then the widest split.  No
    qualifier means a one-column table, read with ','.
    """
    best_key, best = None, ","
    for rank, delimiter in enumerate((DASH_DELIMITER,) + _SINGLE):
        width, share = modal_width(parse_records(lines, delimiter))
        if width < 2 or share < _MIN_SHARE:
            continue
        key = (delimiter == DASH_DELIMITER, delimiter == prefer, share, width, -rank)
        if best_key is None or key > best_key:
            best_key, best = key, delimiter
    return best


def sniff_quote_all(lines: Sequence[str], delimiter: str) -> bool:
    """True when every sampled record is exactly what csv.QUOTE_ALL writes,
    i.e. the source quoted every field and a rewrite keeps its bytes.

    The sample's last record is left out when there are others: the sample
    may end inside a quoted field, which would look unquoted.
    """
    if len(delimiter) != 1:
        return False
    pairs = _records_with_text(lines, delimiter)
    if len(pairs) > 1:
        pairs.pop()
    return bool(pairs) and all(
        _render(record, delimiter, csv.QUOTE_ALL) == original for record, original in pairs
    )


def _records_with_text(lines: Sequence[str], delimiter: str) -> list[tuple[list[str], str]]:
    """Up to SAMPLE_RECORDS non-blank records, each with its source text
    (terminator stripped), found by the physical lines the reader consumed."""
    reader = csv.reader(iter(lines), delimiter=delimiter)
    consumed, pairs = 0, []
    try:
        for record in reader:
            original = "".join(lines[consumed:reader.line_num]).rstrip("\r\n")
            consumed = reader.line_num
            if record:
                pairs.append((record, original))
            if len(pairs) > SAMPLE_RECORDS:
                break
    except csv.Error:
        pass
    return pairs


def _render(record: list[str], delimiter: str, quoting: int) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="").writerow(record)
    return buffer.getvalue()


# --- header detection --------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d{7,}")
_NUMBER = re.compile(r"[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")
_DATE = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_DIGIT_OR_AT = re.compile(r"[\d@]")


def is_datalike(cell: str) -> bool:
    """A value no header label would be: a typed number or date, a phone-like
    run of 7+ digits, an e-mail '@', a plain number or a date."""
    if isinstance(cell, (NumberText, DateText)):
        return True
    text = cell.strip()
    return (
        "@" in text
        or _DIGIT_RUN.search(text) is not None
        or _NUMBER.fullmatch(text) is not None
        or _DATE.search(text) is not None
    )


def looks_like_header(first: Sequence[str], below: Sequence[Sequence[str]]) -> bool:
    """Whether the first record holds column labels rather than data.

    It is a header when its cells are non-empty, distinct and not data-like,
    and some column whose label has no digit or '@' holds digits or '@' in at
    least half of the records below (phones, house numbers, e-mails, dates,
    amounts: personal-data tables always have such a column).  A file with a
    single record is a header only if no cell has a digit at all.
    """
    cells = [c.strip() for c in first]
    if not cells or any(not s or is_datalike(c) for s, c in zip(cells, first)):
        return False
    if len(set(cells)) != len(cells):
        return False
    if not below:
        return not any(_DIGIT_OR_AT.search(c) for c in cells)
    for column, label in enumerate(cells):
        if _DIGIT_OR_AT.search(label):
            continue
        values = [r[column] for r in below if column < len(r)]
        hits = sum(1 for v in values if _DIGIT_OR_AT.search(v))
        if values and 2 * hits >= len(values):
            return True
    return False


def decide_header(records: Sequence[Sequence[str]], header: bool | None) -> bool:
    """The caller's choice, or detection on the sample when it is None.

    A first record narrower or wider than most is no header (a title line
    such as '运单明细' above the table): taken as one, it would make every
    row below ragged; as data it is one ragged row, skipped and counted.
    """
    if header is not None:
        return header
    if not records or len(records[0]) != modal_width(records)[0]:
        return False
    return looks_like_header(records[0], records[1:SAMPLE_RECORDS])


def default_columns(width: int) -> list[str]:
    """Names for a headerless table's columns."""
    return [f"column_{i}" for i in range(1, width + 1)]
