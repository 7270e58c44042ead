"""The investigator's report: HTML and Markdown through the CLI, masking, explanations, a real browser."""

from __future__ import annotations

import hashlib
import math
import os
import random
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from tracer.accuse import ExportSeen, Suspect, Verdict
from tracer.report import check_report_path, write_report
from tracer.report.mask import mask_cell, mask_name, mask_phone
from tracer.report.plot import score_plot

from .conftest import FIXTURES, export_slices, read_csv, shared_decoy_lookup, write_csv

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
SPLITS = {"alice": slice(0, 1000), "bob": slice(500, 1500), "carol": slice(1000, 2000)}
RECIPIENT_NAME, RECIPIENT_PHONE = 4, 5


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """Three accounts export overlapping waybills; bob's rows leak (two canaries among them) beside a foreign file."""
    work = tmp_path_factory.mktemp("report")
    header, rows = read_csv(FIXTURES / "waybills.csv")
    registry, _, _ = export_slices(work, (header, rows), SPLITS)
    ids = {row[0] for row in rows}
    _, out_rows = read_csv(work / "export-bob.csv")
    shared = shared_decoy_lookup(registry)
    canaries = [row for row in out_rows if row[0] not in ids and shared(header, row) is None][:2]
    real = random.Random(5).sample([row for row in out_rows if row[0] in ids], 120)
    canary_cells = {cell for row in canaries for cell in row}
    first = next(row for row in real if row[1] not in canary_cells and row[RECIPIENT_NAME] not in canary_cells)
    real.remove(first)
    leak = write_csv(work / "leak-bob.csv", header, [first] + real[:60] + canaries + real[60:])
    _, foreign_rows = read_csv(FIXTURES / "foreign_waybills.csv")
    foreign = write_csv(work / "leak-other.csv", header, foreign_rows[:40])
    return {"registry": registry, "work": work, "leak": leak, "foreign": foreign, "header": header,
            "rows": rows, "first": first, "canaries": canaries}


