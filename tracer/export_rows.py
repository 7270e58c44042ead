"""An export's rows a batch at a time, from either engine, with the few rows that may take a decoy named.

Most rows of an export are only marked, written, spooled and remembered; a
row is looked at alone only when a decoy may follow it: its account seed is
under the canary rate (``wants``), or its record digest could take a shared
slot for some gap (``shared_canaries.may_take_slot``), about 2.5% of rows
together.  A ``Batch`` says which rows those are, so the exporter handles the
rest a stretch at a time (``_Exporter.run``).  The native engine computes it
all per batch (``engine/src/export_io.rs``); the Python reference computes the
same per row, and the two give the same batches (``tests/test_engine.py``).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .engine import batches
from .keys import Key
from .marks import AnchorHasher, MarkPlan, mark_row, row_anchors
from .read_ahead import mark_ahead
from .shared_canaries import GAP_SPREAD, SHARED_THRESHOLD, may_take_slot, record_digest

SLOT_BELOW = math.ceil(SHARED_THRESHOLD * GAP_SPREAD)  # a record draw under it may take a slot (exact for ints)
COLLECT_AFTER = 100_000  # container allocations between young collections while rows stream (Python's default: 700)


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """The cyclic collector's youngest generation collected every ``COLLECT_AFTER`` allocations, not 700.

    A batch holds a few thousand lists (rows and their marked copies) that die together
    when the next batch comes; collected every 700 they were traversed and promoted
    again and again (a 200k-row export: reading 1.4 -> 0.7 s, the engine's batches
    4.0 -> 2.8 s CPU).  Rows hold no cycles; what does still gets collected, later."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], COLLECT_AFTER), *threshold[1:])
    gc.freeze()  # what was made before (the imports' ~10^5 objects) is not traversed by each full collection
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@dataclass
class Batch:
    """Rows as read, their marked copies, and what the exporter needs of their anchors."""

    rows: list[list[str]]
    marked: list[list[str]] | tuple[bytes, bytes]  # the marked rows, or their UTF-8 csv and each row's start in it
    marked_cells: int
    exposures: np.ndarray  # int64: every anchor's exposure digest, row by row, phones first in a row
    counts: np.ndarray  # anchors per row
    phones: np.ndarray  # phone anchors per row (its first anchors)
    seeds: bytes  # 16 bytes a row: the account's row seed (zeros where the row has no anchor)
    candidates: list[int]  # rows that may be followed by a decoy, in order
    records: dict[int, bytes]  # each candidate's record digest (shared_canaries.record_digest)
    source: tuple | None = None  # (the byte reader's ``RecordBatch`` the rows are of, its address keys)

    def __post_init__(self):
        self.ends = np.cumsum(self.counts, dtype=np.int64)
        phone_at = np.repeat(self.ends - self.counts, self.phones)
        phone_at += np.arange(len(phone_at)) - np.repeat(np.cumsum(self.phones) - self.phones, self.phones)
        self.phone_digests = self.exposures[phone_at]
        self.phone_ends = np.concatenate(([0], np.cumsum(self.phones, dtype=np.int64)))

    def write(self, writer, start: int, stop: int) -> None:
        """Write marked rows ``start`` to ``stop``."""
        if isinstance(self.marked, list):
            writer.write_rows(self.marked[start:stop])
            return
        text, starts = self.marked
        if type(starts) is bytes:
            self.marked = text, starts = memoryview(text), np.frombuffer(starts, dtype="<u4").tolist()
        writer.write_csv(text[starts[start]:starts[stop]])

    def seed(self, i: int) -> bytes | None:
        return self.seeds[16 * i:16 * i + 16] if self.counts[i] else None

    def exposure_list(self, i: int) -> list[int]:
        """Row ``i``'s exposure digests, phones first."""
        return self.exposures[self.ends[i] - self.counts[i]:self.ends[i]].tolist()


