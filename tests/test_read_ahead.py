"""Reading a leak's, or marking an export's, next batch on a second thread (``read_ahead``) while the
last one is summed in or written.

The engine's read and mark without the GIL (``Engine.read_records_free``,
``Engine.mark_records(..., free=True)``) must give the locked call's arrays and text, or
give the batch up when a cell needs the Python reference; the read-ahead must
hand batches on in order, each with its engines' work, and a failure where it
came before.
"""

from __future__ import annotations

import csv
import io
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracer import engine
from tracer.errors import InputError
from tracer.keys import Key
from tracer.marks import mark_plan
from tracer.read_ahead import mark_ahead, read_ahead

# _default_engine (autouse): these tests build the native engine under TRACER_ENGINE=python too
from .test_engine import HOSTILE, ROWS, SCHEMA, _default_engine  # noqa: F401

native = pytest.mark.skipif(engine._engine is None, reason="native engine not built")


def record_batch(rows: list[list[str]]):
    """``rows`` as the byte reader parses them from a csv file (no header)."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    width = len(rows[0])
    reader = engine._engine.CsvReader(",", False, width, width, False, 1 << 20, 1 << 20, 1 << 20)
    reader.feed(text.getvalue().encode())
    reader.finish()
    batch = reader.take(len(rows))
    assert batch is not None and len(batch) == len(rows) and reader.counts()[1:] == (0, 0, 0)
    return batch


@native
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, secret=st.binary(min_size=32, max_size=32))
def test_a_batch_read_without_the_gil_is_the_locked_read(rows, secret):
    rows = [[cell.replace("\x00", "").replace("\r", "").replace("\n", "") for cell in row] for row in rows]
    plan = mark_plan(SCHEMA, alternatives=True)
    free, locked = engine.native_engine(Key(secret), plan), engine.native_engine(Key(secret), plan)
    batch = record_batch(rows)
    read = free.read_records_free(batch, 97)
    assert read is None or read == locked.read_records(batch, 97)


@native
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, secret=st.binary(min_size=32, max_size=32), below=st.integers(0, 1 << 64),
       bits=st.lists(st.integers(0, 1), min_size=97, max_size=97),
       dialect=st.sampled_from([(",", False, "\r\n"), ("\t", True, "\n")]))
def test_a_batch_marked_without_the_gil_is_the_locked_mark(rows, secret, below, bits, dialect):
    rows = [[cell.replace("\x00", "").replace("\r", "").replace("\n", "") for cell in row] for row in rows]
    plan = mark_plan(SCHEMA, alternatives=True)
    free, locked = engine.native_engine(Key(secret), plan), engine.native_engine(Key(secret), plan)
    batch = record_batch(rows)
    ask = (bytes(bits), b"uid-1", below, below // 2, dialect)
    marked = free.mark_records(batch, *ask, free=True)
    assert marked is None or marked == locked.mark_records(batch, *ask)


@native
def test_a_cell_the_reference_decides_gives_the_batch_up():
    """A full-width phone is read by the Python reference: the batch is read with the GIL instead."""
    plan = mark_plan(SCHEMA, alternatives=True)
    phone = next(i for i, c in enumerate(SCHEMA.columns) if c.kind == "phone")
    row = ["13800138000" if c.kind == "phone" else "x" for c in SCHEMA.columns]
    eng = engine.native_engine(Key(bytes(32)), plan)
    assert eng.read_records_free(record_batch([row]), 97) is not None
    assert "１３８００１３８０００" in HOSTILE
    ask = (bytes(97), b"u", 0, 0, (",", False, "\n"))
    assert eng.mark_records(record_batch([row]), *ask, free=True) is not None
    row[phone] = "１３８００１３８０００"
    assert eng.read_records_free(record_batch([row]), 97) is None
    assert eng.mark_records(record_batch([row]), *ask, free=True) is None


class _Engine:
    """An engine's face as ``read_ahead`` calls it: a read without the GIL, or None, then the locked read."""

    def __init__(self, name: str, free: bool = True):
        self.name, self.free = name, free

    def read_records_free(self, batch, length):
        return (self.name, "free", batch, length) if self.free else None

    def read_records(self, batch, length):
        if batch == ["bad"]:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogate")
        return (self.name, "locked", batch, length)


def _batches(failure=None):
    yield from (["a"], ["b", "c"], ["bad"], ["d"])
    if failure:
        raise failure


def test_batches_come_in_order_with_every_engines_read():
    got = [(item.batch, item.reads) for item in read_ahead(_batches(), [_Engine("one"), _Engine("two", False), None], 9)]
    assert [batch for batch, _ in got] == [["a"], ["b", "c"], ["bad"], ["d"]]
    assert got[1][1][:2] == [("one", "free", ["b", "c"], 9), ("two", "locked", ["b", "c"], 9)]
    assert all(reads[2] is None for _, reads in got)
    assert isinstance(got[2][1][1], UnicodeEncodeError)  # raised where the batch is summed in, not here


def test_a_reader_failure_comes_after_the_batches_before_it():
    seen = []
    with pytest.raises(InputError, match="line 5"):
        for item in read_ahead(_batches(InputError("leak.csv: line 5: bad bytes")), [_Engine("one")], 9):
            seen.append(item.batch)
    assert seen == [["a"], ["b", "c"], ["bad"], ["d"]]


def test_stopping_early_stops_the_thread():
    stream = read_ahead(_batches(), [_Engine("one")], 9)
    assert next(stream).batch == ["a"]
    stream.close()
    assert not any(t.name == "tracer-read-ahead" for t in threading.enumerate())


class _Marker:
    """An engine's face as ``mark_ahead`` calls it: a mark without the GIL, or None, then the locked mark."""

    def mark_records(self, batch, *ask, free=False):
        if batch == ["bad"]:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogate")
        return None if free and batch == ["b", "c"] else ("free" if free else "locked", batch, ask)


def test_marks_come_in_order_and_a_failed_mark_where_its_batch_is_written():
    dialect = (",", False, "\n")
    stream = mark_ahead(_batches(), _Marker(), b"bits", dialect)
    assert next(stream) == (["a"], ("free", ["a"], (b"bits", dialect)), None)  # no address columns: no keys
    assert next(stream) == (["b", "c"], ("locked", ["b", "c"], (b"bits", dialect)), None)  # the free mark gave up
    with pytest.raises(UnicodeEncodeError):
        next(stream)
    assert not any(t.name == "tracer-read-ahead" for t in threading.enumerate())
