"""The registry's one interface, whichever database holds it: ``Registry``.

Everything the rest of tracer asks of a registry is a method here; the two
engines (``store.SqliteRegistry``: one file, the default; ``postgres.
PostgresRegistry``: one server database, many export hosts) implement the
abstract ones.  What does not depend on the engine lives here once: which
engine a location names, the key ring's check, and the order of an export's
registration (the keyed chain and the canary re-check), so that both engines
record an export the same way.  Nothing outside this package speaks SQL or
knows which engine it has.

A new kind of registry data (a table) is added as abstract methods here and
one implementation in each engine.
"""

from __future__ import annotations

import contextlib
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..errors import KeyError_, RegistryError
from ..keys import Key, KeyRing
from ..leak_batch import pairs_array
from .history import chain_link, history_problems
from .records import Account, CodeParams, Compaction, Export, RegisteredKey, now_iso

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | Path) -> bool:
    """Whether a ``--registry`` value names a PostgreSQL database rather than a file."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def redacted(url: str) -> str:
    """A URL fit for a message: its password (and any query holding one) left out."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    host = f"{user}@{netloc[2]}" if user else netloc[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Registry(ABC):
    """One open registry.  ``Registry.open`` / ``Registry.create`` pick the engine from the location."""

    path: Path | str  # the file, or the URL without its password: what messages name
    id: str
    code: CodeParams

    # ---- opening -------------------------------------------------------
    @staticmethod
    def _engine(location: str | Path) -> type["Registry"]:
        if is_url(str(location)):
            try:
                from .postgres import PostgresRegistry
            except ImportError:
                raise RegistryError(f"registry {redacted(str(location))} is on a PostgreSQL server, which needs "
                                    "psycopg: pip install 'tracer[postgres]'") from None
            return PostgresRegistry
        from .store import SqliteRegistry

        return SqliteRegistry

    @classmethod
    def create(cls, location: str | Path, ring: KeyRing, code: CodeParams) -> "Registry":
        """A new, empty registry bound to the keys of ``ring``; refuses to overwrite anything."""
        engine = cls._engine(location) if cls is Registry else cls
        return engine._create(location, ring, code)

    @classmethod
    def open(cls, location: str | Path) -> "Registry":
        engine = cls._engine(location) if cls is Registry else cls
        return engine._open(location)

    @classmethod
    @abstractmethod
    def _create(cls, location, ring: KeyRing, code: CodeParams) -> "Registry": ...

    @classmethod
    @abstractmethod
    def _open(cls, location) -> "Registry": ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- keys ----------------------------------------------------------
    @abstractmethod
    def key_checks(self) -> dict[int, str]:
        """Key id -> its check value, for every key the registry has had."""

    def verify_ring(self, ring: KeyRing, *, finishing_rotation: bool = False) -> bool:
        """Refuse a key ring that does not belong to this registry.

        Each key of the ring must be one the registry knows (its check value
        matches), and the ring must hold every key the registry knows: an
        export can be read only with its own key, and a ring whose newest key
        is not the registry's newest would make new exports with an old key.
        With ``finishing_rotation``, the ring's newest key may be the next id,
        not yet registered: a rotation that wrote the key file and stopped.
        Returns whether that is so.
        """
        known = self.key_checks()
        for key_id, key in sorted(ring.keys.items()):
            if key_id in known and not key.matches(self.id, known[key_id]):
                which = "the key" if len(ring.keys) == 1 else f"key {key_id} of {ring.origin}"
                raise KeyError_(f"{which} does not belong to registry {self.path}")
        unknown = sorted(set(ring.keys) - set(known))
        interrupted = unknown == [ring.current_id] and ring.current_id == max(known, default=0) + 1
        if unknown and not (finishing_rotation and interrupted):
            hint = " (a key rotation was interrupted: run tracer key rotate to finish it)" if interrupted else ""
            raise KeyError_(f"key {unknown[0]} of {ring.origin} is not registered in registry {self.path}{hint}")
        missing = sorted(set(known) - set(ring.keys))
        if missing:
            raise KeyError_(f"{ring.origin} lacks key {missing[0]} of registry {self.path}; "
                            "every key the registry has had is needed (exports made with it)")
        return bool(unknown)

    @abstractmethod
    def write_lock(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction holding the registry's serial lock (rotation rewrites the key file inside)."""

    @abstractmethod
    def register_key(self, key_id: int, key: Key) -> None:
        """Record a new current key (inside ``write_lock``, after the key file holds it)."""

    @abstractmethod
    def keys(self) -> list[RegisteredKey]: ...

    @abstractmethod
    def keys_with_exports(self) -> list[int]:
        """The keys some export was made with: a leak is read once with each."""

    # ---- accounts ------------------------------------------------------
    @abstractmethod
    def add_account(self, name: str, note: str = "") -> Account: ...

    @abstractmethod
    def accounts(self) -> list[Account]: ...

    def accounts_by_id(self, account_ids: Iterable[int]) -> dict[int, Account]:
        """The accounts with these ids (a verdict names its candidates, not every registered account)."""
        wanted = set(account_ids)
        return {a.id: a for a in self.accounts() if a.id in wanted}

    def account_count(self) -> int:
        return len(self.accounts())

    def account_names(self, account_ids: Iterable[int]) -> dict[int, str]:
        """Account id -> name, for these ids."""
        return {a.id: a.name for a in self.accounts_by_id(account_ids).values()}

    @abstractmethod
    def account(self, name: str) -> Account: ...

    @abstractmethod
    def account_by_id(self, account_id: int) -> Account: ...

    @abstractmethod
    def export_counts(self) -> dict[int, int]: ...

    # ---- recording an export ----------------------------------------------
    def record_export(
        self,
        account: Account,
        key_id: int,
        key: Key,
        *,
        source: str,
        output: str,
        rows: int,
        marked_cells: int,
        exposure: Iterable[Iterable[int]],
        canary_rows: int,
        canaries: dict[int, int],
        shared: Iterable[tuple[int, str, str, bytes]] = (),
    ) -> Export:
        """Register one export made with key ``key_id`` atomically: its row, exposure digests, canaries,
        shared decoys ((digest, positions, symbols, record) each, see ``shared_canaries``), and its chain
        link (keyed with that key).

        The bulk (exposure, canaries) is loaded first, without the serial
        lock, so that many hosts load at once; then, under the lock (the chain
        head), the canaries are checked again against what other exports
        committed meanwhile (a clash is registered as no evidence, space 0,
        as ``export`` does for one within the export), and the entry is
        chained and committed.  ``exposure`` must be iterable more than once:
        an attempt cut off by a lost connection is made again.  The token
        tells, after a connection lost during COMMIT, whether it committed.
        """
        created = now_iso()
        token = secrets.token_hex(16)

        def attempt() -> int:
            with self._export_transaction():
                export_id = self._next_export_id()
                anchors = self._load_exposure(export_id, exposure)
                self._stage_canaries(export_id, canaries)
                position, previous = self._lock_chain_head()
                clashes = self._canary_clashes(export_id, account.id)
                values = sorted((d, 0 if d in clashes else space) for d, space in canaries.items())
                self._insert_canaries(export_id, clashes)
                self._insert_shared(export_id, shared)
                entry = (export_id, account.id, created, source, output, rows, canary_rows, marked_cells, anchors)
                chain = chain_link(key, previous or self.id, entry, values)
                self._insert_export(entry, chain, key_id, position + 1, token)
            return export_id

        return self.export(self._committed(attempt, token))

    def _committed(self, attempt, token: str) -> int:
        """Run ``attempt`` (one engine transaction); an engine that can lose its connection overrides this."""
        return attempt()

    @abstractmethod
    def _export_transaction(self) -> contextlib.AbstractContextManager[None]:
        """The transaction one export is registered in: all of it or none of it."""

    @abstractmethod
    def _next_export_id(self) -> int: ...

    @abstractmethod
    def _load_exposure(self, export_id: int, chunks: Iterable[Iterable[int]]) -> int:
        """Store the export's distinct exposure digests; returns how many."""

    @abstractmethod
    def _stage_canaries(self, export_id: int, canaries: dict[int, int]) -> None:
        """Hold the export's canaries (digest -> space) ready to insert under the lock."""

    @abstractmethod
    def _lock_chain_head(self) -> tuple[int, str | None]:
        """Take the serial lock; the chain's last position and link (0, None on an empty history)."""

    @abstractmethod
    def _canary_clashes(self, export_id: int, account_id: int) -> set[int]:
        """Staged canary digests that another committed export holds: a real record, another account's canary."""

    @abstractmethod
    def _insert_canaries(self, export_id: int, clashes: set[int]) -> None:
        """Insert the staged canaries, those in ``clashes`` with space 0."""

    @abstractmethod
    def _insert_shared(self, export_id: int, shared: Iterable[tuple[int, str, str, bytes]]) -> None:
        """Insert the export's shared decoys: (digest, positions, symbols, record's exposure digests)."""

    @abstractmethod
    def _insert_export(self, entry: tuple, chain: str, key_id: int, position: int, token: str) -> None: ...

    @abstractmethod
    def mark_released(self, export_id: int) -> None: ...

    # ---- reading -------------------------------------------------------
    @abstractmethod
    def export(self, export_id: int) -> Export: ...

    def exports(self, export_ids: Iterable[int]) -> dict[int, Export]:
        return {i: self.export(i) for i in sorted(set(export_ids))}

    @abstractmethod
    def canary_counts(self, account_ids: Iterable[int], key_id: int) -> dict[int, tuple[int, int]]:
        """Per account: how many canary values drawn at random it received in exports made with ``key_id``,
        and the smallest space drawn from."""

    @abstractmethod
    def exposure_of(self, digests: Iterable[int], key_id: int) -> list[tuple[int, int]]:
        """(digest, export_id) for every export made with ``key_id`` that contained one of these anchors."""

    def exposure_arrays(self, digests: np.ndarray, key_id: int) -> tuple[np.ndarray, np.ndarray]:
        """``exposure_of`` as two int64 arrays (digests, export ids), for a caller that works on arrays: a
        backend that holds its exposure as arrays (SQLite's runs) answers without a tuple per row."""
        return pairs_array(self.exposure_of(np.asarray(digests, dtype=np.int64).tolist(), key_id))

    @abstractmethod
    def canaries_of(self, digests: Iterable[int], key_id: int) -> list[tuple[int, int, int]]:
        """(digest, export_id, space) for every canary value among these anchors, in exports made with ``key_id``."""

    @abstractmethod
    def shared_decoys_of(self, digests: Iterable[int], key_id: int) -> list[tuple[int, str, str, bytes]]:
        """(digest, positions, symbols, record) of every shared decoy among these anchors, made with ``key_id``."""

    @abstractmethod
    def shared_meanings(self, digest: int) -> set[tuple[str, str]]:
        """The (positions, symbols) a shared decoy value was registered with (one, unless something is wrong)."""

    @abstractmethod
    def canary_anywhere(self, digest: int) -> bool:
        """Whether some account's own canary has this value (a shared decoy must not)."""

    @abstractmethod
    def exported(self, digest: int) -> bool:
        """Whether some export contained a record with this anchor."""

    @abstractmethod
    def canary_conflicts(self, digest: int, account: Account) -> bool:
        """Whether a new canary anchor clashes with a real exported record or another account's canary.

        The same account may be given the same canary again: re-exporting the
        same records must give the same file.
        """

    @abstractmethod
    def anchors_known(self) -> int:
        """An upper bound on how many anchors the registry knows (canaries had to avoid them)."""

    @abstractmethod
    def account_of_export(self, export_ids: Iterable[int]) -> dict[int, int]: ...

    # ---- the canary pool (registry/pool.py) ----------------------------------
    @abstractmethod
    def add_pool_numbers(self, numbers) -> int:
        """Add each number not yet in the pool, in one transaction; how many were new.  Each comes as
        (its digest under every key of the ring as (key_id, digest), the row: (digest, key_id, sealed)),
        so a number added under an older key is known."""

    @abstractmethod
    def pool(self) -> list[tuple[int, bytes]]:
        """Every pool number as (key_id, sealed), in a fixed order."""

    @abstractmethod
    def pool_size(self) -> int: ...

    # ---- the whole history ------------------------------------------------
    def check(self, ring: KeyRing) -> list[str]:
        """Every problem found: the engine's own checks, the keys, the chain of export entries, their exposure."""
        self.verify_ring(ring)
        return self.integrity_problems() + history_problems(self, ring)

    @abstractmethod
    def integrity_problems(self) -> list[str]:
        """What the engine itself finds wrong (a file's integrity, dangling references)."""

    @abstractmethod
    def history(self) -> Iterator[tuple[tuple, str, int, list[tuple[int, int]]]]:
        """Every export entry in chain order: (entry, chain link, key id, its canaries as (digest, space))."""

    @abstractmethod
    def exposure_counts(self) -> dict[int, int]:
        """Export id -> exposure digests stored for it."""

    @abstractmethod
    def summary(self) -> dict[str, int]: ...

    @abstractmethod
    def disk_bytes(self) -> int:
        """What the registry takes on disk: tables and indexes (a file: its size, write-ahead log folded in)."""

    def compact(self) -> Compaction | None:
        """Rewrite the exposure into as few pieces as it can hold (``registry compact``), under the write lock;
        None when this engine's exposure has no pieces to merge (PostgreSQL's one indexed table)."""
        return None

    @abstractmethod
    def meta(self) -> dict[str, str]:
        """The registry's own settings (id, code shape, schema version): what a migration copies first."""

    @abstractmethod
    def mark_moved(self, target: str) -> None:
        """Mark this registry as moved to ``target``: no tracer opens it again (after ``registry migrate``)."""

    @abstractmethod
    def execute(self, statement: str, params: tuple = ()) -> list[tuple]:
        """One statement of the engine's own SQL in its own transaction (tests, forensics): errors become
        ``RegistryError``.  Tracer itself never calls it."""


def refuse_moved(location, meta: dict[str, str]) -> None:
    """A registry marked as moved is opened by no tracer: exports must go to where it went."""
    if "moved_to" in meta:
        raise RegistryError(f"registry {location} was moved to {meta['moved_to']}; "
                            f"use --registry {meta['moved_to']}")
