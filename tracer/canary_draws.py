"""A canary person's name, address numbers and email, each drawn whole from the export's own rows.

tracer is public, so any list a canary draws from is public too: a broker who
reads faker's given names drops every row whose names are all on it (on a
real export that removed every canary and 3% of the real rows).  A canary is
therefore made of *this export's* values, recombined:

- its name is one row's surname joined to another row's given name (their
  length and characters as they occur here), never a donor's full name;
- each number of its address (house, building, unit, floor, room) is the same
  role's number of another row, taken whole, from a row of the same estate or
  street when there is one (same address text once the numbers are removed):
  room 1201 stays floor 12 door 01, building numbers stay in the estate's range;
- its email is its own name in the style of another row's (first.last,
  flast, lastfirst...), with that row's digits, at a domain another row uses.

When the export gives nothing to draw from (one row, names no split finds),
the caller falls back to ``canary_values``' built-in lists and says so.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import chain

from .address_reading import CJK, CN_ROLE_HINTS, address_numbers, address_roles
from .canary_values import below
from .canary_window import WINDOW_CACHE, AddressIndex, EmailIndex, Window
from .columns import CN_NAME, EN_NAME

# Two-character surnames: only to tell where a name's surname ends (欧阳娜娜), never drawn from.
COMPOUND_SURNAMES = frozenset((
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 夏侯 轩辕 令狐 宇文 司徒 端木 "
    "独孤 南宫 西门 万俟 闻人 东郭 呼延 澹台 公冶 申屠 太史 钟离 百里 左丘 赫连 单于").split())



class Draw:
    """The rows a canary is drawn from, its rng, and whether a built-in list had to stand in.

    A canary takes a few of the window's rows, so the window is never shuffled
    whole: ``order`` draws positions one at a time (a Fisher-Yates shuffle
    stopped where the caller stops), whose first k are distributed exactly as
    the first k of a full shuffle.  A canary costs the rows it looks at, not
    the window (a full shuffle per party was most of an export's time).
    What the draws ask of a whole column (address kinds, taken emails) comes
    from the window's indexes (``canary_window``), kept from draw to draw when
    ``recent`` is the exporter's ``Window``.
    """

    def __init__(self, recent: Sequence[Sequence[str]], rng: random.Random,
                 known: Callable[[str], bool] | None = None, pool: Mapping[str, Sequence[str]] | None = None):
        self.recent = recent if isinstance(recent, Window) else Window(max(1, len(recent)), recent)
        self.rng = rng
        self.below = below(rng)
        self.known = known or (lambda text: False)  # a value some real row of the export carries
        self.pool = {kind: list(numbers) for kind, numbers in (pool or {}).items()}  # kind -> unused pool numbers
        self.pooled: set[int] = set()  # columns given a pool number
        self.fallback = False

    def pool_number(self, kind: str) -> str | None:
        """An unused pool number of this kind ('cn', 'us'), taken out of the pool; None if none is left."""
        numbers = self.pool.get(kind)
        if not numbers:
            return None
        return numbers.pop(self.rng.randrange(len(numbers)))

    def row(self) -> Sequence[str]:
        return self.recent.rows[self.below(len(self.recent))]

    def order(self) -> Iterator[int]:
        """The recent rows' positions in a uniformly random order, drawn as they are taken
        (``below(n - i)`` is ``randrange(i, n) - i``)."""
        n, moved, below = len(self.recent), {}, self.below
        for i in range(n):
            j = i + below(n - i)
            yield moved.get(j, j)
            moved[j] = moved.pop(i, i)

    def cells(self, index: int) -> Iterator[str]:
        """Every recent row's cell in one column, in a random order (the draw's own)."""
        rows = self.recent.rows
        return (rows[k][index] for k in self.order())

    def rows(self) -> Iterator[Sequence[str]]:
        rows = self.recent.rows
        return (rows[k] for k in self.order())

    def taken(self, columns: Sequence[int]) -> Container[str]:
        """The recent rows' values in these columns, stripped and in lower case."""
        if len(columns) == 1:
            return self.recent.emails(columns[0]).folded
        return {cell for i in columns for cell in self.recent.emails(i).folded}


# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------

@lru_cache(maxsize=WINDOW_CACHE)
def split_name(text: str) -> tuple[str, str] | None:
    """(surname, given name) of a plausible name, else None: 王浩 -> (王, 浩), Amy Lee -> (Lee, Amy)."""
    t = text.strip()
    if CN_NAME.match(t) and "·" not in t:
        cut = 2 if len(t) > 2 and t[:2] in COMPOUND_SURNAMES else 1
        return t[:cut], t[cut:]
    if EN_NAME.match(t):
        parts = t.split()
        return parts[-1], " ".join(parts[:-1])
    return None


@lru_cache(maxsize=WINDOW_CACHE)
def _name_parts(text: str) -> tuple[bool, str, str] | None:
    """(written in Chinese, surname, given name) of a cell holding a name, else None."""
    parts = split_name(text)
    return None if parts is None else (bool(CJK.search(text)), *parts)


SURNAME_TRIES = 16  # other surnames tried when the kin's makes no new person with any given name around


def name_from_rows(kin_name: str, index: int, draw: Draw, avoid: set[str],
                   donor: Callable[[Sequence[str]], bool] | None = None) -> str | None:
    """``kin_name``'s surname with another row's given name; None if no new person can be made.

    The full name is never that of a row the canary is built from (``avoid``:
    the kin's, the home row's; nor the given name's own row): no canary is a
    donor at a new phone.  It may be a *namesake* of some other real person,
    as often as real people are each other's: forbidding every real name
    leaves canaries only the rare ones (in a large export every common name
    is taken), and a classifier found them by that (AUC 0.61 on names).
    The given name is that of the first row, in a random order of the rows,
    which gives a new person: each such row as likely (a given name as often
    as rows carry it).  When the kin's surname makes no new person, other
    rows' surnames are tried, in the order their rows came.  ``donor`` (when
    given) tells the rows a given name may come from.
    """
    kin = split_name(kin_name)
    if kin is None:
        return None
    cjk = bool(CJK.search(kin_name))

    def new(surname: str, cell: str, given: str) -> str | None:
        full = surname + given if cjk else f"{given} {surname}"
        return full if full not in avoid and full != cell.strip() else None

    seen: list[tuple[str, str, str]] = []  # (cell, surname, given) of the rows drawn so far, in order
    for row in draw.rows():
        cell = row[index]
        parts = _name_parts(cell)
        if parts is None or parts[0] != cjk or (donor is not None and not donor(row)):
            continue
        seen.append((cell, parts[1], parts[2]))
        full = new(kin[0], cell, parts[2])
        if full is not None:
            return kin_name.replace(kin_name.strip(), full)
    # Every row was drawn (the kin's surname made nobody new): ``seen`` is a whole random order of them.
    for surname in list(dict.fromkeys(s for _, s, _ in seen))[:SURNAME_TRIES]:
        for cell, _, given in seen:
            full = new(surname, cell, given)
            if full is not None:
                return kin_name.replace(kin_name.strip(), full)
    return None


# ---------------------------------------------------------------------------
# addresses
# ---------------------------------------------------------------------------

ROLE_TRIES = 64  # rows picked for a number of a role before every row is looked at


