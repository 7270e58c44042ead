"""SQLite's exposure as sorted runs: one export's digests written as one run, runs merged as they accumulate.

Why: a B-tree of (digest, export_id) rows takes an export's digests at
random places, so each export rewrites about every page of the table (a
200k-row export's 530k digests into a 10^7-row table: ~180 MB of
write-ahead log, ~5 µs a digest, more as the registry grows).  A run is the
export's distinct digests sorted and cut into blocks of one page each
(``exposure_blocks``, keyed run << 32 | block), with the first digest of each
block in the run's row (``exposure_runs.fences``): writing one costs the
digests' own bytes, whatever the registry's size.

Runs of one level (by size: a level is ``FANOUT`` times the one below) are
merged into one when ``FANOUT`` of them accumulate, inside the export's
transaction (a crash leaves the runs as they were), by a streaming k-way
merge, so memory stays a few blocks per input.  Each digest is rewritten
once per level, a few times in all; a run of ``FINAL_ROWS`` or more is never
merged again, so no export pays for rewriting the whole registry.

A lookup reads, in each run, the blocks whose range holds a wanted digest
(the fences say which: an index search by the block's key, never a scan of
the run) or, when most of the run's blocks are wanted, the run in order.
Runs never change; a merge adds the merged run and deletes its inputs
(triggers refuse any other delete or update), so a lookup that finds a block
gone has seen a merge commit and reads again.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

FANOUT = 4  # runs of one level merged into one
BASE_ROWS = 1 << 16  # a run below FANOUT * BASE_ROWS rows is level 0
FINAL_ROWS = 1 << 21  # a run of this level is merged no more: the largest merge, FANOUT runs below it, stays
# a few seconds; the filters keep a lookup's cost per run small, so many final runs cost little
BLOCK_BYTES = int(__import__("os").environ.get("TRACER_BLOCK_BYTES", 1024))
FETCH = 500  # block keys per IN list
READ_ROWS = 1 << 15  # digests a merge input holds in memory at a time
BLOOM_BITS = 12  # at least this many filter bits per digest (a power of two of words in all): ~2% false positives
EMPTY = np.empty(0, dtype=np.int64)


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


class Bloom:
    """A run's filter: which digests it may hold (a blocked Bloom filter: one 64-bit word per digest, three bits
    in it).  Digests are keyed hashes, uniform already: the word is the digest's top bits, the three bits its
    low bits, no further hashing; sorted digests set their words in order, so building it is a few passes."""

    def __init__(self, words: bytes | np.ndarray):
        self.words = np.frombuffer(words, dtype="<u8") if isinstance(words, bytes) else words
        native = words if sys.byteorder == "little" or not isinstance(words, bytes) else self.words.byteswap().tobytes()
        self.raw = memoryview(native).cast("Q") if isinstance(words, bytes) else None  # for ``may_hold_one``
        self.shift = 65 - len(self.words).bit_length()  # 64 - log2(words)

    @classmethod
    def sized(cls, rows: int) -> "Bloom":
        return cls(np.zeros(1 << max(0, (rows * BLOOM_BITS // 64).bit_length()), dtype="<u8"))

    def _at(self, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = digests.view(np.uint64)
        one, six = np.uint64(1), np.uint64(63)
        masks = (one << (u & six)) | (one << ((u >> np.uint64(6)) & six)) | (one << ((u >> np.uint64(12)) & six))
        return (u >> np.uint64(self.shift)) if self.shift < 64 else np.zeros(len(u), np.uint64), masks

    def add(self, digests: np.ndarray) -> None:
        """Add sorted digests."""
        if not len(digests):
            return
        words, masks = self._at(digests)
        starts = np.flatnonzero(np.diff(words)) + 1
        starts = np.concatenate([[0], starts])
        self.words[words[starts]] |= np.bitwise_or.reduceat(masks, starts)

    def may_hold(self, digests: np.ndarray) -> np.ndarray:
        words, masks = self._at(digests)
        return (self.words[words] & masks) == masks

    def may_hold_one(self, digest: int) -> bool:
        """The same for one digest, in plain integers (a canary's check: numpy's overhead would dominate)."""
        u = digest & 0xFFFFFFFFFFFFFFFF
        mask = (1 << (u & 63)) | (1 << ((u >> 6) & 63)) | (1 << ((u >> 12) & 63))
        return self.raw[u >> self.shift if self.shift < 64 else 0] & mask == mask

    def tobytes(self) -> bytes:
        return self.words.tobytes()


class StaleRuns(Exception):
    """A block of a run read a moment ago is gone: a merge committed meanwhile."""


class ExposureRuns:
    """The runs of one registry file (``conn`` in autocommit; writes inside the caller's transaction)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._index: dict[int, tuple[np.ndarray, Bloom]] = {}  # run id -> fences, filter; ids are never reused
        self._runs: list[Run] = []
        self._ids: str | None = None
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        self.budget = min(BLOCK_BYTES, page - 200)  # a block's bytes: no more than a page

    def runs(self) -> list[Run]:
        """The runs now; read again only when their ids changed (a run never does)."""
        ids = self.conn.execute("SELECT group_concat(id) FROM exposure_runs").fetchone()[0] or ""
        if ids != self._ids:
            runs = [Run(*row) for row in self.conn.execute(
                "SELECT id, level, rows, per_block, first_export, last_export FROM exposure_runs ORDER BY id")]
            self._runs, self._ids = runs, ",".join(str(r.id) for r in runs)
        return self._runs

    # ---- writing ----------------------------------------------------------
    def add(self, export_id: int, chunks: Iterable[Iterable[int]]) -> int:
        """Write one export's distinct digests as a run, then merge what has accumulated; how many."""
        with tempfile.TemporaryFile() as spill:
            spans = _spill(spill, chunks)
            streams = [_spilled(spill, offset, n, export_id) for offset, n in spans]
            rows = self._write(merge(streams, one_export=True), export_id, export_id, sum(n for _, n in spans))
        self._compact()
        return rows

    def _write(self, pieces: Iterator[tuple[np.ndarray, np.ndarray]], first: int, last: int, expected: int) -> int:
        """Write sorted (digest, export id) pieces (about ``expected`` rows) as a new run; its row count (0: no
        run written)."""
        single = first == last
        per_block = self.budget // (8 if single else 12)
        # Under the write lock; an id is never used twice: a merge deletes only runs older than its own.
        run_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM exposure_runs").fetchone()[0]
        base, rows, fences, block = run_id << 32, 0, [], 0
        bloom = Bloom.sized(expected)
        for digests, exports in _reblock(_adding_to(bloom, pieces), per_block):
            fences.append(digests[:1])
            ids = None if single else exports.astype("<i4").tobytes()
            self.conn.execute("INSERT INTO exposure_blocks(id, digests, export_ids) VALUES (?, ?, ?)",
                              (base | block, digests.astype("<i8").tobytes(), ids))
            rows += len(digests)
            block += 1
        if rows:  # the run's row last: its blocks are all there before anything reads it
            fence_bytes = np.concatenate(fences).astype("<i8").tobytes()
            self.conn.execute(
                "INSERT INTO exposure_runs(id, level, rows, per_block, first_export, last_export, fences, bloom)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, level_of(rows), rows, per_block, first, last, fence_bytes, bloom.tobytes()))
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
        while batch := cur.fetchmany(max(1, READ_ROWS // run.per_block)):
            yield self._decode(run, batch)

    @staticmethod
    def _decode(run: Run, blocks: list[tuple[bytes, bytes | None]]) -> tuple[np.ndarray, np.ndarray]:
        digests = np.frombuffer(b"".join(b[0] for b in blocks), dtype="<i8")
        if run.single:
            return digests, np.full(len(digests), run.first_export, dtype=np.int64)
        return digests, np.frombuffer(b"".join(b[1] for b in blocks), dtype="<i4").astype(np.int64)

    def index(self, run: Run) -> tuple[np.ndarray, Bloom]:
        """The run's fences (each block's first digest) and filter, read once per process."""
        if run.id not in self._index:
            row = self.conn.execute("SELECT fences, bloom FROM exposure_runs WHERE id = ?", (run.id,)).fetchone()
            if row is None:
                raise StaleRuns
            self._index[run.id] = (np.frombuffer(row[0], dtype="<i8"), Bloom(row[1]))
        return self._index[run.id]

    def lookup(self, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(digest, export id) of every run row holding one of ``digests`` (sorted, distinct)."""
        while True:
            try:
                found = [self._probe(run, digests) for run in self.runs()]
            except StaleRuns:
                continue
            if not found:
                return EMPTY, EMPTY
            return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])

    def holds(self, digest: int) -> bool:
        """Whether some run holds this digest: one look at each run's filter, a block read where it says maybe."""
        while True:
            try:
                return any(self.index(run)[1].may_hold_one(digest) and len(self._probe(run, np.array([digest]))[0])
                           for run in self.runs())
            except StaleRuns:
                continue

    def _probe(self, run: Run, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fences, bloom = self.index(run)
        wanted = wanted[bloom.may_hold(wanted)]
        lo = np.searchsorted(fences, wanted, "left") - 1
        hi = np.searchsorted(fences, wanted, "right") - 1  # a digest equal to fences may span blocks
        inside = hi >= 0
        lo, hi = np.maximum(lo[inside], 0), hi[inside]
        if not len(hi):
            return EMPTY, EMPTY
        blocks = np.union1d(lo, hi)
        for i in np.nonzero(hi - lo > 1)[0]:
            blocks = np.union1d(blocks, np.arange(lo[i], hi[i] + 1))
        if len(blocks) * 4 >= run.blocks:  # most of the run: read it in order
            rows = self.conn.execute("SELECT digests, export_ids FROM exposure_blocks WHERE id BETWEEN ? AND ?"
                                     " ORDER BY id", run.keys).fetchall()
            expected = run.blocks
        else:
            keys = ((run.id << 32) | blocks).tolist()
            rows = []
            for start in range(0, len(keys), FETCH):
                batch = keys[start:start + FETCH]
                rows += self.conn.execute(
                    f"SELECT digests, export_ids FROM exposure_blocks WHERE id IN ({','.join('?' * len(batch))})"
                    " ORDER BY id", batch).fetchall()
            expected = len(keys)
        if len(rows) != expected:
            raise StaleRuns
        digests, exports = self._decode(run, rows)  # the blocks in order: sorted
        start = np.searchsorted(digests, wanted, "left")
        count = np.searchsorted(digests, wanted, "right") - start
        at = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
        return digests[at], exports[at]

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
                if len(digests) and (np.any(digests[1:] < digests[:-1]) or (previous is not None and digests[0] < previous)):
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


# ---- sorted streams -----------------------------------------------------------
def distinct(digests: np.ndarray, merging: bool = False) -> np.ndarray:
    """Sorted, each once (a sort and a mask: several times faster than ``np.unique`` on 64-bit hashes).
    ``merging``: the input is a few sorted runs end to end, which a stable sort (timsort) merges."""
    digests = np.sort(digests, kind="stable" if merging else None)
    if len(digests) < 2:
        return digests
    keep = np.empty(len(digests), dtype=bool)
    keep[0] = True
    np.not_equal(digests[1:], digests[:-1], out=keep[1:])
    return digests[keep]


def _spill(spill, chunks: Iterable[Iterable[int]]) -> list[tuple[int, int]]:
    """Each chunk sorted and distinct into a temporary file: (offset, digests) of each."""
    spans = []
    for chunk in chunks:
        digests = distinct(np.asarray(chunk, dtype=np.int64))
        if len(digests):
            spans.append((spill.tell(), len(digests)))
            spill.write(digests.astype("<i8").tobytes())
    return spans


def _spilled(spill, offset: int, n: int, export_id: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One spilled chunk, a piece at a time."""
    for start in range(0, n, READ_ROWS):
        spill.seek(offset + 8 * start)
        digests = np.frombuffer(spill.read(8 * min(READ_ROWS, n - start)), dtype="<i8")
        yield digests, np.full(len(digests), export_id, dtype=np.int64)


def merge(streams: list[Iterator[tuple[np.ndarray, np.ndarray]]], one_export: bool = False
          ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """K-way merge of streams sorted by (digest, export id), each a piece at a time; equal rows once.

    Each round emits every held row below the smallest last digest among the
    streams that have more to come, then reads the next piece of that
    stream: what is emitted is below anything still unread, and memory stays
    about one piece per stream.
    """
    if not streams:
        return
    held = [(EMPTY, EMPTY)] * len(streams)
    more = [True] * len(streams)

    def pull(i: int) -> None:
        piece = next(streams[i], None)
        if piece is None:
            more[i] = False
        else:
            held[i] = (np.concatenate([held[i][0], piece[0]]), np.concatenate([held[i][1], piece[1]]))

    for i in range(len(streams)):
        pull(i)
    while True:
        open_ = [i for i in range(len(streams)) if more[i]]
        bound = min((held[i][0][-1] if len(held[i][0]) else np.iinfo(np.int64).min for i in open_), default=None)
        out_d, out_e = [], []
        for i, (d, e) in enumerate(held):
            cut = len(d) if bound is None else int(np.searchsorted(d, bound, "left"))
            out_d.append(d[:cut])
            out_e.append(e[:cut])
            held[i] = (d[cut:], e[cut:])
        digests, exports = np.concatenate(out_d), np.concatenate(out_e)
        if len(digests) and one_export:  # every row the same export's: the digests alone order them
            digests = distinct(digests, merging=True)
            yield digests, np.full(len(digests), exports[0], dtype=np.int64)
        elif len(digests):
            order = np.lexsort((exports, digests))
            digests, exports = digests[order], exports[order]
            keep = np.ones(len(digests), dtype=bool)
            keep[1:] = (digests[1:] != digests[:-1]) | (exports[1:] != exports[:-1])
            yield digests[keep], exports[keep]
        if bound is None:
            return
        lowest = min(open_, key=lambda i: held[i][0][-1] if len(held[i][0]) else np.iinfo(np.int64).min)
        pull(lowest)


def _adding_to(bloom: Bloom, pieces: Iterator[tuple[np.ndarray, np.ndarray]]
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for digests, exports in pieces:
        bloom.add(digests)
        yield digests, exports


def _reblock(pieces: Iterator[tuple[np.ndarray, np.ndarray]], per_block: int
             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Sorted pieces of any size as blocks of ``per_block`` rows (the last one shorter)."""
    held_d, held_e = EMPTY, EMPTY
    for digests, exports in pieces:
        held_d, held_e = np.concatenate([held_d, digests]), np.concatenate([held_e, exports])
        full = len(held_d) // per_block * per_block
        for start in range(0, full, per_block):
            yield held_d[start:start + per_block], held_e[start:start + per_block]
        held_d, held_e = held_d[full:], held_e[full:]
    if len(held_d):
        yield held_d, held_e
