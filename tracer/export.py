"""The export pipeline: read -> recognise -> marks and canaries -> register -> atomic write.

Streaming: rows are written as they come (a canary once the row after it is
known), the last ``RECENT`` rows are kept to draw canaries from, and the
exposure digests go to a temporary spool file, so memory does not grow with
the export.  The registry entry commits before the output
file appears under its name; the file is written to a temporary name in the
same directory, fsynced and renamed.  A failure at any point leaves no output
and no registry entry; a crash between commit and rename leaves an entry never
marked as released.

Everything is deterministic per (account, record): re-exporting the same rows
for the same account gives a byte-identical file.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path

from . import code
from .canary_pool import numbers_by_kind
from .canaries import RATE, RECENT, gap_weight, takes_gap
from .canary_window import Window
from .columns import Schema, recognise
from .durable import fsync_directory
from .errors import InputError, OutputError
from .engine import BATCH_ROWS, batches, native_engine
from .keys import KeyRing
from .marks import AnchorHasher, RowAnchors, mark_plan, row_anchors
from .phone_counts import phone_counts
from .progress import OnRows, counted, counted_batches
from .registry import Account, Registry
from .export_decoys import DecoyDraws
from .export_rows import Batch, RecordStream, collecting_rarely, native_batches, python_batch, record_batches
from .spool import Rereadable, demote_colliding_canaries, drop_colliding_shared
from .tables import TableFormat, TableWriter, native_csv, open_table
from .tables.base import kind_for, skip_words, writable_kind

SAMPLE_ROWS = 200  # rows used to recognise columns
HEAD_ROWS = 5000  # rows read before writing: a smaller export is known whole
PHONE_COUNT_LIMIT = 1 << 18  # phones counted for 'this party repeats' (bounded memory)
KNOWN_LIMIT = 1 << 17  # real emails remembered, so that no canary takes one (bounded memory)
SHARED_RESERVE = 2  # decoys of room an own canary leaves for shared decoys, which never wait
MAX_OWED = 64  # canaries owed for want of room at most (the decoy rates add up to less than the cap)
MAX_DEFERRALS = 32  # gaps a canary may pass over before it takes one anyway
CANARY_THRESHOLD = int(RATE * 2**64)
DECOY_SHARE = 0.02  # all decoys together stay within this share of the rows so far (SPEC)


@dataclass(frozen=True)
class ExportResult:
    export_id: int
    account: str
    rows: int
    canaries: int  # decoy rows written: the account's own canaries and shared decoys
    marked_cells: int
    output: str
    canary_fallback: bool = False  # some canary part came from a built-in list (the export was too small to draw it)
    shared_canaries: int = 0  # ... of which shared decoys
    engine: str = "python"  # 'native' or 'python': which row engine marked it

    def as_json(self) -> dict:
        """The CLI contract's object (SPEC): ``canaries`` counts every decoy row."""
        out = asdict(self)
        del out["shared_canaries"]
        return out


@dataclass
class _Pending:
    """A canary triggered by a row, waiting for a gap to go into."""

    before: list[str]  # the row it will follow
    seed: bytes  # its keyed randomness
    draws: random.Random  # for choosing the gap (apart from the canary's own draws)
    tried: int = 0


