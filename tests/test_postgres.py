"""The registry on a PostgreSQL server: bad servers, lost connections, the exporter role, migration.

The tests shared by both engines are in test_robustness and test_pipeline (``reg``/``place``
fixtures); these concern a server only.  Without a server (``TRACER_TEST_POSTGRES``) they are
skipped and pytest's summary says so.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess

import psycopg
import pytest

from tracer import api
from tracer.errors import RegistryError
from tracer.registry import pg_schema, postgres, redacted
from tracer.registry.postgres import PostgresRegistry

from .conftest import Reg, read_csv, write_csv


@pytest.fixture
def pg(postgres_place) -> Reg:
    postgres_place.init()
    for name in ("alice", "bob"):
        postgres_place.add_account(name)
    return postgres_place


@pytest.fixture
def postgres_place(postgres, tmp_path) -> Reg:
    return Reg(postgres.database(), tmp_path / "tracer.key")


@pytest.fixture
def source(tmp_path, waybills):
    header, rows = waybills
    return write_csv(tmp_path / "src.csv", header, rows[:400])


@pytest.fixture(autouse=True)
def _quick_reconnects(monkeypatch):
    monkeypatch.setattr(postgres, "RECONNECT_WAITS_S", (0.1, 0.3))


def run(cli, reg: Reg, *args):
    return cli(*reg.args[2:], *args, registry=reg.location)


def one_error(result, message: str) -> None:
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {message}\n")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_is_one_line(cli, tmp_path):
    port = closed_port()
    url = f"postgresql://tracer:secret@127.0.0.1:{port}/tracer"
    result = cli("--key-file", tmp_path / "k", "accounts", "list", registry=url)
    one_error(result, f"cannot connect to registry postgresql://tracer@127.0.0.1:{port}/tracer: Connection refused")


def test_a_wrong_password_is_one_line_without_the_password(cli, pg):
    wrong = str(pg.location).replace(":" + psycopg.conninfo.conninfo_to_dict(str(pg.location))["password"] + "@",
                                     ":not-the-password@")
    result = cli("accounts", "list", registry=wrong)
    user = psycopg.conninfo.conninfo_to_dict(wrong)["user"]
    one_error(result, f"cannot connect to registry {redacted(wrong)}: password authentication failed for user \"{user}\"")
    assert "not-the-password" not in result.stderr


def test_a_database_that_is_not_a_registry(cli, postgres_place):
    one_error(run(cli, postgres_place, "accounts", "list"),
              f"{redacted(str(postgres_place.location))} is not a tracer registry (run: tracer init)")


def test_a_url_needs_its_key_named(cli, pg, source, tmp_path):
    result = cli("export", source, "--account", "alice", "--output", tmp_path / "out.csv", registry=pg.location)
    one_error(result, "a registry on a server needs its key named: --key-file PATH, TRACER_KEY_FILE or TRACER_KEY "
                      "(the key never goes into the database)")
    assert not (tmp_path / "out.csv").exists()


def test_init_refuses_a_database_that_holds_a_registry(cli, pg, tmp_path):
    result = cli("--key-file", tmp_path / "other.key", "init", registry=pg.location)
    one_error(result, f"{redacted(str(pg.location))} already holds a table meta; "
                      "refusing to make a registry there (use an empty database)")
    assert not (tmp_path / "other.key").exists()


def test_the_key_never_enters_the_database(pg, source, tmp_path):
    pg.export(source, account="alice", output=tmp_path / "out.csv")
    secret = pg.key.read_text().split()[-1]
    tables = [t for (t,) in pg.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    dump = repr([pg.rows(f"SELECT * FROM {t}") for t in tables])
    assert len(secret) == 64 and secret not in dump


def _entries(reg: Reg) -> list[tuple]:
    return reg.rows("SELECT id, output, released FROM exports ORDER BY position")


def test_a_server_that_dies_mid_export(cli, pg, source, tmp_path, monkeypatch):
    """Stopped while the exposure loads: one error line, no file, no entry; back up, the next export works."""
    ctl = os.environ.get("TRACER_TEST_PG_CTL")
    if not ctl:
        pytest.skip("stopping the server needs TRACER_TEST_PG_CTL (a pg_ctl command for the test cluster)")
    original = PostgresRegistry._load_exposure

    def dying(self, *args):
        subprocess.run([*shlex.split(ctl), "-m", "immediate", "-w", "stop"], check=True, capture_output=True)
        return original(self, *args)

    monkeypatch.setattr(PostgresRegistry, "_load_exposure", dying)
    try:
        result = run(cli, pg, "export", source, "--account", "alice", "--output", tmp_path / "out.csv")
    finally:
        subprocess.run([*shlex.split(ctl), "-w", "start"], check=True, capture_output=True)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: lost the connection to registry {redacted(str(pg.location))} "
                                    "during the export (") and result.stderr.count("\n") == 1
    assert result.stderr.endswith("); no file was written\n")
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob(".out.csv.*"))
    monkeypatch.setattr(PostgresRegistry, "_load_exposure", original)
    assert _entries(pg) == [] and pg.check_registry()[0] == []
    assert run(cli, pg, "export", source, "--account", "alice", "--output", tmp_path / "out.csv").exit_code == 0
    assert [e[1] for e in _entries(pg)] == ["out.csv"] and pg.check_registry()[0] == []


def test_a_connection_lost_during_commit_that_committed_is_not_made_again(pg, source, tmp_path, monkeypatch):
    original = PostgresRegistry._commit
    commits = []

    def commit_then_drop(self):
        original(self)
        commits.append(1)
        if len(commits) == 1:  # committed, but the answer never came back
            self.conn.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(PostgresRegistry, "_commit", commit_then_drop)
    result = pg.export(source, account="alice", output=tmp_path / "out.csv")
    assert commits == [1]  # found by its token, not registered twice
    assert [(e[0], e[1]) for e in _entries(pg)] == [(result.export_id, "out.csv")]
    assert pg.check_registry()[0] == []


def test_a_connection_lost_before_commit_is_made_again(pg, postgres, source, tmp_path, monkeypatch):
    original = PostgresRegistry._commit
    commits = []

    def killed_first(self):
        commits.append(1)
        if len(commits) == 1:  # the server ends this session just before COMMIT: nothing committed
            with psycopg.connect(str(pg.location), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (self.conn.info.backend_pid,))
        original(self)

    monkeypatch.setattr(PostgresRegistry, "_commit", killed_first)
    result = pg.export(source, account="alice", output=tmp_path / "out.csv")
    assert len(commits) == 2 and read_csv(tmp_path / "out.csv")[1]
    assert [(e[0], e[1]) for e in _entries(pg)] == [(result.export_id, "out.csv")]
    assert pg.check_registry()[0] == []


def test_an_exporter_role_with_least_privilege(pg, postgres, source, tmp_path):
    """The README's exporter role exports and matches; it cannot add accounts or rewrite the history."""
    role = f"exporter_{os.getpid()}"
    url = str(pg.location)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'exporter-pw'")
        database = admin.info.dbname
        admin.execute(f"GRANT CONNECT ON DATABASE {database} TO {role}")
        admin.execute(pg_schema.EXPORTER_GRANTS.format(role=role))
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
        exporter = Reg(f"postgresql://{role}:exporter-pw@{parts['host']}:{parts['port']}/{database}", pg.key)
        result = exporter.export(source, account="alice", output=tmp_path / "out.csv")
        header, rows = read_csv(tmp_path / "out.csv")
        leak = write_csv(tmp_path / "leak.csv", header, rows[50:170])
        assert [s.account for s in exporter.match([leak]).suspects] == ["alice"]
        for statement in ("DELETE FROM exposure", "UPDATE exports SET rows = 1", "TRUNCATE canaries",
                          "INSERT INTO accounts(name, uid, created) VALUES ('x', 'y', 'z')"):
            with pytest.raises(RegistryError, match="permission denied"):
                exporter.rows(statement)
        assert exporter.check_registry()[0] == [] and result.export_id == 1
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def test_lookups_prune_partitions(pg, source, tmp_path):
    """A digest lookup reads one exposure partition per digest: the planner prunes the others."""
    pg.export(source, account="alice", output=tmp_path / "out.csv")
    digest = pg.rows("SELECT digest FROM exposure LIMIT 1")[0][0]
    plan = "\n".join(r[0] for r in pg.rows(
        f"EXPLAIN (ANALYZE, COSTS OFF) SELECT x.export_id FROM unnest(ARRAY[{digest}]::bigint[]) AS d(digest)"
        " JOIN exposure x ON x.digest = d.digest"))
    assert "never executed" in plan or plan.count("exposure_p") == 1


