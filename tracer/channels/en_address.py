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


def _tokens(cell: str) -> list[re.Match]:
    return list(_TOKEN.finditer(cell))


def _street_line(tokens: list[re.Match]) -> list[re.Match]:
    """The tokens after the house number of the first segment starting with
    one, up to the segment's end; empty when there is none."""
    for index, token in enumerate(tokens):
        at_segment_start = index == 0 or tokens[index - 1].group() == ","
        if at_segment_start and _HOUSE_NUMBER.fullmatch(token.group()):
            line = []
            for following in tokens[index + 1 :]:
                if following.group() == ",":
                    break
                line.append(following)
            return line
    return []


def _street_type_index(line: list[re.Match]) -> int | None:
    """Index in ``line`` of the street type, or None when unsure."""
    chosen = None
    stop = len(line)
    for index, token in enumerate(line):
        word = token.group().lower()
        if word in _UNIT_FORMS or word.startswith("#"):
            stop = index
            break
        if index >= 1 and word in _TYPE_FORMS:
            chosen = index
    if chosen is None:
        return None
    if any(line[i].group().lower() not in _DIRECTION_FORMS for i in range(chosen + 1, stop)):
        return None
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
        line = _street_line(_tokens(cell))
        index = _street_type_index(line)
        if index is None:
            return None
        token = line[index]
        return _word_site(token, _TYPE_FORMS[token.group().lower()], _own_style(token))


class UnitWord(MarkSlot):
    """Spelled-out (1) or abbreviated (0) unit designator, on the first unit
    word of the cell, which must be followed by a unit number (``Apt 4B``,
    ``Suite 200``, ``Ste #3``) -- otherwise ``Ste`` may be Sainte."""

    NAME = "en_address.unit"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        tokens = _tokens(cell)
        for index, token in enumerate(tokens):
            word = _UNIT_FORMS.get(token.group().lower())
            if word is not None:
                break
        else:
            return None
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if following is None or not _UNIT_ID.fullmatch(following.group()):
            return None
        return _word_site(token, word, _own_style(token))


class Direction(MarkSlot):
    """Spelled-out (1) or abbreviated (0) direction before the street name.

    ``N`` is written the same in 'N Main St' and 'N MAIN ST', so a
    direction's case comes from the other words of the cell (all capitals:
    NORTH/N; otherwise North/N), unless it is written in lower case."""

    NAME = "en_address.direction"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        tokens = _tokens(cell)
        line = _street_line(tokens)
        if not line:
            return None
        word = _DIRECTION_FORMS.get(line[0].group().lower())
        index = _street_type_index(line)
        if word is None or index is None or index < 2:
            return None
        token = line[0]
        return _word_site(token, word, _direction_style(token, tokens))


def _direction_style(token: re.Match, tokens: list[re.Match]) -> str:
    """Lower when written in lower case; else upper when every other word of
    the cell is in capitals, title otherwise."""
    if token.group().islower():
        return "lower"
    others = [t.group() for t in tokens if t is not token and _ALPHA.fullmatch(t.group())]
    if others and not any(ch.islower() for word in others for ch in word):
        return "upper"
    return "title"


SLOTS: tuple[MarkSlot, ...] = (StreetType(), UnitWord(), Direction())


def canonical(cell: str) -> str:
    """Every word spelled out, case folded: the same for all marked variants."""
    return canonical_form(SLOTS, cell).casefold()