def address_from_rows(home: str, index: int, draw: Draw) -> str:
    """``home`` with each number replaced by the same role's number of another row, taken whole.

    Rows of the same shape (same estate, same street, same layout) are drawn
    from first, number by number; without one, any row's number of that role.
    Each distinct address counts once (a shop's address on many rows as one).
    A number no other row has a role-mate for stays ``home``'s.
    """
    column = draw.recent.addresses(index)
    seed = draw.rng.getrandbits(64)  # the address's own rng: the native draw needs no state handed over
    if column.native is not None and CJK.search(home):  # the native engine's draw: the same numbers
        drawn = column.native.draw(home, seed)
        if drawn is not None:
            return drawn
    mine = address_numbers(home)
    if not any(role != "other" for _, _, role in mine):
        return home
    rng = random.Random(seed)
    same = column.others_of_kind(home)  # read (address_roles) only when a number is drawn from it
    role_number = _RoleNumbers(home, CJK.search(home) is not None, column, max(1, column.most_numbers()), rng)
    result = home
    for _ in range(8):
        pieces, last = [], 0
        for k, (start, end, role) in enumerate(mine):
            value = home[start:end]
            if role != "other" and same:
                value = address_roles(same[rng.randrange(len(same))])[0][k][1]
            elif role != "other":
                value = role_number(role) or value
            pieces += [home[last:start], value]
            last = end
        result = "".join(pieces) + home[last:]
        if result != home:
            return result
    return result


class _RoleNumbers:
    """One number of a role, each number of that role in a distinct address (not the home, same script)
    as likely as the others; None when there is none.

    A row is picked at random and kept if it is its address's first row (so
    every distinct address is as likely), then one of ``most`` places (no
    address has more numbers), kept if the address has a number of the role
    there: each (address, number) pair is as likely, as in the list of them
    all, which is made only when ``ROLE_TRIES`` picks found nothing.
    """

    def __init__(self, home: str, cjk: bool, column: AddressIndex, most: int, rng: random.Random):
        self.home, self.cjk, self.column, self.most, self.rng, self.below = home, cjk, column, most, rng, below(rng)
        self.every: dict[str, list[str]] = {}

    def __call__(self, role: str) -> str | None:
        key, column, home = (self.cjk, role), self.column, self.home
        hints = CN_ROLE_HINTS.get(role, ()) if self.cjk else ()
        if role not in self.every:
            below, most, counts, addresses = self.below, self.most, column.counts, column.cells
            span, hinted = len(column) * most, HINTS.get(role) if hints else None
            for _ in range(ROLE_TRIES):
                k, place = divmod(below(span), most)
                if place >= counts[k]:  # fewer numbers than that: none of this role there either
                    continue
                cell = addresses[k]
                if cell == home or (hinted is not None and hinted.search(cell) is None):
                    continue  # the home, or none of this role there: no need to read it
                numbers = address_roles(cell)[1].get(key, ())
                if place < len(numbers) and column.first(cell) == k:
                    return numbers[place]
            cells = dict.fromkeys(c for c in column.distinct() if not hints or any(hint in c for hint in hints))
            cells.pop(home, None)
            self.every[role] = list(chain.from_iterable(address_roles(c)[1].get(key, ()) for c in cells))
        numbers = self.every[role]
        return self.rng.choice(numbers) if numbers else None


# Whether a Chinese address holds one of a role's hints, as ``any(hint in cell ...)`` says, in one search.
HINTS = {role: re.compile("|".join(map(re.escape, hints))) for role, hints in CN_ROLE_HINTS.items()}


# ---------------------------------------------------------------------------
# emails
# ---------------------------------------------------------------------------

STYLES: tuple[Callable[[str, str], str], ...] = (
    lambda f, l: f + "." + l, lambda f, l: f + "_" + l, lambda f, l: f + "-" + l,
    lambda f, l: l + "." + f, lambda f, l: l + "_" + f, lambda f, l: f + l, lambda f, l: l + f,
    lambda f, l: l + "." + f[0], lambda f, l: f[0] + "." + l, lambda f, l: f[0] + l,
    lambda f, l: f + l[0], lambda f, l: l + f[0], lambda f, l: f, lambda f, l: l,
)
LOCAL = re.compile(r"^([A-Za-z._-]*)(.*)$")


def _latin(name: str) -> list[str]:
    return [p.lower() for p in re.findall(r"[A-Za-z]+", name)]


