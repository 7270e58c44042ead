"""The rows a canary is drawn from, with what the draws ask of each column kept as rows come and go.

A canary's draws ask questions of a whole window (512 rows): how many of its
addresses have the home's shape, which distinct ones, how many numbers the
longest has, whether a cell is its address's first row, which emails are
taken, which rows hold one.  Asked of the rows each time, those cost the
window (about 2 ms a canary on 200k waybills); here each column a draw looks
at is indexed once, and then kept up to date with the rows that entered and
left since the last draw, so a draw's cost does not grow with the window.

The answers are exactly those the rows give (same counts, same cells in the
same order): the draws make the same rng calls with the same arguments, and
an export's bytes do not change.

A column is indexed the first time a draw asks for it, and brought up to date
only when one asks again: rows that pass through the window between two
canaries are never read.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import islice

from .address_reading import address_kind


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
        self.extend(rows)

    def extend(self, rows: Sequence[Sequence[str]]) -> None:
        """Rows entering, oldest first (the oldest of the window leave as they do)."""
        self.rows.extend(rows)
        self.end += len(rows)

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
        """The last ``count`` rows, oldest first."""
        return islice(self.rows, len(self.rows) - count, None)

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
    """One column's cells in the window, by position, and the positions of each distinct cell.

    ``follow`` drops the rows that left (the oldest: each is its cell's first
    occurrence) and reads those that entered, oldest first.
    """

    def __init__(self, index: int, size: int):
        self.index, self.size = index, size
        self.start = self.end = 0  # the rows indexed: start + k is row k
        self.cells: list[str | None] = [None] * size  # by row number modulo size
        self.where: dict[str, deque[int]] = {}  # cell -> the rows holding it, in order

    def follow(self, window: Window) -> None:
        start, end = window.start, window.end
        if end == self.end and start == self.start:
            return
        for row in range(self.start, min(self.end, start)):
            self._leave(row)
        first_new = max(self.end, start)
        self.start, self.end = start, end
        if first_new < end:
            i = self.index
            self._enter(first_new, [row[i] for row in window.newest(end - first_new)])

    def _enter(self, first: int, cells: list[str]) -> None:
        size, where = self.size, self.where
        for row, cell in enumerate(cells, first):
            self.cells[row % size] = cell
            rows = where.get(cell)
            if rows is None:
                where[cell] = deque((row,))
            else:
                rows.append(row)

    def _leave(self, row: int) -> str:
        cell = self.cells[row % self.size]
        rows = self.where[cell]
        rows.popleft()
        if not rows:
            del self.where[cell]
        return cell

    def __len__(self) -> int:
        return self.end - self.start

    def cell(self, k: int) -> str:
        """The cell of window row ``k``."""
        return self.cells[(self.start + k) % self.size]

    def count(self, cell: str) -> int:
        """Rows holding ``cell`` (``column.count(cell)``)."""
        rows = self.where.get(cell)
        return len(rows) if rows is not None else 0

    def first(self, cell: str) -> int:
        """The window row of ``cell``'s first occurrence (``column.index(cell)``); ``cell`` is in the window."""
        return self.where[cell][0] - self.start

    def distinct(self) -> list[str]:
        """Every distinct cell, in the order of their first rows (``dict.fromkeys(column)``)."""
        return sorted(self.where, key=lambda cell: self.where[cell][0])


class AddressIndex(_ColumnIndex):
    """An address column: each cell's kind and number count (``address_kind``), read once as it enters;
    the cells of each kind in order; how many cells have each number count."""

    def __init__(self, index: int, size: int):
        super().__init__(index, size)
        self.counts: list[int] = [0] * size  # number count, by row number modulo size
        self.kinds: list[str] = [""] * size
        self.of_kind: dict[str, deque[str]] = {}  # kind -> its cells, in row order
        self.with_count: Counter[int] = Counter()  # number count -> rows

    def _enter(self, first: int, cells: list[str]) -> None:
        super()._enter(first, cells)
        size, of_kind = self.size, self.of_kind
        for row, (kind, count) in enumerate(map(address_kind, cells), first):
            self.kinds[row % size], self.counts[row % size] = kind, count
            same = of_kind.get(kind)
            if same is None:
                of_kind[kind] = deque((cells[row - first],))
            else:
                same.append(cells[row - first])
            self.with_count[count] += 1

    def _leave(self, row: int) -> str:
        cell = super()._leave(row)
        kind, count = self.kinds[row % self.size], self.counts[row % self.size]
        same = self.of_kind[kind]
        same.popleft()
        if not same:
            del self.of_kind[kind]
        self.with_count[count] -= 1
        if not self.with_count[count]:
            del self.with_count[count]
        return cell

    def number_count(self, k: int) -> int:
        """How many numbers window row ``k``'s address has."""
        return self.counts[(self.start + k) % self.size]

    def kind_count(self, kind: str) -> int:
        same = self.of_kind.get(kind)
        return len(same) if same is not None else 0

    def cells_of_kind(self, kind: str) -> Sequence[str]:
        """The cells of ``kind``, in row order."""
        return self.of_kind.get(kind, ())

    def most_numbers(self) -> int:
        """The most numbers any address in the window has (0 for none)."""
        return max(self.with_count, default=0)


class EmailIndex(_ColumnIndex):
    """An email column: the cells stripped and in lower case (taken by real rows, never a canary's), and
    the domain of each row holding an email, in row order."""

    def __init__(self, index: int, size: int):
        super().__init__(index, size)
        self.folded: Counter[str] = Counter()  # cell.strip().lower() -> rows
        self.domains: deque[str] = deque()  # the domain of each row holding an email, in row order

    def _enter(self, first: int, cells: list[str]) -> None:
        super()._enter(first, cells)
        self.folded.update(map(folded, cells))
        self.domains.extend(d for d in map(domain_of, cells) if d is not None)

    def _leave(self, row: int) -> str:
        cell = super()._leave(row)
        key = folded(cell)
        self.folded[key] -= 1
        if not self.folded[key]:
            del self.folded[key]
        if "@" in cell:
            self.domains.popleft()
        return cell

    def domain(self, k: int) -> str | None:
        """The domain of window row ``k``'s email, None when it holds none."""
        return domain_of(self.cell(k))


@lru_cache(maxsize=1 << 14)
def folded(text: str) -> str:
    return text.strip().lower()


@lru_cache(maxsize=1 << 14)
def domain_of(cell: str) -> str | None:
    return cell.strip().rsplit("@", 1)[1] if "@" in cell else None
