"""Canary rows: decoy people added to each export, different for every account.

A canary is built from a *donor*: a real row of the same export, chosen by a
keyed hash of (account, record).  Everything that does not identify a person
comes from the donor — province, city, district, road, estate, item, date,
weight, total, city/state/ZIP — so canaries follow the export's own
distributions.  Only what must be new is drawn at random (keyed, so the same
account and record always give the same canary): the given name (faker's
lists; the surname stays the donor's), the house and room numbers, the last 8
digits of a Chinese mobile (the donor's real segment kept) or the last 7 of a
US number (the donor's area code kept), a fresh identifier of the same shape,
an email in the donor's style.

One canary found in a leak points at the account that received it; the
chance that an unrelated real record carries it is bounded in ``match``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from faker.providers.person.en_US import Provider as EnglishNames
from faker.providers.person.zh_CN import Provider as ChineseNames

from .columns import Schema

RATE = 0.0075  # share of records followed (at a keyed distance) by a canary
MAX_SHIFT = 64  # a canary lands 1..MAX_SHIFT rows after (or before, at the end) its donor

# How many leading digits a canary phone keeps from its donor, and so how many
# are random: the size of the space a chance match must hit.
KEPT_DIGITS = {"cn": 3, "us": 3}
RANDOM_DIGITS = {"cn": 8, "us": 7}

CN_GIVEN = list(ChineseNames.first_names)
CN_SURNAMES = set(ChineseNames.last_names)
EN_GIVEN = list(EnglishNames.first_names)
EN_GIVEN_WEIGHTS = list(EnglishNames.first_names.values()) if hasattr(EnglishNames.first_names, "values") else None

DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
CJK = re.compile(r"[\u4e00-\u9fff]")


def chance_space(phone_kind: str) -> int:
    """How many equally likely values a canary's phone was drawn from.

    A US exchange's first digit is 2-9, so 8 of its 10 values are possible.
    """
    space = 10 ** RANDOM_DIGITS[phone_kind]
    return space * 8 // 10 if phone_kind == "us" else space


def _replace_digits(text: str, keep: int, rng: random.Random, first_nonzero: bool = False) -> str:
    """``text`` with every digit after the first ``keep`` ones replaced at random, layout kept."""
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            if seen >= keep:
                low = 2 if (first_nonzero and seen == keep) else 0
                ch = str(rng.randint(low, 9))
            seen += 1
        out.append(ch)
    return "".join(out)


def _phone(donor: str, rng: random.Random) -> str:
    """A new number on the donor's segment (CN: first 3 digits; US: area code), layout kept."""
    digits = re.sub(r"\D", "", donor)
    us_prefixed = len(digits) == 11 and re.match(r"^\s*(\+1|1[-.\s(])", donor) is not None
    if len(digits) >= 13 and digits.startswith("86"):
        return _replace_digits(donor, 2 + KEPT_DIGITS["cn"], rng)
    if len(digits) == 11 and digits[0] == "1" and not us_prefixed:
        return _replace_digits(donor, KEPT_DIGITS["cn"], rng)
    keep = KEPT_DIGITS["us"] + (1 if us_prefixed else 0)
    return _replace_digits(donor, keep, rng, first_nonzero=True)


def _name(donor: str, rng: random.Random) -> str:
    donor = donor.strip()
    if CJK.search(donor):
        surname = donor[:2] if donor[:2] in CN_SURNAMES and len(donor) > 2 else donor[:1]
        given = rng.choice(CN_GIVEN)
        if rng.random() < 0.5:
            given += rng.choice(CN_GIVEN)
        return surname + given[:2]
    parts = donor.split()
    first = rng.choices(EN_GIVEN, weights=EN_GIVEN_WEIGHTS)[0] if EN_GIVEN_WEIGHTS else rng.choice(EN_GIVEN)
    if len(parts) >= 2:
        return " ".join([first] + parts[1:])
    return first


