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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

import numpy as np

from .accuse import Verdict, accuse, merge_verdicts
from .columns import recognise
from .engine import batches, native_engine, native_plan
from .errors import InputError
from .evidence import LOOKUP_ROWS, Evidence
from .leak_file import LeakFile
from .leak_batch import LeakBatch
from .keys import Key, KeyRing
from .marks import AnchorHasher, MarkPlan, mark_plan, read_row, row_anchors
from .progress import OnRows, counted, counted_batches
from .read_ahead import Ahead, read_ahead
from .registry import Registry
from .tables import native_csv, open_table
from .tables.base import Member, open_binary
from .tables.sources import Source, Unread, expand, sha256_of

SAMPLE_ROWS = 200
# Columns of a leak file looked at, from the first.  Every cell looked at
# costs its anchor digest, lookups and mark reads: a 10,000-column dump of
# phones would take minutes and gigabytes.  The cap is chosen before any
# evidence is seen, so no p-value depends on it; the columns past it are
# reported as not looked at.
MAX_COLUMNS = 500
PROGRESS_CELLS = 20_000  # cells between progress updates (wide files have few rows)


def file_sha256(path: Path | Member) -> tuple[str, int]:
    """The SHA-256 and size of a leak file or archive member, as the report states them."""
    with open_binary(path, counted=False) as handle:  # not progress: the rows' pass is
        return sha256_of(handle)


@dataclass
class KeyedReading:
    """The leaks as one key reads them, and the evidence summed so far."""

    key_id: int
    key: Key
    evidence: Evidence = field(default_factory=Evidence)
    engines: set[str] = field(default_factory=set)  # which engines read rows: 'native', 'python'

    def __post_init__(self) -> None:
        self.hasher = AnchorHasher(self.key)
        self._engines: dict[str, object] = {}

    def engine(self, plan: MarkPlan):
        """The native engine for ``plan``, built once per distinct plan: building one
        costs ~80 ms, and the many files of a folder or archive mostly share a plan
        (an engine depends only on the key and the plan)."""
        spec = repr(native_plan(plan))
        if spec not in self._engines:
            self._engines[spec] = native_engine(self.key, plan)
        return self._engines[spec]

    def add_rows(self, plan: MarkPlan, engine, rows: list[list[str]], first: int, file: str,
                 columns: tuple[str, ...], length: int, registry: Registry, read=None) -> None:
        """Read ``rows`` (numbered from ``first``): by the native ``engine`` when there is one, else by
        the reference; either gives the same batch, which is looked up and summed in.  ``read``: the
        engine's read of ``rows`` made already (``read_ahead``), or the exception it raised."""
        if engine is None and not isinstance(rows, list):  # a RecordBatch of the byte reader: its rows
            rows = rows.rows()
        try:
            batch = None if engine is None else self._native_batch(plan, engine, rows, first, file, columns, length,
                                                                   read)
        except UnicodeEncodeError:  # a lone surrogate (from a JSON escape): the reference reads it
            batch = None
        if batch is None:
            batch = self._python_batch(plan, rows, first, file, columns, length)
        self.evidence.absorb(registry, batch, self.key_id)

    def _python_batch(self, plan: MarkPlan, rows: list[list[str]], first: int, file: str,
                      columns: tuple[str, ...], length: int) -> LeakBatch:
        """The reference: ``row_anchors`` and ``read_row`` row by row."""
        stream, digests, marks = self.evidence.stream, [], []
        for row in rows:
            anchors = row_anchors(plan, row, self.hasher)
            digests.append([a.exposure for a in anchors.all])
            marks.append([(position, bit, stream((file, column, slot, anchor)))
                          for position, bit, column, slot, anchor in read_row(plan, row, anchors, length)])
        self.engines.add("python")
        return LeakBatch.of_rows(file, first, rows, columns, digests, marks)

    def _native_batch(self, plan: MarkPlan, engine, rows: list[list[str]], first: int, file: str,
                      columns: tuple[str, ...], length: int, read=None) -> LeakBatch:
        """The engine's arrays for ``rows``: the same digests and marks, streams named in the same order."""
        if isinstance(read, Exception):
            raise read
        if read is None:
            read = (engine.read if isinstance(rows, list) else engine.read_records)(rows, length)
        exposures, counts, at, positions, symbols, codes, first_read = read
        codes = np.frombuffer(codes, dtype="<u4").astype(np.int64)
        names = [(file, cell.index, slot.NAME, cell.anchor) for cell in plan.cells for slot, _ in cell.slots]
        places = [16 * p + s for p, cell in enumerate(plan.cells) for s in range(len(cell.slots))]
        # streams are numbered as the reference numbers them: in the order first read
        lookup = np.zeros(16 * len(plan.cells), dtype=np.int64)
        for code in np.frombuffer(first_read, dtype="<u4").tolist():
            lookup[code] = self.evidence.stream(names[places.index(code)])
        symbol = np.frombuffer(symbols, dtype=np.uint8).astype(np.int64)
        self.engines.add("native")
        return LeakBatch(file, first, rows, columns, np.frombuffer(exposures, dtype="<i8").astype(np.int64),
                         np.frombuffer(counts, dtype="<u4").astype(np.int64),
                         np.frombuffer(at, dtype="<u4").astype(np.int64),
                         2 * np.frombuffer(positions, dtype="<u4").astype(np.int64) + symbol, lookup[codes])


