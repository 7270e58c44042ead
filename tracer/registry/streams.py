"""Sorted streams of exposure rows (``runs``): an export's chunks spilled sorted, a k-way merge, blocks.

A stream yields (digests, export ids) pieces, sorted by digest then export id
across the pieces; what is merged is read a piece at a time, so an export or a
merge of any size holds a few pieces per input in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .bloom import Bloom

# Digests a merge input holds in memory at a time.  A round emits about a piece per input, copied a few
# times on its way to the blocks: at 2^15 a 1M-row export's 12 spans made ~30 MB of such copies, at 2^13 ~8.
READ_ROWS = 1 << 13
SPILL_ROWS = 1 << 18  # digests gathered into one sorted span of a spilled export
EMPTY = np.empty(0, dtype=np.int64)


def distinct(digests: np.ndarray, merging: bool = False) -> np.ndarray:
    """Sorted, each once (a sort and a mask: several times faster than ``np.unique`` on 64-bit hashes).
    ``merging``: the input is a few sorted runs end to end, which a stable sort (timsort) merges."""
    digests = np.sort(digests, kind="stable" if merging else None)
    if len(digests) < 2:
        return digests
    keep = np.empty(len(digests), dtype=bool)
    keep[0] = True
    np.not_equal(digests[1:], digests[:-1], out=keep[1:])
    return digests[keep]


def spill(to, chunks: Iterable[Iterable[int]]) -> list[tuple[int, int]]:
    """The chunks, gathered up to ``SPILL_ROWS`` digests at a time, each gathering sorted and distinct into
    a temporary file: (offset, digests) of each.

    The merge that reads them back holds up to ``READ_ROWS`` of every span, so
    spans as many as the export's chunks made memory grow with the export (a
    million rows: 42 spans of the spool's 64k chunks, ~1.4 million digests
    held); gathered, a million rows are 11 spans and 100k rows 2.
    """
    spans, held, rows = [], [], 0

    def write() -> None:
        digests = distinct(np.concatenate(held))
        if len(digests):
            spans.append((to.tell(), len(digests)))
            to.write(digests.astype("<i8").tobytes())
        held.clear()

    for chunk in chunks:
        held.append(np.asarray(chunk, dtype=np.int64))
        rows += len(held[-1])
        if rows >= SPILL_ROWS:
            write()
            rows = 0
    if held:
        write()
    return spans


def spilled(source, offset: int, n: int, export_id: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One spilled chunk, a piece at a time."""
    for start in range(0, n, READ_ROWS):
        source.seek(offset + 8 * start)
        digests = np.frombuffer(source.read(8 * min(READ_ROWS, n - start)), dtype="<i8")
        yield digests, np.full(len(digests), export_id, dtype=np.int64)


def merge(streams: list[Iterator[tuple[np.ndarray, np.ndarray]]], one_export: bool = False
          ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """K-way merge of streams sorted by (digest, export id), each a piece at a time; equal rows once.

    Each round emits every held row below the smallest last digest among the
    streams that have more to come, then reads the next piece of that
    stream: what is emitted is below anything still unread, and memory stays
    about one piece per stream.
    """
    if not streams:
        return
    held = [(EMPTY, EMPTY)] * len(streams)
    more = [True] * len(streams)

    def pull(i: int) -> None:
        piece = next(streams[i], None)
        if piece is None:
            more[i] = False
        else:
            held[i] = (np.concatenate([held[i][0], piece[0]]), np.concatenate([held[i][1], piece[1]]))

    for i in range(len(streams)):
        pull(i)
    while True:
        open_ = [i for i in range(len(streams)) if more[i]]
        bound = min((held[i][0][-1] if len(held[i][0]) else np.iinfo(np.int64).min for i in open_), default=None)
        out_d, out_e = [], []
        for i, (d, e) in enumerate(held):
            cut = len(d) if bound is None else int(np.searchsorted(d, bound, "left"))
            out_d.append(d[:cut])
            out_e.append(e[:cut])
            held[i] = (d[cut:], e[cut:])
        digests, exports = np.concatenate(out_d), np.concatenate(out_e)
        if len(digests) and one_export:  # every row the same export's: the digests alone order them
            digests = distinct(digests, merging=True)
            yield digests, np.full(len(digests), exports[0], dtype=np.int64)
        elif len(digests):
            order = np.lexsort((exports, digests))
            digests, exports = digests[order], exports[order]
            keep = np.ones(len(digests), dtype=bool)
            keep[1:] = (digests[1:] != digests[:-1]) | (exports[1:] != exports[:-1])
            yield digests[keep], exports[keep]
        if bound is None:
            return
        lowest = min(open_, key=lambda i: held[i][0][-1] if len(held[i][0]) else np.iinfo(np.int64).min)
        pull(lowest)


def adding_to(bloom: Bloom, pieces: Iterator[tuple[np.ndarray, np.ndarray]]
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for digests, exports in pieces:
        bloom.add(digests)
        yield digests, exports


def reblock(pieces: Iterator[tuple[np.ndarray, np.ndarray]], per_block: int
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Sorted pieces of any size as pieces of whole blocks of ``per_block`` rows (the last one shorter)."""
    held_d, held_e = EMPTY, EMPTY
    for digests, exports in pieces:
        held_d, held_e = np.concatenate([held_d, digests]), np.concatenate([held_e, exports])
        full = len(held_d) // per_block * per_block
        if full:
            yield held_d[:full], held_e[:full]
        held_d, held_e = held_d[full:], held_e[full:]
    if len(held_d):
        yield held_d, held_e
