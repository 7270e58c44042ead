"""Which of many digests a small append-only table (SQLite's canaries, shared decoys) holds at all.

Why: a match asks the canaries and the shared decoys about every distinct
anchor of each 2,000-row batch (~5,500 digests), and almost none is there
(a leak holds a few dozen canaries): probing the primary key for each,
500 at a time, cost as much as the exposure lookup itself.  The table's
digests, read once into a sorted array (its primary key's order), say
which few are worth the query; only those are probed, so the rows found,
and the verdicts, are the same.

The array is read again when the table may have changed: a larger
``max(export_id)`` (another process committed an export: ids are taken in
order under the write lock) or a write by this connection (its
``total_changes``, which a rollback does not take back).  A table of more
than ``LIMIT`` rows is not held (memory stays bounded): every digest is
probed, as before; so is a short list (an exporter's single probes), which
costs less than reading the table.
"""

from __future__ import annotations

import sqlite3

import numpy as np

LIMIT = 1 << 20  # digests held per table (8 MB)
FROM = 256  # wanted digests from which the table is read rather than probed for each


class Present:
    def __init__(self, conn: sqlite3.Connection, table: str):
        self.conn, self.table = conn, table
        self._version: tuple | None = None
        self._digests: np.ndarray | None = None  # sorted, distinct; None: more than LIMIT rows

    def among(self, wanted: np.ndarray) -> np.ndarray:
        """The digests of ``wanted`` (sorted, distinct) that the table may hold: a superset of those it does."""
        if len(wanted) < FROM:
            return wanted
        version = (self.conn.execute(f"SELECT max(export_id) FROM {self.table}").fetchone()[0],
                   self.conn.total_changes)
        if version != self._version:
            rows = self.conn.execute(f"SELECT digest FROM {self.table} LIMIT ?", (LIMIT + 1,)).fetchall()
            self._digests = None if len(rows) > LIMIT else np.unique(np.array(rows, dtype=np.int64).reshape(-1))
            self._version = version
        if self._digests is None:
            return wanted
        if not len(self._digests):
            return self._digests
        at = np.minimum(np.searchsorted(self._digests, wanted), len(self._digests) - 1)
        return wanted[self._digests[at] == wanted]