def read_leak(registry: Registry, source: Source, readings: list[KeyedReading], encoding: str | None = None,
              on_rows: OnRows | None = None) -> None:
    """Parse one leak file once, and add its anchors and observations to every key's reading.

    A file found in a folder or an archive that stops being readable midway
    keeps the rows read before (they are evidence like any other) and is
    listed with why it stopped; a file the user named fails with the error.
    """
    path, label = source.table, source.label
    if isinstance(path, Path) and not path.exists():
        raise InputError(f"{path}: file not found")
    sha, size = file_sha256(path)
    length = registry.code.length
    with open_table(path, encoding=encoding) as table:
        width = min(len(table.columns), MAX_COLUMNS)
        every = max(1, PROGRESS_CELLS // width)
        native = native_csv.takes(table)
        if native:
            head, stream = _native_head(table, width)
        else:
            rows = (row[:width] for row in table.rows()) if width < len(table.columns) else table.rows()
            head = list(islice(rows, SAMPLE_ROWS))
            stream = batches(counted(chain(head, rows), on_rows, every), LOOKUP_ROWS)
        if not head:
            raise InputError(f"{label}: no data rows")
        columns = tuple(table.columns[:width])
        schema = recognise(columns, head)
        if not schema.anchor_columns:
            raise InputError(f"{label}: no phone or identifier column recognised; nothing to match on")
        plan = mark_plan(schema, alternatives=True)
        engines = [reading.engine(plan) for reading in readings]
        if native:  # the engines read each batch on a second thread while the last one is summed in
            stream = counted_batches(read_ahead(stream, engines, length), on_rows, every)
        count, stopped = 0, ""
        try:
            for item in stream:
                batch, reads = (item.batch, item.reads) if isinstance(item, Ahead) else (item, [None] * len(engines))
                for reading, engine, read in zip(readings, engines, reads):
                    reading.add_rows(plan, engine, batch, count + 1, label, columns, length, registry, read)
                count += len(batch)
        except InputError as exc:
            if source.named:
                raise
            stopped = str(exc)
        archive = source.archive and (*source.archive, path.member)
        leak_file = LeakFile(label if archive else str(path), sha, size, count, table.ragged, schema,
                             dict(table.skipped), archive=archive, stopped=stopped, label=label,
                             columns_not_read=len(table.columns) - width)
        for reading in readings:
            reading.evidence.files.append(leak_file)


def _native_head(table, width: int) -> tuple[list[list[str]], Iterator]:
    """The first rows (as ``table.rows()`` would give them, ``width`` cells each) and every batch from the
    byte reader: the batches holding the first SAMPLE_ROWS rows are read first, so a failure before them
    is the file's, as it is when the Python reader fails within ``head``."""
    stream = native_csv.record_batches(table, LOOKUP_ROWS, keep=width)
    first, head = [], []
    for batch in stream:
        first.append(batch)
        head += batch.rows()[:SAMPLE_ROWS - len(head)]
        if len(head) >= SAMPLE_ROWS:
            break
    return head, chain(first, stream)


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
    unread: list[Unread] = []
    for source in expand(paths):
        if isinstance(source, Unread):
            unread.append(source)
            continue
        try:
            read_leak(registry, source, readings, encoding, on_rows)
        except InputError as exc:
            if source.named:
                raise
            unread.append(Unread(source.label, _without_name(str(exc), source)))
    if not readings[0].evidence.files:
        first = f": {unread[0].label}: {unread[0].reason}" if unread else ""
        raise InputError(f"no readable leak file in {', '.join(Path(p).name for p in paths)}"
                         f" ({len(unread)} left out{first})")
    share = fpr / len(readings)
    verdict = merge_verdicts([accuse(registry, r.key_id, r.key, r.evidence, share) for r in readings], fpr)
    verdict.unread = unread
    verdict.engine = "+".join(sorted(set().union(*(r.engines for r in readings))))
    return verdict


def _without_name(message: str, source: Source) -> str:
    """An error names its file first; an Unread carries the name apart."""
    for name in (source.label, source.table.name):
        if message.startswith(f"{name}: "):
            return message[len(name) + 2:]
    return message
