"""The registry in one SQLite file (the default): accounts, keys, exports, exposure and canary digests.

``SqliteRegistry`` implements ``base.Registry``; ``postgres`` holds the
server engine for many export hosts.  The registry holds no secret
and no personal data in clear: exposure and canaries are 8-byte keyed digests
of record anchors (see ``keys``); each key of the ring has a check value here,
so a wrong key is refused, and each export names the key it was made with
(only that key can read it again).

The schema has a version (``meta.schema_version``, which every tracer reads,
mirrored in ``PRAGMA user_version``).  A registry written by an older tracer
is migrated forward when opened, in one transaction; a new registry is made
the same way (the first schema, then every migration), so both end identical.

SQLite runs in WAL mode with a busy timeout, so several exporting processes
and a matcher can share one file.  Each export is recorded in one transaction
(export row, its exposure digests, its canary digests): a crash leaves either
all of it or none of it.  Exposure is written as one sorted run per export
(``runs``: the cost of the digests' bytes, whatever the registry's size);
rows an older tracer wrote into ``exposure`` stay there and are read too.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..errors import AccountError, KeyError_, RegistryError
from ..keys import Key, KeyRing
from .base import Registry, refuse_moved
from .pool import SqlitePool
from .present import Present
from .records import Account, CodeParams, Compaction, Export, RegisteredKey, now_iso
from .runs import ExposureRuns
from .store_lookups import LOOKUP_BATCH, SqliteLookups, batches_of
from .schema import SCHEMA, SCHEMA_VERSION, TABLES, migrate, statements

BUSY_TIMEOUT_MS = 30_000


def table_names(conn: sqlite3.Connection) -> set[str]:
    """The file's tables (what ``sqlite_utils.Database.table_names`` reads)."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def sqlite_database(conn: sqlite3.Connection):
    """sqlite-utils over ``conn``, imported when first wanted: its import (~70 ms, with its plugins) is on
    no export's or match's path."""
    import sqlite_utils

    return sqlite_utils.Database(conn)


