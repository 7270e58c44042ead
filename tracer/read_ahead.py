"""The byte reader's batches parsed, and read or marked by the native engine, one batch ahead, on a second thread.

A match spends about as long reading a batch's anchors and marks (the engine,
in Rust) as summing the last batch in (``Evidence.absorb``: numpy and the
registry); an export spends a quarter of its time marking and the rest on
decoys, writing and registration, in Python.  The byte reader parses and the
engine reads or marks a batch with the GIL released
(``Engine.read_records_free``, ``Engine.mark_records(..., free=True)``), so a thread does
the next batch while the main thread handles the last: on two cores, the two
overlap.

Nothing else changes: batches come in file order, the engine does each batch
once, in the same order (so its digest cache, and every array, is what the
call on the main thread gives), and a failure of the reader, or of the
engine, comes where it came before: after the batches done before it.  At
most ``DEPTH`` batches wait, so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

DEPTH = 2  # batches read ahead and waiting
_DONE = object()


@dataclass
class Ahead:
    """A batch and each engine's read of it (its arrays, or the exception the read raised; None: no engine)."""

    batch: object
    reads: list

    def __len__(self) -> int:
        return len(self.batch)


def read_ahead(batches: Iterable, engines: Sequence, length: int) -> Iterator[Ahead]:
    """``batches`` (``RecordBatch``es), each with every engine's read of it, read on a second thread."""
    with closing(ahead(batches, lambda b: [_read(e, b, length) for e in engines])) as items:
        for batch, reads in items:
            yield Ahead(batch, reads)


def mark_ahead(batches: Iterable, native, *ask, address_columns: Sequence[int] = ()
               ) -> Iterator[tuple[object, tuple, object]]:
    """``batches`` (``RecordBatch``es), each with the engine's ``mark_records`` of it (``ask``: its
    arguments after the batch, the writer's csv dialect last) and the kind keys of its cells in
    ``address_columns`` (``address_keys``, None without), both made on a second thread."""
    with closing(ahead(batches, lambda b: (_mark(native, b, ask), _address_keys(b, address_columns)))) as items:
        for batch, (marked, keys) in items:
            if isinstance(marked, BaseException):
                raise marked
            yield batch, marked, keys


def ahead(batches: Iterable, work: Callable) -> Iterator[tuple[object, object]]:
    """Each of ``batches`` with ``work(batch)``, both done on a second thread, in order.  ``work``
    hands its own failures on as values; a failure of ``batches`` is raised after what came before."""
    waiting: queue.Queue = queue.Queue(maxsize=DEPTH)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for batch in batches:
                if not put((batch, work(batch))):
                    return
        except BaseException as exc:  # the reader's failure, handed on to where the batches are used
            put(exc)
        else:
            put(_DONE)

    thread = threading.Thread(target=run, name="tracer-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := waiting.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _mark(native, batch, ask: tuple):
    """The engine's marks of ``batch``: without the GIL when the native scanners decide every cell."""
    try:
        return native.mark_records(batch, *ask, free=True) or native.mark_records(batch, *ask)
    except Exception as exc:  # raised again where the batch is written, as a mark there would raise it
        return exc


def _address_keys(batch, columns: Sequence[int]):
    """The engine's ``address_keys`` of ``batch``: the window's address column looks them up instead of
    making them on the main thread.  None (the column makes them) without columns."""
    from . import engine

    return engine.native_or_none("address_keys", batch, list(columns)) if columns else None


def _read(engine, batch, length: int):
    """One engine's arrays for ``batch``: without the GIL when the native scanners decide every cell."""
    if engine is None:
        return None
    try:
        return engine.read_records_free(batch, length) or engine.read_records(batch, length)
    except Exception as exc:  # raised again where the batch is summed in, as a read there would raise it
        return exc
