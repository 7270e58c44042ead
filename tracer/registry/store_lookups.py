"""The SQLite registry's lookups: which exports held a leak's anchors, its canaries and shared decoys.

Read-only, a batch of digests at a time; ``SqliteRegistry`` mixes it in.  Digests first go through the
filters of what the tables hold (``present``, the runs' own filters), so a leak's many absent digests cost
no query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .records import Account
from .streams import distinct

LOOKUP_BATCH = 500


class SqliteLookups:
    """Lookups over ``self.conn``, ``self.runs``, ``self.present`` and ``self.legacy`` (``SqliteRegistry``'s)."""

    def canary_counts(self, account_ids: Iterable[int], key_id: int) -> dict[int, tuple[int, int]]:
        """Per account: how many canary values drawn at random it received in exports made with ``key_id``,
        and the smallest space drawn from."""
        ids = sorted(set(account_ids))
        counts = dict.fromkeys(ids, (0, 0))
        for batch in batches_of(ids, LOOKUP_BATCH):
            marks = ",".join("?" * len(batch))
            for account_id, n, space in self.conn.execute(
                f"SELECT e.account_id, count(*), min(c.space) FROM canaries c JOIN exports e ON e.id = c.export_id"
                f" WHERE c.space > 0 AND e.key_id = ? AND e.account_id IN ({marks}) GROUP BY e.account_id",
                [key_id, *batch],
            ):
                counts[account_id] = (n, space)
        return counts

    # ---- lookups -------------------------------------------------------
    def _lookup(self, table: str, columns: str, digests: Iterable[int], key_id: int) -> Iterator[tuple]:
        """Rows of ``table`` (exposure or canaries) with these digests, in exports made with ``key_id``.

        A digest made with one key says nothing of exports made with another.
        CROSS JOIN keeps SQLite on the digest index first, whatever the
        number of exports.
        """
        wanted = self.present[table].among(distinct(_int64(digests)))
        for batch in batches_of(wanted.tolist(), LOOKUP_BATCH):
            marks = ",".join("?" * len(batch))
            yield from self.conn.execute(
                f"SELECT {columns} FROM {table} x CROSS JOIN exports e ON e.id = x.export_id"
                f" WHERE x.digest IN ({marks}) AND e.key_id = ?",
                [*batch, key_id],
            )

    def _exposure_rows(self, digests: Iterable[int], besides: int | None = None) -> Iterator[tuple[int, int]]:
        """(digest, export_id) of every export but ``besides``, whatever its key, that contained one of these
        anchors."""
        found, exports = self._exposure_arrays(np.fromiter(digests, dtype=np.int64), besides)
        yield from ((d, e) for d, e in zip(found.tolist(), exports.tolist()) if e != besides)

    def _exposure_arrays(self, digests: np.ndarray, besides: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(digests, export ids) of every export, whatever its key, that contained one of these anchors
        (a run of ``besides`` alone not searched)."""
        wanted = distinct(np.asarray(digests, dtype=np.int64))
        found, exports = self.runs.lookup(wanted, besides)
        if self.legacy:  # the old table's rows first, as they were
            rows = [row for batch in batches_of(wanted.tolist(), LOOKUP_BATCH) for row in self.conn.execute(
                f"SELECT digest, export_id FROM exposure WHERE digest IN ({','.join('?' * len(batch))})", batch)]
            old = np.array(rows, dtype=np.int64).reshape(-1, 2)
            found, exports = np.concatenate([old[:, 0], found]), np.concatenate([old[:, 1], exports])
        return found, exports

    def exposure_arrays(self, digests: np.ndarray, key_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(digests, export ids) for every export made with ``key_id`` that contained one of these anchors."""
        found, exports = self._exposure_arrays(digests)
        if not len(found) or list(self.key_checks()) == [key_id]:  # one key: every export was made with it
            return found, exports
        made = np.array(sorted(row[0] for row in self.conn.execute("SELECT id FROM exports WHERE key_id = ?",
                                                                   (key_id,))), dtype=np.int64)
        keep = np.isin(exports, made)
        return found[keep], exports[keep]

    def exposure_of(self, digests: Iterable[int], key_id: int) -> list[tuple[int, int]]:
        """(digest, export_id) for every export made with ``key_id`` that contained one of these anchors."""
        found, exports = self.exposure_arrays(np.fromiter(digests, dtype=np.int64), key_id)
        return list(zip(found.tolist(), exports.tolist()))

    def canaries_of(self, digests: Iterable[int], key_id: int) -> list[tuple[int, int, int]]:
        """(digest, export_id, space) for every canary value among these anchors, in exports made with ``key_id``."""
        return list(self._lookup("canaries", "x.digest, x.export_id, x.space", digests, key_id))

    def shared_decoys_of(self, digests: Iterable[int], key_id: int) -> list[tuple[int, str, str, bytes]]:
        return sorted(set(self._lookup("shared_decoys", "x.digest, x.positions, x.symbols, x.record",
                                       digests, key_id)))

    def shared_meanings(self, digest: int) -> set[tuple[str, str]]:
        # a set, not DISTINCT: SQLite makes a temporary b-tree for DISTINCT (~2 µs a query)
        return set(self.conn.execute("SELECT positions, symbols FROM shared_decoys WHERE digest = ?", (digest,)))

    def canary_anywhere(self, digest: int) -> bool:
        return self.conn.execute("SELECT 1 FROM canaries WHERE digest = ? LIMIT 1", (digest,)).fetchone() is not None

    def exported(self, digest: int) -> bool:
        """Whether some export contained a record with this anchor."""
        if self.legacy and self.conn.execute("SELECT 1 FROM exposure WHERE digest = ? LIMIT 1", (digest,)).fetchone():
            return True
        return self.runs.holds(digest)

    def canary_conflicts(self, digest: int, account: Account) -> bool:
        """Whether a new canary anchor clashes with a real exported record or another account's canary.

        The same account may be given the same canary again: re-exporting the
        same records must give the same file.
        """
        if self.exported(digest):
            return True
        return self.conn.execute(
            "SELECT 1 FROM canaries c JOIN exports e ON e.id = c.export_id"
            " WHERE c.digest = ? AND e.account_id != ? LIMIT 1",
            (digest, account.id),
        ).fetchone() is not None

    def anchors_known(self) -> int:
        """An upper bound on how many anchors the registry knows (canaries had to avoid them)."""
        exported = self.conn.execute("SELECT coalesce(sum(anchors), 0) FROM exports").fetchone()[0]
        canaries = self.conn.execute("SELECT count(*) FROM canaries").fetchone()[0]
        return int(exported) + int(canaries)

    def account_of_export(self, export_ids: Iterable[int]) -> dict[int, int]:
        ids = sorted(set(export_ids))
        out: dict[int, int] = {}
        for batch in batches_of(ids, LOOKUP_BATCH):
            marks = ",".join("?" * len(batch))
            out.update(self.conn.execute(f"SELECT id, account_id FROM exports WHERE id IN ({marks})", batch))
        return out


def _int64(digests: Iterable[int]) -> np.ndarray:
    """Digests as an int64 array (an array as it is: a matcher's batch hands its sorted digests over)."""
    return np.asarray(digests, dtype=np.int64) if isinstance(digests, np.ndarray) else np.fromiter(digests, dtype=np.int64)


def batches_of(items: list, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (a statement's bound parameters stay under SQLite's limit)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
