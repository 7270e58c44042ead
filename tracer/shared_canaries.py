"""Shared canary slots: decoys that insiders who keep only what their copies share still keep.

Per-account canaries differ between accounts, so two insiders who received
the same records remove every one of them by keeping the rows both copies
hold; a full clean erases the marks.  A *shared slot* follows a record chosen
by the key and that record alone (never by the account), about
``SHARED_RATE`` of them.  Every account exporting the record gets one of
``2^SHARED_BITS`` versions of a decoy there: the version spells the account's
codeword bits at the slot's ``SHARED_BITS`` code positions, which come from a
keyed hash of the record's anchors, as mark positions do.

A version is built by the ordinary canary machinery (``canaries.make_canary``)
from randomness seeded by (key, record, version) and the export's own recent
rows, so accounts exporting the same records get byte-identical decoys when
their symbols agree.  Two copies then differ at a slot only where the
insiders' codeword bits differ; where they agree the decoy survives an
intersection of copies, any cleaning and a re-parse (its phone digits are
what identify it), and shows the common symbols.  The matcher finds it by its
new phone's keyed digest and reads its symbols as code observations, scored
like marks (``evidence``); a missing decoy is an erasure.

The decoy's own cells carry marks, as every row does (a row without any would
stand out), but from a keyed function of (record, version), not from any
account's bits: they reveal nothing beyond the slot's symbols, and the
matcher never reads a shared decoy's cells as mark evidence.

The chosen number of bits, slot rate and per-account canary rate come from
``benchmarks/shared_slots.py`` (README, "Shared canaries").
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .canaries import GAP_SPREAD, Canary, Donors, make_canary
from .keys import Key
from .marks import RowAnchors

SHARED_RATE = 0.0115  # share of records followed by a shared slot
SHARED_BITS = 3  # code positions per slot: 8 versions
SHARED_THRESHOLD = SHARED_RATE * 2.0**64


@dataclass(frozen=True)
class Slot:
    """A shared slot: the record it follows, as a keyed digest, and its code positions."""

    record: bytes  # keyed digest of the record's anchors (16 bytes)
    positions: tuple[int, ...]

    def version(self, bits: Sequence[int]) -> int:
        """The version an account with codeword ``bits`` gets: its bits at the positions, as a number."""
        return sum(int(bits[p]) << t for t, p in enumerate(self.positions))

    def symbols(self, version: int) -> tuple[int, ...]:
        """The code symbols a version shows, one per position."""
        return tuple((version >> t) & 1 for t in range(len(self.positions)))


def record_digest(key: Key, anchors: RowAnchors) -> bytes | None:
    """The record's keyed identity: all its anchors in any column order, without the account."""
    if not anchors.by_column:
        return None
    return key.digest("sh.slot", b"".join(sorted(a.digest[:8] for a in anchors.all)), 16)


def slot_at(key: Key, anchors: RowAnchors, gap: Callable[[], float | None], length: int) -> Slot | None:
    """The shared slot after this record, if it has one (see ``slot_for``)."""
    record = record_digest(key, anchors)
    return None if record is None else slot_for(key, record, gap, length)


def may_take_slot(record: bytes) -> bool:
    """Whether a record could have a slot after it for some gap: the rest never has one, whatever
    their gaps (the exporter looks closer only at these, ~``SHARED_RATE * GAP_SPREAD`` of them)."""
    return int.from_bytes(record[:8], "little") < SHARED_THRESHOLD * GAP_SPREAD


def slot_for(key: Key, record: bytes, gap: Callable[[], float | None], length: int) -> Slot | None:
    """The shared slot after the record whose ``record_digest`` is ``record``, if it has one.

    Chosen with probability ``SHARED_RATE`` times the gap's weight ``gap()``
    (capped), the gap to the next row as ``canaries.gap_weight`` measures it
    (asked only for the few records that could be chosen), so that
    decoys fall into long gaps as often as a point dropped on the line would
    (their neighbours' gaps look like everyone's).  Key and records only: the
    account never enters, so every account exporting the record has the slot.
    """
    if not may_take_slot(record):
        return None
    draw = int.from_bytes(record[:8], "little")
    weight = gap()
    if draw >= SHARED_THRESHOLD * (1.0 if weight is None else min(weight, GAP_SPREAD)):
        return None
    words = key.digest("sh.pos", record, 8 * SHARED_BITS)
    positions = tuple(int.from_bytes(words[8 * t: 8 * t + 8], "little") % length for t in range(SHARED_BITS))
    return Slot(record, positions)


def version_seed(key: Key, slot: Slot, version: int) -> bytes:
    """Randomness of one version of one slot: (key, record, version), nothing of the account."""
    return key.digest("sh.decoy", slot.record + bytes([version]), 16)


class VersionBits:
    """The bits a shared decoy's own cells are marked with: keyed by (record, version), no account's.

    Indexed like a codeword (``bits[position]``), computed on demand: a decoy
    has a few marked cells, a codeword 2^16 positions.
    """

    __slots__ = ("seed",)

    def __init__(self, seed: bytes):
        self.seed = seed

    def __getitem__(self, position: int) -> int:
        return hashlib.blake2b(position.to_bytes(8, "little"), key=self.seed, digest_size=1).digest()[0] & 1


def draw_version(schema, donors: Donors, seed: bytes, attempt: int) -> Canary:
    """Attempt ``attempt`` at a version's decoy (a later attempt when an earlier one's values were taken)."""
    return make_canary(schema, donors, random.Random(seed + attempt.to_bytes(2, "little")))
