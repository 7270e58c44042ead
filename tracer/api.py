"""The Python API the CLI wraps: where the registry and key ring live, and the jobs.

>>> from tracer import api
>>> api.init("tracer.db")
>>> api.add_account("tracer.db", "branch-nanjing-li")
>>> api.export("tracer.db", "waybills.csv", account="branch-nanjing-li", output="out.csv")
>>> verdict = api.match("tracer.db", ["leak.txt"])
>>> api.rotate_key("tracer.db")  # a new current key; the old ones stay to match old exports

A registry is a file path or a ``postgresql://`` URL; with a URL the key
file is named (``key_file=``, ``TRACER_KEY_FILE``) or the keys are in
``TRACER_KEY``: the key never goes into the database.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import canary_pool, code
from .errors import KeyError_, RegistryError
from .keys import ENV_VAR, KeyRing, create_key_file, default_key_path, key_from_environment, load_ring, write_ring
from .progress import OnRows
from .registry import Account, CodeParams, RegisteredKey, Registry, is_url, redacted

if TYPE_CHECKING:
    from .export import ExportResult

# ``export`` and ``match`` are imported by the call that uses them: either alone is ~0.1-0.2 s of imports
# (regexes, canary machinery, the accusation), and a command runs one of them.

ENV_REGISTRY = "TRACER_REGISTRY"
ENV_KEY_FILE = "TRACER_KEY_FILE"
DEFAULT_REGISTRY = "tracer.db"


def registry_path(explicit: str | os.PathLike | None = None) -> Path | str:
    """``--registry``, else ``TRACER_REGISTRY``, else ``./tracer.db``: a file's path, or a URL as it is."""
    location = str(explicit or os.environ.get(ENV_REGISTRY) or DEFAULT_REGISTRY)
    return location if is_url(location) else Path(location)


def key_file(location: Path | str, explicit: str | os.PathLike | None = None) -> Path:
    """``--key-file``, else ``TRACER_KEY_FILE``, else beside a registry file; a URL's key must be named."""
    named = explicit or os.environ.get(ENV_KEY_FILE)
    if named:
        return Path(named)
    if is_url(str(location)):
        raise KeyError_(f"a registry on a server needs its key named: --key-file PATH, {ENV_KEY_FILE} or {ENV_VAR} "
                        "(the key never goes into the database)")
    return default_key_path(Path(location))


def init(path: str | os.PathLike | None = None, key_path: str | os.PathLike | None = None) -> tuple[Path | str, Path]:
    """A new registry and its key file (or the keys in ``TRACER_KEY``); refuses to overwrite either."""
    path = registry_path(path)
    key_path = _key_path_for(path, key_path)
    if not is_url(str(path)):
        if path.exists():
            raise RegistryError(f"registry {path} already exists; refusing to overwrite it")
        if not path.parent.is_dir():
            raise RegistryError(f"cannot create registry {path}: directory {path.parent} does not exist")
    if key_from_environment():
        ring = load_ring(key_path)
        key_written = None
    else:
        ring = create_key_file(key_path)
        key_written = key_path
    try:
        with Registry.create(path, ring, CodeParams(code.DEFAULT_LENGTH, code.DEFAULT_CUTOFF)) as registry:
            path = registry.path
    except BaseException:
        if key_written is not None:
            key_written.unlink(missing_ok=True)
        raise
    return path, key_path


def _key_path_for(location: Path | str, explicit) -> Path:
    """The key file's path, or (keys in ``TRACER_KEY``) the name messages give it."""
    if key_from_environment() and not explicit and not os.environ.get(ENV_KEY_FILE):
        return Path(ENV_VAR) if is_url(str(location)) else default_key_path(Path(location))
    return key_file(location, explicit)


def open_registry(path: str | os.PathLike | None = None) -> Registry:
    return Registry.open(registry_path(path))


def open_with_key(path: str | os.PathLike | None = None,
                  key_path: str | os.PathLike | None = None) -> tuple[Registry, KeyRing]:
    """The registry and its key ring, checked to belong together."""
    location = registry_path(path)
    key_path = _key_path_for(location, key_path)  # a URL without a named key fails before connecting
    registry = Registry.open(location)
    try:
        ring = load_ring(key_path)
        registry.verify_ring(ring)
    except BaseException:
        registry.close()
        raise
    return registry, ring


