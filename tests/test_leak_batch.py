"""Evidence summed per batch with numpy is evidence summed row by row: the arithmetic is exact.

``Evidence.absorb`` finds each row's receiver group by set arithmetic on
arrays (``tracer/leak_batch.py``).  These tests hold it against the per-row
definition written out plainly (``receivers_of`` on each row, marks and
records counted one by one) on registries and leaks drawn by hypothesis:
repeated anchors, anchors nobody holds, several exports per account, canaries.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer import leak_batch
from tracer.evidence import Evidence, receivers_of
from tracer.leak_batch import LeakBatch, row_intersections, same_sets
from tracer.registry.base import Registry

DIGESTS = st.integers(-(2**63), 2**63 - 1)


class DrawnRegistry:
    """A registry of exports (each an account's) holding digests, and canary digests of some exports."""

    def __init__(self, exposure: dict[int, set[int]], owner: dict[int, int], canaries: dict[int, int]):
        self.exposure, self.owner, self.canaries = exposure, owner, canaries

    def exposure_of(self, digests, key_id):
        return [(d, e) for d in sorted(set(digests)) for e in sorted(self.exposure.get(d, ()))]

    exposure_arrays = Registry.exposure_arrays  # the interface's default, on exposure_of

    def canaries_of(self, digests, key_id):
        return [(d, self.canaries[d], 10**8) for d in sorted(set(digests)) if d in self.canaries]

    def shared_decoys_of(self, digests, key_id):
        return []

    def account_of_export(self, export_ids):
        return {e: self.owner[e] for e in export_ids}


@st.composite
def worlds(draw):
    pool = draw(st.lists(DIGESTS, min_size=1, max_size=12, unique=True))
    exports = draw(st.integers(1, 6))
    owner = {e: draw(st.integers(1, 4)) for e in range(1, exports + 1)}  # an account may have several
    exposure = {d: s for d in pool if (s := draw(st.sets(st.integers(1, exports), max_size=exports)))}
    canaries = {d: draw(st.integers(1, exports)) for d in draw(st.lists(st.sampled_from(pool), max_size=2))
                if d not in exposure}
    rows = draw(st.lists(st.lists(st.sampled_from(pool), max_size=4), min_size=1, max_size=30))
    marks = [draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 1), st.integers(0, 2)), max_size=4))
             for _ in rows]
    return DrawnRegistry(exposure, owner, canaries), rows, marks


def row_by_row(registry: DrawnRegistry, rows, marks):
    """The definition, one row at a time: (rows per group, codes per group and stream, records, readings)."""
    holders = {d: frozenset(registry.owner[e] for e in s) for d, s in registry.exposure.items()}
    for d, e in registry.canaries.items():
        holders[d] = holders.get(d, frozenset()) | {registry.owner[e]}
    group_rows, codes, records, readings = Counter(), defaultdict(set), Counter(), Counter()
    for digests, found in zip(rows, marks):
        group = receivers_of(digests, holders)
        if not group:
            continue
        group_rows[group] += 1
        for position, symbol, stream in found:
            codes[(group, stream)].add(2 * position + symbol)
            readings[(stream, symbol)] += 1
        if any(d in registry.canaries for d in digests):
            continue
        known = [registry.exposure[d] for d in digests if d in registry.exposure]
        for e in set.intersection(*known) if known else ():
            records[(registry.owner[e], e)] += 1
    return group_rows, dict(codes), records, readings


def summed(registry: DrawnRegistry, rows, marks):
    evidence = Evidence()
    for stream in range(3):
        evidence.stream(("leak.csv", stream, "slot", None))
    batch = LeakBatch.of_rows("leak.csv", 1, [("cell",)] * len(rows), ("a",), rows, marks)
    evidence.absorb(registry, batch, 1)
    codes = {(group, stream): set(c.compact().tolist())
             for group, streams in evidence.marks.items() for stream, c in streams.items()}
    readings = Counter()
    for stream in range(3):
        readings[(stream, 1)] += evidence.ones[stream]
        readings[(stream, 0)] += evidence.readings[stream] - evidence.ones[stream]
    return evidence.group_rows, codes, evidence.records, +readings, evidence


