"""Which phones an export has carried on more than one row: a shop that sends many parcels, not one customer.

A canary keeps a party of the row it copies only when that party's phone
repeats (``canaries.Donors.repeats``), so the export counts its phones as the
rows stream.  Memory stays bounded: at ``limit`` distinct phones the count is
forgotten at once and starts again, before the row that finds it full.

The answers are exactly a ``collections.Counter`` cleared that way (the
reference in ``tests/test_phone_counts.py``); the store is not.  A Counter of
Python ints takes ~76 bytes a phone (20 MB at 2^18 phones, a third of what a
1M-row export grew by); here the phones sit in a sorted int64 array with one
byte for "more than once" (9 bytes a phone), and the newest phones in a small
dict that is merged into the array whenever it fills.
"""

from __future__ import annotations

import numpy as np

NEWEST = 1 << 13  # phones held in the dict before they are merged into the sorted array


class PhoneCounts:
    """Phone digests seen since the count last emptied, and whether each was seen more than once."""

    def __init__(self, limit: int):
        self.limit = limit
        self.clear()

    def clear(self) -> None:
        self.sorted = np.empty(0, dtype=np.int64)  # merged phones, ascending and distinct
        self.many = np.empty(0, dtype=bool)  # ``sorted[i]`` was seen more than once
        self.newest: dict[int, bool] = {}  # phones not in ``sorted`` -> seen more than once

    def __len__(self) -> int:
        return len(self.sorted) + len(self.newest)

    def repeats(self, digest: int) -> bool:
        """Whether ``digest`` was seen on more than one row (or twice on one) since the count emptied."""
        if digest in self.newest:
            return self.newest[digest]
        i = int(np.searchsorted(self.sorted, digest))
        return i < len(self.sorted) and self.sorted[i] == digest and bool(self.many[i])

    def seen(self) -> dict[int, bool]:
        """Every phone counted since the count emptied -> whether it repeats."""
        return dict(zip(self.sorted.tolist(), self.many.tolist())) | self.newest

    def add_rows(self, digests: np.ndarray, ends: np.ndarray) -> None:
        """Count rows' phones: ``digests`` (int64) row after row, row ``i``'s ending at ``ends[i + 1]``
        (``ends[0]`` being where the first row's start).  All at once when the count cannot fill
        within them, else row by row, emptied before a row that finds it full."""
        if len(self) + len(digests) < self.limit:
            self._add(digests)
            return
        base = int(ends[0])
        for start, stop in zip(ends[:-1].tolist(), ends[1:].tolist()):
            if len(self) >= self.limit:
                self.clear()
            self._add(digests[start - base:stop - base])

    def _add(self, digests: np.ndarray) -> None:
        if not len(digests):
            return
        at = np.searchsorted(self.sorted, digests)
        inside = at < len(self.sorted)
        inside[inside] = self.sorted[at[inside]] == digests[inside]
        self.many[at[inside]] = True
        newest = self.newest
        for digest in digests[~inside].tolist():
            newest[digest] = digest in newest
        if len(newest) >= NEWEST:
            self._merge()

    def _merge(self) -> None:
        """Move the newest phones into the sorted array (none of them is in it)."""
        fresh = np.fromiter(self.newest.keys(), dtype=np.int64, count=len(self.newest))
        many = np.fromiter(self.newest.values(), dtype=bool, count=len(self.newest))
        order = np.argsort(fresh)
        at = np.searchsorted(self.sorted, fresh[order])
        self.sorted = np.insert(self.sorted, at, fresh[order])
        self.many = np.insert(self.many, at, many[order])
        self.newest = {}
