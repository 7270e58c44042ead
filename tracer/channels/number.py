"""Marks in numbers (weights, amounts): the parity of the last shown digit.

``1.2`` / ``1.3``, ``12.80`` / ``12.81``, ``3`` / ``2``.  The digit only moves
inside its pair {2k, 2k+1}, so the value changes by at most one unit of its
last shown digit, never carries, and keeps its sign, its number of decimals
and its count of integer digits.  Bit = parity: 1 odd, 0 even.

Values whose pair contains zero (``0``, ``1``, ``0.01``) are not marked: a
weight or an amount must not become 0.

A broker who rounds every value to whole units rewrites the last digit of
each at random: the slot would read noise, not the exported bits.  So a
column in which every value is whole is judged possibly rounded
(``coarse``) and the matcher erases it; a source whose numbers are all whole
loses this channel in its leaks, which is the price of not reading noise.
"""

from __future__ import annotations

import re

from tracer.channels._base import HAN, MarkSlot, Site, canonical_form, parity_site

# The whole cell: an optional sign and currency sign (either order), the number (plain or
# with thousands separators), an optional short unit ('kg', '元', '%').
# ASCII digits only: a full-width digit is not ours to rewrite.
_NUMBER = re.compile(
    r"\s*(?:[+-]\s*)?(?:[$¥￥€£]\s*)?(?:[+-]\s*)?"
    r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?"
    rf"\s*(?:(?:[A-Za-z%]{{1,5}}|[{HAN}]{{1,3}})\s*)?"
)


class NumberParity(MarkSlot):
    """Parity of the last shown digit of a decimal number."""

    NAME = "number.parity"
    COLUMN_KINDS = ("number",)
    ROUNDABLE = True  # rounded to whole units, the last digit is no longer the one exported

    def coarse(self, cell: str) -> bool:
        match = _NUMBER.fullmatch(cell)
        return match is not None and match.group("frac") is None

    def locate(self, cell: str) -> Site | None:
        match = _NUMBER.fullmatch(cell)
        if match is None:
            return None
        group = "frac" if match.group("frac") is not None else "int"
        last = match.end(group) - 1
        if _pair_holds_zero(match.group("int") + (match.group("frac") or "")):
            return None
        return parity_site(cell, last)


def _pair_holds_zero(digits: str) -> bool:
    """True when one member of the last digit's pair is the value 0."""
    return digits[-1] in "01" and not digits[:-1].replace(",", "").strip("0")


SLOTS: tuple[MarkSlot, ...] = (NumberParity(),)


def canonical(cell: str) -> str:
    """The cell with its last digit at the odd member of its pair: the same
    for both marked variants."""
    return canonical_form(SLOTS, cell)
