"""The registry's history: a keyed chain through the export entries, and the checks of ``tracer registry check``.

Each export entry carries ``chain_link(key, previous link, entry, canaries)``
under the key the export was made with.  Export rows are append-only
(triggers), and the chain makes a rewrite of the history that a trigger
cannot stop (editing the file itself) show: without the keys nobody can
compute links that verify again.
"""

from __future__ import annotations

import sqlite3

from ..keys import Key, KeyRing


def chain_link(key: Key, previous: str, entry: tuple, canaries: list[tuple[int, int]]) -> str:
    """The keyed digest linking an export entry to the one before it (tamper-evident history)."""
    text = repr((previous, entry, canaries)).encode()
    return key.digest("chain", text, 16).hex()


def history_problems(conn: sqlite3.Connection, registry_id: str, ring: KeyRing) -> list[str]:
    """SQLite's own checks, then each export entry's link, key and exposure count."""
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
    problems += [f"{row[0]} row {row[1]} points at a missing {row[2]}"
                 for row in conn.execute("PRAGMA foreign_key_check")]
    counts = dict(conn.execute("SELECT export_id, count(*) FROM exposure GROUP BY export_id"))
    previous = registry_id
    for row in conn.execute(
        "SELECT id, account_id, created, source, output, rows, canaries, marked_cells, anchors, chain, key_id"
        " FROM exports ORDER BY id"
    ).fetchall():
        export_id, entry, chain, key = row[0], row[:9], row[9], ring.keys.get(row[10])
        canaries = conn.execute(
            "SELECT digest, space FROM canaries WHERE export_id = ? ORDER BY digest", (export_id,)
        ).fetchall()
        if key is None:
            problems.append(f"export {export_id}: made with key {row[10]}, which the registry does not know")
        elif chain_link(key, previous, entry, canaries) != chain:
            problems.append(f"export {export_id}: its entry, its canaries or an earlier entry was altered")
        if counts.get(export_id, 0) != entry[8]:
            problems.append(f"export {export_id}: {counts.get(export_id, 0)} exposure digests, "
                            f"{entry[8]} recorded")
        previous = chain
    return problems
