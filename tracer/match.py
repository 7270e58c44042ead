"""The match pipeline: read leaks -> recognise columns -> collect evidence -> accuse.

Evidence is gathered blind (registry, key and leak only):

- every anchor of every leaked row (phone digits, identifiers) is looked up,
  as a keyed digest, in the canary table and in the exposure table;
- every readable mark slot of every markable cell gives an observation
  (code position, symbol), at the position(s) of its cell anchor.

``accuse`` turns that evidence into p-values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

from .accuse import Verdict, accuse
from .columns import recognise
from .evidence import LOOKUP_ROWS, Evidence, LeakedRow, LeakFile
from .errors import InputError
from .keys import Key
from .marks import AnchorHasher, mark_plan, read_row, row_anchors
from .progress import OnRows, counted
from .registry import Registry
from .tables import open_table

SAMPLE_ROWS = 200


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def read_leak(registry: Registry, key: Key, path: Path, evidence: Evidence, hasher: AnchorHasher,
              encoding: str | None = None, on_rows: OnRows | None = None) -> None:
    """Add one leak file's anchors and observations to ``evidence``."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    sha, size = file_sha256(path)
    length = registry.code.length
    with open_table(path, encoding=encoding) as table:
        rows = table.rows()
        head = []
        for row in rows:
            head.append(row)
            if len(head) >= SAMPLE_ROWS:
                break
        if not head:
            raise InputError(f"{path.name}: no data rows")
        schema = recognise(table.columns, head)
        if not schema.anchor_columns:
            raise InputError(f"{path.name}: no phone or identifier column recognised; nothing to match on")
        columns = tuple(table.columns)
        plan = mark_plan(schema, alternatives=True)
        batch: list[LeakedRow] = []
        count = 0
        for row in counted(chain(head, rows), on_rows):
            count += 1
            anchors = row_anchors(plan, row, hasher)
            marks = [(position, bit, evidence.stream((path.name, column, slot, anchor)))
                     for position, bit, column, slot, anchor in read_row(plan, row, anchors, length)]
            batch.append(LeakedRow(tuple(a.exposure for a in anchors.all), marks, path.name, count,
                                   tuple(row), columns))
            if len(batch) >= LOOKUP_ROWS:
                evidence.absorb(registry, batch)
                batch = []
        evidence.absorb(registry, batch)
        evidence.files.append(LeakFile(str(path), sha, size, count, table.ragged, schema))


def match_leaks(registry: Registry, key: Key, paths: Sequence[Path], fpr: float = 1e-6,
                encoding: str | None = None, on_rows: OnRows | None = None) -> Verdict:
    """Read every leak file and accuse the accounts the evidence convicts at level ``fpr``."""
    if not 0 < fpr < 1:
        raise InputError(f"--fpr must be between 0 and 1, got {fpr}")
    registry.verify_key(key)
    evidence = Evidence()
    hasher = AnchorHasher(key)
    for path in paths:
        read_leak(registry, key, Path(path), evidence, hasher, encoding, on_rows)
    return accuse(registry, key, evidence, fpr)
