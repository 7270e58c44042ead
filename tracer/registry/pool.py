"""The registry's canary pool: numbers the company holds, as keyed digests and sealed, never in clear.

The engines' parts: ``SqlitePool`` (a mixin of ``store.SqliteRegistry``) and
``PostgresPool`` (of ``postgres.PostgresRegistry``), the only SQL about the
pool.  What the numbers are and how they are sealed is
``tracer.canary_pool``'s business; ``base.Registry`` declares the methods.
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import now_iso

# (its digest under every key of the ring as (key_id, digest), the row to insert: (digest, key_id, sealed))
PoolRows = Sequence[tuple[Sequence[tuple[int, int]], tuple[int, int, bytes]]]


class SqlitePool:
    def add_pool_numbers(self, numbers: PoolRows) -> int:
        added = 0
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            for digests, (digest, key_id, sealed) in numbers:
                if any(self.conn.execute("SELECT 1 FROM canary_pool WHERE digest = ? AND key_id = ?", (d, k))
                       .fetchone() for k, d in digests):
                    continue
                self.conn.execute("INSERT INTO canary_pool(digest, key_id, sealed, added) VALUES (?, ?, ?, ?)",
                                  (digest, key_id, sealed, now_iso()))
                added += 1
        return added

    def pool(self) -> list[tuple[int, bytes]]:
        return [(k, bytes(s)) for k, s in
                self.conn.execute("SELECT key_id, sealed FROM canary_pool ORDER BY key_id, digest")]

    def pool_size(self) -> int:
        return self.conn.execute("SELECT count(*) FROM canary_pool").fetchone()[0]


class PostgresPool:
    def add_pool_numbers(self, numbers: PoolRows) -> int:
        added = 0
        with self.conn.transaction():
            self.conn.execute("LOCK TABLE canary_pool IN EXCLUSIVE MODE")
            for digests, (digest, key_id, sealed) in numbers:
                if any(self.conn.execute("SELECT 1 FROM canary_pool WHERE digest = %s AND key_id = %s", (d, k))
                       .fetchone() for k, d in digests):
                    continue
                self.conn.execute("INSERT INTO canary_pool(digest, key_id, sealed, added) VALUES (%s, %s, %s, %s)",
                                  (digest, key_id, sealed, now_iso()))
                added += 1
        return added

    def pool(self) -> list[tuple[int, bytes]]:
        return [(k, bytes(s)) for k, s in
                self.conn.execute("SELECT key_id, sealed FROM canary_pool ORDER BY key_id, digest").fetchall()]

    def pool_size(self) -> int:
        return self.conn.execute("SELECT count(*) FROM canary_pool").fetchone()[0]