def run_match(cli, staged, *args):
    return cli("match", *args, registry=staged["registry"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def md_headings(text: str) -> list[str]:
    return [line.lstrip("#").strip() for line in text.splitlines() if re.match(r"#{1,6} ", line)]


def md_tables(text: str) -> list[list[list[str]]]:
    """Every pipe table in a Markdown text, as rows of cells (separator rows dropped)."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


# ---- the HTML report ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def html_report(staged, tmp_path_factory):
    from typer.testing import CliRunner

    from tracer.cli import app

    out = tmp_path_factory.mktemp("html") / "report.html"
    result = CliRunner().invoke(app, ["--registry", str(staged["registry"]), "match",
                                      str(staged["leak"]), str(staged["foreign"]), "--report", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_html_report_names_the_account_and_the_files(html_report, staged):
    text = html_report.read_text(encoding="utf-8")
    assert "ACCUSED: bob" in text
    assert "Evidence against each accused account" in text
    for leak in (staged["leak"], staged["foreign"]):
        assert sha256(leak) in text
        assert str(leak.stat().st_size) in text
    assert "the chance that it would show evidence this strong is below" in text
    assert "<svg" in text and "Scores of all tested accounts" in text
    assert "Method" in text and "registry id" in text


def test_html_report_shows_canary_rows_with_their_export(html_report, staged):
    text = html_report.read_text(encoding="utf-8")
    for canary in staged["canaries"]:
        assert canary[RECIPIENT_PHONE] in text  # decoys are shown in full
    canary_table = text[text.index('<table class="canaries">'):]
    assert re.search(r"#\d+<br>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", canary_table)  # which export, when


def test_html_report_is_self_contained(html_report):
    text = html_report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"\bsrc\s*=", text)
    assert "Content-Security-Policy" in text


def test_masking_is_on_by_default_and_off_with_unmask(cli, staged, tmp_path):
    first = staged["first"]
    masked, unmasked = tmp_path / "masked.html", tmp_path / "unmasked.md"
    assert run_match(cli, staged, staged["leak"], "--report", masked).exit_code == 0
    assert run_match(cli, staged, staged["leak"], "--report", unmasked, "--unmask").exit_code == 0
    hidden = masked.read_text(encoding="utf-8")
    shown = unmasked.read_text(encoding="utf-8")
    phone_digits = re.sub(r"\D", "", first[RECIPIENT_PHONE])
    assert first[RECIPIENT_PHONE] not in hidden and phone_digits not in hidden
    assert first[RECIPIENT_NAME] not in hidden and first[1] not in hidden
    assert mask_phone(first[RECIPIENT_PHONE]) in hidden and mask_name(first[RECIPIENT_NAME]) in hidden
    assert first[RECIPIENT_PHONE] in shown and first[RECIPIENT_NAME] in shown
    for canary in staged["canaries"]:
        assert canary[RECIPIENT_PHONE] in hidden


# ---- the Markdown report -----------------------------------------------------------------------

def test_markdown_report_parses_with_files_table_and_figure(cli, staged, tmp_path):
    out = tmp_path / "report.md"
    result = run_match(cli, staged, staged["leak"], staged["foreign"], "--report", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    headings = md_headings(text)
    for heading in ("tracer: leak investigation report", "Evidence against each accused account", "bob",
                    "Scores of all tested accounts", "Leak files examined", "Match parameters", "Method"):
        assert heading in headings
    assert "**Verdict:** ACCUSED: bob" in text
    files = next(t for t in md_tables(text) if t[0][:2] == ["file", "SHA-256"])
    assert {row[0] for row in files[1:]} == {str(staged["leak"]), str(staged["foreign"])}
    assert {row[1].strip("`") for row in files[1:]} == {sha256(staged["leak"]), sha256(staged["foreign"])}
    for leak in (staged["leak"], staged["foreign"]):
        assert f"- SHA-256: `{sha256(leak)}`" in text.splitlines()
    figure = tmp_path / "report-scores.svg"
    assert "](report-scores.svg)" in text
    root = ET.parse(figure).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert any("bob" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report-scores.svg", "report.md"]  # no temp files


# ---- nobody accused ----------------------------------------------------------------------------

def test_unexported_rows_explain_why_nobody_is_accused(cli, staged, tmp_path):
    leak = write_csv(tmp_path / "from-database.csv", staged["header"], staged["rows"][600:900])
    out = tmp_path / "nobody.md"
    result = run_match(cli, staged, leak, "--report", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Nobody accused" in text
    assert "Why nobody is accused" in md_headings(text)
    assert "**What would help:**" in text


def test_foreign_data_explains_no_candidate(cli, staged, tmp_path):
    out = tmp_path / "foreign.html"
    result = run_match(cli, staged, staged["foreign"], "--report", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Why nobody is accused" in text
    assert "never exported through tracer (no candidate account)" in text
    assert "no account tested" in text  # the plot says so too


# ---- bad report paths --------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("report.pdf", "unsupported report format (.pdf); use .html or .md"),
    ("missing-dir/report.html", "does not exist"),
])
def test_bad_report_path_is_one_line_and_writes_nothing(cli, staged, tmp_path, name, message):
    out = tmp_path / name
    result = run_match(cli, staged, staged["leak"], "--report", out)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


# ---- units: escaping, masking, the plot at its extremes ----------------------------------------

def fake_verdict(accounts: list[tuple[str, float]], fpr: float = 1e-6) -> Verdict:
    candidates = [Suspect(account=name, account_id=i, p_value=p, log10_p_value=math.log10(max(p, 1e-320)),
                          p_marks=p, p_canaries=1.0, score=1.0,
                          canary_hits=0, marks_observed=100, marks_agreeing=60, records_in_leak=80,
                          exports=[ExportSeen(i, "2024-01-01T00:00:00+00:00", "src.csv", 80, 0)],
                          accused=p <= fpr)
                  for i, (name, p) in enumerate(accounts)]
    return Verdict(rows=100, fpr=fpr, files=[], candidates=candidates, accounts_registered=len(accounts),
                   positions_read=100, channels_erased=[])


def test_a_flipped_copy_is_reported_as_disagreeing(tmp_path):
    """The p-value is two-sided: a suspect convicted by marks that disagree with its codeword
    must not read as '3 of 100 agreeing' and nothing else."""
    verdict = fake_verdict([("flipper", 1e-12), ("other", 0.5)])
    verdict.candidates[0] = replace(verdict.candidates[0], marks_agreeing=3, marks_tail="disagree")
    for name in ("r.md", "r.html"):
        text = write_report(verdict, tmp_path / name).read_text(encoding="utf-8")
        assert "far more often than chance allows" in text and "3/100 (disagreeing)" in text
    plain = write_report(fake_verdict([("agreer", 1e-12)]), tmp_path / "p.md").read_text(encoding="utf-8")
    assert "far more often than chance allows" not in plain and "(disagreeing)" not in plain


def test_untrusted_text_is_escaped(tmp_path):
    verdict = fake_verdict([("<script>alert(1)</script>", 0.0), ("x|y*z_", 1.0)])
    html = write_report(verdict, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = write_report(verdict, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "<script>" not in md and r"x\|y\*z\_" in md
    ET.parse(tmp_path / "r-scores.svg")


@pytest.mark.parametrize("accounts", [
    [],
    [("only", 1.0)],
    [("zero", 0.0), ("tiny", 1e-250), ("edge", 1e-6), ("near", 2e-6)],
    [(f"acct-{i}", min(1.0, random.Random(i).random() * 3)) for i in range(5000)] + [("leaker", 1e-40)],
])
def test_plot_is_valid_svg_at_every_scale(accounts):
    svg = str(score_plot(fake_verdict(accounts), standalone=True))
    root = ET.fromstring(svg.split("\n", 1)[1])
    circles = list(root.iter("{http://www.w3.org/2000/svg}circle"))
    assert len(circles) <= len(accounts) and (not accounts or circles)
    assert len(svg) < 2_000_000


def test_masking_rules():
    assert mask_phone("13812345678") == "138******78"
    assert mask_phone("138-1234-5678") == "138-****-**78"
    assert mask_phone("+86 138 1234 5678") == "+86 138 **** **78"
    assert mask_name("郭桂芝") == "郭**" and mask_name("John Smith") == "J*** S****"
    assert mask_cell("email", "jane.doe@example.com") == "j***@example.com"
    assert mask_cell("address", "南京市 13812345678 收") == "南京市 138******78 收"
    assert mask_cell("id", "SF1234567890") == "SF1234567890"


def test_a_leak_file_gone_since_the_match_only_loses_its_preview(tmp_path):
    from tracer.columns import Column, Schema
    from tracer.leak_file import LeakFile

    schema = Schema((Column(0, "phone", "phone", None, 1.0, "header"),))
    verdict = fake_verdict([("alice", 0.5)])
    verdict.files = [LeakFile(str(tmp_path / "gone.csv"), "ab" * 32, 10, 3, 0, schema)]
    text = write_report(verdict, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "ab" * 32 in text and "could not be re-read" in text


def test_check_report_path_accepts_html_and_md(tmp_path):
    for name in ("a.html", "a.htm", "a.md", "A.MD"):
        assert check_report_path(tmp_path / name) == tmp_path / name


# ---- in a real browser -------------------------------------------------------------------------

def chromium() -> str:
    """The chromium binary; a skip where it is absent, a failure under CI (which must have it)."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("chromium is required under CI (apt-get install chromium)")
    pytest.skip("chromium not installed")


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LANG": "C.UTF-8"})


def test_html_report_renders_in_chromium(html_report, tmp_path):
    binary = chromium()
    url = html_report.resolve().as_uri()
    dom = run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "ACCUSED: bob" in dom.stdout
    assert re.search(r"<svg[^>]*class=\"scores\"", dom.stdout)
    assert "<circle" in dom.stdout
    assert "Uncaught" not in dom.stderr and "ERROR:CONSOLE" not in dom.stderr, dom.stderr[-2000:]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    run = run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,2000",
                       "--hide-scrollbars", url)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Uncaught" not in run.stderr and "ERROR:CONSOLE" not in run.stderr, run.stderr[-2000:]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # not a blank page
