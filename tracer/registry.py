"""The registry: accounts, exports, exposure and canary digests.

This is the only module that speaks SQL, so that a server database can take
the place of the embedded SQLite file when one company's exporters run on many
hosts.  The registry holds no secret and no personal data in clear: exposure
and canaries are 8-byte keyed digests of record anchors (see ``keys``); the
key check value lets tracer refuse a wrong key.

SQLite runs in WAL mode with a busy timeout, so several exporting processes
and a matcher can share one file.  Each export is recorded in one transaction
(export row, its exposure digests, its canary digests): a crash leaves either
all of it or none of it.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sqlite_utils

from .errors import AccountError, KeyError_, RegistryError
from .keys import Key

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
LOOKUP_BATCH = 500

SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    uid TEXT NOT NULL UNIQUE,
    note TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE TABLE exports (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    created TEXT NOT NULL,
    source TEXT NOT NULL,
    output TEXT NOT NULL,
    rows INTEGER NOT NULL,
    canaries INTEGER NOT NULL,
    marked_cells INTEGER NOT NULL,
    anchors INTEGER NOT NULL DEFAULT 0,
    chain TEXT NOT NULL DEFAULT '',
    released TEXT
);
CREATE TABLE exposure (
    digest INTEGER NOT NULL,
    export_id INTEGER NOT NULL REFERENCES exports(id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (digest, export_id)
) WITHOUT ROWID;
CREATE TABLE canaries (
    digest INTEGER NOT NULL,
    export_id INTEGER NOT NULL REFERENCES exports(id) DEFERRABLE INITIALLY DEFERRED,
    space INTEGER NOT NULL,  -- how many equally likely values it was drawn from; 0: not at random, no evidence
    PRIMARY KEY (digest, export_id)
) WITHOUT ROWID;
CREATE INDEX exports_account ON exports(account_id);
CREATE INDEX canaries_export ON canaries(export_id);
-- The history is append-only: an export's entry, exposure and canaries never change,
-- except that an entry is marked released once its file is in place.
CREATE TRIGGER exports_no_delete BEFORE DELETE ON exports
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER exports_only_release BEFORE UPDATE ON exports
    WHEN OLD.released IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id
      OR NEW.created IS NOT OLD.created OR NEW.source IS NOT OLD.source OR NEW.output IS NOT OLD.output
      OR NEW.rows IS NOT OLD.rows OR NEW.canaries IS NOT OLD.canaries
      OR NEW.marked_cells IS NOT OLD.marked_cells OR NEW.anchors IS NOT OLD.anchors OR NEW.chain IS NOT OLD.chain
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER exposure_no_delete BEFORE DELETE ON exposure
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER exposure_no_update BEFORE UPDATE ON exposure
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER canaries_no_delete BEFORE DELETE ON canaries
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
CREATE TRIGGER canaries_no_update BEFORE UPDATE ON canaries
    BEGIN SELECT RAISE(ABORT, 'tracer registry history is append-only'); END;
"""


def chain_link(key: Key, previous: str, entry: tuple, canaries: list[tuple[int, int]]) -> str:
    """The keyed digest linking an export entry to the one before it (tamper-evident history)."""
    text = repr((previous, entry, canaries)).encode()
    return key.digest("chain", text, 16).hex()


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def digest_int(digest: bytes) -> int:
    """An 8-byte digest as SQLite's signed 64-bit integer."""
    return int.from_bytes(digest[:8], "little", signed=True)


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    uid: bytes
    note: str
    created: str


@dataclass(frozen=True)
class Export:
    id: int
    account_id: int
    created: str
    source: str
    output: str
    rows: int
    canaries: int
    marked_cells: int
    released: str | None


@dataclass(frozen=True)
class CodeParams:
    """The code's public shape; its biases are re-derived from the key."""

    length: int
    cutoff: float