def _case(head: str, style: Callable[[str, str], str], first: str, last: str) -> str:
    """How a local part is written: 'title' (KerrChris), 'upper', 'first' (Amy.lee) or 'lower'."""
    if head == style(first.capitalize(), last.capitalize()) and head != head.lower():
        return "title"
    if head.isupper():
        return "upper"
    return "first" if head[:1].isupper() else "lower"


def _written(style: Callable[[str, str], str], first: str, last: str, case: str) -> str:
    if case == "title":
        return style(first.capitalize(), last.capitalize())
    text = style(first, last)
    return text.upper() if case == "upper" else text.capitalize() if case == "first" else text


def email_style(email: str, name: str) -> tuple[Callable[[str, str], str], str, str] | None:
    """How a row's email is made from its name: (style, the digits after it, its case), or None."""
    if "@" not in email:
        return None
    words = _latin(name)
    if len(words) < 2:
        return None
    head, tail = LOCAL.match(email.strip().rsplit("@", 1)[0]).groups()
    for style in STYLES:
        if head.lower() == style(words[0], words[-1]):
            return style, tail, _case(head, style, words[0], words[-1])
    return None


def email_from_rows(name: str, index: int, name_index: int | None, draw: Draw,
                    taken: set[str]) -> str | None:
    """An email for ``name`` in another row's style and digits, at a domain a third row uses; None if none.

    A name without Latin letters (a Chinese name) takes another row's local
    part with its digits drawn anew in shape: no pinyin is made up.
    """
    column = draw.recent.emails(index)
    if not column.holds_email():
        return None
    words = _latin(name)
    for row in draw.rows():
        cell = row[index].strip()
        if "@" not in cell:
            continue
        if len(words) >= 2 and name_index is not None:
            found = email_style(cell, row[name_index])
            if found is None:
                continue
            style, tail, case = found
            local = _written(style, words[0], words[-1], case) + tail
        elif len(words) < 2:
            local = re.sub(r"\d", lambda m: str(draw.rng.randrange(10)), cell.rsplit("@", 1)[0])
        else:
            continue
        email = local + "@" + _domain(draw, column)
        if email.lower() not in taken and not draw.known(email):
            return email
    return None


DOMAIN_TRIES = 16  # rows picked for an email domain before every row is looked at


def _domain(draw: Draw, column: EmailIndex) -> str:
    """The domain of a random row holding an email (each such row as likely), ``column`` holding one.

    Rows are picked until one holds an email; after ``DOMAIN_TRIES`` misses
    (few rows hold one), one of all those that do: either way each of them
    is as likely as the others.
    """
    for _ in range(DOMAIN_TRIES):
        domain = column.domain(draw.rng.randrange(len(column)))
        if domain is not None:
            return domain
    return draw.rng.choice(column.domains)


# ---------------------------------------------------------------------------
# amounts
# ---------------------------------------------------------------------------

AMOUNT = re.compile(r"\d+(?:\.\d+)?")
NUMBER_TRIES = 64  # random rows looked at for an amount of the base row's item, then as many for any amount


def number_from_rows(base: Sequence[str], index: int, items: Sequence[int], draw: Draw) -> str | None:
    """Another row's amount in column ``index``, taken whole: from a row with ``base``'s item when one turns
    up among ``NUMBER_TRIES`` random rows, else from any row with an amount; None when none does.

    Amounts moved by a cent or two from the base row's gave canaries totals no real order has where
    prices are few (a shop's 19.99 + 29.95 plus tax): a classifier told them by their values (0.63).
    Taken whole, a canary's amount is one the export holds, as often as the export holds it, and it
    stays with its item (a 图书 parcel weighs what books weigh).
    """
    recent, below, fullmatch = draw.recent.rows, draw.below, AMOUNT.fullmatch
    size, item = len(recent), items[0] if len(items) == 1 else None
    for same_item in (True, False):
        for _ in range(NUMBER_TRIES):
            row = recent[below(size)]
            if row is base or (same_item and (row[item] != base[item] if item is not None
                                              else any(row[i] != base[i] for i in items))):
                continue
            if fullmatch(row[index].strip()):
                return row[index]
    return None

