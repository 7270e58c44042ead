"""Marks in phone numbers: the layout of the digits, never the digits.

* Chinese mobile: ``13800138000`` (bit 0) / ``138 0013 8000`` (bit 1).
* North American: ``415-555-0134`` (bit 0) / ``(415) 555-0134`` (bit 1).

A country prefix followed by a space or hyphen (``+86 ``, ``0086-``,
``+1 ``) is kept verbatim and the rest is read as above, so a cleaning that
adds or keeps a prefix costs nothing.  Digits-only 11-digit Chinese mobiles
read 0 (that *is* variant 0, and what digit-stripping leaves).  Any other
layout (``138-0013-8000``, ``415.555.0134``, 10 bare digits, a prefix glued to
the number) is an erasure: we cannot tell which variant it came from.
"""

from __future__ import annotations

import re

from tracer.channels._base import MarkSlot, Site

_CN = re.compile(
    r"\s*(?:(?:\+|00)86[ -])?"
    r"(?P<body>(?P<plain>1[3-9][0-9]{9})|(?P<a>1[3-9][0-9]) (?P<b>[0-9]{4}) (?P<c>[0-9]{4}))"
    r"\s*"
)
_US = re.compile(
    r"\s*(?:(?:\+|00)1[ -])?"
    r"(?P<body>(?P<hyphen>[2-9][0-9]{2}-[2-9][0-9]{2}-[0-9]{4})"
    r"|\((?P<a>[2-9][0-9]{2})\) (?P<b>[2-9][0-9]{2})-(?P<c>[0-9]{4}))"
    r"\s*"
)


def _cn_site(match: re.Match) -> Site:
    plain = match.group("plain")
    digits = plain if plain is not None else "".join(match.group("a", "b", "c"))
    spaced = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return Site(*match.span("body"), int(plain is None), (digits, spaced))


def _us_site(match: re.Match) -> Site:
    hyphen = match.group("hyphen")
    if hyphen is not None:
        area, exchange, line = hyphen.split("-")
    else:
        area, exchange, line = match.group("a", "b", "c")
    variants = (f"{area}-{exchange}-{line}", f"({area}) {exchange}-{line}")
    return Site(*match.span("body"), int(hyphen is None), variants)


class PhoneLayout(MarkSlot):
    """Compact (0) or grouped (1) layout of a Chinese mobile or US number."""

    NAME = "phone.layout"
    COLUMN_KINDS = ("phone",)

    def locate(self, cell: str) -> Site | None:
        match = _CN.fullmatch(cell)
        if match is not None:
            return _cn_site(match)
        match = _US.fullmatch(cell)
        if match is not None:
            return _us_site(match)
        return None


SLOTS: tuple[MarkSlot, ...] = (PhoneLayout(),)


def digits(cell: str) -> str:
    """The ASCII digits of a cell, in order: what a mark must never change."""
    return "".join(ch for ch in cell if "0" <= ch <= "9")


def canonical(cell: str) -> str:
    """A phone number is its digits (prefix included: marks keep it)."""
    return digits(cell)
