"""What the registry keeps of a shared decoy's version, and what the matcher reads back from it.

Apart from ``shared_canaries`` (which draws the decoys with the canary
machinery) so that the matcher, which only decodes, does not import how
canaries are made: ``tracer match`` starts that much sooner.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence


def encode_meaning(slot, version: int, record: Sequence[int]) -> tuple[str, str, bytes]:
    """What the registry keeps for a version of ``slot`` (a ``shared_canaries.Slot``): its positions, its
    symbols, and the exposure digests of the record it follows (the matcher counts it only for accounts
    that received that record)."""
    return (" ".join(map(str, slot.positions)), "".join(map(str, slot.symbols(version))),
            struct.pack(f"<{len(record)}q", *sorted(record)))


def decode_meaning(positions: str, symbols: str, record: bytes) -> tuple[list[tuple[int, int]], tuple[int, ...]]:
    """(position, symbol) pairs and the record's exposure digests, from what the registry keeps."""
    pairs = [(int(p), int(s)) for p, s in zip(positions.split(), symbols)]
    return pairs, struct.unpack(f"<{len(record) // 8}q", record)
