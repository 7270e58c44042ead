"""Collusion: several insiders compare their copies of the same records.

Copies are aligned by identifier (and by column name); ``interleave`` takes
each cell from a random colluder's copy, ``diff_scrub`` keeps what the copies
agree on and treats the differences (majority, emptied, one canonical
spelling), optionally deleting the records only one copy holds (the
canaries).  Pure functions over tables; no tracer code.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher

from attacks import Table, aligned


def align(copies: Sequence[Table], key: int) -> tuple[list[str], dict[str, list[list[str] | None]], list[str]]:
    """(header, id -> each copy's row or None, ids in first-seen order); copies aligned by column name."""
    header = list(copies[0][0])
    by_id: dict[str, list[list[str] | None]] = {}
    for index, copy in enumerate(copies):
        for row in aligned(header, copy):
            by_id.setdefault(row[key], [None] * len(copies))
            if by_id[row[key]][index] is None:
                by_id[row[key]][index] = row
    return header, by_id, list(by_id)


def interleave(copies: Sequence[Table], key: int, rng: random.Random, common_only: bool = False) -> Table:
    """Each record once, each of its cells taken from a random colluder's copy of it.

    ``common_only`` keeps only the records every copy has (which also drops
    each copy's canaries); otherwise a record held by one copy (a canary) is
    kept as that copy has it."""
    header, by_id, order = align(copies, key)
    rows = []
    for ident in order:
        versions = [v for v in by_id[ident] if v is not None]
        if common_only and len(versions) < len(copies):
            continue
        rows.append([rng.choice(versions)[i] for i in range(len(header))])
    return header, rows


def _merge_spellings(a: str, b: str, prefer: str) -> str:
    """One spelling from two: wherever they differ, the longer (or shorter) piece."""
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(a[i1:i2])
            continue
        pieces = sorted((a[i1:i2], b[j1:j2]), key=lambda s: (len(s), s))
        out.append(pieces[-1] if prefer == "long" else pieces[0])
    return "".join(out)


def canonical_spelling(variants: Sequence[str], prefer: str = "long") -> str:
    """One canonical spelling of differing copies of a cell: at every spot where
    they differ, the longest (``prefer='long'``: 江苏省, 3栋2单元301室, Street,
    the larger digit) or shortest alternative.  The same rule for every record:
    what a colluder's normaliser does once it has seen where copies differ."""
    result = variants[0]
    for other in variants[1:]:
        result = _merge_spellings(result, other, prefer)
    return result


def diff_scrub(copies: Sequence[Table], key: int, rng: random.Random, mode: str = "majority",
               drop_singletons: bool = True, prefer: str = "long") -> Table:
    """Colluders compare their copies record by record (aligned by identifier).

    Where copies of a cell agree it is kept; where they differ:
    ``majority`` takes the most common version (ties at random), ``drop``
    empties the cell, ``canonical`` writes one canonical spelling
    (``canonical_spelling``).  ``drop_singletons`` deletes records found in
    only one copy: the canaries."""
    if mode not in ("majority", "drop", "canonical"):
        raise ValueError(f"unknown scrub mode {mode!r}")
    header, by_id, order = align(copies, key)
    rows = []
    for ident in order:
        versions = [v for v in by_id[ident] if v is not None]
        if drop_singletons and len(copies) > 1 and len(versions) == 1:
            continue
        row = []
        for i in range(len(header)):
            cells = [v[i] for v in versions]
            if len(set(cells)) == 1:
                row.append(cells[0])
            elif mode == "majority":
                counts = Counter(cells)
                top = max(counts.values())
                row.append(rng.choice(sorted(c for c, k in counts.items() if k == top)))
            elif mode == "drop":
                row.append("")
            else:
                row.append(canonical_spelling(cells, prefer))
        rows.append(row)
    return header, rows
