"""The rows a canary is drawn from, with what the draws ask of each column kept as rows come and go.

A canary's draws ask questions of a whole window (512 rows): how many of its
addresses have the home's shape, which distinct ones, how many numbers the
longest has, whether a cell is its address's first row, which emails are
taken, which rows hold one.  Asked of the rows each time, those cost the
window (about 2 ms a canary on 200k waybills); here each column a draw looks
at is kept as a list of its cells, brought up to date by deleting the cells
of the rows that left and appending those that entered since the last draw;
whole-column questions (counts, positions, cells of a kind) are then list
methods at C speed.  (An index kept cell by cell cost more than it saved: a
canary is drawn about every 50 rows, so nearly every row entered and left it.)

The answers are exactly those the rows give (same counts, same cells in the
same order): the draws make the same rng calls with the same arguments, and
an export's bytes do not change.

A column is indexed the first time a draw asks for it, and brought up to date
only when one asks again: rows that pass through the window between two
canaries are never read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import islice
from operator import itemgetter

from .address_reading import SEPARATOR, address_key, address_keys

# Cells a draw reads again are those of the last rows (canaries.RECENT, 512): a few thousand distinct
# cells per cache keep the reuse.  At 2^14 the caches took 1M-row exports ~8 MB past 100k-row ones.
WINDOW_CACHE = 1 << 12


class Window(Sequence):
    """The last ``size`` rows (oldest first), as a sequence, with the indexes of the columns draws asked about.

    Row ``k`` of the window is the ``start + k``-th row that ever entered it
    (``start``: how many have left), which is how an index knows what it has
    read.
    """

    def __init__(self, size: int, rows: Sequence[Sequence[str]] = ()):
        self.rows: deque[Sequence[str]] = deque(maxlen=size)
        self.end = 0  # rows that ever entered
        self._indexes: dict[tuple[str, int], _ColumnIndex] = {}
        # where rows came from, oldest first: (the first's row number, its source or None, the first's index
        # in it); a piece holds the rows up to the next piece's first
        self.sources: deque[tuple[int, object, int]] = deque()
        self.extend(rows)

    def extend(self, rows: Sequence[Sequence[str]], source=None, at: int = 0) -> None:
        """Rows entering, oldest first (the oldest of the window leave as they do); ``source``: what they are
        rows ``at``... of (an export ``Batch``'s ``source``: the byte reader's batch and its address keys),
        which an index may read instead of the rows."""
        if rows:
            if not self._continues(source, at):
                self.sources.append((self.end, source, at))
            self.rows.extend(rows)
            self.end += len(rows)
            start = self.start
            while len(self.sources) > 1 and self.sources[1][0] <= start:
                self.sources.popleft()

    def _continues(self, source, at: int) -> bool:
        """Whether rows from ``source`` at ``at`` follow on the last piece (Python rows follow on Python rows)."""
        if not self.sources:
            return False
        begin, last, last_at = self.sources[-1]
        return last is source and (source is None or last_at + self.end - begin == at)

    def pieces(self, first: int, last: int) -> Iterator[tuple[int, int, object, int]]:
        """Rows ``first`` to ``last`` (row numbers, in the window) as (first, last, source, index of the
        first in the source) pieces, oldest first."""
        sources = self.sources
        for k, (begin, source, at) in enumerate(sources):
            end = sources[k + 1][0] if k + 1 < len(sources) else self.end
            lo, hi = max(begin, first), min(end, last)
            if lo < hi:
                yield lo, hi, source, at + (lo - begin)

    @property
    def start(self) -> int:
        return self.end - len(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return list(self.rows)[k]
        return self.rows[k]

    def __iter__(self) -> Iterator[Sequence[str]]:
        return iter(self.rows)

    def __reversed__(self) -> Iterator[Sequence[str]]:
        return reversed(self.rows)

    def newest(self, count: int) -> Iterator[Sequence[str]]:
        """The last ``count`` rows, oldest first (taken from the end: a deque is walked from its ends)."""
        if count >= len(self.rows):
            return iter(self.rows)
        return reversed(list(islice(reversed(self.rows), count)))

    def addresses(self, index: int) -> "AddressIndex":
        return self._index("address", index, AddressIndex)

    def emails(self, index: int) -> "EmailIndex":
        return self._index("email", index, EmailIndex)

    def _index(self, kind: str, index: int, make):
        found = self._indexes.get((kind, index))
        if found is None:
            found = self._indexes[(kind, index)] = make(index, self.rows.maxlen)
        found.follow(self)
        return found


class _ColumnIndex:
    """One column's cells in the window, in row order, brought up to date by what entered and left.

    ``follow`` deletes the cells of the rows that left (one ``del`` of a
    slice) and reads those that entered since the last draw; the questions a
    draw asks of the whole column are then list methods (``count``,
    ``index``), run at C speed, with no Python per cell.  A Python index kept
    cell by cell (a deque of rows per distinct cell) was tried and cost more:
    a canary is drawn about every 50 rows, so every row entered and left it,
    at a few microseconds each, where the list methods cost a few
    nanoseconds a cell.
    """

    def __init__(self, index: int, size: int):
        self.index, self.size = index, size
        self.start = self.end = 0  # the rows indexed: start + k is row k
        self.cells: list[str] = []

    def follow(self, window: Window) -> None:
        start, end = window.start, window.end
        if end == self.end and start == self.start:
            return
        if start >= self.end:  # every row indexed has left: read the window afresh
            self._drop(len(self.cells))
            self.start = self.end = start
        self._drop(start - self.start)
        first = self.end
        new = list(map(itemgetter(self.index), window.newest(end - first)))
        self.start, self.end = start, end
        self._add(new, window, first)

    def _drop(self, count: int) -> None:
        del self.cells[:count]

    def _add(self, cells: list[str], window: Window, first: int) -> None:
        """``cells``: those of the window's rows ``first``... (row numbers), which just entered."""
        self.cells += cells

    def __len__(self) -> int:
        return self.end - self.start

    def cell(self, k: int) -> str:
        """The cell of window row ``k``."""
        return self.cells[k]

    def count(self, cell: str) -> int:
        """Rows holding ``cell``."""
        return self.cells.count(cell)

    def first(self, cell: str) -> int:
        """The window row of ``cell``'s first occurrence; ``cell`` is in the window."""
        return self.cells.index(cell)

    def distinct(self) -> list[str]:
        """Every distinct cell, in the order of their first rows."""
        return list(dict.fromkeys(self.cells))


