"""The match pipeline: read leaks -> recognise columns -> collect evidence -> accuse.

Evidence is gathered blind (registry, key and leak only):

- every anchor of every leaked row (phone digits, identifiers) is looked up,
  as a keyed digest, in the canary table and in the exposure table;
- every readable mark slot of every markable cell gives an observation
  (code position, symbol), at the position(s) of its cell anchor.

Digests and positions depend on the key, and an export can be read only with
the key it was made with.  So each leak file is parsed once and read with
every key some export was made with, each reading looking only at the exports
of its key; ``accuse`` turns each reading into p-values, and
``merge_verdicts`` makes one verdict of them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from .accuse import Verdict, accuse, merge_verdicts
from .columns import Schema, recognise
from .errors import InputError
from .keys import Key, KeyRing
from .marks import AnchorHasher, read_row, row_anchors
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


@dataclass
class KeyedReading:
    """The leaks as one key reads them: anchors, marks, and what the exports made with that key hold."""

    key_id: int
    key: Key
    evidence: Evidence = field(default_factory=Evidence)
    pending: Pending = field(default_factory=dict)  # anchors not yet looked up

    def __post_init__(self) -> None:
        self.hasher = AnchorHasher(self.key)

    def add_row(self, schema: Schema, row: list[str], number: int, file: str, columns: tuple[str, ...],
                length: int) -> None:
        """One leaked row's anchors (to look up) and readable marks."""
        evidence = self.evidence
        anchors = row_anchors(schema, row, self.hasher)
        row_index = len(evidence.row_anchors)
        evidence.row_anchors.append(tuple(a.exposure for a in anchors.all))
        for anchor in anchors.all:
            evidence.anchor_values += 1
            self.pending.setdefault(anchor.exposure, (file, number, tuple(row), columns))
        for obs in read_row(schema, row, anchors, length, file):
            stream = evidence.stream_names.setdefault(obs.stream, len(evidence.stream_names))
            evidence.positions.append(obs.position)
            evidence.symbols.append(obs.bit)
            evidence.row_of.append(row_index)
            evidence.streams.append(stream)

    def resolve(self, registry: Registry) -> None:
        """Look the pending anchors up among this key's exports: canary hits and exposure.

        A canary value counts as a hit only when it was drawn at random from a
        known space (a new phone, a fresh identifier), so a chance match can be
        bounded; a fitted sequential identifier is no evidence.
        """
        if not self.pending:
            return
        evidence, pending = self.evidence, self.pending
        for digest, export_id, space in registry.canaries_of(pending, self.key_id):
            if space > 0 and digest not in evidence.canary_hits:
                file, number, row, columns = pending[digest]
                evidence.canary_hits[digest] = CanaryHit(digest, export_id, file, number, row, columns, space)
        for digest, export_id in registry.exposure_of(pending, self.key_id):
            evidence.exposure[digest].add(export_id)
        pending.clear()


def read_leak(registry: Registry, path: Path, readings: Sequence[KeyedReading], encoding: str | None = None,
              on_rows: OnRows | None = None) -> None:
    """Parse one leak file once, and add its anchors and observations to every key's reading."""
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
        count = 0
        for row in counted(chain(head, rows), on_rows):
            count += 1
            for reading in readings:
                reading.add_row(schema, row, count, path.name, columns, length)
            if count % LOOKUP_ROWS == 0:
                for reading in readings:
                    reading.resolve(registry)
        leak_file = LeakFile(str(path), sha, size, count, table.ragged, schema)
        for reading in readings:
            reading.resolve(registry)
            reading.evidence.rows += count
            reading.evidence.files.append(leak_file)


def match_leaks(registry: Registry, ring: KeyRing, paths: Sequence[Path], fpr: float = 1e-6,
                encoding: str | None = None, on_rows: OnRows | None = None) -> Verdict:
    """Read every leak file and accuse the accounts the evidence convicts at level ``fpr``.

    Each key some export was made with reads the leaks and judges at level
    ``fpr / keys``, so that over all keys the chance of accusing any innocent
    stays within ``fpr``.
    """
    if not 0 < fpr < 1:
        raise InputError(f"--fpr must be between 0 and 1, got {fpr}")
    registry.verify_ring(ring)
    readings = [KeyedReading(key_id, ring.keys[key_id])
                for key_id in registry.keys_with_exports() or [ring.current_id]]
    for path in paths:
        read_leak(registry, Path(path), readings, encoding, on_rows)
    share = fpr / len(readings)
    return merge_verdicts([accuse(registry, r.key_id, r.key, r.evidence, share) for r in readings], fpr)
