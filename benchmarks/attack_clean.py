"""Full cleaning, as a capable broker does it, with a canonicaliser of our own.

Nothing here comes from ``tracer/``: columns are recognised by
``attacks.column_kinds`` (the attacker's own rules), Chinese administrative
names by ``cpca`` (a public gazetteer-based parser: province, city and
district to their full official names), and everything else by the rules
below.  Each cleaning is one pure function over a table:

- ``canonical_cn_addresses``: an address parsed into province / city /
  district (cpca) / road / house number / building / unit / room and rejoined
  in one form (``江苏省南京市玄武区中山路88号3栋2单元301室``; ``3-2-301``,
  ``3号楼``, ``3幢`` all become ``3栋…``); what the parser does not know (an
  estate or landmark name) is kept in place, verbatim;
- ``usps_addresses``: US street lines upper-cased with the USPS (Publication
  28) abbreviations: street suffixes, directionals, unit designators;
  punctuation removed;
- ``phones_bare_digits``: digits only, country code dropped;
- ``numbers_whole``: weights and amounts rounded to whole units;
- ``times_to_minute``: date-times cut to the minute;
- ``emails_lower``: e-mail addresses lower-cased.

``full_clean`` runs them all after NFKC and collapsing whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import attacks as A
from attacks import Table

# --------------------------------------------------------------------------
# Chinese addresses
# --------------------------------------------------------------------------

_ROAD = re.compile(r"(?P<road>.+?(?:大道|大街|胡同|路|街|道|巷|弄))(?P<no>[0-9]+(?:-[0-9]+)?)号")
_UNIT_GROUPS = (
    # 3栋2单元301室, 3号楼2单元301, 3幢301室, 3座, 3号楼
    re.compile(r"(?P<b>[0-9]+)(?:栋|幢|号楼|座)(?:(?P<u>[0-9]+)单元)?(?:(?P<r>[0-9]+)(?:室|号)?)?$"),
    # 3-2-301 (building-unit-room), 3-301 (building-room)
    re.compile(r"(?P<b>[0-9]+)-(?:(?P<u>[0-9]+)-)?(?P<r>[0-9]+)(?:室)?$"),
)
_GROUP_START = re.compile(r"[0-9]+(?:栋|幢|号楼|座|-)")

_admin_cache: dict[str, tuple[str, str, str, str]] = {}


def _admin(cells: list[str]) -> None:
    """cpca's province, city, district and remainder for every cell not yet seen (one batch call)."""
    todo = sorted({c for c in cells if c not in _admin_cache})
    if not todo:
        return
    import cpca

    frame = cpca.transform(todo)
    for cell, (province, city, district, rest) in zip(todo, frame[["省", "市", "区", "地址"]].itertuples(index=False)):
        _admin_cache[cell] = tuple(x if isinstance(x, str) else "" for x in (province, city, district, rest))


def _street(rest: str) -> str:
    """Road, number, building, unit and room in one form; anything else kept where it was."""
    road = number = ""
    match = _ROAD.match(rest)
    if match:
        road, number, rest = match.group("road"), match.group("no") + "号", rest[match.end():]
    start = _GROUP_START.search(rest)
    group = ""
    if start:
        tail = rest[start.start():]
        for pattern in _UNIT_GROUPS:
            found = pattern.match(tail)
            if found:
                b, u, r = found.group("b", "u", "r")
                group = f"{b}栋" + (f"{u}单元" if u else "") + (f"{r}室" if r else "")
                rest = rest[: start.start()]
                break
    return road + number + rest + group


def canonical_cn_address(cell: str) -> str:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell))
    if not text:
        return cell
    _admin([text])
    province, city, district, rest = _admin_cache[text]
    if city in ("市辖区", "县"):  # municipalities: cpca names the city level so
        city = ""
    return province + city + district + _street(rest)


def canonical_cn_addresses(table: Table) -> Table:
    columns = A.columns_of_kind(table, "cn_address")
    _admin([re.sub(r"\s+", "", unicodedata.normalize("NFKC", r[i])) for r in table[1] for i in columns])
    return A.map_cells(table, canonical_cn_address, columns)


# --------------------------------------------------------------------------
# US addresses (USPS Publication 28 abbreviations)
# --------------------------------------------------------------------------

