"""The values a canary makes new, and the built-in fallbacks for what it cannot draw from the export.

What must be new is drawn at random (from the caller's keyed rng) in the
*shape* of a real donor value:

- a phone on the donor's real segment (CN: first 3 digits; US: area code and
  a real exchange), layout kept;
- an amount moved by one or two units of its last digit; a time moved within
  its day; a fresh identifier of the donor's shape.

Names, address numbers and emails come from the export's own rows
(``canary_draws``).  Only when it has none to draw from do faker's name lists
and a few common email styles stand in (``new_name``, ``new_email``): a
broker who reads those public lists can pick such canaries out, which is why
an export says when it used them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from functools import cache
from typing import NamedTuple

from .columns import CN_NAME, EN_NAME, Column, kind_by_header

# How many leading digits a canary phone keeps from its donor, and so how many
# are random: the size of the space a chance match must hit.
KEPT_DIGITS = {"cn": 3, "us": 3}
RANDOM_DIGITS = {"cn": 8, "us": 7}



class Names(NamedTuple):
    """faker's public name lists, the fallback of ``new_name``."""

    cn_given: list[str]
    cn_given_by_length: dict[int, list[str]]
    cn_surnames: set[str]
    en_surnames: list[str]
    en_given: list[str]
    en_given_weights: list[float] | None


@cache
def names() -> Names:
    """faker's lists, loaded on the first canary that needs one: importing faker costs ~0.2 s, which
    every command importing this module (a match, through ``shared_canaries``) would pay for nothing."""
    from faker.providers.person.en_US import Provider as EnglishNames
    from faker.providers.person.zh_CN import Provider as ChineseNames

    cn_given = list(ChineseNames.first_names)
    by_length: dict[int, list[str]] = {}
    for given in cn_given:
        by_length.setdefault(len(given), []).append(given)
    weights = list(EnglishNames.first_names.values()) if hasattr(EnglishNames.first_names, "values") else None
    return Names(cn_given, by_length, set(ChineseNames.last_names), list(EnglishNames.last_names),
                 list(EnglishNames.first_names), weights)

# US exchanges (the 3 digits after the area code) that are never assigned to a
# subscriber: N11 service codes and 555.  A canary never uses one.
US_EXCHANGES = [e for e in range(200, 1000) if e % 100 != 11 and e != 555]

DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
DATETIME_SHIFT = 3600  # a canary's timestamp moves by at most this many seconds, within its day
CJK = re.compile(r"[\u4e00-\u9fff]")



def below(rng: random.Random) -> Callable[[int], int]:
    """``rng.randrange(n)`` for a bound ``n > 0``: the function randrange itself returns (``_randbelow``),
    the same numbers from the same state, without its argument checks (the draws' loops call it often)."""
    return rng._randbelow


def chance_space(phone_kind: str) -> int:
    """How many equally likely values a canary's phone was drawn from.

    A Chinese canary mobile has 8 free digits.  A US canary number has a real
    exchange (first digit 2-9, never N11 or 555: 791 of the 1,000 values) and
    4 free digits.
    """
    if phone_kind == "us":
        return len(US_EXCHANGES) * 10 ** (RANDOM_DIGITS["us"] - 3)
    return 10 ** RANDOM_DIGITS[phone_kind]


def _replace_digits(text: str, keep: int, rng: random.Random, first_nonzero: bool = False) -> str:
    """``text`` with every digit after the first ``keep`` ones replaced at random, layout kept (each digit
    ``rng.randint(low, 9)``'s, as ``randrange`` draws it: ``low + _randbelow(10 - low)``)."""
    out, seen, draw = [], 0, below(rng)
    for ch in text:
        if ch.isdigit():
            if seen >= keep:
                low = 2 if (first_nonzero and seen == keep) else 0
                ch = str(low + draw(10 - low))
            seen += 1
        out.append(ch)
    return "".join(out)


def _put_digits(text: str, keep: int, digits: str) -> str:
    """``text`` with the digits after the first ``keep`` ones replaced by ``digits``, layout kept."""
    out, seen, new = [], 0, iter(digits)
    for ch in text:
        if ch.isdigit():
            if seen >= keep:
                ch = next(new, ch)
            seen += 1
        out.append(ch)
    return "".join(out)


def _us_number(donor: str, keep: int, rng: random.Random) -> str:
    """A US number on the donor's area code: a real exchange, then 4 random digits."""
    exchange = rng.choice(US_EXCHANGES)
    line = rng.randrange(10 ** (RANDOM_DIGITS["us"] - 3))
    return _put_digits(donor, keep, f"{exchange:03d}{line:0{RANDOM_DIGITS['us'] - 3}d}")


