"""Shared fixtures: a registry with accounts, the bundled tables, a CLI runner."""

from __future__ import annotations

import functools
import inspect
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracer import api, engine
from tracer.channels import slots_for
from tracer.columns import phone_anchor, recognise
from tracer.keys import default_key_path, load_ring
from tracer.marks import AnchorHasher
from tracer.cli import app
from tracer.demo import read_csv, write_csv  # noqa: F401 - shared with the tests
from tracer.registry import Registry

# A PostgreSQL server the tests may make databases on (CI starts one: .ci/run).  Without it the
# PostgreSQL half of every test on both backends is skipped, and says so (pytest -rs).
PG_ENV = "TRACER_TEST_POSTGRES"
BACKENDS = ["sqlite", "postgresql"]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("TRACER_KEY", raising=False)
    monkeypatch.delenv("TRACER_REGISTRY", raising=False)
    if engine._engine is None:  # not built here: the Python engine, without the CLI's warning about it
        monkeypatch.setenv("TRACER_ENGINE", "python")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner, tmp_path):
    """Run ``tracer --registry tmp/tracer.db ARGS`` as a user would."""

    def run(*args: str, registry: Path | None = None):
        reg = registry or tmp_path / "tracer.db"
        return runner.invoke(app, ["--registry", str(reg), *map(str, args)])

    return run


@pytest.fixture
def registry(tmp_path) -> Path:
    path = tmp_path / "tracer.db"
    api.init(path)
    for name in ("alice", "bob", "carol"):
        api.add_account(path, name)
    return path


@pytest.fixture(scope="session")
def waybills() -> tuple[list[str], list[list[str]]]:
    return read_csv(FIXTURES / "waybills.csv")


@pytest.fixture(scope="session")
def orders() -> tuple[list[str], list[list[str]]]:
    return read_csv(FIXTURES / "orders.csv")


@pytest.fixture(scope="session")
def foreign_waybills() -> tuple[list[str], list[list[str]]]:
    return read_csv(FIXTURES / "foreign_waybills.csv")


@pytest.fixture(scope="session")
def foreign_orders() -> tuple[list[str], list[list[str]]]:
    return read_csv(FIXTURES / "foreign_orders.csv")


def export_slices(work: Path, table: tuple[list[str], list[list[str]]], splits: dict[str, slice],
                  registry: "Reg | Path | None" = None):
    """A new registry in ``work`` (or the given one, not yet made) where each account exports its slice of
    ``table``.

    Returns (registry, outputs by account, export results by account).
    """
    registry = registry or work / "tracer.db"
    calls = registry if isinstance(registry, Reg) else Reg(registry, registry.with_name("tracer.key"))
    calls.init()
    header, rows = table
    outputs, results = {}, {}
    for name, part in splits.items():
        calls.add_account(name)
        source = write_csv(work / f"source-{name}.csv", header, rows[part])
        outputs[name] = work / f"export-{name}.csv"
        results[name] = calls.export(source, account=name, output=outputs[name])
    return registry, outputs, results


@dataclass
class Reg:
    """A registry on one backend and its key file: ``reg.export(...)`` is ``api.export(location, ...,
    key_path=key)``; ``reg.args`` the CLI's ``--registry`` and ``--key-file``."""

    location: Path | str
    key: Path

    def __str__(self) -> str:
        return str(self.location)

    @property
    def args(self) -> list[str]:
        return ["--registry", str(self.location), "--key-file", str(self.key)]

    def open(self) -> Registry:
        return Registry.open(self.location)

    def rows(self, statement: str) -> list[tuple]:
        with self.open() as registry:
            return registry.execute(statement)

    def __getattr__(self, name: str):
        call = getattr(api, name)
        if "key_path" in inspect.signature(call).parameters:
            if name == "init":
                return functools.partial(call, self.location, self.key)
            return functools.partial(call, self.location, key_path=self.key)
        return functools.partial(call, self.location)


class Postgres:
    """Fresh databases on the test server, each dropped at the end."""

    def __init__(self, url: str):
        self.url = url
        self.made: list[str] = []
        self.admin("SELECT 1")  # a server named but not there fails the run, it is not skipped

    def admin(self, statement: str) -> None:
        """One statement on a connection of its own (a test may have restarted the server)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(statement)

    def database(self) -> str:
        name = f"tracer_test_{secrets.token_hex(6)}"
        self.admin(f"CREATE DATABASE {name}")
        self.made.append(name)
        base, _, _ = self.url.rpartition("/")
        return f"{base}/{name}"

    def drop_all(self) -> None:
        for name in self.made:
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres():
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests skipped: no server ({PG_ENV} unset; .ci/run starts one)")
    server = Postgres(url)
    yield server
    server.drop_all()


def new_registry(backend: str, work: Path, request) -> Reg:
    """An empty place for a registry on ``backend`` (not yet made), with its key file's path."""
    if backend == "sqlite":
        return Reg(work / "tracer.db", work / "tracer.key")
    return Reg(request.getfixturevalue("postgres").database(), work / "tracer.key")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def place(backend, tmp_path, request) -> Reg:
    """A registry not yet made, on each backend in turn."""
    return new_registry(backend, tmp_path, request)


@pytest.fixture
def reg(place) -> Reg:
    """A registry with accounts alice, bob, carol, on each backend in turn."""
    place.init()
    for name in ("alice", "bob", "carol"):
        place.add_account(name)
    return place


def flip_marks(header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """Every mark variant turned to the other one, with tracer's public slot code (a broker's attack)."""
    schema = recognise(header, rows)
    flipped = []
    for row in rows:
        cells = list(row)
        for column in schema.columns:
            for slot in slots_for(column.kind):
                bit = slot.read(cells[column.index])
                if bit is not None:
                    cells[column.index] = slot.embed(cells[column.index], 1 - bit)
        flipped.append(cells)
    return flipped


def shared_decoy_meanings(registry: "Reg | Path") -> dict[int, tuple[str, str]]:
    """Every shared decoy value's keyed digest -> (positions, symbols), as the registry holds them."""
    with Registry.open(getattr(registry, "location", registry)) as opened:
        return {d: (p, s) for d, p, s in opened.execute("SELECT digest, positions, symbols FROM shared_decoys")}


def shared_decoy_lookup(registry: "Reg | Path"):
    """``of(header, row)``: the (positions, symbols) of the shared decoy ``row`` is, or None (its phones
    looked up with the key in the registry as it stands now)."""
    key_path = registry.key if isinstance(registry, Reg) else default_key_path(registry)
    hasher = AnchorHasher(load_ring(key_path).current)
    meanings = shared_decoy_meanings(registry)

    def of(header: list[str], row: list[str]) -> tuple[str, str] | None:
        for i, name in enumerate(header):
            anchor = phone_anchor(row[i]) if "电话" in name or "phone" in name.lower() else None
            if anchor is not None and hasher(anchor).exposure in meanings:
                return meanings[hasher(anchor).exposure]
        return None
    return of


def file_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