class SqliteRegistry(SqliteLookups, SqlitePool, Registry):
    """One open registry file."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        if not set(TABLES) <= table_names(conn):
            raise KeyError("not a tracer registry")  # reported as such by open
        meta = self._meta()
        refuse_moved(path, meta)
        version = int(meta["schema_version"])
        if version > SCHEMA_VERSION:
            raise RegistryError(f"{path} was written by a newer tracer (schema {version}); upgrade tracer")
        if version < SCHEMA_VERSION:
            self._upgrade()
        if not self.key_checks():
            raise KeyError("a registry has at least one key")  # reported as a corrupt registry
        self.id = meta["registry_id"]
        self.code = CodeParams(length=int(meta["code_length"]), cutoff=float(meta["code_cutoff"]))
        self.runs = ExposureRuns(conn)
        self.present = {table: Present(conn, table) for table in ("canaries", "shared_decoys")}
        # Rows in the table only an older tracer wrote (no tracer of this schema adds any).
        self.legacy = conn.execute("SELECT 1 FROM exposure LIMIT 1").fetchone() is not None

    # ---- opening -------------------------------------------------------
    @staticmethod
    def _connect(path: Path, create: bool) -> sqlite3.Connection:
        mode = "rwc" if create else "rw"
        try:
            conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"{path} is not a tracer registry ({exc})") from None
        return conn

    @classmethod
    def _create(cls, path: Path, ring: KeyRing, code: CodeParams) -> "SqliteRegistry":
        path = Path(path)
        if path.exists():
            raise RegistryError(f"registry {path} already exists; refusing to overwrite it")
        try:
            conn = cls._connect(path, create=True)
        except RegistryError:
            raise RegistryError(f"cannot create registry {path}") from None
        registry_id = secrets.token_hex(16)
        created = now_iso()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            for statement in statements(SCHEMA):
                conn.execute(statement)
            meta = {
                "schema_version": "1",  # the schema just made; migrate brings it forward
                "registry_id": registry_id,
                "code_length": str(code.length),
                "code_cutoff": repr(code.cutoff),
                "created": created,
            }
            db = sqlite_database(conn)
            db["meta"].insert_all([{"name": k, "value": v} for k, v in meta.items()])
            migrate(conn, 1)
            db["keys"].insert_all([{"id": i, "check_value": key.check_value(registry_id), "created": created}
                                   for i, key in sorted(ring.keys.items())])
        return cls(path, conn)

    @functools.cached_property
    def db(self):
        """sqlite-utils over the connection (introspection, the summary's counts, a few inserts)."""
        return sqlite_database(self.conn)

    @classmethod
    def _open(cls, path: Path) -> "SqliteRegistry":
        path = Path(path)
        if not path.exists():
            raise RegistryError(f"registry {path} not found (run: tracer init)")
        conn = cls._connect(path, create=False)
        try:
            return cls(path, conn)
        except (sqlite3.DatabaseError, KeyError):
            conn.close()
            raise RegistryError(f"{path} is not a tracer registry or is corrupt") from None
        except BaseException:
            conn.close()
            raise

    def _meta(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self.conn.execute("SELECT name, value FROM meta")}

    def _upgrade(self) -> None:
        """Migrate forward under the write lock; the version is read again, as another process may have done it."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            migrate(self.conn, int(self._meta()["schema_version"]))

    # ---- keys ----------------------------------------------------------
    def key_checks(self) -> dict[int, str]:
        """Key id -> its check value, for every key the registry has had."""
        return dict(self.conn.execute("SELECT id, check_value FROM keys"))

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """One write transaction: whatever runs inside (rewriting the key file) is serialised with all writers."""
        with self.conn:
            self._begin_write()
            yield

    def _begin_write(self) -> None:
        """Take the write lock, then look again whether the file was moved while this process waited for it
        (``registry migrate`` holds the lock for the whole copy): nothing may be written after the move."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            raise RegistryError(f"registry {self.path} is busy: other writers held it for {BUSY_TIMEOUT_MS // 1000} s;"
                                " nothing was written, try again (many hosts at once: use PostgreSQL)") from None
        refuse_moved(self.path, self._meta())

    def register_key(self, key_id: int, key: Key) -> None:
        """Record a new current key (inside ``write_lock``, after the key file holds it)."""
        newest = self.conn.execute("SELECT coalesce(max(id), 0) FROM keys").fetchone()[0]
        if key_id != newest + 1:
            raise KeyError_(f"key {key_id} cannot follow key {newest} of registry {self.path}")
        self.conn.execute("INSERT INTO keys(id, check_value, created) VALUES (?, ?, ?)",
                          (key_id, key.check_value(self.id), now_iso()))

    def keys(self) -> list[RegisteredKey]:
        rows = self.conn.execute(
            "SELECT k.id, k.created, count(e.id) FROM keys k LEFT JOIN exports e ON e.key_id = k.id"
            " GROUP BY k.id ORDER BY k.id"
        )
        return [RegisteredKey(*row) for row in rows]

    def keys_with_exports(self) -> list[int]:
        """The keys some export was made with: a leak is read once with each."""
        return [row[0] for row in self.conn.execute("SELECT DISTINCT key_id FROM exports ORDER BY key_id")]

    def close(self) -> None:
        self.conn.close()

    # ---- accounts ------------------------------------------------------
    def add_account(self, name: str, note: str = "") -> Account:
        name = name.strip()
        if not name:
            raise AccountError("an account needs a non-empty name")
        uid = secrets.token_bytes(16)
        try:
            with self.conn:
                self._begin_write()
                cur = self.conn.execute(
                    "INSERT INTO accounts(name, uid, note, created) VALUES (?, ?, ?, ?)",
                    (name, uid.hex(), note, now_iso()),
                )
        except sqlite3.IntegrityError:
            raise AccountError(f"account {name!r} already exists") from None
        return self.account_by_id(cur.lastrowid)

    _ACCOUNT = "SELECT id, name, uid, note, created FROM accounts"

    @staticmethod
    def _account(row: tuple) -> Account:
        return Account(id=row[0], name=row[1], uid=bytes.fromhex(row[2]), note=row[3], created=row[4])

    def accounts(self) -> list[Account]:
        rows = self.conn.execute(self._ACCOUNT + " ORDER BY id")
        return [self._account(r) for r in rows]

    def accounts_by_id(self, account_ids: Iterable[int]) -> dict[int, Account]:
        ids, out = sorted(set(account_ids)), {}
        for batch in batches_of(ids, LOOKUP_BATCH):
            rows = self.conn.execute(self._ACCOUNT + f" WHERE id IN ({','.join('?' * len(batch))})", batch)
            out.update((row[0], self._account(row)) for row in rows)
        return out

    def account_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM accounts").fetchone()[0]

    def account(self, name: str) -> Account:
        row = self.conn.execute(self._ACCOUNT + " WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise AccountError(f"unknown account {name!r} (see: tracer accounts list)")
        return self._account(row)

    def account_by_id(self, account_id: int) -> Account:
        row = self.conn.execute(self._ACCOUNT + " WHERE id = ?", (account_id,)).fetchone()
        if row is None:
            raise AccountError(f"unknown account id {account_id}")
        return self._account(row)

    def export_counts(self) -> dict[int, int]:
        return dict(self.conn.execute("SELECT account_id, count(*) FROM exports GROUP BY account_id"))

    # ---- exports -------------------------------------------------------
    @contextlib.contextmanager
    def _export_transaction(self) -> Iterator[None]:
        self._staged: list[tuple[int, int]] = []
        try:
            with self.conn:
                self._begin_write()  # the write lock: one writer at a time holds the file
                yield
        except BaseException:
            self.runs.forget()  # what this transaction wrote is gone: its run ids will be taken again
            raise

    def _next_export_id(self) -> int:
        # Under the file's write lock no other writer can take the same id.
        return self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM exports").fetchone()[0]

    def _load_exposure(self, export_id: int, chunks: Iterable[Iterable[int]]) -> int:
        return self.runs.add(export_id, chunks)  # distinct anchors: what a later check can count again

    def _stage_canaries(self, export_id: int, canaries: dict[int, int]) -> None:
        self._staged = sorted(canaries.items())

    def _lock_chain_head(self) -> tuple[int, str | None]:
        # The file's write lock is held already; the head is the entry with the highest id.
        row = self.conn.execute("SELECT id, chain FROM exports ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, None)

    def _canary_clashes(self, export_id: int, account_id: int) -> set[int]:
        # A pool number (space < 0) is every account's canary: only a real record clashes with it.
        drawn = [digest for digest, space in self._staged if space]
        # the export's own run (just written, its filter 4 MB at a million rows) need not be read for it
        clashes = {d for d, _ in self._exposure_rows(drawn, besides=export_id)}
        for batch in batches_of([digest for digest, space in self._staged if space > 0], LOOKUP_BATCH):
            clashes.update(row[0] for row in self.conn.execute(
                f"SELECT c.digest FROM canaries c JOIN exports e ON e.id = c.export_id"
                f" WHERE c.digest IN ({','.join('?' * len(batch))}) AND e.account_id != ?", [*batch, account_id]))
        return clashes

    def _insert_canaries(self, export_id: int, clashes: set[int]) -> None:
        # rows made as SQLite takes them, not listed first (a 1M-row export's 19k canaries: 2 MB at its peak)
        self.conn.executemany("INSERT INTO canaries(digest, export_id, space) VALUES (?, ?, ?)",
                              ((d, export_id, 0 if d in clashes else space) for d, space in self._staged))

    def _insert_shared(self, export_id: int, shared: Iterable[tuple[int, str, str, bytes]]) -> None:
        self.conn.executemany(
            "INSERT INTO shared_decoys(digest, export_id, positions, symbols, record) VALUES (?, ?, ?, ?, ?)",
            ((d, export_id, positions, symbols, record) for d, positions, symbols, record in sorted(shared)),
        )

    def _insert_export(self, entry: tuple, chain: str, key_id: int, position: int, token: str) -> None:
        # SQLite's chain runs in id order (one writer at a time): position is the id; the token is not
        # needed (no connection to lose).
        self.conn.execute(
            "INSERT INTO exports(id, account_id, created, source, output, rows, canaries, marked_cells,"
            " anchors, chain, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(entry) + (chain, key_id),
        )

    # ---- the whole history ------------------------------------------------
    def integrity_problems(self) -> list[str]:
        problems = [row[0] for row in self.conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"{row[0]} row {row[1]} points at a missing {row[2]}"
                     for row in self.conn.execute("PRAGMA foreign_key_check")]
        problems += [f"table {t} is missing" for t in TABLES if t not in table_names(self.conn)]
        return problems + self.runs.problems()

    def history(self) -> Iterator[tuple[tuple, str, int, list[tuple[int, int]]]]:
        for row in self.conn.execute(
            "SELECT id, account_id, created, source, output, rows, canaries, marked_cells, anchors, chain, key_id"
            " FROM exports ORDER BY id"
        ).fetchall():
            canaries = self.conn.execute(
                "SELECT digest, space FROM canaries WHERE export_id = ? ORDER BY digest", (row[0],)
            ).fetchall()
            yield tuple(row[:9]), row[9], row[10], canaries

    def exposure_counts(self) -> dict[int, int]:
        counts = dict(self.conn.execute("SELECT export_id, count(*) FROM exposure GROUP BY export_id"))
        for export_id, n in self.runs.counts().items():
            counts[export_id] = counts.get(export_id, 0) + n
        return counts

    def exposure_batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every exposure row as (digests, export ids) arrays, a batch at a time (``registry migrate``)."""
        rows = self.conn.execute("SELECT digest, export_id FROM exposure")
        while batch := rows.fetchmany(LOOKUP_BATCH * 100):
            values = np.asarray(batch, dtype=np.int64)
            yield values[:, 0], values[:, 1]
        yield from self.runs.batches()

    def meta(self) -> dict[str, str]:
        return self._meta()

    def disk_bytes(self) -> int:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = Path(f"{self.path}-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def mark_moved(self, target: str) -> None:
        """Inside ``write_lock`` (the migration holds it): the mark commits with the lock's release."""
        self.db["meta"].insert({"name": "moved_to", "value": target}, replace=True)

    def execute(self, statement: str, params: tuple = ()) -> list[tuple]:
        try:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                return self.conn.execute(statement, params).fetchall()
        except sqlite3.Error as exc:
            raise RegistryError(f"registry {self.path}: {exc}") from None

    def summary(self) -> dict[str, int]:
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "accounts": self.db["accounts"].count,
            "exports": self.db["exports"].count,
            "exposure": one("SELECT coalesce(sum(anchors), 0) FROM exports"),
            "canaries": one("SELECT coalesce(sum(canaries), 0) FROM exports"),
        }

    def compact(self) -> Compaction:
        """Every exposure run merged into one, in one write transaction (a crash or kill leaves the runs as they
        were: the merge's run is not committed, its inputs not deleted); pages freed are reused by later writes."""
        before = self.disk_bytes()
        with self.write_lock():
            runs, digests = self.runs.compact()
        self.runs.forget()
        return Compaction(runs, len(self.runs.runs()), digests, before, self.disk_bytes())

    def mark_released(self, export_id: int) -> None:
        with self.conn:
            self.conn.execute("UPDATE exports SET released = ? WHERE id = ?", (now_iso(), export_id))

    def export(self, export_id: int) -> Export:
        row = self.conn.execute(
            "SELECT id, account_id, created, source, output, rows, canaries, marked_cells, released"
            " FROM exports WHERE id = ?",
            (export_id,),
        ).fetchone()
        if row is None:
            raise RegistryError(f"unknown export {export_id}")
        return Export(*row)