class AddressIndex(_ColumnIndex):
    """An address column: each cell's kind key and number count (``address_key``), read once as it
    enters, the rows entering between two draws in one pass (``address_keys``).

    With the native engine the keys and counts are kept in its ``AddressColumn`` instead, which also
    draws a Chinese canary address from them (``canary_draws.address_from_rows``, the same draws); the
    lists are made from it only for a draw it leaves to Python."""

    def __init__(self, index: int, size: int):
        super().__init__(index, size)
        self.native = native_address_column()
        self._keys: list[str] = []
        self._counts: list[int] = []
        self._lists_at = (0, 0)  # (start, end) the native column's lists were made at

    def _drop(self, count: int) -> None:
        super()._drop(count)
        if self.native is not None:
            self.native.drop_front(count)
        else:
            del self._keys[:count], self._counts[:count]

    def _add(self, cells: list[str], window: Window, first: int) -> None:
        super()._add(cells, window, first)
        if self.native is not None:
            for lo, hi, source, at in window.pieces(first, first + len(cells)):
                if source is not None:  # the byte reader's batch: its cells read from its bytes, keyed already
                    batch, keys = source
                    self.native.add_records(batch, self.index, at, hi - lo, address_key, keys)
                    continue
                piece = cells[lo - first:hi - first]
                if not self.native.add(SEPARATOR.join(piece), len(piece), address_key):
                    for cell in piece:  # one holds the separator
                        self.native.add_one(cell, address_key)
            return
        keys, counts = address_keys(cells)
        self._keys += keys
        self._counts += counts

    def _lists(self) -> None:
        if self.native is not None and self._lists_at != (self.start, self.end):
            self._keys, self._counts = self.native.keys(), self.native.counts()
            self._lists_at = (self.start, self.end)

    @property
    def keys(self) -> list[str]:
        self._lists()
        return self._keys

    @property
    def counts(self) -> list[int]:
        self._lists()
        return self._counts

    def number_count(self, k: int) -> int:
        """How many numbers window row ``k``'s address has."""
        return self.counts[k]

    def others_of_kind(self, cell: str) -> list[str]:
        """The distinct addresses of ``cell``'s kind other than ``cell``, in the order of their first rows:
        one ``index`` pass over the keys, stopping at each of them (an address has few kind-mates)."""
        key, keys, cells = address_key(cell)[0], self.keys, self.cells
        found: dict[str, None] = {}
        k = -1
        try:
            while True:
                k = keys.index(key, k + 1)
                found[cells[k]] = None
        except ValueError:
            pass
        found.pop(cell, None)
        return list(found)

    def most_numbers(self) -> int:
        """The most numbers any address in the window has (0 for none)."""
        return max(self.counts, default=0)


class EmailIndex(_ColumnIndex):
    """An email column: the cells stripped and in lower case (taken by real rows, never a canary's), and
    the domains of the rows holding an email, in row order; each made when a draw first asks."""

    def __init__(self, index: int, size: int):
        super().__init__(index, size)
        self._folded: set[str] | None = None
        self._domains: list[str] | None = None

    def _add(self, cells: list[str], window: Window, first: int) -> None:
        super()._add(cells, window, first)
        self._folded = self._domains = None

    def _drop(self, count: int) -> None:
        super()._drop(count)
        self._folded = self._domains = None

    @property
    def folded(self) -> set[str]:
        if self._folded is None:
            self._folded = set(map(folded, self.cells))
        return self._folded

    def holds_email(self) -> bool:
        return any("@" in c for c in self.cells)

    @property
    def domains(self) -> list[str]:
        if self._domains is None:
            self._domains = [d for d in map(domain_of, self.cells) if d is not None]
        return self._domains

    def domain(self, k: int) -> str | None:
        """The domain of window row ``k``'s email, None when it holds none."""
        return domain_of(self.cells[k])


def native_address_column():
    """A native ``AddressColumn`` when the native engine runs, else None (the Python reference)."""
    from . import engine  # here: the engine's module imports what imports this one

    return engine.native_or_none("AddressColumn")


@lru_cache(maxsize=WINDOW_CACHE)
def folded(text: str) -> str:
    return text.strip().lower()


@lru_cache(maxsize=WINDOW_CACHE)
def domain_of(cell: str) -> str | None:
    return cell.strip().rsplit("@", 1)[1] if "@" in cell else None
