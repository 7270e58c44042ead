"""Canary rows: decoy people added to each export, different for every account.

Which records are followed by a canary is decided by a keyed hash of
(account, record), about ``RATE`` of them.  The canary is put together from
*several* real rows of the same export, each part from another one, so that
no real row is its near copy:

- the item and every other non-personal column come from one recent row; each
  amount or weight is another row's, taken whole, from a row with the same item
  when one is found (``canary_draws.number_from_rows``; moved by a unit or two
  only when no other row has one);
- each party (the sender's, the recipient's columns) comes from other recent
  rows, each part whole from the export (``canary_draws``): the address from
  one, each of its numbers the same role's number of another row (of the same
  estate when there is one), the city/state/ZIP beside it from the first; the
  surname and phone segment from another row, the given name from a third
  (the full name none of its donors'); the email the new name in another row's
  style at a domain the export uses; the phone digits are new.  Only when
  the export has nothing to draw from does a built-in list stand in
  (``Canary.fallback``).  A
  party whose phone repeats in the export (a shop that sends many parcels) is
  kept as it is, as real waybills from that shop are — one party at least is
  always new, and only new phones are registered as canary phones;
- the timestamp falls between the two rows the canary sits between (in a
  time-sorted export it keeps the order), a sequential identifier between
  theirs; otherwise they are drawn near a recent row's.

"Recent rows" are the last ``RECENT`` rows before the canary: a local sample
of the export, so canaries follow its distributions where it drifts (a
time-sorted file).  Everything is a function of the account, the key and the
export's rows, so re-exporting the same records gives the same file.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from datetime import datetime, timedelta

from .canary_pool import POOL_SPACE, in_layout
from .canary_draws import Draw, address_from_rows, email_from_rows, name_from_rows, number_from_rows
from .canary_window import WINDOW_CACHE
from .canary_values import (
    DATETIME_FORMATS,
    chance_space,
    identifier_space,
    near_datetime,
    near_number,
    new_email,
    new_identifier,
    new_name,
    new_phone,
)
from .canary_layout import Party, layout, parties  # noqa: F401  (parties: the export's people, for callers)
from .columns import Column, Schema, phone_anchor

RATE = 0.0075  # share of records followed by a per-account canary (shared slots: shared_canaries)
RECENT = 512  # rows a canary's parts are drawn from
SEQUENTIAL_GAP = 10**6  # two identifiers this close, same prefix, are taken as a sequence

PARTY_KINDS = ("name", "phone", "address", "email")


@dataclass(frozen=True)
class Donors:
    """Where a canary's parts come from."""

    recent: Sequence[Sequence[str]]  # the last rows of the export (as in the source), at least one
    before: Sequence[str]  # the row the canary follows
    after: Sequence[str] | None  # the row that will follow it (None at the end)
    repeats: Callable[[str], bool]  # whether a phone occurs more than once in the export so far
    known: Callable[[str], bool] | None = None  # whether an email is a real row's (beyond ``recent``)
    pool: Mapping[str, Sequence[str]] | None = None  # canary-pool numbers not yet used in this export, by kind


@dataclass(frozen=True)
class Canary:
    row: list[str]
    spaces: dict[int, int]  # new phone and identifier columns -> values they were drawn from (0: fitted)
    fallback: bool = False  # some part came from a built-in list: the export had nothing to draw it from
    pooled: frozenset[int] = frozenset()  # phone columns holding a canary-pool number (space POOL_SPACE)

    @property
    def fake_columns(self) -> frozenset[int]:
        """The columns holding new values, registered as this canary's."""
        return frozenset(self.spaces)


