"""Marks in US street names that USPS standardisation keeps: a numbered street in digits or words.

``100 5th Avenue`` (0) / ``100 Fifth Avenue`` (1), first to tenth.  Both are
in use for the same street (Fifth Avenue, 5th Ave).  USPS Publication 28
abbreviates street suffixes, directionals and unit designators but leaves
the street *name* as written, so this slot survives a USPS clean
(``100 FIFTH AVE`` / ``100 5TH AVE``) where ``Street``/``St`` does not.  (A
canonicaliser that also rewrites ordinals, as libpostal's expansions can,
erases it.)

One slot, ``en_address.ordinal``: the street name must be the ordinal alone
(after the house number, or after a pre-direction), right before the
street type that ``en_address`` locates, so ``First Baptist Church Rd`` or
``2nd Floor`` are never touched.  Both variants are written in the case of
the street type (``Fifth Avenue``, ``FIFTH AVENUE``, ``fifth avenue``;
``5th``/``5TH``); a token written in another case than the street type's is
unread (unsure means None).
"""

from __future__ import annotations

from tracer.channels._base import MarkSlot, Site, canonical_form, case_style, styled
from tracer.channels.en_address import DIRECTIONS, _address

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}
_DIGITS = {f"{n}{_SUFFIXES.get(n, 'th')}": n for n in range(1, 11)}
_WORDS = {word: n for n, word in enumerate(ORDINALS, start=1)}
_PRE_DIRECTIONS = set(DIRECTIONS) | set(DIRECTIONS.values())


def _forms(n: int, style: str) -> tuple[str, str]:
    digits = f"{n}{_SUFFIXES.get(n, 'th')}"
    return (digits.upper() if style == "upper" else digits, styled(ORDINALS[n - 1], style))


class StreetOrdinal(MarkSlot):
    """Numbered street in words (1) or digits (0)."""

    NAME = "en_address.ordinal"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        address = _address(cell)
        if address is None or address.street_type is None:
            return None
        index = address.street_type - 1
        name_starts = address.house + 1
        if index == name_starts + 1 and address.words[name_starts].rstrip(".") in _PRE_DIRECTIONS:
            name_starts += 1
        if index != name_starts:
            return None
        word = address.words[index]
        number, bit = (_DIGITS[word], 0) if word in _DIGITS else (_WORDS.get(word), 1)
        if number is None:
            return None
        token = address.tokens[index]
        style = case_style(address.tokens[address.street_type].group().rstrip("."))
        variants = _forms(number, style)
        if token.group() != variants[bit]:
            return None  # '5TH Avenue', 'fifth Avenue': not a spelling we would write
        return Site(*token.span(), bit, variants)


SLOTS: tuple[MarkSlot, ...] = (StreetOrdinal(),)


def canonical(cell: str) -> str:
    """The numbered street in words: the same for both variants."""
    return canonical_form(SLOTS, cell)
