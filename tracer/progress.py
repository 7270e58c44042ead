"""Counting rows as they stream past, for a progress display the caller may attach."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Row = TypeVar("Row")
OnRows = Callable[[int], None]
EVERY = 2000


def counted(rows: Iterable[Row], on_rows: OnRows | None, every: int = EVERY) -> Iterator[Row]:
    """Yield ``rows`` unchanged, telling ``on_rows`` how many went by, every ``every`` rows."""
    if on_rows is None:
        yield from rows
        return
    count = 0
    for row in rows:
        yield row
        count += 1
        if count % every == 0:
            on_rows(every)
    on_rows(count % every)


def counted_batches(batches: Iterable, on_rows: OnRows | None, every: int = EVERY) -> Iterator:
    """Yield ``batches`` (sized) unchanged, telling ``on_rows`` what ``counted`` tells it for their rows."""
    if on_rows is None:
        yield from batches
        return
    count = 0
    for batch in batches:
        for _ in range((count + len(batch)) // every - count // every):
            on_rows(every)
        count += len(batch)
        yield batch
    on_rows(count % every)