def make_canary(schema: Schema, donors: Donors, rng: random.Random) -> Canary:
    """A decoy row: parts from several recent rows, identifying values new."""
    draw = Draw(donors.recent, rng, donors.known, donors.pool)
    recent, below, plan = draw.recent.rows, draw.below, layout(schema)
    size = len(recent)
    base = recent[below(size)]
    row = list(base)
    for i in plan.numbers:
        row[i] = number_from_rows(base, i, plan.items, draw) or near_number(base[i], rng)
    fake: dict[int, int] = {}
    region: Sequence[str] | None = None
    groups = plan.parties
    for number, party in enumerate(groups):
        home = recent[below(size)]
        keep = (party.phone is not None and donors.repeats(home[party.phone.index])
                and (number < len(groups) - 1 or fake))
        if keep:
            for column in party.members:
                row[column.index] = home[column.index]
        else:
            one_off = _one_off(party, donors)
            home = _person_row(one_off, draw)
            fake.update(_new_party(party, row, home, _person_row(one_off, draw), draw, one_off, plan.names[number]))
        if region is None and plan.addressed[number]:
            region = home
    for kind, i in plan.fitted:
        if kind == "region":
            if region is not None:
                row[i] = region[i]
        elif kind == "datetime":
            row[i] = _fit_datetime(donors, i, base[i], rng)
        else:
            row[i], fake[i] = _fit_identifier(donors, i, recent[below(size)][i], rng)
    _defuse(row, recent)
    typed = [type(old)(new) if type(old) is not str and new != old else new for old, new in zip(base, row)]
    return Canary(typed, fake, draw.fallback, frozenset(draw.pooled))


PERSON_TRIES = 16  # rows picked for a one-off person before every row is looked at


def _one_off(party: Party, donors: Donors) -> Callable[[Sequence[str]], bool] | None:
    """Whether a row's party is a one-off person (its phone seen once), or None when the party has no phone."""
    if party.phone is None:
        return None
    index, repeats = party.phone.index, donors.repeats
    return lambda row: not repeats(row[index])


def _person_row(one_off: Callable[[Sequence[str]], bool] | None, draw: Draw) -> Sequence[str]:
    """A recent row whose party is a one-off person, each such row as likely; any row when none is.

    A new party is a one-off person (a new phone, one row), so its parts are
    drawn from one-off people, not from a window where a few shops send
    most parcels: drawn from every row, a canary's new sender took a shop's
    surname or given name seven times in ten where real one-off senders did
    three times in ten (cn-estates), and a classifier on the sender's name
    found them by that (AUC 0.59-0.64).
    """
    recent, below = draw.recent.rows, draw.below
    if one_off is None:
        return recent[below(len(recent))]
    for _ in range(PERSON_TRIES):
        row = recent[below(len(recent))]
        if one_off(row):
            return row
    people = [row for row in recent if one_off(row)]
    return draw.rng.choice(people) if people else recent[below(len(recent))]


FORMULA_START = ("=", "+", "-", "@")
PLAIN_NUMBER = re.compile(r"[+-]?[\d\s().-]+")  # '+86 138 0013 8000', '-3.5': nothing to run


def _defuse(row: list[str], recent: Sequence[Sequence[str]]) -> None:
    """A canary cell a spreadsheet would run as a formula is made inert, unless it is a real cell as it stands.

    Exports never emit a formula the source did not have; a canary built from
    a donor holding one would otherwise carry a new formula of its own.
    """
    for i, cell in enumerate(row):
        if (cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell)
                and not any(r[i] == cell for r in recent)):
            row[i] = cell.lstrip("".join(FORMULA_START)) or cell


