"""Where marks go: record anchors, code positions, marking a row, reading a row.

A record's *anchors* are what survives every leak: its phone digits, and its
identifier when present.  Each anchor's keyed 64-byte digest gives the 8-byte
exposure digest (bytes 0-7) and one code position per mark slot (one 32-bit
word each, bytes 8-63).  A cell is marked at the positions of its *cell
anchor*:

- a phone cell: its own digits;
- an address or email: its party's phone (``寄件地址`` -> ``寄件人电话``);
- anything else (weight, timestamp), or a party whose phone is not certain:
  the *row anchor*, the row's phone anchor with the smallest digest (so column
  order does not matter), else its identifier.

The matcher recomputes the same anchors from the leak; where the leak no
longer says which phone is an address's party (headers lost), the nearest
phone column is taken: a wrong guess only reads symbols that are independent
of every account's codeword, costing power but never validity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .channels import slots_for
from .columns import MARKABLE_KINDS, Column, Schema, anchor_of
from .keys import Key

# Which 32-bit word of an anchor digest gives each slot's position.  Append
# only: changing a slot's word would make every earlier export unreadable.
POSITION_SLOTS: tuple[str, ...] = (
    "cn_address.province",
    "cn_address.city",
    "cn_address.building",
    "cn_address.lou",
    "en_address.street_type",
    "en_address.unit",
    "en_address.direction",
    "phone.layout",
    "number.parity",
    "timestamp.seconds",
    "email.case",
)
SLOT_WORD = {name: 2 + i for i, name in enumerate(POSITION_SLOTS)}  # words 0-1 are the exposure digest
assert len(POSITION_SLOTS) <= 14

ANCHOR_CACHE_SIZE = 1 << 16


@dataclass(frozen=True)
class Anchor:
    """One anchor's keyed digest: exposure id and slot positions."""

    digest: bytes

    @property
    def exposure(self) -> int:
        return int.from_bytes(self.digest[:8], "little", signed=True)

    def position(self, slot_name: str, length: int) -> int:
        word = SLOT_WORD[slot_name]
        return int.from_bytes(self.digest[4 * word : 4 * word + 4], "little") % length


class AnchorHasher:
    """Keyed anchor digests with a bounded cache (senders repeat across rows)."""

    def __init__(self, key: Key):
        self.key = key
        self.cache: dict[str, Anchor] = {}

    def __call__(self, anchor: str) -> Anchor:
        found = self.cache.get(anchor)
        if found is None:
            if len(self.cache) >= ANCHOR_CACHE_SIZE:
                self.cache.clear()
            found = self.cache[anchor] = Anchor(self.key.anchor_digest(anchor))
        return found


@dataclass(frozen=True)
class RowAnchors:
    """The anchors found in one row."""

    by_column: dict[int, Anchor]  # anchor column index -> its anchor
    row: Anchor | None  # the row anchor
    phones: tuple[Anchor, ...]

    @property
    def all(self) -> list[Anchor]:
        return list(self.by_column.values())


def row_anchors(schema: Schema, row: Sequence[str], hasher: AnchorHasher) -> RowAnchors:
    by_column: dict[int, Anchor] = {}
    phones: list[Anchor] = []
    ids: list[Anchor] = []
    for column in schema.anchor_columns:
        text = anchor_of(column, row[column.index])
        if text is None:
            continue
        anchor = hasher(text)
        by_column[column.index] = anchor
        (phones if column.kind == "phone" else ids).append(anchor)
    if phones:
        row_anchor = min(phones, key=lambda a: a.digest[:8])
    else:
        row_anchor = ids[0] if ids else None
    return RowAnchors(by_column, row_anchor, tuple(phones))


def cell_anchor(schema: Schema, column: Column, anchors: RowAnchors) -> Anchor | None:
    """The anchor at whose positions ``column``'s cell is marked (none when it is missing).

    An address or email goes with its party's phone: by header when headers
    pair them, else the nearest phone column (a rule of layout, the same when
    exporting and matching, that never looks at codewords).
    """
    if column.kind == "phone":
        return anchors.by_column.get(column.index)
    if column.kind in ("address", "email"):
        phone = schema.party_phone(column) or schema.nearest_phone(column)
        if phone is not None:
            return anchors.by_column.get(phone.index)
    return anchors.row


def markable(schema: Schema) -> list[Column]:
    return [c for c in schema.columns if c.kind in MARKABLE_KINDS]


def mark_row(
    schema: Schema, row: list[str], anchors: RowAnchors, bits: np.ndarray, length: int
) -> tuple[list[str], int]:
    """The row with every markable cell showing the account's bits; and how many cells carry a mark."""
    out = list(row)
    marked = 0
    for column in markable(schema):
        anchor = cell_anchor(schema, column, anchors)
        if anchor is None:
            continue
        cell = original = out[column.index]
        carried = False
        for slot in slots_for(column.kind):
            if slot.read(cell) is None:
                continue
            cell = slot.embed(cell, int(bits[anchor.position(slot.NAME, length)]))
            carried = True
        if carried:
            marked += 1
            out[column.index] = type(original)(cell) if type(original) is not str else cell
    return out, marked


@dataclass
class Observation:
    position: int
    bit: int
    stream: tuple[str, int, str]  # (leak file, column, slot): one channel of one column


def read_row(
    schema: Schema, row: Sequence[str], anchors: RowAnchors, length: int, source: str
) -> list[Observation]:
    """Every readable mark in a leaked row, at its code position."""
    found = []
    for column in markable(schema):
        anchor = cell_anchor(schema, column, anchors)
        if anchor is None:
            continue
        cell = row[column.index]
        for slot in slots_for(column.kind):
            bit = slot.read(cell)
            if bit is not None:
                found.append(Observation(anchor.position(slot.NAME, length), bit, (source, column.index, slot.NAME)))
    return found