class _Exporter(DecoyDraws):
    """One export's state, under the ring's current key: account bits, anchors, canaries, recent rows, spool."""

    def __init__(self, registry: Registry, ring: KeyRing, account: Account, schema: Schema):
        self.registry = registry
        self.key = ring.current
        self.account = account
        self.schema = schema
        self.plan = mark_plan(schema)
        self.length = registry.code.length
        self.bits = code.Code(self.key, self.length, registry.code.cutoff).codeword(account.uid).tolist()
        self.codeword = bytes(self.bits)  # the bits as the engine reads them
        self.hasher = AnchorHasher(self.key)
        # Every key's hasher: a canary's new values must be unknown under each (records exported before a rotation).
        self.ring_hashers = [self.hasher] + [AnchorHasher(k) for i, k in ring.keys.items() if i != ring.current_id]
        self.own_records: set[int] = set()  # the export's own records' exposure digests, when known whole (``run``)
        self.canaries: dict[int, int] = {}  # digest of a canary's new phone or identifier -> its space
        self.shared: dict[int, tuple[str, str, bytes]] = {}  # digest of a shared decoy's new value -> meaning
        self.shared_rows = 0
        self.recent = Window(RECENT)  # indexed as canaries are drawn from it (``canary_window``)
        self.head: list[list[str]] = []  # the first rows: what early canaries draw from, before ``recent`` fills
        self.head_window: Window | None = None  # ``head`` as a window to draw from, made at the first draw
        self.known: set[str] = set()  # real emails (lower case), never a canary's
        self.known_columns = [c.index for c in schema.columns if c.kind == "email"]
        self.fallback = False
        self.pool = numbers_by_kind(ring, registry.pool())  # canary-pool numbers by kind, opened
        self.pool_used: set[str] = set()  # pool numbers this export's canaries carry (each once)
        self.phone_counts = phone_counts(PHONE_COUNT_LIMIT, self.key.secret)  # which phones repeat in the rows so far
        self.marked_cells = 0
        self.rows = 0
        self.native = native_engine(self.key, self.plan)
        self.decoy_engine = None  # the engine that marks decoys, made at the first (``DecoyDraws.marked``)
        self.engine = "python" if self.native is None else "native"

    def row_seed(self, anchors: RowAnchors) -> bytes | None:
        """The account's keyed randomness for one record: all its anchors, in any column order.

        All of them, not the row anchor alone: a shop's phone recurs on many
        records, and a seed from it alone would put a canary after every one.
        """
        if not anchors.by_column:
            return None
        record = b"".join(sorted(a.digest[:8] for a in anchors.all))
        return self.key.digest("row", self.account.uid + record, 16)

    def wants_canary(self, seed: bytes | None) -> bool:
        return seed is not None and int.from_bytes(seed[:8], "little") < CANARY_THRESHOLD

    def remember(self, batch: Batch, start: int, stop: int) -> None:
        """Keep rows ``start`` to ``stop`` of ``batch`` among the recent ones, and count their phones (a shop's
        phone repeats): a stretch at once when neither bounded memory can fill within it, else row by row."""
        rows = batch.rows[start:stop]
        self.recent.extend(rows[-RECENT:], batch.source, max(start, stop - RECENT))
        columns = self.known_columns
        if columns and len(self.known) + len(columns) * len(rows) < KNOWN_LIMIT:
            self.known.update([row[i].strip().lower() for row in rows for i in columns])
        elif columns:
            for row in rows:
                if len(self.known) >= KNOWN_LIMIT:
                    self.known.clear()
                self.known.update(row[i].strip().lower() for i in columns)
        ends = batch.phone_ends[start:stop + 1]
        self.phone_counts.add_rows(batch.phone_digests[ends[0]:ends[-1]], ends)

    def run(self, rows: Iterator[list[str]], head_complete: bool, head: list[list[str]],
            writer: TableWriter, spool) -> int:
        """Mark and write every row; a triggered row is followed by a canary, built once its successor is known.

        Only rows that may be followed by a decoy (a batch's ``candidates``), the row after each and the rows
        a pending canary waits over are handled one by one (``step``); the stretches between are written and
        remembered whole."""
        anchors = [row_anchors(self.plan, row, self.hasher) for row in head] if head_complete else []
        # a small export is known whole: its decoys avoid all its own records, as a re-export's do (they are
        # registered by then); a larger one's are checked against the registry alone, and demoted at commit
        self.own_records = {a.exposure for row in anchors for a in row.all}
        self.forced = self._forced_canary(anchors) if head_complete else None
        self.head = head[:RECENT]
        self.decoys = 0
        self.pending: _Pending | None = None  # a canary waiting for its gap
        self.owed: deque[bytes] = deque()  # seeds of canaries triggered while no decoy had room, in order
        self.previous: tuple[list[str], bytes, list[int]] | None = None  # a candidate row, which a shared slot may follow
        for batch in self._batches(rows, writer.csv_dialect):
            spool.write(batch.exposures.astype("<i8", copy=False).tobytes())
            self.marked_cells += batch.marked_cells
            base, n = self.rows, len(batch.rows)
            events = batch.candidates + ([self.forced - base] if self.forced is not None and
                                         base <= self.forced < base + n else [])
            events = iter(sorted(set(events)) + [n])
            event = next(events)
            i = 0
            while i < n:
                stop = self.quiet_until(base, event)
                if i < stop:
                    batch.write(writer, i, stop)
                    self.remember(batch, i, stop)
                    self.rows = base + stop
                    i = stop
                    continue
                if i == event:
                    event = next(events)
                self.step(batch, i, writer)
                i += 1
        if self.previous is not None:
            self.write_shared(writer, self.previous, None)
        if self.pending is not None and self.room(self.decoys, self.rows - 1):
            writer.write_row(self.canary_after(self.pending.before, None, self.pending.seed))
            self.decoys += 1
        return self.decoys

    def step(self, batch: Batch, i: int, writer: TableWriter) -> None:
        """Row ``i`` of ``batch``: the shared decoy after the row before, a pending canary, the row itself."""
        row, index = batch.rows[i], self.rows
        pending = self.pending
        shared = self.write_shared(writer, self.previous, row) if self.previous is not None else None
        record = batch.records.get(i)
        self.previous = (row, record, batch.exposure_list(i)) if record is not None else None
        if pending is not None and shared is not None:
            pending.before = shared  # the gap's rest: the canary goes after the shared decoy, in order
        if pending is not None and self.room(self.decoys, index - 1) and self.takes(pending, row):
            writer.write_row(self.canary_after(pending.before, row, pending.seed))
            self.decoys += 1
            self.pending = pending = None
        self.remember(batch, i, i + 1)
        batch.write(writer, i, i + 1)
        self.rows = index + 1
        seed = batch.seed(i)
        if (self.wants_canary(seed) or index == self.forced) and len(self.owed) < MAX_OWED:
            self.owed.append(seed or self.key.digest("row", self.account.uid, 16))
        if pending is not None:
            pending.before = row  # not this gap: the next one is tried
            return
        if self.owed and self.room(self.decoys, index):
            seed = self.owed.popleft()
            self.pending = _Pending(row, seed, random.Random(seed + b"gap"))

    def quiet_until(self, base: int, event: int) -> int:
        """Up to which row of the batch starting at row ``base`` nothing can happen but the rows themselves:
        the next candidate ``event``, or sooner the row at which an owed canary finds room; none while a
        canary is pending or a candidate's shared slot is yet to be decided."""
        if self.pending is not None or self.previous is not None:
            return -1
        if not self.owed:
            return event
        index = max(self.rows, math.ceil((self.decoys + self.shared_rows + 1 + SHARED_RESERVE) / DECOY_SHARE) - 2)
        while not self.room(self.decoys, index):
            index += 1
        return min(event, index - base)

    def write_shared(self, writer: TableWriter, previous: tuple[list[str], bytes, list[int]],
                     after: list[str] | None) -> list[str] | None:
        """Write the shared decoy after ``previous`` (its row, record digest and exposure digests), if any;
        the decoy as drawn, which an account's own canary in the same gap is fitted after (two decoys fitted
        apart between the same two rows are out of order half the time, and may even draw the same
        identifier).  The shared decoy comes first and never depends on the account's canary."""
        decoy = self.shared_after(*previous, after)
        if decoy is None:
            return None
        writer.write_row(decoy[0])
        return decoy[1]

    def room(self, canaries: int, index: int) -> bool:
        """Whether one more canary of the account's own keeps every decoy within ``DECOY_SHARE`` of the
        rows so far (the first always has room: every export has one).  Only the account's own canaries
        wait (``owed``, placed once there is room: dropping them lost ~15% of an account's canaries where
        shared slots came close together): shared slots must be the same for every account exporting
        the records, and they never wait, so an own canary leaves ``SHARED_RESERVE`` decoys of room for
        the shared decoys still to come."""
        return canaries == 0 or canaries + self.shared_rows + 1 + SHARED_RESERVE <= DECOY_SHARE * (index + 1)

    def _batches(self, rows: Iterator[list[str]], csv: tuple[str, bool, str] | None) -> Iterator[Batch]:
        """The rows a batch at a time, from the native engine (the marked rows as ``csv`` text, when the
        writer has a ``csv_dialect``) or the Python reference."""
        def reference(batch: list[list[str]]) -> Batch:
            return python_batch(batch, self.plan, self.hasher, self.key, self.bits, self.length,
                                self.row_seed, self.wants_canary)
        if isinstance(rows, RecordStream):
            if self.native is not None:
                return record_batches(rows, self.native, self.bits, self.account.uid, CANARY_THRESHOLD, csv,
                                      [c.index for c in self.schema.columns if c.kind == "address"])
            rows = rows.rows()
        if self.native is None:
            return map(reference, batches(rows))
        return native_batches(rows, self.native, self.bits, self.account.uid, CANARY_THRESHOLD, reference, csv)

    def takes(self, pending: "_Pending", after: list[str]) -> bool:
        """Whether the pending canary goes between its row and ``after``: with a probability
        that grows with the gap (see ``canaries.gap_weight``), and surely after ``MAX_DEFERRALS`` gaps."""
        pending.tried += 1
        if pending.tried > MAX_DEFERRALS:
            return True
        return takes_gap(gap_weight(self.schema, self.recent, pending.before, after), pending.draws.random())

    def _forced_canary(self, head: list[RowAnchors]) -> int | None:
        """In an export too small for any keyed canary, the row with the smallest keyed hash gets one
        (``head``: every row's anchors)."""
        seeds = [self.row_seed(anchors) for anchors in head]
        if any(self.wants_canary(s) for s in seeds):
            return None
        ranked = [(s[:8], i) for i, s in enumerate(seeds) if s is not None]
        return min(ranked)[1] if ranked else None


