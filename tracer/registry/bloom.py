"""A run's filter (``runs``): which digests a run may hold, so that a lookup reads only the runs that may.

A blocked Bloom filter: one 64-bit word per digest, three bits in it, about
``BITS`` bits per digest (rounded up to a power of two of words): ~1-2% false
positives.  Digests are keyed hashes, uniform already, so the word is the
digest's top bits and the three bits its low bits, no further hashing; sorted
digests set their words in order, so building one is a few numpy passes.
"""

from __future__ import annotations

import sys

import numpy as np

BITS = 12

class Bloom:
    """One run's filter, being built (``sized``, ``add``) or read back (from its bytes)."""

    def __init__(self, words: bytes | np.ndarray):
        self.words = np.frombuffer(words, dtype="<u8") if isinstance(words, bytes) else words
        native = words if sys.byteorder == "little" or not isinstance(words, bytes) else self.words.byteswap().tobytes()
        self.raw = memoryview(native).cast("Q") if isinstance(words, bytes) else None  # for ``may_hold_one``
        self.shift = 65 - len(self.words).bit_length()  # 64 - log2(words)

    @classmethod
    def sized(cls, rows: int) -> "Bloom":
        return cls(np.zeros(1 << max(0, (rows * BITS // 64).bit_length()), dtype="<u8"))

    def _at(self, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = digests.view(np.uint64)
        one, six = np.uint64(1), np.uint64(63)
        masks = (one << (u & six)) | (one << ((u >> np.uint64(6)) & six)) | (one << ((u >> np.uint64(12)) & six))
        return (u >> np.uint64(self.shift)) if self.shift < 64 else np.zeros(len(u), np.uint64), masks

    def add(self, digests: np.ndarray) -> None:
        """Add sorted digests."""
        if not len(digests):
            return
        words, masks = self._at(digests)
        starts = np.flatnonzero(np.diff(words)) + 1
        starts = np.concatenate([[0], starts])
        self.words[words[starts]] |= np.bitwise_or.reduceat(masks, starts)

    def may_hold(self, digests: np.ndarray) -> np.ndarray:
        words, masks = self._at(digests)
        return (self.words[words] & masks) == masks

    def may_hold_one(self, digest: int) -> bool:
        """The same for one digest, in plain integers (a canary's check: numpy's overhead would dominate)."""
        u = digest & 0xFFFFFFFFFFFFFFFF
        mask = (1 << (u & 63)) | (1 << ((u >> 6) & 63)) | (1 << ((u >> 12) & 63))
        return self.raw[u >> self.shift if self.shift < 64 else 0] & mask == mask

    def bytes(self) -> memoryview:
        """The filter as stored (little-endian words), without a copy."""
        return memoryview(np.ascontiguousarray(self.words, dtype="<u8")).cast("B")
