"""Evidence is summed as the leak streams: what it keeps does not grow with the leak."""

from __future__ import annotations

import random
import tracemalloc
import unittest.mock
import weakref

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.evidence import Evidence, MarkCodes
from tracer.leak_batch import LeakBatch
from tracer.registry.base import Registry


class FakeRegistry:
    """Every anchor was exported once, by export 1 of account 7; no canaries, no shared decoys."""

    def exposure_of(self, digests, key_id):
        return [(d, 1) for d in digests]

    exposure_arrays = Registry.exposure_arrays  # the interface's default, on exposure_of

    def canaries_of(self, digests, key_id):
        return []

    def shared_decoys_of(self, digests, key_id):
        return []

    def account_of_export(self, export_ids):
        return {e: 7 for e in export_ids}


def batch_of(digests: list[tuple[int, ...]], marks: list[list[tuple[int, int, int]]]) -> LeakBatch:
    """Rows of 'leak.csv': each row's anchor digests, and its marks as (position, symbol, stream)."""
    return LeakBatch.of_rows("leak.csv", 1, [("cell",) * 4] * len(digests), ("a", "b", "c", "d"), digests, marks)


def leaked_rows(n: int, seed: int = 1) -> LeakBatch:
    rng = random.Random(seed)
    return batch_of([(rng.getrandbits(63),) for _ in range(n)],
                    [[(rng.randrange(4096), rng.randrange(2), s) for s in range(6)] for _ in range(n)])


def peak_while_absorbing(rows: int) -> tuple[int, Evidence]:
    evidence = Evidence()
    for stream in range(6):
        evidence.stream(("leak.csv", stream, "slot"))
    registry = FakeRegistry()
    batch = leaked_rows(2000)  # one batch, fed again and again: only the summed state can grow
    tracemalloc.start()
    tracemalloc.reset_peak()
    for _ in range(rows // batch.size):
        evidence.absorb(registry, batch, 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, evidence


def test_memory_does_not_grow_with_rows():
    # both runs are past the first compaction of each stream's codes (16k codes)
    small, _ = peak_while_absorbing(20_000)
    large, evidence = peak_while_absorbing(100_000)
    assert evidence.rows == 100_000 and evidence.rows_of(7) == 100_000
    assert large <= 1.2 * small


def test_marks_are_kept_once_per_position_and_symbol():
    evidence = Evidence()
    evidence.stream(("leak.csv", 0, "slot"))
    evidence.absorb(FakeRegistry(), batch_of([(i,) for i in range(10)], [[(5, 1, 0), (9, i % 2, 0)] for i in range(10)]), 1)
    positions, symbols = evidence.observed(7, erased=[])
    # position 9 was read as 0 and as 1: no symbol can be trusted there
    assert positions.tolist() == [5] and symbols.tolist() == [1]
    assert evidence.records_by_account() == {7: {1: 10}}


def test_rows_nobody_received_judge_no_channel():
    class Nobody(FakeRegistry):
        def exposure_of(self, digests, key_id):
            return []

    evidence = Evidence()
    evidence.stream(("leak.csv", 0, "slot"))
    evidence.absorb(Nobody(), batch_of([(i,) for i in range(50)], [[(i, 0, 0)] for i in range(50)]), 1)
    assert evidence.rows == 50 and evidence.readings == [0] and not evidence.accounts()


def test_a_roundable_stream_is_fine_once_one_cell_is_not_coarse():
    """``fine`` is asked only whether: the first fine cell settles it, coarse cells alone never do."""
    from tracer.evidence import ROUNDABLE, _any_fine

    slot = next(iter(ROUNDABLE.values()))
    coarse = [cell for cell in ("1", "2", "3.0", "10", "2024-01-01 10:00") if slot.coarse(cell)]
    fine = [cell for cell in ("1.23", "2.5", "2024-01-01 10:00:07", "3.14") if not slot.coarse(cell)]
    assert coarse and fine
    rows = [[cell] for cell in coarse * 3]
    assert not _any_fine(rows, np.arange(len(rows)), 0, slot)
    rows += [[fine[0]]]
    assert _any_fine(rows, np.arange(len(rows)), 0, slot)
    assert not _any_fine(rows, np.arange(len(rows) - 1), 0, slot)


def test_a_batchs_codes_are_freed_once_summed_in():
    """A stream keeps copies of what it read, not views: a view kept the whole batch's array alive until
    the stream's next compaction (25 MB over a 1M-row leak)."""
    batch = np.arange(100_000, dtype=np.int64)
    freed = weakref.ref(batch)
    codes = MarkCodes()
    codes.add(batch[10:20])
    del batch
    assert freed() is None
    assert codes.compact().tolist() == list(range(10, 20))


@settings(max_examples=80, deadline=None)
@given(st.integers(10, 10**6).flatmap(lambda top: st.lists(st.lists(st.integers(0, top), max_size=400), max_size=12)))
def test_a_streams_codes_are_the_distinct_codes_read_whether_sorted_or_a_bitmap(batches):
    """Buffered and sorted, or set in a bitmap once a stream holds many (small code values, many codes):
    the same distinct codes, sorted, whenever asked."""
    import tracer.evidence as evidence

    with unittest.mock.patch.object(evidence, "COMPACT_AT", 8):
        codes = MarkCodes()
        seen: set[int] = set()
        for batch in batches:
            codes.add(np.array(batch, dtype=np.int64))
            seen |= set(batch)
            if len(batch) % 3 == 0:
                assert codes.compact().tolist() == sorted(seen)
        assert codes.compact().tolist() == sorted(seen) and codes.compact().dtype == np.int64


def test_a_stream_of_many_codes_keeps_a_bitmap_no_larger_than_their_array():
    codes = MarkCodes()
    codes.add(np.arange(0, 2 * 65536, 3, dtype=np.int64))
    assert codes.dense is not None and codes.dense.nbytes <= 8 * len(codes.compact())
    few = MarkCodes()
    few.add(np.array([5, 100_000], dtype=np.int64))
    few.compact()
    assert few.dense is None