class SharedRows:
    """An export's shared decoys as ``record_export`` takes them, (digest, positions, symbols, record), made
    each time they are read: not while the exposure run is written (the export's peak memory; a 1M-row
    export's 19k rows were 2.3 MB of it), and again if the registration is tried again."""

    def __init__(self, shared: dict[int, tuple[str, str, bytes]]):
        self.shared = shared

    def __iter__(self):
        return ((digest, *meaning) for digest, meaning in self.shared.items())


def _read_head(table, on_rows: OnRows | None) -> tuple[list[list[str]], Iterator[list[str]] | RecordStream]:
    """The first HEAD_ROWS rows, and every row (counted for progress): a UTF-8 CSV's as the byte reader's
    batches (``tables/native_csv.py``), any other table's as ``table.rows()`` gives them."""
    if not native_csv.takes(table):
        rows = table.rows()
        head = list(islice(rows, HEAD_ROWS))
        return head, counted(chain(head, rows), on_rows)
    stream = native_csv.record_batches(table, BATCH_ROWS)
    first: list = []
    head: list[list[str]] = []
    for batch in stream:
        first.append(batch)
        head += batch.rows()[:HEAD_ROWS - len(head)]
        if len(head) >= HEAD_ROWS:
            break
    return head, RecordStream(counted_batches(chain(first, stream), on_rows))


