"""Marks in Chinese addresses: equivalent spellings of the same place.

Four slots, each a pair of spellings Chinese addresses use interchangeably;
bit 1 is always the longer spelling:

* ``cn_address.province``  ``江苏省南京市…`` (1) / ``江苏南京市…`` (0); also
  ``广西壮族自治区`` / ``广西``, ``北京市朝阳区`` / ``北京朝阳区``.
* ``cn_address.city``      ``江苏省南京市玄武区`` (1) / ``江苏省南京玄武区`` (0).
* ``cn_address.building``  ``3栋2单元301室`` (1) / ``3-2-301`` (0).
* ``cn_address.lou``       ``5号楼`` (1) / ``5栋`` (0), for a building number not
  followed by a unit (that one belongs to the building slot).

Everything is read blind, so every rule below is about one question: could
the other variant have been read differently?  Where it could, the slot
returns None.  In particular the province is only read when a next
administrative unit (a name ending in 市/州/盟/地区/区/县/旗) follows: that
keeps street names such as ``山东路`` or ``北京西路`` out, and forbids the
short form to be followed by a piece of its own suffix (``江苏省`` is never
short ``江苏`` + ``省…``).  The slots only touch their own text and test
their neighbours by classes the other slots never change (Han vs digit), so
they are independent.  Truncated addresses (``…中山路88号``) keep the province
and city slots.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from tracer.channels._base import HAN, MarkSlot, Site, canonical_form, han_except
from tracer.channels._cn_regions import CITIES, PROVINCES

# A Han character that can be part of an administrative name (not a road,
# street, lane or house-number word).
_NOT_IN_NAMES = "路街巷弄号"
_NAME_CHAR = f"[{han_except(_NOT_IN_NAMES)}]"
_UNIT_SUFFIX = r"(?:市|州|盟|地区|(?<!小)区|县|旗)"  # a 小区 is an estate, never a district: the estate mark adds or drops it


def _province_gate(short: str, full: str) -> re.Pattern:
    """What must follow a province, in either spelling: a next unit whose
    first character is no piece of a provincial suffix (省, 市, or this
    province's own: 自 of 自治区, 壮 of 壮族自治区, 特 of 特别行政区…)."""
    suffix = full[len(short) :]
    forbidden = {"省", "市", suffix[0]} | ({"自"} if "自治区" in suffix else set())
    first = han_except(_NOT_IN_NAMES + "".join(sorted(forbidden)))
    return re.compile(rf"\s*[{first}](?:{_NAME_CHAR}|\s){{0,16}}?{_UNIT_SUFFIX}")


def _city_pattern(cities: tuple[str, ...]) -> re.Pattern:
    """A listed city, with or without 市, then (after at most one space) a
    district, county or county-level city that does not start with 市."""
    names = "|".join(sorted(cities, key=len, reverse=True))
    return re.compile(
        rf"\s*(?P<city>{names})(?P<shi>市)?\s?(?!市){_NAME_CHAR}{{1,6}}?(?:(?<!小)区|县|市|旗)"
    )


@lru_cache(maxsize=None)
def _gate(short: str) -> re.Pattern:
    """Compiled on first use: compiling all 34 at import cost every command 60 ms."""
    return _province_gate(short, PROVINCES[short])


@lru_cache(maxsize=None)
def _cities(short: str) -> re.Pattern | None:
    return _city_pattern(CITIES[short]) if short in CITIES else None


class _Province(NamedTuple):
    short: str
    start: int
    end: int  # end of the spelling shown; the rest of the address starts here
    bit: int


@lru_cache(maxsize=4096)
def _province(cell: str) -> _Province | None:
    """The province at the start of ``cell`` (after whitespace), when it is
    followed by a next administrative unit; None otherwise.  Cached: the
    province and city slots both need it for the same cell."""
    start = len(cell) - len(cell.lstrip())
    for width in (3, 2):
        short = cell[start : start + width]
        full = PROVINCES.get(short)
        if full is not None:
            break
    else:
        return None
    bit = int(cell.startswith(full, start))
    end = start + (len(full) if bit else len(short))
    if _gate(short).match(cell, end) is None:
        return None
    return _Province(short, start, end, bit)


class ProvinceSuffix(MarkSlot):
    """Full (1) or short (0) name of the provincial-level division."""

    NAME = "cn_address.province"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        province = _province(cell)
        if province is None:
            return None
        short = province.short
        return Site(province.start, province.end, province.bit, (short, PROVINCES[short]))


class CityShi(MarkSlot):
    """Prefecture city after the province written with (1) or without (0) 市.

    Needs a readable province (so a bare ``吉林市…`` is never re-read as a
    province) and a listed city: blind, ``南京玄武区`` is only readable because
    ``南京`` is a known city of 江苏."""

    NAME = "cn_address.city"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        province = _province(cell)
        if province is None:
            return None
        pattern = _cities(province.short)
        match = pattern.match(cell, province.end) if pattern is not None else None
        if match is None:
            return None
        city = match.group("city")
        long = match.group("shi") is not None
        end = match.end("shi") if long else match.end("city")
        return Site(match.start("city"), end, int(long), (city, city + "市"))


def _search_after(pattern: re.Pattern, cell: str, before: re.Pattern) -> re.Match | None:
    """The leftmost match of ``pattern`` whose preceding text ends with a
    match of ``before`` (tested on the two preceding characters).  Same as a
    look-behind, but lets the regex engine skip ahead to the first digit."""
    pos = 0
    while (match := pattern.search(cell, pos)) is not None:
        start = match.start()
        if before.search(cell, max(0, start - 2), start):
            return match
        pos = start + 1
    return None


# Building-unit-room.  Both spellings need the same surroundings: a Han
# character (optionally one space) before, and after neither a digit, a
# hyphen, 室 nor 号 -- so '3-2-301室' (neither spelling) and '12-3-4567' glued
# to other digits stay unread.
_BUILDING = re.compile(
    r"(?P<n>[0-9]{1,3})"
    r"(?:栋(?P<m>[0-9]{1,2})单元(?P<r>[0-9]{2,4})室|-(?P<cm>[0-9]{1,2})-(?P<cr>[0-9]{2,4}))"
    r"(?![0-9\-室号])"
)
_BEFORE_BUILDING = re.compile(rf"[{HAN}] ?\Z")


def _building(cell: str) -> re.Match | None:
    return _search_after(_BUILDING, cell, _BEFORE_BUILDING)


class BuildingUnitRoom(MarkSlot):
    """``N栋M单元R室`` (1) or ``N-M-R`` (0): the first such group."""

    NAME = "cn_address.building"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        match = _building(cell)
        if match is None:
            return None
        long = match.group("m") is not None
        n, m, r = match.group("n", "m", "r") if long else match.group("n", "cm", "cr")
        return Site(*match.span(), int(long), (f"{n}-{m}-{r}", f"{n}栋{m}单元{r}室"))


# A building number right after a Han character that is not a road word (so
# the house number in '中山路88号楼' is never read as a building).
_LOU = re.compile(r"(?P<n>[0-9]{1,3})(?P<word>栋|号楼)")
_BEFORE_LOU = re.compile(rf"[{han_except('路街巷弄道')}]\Z")
_UNIT_AFTER = re.compile(r"\s?[0-9]+单元")


class BuildingWord(MarkSlot):
    """``N号楼`` (1) or ``N栋`` (0), the first building number in the cell.

    Stays out of the building slot's way: unread when the cell has a
    building-unit-room group, or when a unit follows (``3号楼2单元…`` would
    turn into the building slot's long form)."""

    NAME = "cn_address.lou"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        match = _search_after(_LOU, cell, _BEFORE_LOU)
        if match is None or _UNIT_AFTER.match(cell, match.end()) or _building(cell):
            return None
        n = match.group("n")
        return Site(*match.span(), int(match.group("word") == "号楼"), (f"{n}栋", f"{n}号楼"))


SLOTS: tuple[MarkSlot, ...] = (ProvinceSuffix(), CityShi(), BuildingUnitRoom(), BuildingWord())


def canonical(cell: str) -> str:
    """Every spelling at its long form: ``江苏南京玄武区…3-2-301`` becomes
    ``江苏省南京市玄武区…3栋2单元301室``."""
    return canonical_form(SLOTS, cell)
