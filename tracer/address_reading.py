"""An address's numbers and their roles (house, building, unit, floor, room), as a canary's draw reads them.

``address_numbers`` is the reading itself.  What a draw asks of every address
in its window is its kind (same estate, same street, same layout) and number
count: ``address_keys`` reads them for the rows entering a window in one regex
pass (a key per address, equal exactly when the kinds are).  The roles
(``address_roles``) are read only for the addresses a draw picks, once per
distinct address and kept (a draw looks at hundreds of addresses, an export
passes hundreds of thousands).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat

CJK = re.compile(r"[\u4e00-\u9fff]")

# Chinese address numbers and their roles, told by the word after them.
CN_HOUSE_WORDS = ("号院", "弄", "号")
CN_BUILDING_WORDS = ("号楼", "栋", "幢", "座")
CN_UNIT_WORDS = ("单元",)
CN_ROOM_WORDS = ("室", "房", "户")
CN_FLOOR_WORDS = ("层", "楼")
CN_NUMBER = re.compile(r"(\d+)-(\d+)-(\d+)|(\d+)-(\d+)(?=室|$)|(\d+)")
EN_UNIT_WORDS = frozenset(("apt", "apt.", "apartment", "suite", "ste", "ste.", "unit", "room", "rm", "fl", "floor"))
EN_NUMBER = re.compile(r"(#?)\b(\d+(?:[A-Za-z]\b)?)(?!\d)(?!(?:st|nd|rd|th)\b)", re.IGNORECASE)  # 12, 4C; not 21st


def _cn_role(text: str, end: int) -> str:
    after = text[end:end + 2]
    for role, words in (("unit", CN_UNIT_WORDS), ("building", CN_BUILDING_WORDS), ("house", CN_HOUSE_WORDS),
                        ("room", CN_ROOM_WORDS), ("floor", CN_FLOOR_WORDS)):
        if after.startswith(words):
            return role
    return "other"


def _en_role(text: str, start: int, mark: str) -> str:
    if not text[:start].strip():
        return "house"
    before = text[:start].split()
    if mark or (before and before[-1].lower().rstrip(",") in EN_UNIT_WORDS):
        return "unit"
    return "other"  # Route 9, a PO box: kept as the donor's


@lru_cache(maxsize=1024)  # few reuses (a 1M-row export: 3k hits, 28k misses): kept small, so memory stays flat
def address_numbers(text: str) -> tuple[tuple[int, int, str], ...]:
    """Every number of an address with its role: (start, end, role); ordinals (21st) are street names."""
    out: list[tuple[int, int, str]] = []
    if CJK.search(text):
        for m in CN_NUMBER.finditer(text):
            if m.group(1):
                out += [(*m.span(1), "building"), (*m.span(2), "unit"), (*m.span(3), "room")]
            elif m.group(4):
                out += [(*m.span(4), "building"), (*m.span(5), "room")]
            else:
                out.append((*m.span(6), _cn_role(text, m.end())))
    else:
        for m in EN_NUMBER.finditer(text):
            out.append((*m.span(2), _en_role(text, m.start(), m.group(1))))
    return tuple(out)


@lru_cache(maxsize=8192)
def address_shape(text: str) -> str:
    """The address without its numbers (4C, 1201): rows of one estate or street share it."""
    parts, last = [], 0
    for start, end, _ in address_numbers(text):
        parts += [text[last:start], "#"]
        last = end
    return ("".join(parts) + text[last:]).strip()


def _words(words: Sequence[str]) -> str:
    return "|".join(map(re.escape, words))


# address_numbers' Chinese numbers in one pass of the regex engine: the group that matched last (an empty
# one after each role's words, tried in _cn_role's order) tells the role, with no Python per number.
# CN_NUMBER's three forms share their first run (each takes the whole run: what follows it is no digit),
# and the pattern starts with a digit, which lets the engine skip to the next digit between numbers.
CN_PARTS = re.compile(
    r"(\d\d*)(?:-(\d+)-(\d+)|-(\d+)(?=室|$)|(?:" + "|".join(
        f"(?={_words(words)})()" for words in (CN_UNIT_WORDS, CN_BUILDING_WORDS, CN_HOUSE_WORDS, CN_ROOM_WORDS,
                                                CN_FLOOR_WORDS)) + ")?)")
CN_PART_ROLES = {3: ("building", "unit", "room"), 4: ("building", "room"), 1: ("other",), 5: ("unit",),
                 6: ("building",), 7: ("house",), 8: ("room",), 9: ("floor",)}
CN_PART_GROUPS = {3: (1, 2, 3), 4: (1, 4)}
# What a Chinese address holds whenever it has a number of the role (its words, or the 3-2-301 / 3-301 forms).
CN_ROLE_HINTS = {"unit": (*CN_UNIT_WORDS, "-"), "building": (*CN_BUILDING_WORDS, "-"), "house": CN_HOUSE_WORDS,
                 "room": (*CN_ROOM_WORDS, "-"), "floor": CN_FLOOR_WORDS}
# A Chinese address's numbers are its digit runs, each whole (CN_NUMBER); \d\d* as \d+, but starting
# with a digit class, which lets the engine skip to the next digit (some 10% quicker on addresses).
DIGITS = re.compile(r"\d\d*")


Numbers = tuple[tuple[str, str], ...]  # (role, number) in order
ByRole = dict[tuple[bool, str], tuple[str, ...]]  # (written in Chinese, role) -> its numbers in order


def read_numbers(text: str) -> tuple[Numbers, ByRole]:
    """What ``address_numbers`` tells of an address, as a draw uses it: its numbers as (role, number) in
    order, and its numbers by (written in Chinese, role); the Chinese ones in one pass of the regex engine."""
    cjk = CJK.search(text) is not None
    if cjk:
        numbers: list[tuple[str, str]] = []
        for m in CN_PARTS.finditer(text):
            last = m.lastindex
            groups = CN_PART_GROUPS.get(last)
            numbers += zip(CN_PART_ROLES[last], m.group(*groups)) if groups else [(CN_PART_ROLES[last][0], m.group(1))]
    else:
        numbers = [(role, text[start:end]) for start, end, role in address_numbers(text)]
    by_role: ByRole = {}
    for role, value in numbers:
        key = (cjk, role)
        by_role[key] = by_role.get(key, ()) + (value,)
    return tuple(numbers), by_role


def read_address(text: str) -> tuple[str, Numbers, ByRole]:
    """``read_numbers`` with the address's kind first (written in Chinese, how many numbers, shape: one
    string, quick to compare)."""
    numbers, by_role = read_numbers(text)
    cjk = CJK.search(text) is not None
    shape = DIGITS.sub("#", text).strip() if cjk else address_shape(text)
    return f"{cjk:d}{len(numbers)}|{shape}", numbers, by_role


PARTS: dict[str, tuple] = {}  # address -> read_address(address), for the kinds of addresses not in Chinese
NUMBERS: dict[str, tuple[Numbers, ByRole]] = {}  # address -> read_numbers(address), read when a draw looks at them
KINDS: dict[str, tuple[str, int]] = {}  # address -> its kind and how many numbers it has
CACHE_LIMIT = 1 << 16  # addresses kept (then forgotten at once: bounded memory)
# Roles are read only for the addresses a canary draws from, which come from the last rows (canaries.RECENT):
# a few thousand keep nearly every reuse (100k waybills: 15.3k readings kept 2^16, 17.1k kept 2^12), and at
# ~1 KB a reading 2^16 of them were 54 MB of a 1M-row export.
ROLES_LIMIT = 1 << 12


def _kept(cache: dict, text: str, read, limit: int):
    """``read(text)``, read once while ``cache`` keeps it (emptied at ``limit``: bounded memory)."""
    found = cache.get(text)
    if found is None:
        if len(cache) >= limit:
            cache.clear()
        found = cache[text] = read(text)
    return found


def address_parts(text: str) -> tuple[str, Numbers, ByRole]:
    """``read_address(text)``, read once."""
    return _kept(PARTS, text, read_address, CACHE_LIMIT)


def address_roles(text: str) -> tuple[Numbers, ByRole]:
    """``read_numbers(text)``, read once: what a draw reads of an address it takes a number from."""
    return _kept(NUMBERS, text, read_numbers, ROLES_LIMIT)


def address_kind(text: str) -> tuple[str, int]:
    """``address_parts(text)``'s kind and number count, without reading the roles when it can:
    a Chinese address's numbers are its digit runs, so one ``subn`` gives both."""
    kind = KINDS.get(text)
    if kind is None:
        if len(KINDS) >= CACHE_LIMIT:
            KINDS.clear()
        if CJK.search(text):
            shape, count = DIGITS.subn("#", text)
            kind = (f"1{count}|{shape.strip()}", count)
        else:
            kind = address_parts(text)[0], len(address_parts(text)[1])
        KINDS[text] = kind
    return kind


