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
import struct
from dataclasses import dataclass
from math import prod


from .channels import slots_for
from .columns import MARKABLE_KINDS, Column, Schema, id_anchor, phone_anchor
from .keys import Key
from .pairing import MAX_PAIRINGS

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
    "cn_address.estate",
    "en_address.ordinal",
)
SLOT_WORD = {name: 2 + i for i, name in enumerate(POSITION_SLOTS)}  # words 0-1 are the exposure digest
assert len(POSITION_SLOTS) <= 14

ANCHOR_CACHE_SIZE = 1 << 13


class Anchor:
    """One anchor's keyed digest: exposure id and slot positions.

    The digest is cut into its sixteen 32-bit words once, the first time a
    marked cell asks for a position: most anchors a native export hashes in
    Python (the phones a canary draw asks about) never mark a cell, and the
    words (~500 bytes of ints) were most of the anchor cache's memory."""

    __slots__ = ("digest", "exposure", "_words")

    def __init__(self, digest: bytes):
        self.digest = digest
        self.exposure = int.from_bytes(digest[:8], "little", signed=True)
        self._words: tuple[int, ...] | None = None

    @property
    def words(self) -> tuple[int, ...]:
        words = self._words
        if words is None:
            words = self._words = _WORDS.unpack(self.digest)
        return words

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Anchor) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)


_WORDS = struct.Struct("<16I")


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


@dataclass(frozen=True)
class CellPlan:
    """How one markable column is marked: which anchor places its bits, and its slots.

    ``anchor`` is the column whose anchor gives the positions, or None for
    the row anchor (see :func:`cell_anchor_column`)."""

    index: int
    anchor: int | None
    slots: tuple[tuple[object, int], ...]  # (slot, the digest word of its position)


@dataclass(frozen=True)
class MarkPlan:
    """A schema's marking worked out once, not once per row: which columns
    give anchors, and how every markable cell is marked."""

    phone_columns: tuple[int, ...]
    id_columns: tuple[int, ...]
    cells: tuple[CellPlan, ...]


def cell_anchor_column(schema: Schema, column: Column) -> int | None:
    """The column whose anchor places ``column``'s marks; None for the row anchor.

    A phone goes with its own digits.  An address or email goes with its
    party's phone: by header when headers pair them, else the nearest phone
    column (a rule of layout, the same when exporting and matching, that never
    looks at codewords).  Anything else goes with the row anchor.
    """
    if column.kind == "phone":
        return column.index
    if column.kind in ("address", "email"):
        phone = schema.party_phone(column) or schema.nearest_phone(column)
        if phone is not None:
            return phone.index
    return None


def anchor_choices(schema: Schema, column: Column) -> tuple[int | None, ...]:
    """Every column whose anchor may have placed ``column``'s marks, nearest first.

    One when the layout is certain.  When headers do not pair an address or
    email with its party's phone and there are several phones (a headerless
    dump, sender and recipient), each phone column is a candidate: the
    accusation tries every pairing and pays for the tries (see
    ``accuse.pairings``), instead of trusting the columns' order."""
    phones = schema.of_kind("phone")
    if column.kind in ("address", "email") and len(phones) > 1 and schema.party_phone(column) is None:
        return tuple(p.index for p in sorted(phones, key=lambda p: (abs(p.index - column.index), p.index)))
    return (cell_anchor_column(schema, column),)


def mark_plan(schema: Schema, alternatives: bool = False) -> MarkPlan:
    """How ``schema``'s rows are marked; with ``alternatives`` (matching), a cell
    whose anchor is uncertain is planned once per candidate anchor."""
    markable = [column for column in schema.columns if column.kind in MARKABLE_KINDS]
    choices = {column.index: (cell_anchor_column(schema, column),) for column in markable}
    if alternatives:
        candidates = {column.index: anchor_choices(schema, column) for column in markable}
        if prod(len(c) for c in candidates.values()) <= MAX_PAIRINGS:  # else each cell at its nearest phone
            choices = candidates
    cells = tuple(
        CellPlan(column.index, anchor, tuple((slot, SLOT_WORD[slot.NAME]) for slot in slots_for(column.kind)))
        for column in markable for anchor in choices[column.index]
    )
    return MarkPlan(tuple(c.index for c in schema.of_kind("phone")),
                    tuple(c.index for c in schema.of_kind("id")), cells)


def row_anchors(plan: MarkPlan, row: Sequence[str], hasher: AnchorHasher) -> RowAnchors:
    by_column: dict[int, Anchor] = {}
    phones: list[Anchor] = []
    ids: list[Anchor] = []
    for index in plan.phone_columns:
        text = phone_anchor(row[index])
        if text is not None:
            by_column[index] = anchor = hasher(text)
            phones.append(anchor)
    for index in plan.id_columns:
        text = id_anchor(row[index])
        if text is not None:
            by_column[index] = anchor = hasher(text)
            ids.append(anchor)
    if phones:
        row_anchor = min(phones, key=lambda a: a.digest[:8]) if len(phones) > 1 else phones[0]
    else:
        row_anchor = ids[0] if ids else None
    return RowAnchors(by_column, row_anchor, tuple(phones))


def marked_cells(plan: MarkPlan, anchors: RowAnchors):
    """Each markable cell that has an anchor, with that anchor."""
    for cell in plan.cells:
        anchor = anchors.row if cell.anchor is None else anchors.by_column.get(cell.anchor)
        if anchor is not None:
            yield cell, anchor


def mark_row(
    plan: MarkPlan, row: list[str], anchors: RowAnchors, bits: Sequence[int], length: int
) -> tuple[list[str], int]:
    """The row with every markable cell showing the account's bits; and how many cells carry a mark.

    ``bits`` is best a list: indexing a numpy array per cell costs more than the marking."""
    out = list(row)
    marked = 0
    for cell_plan, anchor in marked_cells(plan, anchors):
        cell = original = out[cell_plan.index]
        carried = False
        words = anchor.words
        for slot, word in cell_plan.slots:
            site = slot.site(cell)
            if site is None:
                continue
            # what MarkSlot.embed does, inlined: this loop runs ~9 times a row
            cell = cell[: site.start] + site.variants[bits[words[word] % length]] + cell[site.end :]
            carried = True
        if carried:
            marked += 1
            out[cell_plan.index] = type(original)(cell) if type(original) is not str else cell
    return out, marked


def read_row(
    plan: MarkPlan, row: Sequence[str], anchors: RowAnchors, length: int
) -> list[tuple[int, int, int, str, int | None]]:
    """Every readable mark in a leaked row: (code position, symbol, column, slot name, anchor column)."""
    found = []
    for cell_plan, anchor in marked_cells(plan, anchors):
        cell = row[cell_plan.index]
        for slot, word in cell_plan.slots:
            site = slot.site(cell)
            if site is not None:
                found.append((anchor.words[word] % length, site.bit, cell_plan.index, slot.NAME, cell_plan.anchor))
    return found
