"""``tracer registry migrate --to postgresql://...``: a registry file moved whole onto a server.

The file is checked first (its chain, its exposure counts), then its write
lock is held for the whole copy, so no exporter writes to it meanwhile.  The
copy is one PostgreSQL transaction: the registry's id and settings, its keys'
check values, accounts with their ids, export entries in chain order with
their links as they are (the links are keyed with the exporters' keys, which
never leave the key file: they are copied, never recomputed), exposure and
canaries by binary COPY.  Before it commits, the server's copy is checked with
the same keys (every link verifies) and its per-export exposure and canary
counts are compared with the file's; any difference rolls it all back.  Then
the file is marked as moved (in the same lock), and no tracer opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RegistryError
from ..keys import KeyRing
from .base import redacted
from .pg_wire import copy_binary
from .postgres import PostgresRegistry
from .store import SqliteRegistry

COPY_BATCH = 1 << 16


@dataclass(frozen=True)
class Moved:
    source: str
    target: str
    key_path: str
    exports: int
    exposure: int
    canaries: int


def migrate_to(path: Path, url: str, ring: KeyRing, key_path: Path) -> Moved:
    source = SqliteRegistry.open(path)
    with source:
        source.verify_ring(ring)
        with source.write_lock():  # exporters wait (busy timeout) or fail; none writes into the file now
            problems = source.check(ring)
            if problems:
                raise RegistryError(f"registry {path} fails its check, so it is not moved: {problems[0]}")
            conn = PostgresRegistry.empty_connection(url)
            try:
                with conn.transaction():
                    _copy(source, conn)
                    target = PostgresRegistry(url, conn)
                    _compare(source, target, ring)
                    summary = target.summary()
            finally:
                conn.close()
            source.mark_moved(redacted(url))
    return Moved(str(path), redacted(url), str(key_path), summary["exports"], summary["exposure"],
                 summary["canaries"])


def _copy(source: SqliteRegistry, conn) -> None:
    meta = {k: v for k, v in source.meta().items() if k != "schema_version"}
    PostgresRegistry.new_schema(conn, meta, source.conn.execute(
        "SELECT id, check_value, created FROM keys ORDER BY id").fetchall())
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO accounts(id, name, uid, note, created) VALUES (%s, %s, %s, %s, %s)",
                        source.conn.execute("SELECT id, name, uid, note, created FROM accounts ORDER BY id"))
        cur.execute("SELECT setval(pg_get_serial_sequence('accounts', 'id'), coalesce(max(id), 0) + 1, false)"
                    " FROM accounts")
        exports = source.conn.execute(
            "SELECT id, account_id, created, source, output, rows, canaries, marked_cells, anchors, chain, key_id,"
            " released FROM exports ORDER BY id").fetchall()
        # SQLite's chain runs in id order: the position is the rank; the token only has to be unique.
        cur.executemany(
            "INSERT INTO exports(id, account_id, created, source, output, rows, canaries, marked_cells, anchors,"
            " chain, key_id, released, position, token)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(*row, position, f"migrated-{row[0]}") for position, row in enumerate(exports, 1)])
        if exports:
            cur.execute("UPDATE chain_head SET position = %s, chain = %s", (len(exports), exports[-1][9]))
        if exports:  # the next export id is the one after the file's last
            cur.execute("SELECT setval('export_ids', %s)", (max(row[0] for row in exports),))
        with cur.copy("COPY exposure (digest, export_id) FROM STDIN (FORMAT BINARY)") as copy:
            copy_binary(copy, source.exposure_batches())
        with cur.copy("COPY canaries (digest, export_id, space) FROM STDIN (FORMAT BINARY)") as copy:
            copy_binary(copy, _batches(source, "canaries", "digest, export_id, space"))
        cur.executemany("INSERT INTO canary_pool(digest, key_id, sealed, added) VALUES (%s, %s, %s, %s)",
                        source.conn.execute("SELECT digest, key_id, sealed, added FROM canary_pool"))
        shared = source.conn.execute("SELECT digest, export_id, positions, symbols, record FROM shared_decoys")
        while batch := shared.fetchmany(COPY_BATCH):
            cur.executemany("INSERT INTO shared_decoys(digest, export_id, positions, symbols, record)"
                            " VALUES (%s, %s, %s, %s, %s)", batch)


def _batches(source: SqliteRegistry, table: str, columns: str):
    rows = source.conn.execute(f"SELECT {columns} FROM {table}")
    while batch := rows.fetchmany(COPY_BATCH):
        values = np.asarray(batch, dtype=np.int64)
        yield tuple(values[:, i] for i in range(values.shape[1]))


def _compare(source: SqliteRegistry, target: PostgresRegistry, ring: KeyRing) -> None:
    """The server's copy verifies with the same keys, and holds what the file holds, export by export."""
    problems = target.check(ring)
    if problems:
        raise RegistryError(f"the copy on {target.path} fails its check, nothing was moved: {problems[0]}")
    if target.exposure_counts() != source.exposure_counts():
        raise RegistryError(f"the copy on {target.path} lost exposure digests, nothing was moved")
    canaries = "SELECT export_id, count(*), sum(space) FROM canaries GROUP BY export_id ORDER BY export_id"
    if [tuple(r) for r in target.conn.execute(canaries).fetchall()] != source.conn.execute(canaries).fetchall():
        raise RegistryError(f"the copy on {target.path} lost canaries, nothing was moved")
    if target.pool() != source.pool():
        raise RegistryError(f"the copy on {target.path} lost canary-pool numbers, nothing was moved")
    shared = "SELECT export_id, count(*) FROM shared_decoys GROUP BY export_id ORDER BY export_id"
    if [tuple(r) for r in target.conn.execute(shared).fetchall()] != source.conn.execute(shared).fetchall():
        raise RegistryError(f"the copy on {target.path} lost shared decoys, nothing was moved")
    if target.summary() != source.summary():
        raise RegistryError(f"the copy on {target.path} does not hold what {source.path} holds, nothing was moved")
