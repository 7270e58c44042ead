"""Marks in English (US-style) addresses: abbreviated or spelled-out words.

Three slots; bit 1 is always the spelled-out word, bit 0 the abbreviation:

* ``en_address.street_type``  Street/St, Road/Rd, Avenue/Ave, Boulevard/Blvd,
  Drive/Dr, Lane/Ln, Court/Ct, Place/Pl, Parkway/Pkwy, Highway/Hwy,
  Terrace/Ter, Circle/Cir.
* ``en_address.unit``         Apartment/Apt, Suite/Ste.
* ``en_address.direction``    North/N, South/S, East/E, West/W, Northeast/NE,
  Northwest/NW, Southeast/SE, Southwest/SW, before the street name.

Words are whole whitespace-separated tokens, matched case-insensitively; an
abbreviation may end in a period when read (``St.``) and is written without
it.  The written word keeps the source's case (STREET/ST, Street/St).

The street line is the first comma-separated segment that starts with a
house number.  Its street type is the last type word that is not the first
word after the number (``100 Court St``, ``12 St Louis Ave``) and that ends
the street name: only a post-direction may follow before the segment ends or
a unit starts.  So ``St`` as Saint, ``Dr`` as Doctor and ``CT`` as
Connecticut in ``1 Main St Hartford CT 06103`` are never touched: unsure
means None.  The direction needs a street name between it and the street
type, so ``12 North St`` is the street named North.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from tracer.channels._base import MarkSlot, Site, canonical_form, case_style, styled

STREET_TYPES = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "parkway": "pkwy",
    "highway": "hwy",
    "terrace": "ter",
    "circle": "cir",
}
UNITS = {"apartment": "apt", "suite": "ste"}
DIRECTIONS = {
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


class _Word(NamedTuple):
    bit: int
    short: str
    long: str


def _forms(table: dict[str, str]) -> dict[str, _Word]:
    """Every written form (lower-case) of a table's words: long, short, 'short.'."""
    forms = {}
    for long, short in table.items():
        forms[long] = _Word(1, short, long)
        forms[short] = forms[short + "."] = _Word(0, short, long)
    return forms


_TYPE_FORMS = _forms(STREET_TYPES)
_UNIT_FORMS = _forms(UNITS)
_DIRECTION_FORMS = _forms(DIRECTIONS)

_TOKEN = re.compile(r"[^\s,]+|,")
_HOUSE_NUMBER = re.compile(r"[0-9]+(?:-[0-9]+)?[A-Za-z]?")
_UNIT_ID = re.compile(r"#?(?:[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*|[A-Za-z])")
_ALPHA = re.compile(r"[A-Za-z]+\.?")
_LATIN = re.compile(r"[A-Za-z]")


class _Address(NamedTuple):
    """What the three slots need from one cell, worked out once per cell."""

    tokens: list[re.Match]  # words and commas
    words: list[str]  # the tokens' text, lower-case
    house: int | None  # index of the house number token
    street_type: int | None  # index of the street type token
    unit: int | None  # index of the first unit word


@lru_cache(maxsize=4096)
def _address(cell: str) -> _Address | None:
    """The cell's tokens and where its words are; None without a Latin
    letter (no slot here can apply).  Cached: the slots read the same cell."""
    if _LATIN.search(cell) is None:
        return None
    tokens = list(_TOKEN.finditer(cell))
    words = _TOKEN.findall(cell.lower())  # lower() moves no space nor comma
    house = _house_number(words)
    unit = next((i for i, word in enumerate(words) if word in _UNIT_FORMS), None)
    street_type = None if house is None else _street_type(words, house)
    return _Address(tokens, words, house, street_type, unit)


def _house_number(words: list[str]) -> int | None:
    """The first token that starts a comma-separated segment and is a house
    number."""
    for index, word in enumerate(words):
        if (index == 0 or words[index - 1] == ",") and _HOUSE_NUMBER.fullmatch(word):
            return index
    return None


def _street_type(words: list[str], house: int) -> int | None:
    """Index of the street type on the house number's line, or None when
    unsure: the last type word from the second word on, before a unit or the
    segment's end, followed by nothing but post-directions."""
    chosen = None
    index = house + 1
    while index < len(words):
        word = words[index]
        if word == "," or word in _UNIT_FORMS or word.startswith("#"):
            break
        if word in _TYPE_FORMS and index > house + 1:  # the first word is a name
            chosen = index
        elif chosen is not None and word not in _DIRECTION_FORMS:
            chosen = None  # 'Main St Springfield', 'St Louis', 'Hartford CT 06103'
        index += 1
    return chosen


def _word_site(token: re.Match, word: _Word, style: str) -> Site:
    return Site(*token.span(), word.bit, (styled(word.short, style), styled(word.long, style)))


def _own_style(token: re.Match) -> str:
    return case_style(token.group().rstrip("."))


class StreetType(MarkSlot):
    """Spelled-out (1) or abbreviated (0) street type."""

    NAME = "en_address.street_type"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        address = _address(cell)
        if address is None or address.street_type is None:
            return None
        token = address.tokens[address.street_type]
        return _word_site(token, _TYPE_FORMS[address.words[address.street_type]], _own_style(token))


class UnitWord(MarkSlot):
    """Spelled-out (1) or abbreviated (0) unit designator, on the first unit
    word of the cell, which must be followed by a unit number (``Apt 4B``,
    ``Suite 200``, ``Ste #3``) -- otherwise ``Ste`` may be Sainte."""

    NAME = "en_address.unit"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        address = _address(cell)
        if address is None or address.unit is None:
            return None
        index = address.unit
        tokens = address.tokens
        if index + 1 >= len(tokens) or not _UNIT_ID.fullmatch(tokens[index + 1].group()):
            return None
        token = tokens[index]
        return _word_site(token, _UNIT_FORMS[address.words[index]], _own_style(token))


class Direction(MarkSlot):
    """Spelled-out (1) or abbreviated (0) direction before the street name.

    ``N`` is written the same in 'N Main St' and 'N MAIN ST', so a
    direction's case comes from the other words of the cell (all capitals:
    NORTH/N; otherwise North/N), unless it is written in lower case."""

    NAME = "en_address.direction"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        address = _address(cell)
        if address is None or address.street_type is None:
            return None
        index = address.house + 1
        word = _DIRECTION_FORMS.get(address.words[index])
        if word is None or address.street_type < index + 2:
            return None  # '12 North St': North is the street's name
        token = address.tokens[index]
        return _word_site(token, word, _direction_style(token, address.tokens))


def _direction_style(token: re.Match, tokens: list[re.Match]) -> str:
    """Lower when written in lower case; else title when another word of the
    cell has a lower-case letter, upper when none has (the street type is
    always such a word)."""
    if token.group().islower():
        return "lower"
    for other in tokens:
        text = other.group()
        if other is not token and not text.isupper() and _ALPHA.fullmatch(text):
            return "title"
    return "upper"


SLOTS: tuple[MarkSlot, ...] = (StreetType(), UnitWord(), Direction())


def canonical(cell: str) -> str:
    """Every word spelled out, case folded: the same for all marked variants."""
    return canonical_form(SLOTS, cell).casefold()