def _output_format(source_format: TableFormat, source: Path, output: Path) -> TableFormat:
    """The source's own format when the output has the same suffix; else that suffix's defaults."""
    kind = kind_for(output)
    if source.suffix.lower() == output.suffix.lower():
        return source_format
    delimiter = "\t" if output.suffix.lower() == ".tsv" else ","
    return TableFormat(kind=kind, encoding="utf-8", delimiter=delimiter, lineterminator="\n")


def export_table(registry: Registry, ring: KeyRing, account_name: str, source: Path, output: Path,
                 on_rows: OnRows | None = None) -> ExportResult:
    """Export ``source`` for ``account_name`` to ``output`` with the ring's current key: marked, with
    canaries, registered."""
    registry.verify_ring(ring)
    account = registry.account(account_name)
    source, output = Path(source), Path(output)
    if output.exists() and source.exists() and output.resolve() == source.resolve():
        raise OutputError(f"{output}: the output would overwrite the source")
    writable_kind(output)
    return _export(registry, ring, account, source, output, on_rows)


def _export(registry: Registry, ring: KeyRing, account: Account, source: Path, output: Path,
            on_rows: OnRows | None) -> ExportResult:
    with open_table(source) as table:
        head, rows = _read_head(table, on_rows)
        if not head:
            raise InputError(f"{source.name}: no data rows")
        head_complete = len(head) < HEAD_ROWS
        schema = recognise(table.columns, head[:SAMPLE_ROWS])
        if not schema.anchor_columns:
            raise InputError(f"{source.name}: no phone or identifier column found; tracer cannot mark this table")
        out_format = _output_format(table.format, source, output)
        exporter = _Exporter(registry, ring, account, schema)
        directory = output.parent if str(output.parent) else Path(".")
        if not directory.is_dir():
            raise OutputError(f"{output}: directory {directory} does not exist")
        try:
            fd, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=directory)
        except OSError as exc:
            raise OutputError(f"{output}: cannot write there ({exc.strerror})") from None
        os.close(fd)
        temp = Path(temp_name)
        try:
            with tempfile.TemporaryFile() as spool:
                try:
                    with TableWriter(temp, out_format, table.columns) as writer, collecting_rarely():
                        canaries = exporter.run(rows, head_complete, head, writer, spool)
                except OSError as exc:
                    raise OutputError(f"{output}: cannot write ({exc.strerror})") from None
                if table.ragged:
                    raise InputError(f"{source.name}: {table.ragged} rows have the wrong number of cells")
                if table.skipped:  # an export must carry every source row: nothing may be dropped
                    cause, count = next(iter(table.skipped.items()))
                    raise InputError(f"{source.name}: {skip_words(cause, count)}; not exported")
                demote_colliding_canaries(exporter.canaries, spool)
                drop_colliding_shared(exporter.shared, spool)
                entry = registry.record_export(
                    account,
                    ring.current_id,
                    ring.current,
                    source=source.name,
                    output=output.name,
                    rows=exporter.rows,
                    marked_cells=exporter.marked_cells,
                    exposure=Rereadable(spool),
                    canary_rows=canaries + exporter.shared_rows,  # every decoy row the file holds
                    canaries=exporter.canaries,
                    shared=SharedRows(exporter.shared),
                )
            try:
                os.replace(temp, output)
                fsync_directory(directory)
            except OSError as exc:
                raise OutputError(f"{output}: cannot write ({exc.strerror})") from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    registry.mark_released(entry.id)
    return ExportResult(entry.id, account.name, exporter.rows, canaries + exporter.shared_rows,
                        exporter.marked_cells, str(output), canary_fallback=exporter.fallback,
                        shared_canaries=exporter.shared_rows, engine=exporter.engine)
