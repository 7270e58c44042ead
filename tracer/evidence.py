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

Rows are taken in batches of ``LOOKUP_ROWS``: their anchors are looked up in
the registry together, the batch is summed in, and dropped.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .canary_pool import POOL_SPACE
from .channels import ALL_SLOTS
from .columns import Schema
from .registry import Registry
from .shared_canaries import decode_meaning
from .tables.base import SKIP_CAUSES, skip_words

LOOKUP_ROWS = 2000  # rows whose anchors are looked up in the registry together
COMPACT_AT = 1 << 14  # codes buffered per (group, stream) before they are made distinct


@dataclass(frozen=True)
class LeakFile:
    path: str
    sha256: str
    size: int
    rows: int
    ragged: int
    schema: Schema
    skipped: dict[str, int] = field(default_factory=dict)  # cause (SKIP_CAUSES) -> lines or rows skipped
    archive: tuple[str, str, str] | None = None  # (path, SHA-256, member name) of the archive it came from
    stopped: str = ""  # why reading stopped early (a file found in a folder or archive), else ""
    label: str = ""  # the name its rows go by (canary hits): 'leak.csv', 'leaks/sub/a.csv', 'dump.zip/a.csv'
    columns_not_read: int = 0  # the last columns of a very wide file, past match.MAX_COLUMNS: not looked at

    @property
    def name(self) -> str:
        return self.label or Path(self.path).name

    def skip_counts(self) -> dict[str, int]:
        """Rows or lines skipped per cause, every cause of SKIP_CAUSES (0 when none)."""
        counts = {cause: self.skipped.get(cause, 0) for cause in SKIP_CAUSES}
        counts["ragged"] = self.ragged
        return counts

    def skipped_text(self) -> list[str]:
        """What was skipped, in words, one entry per cause that occurred: '2 lines with NUL bytes'."""
        return [skip_words(cause, n) for cause, n in self.skip_counts().items() if n]

    def columns_text(self) -> str:
        """'columns 501–10,000 of 10,000 not looked at' for a very wide file, else ''."""
        if not self.columns_not_read:
            return ""
        first, last = len(self.schema.columns) + 1, len(self.schema.columns) + self.columns_not_read
        return f"columns {first:,}–{last:,} of {last:,} not looked at (only the first {first - 1:,} are)"

    def as_json(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "rows": self.rows,
            "ragged_rows_skipped": self.ragged,
            "skipped": self.skip_counts(),
            "columns_not_read": self.columns_not_read,
            **({"archive": {"path": self.archive[0], "sha256": self.archive[1], "member": self.archive[2]}}
               if self.archive else {}),
            **({"stopped": self.stopped} if self.stopped else {}),
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


@dataclass(frozen=True)
class PoolHit:
    """A canary-pool number in the leak: which exports' canaries carried it (evidence, no p-value)."""

    digest: int  # the number's anchor digest
    file: str
    row_number: int
    cells: tuple[str, ...]  # the leaked row: its names tell which account's canary it was
    export_ids: frozenset[int]


@dataclass(frozen=True)
class LeakedRow:
    """One row between reading and lookup: its anchors, its marks, where it was read."""

    digests: tuple[int, ...]  # exposure digests of its anchors
    marks: list[tuple[int, int, int]]  # (code position, symbol, stream)
    file: str
    number: int
    cells: tuple[str, ...]
    columns: tuple[str, ...]


class MarkCodes:
    """The distinct (position, symbol) pairs read in one stream of one receiver group.

    Each pair is the integer ``2 * position + symbol``.  New codes are
    buffered (8 bytes each) and made distinct once the buffer reaches
    ``COMPACT_AT`` or the size of what is kept (so sorting stays ``n log n``
    over the leak); what is kept never exceeds twice the code length,
    whatever the leak's size."""

    __slots__ = ("distinct", "buffer")

    def __init__(self) -> None:
        self.distinct = np.zeros(0, dtype=np.int64)
        self.buffer = array("q")

    def add(self, code: int) -> None:
        self.buffer.append(code)
        if len(self.buffer) >= max(COMPACT_AT, len(self.distinct)):
            self.compact()

    def compact(self) -> np.ndarray:
        if self.buffer:
            fresh = np.frombuffer(self.buffer, dtype=np.int64)
            self.distinct = np.unique(np.concatenate([self.distinct, fresh]))
            self.buffer = array("q")
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


def erased_streams(readings: np.ndarray, ones: np.ndarray, min_symbols: int, minority: float) -> np.ndarray:
    """Streams whose symbols a cleaning made uniform: at least ``min_symbols``
    read, and the rarer symbol below ``minority`` of them."""
    rarer = np.minimum(ones, readings - ones)
    return np.flatnonzero((readings >= min_symbols) & (rarer < minority * readings))


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
    fine: list[int] = field(default_factory=list)  # per stream of a roundable slot, cells read that are not coarse
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
            self.fine.append(0)
            slot = ROUNDABLE.get(name[2])
            self.roundable.append(None if slot is None else (name[1], slot))
        return index

    # ---- summing rows in ------------------------------------------------
    def absorb(self, registry: Registry, batch: list[LeakedRow], key_id: int) -> None:
        """Look a batch of rows up among the exports made with ``key_id``, and sum it in."""
        self.rows += len(batch)
        first_seen: dict[int, LeakedRow] = {}
        for row in batch:
            self.anchor_values += len(row.digests)
            for digest in row.digests:
                first_seen.setdefault(digest, row)
        if not first_seen:
            return
        exposure: dict[int, set[int]] = defaultdict(set)
        for digest, export_id in registry.exposure_of(first_seen, key_id):
            exposure[digest].add(export_id)
        canaries = self._canaries_in(registry, first_seen, key_id)
        self._learn_owners(registry, set().union(*exposure.values()) | {e for e, _ in canaries.values()})
        holders = {d: frozenset(self.owner[e] for e in exports) for d, exports in exposure.items()}
        for digest, (export_id, _) in canaries.items():
            holders[digest] = holders.get(digest, frozenset()) | {self.owner[export_id]}
        shared = self._shared_in(registry, first_seen, exposure, canaries, key_id)
        for row in batch:
            if not shared.isdisjoint(row.digests):
                continue  # a shared decoy: its symbols are counted, its cells are no mark evidence
            group = receivers_of(row.digests, holders)
            if group:
                self._add_row(row, group, exposure, canaries)

    def _canaries_in(self, registry: Registry, first_seen: dict[int, LeakedRow], key_id: int
                     ) -> dict[int, tuple[int, int]]:
        """Canary values among the batch's anchors: digest -> (export, space); new ones are kept as hits.

        A canary value counts only when it was drawn at random from a known
        space (a new phone, a fresh identifier), so a chance match can be
        bounded; a fitted sequential identifier is no evidence.
        """
        found = {}
        for digest, export_id, space in registry.canaries_of(first_seen, key_id):
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

    def _shared_in(self, registry: Registry, first_seen: dict[int, LeakedRow], exposure: dict, canaries: dict,
                   key_id: int) -> set[int]:
        """Shared decoys among the batch's anchors; each new one's symbols are summed in. Returns their digests.

        A value that is also a real record's or a canary's is no shared decoy
        (a collision, which the exporter avoids but cannot rule out later).  The
        symbols count for the accounts that received the record the slot
        follows (exposure, never codewords), whatever version they were given.
        """
        meanings: dict[int, set] = defaultdict(set)
        for digest, positions, symbols, record in registry.shared_decoys_of(first_seen, key_id):
            if digest not in exposure and digest not in canaries:
                meanings[digest].add((positions, symbols, record))
        found = {d: decode_meaning(*next(iter(m))) for d, m in meanings.items() if len(m) == 1}
        new = {d: meaning for d, meaning in found.items() if d not in self.shared_seen}
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
                for position, symbol in pairs:
                    codes.add(2 * position + symbol)
        return set(found)

    def _learn_owners(self, registry: Registry, export_ids: set[int]) -> None:
        missing = export_ids - self.owner.keys()
        if missing:
            self.owner.update(registry.account_of_export(missing))

    def _add_row(self, row: LeakedRow, group: frozenset[int], exposure: dict[int, set[int]],
                 canaries: dict) -> None:
        self.group_rows[group] += 1
        streams = self.marks.setdefault(group, {})
        for position, symbol, stream in row.marks:
            self.readings[stream] += 1
            self.ones[stream] += symbol
            roundable = self.roundable[stream]
            if roundable is not None and not roundable[1].coarse(row.cells[roundable[0]]):
                self.fine[stream] += 1
            codes = streams.get(stream)
            if codes is None:
                codes = streams[stream] = MarkCodes()
            codes.add(2 * position + symbol)
        if any(d in canaries for d in row.digests):
            return  # canary rows are counted apart
        known = [exposure[d] for d in row.digests if d in exposure]
        for export_id in set.intersection(*known) if known else ():
            self.records[(self.owner[export_id], export_id)] += 1

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

    def erased(self, min_symbols: int, minority: float) -> frozenset[int]:
        """The streams a cleaning made uniform (see :func:`erased_streams`), and those of a roundable
        slot whose every cell read is coarse (a column rounded to whole units reads noise).  Both look
        at the leak's cells only, never at codewords."""
        streams = erased_streams(np.asarray(self.readings, dtype=np.int64), np.asarray(self.ones, dtype=np.int64),
                                 min_symbols, minority)
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
        parts = [codes.compact() for streams in self.marks.values()
                 for stream, codes in streams.items() if stream not in erased]
        return len(np.unique(np.concatenate(parts) >> 1)) if parts else 0

    def records_by_account(self) -> dict[int, dict[int, int]]:
        """account -> export -> leaked real records it held."""
        out: dict[int, dict[int, int]] = defaultdict(dict)
        for (account, export_id), n in self.records.items():
            out[account][export_id] = n
        return out


def _consistent(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    return consistent_positions(codes >> 1, (codes & 1).astype(np.int8))
