"""SQLite's exposure as sorted runs: one export's digests written as one run, runs merged as they accumulate.

Why: a B-tree of (digest, export_id) rows takes an export's digests at
random places, so each export rewrites about every page of the table (a
200k-row export's 530k digests into a 10^7-row table: ~180 MB of
write-ahead log, ~5 µs a digest, more as the registry grows).  A run is the
export's distinct digests sorted and cut into blocks of a quarter page
(``exposure_blocks``, keyed run << 32 | block), with the first digest of each
block and a filter (``bloom``) in the run's row: writing one costs about the
digests' own bytes, whatever the registry's size.

Runs of one level (by size: a level is ``FANOUT`` times the one below) are
merged into one when ``FANOUT`` of them accumulate, inside the export's
transaction (a crash leaves the runs as they were), by a streaming k-way
merge, so memory stays a few blocks per input.  Each digest is rewritten
once per level, a few times in all; a run of ``FINAL_ROWS`` or more is never
merged again, so no export pays for rewriting the whole registry.

A lookup asks each run's filter first (1-2% of absent digests pass), then
reads the blocks whose range holds a passing digest (the fences say which:
a search by the block's key, never a scan of the run) or, when most of the
run's blocks are wanted, the run in order.
Runs never change; a merge adds the merged run and deletes its inputs
(triggers refuse any other delete or update), so a lookup that finds a block
gone has seen a merge commit and reads again.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import RegistryError
from . import streams
from .bloom import Bloom
from .streams import EMPTY, adding_to, distinct, merge, reblock, spill, spilled

FANOUT = 4  # runs of one level merged into one
BASE_ROWS = 1 << 16  # a run below FANOUT * BASE_ROWS rows is level 0
FINAL_ROWS = 1 << 21  # a run of this level is merged no more: the largest merge, FANOUT runs below it, stays
# a few seconds; the filters keep a lookup's cost per run small, so many final runs cost little
# Blocks per page: an export's run, four (a lookup reads a block whole: a quarter page read faster than a
# page); a merged run, one (its blocks are written, and deleted by the next merge, in fewer rows).
BLOCKS_PER_PAGE = 4
MERGED_BLOCKS_PER_PAGE = 1
FETCH = 500  # block keys per IN list
# A run read whole is kept for the next lookup, up to this many bytes of runs in all: a leak's batches each
# want many blocks of the run it came from (a 200k-row leak's 2,000-row batch, about 70% of them; a 1M-row
# leak's, 23% of its export's 21 MB run), which were read again, decoded and thrown away 200 (500) times a
# match.  A run larger than this is read by its blocks, so memory stays bounded whatever the registry's size.
WHOLE_BYTES = 64 << 20
# A lookup reads a run whole rather than block by block when it wants this share of its blocks (a block
# found by its key costs about four read in order); a run that can be kept, already at a smaller share: the
# next batches of the leak want it too.  A 1M-row leak matched against its export: 12-17 s -> 6-8 s.
WHOLE_SHARE = 0.25
KEPT_SHARE = 0.1


def level_of(rows: int) -> int:
    level = 0
    while rows >= BASE_ROWS * FANOUT ** (level + 1):
        level += 1
    return level


FINAL_LEVEL = level_of(FINAL_ROWS)


@dataclass(frozen=True)
class Run:
    id: int
    level: int
    rows: int
    per_block: int
    first_export: int
    last_export: int

    @property
    def single(self) -> bool:
        """One export's run: its blocks hold no export ids."""
        return self.first_export == self.last_export

    @property
    def blocks(self) -> int:
        return -(-self.rows // self.per_block)

    @property
    def keys(self) -> tuple[int, int]:
        return self.id << 32, (self.id << 32) | 0xFFFFFFFF


class StaleRuns(Exception):
    """A block of a run read a moment ago is gone: a merge committed meanwhile."""


class ExposureRuns:
    """The runs of one registry file (``conn`` in autocommit; writes inside the caller's transaction)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._index: dict[int, tuple[np.ndarray, Bloom]] = {}  # run id -> fences, filter; ids are never reused
        self._runs: list[Run] = []
        self._ids: str | None = None
        self._whole: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # run id -> its rows (WHOLE_BYTES in all)
        self._longest: dict[int, int] = {}  # run id -> longest_repeat of its digests, for runs read whole
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        # A block's bytes: the page's share less the cell's own.
        self.budget = {True: (page - 64) // BLOCKS_PER_PAGE - 24, False: (page - 64) // MERGED_BLOCKS_PER_PAGE - 24}

    def forget(self) -> None:
        """Drop what was read of the runs: a rolled-back transaction's run id is taken again by the next."""
        self._index, self._runs, self._ids, self._whole, self._longest = {}, [], None, {}, {}

    def runs(self) -> list[Run]:
        """The runs now; read again only when their ids changed (a run never does)."""
        ids = self.conn.execute("SELECT group_concat(id) FROM exposure_runs").fetchone()[0] or ""
        if ids != self._ids:
            runs = [Run(*row) for row in self.conn.execute(
                "SELECT id, level, rows, per_block, first_export, last_export FROM exposure_runs ORDER BY id")]
            self._runs, self._ids = runs, ",".join(str(r.id) for r in runs)
            self._whole = {r.id: self._whole[r.id] for r in runs if r.id in self._whole}  # merged away: dropped
        return self._runs

    # ---- writing ----------------------------------------------------------
    def add(self, export_id: int, chunks: Iterable[Iterable[int]]) -> int:
        """Write one export's distinct digests as a run, then merge what has accumulated; how many."""
        with tempfile.TemporaryFile() as spilled_to:
            spans = spill(spilled_to, chunks)
            streams = [spilled(spilled_to, offset, n, export_id) for offset, n in spans]
            rows = self._write(merge(streams, one_export=True), export_id, export_id, sum(n for _, n in spans))
        self._compact()
        return rows

    def _write(self, pieces: Iterator[tuple[np.ndarray, np.ndarray]], first: int, last: int, expected: int) -> int:
        """Write sorted (digest, export id) pieces (about ``expected`` rows) as a new run; its row count (0: no
        run written)."""
        single = first == last
        per_block = self.budget[single] // (8 if single else 12)
        # Under the write lock; an id is never used twice: a merge deletes only runs older than its own.
        run_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM exposure_runs").fetchone()[0]
        bloom, fences, counted = Bloom.sized(expected), [], [0]

        def blocks() -> Iterator[tuple[int, bytes, bytes | None]]:
            key = run_id << 32
            for digests, exports in reblock(adding_to(bloom, pieces), per_block):
                fences.append(digests[::per_block].copy())  # a copy: a view would keep every piece alive
                counted[0] += len(digests)
                d = digests.astype("<i8").tobytes()
                e = None if single else exports.astype("<i4").tobytes()
                for start in range(0, len(digests), per_block):
                    yield key, d[8 * start:8 * (start + per_block)], e and e[4 * start:4 * (start + per_block)]
                    key += 1

        self.conn.executemany("INSERT INTO exposure_blocks(id, digests, export_ids) VALUES (?, ?, ?)", blocks())
        rows = counted[0]
        if rows:  # the run's row last: its blocks are all there before anything reads it
            fence_bytes, filter_bytes = np.concatenate(fences).astype("<i8").tobytes(), bloom.bytes()
            self.conn.execute(
                "INSERT INTO exposure_runs(id, level, rows, per_block, first_export, last_export, fences, bloom)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, zeroblob(?))",
                (run_id, level_of(rows), rows, per_block, first, last, fence_bytes, len(filter_bytes)))
            write_blob(self.conn, "exposure_runs", "bloom", run_id, filter_bytes)
        return rows

    def _compact(self) -> None:
        """Merge the runs of the lowest level that holds ``FANOUT`` of them, until none does."""
        while True:
            by_level: dict[int, list[Run]] = {}
            for run in self.runs():
                if run.level < FINAL_LEVEL:
                    by_level.setdefault(run.level, []).append(run)
            full = sorted(level for level, runs in by_level.items() if len(runs) >= FANOUT)
            if not full:
                return
            self.merge_runs(by_level[full[0]])

    def compact(self) -> tuple[int, int]:
        """Merge every run into one, final ones included (``tracer registry compact``); (runs before, rows).

        Inside the caller's write transaction, like any merge: a crash leaves the runs as they were.  A lookup
        asks every run's filter and reads each run's index once per process, so a registry of many final runs
        (10^8 digests: ~50) pays for each of them; one run pays once."""
        runs = self.runs()
        rows = sum(r.rows for r in runs)
        if len(runs) > 1 and self.merge_runs(runs) != rows:
            # runs of distinct exports never overlap: fewer rows is a damaged registry, and nothing is committed
            raise RegistryError("registry compact: the merged exposure run holds fewer digests than its inputs;"
                                " nothing was changed, run `tracer registry check`")
        return len(runs), rows

    def merge_runs(self, runs: list[Run]) -> int:
        first, last = min(r.first_export for r in runs), max(r.last_export for r in runs)
        rows = self._write(merge([self._read(run) for run in runs]), first, last, sum(r.rows for r in runs))
        for run in runs:  # the merged run holds their exports: the triggers let them go now, not before
            self.conn.execute("DELETE FROM exposure_runs WHERE id = ?", (run.id,))
            self.conn.execute("DELETE FROM exposure_blocks WHERE id BETWEEN ? AND ?", run.keys)
        return rows

    # ---- reading ----------------------------------------------------------
    def _read(self, run: Run) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The run in order, a few blocks at a time."""
        cur = self.conn.execute("SELECT digests, export_ids FROM exposure_blocks WHERE id BETWEEN ? AND ?"
                                " ORDER BY id", run.keys)
        while batch := cur.fetchmany(max(1, streams.READ_ROWS // run.per_block)):
            yield self._decode(run, batch)

    @staticmethod
    def _decode(run: Run, blocks: list[tuple[bytes, bytes | None]]) -> tuple[np.ndarray, np.ndarray]:
        digests = np.frombuffer(b"".join(b[0] for b in blocks), dtype="<i8")
        if run.single:  # one export id for every row, held once (indexing it gives a real array)
            return digests, np.broadcast_to(np.int64(run.first_export), digests.shape)
        return digests, np.frombuffer(b"".join(b[1] for b in blocks), dtype="<i4").astype(np.int64)

    def index(self, run: Run) -> tuple[np.ndarray, Bloom]:
        """The run's fences (each block's first digest) and filter, read once per process."""
        if run.id not in self._index:
            row = self.conn.execute("SELECT fences, bloom FROM exposure_runs WHERE id = ?", (run.id,)).fetchone()
            if row is None:
                raise StaleRuns
            self._index[run.id] = (np.frombuffer(row[0], dtype="<i8"), Bloom(row[1]))
        return self._index[run.id]

    def lookup(self, digests: np.ndarray, besides: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(digest, export id) of every run row holding one of ``digests`` (sorted, distinct); a run of export
        ``besides`` alone is not searched (its rows are not wanted)."""
        while True:
            try:
                runs = [run for run in self.runs() if not (run.single and run.first_export == besides)]
                found = self._lookup(runs, digests)
            except StaleRuns:
                continue
            if not found:
                return EMPTY, EMPTY
            return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])

    def holds(self, digest: int) -> bool:
        """Whether some run holds this digest: one look at each run's filter, a block read where it says maybe."""
        while True:
            try:
                maybe = [run for run in self.runs() if self.index(run)[1].may_hold_one(digest)]
                return bool(maybe) and any(len(f[0]) for f in self._lookup(maybe, np.array([digest], dtype=np.int64)))
            except StaleRuns:
                continue

    def _lookup(self, runs: list[Run], wanted: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The rows of ``runs`` holding wanted digests, run by run in the order of ``runs``: a run mostly
        wanted, or kept from an earlier lookup, is searched whole; of the others, the blocks the filters and
        fences name, in one IN list for all of them (not a query per run).  Either way gives a run's rows in
        the same order (sorted by digest), so whether a run was kept never changes an answer."""
        found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        sparse = []
        for place, run in enumerate(runs):
            fences, bloom = self.index(run)
            mine = wanted[bloom.may_hold(wanted)]
            if run.id in self._whole:  # searched whole: which blocks hold them is not asked (a tenth of a match)
                if len(mine):
                    found[place] = _matching(*self._read_whole(run), mine, self._longest.get(run.id))
                continue
            blocks = _blocks_holding(fences, mine)
            if len(blocks) and len(blocks) >= self._whole_share(run) * run.blocks:
                found[place] = _matching(*self._read_whole(run), mine, self._longest.get(run.id))
            elif len(blocks):
                sparse.append((place, run, mine, ((run.id << 32) | blocks).tolist()))
        keys = [key for *_, run_keys in sparse for key in run_keys]  # in order: runs by id, blocks sorted
        rows = []
        for start in range(0, len(keys), FETCH):
            batch = keys[start:start + FETCH]
            rows += self.conn.execute(
                f"SELECT digests, export_ids FROM exposure_blocks WHERE id IN ({','.join('?' * len(batch))})"
                " ORDER BY id", batch).fetchall()
        if len(rows) != len(keys):
            raise StaleRuns
        at = 0
        for place, run, mine, run_keys in sparse:
            found[place] = _matching(*self._decode(run, rows[at:at + len(run_keys)]), mine)  # blocks in order
            at += len(run_keys)
        return [found[place] for place in sorted(found)]

    @staticmethod
    def _whole_share(run: Run) -> float:
        """The share of a run's blocks a lookup must want to read it whole (``WHOLE_SHARE``, ``KEPT_SHARE``)."""
        return KEPT_SHARE if run.rows * (8 if run.single else 16) <= WHOLE_BYTES else WHOLE_SHARE  # as _decode holds it

    def _read_whole(self, run: Run) -> tuple[np.ndarray, np.ndarray]:
        """Every row of the run, kept for the next lookup while the runs kept stay within ``WHOLE_BYTES``
        (a run never changes; one merged away is dropped, as are the oldest kept when room is wanted)."""
        if run.id in self._whole:  # still there? (a listing made just before a merge committed is not)
            if self.conn.execute("SELECT 1 FROM exposure_runs WHERE id = ?", (run.id,)).fetchone() is None:
                del self._whole[run.id]
                raise StaleRuns
            return self._whole[run.id]
        rows = self.conn.execute("SELECT digests, export_ids FROM exposure_blocks WHERE id BETWEEN ? AND ?"
                                 " ORDER BY id", run.keys).fetchall()
        if len(rows) != run.blocks:
            raise StaleRuns
        whole = self._decode(run, rows)
        size = _bytes(whole)
        if size <= WHOLE_BYTES:
            self._longest[run.id] = longest_repeat(whole[0])
            while self._whole and sum(map(_bytes, self._whole.values())) + size > WHOLE_BYTES:
                del self._whole[next(iter(self._whole))]
            self._whole[run.id] = whole
        return whole

    def counts(self) -> dict[int, int]:
        """Export id -> digests stored for it, from the runs themselves."""
        out: dict[int, int] = {}
        for run in self.runs():
            if run.single:
                out[run.first_export] = out.get(run.first_export, 0) + run.rows
                continue
            for _, exports in self._read(run):
                ids, n = np.unique(exports, return_counts=True)
                for i, c in zip(ids.tolist(), n.tolist()):
                    out[i] = out.get(i, 0) + c
        return out

    def problems(self) -> list[str]:
        """What is wrong with the runs: order, fences, sizes (the blocks read whole)."""
        problems = []
        for run in self.runs():
            rows, firsts, previous, ordered = 0, [], None, True
            for digests, _ in self._read(run):
                if np.any(digests[1:] < digests[:-1]) or (previous is not None and len(digests)
                                                          and digests[0] < previous):
                    ordered = False
                firsts.append(digests[::run.per_block])
                previous = digests[-1] if len(digests) else previous
                rows += len(digests)
            if not ordered:
                problems.append(f"exposure run {run.id} is out of order")
            elif rows != run.rows:
                problems.append(f"exposure run {run.id} holds {rows} digests, its row says {run.rows}")
            elif not np.array_equal(np.concatenate(firsts or [EMPTY]), self.index(run)[0]):
                problems.append(f"exposure run {run.id}: its fences do not match its blocks")
        return problems

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every (digest, export id) row of every run, a few blocks at a time (a migration's copy)."""
        for run in self.runs():
            yield from self._read(run)


BLOB_CHUNK = 1 << 16  # bytes of a blob written at a time


def write_blob(conn: sqlite3.Connection, table: str, column: str, row: int, data: memoryview) -> None:
    """Fill a blob the row was inserted with as ``zeroblob(len(data))``, a chunk at a time.

    Bound as a parameter, a blob is copied by the binding and again into the row's record: a 1M-row
    export's filter (4 MB) was held four times at once, the largest part of the export's peak memory.
    Written through SQLite's incremental blob I/O, it goes to the pages as it is, inside the caller's
    transaction (no trigger sees it: the row was inserted whole, with zeros, a moment before)."""
    with conn.blobopen(table, column, row) as blob:
        for start in range(0, len(data), BLOB_CHUNK):
            blob.write(data[start:start + BLOB_CHUNK])


def _bytes(rows: tuple[np.ndarray, np.ndarray]) -> int:
    """Memory held by a run's rows (a single export's ids are one value)."""
    return sum(a.nbytes if a.strides[0] else 0 for a in rows)  # a broadcast value: stride 0


def _blocks_holding(fences: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The blocks whose range may hold a wanted digest (one equal to fences may span blocks), sorted."""
    lo = np.searchsorted(fences, wanted, "left") - 1
    hi = np.searchsorted(fences, wanted, "right") - 1
    inside = hi >= 0
    lo, hi = np.maximum(lo[inside], 0), hi[inside]
    wide = [np.arange(lo[i], hi[i] + 1) for i in np.nonzero(hi - lo > 1)[0]]
    return distinct(np.concatenate([lo, hi, *wide]))


SHORT_REPEATS = 8  # a run whose digests repeat at most this often counts each wanted one's rows by comparing


def longest_repeat(digests: np.ndarray) -> int:
    """The most rows one digest has in sorted ``digests`` (how many exports at most held one record)."""
    if not len(digests):
        return 0
    change = np.flatnonzero(digests[1:] != digests[:-1])
    return int(np.diff(np.concatenate([[-1], change, [len(digests) - 1]])).max())


def _matching(digests: np.ndarray, exports: np.ndarray, wanted: np.ndarray, longest: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """The rows of sorted ``digests`` (and their ``exports``) whose digest is wanted, every row of each.

    ``longest`` (:func:`longest_repeat` of ``digests``, when known) spares the second binary search of a
    whole run: a wanted digest's rows follow its first, so when no digest has more than a few rows their
    count is a few comparisons (a search of a run of 10^5-10^6 digests misses the cache at every step)."""
    native = _native_find(digests, wanted)
    if native is not None:
        start, count = native
    else:
        start, count = _find(digests, wanted, longest)
    at = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
    return digests[at], exports[at]


def _native_find(digests: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_find` by the native engine, galloping from one wanted digest to the next (when it runs)."""
    from .. import engine  # here: the engine's module imports the registry's users

    found = engine.native_or_none("find_sorted", np.ascontiguousarray(digests, dtype=np.int64),
                                  np.ascontiguousarray(wanted, dtype=np.int64))
    return None if found is None else (np.frombuffer(found[0], dtype="<i8"), np.frombuffer(found[1], dtype="<i8"))


def _find(digests: np.ndarray, wanted: np.ndarray, longest: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Where each wanted digest's rows start in sorted ``digests``, and how many there are (the reference)."""
    start = np.searchsorted(digests, wanted, "left")
    if longest is not None and longest <= SHORT_REPEATS:
        count = np.zeros(len(wanted), dtype=np.int64)
        for step in range(longest):
            at = np.minimum(start + step, len(digests) - 1)
            count += (digests[at] == wanted) & (start + step < len(digests))
    else:
        count = np.searchsorted(digests, wanted, "right") - start
    return start, count
