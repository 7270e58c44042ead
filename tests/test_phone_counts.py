"""An export's phone counts answer exactly as a Counter emptied at its limit, in a fraction of the memory."""

import tracemalloc
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer import engine, phone_counts
from tracer.phone_counts import PhoneCounts


class CounterReference:
    """How the export counted phones before: a Counter, emptied before a row that finds it full."""

    def __init__(self, limit: int):
        self.limit, self.counts = limit, Counter()

    def add_rows(self, rows: list[list[int]]) -> None:
        phones = [p for row in rows for p in row]
        if len(self.counts) + len(phones) < self.limit:
            self.counts.update(phones)
            return
        for row in rows:
            if len(self.counts) >= self.limit:
                self.counts.clear()
            self.counts.update(row)

    def repeats(self, digest: int) -> bool:
        return self.counts[digest] > 1


def as_arrays(rows: list[list[int]], before: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows' phones as an export batch holds them: the digests, and where each row ends (from ``before``)."""
    digests = np.array([p for row in rows for p in row], dtype=np.int64)
    ends = before + np.concatenate(([0], np.cumsum([len(row) for row in rows]))).astype(np.int64)
    return digests, ends


digest = st.integers(-40, 40) | st.integers(-2**63, 2**63 - 1) | st.just(-2**63)
stretches = st.lists(st.lists(st.lists(digest, max_size=3), max_size=12), max_size=25)


# This module's counts, and the native engine's (``engine/src/phone_counts.rs``), which an export uses when built.
IMPLEMENTATIONS = [PhoneCounts] + ([engine._engine.PhoneCounts] if engine._engine is not None else [])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, ids=lambda c: c.__module__)
@settings(max_examples=300, deadline=None)
@given(stretches, st.integers(1, 30), st.integers(1, 8), st.integers(0, 5))
def test_answers_as_a_counter_emptied_at_its_limit(implementation, stretches, limit, newest, before):
    phone_counts.NEWEST, saved = newest, phone_counts.NEWEST  # merge into the sorted array often
    try:
        counts, reference = implementation(limit), CounterReference(limit)
        for rows in stretches:
            counts.add_rows(*as_arrays(rows, before))
            reference.add_rows(rows)
            assert len(counts) == len(reference.counts)
            for d in {p for row in rows for p in row} | {0, 1, -1}:
                assert counts.repeats(d) == reference.repeats(d), d
    finally:
        phone_counts.NEWEST = saved


def test_a_phone_on_two_rows_repeats_and_one_on_a_single_row_does_not():
    counts = PhoneCounts(100)
    counts.add_rows(*as_arrays([[5, 7], [5], [9]], 0))
    assert [counts.repeats(d) for d in (5, 7, 9, 11)] == [True, False, False, False]


def test_the_count_is_forgotten_before_the_row_that_finds_it_full():
    counts = PhoneCounts(3)
    counts.add_rows(*as_arrays([[1], [2], [1, 3]], 0))
    assert len(counts) == 3 and counts.repeats(1)
    counts.add_rows(*as_arrays([[1]], 4))
    assert len(counts) == 1 and not counts.repeats(1)


def test_a_quarter_million_phones_take_a_fraction_of_a_counters_memory():
    """Counted as an export counts them (a stretch of rows at a time), 2^18 phones take under a third of
    what a Counter of them takes (~20 MB of Python ints)."""
    digests = np.random.default_rng(7).integers(-2**63, 2**63 - 1, size=(1 << 18) - 1, dtype=np.int64)
    ends = np.arange(len(digests) + 1, dtype=np.int64)

    def traced(count) -> int:
        tracemalloc.start()
        try:
            kept = count()
            return tracemalloc.get_traced_memory()[0], kept
        finally:
            tracemalloc.stop()

    def phone_counts():
        counts = PhoneCounts(1 << 18)
        for start in range(0, len(digests), 80):
            stop = min(start + 80, len(digests))
            counts.add_rows(digests[start:stop], ends[start:stop + 1])
        return counts

    ours, counts = traced(phone_counts)
    theirs, counter = traced(lambda: Counter(digests.tolist()))
    assert len(counts) == len(counter) == len(digests)
    assert ours < theirs / 3, (ours, theirs)


def test_an_export_counts_on_the_engine_it_runs(monkeypatch):
    monkeypatch.setenv("TRACER_ENGINE", "python")
    assert type(phone_counts.phone_counts(8)) is PhoneCounts
    if engine._engine is not None:
        monkeypatch.setenv("TRACER_ENGINE", "native")
        assert type(phone_counts.phone_counts(8)) is engine._engine.PhoneCounts


PHONE_CELLS = st.one_of(
    st.builds("{}{}".format, st.sampled_from(["", "+86 ", "0086", "86", "+1 ", "1-", " ", "\u3000", "１"]),
              st.from_regex(r"1[3-9][0-9]{9}|[2-9][0-9]{9}", fullmatch=True)),
    st.text(alphabet="0123456789+-(). e\u00a0１", max_size=18))


@pytest.mark.skipif(engine._engine is None, reason="the native engine is not built")
@settings(max_examples=300, deadline=None)
@given(cells=st.lists(PHONE_CELLS, min_size=1, max_size=12), secret=st.binary(min_size=32, max_size=32))
def test_the_engine_reads_a_phone_cell_as_the_reference_does(cells, secret):
    """``repeats_phone(cell)``: the cell's phone anchor hashed with the key and asked of the count, the
    answer ``phone_anchor`` and ``Key.anchor_digest`` give; None (the reference reads it) only for a cell
    that is not ASCII or is spelt like a float."""
    from tracer.columns import phone_anchor
    from tracer.keys import Key
    from tracer.marks import Anchor

    key = Key(secret)

    def digest(cell):
        text = phone_anchor(cell)
        return None if text is None else Anchor(key.anchor_digest(text)).exposure

    native = engine._engine.PhoneCounts(1 << 10, secret)
    seen = [d for d in map(digest, cells[::2]) if d is not None]
    native.add_rows(*as_arrays([[d] for d in seen + seen[:1]], 0))
    for cell in cells:
        answer = native.repeats_phone(cell)
        if answer is None:
            assert not cell.isascii() or any(c in cell for c in ".eE+")
        else:
            assert answer == (digest(cell) is not None and native.repeats(digest(cell)))
    assert native.repeats_phone(" 138 0013 8000 ") is not None
