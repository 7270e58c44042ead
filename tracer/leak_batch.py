"""A batch of leaked rows as arrays, and the set arithmetic that sums it in without a loop per row.

Both engines read a batch of a leak file into one :class:`LeakBatch`: every
anchor's exposure digest (row by row), and every readable mark as (row, code,
stream), where code is ``2 * position + symbol``.  ``Evidence.absorb`` then
looks the batch's distinct digests up and sums it in with numpy: each row's
*receiver group* is the intersection, over its anchors the registry knows, of
the accounts that hold each anchor.  Anchors with the same holders share one
set (:func:`same_sets`), rows with the same sets share one intersection
(:func:`row_intersections`), so the Python work per batch is per distinct set,
not per row.  The arithmetic is exact: what it gives is what the per-row
definition (``evidence.receivers_of``) gives, row for row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

import numpy as np


class SeenRow(NamedTuple):
    """Where a leaked row was read, and its cells: what a canary hit reports."""

    file: str
    number: int  # 1-based data row in the leak file
    cells: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass
class LeakBatch:
    """Rows of one leak file, read with one key: their anchors' digests and their marks."""

    file: str
    first: int  # the number of the batch's first row in its file (1-based)
    rows: Sequence[Sequence[str]]  # the cells (canary hits show them; a roundable slot asks if a cell is coarse)
    columns: tuple[str, ...]
    digests: np.ndarray  # int64: every anchor's exposure digest, row by row, in plan order
    counts: np.ndarray  # int64 per row: how many of ``digests`` are its
    mark_rows: np.ndarray  # int64 per mark: its row in the batch
    mark_codes: np.ndarray  # int64 per mark: 2 * code position + symbol
    mark_streams: np.ndarray  # int64 per mark: its evidence stream

    @classmethod
    def of_rows(cls, file: str, first: int, rows: Sequence[Sequence[str]], columns: tuple[str, ...],
                digests: Sequence[Sequence[int]], marks: Sequence[Sequence[tuple[int, int, int]]]) -> "LeakBatch":
        """From per-row lists: each row's digests, and its marks as (position, symbol, stream)."""
        flat = [(r, 2 * position + symbol, stream) for r, row in enumerate(marks) for position, symbol, stream in row]
        found = np.array(flat, dtype=np.int64).reshape(-1, 3)
        return cls(file, first, rows, columns,
                   np.fromiter((d for row in digests for d in row), dtype=np.int64),
                   np.array([len(row) for row in digests], dtype=np.int64).reshape(-1),
                   found[:, 0].copy(), found[:, 1].copy(), found[:, 2].copy())

    @property
    def size(self) -> int:
        return len(self.counts)

    @property
    def anchor_rows(self) -> np.ndarray:
        """The row of each of ``digests``."""
        return np.repeat(np.arange(self.size, dtype=np.int64), self.counts)

    def seen(self, row: int) -> SeenRow:
        return SeenRow(self.file, self.first + row, tuple(self.rows[row]), self.columns)


class FirstSeen:
    """digest -> the batch's first row holding it (what ``Evidence`` reports a canary by)."""

    def __init__(self, batch: LeakBatch, distinct: np.ndarray, first_rows: np.ndarray):
        self.batch, self.distinct, self.first_rows = batch, distinct, first_rows

    def __getitem__(self, digest: int) -> SeenRow:
        at = int(np.searchsorted(self.distinct, digest))
        if at >= len(self.distinct) or self.distinct[at] != digest:
            raise KeyError(digest)
        return self.batch.seen(int(self.first_rows[at]))


def contains(sorted_values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each of ``wanted``, whether it is among ``sorted_values`` (sorted, distinct)."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if not len(sorted_values):
        return np.zeros(len(wanted), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_values, wanted), len(sorted_values) - 1)
    return sorted_values[at] == wanted


