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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from .accuse import Verdict, accuse
from .columns import Schema, recognise
from .errors import InputError
from .keys import Key
from .marks import AnchorHasher, mark_plan, read_row, row_anchors
from .progress import OnRows, counted
from .registry import Registry
from .tables import open_table

SAMPLE_ROWS = 200
LOOKUP_ROWS = 2000  # rows whose anchors are looked up in the registry together


@dataclass(frozen=True)
class LeakFile:
    path: str
    sha256: str
    size: int
    rows: int
    ragged: int
    schema: Schema

    def as_json(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "rows": self.rows,
            "ragged_rows_skipped": self.ragged,
            "columns": [
                {"index": c.index, "header": c.header, "kind": c.kind, "by": c.by, "confidence": c.confidence}
                for c in self.schema.columns
            ],
        }


@dataclass(frozen=True)
class CanaryHit:
    digest: int
    export_id: int
    file: str
    row_number: int  # 1-based data row in the leak file
    row: tuple[str, ...]
    columns: tuple[str, ...]
    space: int  # how many values the canary value was drawn from


@dataclass
class Evidence:
    """What a set of leak files shows, before any account is scored."""

    files: list[LeakFile] = field(default_factory=list)
    rows: int = 0
    anchor_values: int = 0  # phone and identifier cells examined: trials for a chance canary match
    positions: list[int] = field(default_factory=list)
    symbols: list[int] = field(default_factory=list)
    row_of: list[int] = field(default_factory=list)  # the leaked row each observation was read in
    streams: list[int] = field(default_factory=list)
    stream_names: dict[tuple[str, int, str], int] = field(default_factory=dict)
    row_anchors: list[tuple[int, ...]] = field(default_factory=list)  # each leaked row's anchor digests
    exposure: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # digest -> export ids
    canary_hits: dict[int, CanaryHit] = field(default_factory=dict)  # digest -> first hit

    def observation_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.positions, dtype=np.int64),
            np.asarray(self.symbols, dtype=np.int8),
            np.asarray(self.row_of, dtype=np.int64),
            np.asarray(self.streams, dtype=np.int64),
        )


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


Pending = dict[int, tuple[str, int, tuple[str, ...], tuple[str, ...]]]  # digest -> where it was read


def _resolve(registry: Registry, evidence: Evidence, pending: Pending) -> None:
    """Look a batch of leaked anchors up: canary hits and exposure.

    A canary value counts as a hit only when it was drawn at random from a
    known space (a new phone, a fresh identifier), so a chance match can be
    bounded; a fitted sequential identifier is no evidence.
    """
    if not pending:
        return
    for digest, export_id, space in registry.canaries_of(pending):
        if space > 0 and digest not in evidence.canary_hits:
            file, number, row, columns = pending[digest]
            evidence.canary_hits[digest] = CanaryHit(digest, export_id, file, number, row, columns, space)
    for digest, export_id in registry.exposure_of(pending):
        evidence.exposure[digest].add(export_id)
    pending.clear()


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
        plan = mark_plan(schema)
        pending: Pending = {}
        count = 0
        for row in counted(chain(head, rows), on_rows):
            count += 1
            anchors = row_anchors(plan, row, hasher)
            row_index = len(evidence.row_anchors)
            evidence.row_anchors.append(tuple(a.exposure for a in anchors.all))
            for anchor in anchors.all:
                evidence.anchor_values += 1
                pending.setdefault(anchor.exposure, (path.name, count, tuple(row), columns))
            for obs in read_row(plan, row, anchors, length, path.name):
                stream = evidence.stream_names.setdefault(obs.stream, len(evidence.stream_names))
                evidence.positions.append(obs.position)
                evidence.symbols.append(obs.bit)
                evidence.row_of.append(row_index)
                evidence.streams.append(stream)
            if count % LOOKUP_ROWS == 0:
                _resolve(registry, evidence, pending)
        _resolve(registry, evidence, pending)
        evidence.rows += count
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
