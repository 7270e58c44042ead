"""The registry's canary pool: numbers the company holds, as keyed digests and sealed, never in clear.

The only SQL about the pool, for both engines: ``SqlitePool`` (a mixin of
``store.SqliteRegistry``) and ``PostgresPool`` (of ``postgres.PostgresRegistry``)
differ in their parameter mark and how they lock.  What the numbers are and
how they are sealed is ``tracer.canary_pool``'s business; ``base.Registry``
declares the methods.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from .records import now_iso

# (its digest under every key of the ring as (key_id, digest), the row to insert: (digest, key_id, sealed))
PoolRows = Sequence[tuple[Sequence[tuple[int, int]], tuple[int, int, bytes]]]


class _Pool(ABC):
    MARK = "?"  # the engine's parameter mark

    @abstractmethod
    def _pool_transaction(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction that keeps a concurrent add from inserting the same number."""

    def add_pool_numbers(self, numbers: PoolRows) -> int:
        q, added = self.MARK, 0
        with self._pool_transaction():
            for digests, (digest, key_id, sealed) in numbers:
                if any(self.conn.execute(f"SELECT 1 FROM canary_pool WHERE digest = {q} AND key_id = {q}", (d, k))
                       .fetchone() for k, d in digests):
                    continue
                self.conn.execute(f"INSERT INTO canary_pool(digest, key_id, sealed, added) VALUES ({q}, {q}, {q}, {q})",
                                  (digest, key_id, sealed, now_iso()))
                added += 1
        return added

    def pool(self) -> list[tuple[int, bytes]]:
        rows = self.conn.execute("SELECT key_id, sealed FROM canary_pool ORDER BY key_id, digest").fetchall()
        return [(k, bytes(s)) for k, s in rows]

    def pool_size(self) -> int:
        return self.conn.execute("SELECT count(*) FROM canary_pool").fetchone()[0]


class SqlitePool(_Pool):
    @contextlib.contextmanager
    def _pool_transaction(self) -> Iterator[None]:
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            yield


class PostgresPool(_Pool):
    MARK = "%s"

    @contextlib.contextmanager
    def _pool_transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            self.conn.execute("LOCK TABLE canary_pool IN EXCLUSIVE MODE")
            yield
