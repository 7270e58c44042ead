"""The exposure spool: one export's anchor digests, in a temporary file while the rows stream.

The exporter cannot hold an export's digests in memory (a million rows are
~2.7 million digests) and must not register them before the file is whole:
they go to a spool, which registration reads back (from the start each
time, so that a registration cut off by a lost connection is made again),
and which tells, at the end of the one pass, which decoy values turned out
to be real records further down the same export.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

SPOOL_CHUNK = 1 << 16  # digests read back at a time


def spool_chunks(spool) -> Iterator[np.ndarray]:
    spool.seek(0)
    while True:
        data = spool.read(8 * SPOOL_CHUNK)
        if not data:
            return
        yield np.frombuffer(data, dtype="<i8")


class Rereadable:
    """The spooled exposure digests, read from the start each time: a registration cut off by a lost
    connection is made again (see ``Registry.record_export``)."""

    def __init__(self, spool):
        self.spool = spool

    def __iter__(self) -> Iterator[np.ndarray]:
        return spool_chunks(self.spool)


def demote_colliding_canaries(canaries: dict[int, int], spool) -> None:
    """A canary value that is also a real record further down this export is no evidence: its space becomes 0.

    While streaming, a canary's new phone can only be checked against what
    was exported before; in a million-row export one of ~15,000 new phones
    is, by chance, a real customer's further down.  That value would then
    point at this account whenever the real record leaks from anyone, so it
    is registered as no evidence (the canary row stays, its other values
    still count).  Demoting instead of exporting again keeps export one pass.
    """
    for digest in in_spool(canaries, spool):
        canaries[digest] = 0


def drop_colliding_shared(shared: dict, spool) -> None:
    """A shared decoy value that is also a real record further down this export is not registered.

    It would read as the slot's symbols whenever the real record leaks; unregistered, the
    decoy row stays in the file and its slot reads as an erasure."""
    for digest in in_spool(shared, spool):
        del shared[digest]


def in_spool(digests, spool) -> set[int]:
    """Which of ``digests`` are anchors of this export's real rows."""
    if not digests:
        return set()
    wanted = np.unique(np.fromiter(digests, dtype=np.int64))
    found: set[int] = set()
    for chunk in spool_chunks(spool):  # each spooled digest's place among the few wanted (``isin`` sorted both)
        at = np.minimum(np.searchsorted(wanted, chunk), len(wanted) - 1)
        found.update(chunk[wanted[at] == chunk].tolist())
    return found
