"""The CLI as a user drives it: commands, JSON shapes, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from .conftest import file_mode, read_csv, write_csv
from .sheets import excel_value, write_xls


def test_init_creates_registry_and_private_key(cli, tmp_path):
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tracer.db").exists()
    assert file_mode(tmp_path / "tracer.key") == 0o600
    assert len(bytes.fromhex((tmp_path / "tracer.key").read_text().strip())) == 32


def test_init_refuses_to_overwrite(cli, tmp_path):
    cli("init")
    result = cli("init")
    assert result.exit_code == 1
    assert result.stderr == f"Error: registry {tmp_path / 'tracer.db'} already exists; refusing to overwrite it\n"


def test_init_refuses_to_overwrite_a_key_file(cli, tmp_path):
    (tmp_path / "tracer.key").write_text("00" * 32)
    result = cli("init")
    assert result.exit_code == 1
    assert "already exists; refusing to overwrite it" in result.stderr
    assert not (tmp_path / "tracer.db").exists()


def test_registry_from_environment(runner, tmp_path, monkeypatch):
    from tracer.cli import app

    monkeypatch.setenv("TRACER_REGISTRY", str(tmp_path / "env.db"))
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert (tmp_path / "env.db").exists() and (tmp_path / "env.key").exists()


def test_accounts_add_and_list(cli):
    cli("init")
    assert cli("accounts", "add", "nanjing-li", "--note", "clerk Li").exit_code == 0
    assert cli("accounts", "add", "nanjing-wang").exit_code == 0
    listed = json.loads(cli("accounts", "list", "--json").stdout)
    assert [(a["name"], a["note"], a["exports"]) for a in listed] == [
        ("nanjing-li", "clerk Li", 0), ("nanjing-wang", "", 0)]
    assert "nanjing-li" in cli("accounts", "list").stdout


def test_duplicate_account_is_an_error(cli):
    cli("init")
    cli("accounts", "add", "li")
    result = cli("accounts", "add", "li")
    assert result.exit_code == 1
    assert result.stderr == "Error: account 'li' already exists\n"


def test_export_json_and_match_json(cli, tmp_path, waybills):
    header, rows = waybills
    cli("init")
    cli("accounts", "add", "li")
    cli("accounts", "add", "wang")
    source = write_csv(tmp_path / "src.csv", header, rows[:800])
    for name in ("li", "wang"):
        result = cli("export", source, "--account", name, "--output", tmp_path / f"{name}.csv", "--json")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.stdout)
        assert set(shown) == {"export_id", "account", "rows", "canaries", "marked_cells", "output", "canary_fallback",
                              "engine"}
        assert shown["canary_fallback"] is False
        assert shown["account"] == name and shown["rows"] == 800 and shown["canaries"] >= 1
    out_header, out_rows = read_csv(tmp_path / "wang.csv")
    leak = write_csv(tmp_path / "leak.csv", out_header, random.Random(1).sample(out_rows, 100))
    result = cli("match", leak, "--json")
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["rows"] == 100
    assert [s["account"] for s in verdict["suspects"]] == ["wang"]
    suspect = verdict["suspects"][0]
    assert {"account", "p_value", "canary_hits", "marks_observed", "marks_agreeing", "exports"} <= set(suspect)
    assert suspect["p_value"] <= 1e-6
    human = cli("match", leak)
    assert human.exit_code == 0 and "ACCUSED: wang" in human.stdout


def test_an_xls_source_exports_to_xlsx_but_not_to_xls(cli, registry, tmp_path, waybills):
    header, rows = waybills
    source = write_xls(tmp_path / "src.xls", [header] + [[excel_value(c) for c in row] for row in rows[:300]])
    result = cli("export", source, "--account", "alice", "--output", tmp_path / "out.xlsx", registry=registry)
    assert result.exit_code == 0, result.output
    assert "Exported 300 rows for alice" in result.stdout
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("export", source, "--account", "bob", "--output", tmp_path / "out.xls", registry=registry)
    assert result.exit_code == 1
    assert result.stderr == "Error: out.xls: tracer reads .xls files but cannot write them; write .xlsx instead\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    result = cli("match", tmp_path / "out.xlsx", "--json", registry=registry)
    assert [s["account"] for s in json.loads(result.stdout)["suspects"]] == ["alice"]


def test_export_to_unknown_account(cli, tmp_path, waybills):
    header, rows = waybills
    cli("init")
    source = write_csv(tmp_path / "src.csv", header, rows[:10])
    result = cli("export", source, "--account", "ghost", "--output", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown account 'ghost' (see: tracer accounts list)\n"
    assert not (tmp_path / "out.csv").exists()


def test_missing_registry(cli, tmp_path):
    result = cli("accounts", "list")
    assert result.exit_code == 1
    assert result.stderr == f"Error: registry {tmp_path / 'tracer.db'} not found (run: tracer init)\n"


def test_corrupt_registry(cli, tmp_path):
    (tmp_path / "tracer.db").write_bytes(b"this is not a database" * 100)
    result = cli("accounts", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "not a tracer registry" in result.stderr
    assert result.stderr.count("\n") == 1


def test_wrong_key_is_reported_not_used(cli, tmp_path, waybills, monkeypatch):
    header, rows = waybills
    cli("init")
    cli("accounts", "add", "li")
    source = write_csv(tmp_path / "src.csv", header, rows[:10])
    monkeypatch.setenv("TRACER_KEY", "ab" * 32)
    result = cli("export", source, "--account", "li", "--output", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert result.stderr == f"Error: the key does not belong to registry {tmp_path / 'tracer.db'}\n"
    assert not (tmp_path / "out.csv").exists()
    result = cli("match", source)
    assert result.exit_code == 1 and "does not belong" in result.stderr


def test_malformed_env_key(cli, tmp_path, monkeypatch):
    cli("init")
    monkeypatch.setenv("TRACER_KEY", "not-hex")
    result = cli("match", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert result.stderr == "Error: TRACER_KEY is not a tracer key (expected 64 hex digits)\n"


def test_missing_key_file(cli, tmp_path):
    cli("init")
    (tmp_path / "tracer.key").unlink()
    result = cli("match", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert "key file" in result.stderr and "not found" in result.stderr


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", b"", "empty.csv: "),
        ("binary.csv", bytes(range(256)) * 20, "binary.csv: "),
        ("nocolumn.csv", "name,comment\n张三,你好\n李四,再见\n".encode(), "nocolumn.csv: no phone or identifier"),
        ("leak.xyz", b"a,b\n1,2\n", "leak.xyz: unsupported file type .xyz"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "broken.xlsx: "),
        ("broken.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "broken.xls: not a readable xls workbook"),
    ],
)
def test_bad_leak_gets_one_line_error(cli, tmp_path, name, content, message):
    cli("init")
    path = tmp_path / name
    path.write_bytes(content)
    result = cli("match", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: " + message), result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_leak_file(cli, tmp_path):
    cli("init")
    result = cli("match", tmp_path / "nowhere.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "nowhere.csv" in result.stderr


def test_bad_source_leaves_nothing_behind(cli, tmp_path):
    cli("init")
    cli("accounts", "add", "li")
    source = tmp_path / "ragged.csv"
    source.write_text("运单号,收件人,收件人电话\nYT1234567890123,张三,13800138000\nYT1234567890124,李四\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("export", source, "--account", "li", "--output", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert result.stderr == "Error: ragged.csv: 1 rows have the wrong number of cells\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert json.loads(cli("accounts", "list", "--json").stdout)[0]["exports"] == 0


def test_fpr_out_of_range(cli, tmp_path, waybills):
    header, rows = waybills
    cli("init")
    leak = write_csv(tmp_path / "leak.csv", header, rows[:5])
    result = cli("match", leak, "--fpr", "2")
    assert result.exit_code == 1
    assert result.stderr == "Error: --fpr must be between 0 and 1, got 2.0\n"


def test_real_process_prints_no_traceback(tmp_path):
    """The installed command, as a user runs it: a missing registry is one line, exit 1."""
    env = {k: v for k, v in os.environ.items() if k not in ("TRACER_KEY", "TRACER_REGISTRY")}
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "--registry", str(tmp_path / "none.db"), "accounts", "list"],
        capture_output=True, text=True, env=env,
    )
    assert done.returncode == 1
    assert done.stderr == f"Error: registry {tmp_path / 'none.db'} not found (run: tracer init)\n"
    assert "Traceback" not in done.stdout + done.stderr


def test_progress_is_counted_for_a_watching_terminal(registry, tmp_path, waybills):
    """The library reports rows as they stream; the CLI shows them only on a terminal."""
    from tracer import api

    header, rows = waybills
    source = write_csv(tmp_path / "src.csv", header, rows)
    seen = []
    api.export(registry, source, account="alice", output=tmp_path / "out.csv", on_rows=seen.append)
    assert sum(seen) == len(rows) and len(seen) >= 2
    seen.clear()
    api.match(registry, [tmp_path / "out.csv"], on_rows=seen.append)
    assert sum(seen) > len(rows)


def _ragged_leak(path, header, rows, delimiter, encoding):
    """Every tenth row loses its last cell and every tenth (offset) gains one."""
    lines = [delimiter.join(header)] if header else []
    for i, row in enumerate(rows):
        cells = row[:-1] if i % 10 == 3 else row + ["多余"] if i % 10 == 7 else row
        lines.append(delimiter.join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.mark.parametrize("name, delimiter, encoding, with_header", [
    ("leak.csv", ",", "utf-8", True),
    ("leak.tsv", "\t", "utf-16", True),
    ("dump.txt", "----", "gbk", False),
])
def test_ragged_rows_in_a_leak_are_skipped_with_a_warning(cli, registry, tmp_path, waybills,
                                                            name, delimiter, encoding, with_header):
    header, rows = waybills
    cli("export", write_csv(tmp_path / "src.csv", header, rows[:400]), "--account", "bob",
        "--output", tmp_path / "bob.csv", registry=registry)
    out_header, out_rows = read_csv(tmp_path / "bob.csv")
    keep = [out_header.index(c) for c in ("收件人", "收件人电话", "收件地址", "下单时间")]
    picked = [[row[i] for i in keep] for row in out_rows[:300]]
    leak = _ragged_leak(tmp_path / name, [out_header[i] for i in keep] if with_header else None,
                        picked, delimiter, encoding)
    result = cli("match", leak, "--json", registry=registry)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Warning: {name}: 60 rows with the wrong number of cells skipped\n"
    verdict = json.loads(result.stdout)
    assert verdict["rows"] == 240 and verdict["files"][0]["ragged_rows_skipped"] == 60
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]


@pytest.mark.parametrize("name, content, message", [
    ("prose.txt", b"lorem ipsum dolor sit amet\n" * 50, "no phone or identifier column recognised; nothing to match on"),
    ("widths.csv", b"".join(b"1," * (i % 5) + b"2\n" for i in range(50)),
     "no phone or identifier column recognised; nothing to match on"),
    ("image.tsv", b"\x89PNG\r\n\x1a\n" + bytes(1000), "binary file (NUL bytes), not a text table"),
])
def test_a_leak_that_is_all_garbage_is_an_error(cli, registry, tmp_path, name, content, message):
    leak = tmp_path / name
    leak.write_bytes(content)
    result = cli("match", leak, registry=registry)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {name}: {message}\n"


def test_the_matcher_starts_without_the_exporter_and_the_exporter_without_the_matcher():
    """Each command imports what it runs: a match pays for no canary drawing, an export for no accusation
    (either set of modules is ~0.1-0.2 s of a process's start)."""
    probe = ("import sys; from tracer import cli, {0}; "
             "print(sorted(m for m in sys.modules if m in {1!r}))")
    matcher = probe.format("match", ("tracer.export", "tracer.canaries", "tracer.shared_canaries"))
    exporter = probe.format("export", ("tracer.match", "tracer.accuse", "tracer.evidence"))
    for code in (matcher, exporter):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip() == "[]", code
