"""The flip: every mark variant turned to the other spelling, with tracer's public slot code.

An attacker who read the README (or the source) knows tracer's channels:
``tracer.channels`` is public.  Without the key it cannot tell which bit a
cell carries for whom, but it can write every variant the other way round,
so that no mark agrees with the account's codeword.  The columns are
recognised the attacker's way (``attacks.column_kinds``); the slots are
tracer's.  (This is the only bench module that imports ``tracer``'s code,
because an attacker would.)
"""

from __future__ import annotations

import attacks as A
from attacks import Table

from tracer.channels import slots_for

# the attacker's column kinds -> tracer's public channel kinds
KINDS = {"cn_address": "address", "en_address": "address", "phone": "phone", "number": "number",
         "datetime": "datetime", "email": "email"}


def flip_cell(cell: str, kind: str) -> str:
    """Every slot of ``kind`` present in ``cell`` written with its other variant."""
    for slot in slots_for(kind):
        bit = slot.read(cell)
        if bit is not None:
            cell = slot.embed(cell, 1 - bit)
    return cell


def flip_all(table: Table) -> Table:
    """Every readable mark of every recognised column flipped."""
    header, rows = table
    kinds = [KINDS.get(k) for k in A.column_kinds(table)]
    return list(header), [[flip_cell(c, k) if k else c for c, k in zip(r, kinds)] for r in rows]
