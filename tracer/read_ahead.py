"""The byte reader's batches read by the native engines one batch ahead, on a second thread.

A match spends about as long reading a batch's anchors and marks (the engine,
in Rust) as summing the last batch in (``Evidence.absorb``: numpy and the
registry).  The engine releases the GIL while it reads a batch
(``Engine.read_records_free``), so a thread reads the next batch while the
main thread sums in the last: on two cores, the two halves overlap.

Nothing else changes: batches come in file order, each engine reads each batch
once, in the same order (so its digest cache, and every array, is what the
read on the main thread gives), and a failure of the reader, or of an engine's
read, comes where it came before: after the batches read before it.  At most
``DEPTH`` batches wait, so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
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

    def work() -> None:
        try:
            for batch in batches:
                if not put(Ahead(batch, [_read(engine, batch, length) for engine in engines])):
                    return
        except BaseException as exc:  # the reader's failure, handed on to where the batches are used
            put(exc)
        else:
            put(_DONE)

    thread = threading.Thread(target=work, name="tracer-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := waiting.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _read(engine, batch, length: int):
    """One engine's arrays for ``batch``: without the GIL when the native scanners decide every cell."""
    if engine is None:
        return None
    try:
        return engine.read_records_free(batch, length) or engine.read_records(batch, length)
    except Exception as exc:  # raised again where the batch is summed in, as a read there would raise it
        return exc