class Registry:
    """One open registry file."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        meta = self._meta()
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise RegistryError(f"{path} was written by a newer tracer (schema {version}); upgrade tracer")
        self.id = meta["registry_id"]
        self.code = CodeParams(length=int(meta["code_length"]), cutoff=float(meta["code_cutoff"]))
        self._key_check = meta["key_check"]

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
    def create(cls, path: Path, key: Key, code: CodeParams) -> "Registry":
        """A new, empty registry bound to ``key``; refuses to overwrite anything."""
        if path.exists():
            raise RegistryError(f"registry {path} already exists; refusing to overwrite it")
        try:
            conn = cls._connect(path, create=True)
        except RegistryError:
            raise RegistryError(f"cannot create registry {path}") from None
        registry_id = secrets.token_hex(16)
        with conn:
            conn.execute("BEGIN")
            conn.executescript(SCHEMA)
            meta = {
                "schema_version": str(SCHEMA_VERSION),
                "registry_id": registry_id,
                "key_check": key.check_value(registry_id),
                "code_length": str(code.length),
                "code_cutoff": repr(code.cutoff),
                "created": now_iso(),
            }
            conn.executemany("INSERT INTO meta(name, value) VALUES (?, ?)", meta.items())
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return cls(path, conn)

    @classmethod
    def open(cls, path: Path) -> "Registry":
        if not path.exists():
            raise RegistryError(f"registry {path} not found (run: tracer init)")
        conn = cls._connect(path, create=False)
        try:
            return cls(path, conn)
        except (sqlite3.DatabaseError, KeyError):
            conn.close()
            raise RegistryError(f"{path} is not a tracer registry or is corrupt") from None

    def _meta(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self.conn.execute("SELECT name, value FROM meta")}

    def verify_key(self, key: Key) -> None:
        if not key.matches(self.id, self._key_check):
            raise KeyError_(f"the key does not belong to registry {self.path}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- accounts ------------------------------------------------------
    def add_account(self, name: str, note: str = "") -> Account:
        name = name.strip()
        if not name:
            raise AccountError("an account needs a non-empty name")
        uid = secrets.token_bytes(16)
        try:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                cur = self.conn.execute(
                    "INSERT INTO accounts(name, uid, note, created) VALUES (?, ?, ?, ?)",
                    (name, uid.hex(), note, now_iso()),
                )
        except sqlite3.IntegrityError:
            raise AccountError(f"account {name!r} already exists") from None
        return self.account_by_id(cur.lastrowid)

    @staticmethod
    def _account(row: tuple) -> Account:
        return Account(id=row[0], name=row[1], uid=bytes.fromhex(row[2]), note=row[3], created=row[4])

    def accounts(self) -> list[Account]:
        rows = self.conn.execute("SELECT id, name, uid, note, created FROM accounts ORDER BY id")
        return [self._account(r) for r in rows]

    def account(self, name: str) -> Account:
        row = self.conn.execute(
            "SELECT id, name, uid, note, created FROM accounts WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise AccountError(f"unknown account {name!r} (see: tracer accounts list)")
        return self._account(row)

    def account_by_id(self, account_id: int) -> Account:
        row = self.conn.execute(
            "SELECT id, name, uid, note, created FROM accounts WHERE id = ?", (account_id,)
        ).fetchone()
        if row is None:
            raise AccountError(f"unknown account id {account_id}")
        return self._account(row)

    def export_counts(self) -> dict[int, int]:
        return dict(self.conn.execute("SELECT account_id, count(*) FROM exports GROUP BY account_id"))

    # ---- exports -------------------------------------------------------
    def record_export(
        self,
        account: Account,
        key: Key,
        *,
        source: str,
        output: str,
        rows: int,
        marked_cells: int,
        exposure: Iterable[Iterable[int]],
        canary_rows: int,
        canaries: dict[int, int],
    ) -> Export:
        """Register one export atomically: its row, exposure digests (in chunks), canaries, chain link."""
        created = now_iso()
        canary_values = sorted(canaries.items())  # (digest, space)
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")  # the write lock: no other export can take this id
            export_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM exports").fetchone()[0]
            anchors = 0  # distinct anchors: what a later check can count again
            for chunk in exposure:
                cur = self.conn.executemany(
                    "INSERT OR IGNORE INTO exposure(digest, export_id) VALUES (?, ?)",
                    # Sorted and distinct: a B-tree takes keys in order several times faster.
                    zip(np.unique(np.asarray(chunk, dtype=np.int64)).tolist(), repeat(export_id)),
                )
                anchors += cur.rowcount
            self.conn.executemany(
                "INSERT INTO canaries(digest, export_id, space) VALUES (?, ?, ?)",
                [(d, export_id, space) for d, space in canary_values],
            )
            previous = self.conn.execute("SELECT chain FROM exports ORDER BY id DESC LIMIT 1").fetchone()
            entry = (export_id, account.id, created, source, output, rows, canary_rows, marked_cells, anchors)
            chain = chain_link(key, previous[0] if previous else self.id, entry, canary_values)
            self.conn.execute(
                "INSERT INTO exports(id, account_id, created, source, output, rows, canaries, marked_cells,"
                " anchors, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                entry + (chain,),
            )
        return self.export(export_id)

    def check(self, key: Key) -> list[str]:
        """Every problem found: SQLite's own checks, the key, the chain of export entries, their exposure.

        The chain is keyed: without the key nobody can rewrite the history so
        that it verifies again.
        """
        self.verify_key(key)
        problems = [row[0] for row in self.conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"{row[0]} row {row[1]} points at a missing {row[2]}"
                     for row in self.conn.execute("PRAGMA foreign_key_check")]
        counts = dict(self.conn.execute("SELECT export_id, count(*) FROM exposure GROUP BY export_id"))
        previous = self.id
        for row in self.conn.execute(
            "SELECT id, account_id, created, source, output, rows, canaries, marked_cells, anchors, chain"
            " FROM exports ORDER BY id"
        ).fetchall():
            export_id, entry, chain = row[0], row[:9], row[9]
            canaries = self.conn.execute(
                "SELECT digest, space FROM canaries WHERE export_id = ? ORDER BY digest", (export_id,)
            ).fetchall()
            if chain_link(key, previous, entry, canaries) != chain:
                problems.append(f"export {export_id}: its entry, its canaries or an earlier entry was altered")
            if counts.get(export_id, 0) != entry[8]:
                problems.append(f"export {export_id}: {counts.get(export_id, 0)} exposure digests, "
                                f"{entry[8]} recorded")
            previous = chain
        return problems

    def summary(self) -> dict[str, int]:
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "accounts": one("SELECT count(*) FROM accounts"),
            "exports": one("SELECT count(*) FROM exports"),
            "exposure": one("SELECT coalesce(sum(anchors), 0) FROM exports"),
            "canaries": one("SELECT coalesce(sum(canaries), 0) FROM exports"),
        }

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

    def exports(self, export_ids: Iterable[int]) -> dict[int, Export]:
        return {i: self.export(i) for i in sorted(set(export_ids))}

    def canary_counts(self, account_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Per account: how many canary values drawn at random it received, and the smallest space drawn from."""
        ids = sorted(set(account_ids))
        counts = dict.fromkeys(ids, (0, 0))
        for batch in _batches(ids, LOOKUP_BATCH):
            marks = ",".join("?" * len(batch))
            for account_id, n, space in self.conn.execute(
                f"SELECT e.account_id, count(*), min(c.space) FROM canaries c JOIN exports e ON e.id = c.export_id"
                f" WHERE c.space > 0 AND e.account_id IN ({marks}) GROUP BY e.account_id",
                batch,
            ):
                counts[account_id] = (n, space)
        return counts

    # ---- lookups -------------------------------------------------------
    def _lookup(self, select: str, digests: Iterable[int]) -> Iterator[tuple]:
        for batch in _batches(sorted(set(digests)), LOOKUP_BATCH):
            marks = ",".join("?" * len(batch))
            yield from self.conn.execute(f"{select} WHERE digest IN ({marks})", batch)

    def exposure_of(self, digests: Iterable[int]) -> list[tuple[int, int]]:
        """(digest, export_id) for every export that contained one of these anchors."""
        return list(self._lookup("SELECT digest, export_id FROM exposure", digests))

    def canaries_of(self, digests: Iterable[int]) -> list[tuple[int, int, int]]:
        """(digest, export_id, space) for every canary value among these anchors."""
        return list(self._lookup("SELECT digest, export_id, space FROM canaries", digests))

    def exported(self, digest: int) -> bool:
        """Whether some export contained a record with this anchor."""
        return self.conn.execute("SELECT 1 FROM exposure WHERE digest = ? LIMIT 1", (digest,)).fetchone() is not None

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
        for batch in _batches(ids, LOOKUP_BATCH):
            marks = ",".join("?" * len(batch))
            out.update(self.conn.execute(f"SELECT id, account_id FROM exports WHERE id IN ({marks})", batch))
        return out


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
