"""Shared fixtures: a registry with accounts, the bundled tables, a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracer import api, engine
from tracer.cli import app
from tracer.demo import read_csv, write_csv  # noqa: F401 - shared with the tests

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


def export_slices(work: Path, table: tuple[list[str], list[list[str]]], splits: dict[str, slice]):
    """A new registry in ``work`` where each account exports its slice of ``table``.

    Returns (registry, outputs by account, export results by account).
    """
    registry = work / "tracer.db"
    api.init(registry)
    header, rows = table
    outputs, results = {}, {}
    for name, part in splits.items():
        api.add_account(registry, name)
        source = write_csv(work / f"source-{name}.csv", header, rows[part])
        outputs[name] = work / f"export-{name}.csv"
        results[name] = api.export(registry, source, account=name, output=outputs[name])
    return registry, outputs, results


def file_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