SEPARATOR = "\x00"  # between the cells of a column read in one pass: no digit, and in no address


def address_key(text: str) -> tuple[str, int]:
    """A key of the address's kind, and its number count: two addresses have the same key exactly when
    they have the same ``address_kind``.

    A Chinese address without ``#`` is keyed by its shape alone (no digit in it, a Chinese character
    always): its number count is the shape's ``#``, so the shape tells the whole kind.  Any other
    address is keyed by its kind itself, which starts with a digit: no shape key equals one, and no
    address whose ``#`` are not all numbers has the kind of one whose are.
    """
    if "#" not in text and CJK.search(text):
        shape, count = DIGITS.subn("#", text)
        return shape.strip(), count
    return address_kind(text)


def address_keys(cells: list[str]) -> tuple[list[str], list[int]]:
    """``address_key`` of every cell (keys, number counts), as a window reads the rows entering it: the
    Chinese addresses in one pass of the regex engine over the cells joined (``DIGITS`` finds the same
    digit runs there as in each cell, ``SEPARATOR`` being no digit), the others one by one."""
    joined = SEPARATOR.join(cells)
    if joined.count(SEPARATOR) != len(cells) - 1:
        read = list(map(address_key, cells))
        return [key for key, _ in read], [count for _, count in read]
    shapes = DIGITS.sub("#", joined).split(SEPARATOR)
    keys, counts = list(map(str.strip, shapes)), list(map(str.count, shapes, repeat("#")))
    if "#" in joined or not all(map(CJK.search, cells)):
        for i, cell in enumerate(cells):
            if "#" in cell or CJK.search(cell) is None:
                keys[i], counts[i] = address_kind(cell)
    return keys, counts