@settings(max_examples=300, deadline=None)
@given(world=worlds())
def test_a_batch_sums_in_as_its_rows_one_by_one(world):
    registry, rows, marks = world
    *got, evidence = summed(registry, rows, marks)
    assert got == list(row_by_row(registry, rows, marks))
    assert evidence.rows == len(rows) and evidence.anchor_values == sum(map(len, rows))
    first = {}
    for number, digests in enumerate(rows, start=1):
        for d in digests:
            first.setdefault(d, number)
    assert {d: hit.row_number for d, hit in evidence.canary_hits.items()} == {
        d: first[d] for d in registry.canaries if d in first}


def _sets_of(keys: list[int], members: list[int]):
    pairs = sorted(set(zip(keys, members)))
    return same_sets(np.array([k for k, _ in pairs], dtype=np.int64), np.array([m for _, m in pairs], dtype=np.int64))


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 6)), max_size=60))
def test_keys_share_a_set_exactly_when_their_members_are_equal(pairs):
    unique, of_key, sets = _sets_of([k for k, _ in pairs], [m for _, m in pairs])
    want = defaultdict(set)
    for k, m in pairs:
        want[k].add(m)
    assert unique.tolist() == sorted(want)
    assert [sets[i] for i in of_key.tolist()] == [frozenset(want[k]) for k in sorted(want)]
    assert len(set(sets)) == len(sets)  # one index per distinct set


def test_a_fingerprint_collision_is_caught_by_comparing_the_sets(monkeypatch):
    monkeypatch.setattr(leak_batch, "_mix", lambda values: np.zeros(len(values), dtype=np.uint64))
    unique, of_key, sets = _sets_of([1, 1, 2, 2, 3], [5, 6, 5, 7, 5])
    assert [sets[i] for i in of_key.tolist()] == [{5, 6}, {5, 7}, {5}]


@settings(max_examples=200, deadline=None)
@given(sets=st.lists(st.frozensets(st.integers(0, 5), min_size=1), min_size=1, max_size=5),
       entries=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 4)), max_size=30))
def test_a_row_gets_the_intersection_of_its_entries_sets(sets, entries):
    entries = [(r, s % len(sets)) for r, s in entries]
    of_row, common = row_intersections(np.array([r for r, _ in entries], dtype=np.int64),
                                       np.array([s for _, s in entries], dtype=np.int64), 10, sets)
    for row in range(10):
        mine = [sets[s] for r, s in entries if r == row]
        want = frozenset.intersection(*mine) if mine else frozenset()
        assert (common[of_row[row]] if of_row[row] >= 0 else frozenset()) == want


@settings(max_examples=200, deadline=None)
@given(sets=st.sampled_from([1, 3, 1 << 20]), width=st.integers(1, 6),
       cells=st.lists(st.integers(-1, 2), min_size=6, max_size=60))
def test_distinct_rows_are_numpys_rowwise_unique_in_its_order(sets, width, cells):
    """Rows read as numbers sort as the rows do: the same distinct rows, in the same order, as
    ``np.unique(axis=0)``, whether the rows fit 63 bits (here 3 sets) or not (2^20 sets, 4+ columns)."""
    table = np.array(cells[:len(cells) // width * width], dtype=np.int64).reshape(-1, width)
    table[table >= sets] = sets - 1
    table[0, 0] = sets - 1  # the largest index: the base must hold it
    want, want_of_row = np.unique(table, axis=0, return_inverse=True)
    rows, of_row = leak_batch._distinct_rows(table, sets)
    assert np.array_equal(rows, want) and np.array_equal(of_row, want_of_row.reshape(-1))