def new_phone(donor: str, rng: random.Random) -> str:
    """A new number on the donor's segment (CN: first 3 digits; US: area code), layout kept."""
    digits = re.sub(r"\D", "", donor)
    us_prefixed = len(digits) == 11 and re.match(r"^\s*(\+1|1[-.\s(])", donor) is not None
    if len(digits) >= 13 and digits.startswith("86"):
        return _replace_digits(donor, 2 + KEPT_DIGITS["cn"], rng)
    if len(digits) == 11 and digits[0] == "1" and not us_prefixed:
        return _replace_digits(donor, KEPT_DIGITS["cn"], rng)
    keep = KEPT_DIGITS["us"] + (1 if us_prefixed else 0)
    if len(digits) == keep + RANDOM_DIGITS["us"]:
        return _us_number(donor, keep, rng)
    return _replace_digits(donor, keep, rng, first_nonzero=True)


def is_person(column: Column) -> bool:
    """A name column, unless its header says it holds something else (an item taken for a name)."""
    return kind_by_header(column.header) in (None, "name")


def _other(choices: Sequence[str], old: str, rng: random.Random) -> str:
    """A choice that is not ``old`` (when there is one)."""
    for _ in range(16):
        pick = rng.choice(choices)
        if pick != old:
            return pick
    return next((c for c in choices if c != old), old)


def _cn_given(old: str, rng: random.Random) -> str:
    """A given name as long as ``old`` (1 or 2 characters, as faker's lists), never ``old``."""
    lists = names()
    same = lists.cn_given_by_length.get(len(old))
    if same and len(same) > 1:
        return _other(same, old, rng)
    singles = lists.cn_given_by_length.get(1, lists.cn_given)
    length = max(1, len(old))
    for _ in range(16):
        given = "".join(rng.choice(singles) for _ in range(length))
        if given != old:
            return given
    return given + rng.choice(singles)


def _en_given(old: str, rng: random.Random) -> str:
    lists = names()
    for _ in range(16):
        first = (rng.choices(lists.en_given, weights=lists.en_given_weights)[0] if lists.en_given_weights
                 else rng.choice(lists.en_given))
        if first.lower() != old.lower():
            return first
    return _other(lists.en_given, old, rng)


def new_name(donor: str, rng: random.Random) -> str:
    """A new person with the donor's surname and a given name of the donor's shape.

    A donor that is no plausible name (a formula, a remark) lends nothing: the
    canary gets a fresh faker name, so a canary never carries text a
    spreadsheet would run unless the source had it.
    """
    text = donor.strip()
    if text and not (CN_NAME.match(text) or EN_NAME.match(text)):
        if CJK.search(text):
            return rng.choice(sorted(names().cn_surnames)) + _cn_given(rng.choice(("秀英", "伟")), rng)
        return _en_given("", rng) + " " + rng.choice(names().en_surnames)
    if CJK.search(text):
        surname = text[:2] if text[:2] in names().cn_surnames and len(text) > 2 else text[:1]
        return donor.replace(text, surname + _cn_given(text[len(surname):], rng))
    parts = text.split()
    if not parts:
        return donor
    return donor.replace(text, " ".join([_en_given(parts[0], rng)] + parts[1:]))


def _digits_like(old: str, rng: random.Random) -> str:
    """A number in the shape of ``old``: a year stays a plausible year, no new leading zero."""
    if len(old) == 4 and old[:2] in ("19", "20"):
        year = int(old) + rng.choice((-1, 1)) * rng.randint(1, 8)
        return str(min(max(year, 1940), 2012))
    if len(old) == 2 and old[0] != "0" and 40 <= int(old) <= 99 and rng.random() < 0.5:
        return str(min(max(int(old) + rng.choice((-1, 1)) * rng.randint(1, 8), 40), 99))  # a 2-digit year
    low = 10 ** (len(old) - 1) if old[0] != "0" else 0
    return str(rng.randint(low, 10 ** len(old) - 1)).zfill(len(old))


def _renew_digits(text: str, rng: random.Random) -> str:
    return re.sub(r"\d+", lambda m: _digits_like(m.group(0), rng), text)


EMAIL_STYLES = (
    lambda f, l: f + "." + l,
    lambda f, l: f + l,
    lambda f, l: f[0] + l,
    lambda f, l: f + "_" + l,
    lambda f, l: f + l[0],
    lambda f, l: f,
)


