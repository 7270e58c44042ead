"""What a leak shows, summed as it streams: memory stays flat however many rows.

The accusation never needs a leaked row once the row has been looked up.  It
needs, for every *receiver group* (the set of accounts that received one
leaked record, see :func:`receivers_of`) and every *stream* (one mark channel
of one column of one leak file):

- which (code position, symbol) pairs were read there: at most two per
  position, so a group's marks are bounded by the code length, not the leak;
- how many rows the group holds, and per stream how many symbols were read and
  how many were ones (a channel a cleaning made uniform is erased);
- per (account, export) how many real records of the leak that export held;
- the canary values found, with the row that showed each (for the report);
- the shared decoys found (see ``shared_canaries``): each one's code symbols
  go to the receiver group of the record its slot follows, apart from the
  marks (a cleaning can leave marks read with wrong symbols, and those must
  not drown what the decoys show); its row is not read for marks.

Rows are taken in batches of ``LOOKUP_ROWS`` (a ``leak_batch.LeakBatch`` of
arrays, whichever engine read them): their anchors are looked up in the
registry together, the batch is summed in with numpy, a loop per distinct
receiver group and stream rather than per row, and dropped.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .canary_pool import POOL_SPACE
from .channels import ALL_SLOTS
from .leak_batch import (FirstSeen, LeakBatch, contains, distinct_pairs, row_intersections,
                         same_sets)
from .registry.streams import distinct
from .leak_file import LeakFile
from .registry import Registry
from .shared_meaning import decode_meaning

LOOKUP_ROWS = 2000  # rows whose anchors are looked up in the registry together
COMPACT_AT = 1 << 14  # codes buffered per (group, stream) before they are made distinct


@dataclass(frozen=True)
class CanaryHit:
    digest: int
    export_id: int
    file: str
    row_number: int  # 1-based data row in the leak file
    row: tuple[str, ...]
    columns: tuple[str, ...]
    space: int  # how many values the canary value was drawn from


@dataclass(frozen=True)
class PoolHit:
    """A canary-pool number in the leak: which exports' canaries carried it (evidence, no p-value)."""

    digest: int  # the number's anchor digest
    file: str
    row_number: int
    cells: tuple[str, ...]  # the leaked row: its names tell which account's canary it was
    export_ids: frozenset[int]


class MarkCodes:
    """The distinct (position, symbol) pairs read in one stream of one receiver group.

    Each pair is the integer ``2 * position + symbol``.  New codes are
    buffered (a batch's array at a time) and made distinct once the buffer
    reaches ``COMPACT_AT`` codes or the size of what is kept (so sorting stays
    ``n log n`` over the leak); what is kept never exceeds twice the code
    length, whatever the leak's size.  A stream whose distinct codes, as
    int64, take as many bytes as a bitmap of every code value up to the
    largest keeps that bitmap instead: a batch's codes are then set in it,
    with no sort (the sorts of a 200k-row leak's streams were a tenth of its
    main thread)."""

    __slots__ = ("distinct", "buffer", "buffered", "dense")

    def __init__(self) -> None:
        self.distinct = np.zeros(0, dtype=np.int64)
        self.buffer: list[np.ndarray] = []
        self.buffered = 0
        self.dense: np.ndarray | None = None  # the bitmap, once there is one

    def add(self, codes: np.ndarray) -> None:
        if self.dense is not None:
            self._set(codes)
            return
        # a slice of a batch's array is copied: held as a view, it kept the whole batch's codes alive until
        # the next compaction (25 MB of a 1M-row match)
        self.buffer.append(codes if codes.base is None else codes.copy())
        self.buffered += len(codes)
        if self.buffered >= max(COMPACT_AT, len(self.distinct)):
            self.compact()
            if len(self.distinct) and 8 * len(self.distinct) >= int(self.distinct[-1]) + 1:
                self.dense = np.zeros(0, dtype=bool)  # no larger than the array it replaces
                self._set(self.distinct)

    def _set(self, codes: np.ndarray) -> None:
        if not len(codes):
            return
        top = int(codes.max()) + 1
        if top > len(self.dense):
            grown = np.zeros(max(top, 2 * len(self.dense)), dtype=bool)
            grown[:len(self.dense)] = self.dense
            self.dense = grown
        self.dense[codes] = True
        self.distinct = None  # made again when asked

    def compact(self) -> np.ndarray:
        if self.dense is not None:
            if self.distinct is None:
                self.distinct = np.flatnonzero(self.dense).astype(np.int64, copy=False)
            return self.distinct
        if self.buffer:
            self.distinct = distinct(np.concatenate([self.distinct, *self.buffer]))
            self.buffer, self.buffered = [], 0
        return self.distinct