def test_migrate_moves_a_registry_with_rotated_keys(cli, postgres, tmp_path, waybills):
    header, rows = waybills
    file = tmp_path / "tracer.db"
    api.init(file)
    for name in ("alice", "bob"):
        api.add_account(file, name)
    source = write_csv(tmp_path / "src.csv", header, rows[:500])
    api.export(file, source, account="alice", output=tmp_path / "alice.csv")
    api.rotate_key(file)
    api.export(file, source, account="bob", output=tmp_path / "bob.csv")
    before = api.check_registry(file)[1]
    url = postgres.database()
    result = cli("registry", "migrate", "--to", url, registry=file)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"Moved registry {file} to {redacted(url)}: 2 exports,")
    moved = Reg(url, tmp_path / "tracer.key")
    problems, after = moved.check_registry()
    assert problems == [] and after == before
    assert [k.id for k in moved.list_keys()] == [1, 2]
    for name in ("alice", "bob"):
        out_header, out_rows = read_csv(tmp_path / f"{name}.csv")
        leak = write_csv(tmp_path / f"leak-{name}.csv", out_header, out_rows[100:220])
        assert [s.account for s in moved.match([leak]).suspects] == [name]
    # The file is moved: no tracer exports into it again; the server carries on where it stopped.
    one_error(cli("export", source, "--account", "alice", "--output", tmp_path / "again.csv", registry=file),
              f"registry {file} was moved to {redacted(url)}; use --registry {redacted(url)}")
    assert moved.export(source, account="alice", output=tmp_path / "again.csv").export_id == 3
    assert moved.add_account("carol").id == 3
    assert moved.check_registry()[0] == []