def python_batches(rows: Iterable[list[str]], plan: MarkPlan, hasher: AnchorHasher, key: Key, bits: list[int],
                   length: int, row_seed: Callable, wants: Callable[[bytes | None], bool]) -> Iterator[Batch]:
    """The reference: each row's anchors, marks and seed as ``marks`` computes them."""
    for batch in batches(rows):
        yield python_batch(batch, plan, hasher, key, bits, length, row_seed, wants)


def python_batch(batch: list[list[str]], plan: MarkPlan, hasher: AnchorHasher, key: Key, bits: list[int],
                 length: int, row_seed: Callable, wants: Callable[[bytes | None], bool]) -> Batch:
    marked, exposures, counts, phones, seeds, candidates, records = [], [], [], [], [], [], {}
    cells = 0
    for i, row in enumerate(batch):
        anchors = row_anchors(plan, row, hasher)
        out, marked_here = mark_row(plan, row, anchors, bits, length)
        marked.append(out)
        cells += marked_here
        exposures += [a.exposure for a in anchors.all]
        counts.append(len(anchors.all))
        phones.append(len(anchors.phones))
        seed = row_seed(anchors)
        seeds.append(seed or bytes(16))
        record = record_digest(key, anchors)
        if record is not None and (wants(seed) or may_take_slot(record)):
            candidates.append(i)
            records[i] = record
    return Batch(batch, marked, cells, np.array(exposures, dtype=np.int64), np.array(counts, dtype=np.int64),
                 np.array(phones, dtype=np.int64), b"".join(seeds), candidates, records)


def native_batches(rows: Iterable[list[str]], native, bits: list[int], uid: bytes, canary_below: int,
                   reference: Callable[[list[list[str]]], Batch], csv: tuple[str, bool, str] | None = None
                   ) -> Iterator[Batch]:
    """What ``python_batches`` yields, computed by the native engine a batch at a time;
    ``reference`` makes a batch the engine cannot take (a lone surrogate has no UTF-8).
    With ``csv`` (a ``TableWriter.csv_dialect``) the marked rows come as the text the writer writes."""
    bits = bytes(bits)
    for batch in batches(rows):
        try:
            marked = native.mark(batch, bits, uid, canary_below, SLOT_BELOW, csv)
        except UnicodeEncodeError:
            yield reference(batch)
            continue
        yield _native_batch(batch, *marked)


class RecordStream:
    """An export's source rows as the byte reader's ``RecordBatch``es (``tables/native_csv.py``), of
    ``engine.BATCH_ROWS`` each: the engine marks them from its own parse, and only the rows the
    exporter keeps become Python lists."""

    def __init__(self, batches: Iterable) -> None:
        self.batches = batches

    def rows(self) -> Iterator[list[str]]:
        """The rows as lists, for the Python reference."""
        for batch in self.batches:
            yield from batch.rows()


def record_batches(stream: RecordStream, native, bits: list[int], uid: bytes, canary_below: int,
                   csv: tuple[str, bool, str] | None = None, address_columns: Sequence[int] = ()
                   ) -> Iterator[Batch]:
    """``native_batches`` of the byte reader's batches: the same Batches, no Python string per cell read,
    each batch parsed and marked on a second thread while the exporter handles the last (``read_ahead``),
    with the kind keys of its ``address_columns`` (the batch's ``source``, with the batch)."""
    for batch, marked, keys in mark_ahead(stream.batches, native, bytes(bits), uid, canary_below, SLOT_BELOW, csv,
                                          address_columns=address_columns):
        yield _native_batch(batch.rows(), *marked, source=(batch, keys))


def _native_batch(rows: list[list[str]], out, cells: int, exposures: bytes, counts: bytes, phones: bytes,
                  seeds: bytes, at: bytes, records: bytes, source=None) -> Batch:
    """A Batch of the engine's ``mark`` tuple."""
    at = np.frombuffer(at, dtype="<u4").tolist()
    return Batch(rows, out, cells, np.frombuffer(exposures, dtype="<i8"),
                 np.frombuffer(counts, dtype=np.uint8).astype(np.int64),
                 np.frombuffer(phones, dtype=np.uint8).astype(np.int64), seeds, at,
                 {i: records[16 * k:16 * k + 16] for k, i in enumerate(at)}, source)