def _email(donor_email: str, donor_name: str, canary_name: str, rng: random.Random) -> str:
    """An email for the canary in the donor's style (first.last, flast42, firstlast...)."""
    if "@" not in donor_email:
        return donor_email
    local, domain = donor_email.rsplit("@", 1)
    old = [p.lower() for p in re.findall(r"[A-Za-z]+", donor_name)]
    new = [p.lower() for p in re.findall(r"[A-Za-z]+", canary_name)]
    if len(old) >= 2 and len(new) >= 2:
        first, last, nfirst, nlast = old[0], old[-1], new[0], new[-1]
        for pattern, build in (
            (first + "." + last, nfirst + "." + nlast),
            (first + "_" + last, nfirst + "_" + nlast),
            (first + last, nfirst + nlast),
            (first[0] + last, nfirst[0] + nlast),
            (first + last[0], nfirst + nlast[0]),
            (first, nfirst),
        ):
            if local.lower().startswith(pattern):
                tail = local[len(pattern):]
                tail = _replace_digits(tail, 0, rng) if tail else tail
                built = build + tail
                return (built if local.islower() else built.capitalize()) + "@" + domain
    letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") if c.isalpha() else c for c in local)
    return _replace_digits(letters, 0, rng) + "@" + domain


def _address(donor: str, rng: random.Random) -> str:
    """The donor's address with a new house number and new building/room numbers."""
    def renumber(match: re.Match) -> str:
        digits = match.group(0)
        bound = max(9, int(digits) * 2) if len(digits) < 4 else 10 ** len(digits) - 1
        low = 10 ** (len(digits) - 1) if len(digits) > 1 else 1
        return str(rng.randint(low, min(bound, 10 ** len(digits) - 1)))

    if CJK.search(donor):
        # Numbers after the road or estate: house number, building, unit, room.
        return re.sub(r"\d+", renumber, donor)
    return re.sub(r"\d+", renumber, donor)


def _number(donor: str, rng: random.Random) -> str:
    """The donor's amount with its last shown digit redrawn (same length, never zero)."""
    text = donor.strip()
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        return donor
    head = text[:-1]
    low = 1 if re.fullmatch(r"[0.]*", head) else 0
    return donor.replace(text, head + str(rng.randint(low, 9)))


def _datetime(donor: str, rng: random.Random) -> str:
    text = donor.strip()
    for fmt in DATETIME_FORMATS:
        try:
            when = datetime.strptime(text, fmt)
        except ValueError:
            continue
        shifted = when + timedelta(seconds=rng.randint(-3 * 3600, 3 * 3600))
        if shifted.date() != when.date():
            shifted = when - (shifted - when)
        return donor.replace(text, shifted.strftime(fmt))
    return donor


def _identifier(donor: str, rng: random.Random) -> str:
    """A fresh identifier of the donor's shape: letters and leading digits kept."""
    return _replace_digits(donor, 3, rng)


def make_canary(schema: Schema, donor: Sequence[str], rng: random.Random) -> list[str]:
    """A decoy row drawn from ``donor``; identifying cells are new."""
    row = list(donor)
    names: dict[int, str] = {}
    for column in schema.columns:
        cell = donor[column.index]
        if not str(cell).strip():
            continue
        kind = column.kind
        if kind == "name":
            names[column.index] = row[column.index] = _name(cell, rng)
        elif kind == "phone":
            row[column.index] = _phone(cell, rng)
        elif kind == "id":
            row[column.index] = _identifier(cell, rng)
        elif kind == "address":
            row[column.index] = _address(cell, rng)
        elif kind == "number":
            row[column.index] = _number(cell, rng)
        elif kind == "datetime":
            row[column.index] = _datetime(cell, rng)
    for column in schema.of_kind("email"):
        donor_name, canary_name = _party_names(schema, column, donor, row)
        row[column.index] = _email(donor[column.index], donor_name, canary_name, rng)
    return [type(old)(new) if type(old) is not str and new != old else new for old, new in zip(donor, row)]


def _party_names(schema: Schema, column, donor: Sequence[str], canary: Sequence[str]) -> tuple[str, str]:
    names = schema.of_kind("name")
    same = [n for n in names if column.party is not None and n.party == column.party]
    chosen = (same or names or [None])[0]
    if chosen is None:
        return "", ""
    return donor[chosen.index], canary[chosen.index]