def add_account(path, name: str, note: str = "") -> Account:
    with open_registry(path) as registry:
        return registry.add_account(name, note)


def list_accounts(path) -> list[tuple[Account, int]]:
    with open_registry(path) as registry:
        counts = registry.export_counts()
        return [(a, counts.get(a.id, 0)) for a in registry.accounts()]


def export(path, source, *, account: str, output, on_rows: OnRows | None = None, key_path=None) -> ExportResult:
    """Export ``source`` for ``account`` with the current key; ``on_rows(n)`` hears of every batch of rows written."""
    from .export import export_table

    registry, ring = open_with_key(path, key_path)
    with registry:
        return export_table(registry, ring, account, Path(source), Path(output), on_rows)


def add_to_pool(path, file, key_path=None) -> tuple[int, int]:
    """Add the numbers of ``file`` (one a line) to the canary pool: (how many were new, pool size)."""
    numbers = canary_pool.read_pool_file(Path(file))
    registry, ring = open_with_key(path, key_path)
    with registry:
        return canary_pool.add_numbers(registry, ring, numbers), registry.pool_size()


def trace(path, number: str, key_path=None) -> list[canary_pool.Carried]:
    """The exports (account, when) whose canaries carried ``number``."""
    registry, ring = open_with_key(path, key_path)
    with registry:
        return canary_pool.trace(registry, ring, number)


def match(path, leaks: Sequence, *, fpr: float = 1e-6, encoding: str | None = None,
          on_rows: OnRows | None = None, key_path=None):
    """The verdict on ``leaks``; ``on_rows(n)`` hears of every batch of rows read."""
    from .match import match_leaks

    registry, ring = open_with_key(path, key_path)
    with registry:
        return match_leaks(registry, ring, [Path(p) for p in leaks], fpr=fpr, encoding=encoding, on_rows=on_rows)


def check_registry(path, key_path=None) -> tuple[list[str], dict[str, int]]:
    """Problems found in the registry (empty when sound), and what it holds."""
    registry, ring = open_with_key(path, key_path)
    with registry:
        return registry.check(ring), registry.summary()


def compact_registry(path=None):
    """Merge the registry's exposure runs into one (``registry compact``); None when there is nothing of the
    kind to merge (a server's registry).  No key is needed: only digests move, none is read or made."""
    with Registry.open(registry_path(path)) as registry:
        return registry.compact()


def rotate_key(path=None, key_path=None) -> tuple[int, Path]:
    """Add a fresh key to the key file and the registry, and make it current; returns its id and the file.

    Old keys stay: exports made with them can only be matched with them.
    Under the registry's write lock (so two rotations cannot race), the new
    ring is written first (atomically), then the key registered: a crash in
    between leaves a ring whose newest key the registry lacks, and rotating
    again registers that key instead of making another.  Keys in
    ``TRACER_KEY`` cannot be rewritten: rotate the key file instead.
    """
    location = registry_path(path)
    key_path = _key_path_for(location, key_path)
    with Registry.open(location) as registry:
        if key_from_environment():
            raise KeyError_(f"cannot rotate keys held in {ENV_VAR}: put them in the key file {key_path} "
                            f"(mode 600), unset {ENV_VAR} and rotate again")
        with registry.write_lock():
            ring = load_ring(key_path)
            if not registry.verify_ring(ring, finishing_rotation=True):
                ring = ring.rotated()
                write_ring(key_path, ring)
            registry.register_key(ring.current_id, ring.current)
        return ring.current_id, key_path


def list_keys(path) -> list[RegisteredKey]:
    """The keys the registry has had (ids, dates, exports made with each); never a secret."""
    with open_registry(path) as registry:
        return registry.keys()


def migrate_registry(path, target: str, key_path=None):
    """Move a registry file whole onto an empty PostgreSQL database (see ``registry.migrate``)."""
    from .registry.migrate import migrate_to

    location = registry_path(path)
    if is_url(str(location)):
        raise RegistryError(f"registry {redacted(str(location))} is on a server already; migrate moves a registry file")
    if not is_url(target):
        raise RegistryError(f"--to {target}: not a postgresql:// URL")
    key_path = _key_path_for(location, key_path)
    return migrate_to(location, target, load_ring(key_path), key_path)