def consistent_positions(positions: np.ndarray, symbols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One symbol per position: positions read with disagreeing symbols are dropped."""
    if len(positions) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8)
    unique, inverse = np.unique(positions, return_inverse=True)
    low = np.full(len(unique), 2, dtype=np.int8)
    high = np.full(len(unique), -1, dtype=np.int8)
    np.minimum.at(low, inverse, symbols)
    np.maximum.at(high, inverse, symbols)
    keep = low == high
    return unique[keep], low[keep]


# Slots whose variants a rounding cleaning rewrites at random, by name (see MarkSlot.ROUNDABLE).
ROUNDABLE = {slot.NAME: slot for slot in ALL_SLOTS if slot.ROUNDABLE}


def erased_streams(readings: Sequence[int] | np.ndarray, ones: Sequence[int] | np.ndarray, min_symbols: int,
                   minority: float, alpha: float) -> np.ndarray:
    """Streams whose symbols a cleaning made uniform: at least ``min_symbols`` read, the rarer symbol
    below ``minority`` of them, and so few that marks left alone (each symbol a fair coin's, whichever
    account's codeword bit it is) give so uniform a stream with chance below ``alpha`` over all the
    streams judged (Bonferroni).  Without that last test, a small leak's stream of 8 readings was
    judged erased one time in 128 (all 8 alike), and a leak of a few dozen rows reads dozens of streams."""
    readings, ones = np.asarray(readings, dtype=np.int64), np.asarray(ones, dtype=np.int64)
    rarer = np.minimum(ones, readings - ones)
    judged = readings >= min_symbols
    uniform = np.flatnonzero(judged & (rarer < minority * readings))
    bound = alpha / max(1, int(judged.sum()))
    return np.array([i for i in uniform.tolist() if uniform_chance(int(readings[i]), int(rarer[i])) < bound],
                    dtype=np.int64)


def uniform_chance(n: int, rarer: int) -> float:
    """The chance that ``n`` fair coins show the rarer face at most ``rarer`` times (both faces counted).

    Summed from ``rarer`` down, each term ``k / (n - k + 1)`` of the one above: below ``n / 2`` the terms
    fall at least that fast, so a stream of a million readings costs a few dozen terms, not ``rarer``."""
    if 2 * rarer >= n:
        return 1.0
    top = math.lgamma(n + 1) - math.lgamma(rarer + 1) - math.lgamma(n - rarer + 1) - n * math.log(2)
    total, term = 0.0, 1.0
    for k in range(rarer, -1, -1):
        total += term
        term *= k / (n - k + 1)
        if term < 1e-17 * total:
            break
    return min(1.0, 2 * math.exp(top) * total)


def receivers_of(digests: Iterable[int], holders: dict[int, frozenset[int]]) -> frozenset[int]:
    """The accounts that received this very record.

    An account received a row when every anchor of the row that the registry
    knows (its phones, its identifier; a canary's new phone) was in one of
    that account's exports.  A shop's phone alone is in almost every export:
    counting a row for every account that received *some* anchor would score
    an insider's few rows among everyone else's.  This looks at exposure only,
    never at codewords, so the null hypothesis is untouched.
    """
    known = [holders[d] for d in digests if d in holders]
    return frozenset.intersection(*known) if known else frozenset()


@dataclass
class Evidence:
    """What a set of leak files shows, before any account is scored."""

    files: list[LeakFile] = field(default_factory=list)
    rows: int = 0
    anchor_values: int = 0  # phone and identifier cells examined: trials for a chance canary match
    stream_names: dict[tuple, int] = field(default_factory=dict)  # (file, column, slot, anchor column) ->
    readings: list[int] = field(default_factory=list)  # per stream, symbols read in rows some account received
    ones: list[int] = field(default_factory=list)  # ... and how many of them were 1
    # per stream of a roundable slot: whether some cell read is not coarse (only whether, never how many, is
    # asked: so once one is found, no later cell of the stream is looked at)
    fine: list[bool] = field(default_factory=list)
    roundable: list = field(default_factory=list)  # per stream: (column, slot) when its slot is roundable, else None
    marks: dict[frozenset[int], dict[int, MarkCodes]] = field(default_factory=dict)  # group -> stream ->
    group_rows: Counter = field(default_factory=Counter)  # receiver group -> leaked rows
    records: Counter = field(default_factory=Counter)  # (account, export) -> real records of the leak it held
    canary_hits: dict[int, CanaryHit] = field(default_factory=dict)  # digest -> first hit
    pool_hits: dict[int, PoolHit] = field(default_factory=dict)  # digest -> where a pool number was found
    owner: dict[int, int] = field(default_factory=dict)  # export -> account
    shared_groups: dict[frozenset[int], set] = field(default_factory=dict)  # receiver group -> slots' symbols found
    shared_marks: dict[frozenset[int], MarkCodes] = field(default_factory=dict)  # receiver group -> their codes
    shared_seen: set[int] = field(default_factory=set)  # shared decoy digests already counted

    def stream(self, name: tuple) -> int:
        index = self.stream_names.get(name)
        if index is None:
            index = self.stream_names[name] = len(self.stream_names)
            self.readings.append(0)
            self.ones.append(0)
            self.fine.append(False)
            slot = ROUNDABLE.get(name[2])
            self.roundable.append(None if slot is None else (name[1], slot))
        return index

    # ---- summing rows in ------------------------------------------------
    def absorb(self, registry: Registry, batch: LeakBatch, key_id: int) -> None:
        """Look a batch of rows up among the exports made with ``key_id``, and sum it in."""
        self.rows += batch.size
        self.anchor_values += len(batch.digests)
        if not len(batch.digests):
            return
        anchor_rows = batch.anchor_rows
        # each anchor as its index into the batch's distinct digests: a search runs over those (sorted) only
        looked_up, first, inverse = np.unique(batch.digests, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        first_seen = FirstSeen(batch, looked_up, anchor_rows[first])
        exposed_digests, exposed_exports = registry.exposure_arrays(looked_up, key_id)
        canaries = self._canaries_in(registry, first_seen, looked_up, key_id)
        self._learn_owners(registry, set(distinct(exposed_exports).tolist()) | {e for e, _ in canaries.values()})
        exposed = distinct(exposed_digests)
        shared = self._shared_in(registry, first_seen, exposed, canaries, key_id)
        # a shared decoy's row: its symbols are counted, its cells are no mark evidence
        decoy_rows = np.zeros(batch.size, dtype=bool)
        decoy_rows[anchor_rows[contains(np.array(sorted(shared), dtype=np.int64), looked_up)[inverse]]] = True
        canary_digests = np.array(sorted(canaries), dtype=np.int64)
        holder_digests = np.concatenate([exposed_digests, canary_digests])
        holder_accounts = self._owners_of(np.concatenate(
            [exposed_exports, np.array([canaries[d][0] for d in canary_digests.tolist()], dtype=np.int64)]))
        group_of_row, groups = _rows_sets(looked_up, inverse, anchor_rows, batch.size,
                                          *distinct_pairs(holder_digests, holder_accounts))
        group_of_row[decoy_rows] = -1
        self._add_rows(batch, group_of_row, groups)
        canary_rows = np.zeros(batch.size, dtype=bool)
        canary_rows[anchor_rows[contains(canary_digests, looked_up)[inverse]]] = True
        # canary rows are counted apart; rows some account received held records of their exports
        exports_of_row, export_sets = _rows_sets(looked_up, inverse, anchor_rows, batch.size,
                                                 *distinct_pairs(exposed_digests, exposed_exports))
        exports_of_row[(group_of_row < 0) | canary_rows] = -1
        for index, n in enumerate(np.bincount(exports_of_row[exports_of_row >= 0], minlength=len(export_sets))):
            for export_id in export_sets[index] if n else ():
                self.records[(self.owner[export_id], export_id)] += int(n)

    def _owners_of(self, export_ids: np.ndarray) -> np.ndarray:
        """The account of each export (all learnt)."""
        exports, inverse = np.unique(export_ids, return_inverse=True)
        return np.array([self.owner[e] for e in exports.tolist()], dtype=np.int64)[inverse.reshape(-1)]

    def _canaries_in(self, registry: Registry, first_seen: FirstSeen, wanted: np.ndarray, key_id: int
                     ) -> dict[int, tuple[int, int]]:
        """Canary values among the batch's anchors: digest -> (export, space); new ones are kept as hits.

        A canary value counts only when it was drawn at random from a known
        space (a new phone, a fresh identifier), so a chance match can be
        bounded; a fitted sequential identifier is no evidence.
        """
        found = {}
        for digest, export_id, space in registry.canaries_of(wanted, key_id):
            if space == POOL_SPACE:
                row, seen = first_seen[digest], self.pool_hits.get(digest)
                self.pool_hits[digest] = PoolHit(digest, row.file, row.number, tuple(row.cells),
                                                 (seen.export_ids if seen else frozenset()) | {export_id})
            if space <= 0:
                continue
            found[digest] = (export_id, space)
            if digest not in self.canary_hits:
                row = first_seen[digest]
                self.canary_hits[digest] = CanaryHit(digest, export_id, row.file, row.number, row.cells,
                                                     row.columns, space)
        return found

    def _shared_in(self, registry: Registry, first_seen: FirstSeen, exposed: np.ndarray, canaries: dict,
                   key_id: int) -> set[int]:
        """Shared decoys among the batch's anchors; each new one's symbols are summed in. Returns their digests.

        A value that is also a real record's (``exposed``, sorted) or a canary's is
        no shared decoy (a collision, which the exporter avoids but cannot rule out
        later).  The symbols count for the accounts that received the record the
        slot follows (exposure, never codewords), whatever version they were given.
        """
        meanings: dict[int, set] = defaultdict(set)
        decoys = registry.shared_decoys_of(first_seen.distinct, key_id)
        real = contains(exposed, np.array([row[0] for row in decoys], dtype=np.int64)).tolist()
        for (digest, positions, symbols, record), collision in zip(decoys, real):
            if not collision and digest not in canaries:
                meanings[digest].add((positions, symbols, record))
        found = {d for d, m in meanings.items() if len(m) == 1}
        # only a decoy not seen before is decoded: one seen in an earlier batch was summed in then
        new = {d: decode_meaning(*next(iter(meanings[d]))) for d in found if d not in self.shared_seen}
        if new:
            records = {a for _, record in new.values() for a in record}
            record_exposure: dict[int, set[int]] = defaultdict(set)
            for digest, export_id in registry.exposure_of(records, key_id):
                record_exposure[digest].add(export_id)
            self._learn_owners(registry, set().union(*record_exposure.values()) if record_exposure else set())
            holders = {d: frozenset(self.owner[e] for e in exports) for d, exports in record_exposure.items()}
            for digest, (pairs, record) in sorted(new.items()):
                self.shared_seen.add(digest)
                group = receivers_of(record, holders) if all(a in holders for a in record) else frozenset()
                if not group:
                    continue
                self.shared_groups.setdefault(group, set()).add(tuple(pairs))
                codes = self.shared_marks.setdefault(group, MarkCodes())
                codes.add(np.array([2 * position + symbol for position, symbol in pairs], dtype=np.int64))
        return found

    def _learn_owners(self, registry: Registry, export_ids: set[int]) -> None:
        missing = export_ids - self.owner.keys()
        if missing:
            self.owner.update(registry.account_of_export(missing))

    def _add_rows(self, batch: LeakBatch, group_of_row: np.ndarray, groups: list[frozenset[int]]) -> None:
        """Sum in the rows some account received (``group_of_row`` >= 0: their receiver group) and their marks."""
        for index, n in enumerate(np.bincount(group_of_row[group_of_row >= 0], minlength=len(groups)).tolist()):
            if n:
                self.group_rows[groups[index]] += n
                self.marks.setdefault(groups[index], {})
        group = group_of_row[batch.mark_rows]
        received = group >= 0
        group, rows = group[received], batch.mark_rows[received]
        codes, streams = batch.mark_codes[received], batch.mark_streams[received]
        if not len(codes):
            return
        count = len(self.readings)
        read = np.bincount(streams, minlength=count).tolist()
        ones = np.bincount(streams[(codes & 1) == 1], minlength=count).tolist()
        for stream in np.flatnonzero(read).tolist():
            self.readings[stream] += read[stream]
            self.ones[stream] += ones[stream]
            if self.roundable[stream] is not None and not self.fine[stream]:
                self.fine[stream] = _any_fine(batch.rows, rows[streams == stream], *self.roundable[stream])
        # by (group, stream), stably: a code's place within its stream is no matter (MarkCodes sorts them),
        # and a stable sort of one small key costs a fraction of a lexsort of three (a radix sort when 16 bits do)
        key = group * count + streams
        order = np.argsort(key.astype(np.uint16) if len(groups) * count <= 1 << 16 else key, kind="stable")
        group, streams, codes = group[order], streams[order], codes[order]
        cut = np.flatnonzero((group[1:] != group[:-1]) | (streams[1:] != streams[:-1])) + 1
        for start, end in zip([0, *cut.tolist()], [*cut.tolist(), len(codes)]):
            kept = self.marks[groups[int(group[start])]]
            stream = int(streams[start])
            if stream not in kept:
                kept[stream] = MarkCodes()
            kept[stream].add(codes[start:end])

    # ---- what the accusation asks -----------------------------------------
    def accounts(self) -> set[int]:
        """Every account that received some leaked record (or the record a leaked shared decoy follows)."""
        return set().union(*self.group_rows, *self.shared_groups)

    def shared_of(self, account: int) -> int:
        """Shared decoys found after records ``account`` received."""
        return sum(len(found) for group, found in self.shared_groups.items() if account in group)

    def rows_of(self, account: int) -> int:
        return sum(n for group, n in self.group_rows.items() if account in group)

    def shares_rows(self, account: int, others: set[int]) -> bool:
        """Whether some row ``account`` received was also received by one of ``others``."""
        return any(account in group and not others.isdisjoint(group) for group in self.group_rows)

    def erased(self, min_symbols: int, minority: float, alpha: float) -> frozenset[int]:
        """The streams a cleaning made uniform (see :func:`erased_streams`), and those of a roundable
        slot whose every cell read is coarse (a column rounded to whole units reads noise).  Both look
        at the leak's cells only, never at codewords."""
        streams = erased_streams(self.readings, self.ones, min_symbols, minority, alpha)
        rounded = {index for name, index in self.stream_names.items()
                   if name[2] in ROUNDABLE and self.readings[index] >= min_symbols and not self.fine[index]}
        return frozenset(streams.tolist()) | rounded

    def observed(self, account: int, erased: Collection[int], without: Collection[int] = frozenset()
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(positions, symbols) read in the rows ``account`` received, none of
        ``without`` did, outside the ``erased`` streams; one symbol per position."""
        parts = [codes.compact() for group, streams in self.marks.items()
                 if account in group and group.isdisjoint(without)
                 for stream, codes in streams.items() if stream not in erased]
        return _consistent(parts)

    def observed_shared(self, account: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, symbols) the shared decoys after records ``account`` received show; one symbol per
        position (a leak holding two versions of one slot keeps the positions where they agree)."""
        return _consistent([codes.compact() for group, codes in self.shared_marks.items() if account in group])

    def positions_read(self, erased: Collection[int]) -> int:
        """How many code positions some stream not ``erased`` read: a mark on each set in a bitmap of the
        positions (a sort of every stream's marks together was a fifth of accusing)."""
        parts = [codes.compact() >> 1 for streams in self.marks.values()
                 for stream, codes in streams.items() if stream not in erased]
        if not parts or not any(len(part) for part in parts):
            return 0
        read = np.zeros(max(int(part.max()) for part in parts if len(part)) + 1, dtype=bool)
        for part in parts:
            read[part] = True
        return int(np.count_nonzero(read))

    def records_by_account(self) -> dict[int, dict[int, int]]:
        """account -> export -> leaked real records it held."""
        out: dict[int, dict[int, int]] = defaultdict(dict)
        for (account, export_id), n in self.records.items():
            out[account][export_id] = n
        return out


def _rows_sets(looked_up: np.ndarray, inverse: np.ndarray, anchor_rows: np.ndarray, rows: int, keys: np.ndarray,
               members: np.ndarray) -> tuple[np.ndarray, list[frozenset[int]]]:
    """Per row, the intersection over its anchors among ``keys`` of their sets of ``members`` (distinct
    (key, member) pairs, sorted): each row's index into the intersections (-1: none), and them.

    The anchors are ``looked_up[inverse]`` (``looked_up`` sorted, distinct): one search of those, in
    order, finds every anchor's key (a search of ~6,000 anchors in batch order costs five times as much)."""
    unique, set_of_key, sets = same_sets(keys, members)
    if not len(unique):
        return row_intersections(anchor_rows[:0], set_of_key, rows, sets)
    at = np.minimum(np.searchsorted(unique, looked_up), len(unique) - 1)
    known = (unique[at] == looked_up)[inverse]
    return row_intersections(anchor_rows[known], set_of_key[at][inverse[known]], rows, sets)


def _any_fine(rows, at: np.ndarray, column: int, slot) -> bool:
    """Whether some cell of ``column`` in the rows ``at`` is not coarse (each distinct cell asked once)."""
    seen: set[str] = set()
    for r in at.tolist():
        cell = rows[r][column]
        if cell not in seen:
            if not slot.coarse(cell):
                return True
            seen.add(cell)
    return False


def _consistent(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    codes = distinct(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    return consistent_positions(codes >> 1, (codes & 1).astype(np.int8))
