"""The Python API the CLI wraps: where the registry and key live, and the four jobs.

>>> from tracer import api
>>> api.init("tracer.db")
>>> api.add_account("tracer.db", "branch-nanjing-li")
>>> api.export("tracer.db", "waybills.csv", account="branch-nanjing-li", output="out.csv")
>>> verdict = api.match("tracer.db", ["leak.txt"])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from . import code
from .errors import RegistryError
from .export import ExportResult, export_table
from .keys import Key, create_key_file, default_key_path, load_key
from .match import match_leaks
from .progress import OnRows
from .registry import Account, CodeParams, Registry

ENV_REGISTRY = "TRACER_REGISTRY"
DEFAULT_REGISTRY = "tracer.db"


def registry_path(explicit: str | os.PathLike | None = None) -> Path:
    """``--registry``, else ``TRACER_REGISTRY``, else ``./tracer.db``."""
    return Path(explicit or os.environ.get(ENV_REGISTRY) or DEFAULT_REGISTRY)


def init(path: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """A new registry and its key file (or the key in ``TRACER_KEY``); refuses to overwrite either."""
    path = registry_path(path)
    key_path = default_key_path(path)
    if path.exists():
        raise RegistryError(f"registry {path} already exists; refusing to overwrite it")
    if not path.parent.is_dir():
        raise RegistryError(f"cannot create registry {path}: directory {path.parent} does not exist")
    if os.environ.get("TRACER_KEY") is not None:
        key = load_key(key_path)
        key_written = None
    else:
        key = create_key_file(key_path)
        key_written = key_path
    try:
        Registry.create(path, key, CodeParams(code.DEFAULT_LENGTH, code.DEFAULT_CUTOFF)).close()
    except BaseException:
        if key_written is not None:
            key_written.unlink(missing_ok=True)
        raise
    return path, key_path


def open_registry(path: str | os.PathLike | None = None) -> Registry:
    return Registry.open(registry_path(path))


def open_with_key(path: str | os.PathLike | None = None) -> tuple[Registry, Key]:
    """The registry and its key, checked to belong together."""
    registry = open_registry(path)
    try:
        key = load_key(default_key_path(registry.path))
        registry.verify_key(key)
    except BaseException:
        registry.close()
        raise
    return registry, key


def add_account(path, name: str, note: str = "") -> Account:
    with open_registry(path) as registry:
        return registry.add_account(name, note)


def list_accounts(path) -> list[tuple[Account, int]]:
    with open_registry(path) as registry:
        counts = registry.export_counts()
        return [(a, counts.get(a.id, 0)) for a in registry.accounts()]


def export(path, source, *, account: str, output, on_rows: OnRows | None = None) -> ExportResult:
    """Export ``source`` for ``account``; ``on_rows(n)`` hears of every batch of rows written."""
    registry, key = open_with_key(path)
    with registry:
        return export_table(registry, key, account, Path(source), Path(output), on_rows)


def match(path, leaks: Sequence, *, fpr: float = 1e-6, encoding: str | None = None,
          on_rows: OnRows | None = None):
    """The verdict on ``leaks``; ``on_rows(n)`` hears of every batch of rows read."""
    registry, key = open_with_key(path)
    with registry:
        return match_leaks(registry, key, [Path(p) for p in leaks], fpr=fpr, encoding=encoding, on_rows=on_rows)


def check_registry(path) -> tuple[list[str], dict[str, int]]:
    """Problems found in the registry (empty when sound), and what it holds."""
    registry, key = open_with_key(path)
    with registry:
        return registry.check(key), registry.summary()
