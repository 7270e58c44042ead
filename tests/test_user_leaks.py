"""Leaks as investigators get them: almost clean files still give a verdict.

One stray NUL byte or one absurdly long line must cost only its own line,
skipped, counted per cause and reported (stderr, ``--json``, the report);
a file that is mostly binary still gets its one-line error.
"""

from __future__ import annotations

import json

import pytest

from tracer.cli import app

from .conftest import write_csv


@pytest.fixture(scope="module")
def convicting(tmp_path_factory, waybills):
    """A registry where bob exported 1,000 waybills, and bob's export as the leak's bytes."""
    from typer.testing import CliRunner

    work = tmp_path_factory.mktemp("almost-clean")
    registry = work / "tracer.db"
    runner = CliRunner()
    for args in (["init"], ["accounts", "add", "alice"], ["accounts", "add", "bob"]):
        assert runner.invoke(app, ["--registry", str(registry), *args]).exit_code == 0
    header, rows = waybills
    source = write_csv(work / "source.csv", header, rows[:1000])
    result = runner.invoke(app, ["--registry", str(registry), "export", str(source), "--account", "bob",
                                 "--output", str(work / "bob.csv")])
    assert result.exit_code == 0, result.output
    return registry, (work / "bob.csv").read_bytes()


def match(cli, registry, leak, *args):
    return cli("match", leak, "--json", *args, registry=registry)


def test_one_nul_byte_appended_costs_one_line(cli, convicting, tmp_path):
    registry, clean = convicting
    leak = tmp_path / "leak.csv"
    leak.write_bytes(clean + b"\x00")
    result = match(cli, registry, leak, "--report", tmp_path / "report.md")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Warning: leak.csv: 1 line with NUL bytes skipped\n"
    verdict = json.loads(result.stdout)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert verdict["files"][0]["skipped"] == {"ragged": 0, "nul": 1, "long_line": 0}
    assert verdict["files"][0]["rows"] == clean.count(b"\n") - 1  # 1,000 rows and the canaries
    assert "| 1 line with NUL bytes |" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_one_line_over_16_mi_characters_costs_one_line(cli, convicting, tmp_path):
    registry, clean = convicting
    lines = clean.split(b"\n")
    leak = tmp_path / "leak.csv"
    leak.write_bytes(b"\n".join(lines[:500] + [b"x" * (16 * 2**20 + 5)] + lines[500:]))
    result = match(cli, registry, leak)
    assert result.exit_code == 0, result.output
    assert result.stderr == "Warning: leak.csv: 1 line longer than 16 Mi characters skipped\n"
    verdict = json.loads(result.stdout)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert verdict["files"][0]["skipped"]["long_line"] == 1
    assert verdict["files"][0]["rows"] == clean.count(b"\n") - 1


def test_a_leak_mostly_of_nul_lines_is_still_refused(cli, convicting, tmp_path):
    """Under 1% NUL bytes passes the sniffer, but more unreadable lines than rows is no table."""
    registry, clean = convicting
    lines = clean.split(b"\n")
    damaged = [line + b"\x00" if 0 < i <= 600 else line for i, line in enumerate(lines)]
    leak = tmp_path / "leak.csv"
    leak.write_bytes(b"\n".join(damaged))
    result = match(cli, registry, leak)
    assert result.exit_code == 1
    assert result.stderr == "Error: leak.csv: binary file (NUL bytes in 600 lines), not a text table\n"


def test_an_export_never_drops_a_line(cli, convicting, tmp_path):
    registry, clean = convicting
    source = tmp_path / "source.csv"
    source.write_bytes(clean + b"\x00")
    result = cli("export", source, "--account", "alice", "--output", tmp_path / "out.csv", registry=registry)
    assert result.exit_code == 1
    assert result.stderr == "Error: source.csv: 1 line with NUL bytes; not exported\n"
    assert not (tmp_path / "out.csv").exists()
