"""Marks in e-mail addresses: the case of the local part's first letter.

``john.smith@gmail.com`` (bit 0, lower) / ``John.smith@gmail.com`` (bit 1,
upper).  Mail systems treat local parts case-insensitively in practice, so
both variants reach the same mailbox; the domain is never touched.

Only a local part that starts with an ASCII letter and is otherwise lower-case
carries the mark: in ``JSmith@...`` or ``JOHN@...`` the capitals are the
source's own style and we could not tell a mark from it.
"""

from __future__ import annotations

import re

from tracer.channels._base import MarkSlot, Site

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    r"\s*(?:mailto:)?"
    r"(?P<first>[A-Za-z])[a-z0-9._%+-]{0,63}"
    rf"@{_LABEL}(?:\.{_LABEL})+"
    r"\s*"
)


class EmailCase(MarkSlot):
    """Upper (1) or lower (0) first letter of the local part."""

    NAME = "email.case"
    COLUMN_KINDS = ("email",)

    def locate(self, cell: str) -> Site | None:
        match = _EMAIL.fullmatch(cell)
        if match is None:
            return None
        start = match.start("first")
        letter = cell[start]
        return Site(start, start + 1, int(letter.isupper()), (letter.lower(), letter.upper()))


SLOTS: tuple[MarkSlot, ...] = (EmailCase(),)


def canonical(cell: str) -> str:
    """E-mail addresses are equal case-insensitively."""
    return cell.casefold()