def test_migrate_refuses_a_file_that_fails_its_check(cli, postgres, tmp_path, waybills):
    header, rows = waybills
    file = tmp_path / "tracer.db"
    api.init(file)
    api.add_account(file, "alice")
    api.add_account(file, "bob")
    api.export(file, write_csv(tmp_path / "src.csv", header, rows[:200]), account="alice",
               output=tmp_path / "alice.csv")
    local = Reg(file, tmp_path / "tracer.key")
    local.rows("DROP TRIGGER exports_only_release")
    local.rows("UPDATE exports SET account_id = 2 WHERE id = 1")
    url = postgres.database()
    one_error(cli("registry", "migrate", "--to", url, registry=file),
              f"registry {file} fails its check, so it is not moved: export 1: its entry, its canaries "
              "or an earlier entry was altered")
    with psycopg.connect(url) as conn:  # nothing was made on the server
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
    assert local.list_accounts()  # the file is not marked as moved


def test_migrate_refuses_a_database_that_holds_a_registry(cli, pg, tmp_path):
    file = tmp_path / "tracer.db"
    api.init(file, tmp_path / "file.key")
    result = cli("--key-file", tmp_path / "file.key", "registry", "migrate", "--to", pg.location, registry=file)
    one_error(result, f"{redacted(str(pg.location))} already holds a table meta; "
                      "refusing to make a registry there (use an empty database)")
    assert json.loads(cli("--key-file", tmp_path / "file.key", "accounts", "list", "--json",
                          registry=file).stdout) == []


def test_an_exporter_that_opened_the_file_before_the_move_writes_nothing_into_it(postgres, tmp_path):
    """Migration holds the file's write lock; an exporter waiting for it finds the file moved, not writable."""
    from .test_registry import record

    file = tmp_path / "tracer.db"
    api.init(file)
    api.add_account(file, "alice")
    registry, ring = api.open_with_key(file)
    with registry:
        url = postgres.database()
        api.migrate_registry(file, url)
        with pytest.raises(RegistryError, match=f"^registry {file} was moved to {redacted(url)}; use --registry"):
            record(registry, ring, "alice", [[1, 2]], {})
    assert Reg(url, tmp_path / "tracer.key").check_registry() == ([], {"accounts": 1, "exports": 0,
                                                                         "exposure": 0, "canaries": 0})


def test_key_rotation_on_a_server(cli, pg, source, tmp_path):
    """The key file named beside the URL is rotated; old and new exports are both matched."""
    assert run(cli, pg, "export", source, "--account", "alice", "--output", tmp_path / "alice.csv").exit_code == 0
    rotated = run(cli, pg, "key", "rotate")
    assert rotated.exit_code == 0 and rotated.stdout.startswith(f"Key 2 is now current ({pg.key})")
    assert run(cli, pg, "export", source, "--account", "bob", "--output", tmp_path / "bob.csv").exit_code == 0
    keys = json.loads(run(cli, pg, "key", "list", "--json").stdout)
    assert [(k["id"], k["exports"], k["current"]) for k in keys] == [(1, 1, False), (2, 1, True)]
    for name in ("alice", "bob"):
        header, rows = read_csv(tmp_path / f"{name}.csv")
        leak = write_csv(tmp_path / f"leak-{name}.csv", header, rows[100:220])
        assert [s["account"] for s in json.loads(run(cli, pg, "match", leak, "--json").stdout)["suspects"]] == [name]
    assert run(cli, pg, "registry", "check").stdout.startswith("Registry OK: 2 accounts, 2 exports,")
