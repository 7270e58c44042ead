"""Mark channels: binary, meaning-preserving variants of cells.

One module per channel, each declaring its slots (see :mod:`._base` for what
a slot is and the laws every slot keeps).  This package only gathers them:
``ALL_SLOTS`` in a fixed order, and ``slots_for(kind)`` for a column kind
('address', 'phone', 'number', 'datetime', 'email').

The order is part of the contract: the exporter applies a kind's slots in
this order, so reordering would change exported bytes (never the readings:
slots of one kind are independent).  Append new slots at the end.
"""

from __future__ import annotations

from tracer.channels import cn_address, cn_estate, email, en_address, en_ordinal, number, phone, timestamp
from tracer.channels._base import MarkSlot, Site

ALL_SLOTS: tuple[MarkSlot, ...] = (
    *cn_address.SLOTS,
    *en_address.SLOTS,
    *phone.SLOTS,
    *number.SLOTS,
    *timestamp.SLOTS,
    *email.SLOTS,
    *cn_estate.SLOTS,
    *en_ordinal.SLOTS,
)

_BY_KIND: dict[str, tuple[MarkSlot, ...]] = {}
for _slot in ALL_SLOTS:
    for _kind in _slot.COLUMN_KINDS:
        _BY_KIND[_kind] = (*_BY_KIND.get(_kind, ()), _slot)
del _slot, _kind

KINDS: tuple[str, ...] = tuple(_BY_KIND)


def slots_for(kind: str) -> tuple[MarkSlot, ...]:
    """The slots applying to a column kind, in ``ALL_SLOTS`` order; empty for
    a kind no channel marks (names, identifiers)."""
    return _BY_KIND.get(kind, ())


__all__ = ["ALL_SLOTS", "KINDS", "MarkSlot", "Site", "slots_for"]
