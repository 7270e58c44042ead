"""Which phones an export has carried on more than one row: a shop that sends many parcels, not one customer.

A canary keeps a party of the row it copies only when that party's phone
repeats (``canaries.Donors.repeats``), so the export counts its phones as the
rows stream.  Memory stays bounded: at ``limit`` distinct phones the count is
forgotten at once and starts again, before the row that finds it full.

The answers are exactly a ``collections.Counter`` cleared that way (the
reference in ``tests/test_phone_counts.py``); the store is not.  A Counter of
Python ints takes ~76 bytes a phone (20 MB at 2^18 phones, a third of what a
1M-row export grew by); here the phones sit in a sorted int64 array with one
byte for "more than once" (9 bytes a phone).  The newest phones are counted in
a small Counter (its ``update`` is a C loop, as the whole count's was) and
merged into the array when it holds ``NEWEST``: the array is copied once a
merge, a few dozen times in a million rows.  2^18 phones: 4.5 MB against the
Counter's 19.8 MB; the merges cost ~0.4 s CPU a million rows (~1% of an export).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

NEWEST = 1 << 15  # phones counted in the Counter before they are merged into the sorted array


def phone_counts(limit: int, secret: bytes = b""):
    """An export's phone counts: the native engine's (``engine/src/phone_counts.rs``: the digests in a
    table sized for ``limit`` once, a phone asked in one call; with the key's ``secret`` it also reads
    and hashes a phone cell itself, ``repeats_phone``) when it runs, else this module's."""
    from . import engine

    native = engine.native_or_none("PhoneCounts", limit, secret)
    return PhoneCounts(limit) if native is None else native  # (not `or`: an empty count is falsy)


class PhoneCounts:
    """Phone digests seen since the count last emptied, and whether each was seen more than once."""

    def __init__(self, limit: int):
        self.limit = limit
        self.clear()

    def clear(self) -> None:
        self.sorted = np.empty(0, dtype=np.int64)  # merged phones, ascending and distinct
        self.many = np.empty(0, dtype=bool)  # ``sorted[i]`` was seen more than once
        self.newest: Counter[int] = Counter()  # phones seen since the last merge (some may be in ``sorted``)

    def __len__(self) -> int:
        """How many distinct phones were seen since the count emptied."""
        if not self.newest:
            return len(self.sorted)
        keys = np.fromiter(self.newest.keys(), dtype=np.int64, count=len(self.newest))
        return len(self.sorted) + len(keys) - int(self._among_sorted(keys)[1].sum())

    def repeats(self, digest: int) -> bool:
        """Whether ``digest`` was seen on more than one row (or twice on one) since the count emptied."""
        count = self.newest.get(digest, 0)
        if count > 1:
            return True
        i = self._place(digest)
        return i is not None and (count > 0 or bool(self.many[i]))

    def seen(self) -> dict[int, bool]:
        """Every phone counted since the count emptied -> whether it repeats."""
        return {d: self.repeats(d) for d in [*self.sorted.tolist(), *self.newest]}

    def add_rows(self, digests: np.ndarray, ends: np.ndarray) -> None:
        """Count rows' phones: ``digests`` (int64) row after row, row ``i``'s ending at ``ends[i + 1]``
        (``ends[0]`` being where the first row's start).  All at once when the count cannot fill
        within them, else row by row, emptied before a row that finds it full."""
        if len(self.sorted) + len(self.newest) + len(digests) >= self.limit:
            self._merge()  # near the limit the distinct count must be exact: merged, it is len(sorted)
        if len(self.sorted) + len(self.newest) + len(digests) < self.limit:
            self._add(digests.tolist())
            return
        seen, base = len(self.sorted), int(ends[0])
        for start, stop in zip(ends[:-1].tolist(), ends[1:].tolist()):
            if seen >= self.limit:
                self.clear()
                seen = 0
            for digest in digests[start - base:stop - base].tolist():
                seen += digest not in self.newest and self._place(digest) is None
                self.newest[digest] += 1
        self._merge_if_full()

    def _place(self, digest: int) -> int | None:
        """Where ``digest`` is in ``sorted``, or None."""
        i = int(np.searchsorted(self.sorted, digest))
        return i if i < len(self.sorted) and self.sorted[i] == digest else None

    def _add(self, digests: list[int]) -> None:
        self.newest.update(digests)
        self._merge_if_full()

    def _merge_if_full(self) -> None:
        if len(self.newest) >= NEWEST:
            self._merge()

    def _among_sorted(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of ``keys`` is or would go in ``sorted``, and whether it is there."""
        at = np.searchsorted(self.sorted, keys)
        inside = at < len(self.sorted)
        inside[inside] = self.sorted[at[inside]] == keys[inside]
        return at, inside

    def _merge(self) -> None:
        """Move the newest phones into the sorted array: a phone there already is now seen more than once."""
        if not self.newest:
            return
        keys = np.fromiter(self.newest.keys(), dtype=np.int64, count=len(self.newest))
        counts = np.fromiter(self.newest.values(), dtype=np.int64, count=len(self.newest))
        order = np.argsort(keys)  # sorted, the search walks the array once and gives the insertion points
        keys, counts = keys[order], counts[order]
        at, inside = self._among_sorted(keys)
        self.many[at[inside]] = True
        fresh = ~inside
        self.sorted = np.insert(self.sorted, at[fresh], keys[fresh])
        self.many = np.insert(self.many, at[fresh], counts[fresh] > 1)
        self.newest = Counter()