def new_email(donor_email: str, donor_name: str, canary_name: str, rng: random.Random) -> str:
    """An email for the canary in the donor's style (first.last, flast42, lastfirst...)."""
    if "@" not in donor_email:
        return donor_email
    local, domain = donor_email.rsplit("@", 1)
    old = [p.lower() for p in re.findall(r"[A-Za-z]+", donor_name)]
    new = [p.lower() for p in re.findall(r"[A-Za-z]+", canary_name)]
    if len(new) >= 2:
        nfirst, nlast = new[0], new[-1]
        head = re.match(r"^[A-Za-z._-]*", local).group(0)
        tail = local[len(head):]
        built = None
        if len(old) >= 2:
            first, last = old[0], old[-1]
            patterns = (
                (first + "." + last, nfirst + "." + nlast),
                (first + "_" + last, nfirst + "_" + nlast),
                (first + "-" + last, nfirst + "-" + nlast),
                (last + "." + first, nlast + "." + nfirst),
                (last + "_" + first, nlast + "_" + nfirst),
                (first + last, nfirst + nlast),
                (last + first, nlast + nfirst),
                (last + "." + first[0], nlast + "." + nfirst[0]),
                (first[0] + "." + last, nfirst[0] + "." + nlast),
                (first[0] + last, nfirst[0] + nlast),
                (first + last[0], nfirst + nlast[0]),
                (last + first[0], nlast + nfirst[0]),
                (first, nfirst),
                (last, nlast),
            )
            lowered = head.lower()
            for pattern, build in patterns:
                if lowered == pattern:
                    built = build
                    break
        if built is None:  # a style we do not recognise: a common one, the donor's digits kept in shape
            built = rng.choice(EMAIL_STYLES)(nfirst, nlast)
        if head[:1].isupper():
            built = built.capitalize()
        email = built + _renew_digits(tail, rng) + "@" + domain
        for _ in range(8):  # the same initial and surname can give the donor's address back
            if email.lower() != donor_email.lower():
                return email
            email = rng.choice(EMAIL_STYLES)(nfirst, nlast) + _renew_digits(tail, rng) + "@" + domain
        return built + str(rng.randint(1, 99)) + _renew_digits(tail, rng) + "@" + domain
    letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") if c.isalpha() else c for c in local)
    return _renew_digits(letters, rng) + "@" + domain


def near_number(donor: str, rng: random.Random) -> str:
    """The donor's amount moved by one or two units of its last shown digit, never to zero or below.

    A small step keeps the export's amounts as they are (a 0.2 kg letter stays
    light, a total keeps its cents' pattern) while the canary is no copy.
    """
    text = donor.strip()
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        return donor
    decimals = len(text.split(".")[1]) if "." in text else 0
    units = int(text.replace(".", ""))
    step = rng.choice((-2, -1, 1, 2))
    moved = units + step if units + step > 0 else units - step
    digits = str(moved).zfill(len(text.replace(".", "")))
    shown = digits[:-decimals] + "." + digits[-decimals:] if decimals else digits
    if len(shown) > len(text) and shown.startswith("0"):  # 0.1 - ... never grows a leading zero
        shown = shown[1:]
    return donor.replace(text, shown)


def near_datetime(donor: str, rng: random.Random) -> str:
    """The donor's timestamp moved by at most ``DATETIME_SHIFT`` seconds, within its day."""
    text = donor.strip()
    for fmt in DATETIME_FORMATS:
        try:
            when = datetime.strptime(text, fmt)
        except ValueError:
            continue
        shift = rng.randint(-DATETIME_SHIFT, DATETIME_SHIFT)
        if fmt.endswith("%M"):  # minutes shown: move by whole minutes
            shift = shift // 60 * 60
        shifted = when + timedelta(seconds=shift)
        if shifted.date() != when.date():
            shifted = when - (shifted - when)
        return donor.replace(text, shifted.strftime(fmt))
    return donor


def _kept_id_digits(donor: str) -> int:
    return 3 if sum(ch.isdigit() for ch in donor) > 3 else 0


def identifier_space(donor: str) -> int:
    """How many values a fresh identifier of the donor's shape is drawn from (its random digits)."""
    return 10 ** (sum(ch.isdigit() for ch in donor) - _kept_id_digits(donor))


def new_identifier(donor: str, rng: random.Random) -> str:
    """A fresh identifier of the donor's shape: letters and leading digits kept, never the donor's."""
    keep = _kept_id_digits(donor)
    fresh = _replace_digits(donor, keep, rng)
    for _ in range(32):
        if fresh != donor:
            break
        fresh = _replace_digits(donor, keep, rng)
    return fresh