def _new_party(party: Party, row: list[str], home: Sequence[str], kin: Sequence[str], draw: Draw,
               one_off: Callable[[Sequence[str]], bool] | None, name_column: Column | None) -> dict[int, int]:
    """Fill a new person: address from ``home``, surname and phone segment from ``kin``, the rest drawn
    (the given name from a one-off person's row when ``one_off`` tells them and one gives a new person;
    ``name_column``: the party's name column, ``party.name``)."""
    for column in party.members:
        i = column.index
        if not kin[i].strip() and column.kind in ("name", "phone", "email"):
            row[i] = kin[i]  # an empty cell stays empty, as often as the export's are
        elif column.kind == "name":
            avoid = {kin[i].strip(), home[i].strip()}
            row[i] = (name_from_rows(kin[i], i, draw, avoid, one_off) or name_from_rows(kin[i], i, draw, avoid)
                      or _fallback(draw, new_name(kin[i], draw.rng)))
        elif column.kind == "phone":
            row[i] = _phone(kin[i], i, draw)
        elif column.kind == "address":
            row[i] = address_from_rows(home[i], i, draw) if home[i].strip() else home[i]
    person = row[name_column.index] if name_column is not None else ""
    for column in party.members:
        i = column.index
        if column.kind == "email" and "@" in kin[i]:
            emails = draw.taken([i])
            old_name = kin[name_column.index] if name_column is not None else ""
            row[i] = (email_from_rows(person, i, name_column.index if name_column else None, draw, emails)
                      or _fallback(draw, new_email(kin[i], old_name, person, draw.rng)))
    if party.phone is None:
        return {}
    if party.phone.index in draw.pooled:
        return {party.phone.index: POOL_SPACE}
    anchor = phone_anchor(row[party.phone.index])
    return {party.phone.index: chance_space(anchor[:2]) if anchor is not None else 0}


def _phone(kin: str, index: int, draw: Draw) -> str:
    """A canary-pool number in the kin's layout when the pool has one of its kind; else a new random one."""
    anchor = phone_anchor(kin)
    number = draw.pool_number(anchor[:2]) if anchor is not None else None
    if number is None:
        return new_phone(kin, draw.rng)
    draw.pooled.add(index)
    return in_layout(kin, number)


def _fallback(draw: Draw, value: str) -> str:
    """A value from a built-in list, because the export had none to draw: the export says so."""
    draw.fallback = True
    return value


# DATETIME_FORMATS[0] as strptime reads it when every field has its two digits (ASCII ones): the
# usual export's timestamps, read without strptime's own regex and locale machinery.
PLAIN_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")


def _parse_time(text: str) -> tuple[datetime, str] | None:
    """``strptime_time(text)``, the usual timestamps read quicker."""
    plain = PLAIN_TIME.fullmatch(text.strip())
    if plain is not None:
        try:
            return datetime(*map(int, plain.groups())), DATETIME_FORMATS[0]
        except ValueError:
            pass  # out of range (a 31 April): strptime says what it is
    return strptime_time(text)


def strptime_time(text: str) -> tuple[datetime, str] | None:
    """The time and the first of ``DATETIME_FORMATS`` that strptime reads ``text`` in, or None."""
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt), fmt
        except ValueError:
            continue
    return None


def _fit_datetime(donors: Donors, index: int, fallback: str, rng: random.Random) -> str:
    """A time between the canary's neighbours when they are in order; else near a recent row's."""
    before = _parse_time(donors.before[index])
    after = _parse_time(donors.after[index]) if donors.after is not None else None
    if before is None or after is None or after[0] < before[0] or before[1] != after[1]:
        return near_datetime(fallback, rng)
    (start, fmt), (end, _) = before, after
    step = 60 if fmt.endswith("%M") else 1
    span = int((end - start).total_seconds()) // step
    if step == 1:
        # the seconds' parity marks move a time within its pair {2k, 2k+1} (channels/timestamp.py): a time
        # in a pair of its own stays between its neighbours whatever the marks of the three rows. With no
        # whole pair between them the decoy shares a neighbour's pair, and the marks may swap the two by a
        # second, as they swap two real rows that share a pair.
        first = start + timedelta(seconds=2 - start.second % 2)
        room = int((end - first).total_seconds()) - end.second % 2 - 1
        if room >= 0:
            start, span = first, room
    moment = start + timedelta(seconds=rng.randint(0, max(span, 0)) * step)
    text = donors.before[index]
    return text.replace(text.strip(), moment.strftime(fmt))


SEQUENCE = re.compile(r"(\D*)(\d+)(\D*)")


GAP_SPREAD = 3.0  # a gap this many times the typical one is always taken (a longer one is rare)
GAP_MIN_ROWS = 8  # recent rows needed to know the typical gap
GAP_SAMPLE = 16  # the last gaps, checked to run in order, that give the typical gap here