def pairs_array(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a registry's (digest, export) rows) as two int64 arrays."""
    flat = np.fromiter(chain.from_iterable(pairs), dtype=np.int64, count=2 * len(pairs))
    return flat[0::2].copy(), flat[1::2].copy()


def distinct_pairs(keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (key, member) pairs, sorted by key then member."""
    order = np.lexsort((members, keys))
    keys, members = keys[order], members[order]
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = (keys[1:] != keys[:-1]) | (members[1:] != members[:-1])
    return keys[keep], members[keep]


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a member's 64-bit fingerprint (a set's is the sum of its members')."""
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def same_sets(keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[frozenset[int]]]:
    """Group keys by their set of members: (the distinct keys, sorted; each one's set index; the sets).

    ``keys`` and ``members`` are distinct pairs sorted by key then member
    (:func:`distinct_pairs`).  Sets are found by a fingerprint and then
    compared member by member, so two keys share a set only when their sets
    are equal (a fingerprint collision, never seen, falls back to comparing
    the sets in Python)."""
    if not len(keys):
        return keys, np.zeros(0, dtype=np.int64), []
    start = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    unique, size = keys[start], np.diff(np.append(start, len(keys)))
    fingerprint = (np.add.reduceat(_mix(members), start) ^ _mix(size)).view(np.int64)
    _, representative, of_key = np.unique(fingerprint, return_index=True, return_inverse=True)
    of_key = of_key.reshape(-1)
    owner = np.repeat(np.arange(len(unique)), size)
    rank = np.arange(len(keys)) - start[owner]
    twin = representative[of_key]
    if not (np.array_equal(size, size[twin])
            and np.array_equal(members, members[np.minimum(start[twin[owner]] + rank, len(members) - 1)])):
        return _same_sets_exactly(unique, start, size, members)
    sets = [frozenset(members[start[r]:start[r] + size[r]].tolist()) for r in representative.tolist()]
    return unique, of_key.astype(np.int64), sets


def _same_sets_exactly(unique, start, size, members) -> tuple[np.ndarray, np.ndarray, list[frozenset[int]]]:
    index: dict[frozenset[int], int] = {}
    of_key = np.empty(len(unique), dtype=np.int64)
    for k, (s, n) in enumerate(zip(start.tolist(), size.tolist())):
        of_key[k] = index.setdefault(frozenset(members[s:s + n].tolist()), len(index))
    return unique, of_key, list(index)


def row_intersections(entry_rows: np.ndarray, entry_sets: np.ndarray, rows: int, sets: list[frozenset[int]]
                      ) -> tuple[np.ndarray, list[frozenset[int]]]:
    """Per row, the intersection of the sets of its entries: (each row's index into the intersections,
    -1 for a row without entries or with an empty intersection; the distinct non-empty intersections)."""
    out = np.full(rows, -1, dtype=np.int64)
    if not len(entry_rows):
        return out, []
    entry_rows, entry_sets = distinct_pairs(entry_rows, entry_sets)
    holding, start, count = np.unique(entry_rows, return_index=True, return_counts=True)
    table = np.full((len(holding), int(count.max())), -1, dtype=np.int64)
    row_of_entry = np.repeat(np.arange(len(holding)), count)
    table[row_of_entry, np.arange(len(entry_rows)) - start[row_of_entry]] = entry_sets
    combinations, of_row = _distinct_rows(table, len(sets))
    found: dict[frozenset[int], int] = {}
    index = np.empty(len(combinations), dtype=np.int64)
    for c, combination in enumerate(combinations.tolist()):
        common = frozenset.intersection(*(sets[s] for s in combination if s >= 0))
        index[c] = found.setdefault(common, len(found)) if common else -1
    out[holding] = index[of_row.reshape(-1)]
    return out, list(found)


def _distinct_rows(table: np.ndarray, sets: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(table, axis=0, return_inverse=True)`` for a table of set indices (-1 .. sets-1).

    Each row is read as one number in base ``sets + 1``, first column most
    significant, so the numbers sort as the rows do and the distinct rows come
    in the same order; a 1-D unique of them costs a twentieth of numpy's
    row-wise one.  Rows too wide for 63 bits take numpy's."""
    base, width = sets + 1, table.shape[1]
    if width * math.log2(base) >= 62:
        combinations, of_row = np.unique(table, axis=0, return_inverse=True)
        return combinations, of_row.reshape(-1)
    number = np.zeros(len(table), dtype=np.int64)
    for column in range(width):
        number = number * base + (table[:, column] + 1)
    _, first, of_row = np.unique(number, return_index=True, return_inverse=True)
    return table[first], of_row.reshape(-1)
