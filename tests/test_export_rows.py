"""The exporter handles the rows no decoy can follow a stretch at a time: the same as one by one.

``_Exporter.remember`` keeps the recent rows, the real e-mails (so that no
canary takes one) and the phone counts (a shop's phone repeats), each in
bounded memory that is cleared when full.  A stretch is remembered at once
only when no bound can fill within it; these tests cut rows into stretches
anywhere, with bounds small enough to fill, and compare with row by row.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer import export
from tracer.canaries import RECENT
from tracer.canary_window import Window
from tracer.columns import Column, Schema
from tracer.export_rows import python_batch
from tracer.keys import Key
from tracer.marks import AnchorHasher, mark_plan
from tracer.phone_counts import PhoneCounts

KINDS = ("id", "phone", "email", "phone", "email")
SCHEMA = Schema(tuple(Column(i, f"c{i}", kind, None, 1.0, "values") for i, kind in enumerate(KINDS)))
PHONES = st.sampled_from(["13800138000", "13900139000", "13700137000", "", "x", "+86 138 0013 8001"])
EMAILS = st.sampled_from(["a@b.cn", " A@B.cn", "c@d.com", "", "e@f.org"])
ROWS = st.lists(st.tuples(st.from_regex(r"SF[0-9]{10}", fullmatch=True), PHONES, EMAILS, PHONES, EMAILS).map(list),
                min_size=1, max_size=3 * RECENT // 2)


def _batch(rows):
    key = Key(bytes(32))
    return python_batch(rows, mark_plan(SCHEMA), AnchorHasher(key), key, [0, 1] * 8, 16,
                        lambda anchors: None, lambda seed: False)


def _memory():
    return SimpleNamespace(recent=Window(RECENT), known=set(), known_columns=[2, 4],
                           phone_counts=PhoneCounts(export.PHONE_COUNT_LIMIT))


def _state(memory):
    return list(memory.recent), memory.known, memory.phone_counts.seen()


@settings(max_examples=40, deadline=None)
@given(rows=ROWS, cuts=st.lists(st.integers(0, 3 * RECENT // 2), max_size=6),
       known_limit=st.integers(1, 8), phone_limit=st.integers(1, 8))
def test_remembering_stretches_is_remembering_each_row(rows, cuts, known_limit, phone_limit):
    batch = _batch(rows)
    bounds = sorted({0, len(rows), *[c for c in cuts if c <= len(rows)]})
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(export, "KNOWN_LIMIT", known_limit)
        monkeypatch.setattr(export, "PHONE_COUNT_LIMIT", phone_limit)
        by_stretch, by_row = _memory(), _memory()
        for start, stop in zip(bounds, bounds[1:]):
            export._Exporter.remember(by_stretch, batch, start, stop)
        for i in range(len(rows)):
            export._Exporter.remember(by_row, batch, i, i + 1)
    assert _state(by_stretch) == _state(by_row)


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 300), min_size=1, max_size=6), cuts=st.lists(st.integers(0, 300), max_size=4),
       python_batch=st.integers(-1, 5))
def test_the_window_knows_which_batch_row_each_of_its_rows_is(sizes, cuts, python_batch):
    """Remembered in stretches (or row by row), batches leave in the window pieces that name, for each row
    still in it, its batch and its index there (``Window.pieces``: what the address column reads from
    the bytes); rows of a batch with no source are the window's own."""
    memory = _memory()
    for number, size in enumerate(sizes):
        rows = [[f"SF{number:02d}{i:08d}", "", "", "", ""] for i in range(size)]
        batch = _batch(rows)
        batch.source = None if number == python_batch else rows  # a list stands in for a RecordBatch
        bounds = sorted({0, size, *[c for c in cuts if c <= size]})
        for start, stop in zip(bounds, bounds[1:]):
            export._Exporter.remember(memory, batch, start, stop)
    window = memory.recent
    seen = []
    for first, last, source, at in window.pieces(window.start, window.end):
        seen += [None] * (last - first) if source is None else source[at:at + last - first]
    assert len(seen) == len(window) and all(s is None or s == row for s, row in zip(seen, window))
    assert [row for s, row in zip(seen, window) if s is None] == [
        row for row in window if int(row[0][2:4]) == python_batch]
    assert len(window.sources) <= len(sizes) + 1


def test_phones_are_counted_per_row_in_a_stretch():
    rows = [["SF0000000001", "13800138000", "", "13800138000", ""], ["SF0000000002", "138 0013 8000", "", "", ""]]
    memory = _memory()
    export._Exporter.remember(memory, _batch(rows), 0, 2)
    assert list(memory.phone_counts.seen().values()) == [True]  # one phone, on both rows
    assert list(memory.recent) == rows


@settings(max_examples=80, deadline=None)
@given(spooled=st.lists(st.integers(-2**63, 2**63 - 1), max_size=300), asked=st.lists(st.integers(-5, 5), max_size=20),
       chunk=st.integers(1, 64))
def test_the_spool_tells_which_decoy_values_are_real_rows_further_down(spooled, asked, chunk):
    """``in_spool``: exactly the asked digests some spooled row has, whichever chunk they are in."""
    import io

    import numpy as np

    from tracer import spool as spooling

    digests = spooled + [-5, 0, 5] + spooled[:3]
    asked = asked + digests[::7]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(spooling, "SPOOL_CHUNK", chunk)
        found = spooling.in_spool(dict.fromkeys(asked), io.BytesIO(np.array(digests, dtype="<i8").tobytes()))
    assert found == set(asked) & set(digests)