USPS_SUFFIXES = {
    "ALLEY": "ALY", "AVENUE": "AVE", "BOULEVARD": "BLVD", "CIRCLE": "CIR", "COURT": "CT", "DRIVE": "DR",
    "EXPRESSWAY": "EXPY", "HIGHWAY": "HWY", "LANE": "LN", "PARKWAY": "PKWY", "PLACE": "PL", "PLAZA": "PLZ",
    "ROAD": "RD", "SQUARE": "SQ", "STREET": "ST", "TERRACE": "TER", "TRAIL": "TRL", "WAY": "WAY",
}
USPS_DIRECTIONS = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}
USPS_UNITS = {"APARTMENT": "APT", "SUITE": "STE", "FLOOR": "FL", "BUILDING": "BLDG", "UNIT": "UNIT", "ROOM": "RM"}
_SUFFIX_FORMS = set(USPS_SUFFIXES) | set(USPS_SUFFIXES.values())
_UNIT_FORMS = set(USPS_UNITS) | set(USPS_UNITS.values())


def usps_address(cell: str) -> str:
    """Upper case, no punctuation, the suffix, directionals and unit designator abbreviated."""
    words = re.sub(r"[.,]", " ", unicodedata.normalize("NFKC", cell)).upper().split()
    if not words or not words[0][:1].isdigit():
        return " ".join(words) if words else cell
    unit = next((i for i, w in enumerate(words) if w in _UNIT_FORMS or w.startswith("#")), len(words))
    street = words[:unit]
    suffix = max((i for i, w in enumerate(street) if w in _SUFFIX_FORMS and i > 1), default=None)
    if suffix is not None:
        street[suffix] = USPS_SUFFIXES.get(street[suffix], street[suffix])
    if len(street) > 3 and street[1] in USPS_DIRECTIONS:  # a pre-directional, not the street's name
        street[1] = USPS_DIRECTIONS[street[1]]
    if suffix is not None and suffix + 1 < len(street) and street[suffix + 1] in USPS_DIRECTIONS:
        street[suffix + 1] = USPS_DIRECTIONS[street[suffix + 1]]
    rest = [USPS_UNITS.get(w, w) for w in words[unit:]]
    return " ".join(street + rest)


def usps_addresses(table: Table) -> Table:
    return A.map_cells(table, usps_address, A.columns_of_kind(table, "en_address"))


# --------------------------------------------------------------------------
# phones, numbers, times, e-mails
# --------------------------------------------------------------------------


def bare_digits(cell: str) -> str:
    """Digits only, without a country code (``+86 138 0013 8000`` -> ``13800138000``)."""
    d = A.digits(cell)
    if len(d) == 13 and d.startswith("86"):
        return d[2:]
    if len(d) == 11 and cell.strip().startswith(("+1", "001", "1 ", "1-")):
        return d[1:]
    return d


def phones_bare_digits(table: Table) -> Table:
    return A.map_cells(table, bare_digits, A.columns_of_kind(table, "phone"))


_NUMBER = re.compile(r"^\s*(-?)\$?\s*([0-9][0-9,]*)(?:\.([0-9]+))?\s*$")


def whole(cell: str) -> str:
    """A number rounded half up to whole units (``2.5`` -> ``3``, ``$12.49`` -> ``12``)."""
    match = _NUMBER.match(cell)
    if not match:
        return cell
    sign, integer, frac = match.groups()
    value = int(integer.replace(",", "")) + (1 if frac and frac[0] >= "5" else 0)
    return f"{sign}{value}" if value else "0"


def numbers_whole(table: Table) -> Table:
    return A.map_cells(table, whole, A.columns_of_kind(table, "number"))


_TIME = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?\s*$")


def to_minute(cell: str) -> str:
    match = _TIME.match(cell)
    if not match:
        return cell
    y, mo, d, h, mi = match.groups()
    day = f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"
    return day if h is None else f"{day} {int(h):02d}:{mi}"


def times_to_minute(table: Table) -> Table:
    return A.map_cells(table, to_minute, A.columns_of_kind(table, "datetime"))


def emails_lower(table: Table) -> Table:
    return A.map_cells(table, lambda c: c.strip().lower(), A.columns_of_kind(table, "email"))


def plain(table: Table) -> Table:
    """NFKC and collapsed whitespace: what every cleaning starts with."""
    return A.collapse_whitespace(A.nfkc(table))


CLEANINGS: dict[str, Callable[[Table], Table]] = {
    "NFKC + whitespace": plain,
    "phones to digits": phones_bare_digits,
    "CN addresses canonical": canonical_cn_addresses,
    "US addresses USPS": usps_addresses,
    "numbers whole": numbers_whole,
    "times to the minute": times_to_minute,
    "e-mails lower-case": emails_lower,
}


def full_clean(table: Table) -> Table:
    """Every cleaning above, in order: what the issue calls a full clean."""
    for clean in CLEANINGS.values():
        table = clean(table)
    return table
