"""Marks in date-times: the parity of the seconds.

``2024-03-05 14:22:36`` / ``2024-03-05 14:22:37``.  The seconds only move
inside their pair {2k, 2k+1}, so the time moves by at most one second and the
minute never changes.  Bit = parity: 1 odd, 0 even.  A cell without a seconds
field (a bare date, ``14:22``) carries no mark.
"""

from __future__ import annotations

import re

from tracer.channels._base import MarkSlot, Site, canonical_form, parity_site

_DATE = (
    r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"  # 2024-03-05, 2024/3/5
    r"|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"  # 03/05/2024
    r"|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日"
)
# The whole cell: an optional date, then H:MM:SS, then optional fraction,
# AM/PM and zone.  The seconds are the last two digits of the 'sec' group.
_DATETIME = re.compile(
    rf"\s*(?:(?:{_DATE})(?:T|\s+))?"
    r"[0-9]{1,2}:[0-5][0-9]:(?P<sec>[0-5][0-9])"
    r"(?:[.,][0-9]{1,9})?"
    r"(?:\s*(?:[AaPp][Mm]|Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2}))?"
    r"\s*"
)


class TimestampSeconds(MarkSlot):
    """Parity of the seconds field of a date-time."""

    NAME = "timestamp.seconds"
    COLUMN_KINDS = ("datetime",)

    def locate(self, cell: str) -> Site | None:
        match = _DATETIME.fullmatch(cell)
        if match is None:
            return None
        return parity_site(cell, match.end("sec") - 1)


SLOTS: tuple[MarkSlot, ...] = (TimestampSeconds(),)


def canonical(cell: str) -> str:
    """The cell with its seconds at the odd member of their pair: the same for
    both marked variants."""
    return canonical_form(SLOTS, cell)