@lru_cache(maxsize=WINDOW_CACHE)
def _sequence_point(text: str) -> tuple[str, int] | None:
    """An identifier as a point on a line, with what two must share to be compared
    (prefix, width, suffix): ``ORD-1000047`` -> (``ORD-|7|``, 1000047)."""
    match = SEQUENCE.fullmatch(text.strip())
    if match is None:
        return None
    return f"{match.group(1)}|{len(match.group(2))}|{match.group(3)}", int(match.group(2))


def gap_weight(schema: Schema, recent: Sequence[Sequence[str]], before: Sequence[str],
               after: Sequence[str]) -> float | None:
    """How long the gap between ``before`` and ``after`` is, against this export's typical gap.

    A canary fitted between two rows whose identifiers run in order (order numbers)
    splits their gap in two; placed after a row chosen at random, its two gaps
    would be half the usual, and a model looking at neighbours finds it.  Taken
    with probability proportional to the gap's length instead, the split gaps
    are distributed like everyone's (a point dropped uniformly on the line
    looks like any other: Slivnyak).  The weight multiplies the ratio
    gap / typical gap over every column running in order in the last rows;
    None when no column does.  Typical means *local*, the mean of the last
    ``GAP_SAMPLE`` gaps.  Times are left alone: their gaps are long at night,
    and canaries drawn into them would be given away by their hour.
    """
    if len(recent) < GAP_MIN_ROWS:
        return None
    local = list(islice(reversed(recent), GAP_SAMPLE + 1))[::-1]
    weight = None
    for column in schema.of_kind("id"):
        i = column.index
        line = _running_line([row[i] for row in local], before[i], after[i])
        if line is None:
            continue  # not running in order (random waybill numbers), or this pair is not
        low, high = line[-2], line[-1]
        typical = (line[-3] - line[0]) / (len(local) - 1)
        gap = high - low - 1  # an identifier needs a free number in between
        weight = (1.0 if weight is None else weight) * max(gap, 0) / typical
    return weight


def _running_line(local: list[str], before: str, after: str) -> list[int] | None:
    """The identifiers of the last rows, ``before`` and ``after`` as points on one line, when all are
    (same prefix, width and suffix), the last rows' run in order (rising, the last above the first) and
    ``after`` is not below ``before``; else None, found at the first point that breaks it: random
    waybill numbers are out of order by the second or third, and their other points are never read."""
    first = _sequence_point(local[0])
    if first is None:
        return None
    prefix, line = first[0], [first[1]]
    for cell in local[1:]:
        point = _sequence_point(cell)
        if point is None or point[0] != prefix or point[1] < line[-1]:
            return None
        line.append(point[1])
    if line[-1] <= line[0]:
        return None
    for cell in (before, after):
        point = _sequence_point(cell)
        if point is None or point[0] != prefix:
            return None
        line.append(point[1])
    return line if line[-1] >= line[-2] else None


def takes_gap(weight: float | None, draw: float) -> bool:
    """Whether a pending canary goes into this gap (``draw`` uniform in [0, 1))."""
    return weight is None or draw * GAP_SPREAD < weight


def _fit_identifier(donors: Donors, index: int, fallback: str, rng: random.Random) -> tuple[str, int]:
    """A number between the neighbours' when identifiers run in sequence; else a fresh one.

    With the space it was drawn from: a fitted number is no chance-match
    evidence (another branch's real record may hold it), a fresh one is.
    """
    if donors.after is not None:
        first = SEQUENCE.fullmatch(donors.before[index].strip())
        second = SEQUENCE.fullmatch(donors.after[index].strip())
        if (first and second and first.group(1) == second.group(1) and first.group(3) == second.group(3)
                and len(first.group(2)) == len(second.group(2))):
            low, high = int(first.group(2)), int(second.group(2))
            if 1 < high - low < SEQUENTIAL_GAP:
                value = rng.randint(low + 1, high - 1)
                text = donors.before[index]
                digits = str(value).zfill(len(first.group(2)))
                return text.replace(text.strip(), first.group(1) + digits + first.group(3)), 0
    return new_identifier(fallback, rng), identifier_space(fallback)
