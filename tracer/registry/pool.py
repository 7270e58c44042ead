"""The registry's canary pool: numbers the company holds, stored as keyed digests and sealed, never in clear.

A mixin of ``Registry`` (the only SQL about the pool); what the numbers are
and how they are sealed is ``tracer.canary_pool``'s business.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .records import now_iso


class PoolStore:
    conn: sqlite3.Connection

    def add_pool_numbers(self, numbers: Sequence[tuple[Sequence[tuple[int, int]], tuple[int, int, bytes]]]) -> int:
        """Add each number not yet in the pool, in one transaction; how many were new.

        Each number comes as (its digest under every key of the ring as (key_id, digest),
        the row to insert: (digest, key_id, sealed)), so a number added under an older key is known.
        """
        added = 0
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            for digests, (digest, key_id, sealed) in numbers:
                if any(self.conn.execute("SELECT 1 FROM canary_pool WHERE digest = ? AND key_id = ?", pair)
                       .fetchone() for pair in ((d, k) for k, d in digests)):
                    continue
                self.conn.execute("INSERT INTO canary_pool(digest, key_id, sealed, added) VALUES (?, ?, ?, ?)",
                                  (digest, key_id, sealed, now_iso()))
                added += 1
        return added

    def pool(self) -> list[tuple[int, bytes]]:
        """Every pool number as (key_id, sealed), in a fixed order."""
        return list(self.conn.execute("SELECT key_id, sealed FROM canary_pool ORDER BY key_id, digest"))

    def pool_size(self) -> int:
        return self.conn.execute("SELECT count(*) FROM canary_pool").fetchone()[0]
