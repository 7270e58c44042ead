#!/usr/bin/env python
"""Speed benchmark: ``tracer export`` and ``tracer match`` against a plain copy of the same file.

Run:  python benchmarks/speed.py [--quick] [--rows 100000,200000,1000000] [--repeat 3] [--skip-1m] [--big]

Every timed thing runs as a whole process, as a user would run it, timed
wall-clock; its peak RSS is that process's own ``ru_maxrss`` (``os.wait4`` on
its pid).  Setup (generating inputs, 10,000 accounts, the leaks) is not timed.
Progress goes to stderr, the tables to stdout.  The exit status is 1 when a
SPEC target fails (the stretch target does not count).

Inputs
------
Ten-column Chinese waybills (``运单号 … 下单时间``).  ``fixtures/make_fixtures.py``'s
``make_waybills`` makes realistic rows but slowly (~160 µs/row), so it makes
``--base-rows`` (50,000) distinct rows once and the bench repeats them with
fresh waybill numbers and fresh phones: every copy of a base row gets a new
waybill number, and every distinct base phone a new one per copy (same
mobile segment, last eight digits from a keyed permutation), so waybill
numbers and phones stay unique over the whole file while a shop's phone still
recurs within a copy.  Names, addresses, items, weights and times are the
generator's.  The files of every size are prefixes of one sequence (the 100k
file is the first 100k rows of the 1M file).

What runs, per size (``--rows``)
--------------------------------
- plain copy: ``csv.reader`` -> ``csv.writer`` in a fresh ``python -c`` (utf-8, newline='');
- polars copy: ``pl.read_csv(src, infer_schema=False).write_csv(dst)`` (all
  strings), on ``--polars-threads`` threads (1 by default: the SPEC's export
  target is for one core);
- ``tracer export SRC --account A --output OUT --json`` into one registry that
  holds ``--accounts`` (10,000) accounts; every timed export is for another
  account, so the registry ends up holding several exports of the same records;
- ``tracer match LEAK --json`` where LEAK is the size's first export, shuffled
  and cut back to the size (some canaries fall out), matched against that
  registry; the verdict must name the exporting account.

Best of ``--repeat`` (3) for sizes below 1M, one run at 1M and above; the
rounds interleave plain / polars / export so that a burst of load from other
processes hits all three.  Peak RSS is the highest of the runs.

Then: an xlsx export of ``--xlsx-rows`` (100,000) rows (``--xlsx-repeat`` runs, 1 by
default: no target, measured only) beside a plain copy with
the same libraries (python-calamine read, xlsxwriter ``constant_memory``
write); the registry's growth per exported row and the projection for a
courier's year (10^10 records); and whether exposure lookups use an index:
``EXPLAIN QUERY PLAN`` of the SQL that the installed ``Registry.exposure_of``
(and ``canaries_of``, ``exported``) actually run, and the time to look 400,000
digests up in a registry filled through ``Registry.record_export`` with
synthetic digests (10^6 and 10^7 exposure rows; ``--big`` adds 10^8).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(FIXTURES))

import make_fixtures  # noqa: E402

import tracer  # noqa: E402
from tracer import api  # noqa: E402
from tracer.errors import TracerError  # noqa: E402

START = time.perf_counter()
MiB = 1024 * 1024
COURIER_YEAR = 10**10  # records a large courier handles in a year
LOOKUP_DIGESTS = 400_000  # digests looked up per timing: half present, half absent
BIG = 1_000_000  # sizes from here on run once

HEADER = make_fixtures.WAYBILL_HEADER


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f}s] {message}", file=sys.stderr, flush=True)


def fmt_rows(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1000
    return f"{n:.3g} PB"


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------


def permute(x: np.ndarray, half: int, seed: int, rounds: int = 4) -> np.ndarray:
    """A keyed bijection of [0, half**2) (a small Feistel network): distinct in, distinct out."""
    left, right = np.divmod(x.astype(np.int64), half)
    for r in range(rounds):
        k = (seed * 0x9E3779B1 + r * 0x85EBCA77) & 0xFFFFFFF
        f = ((right ^ k) * 2654435761 + k) % half
        left, right = right, (left + f) % half
    return left * half + right


class Waybills:
    """Ten-column waybills at any count: ``make_waybills`` rows, repeated with fresh ids and phones."""

    def __init__(self, base_rows: int, seed: int):
        t = time.perf_counter()
        self.base = make_fixtures.make_waybills(base_rows, seed, "YT", set())
        log(f"generated {base_rows:,} base waybills with make_fixtures.make_waybills "
            f"({(time.perf_counter() - t) / base_rows * 1e6:.0f} µs/row)")
        phones: dict[str, int] = {}
        for row in self.base:
            for col in (2, 5):
                phones.setdefault(row[col], len(phones))
        self.phone_index = [(phones[row[2]], phones[row[5]]) for row in self.base]
        self.segments = [p[:3] for p in phones]
        self.seed = seed

    def rows(self, n: int):
        """The first ``n`` rows of the sequence."""
        base, segments, count = self.base, self.segments, len(self.segments)
        copies = math.ceil(n / len(base))
        if copies * count > 10**8:
            raise SystemExit(f"{n:,} rows need more than 10^8 phones: raise --base-rows")
        ids = permute(np.arange(n, dtype=np.int64), 10**6, self.seed + 1)
        i = 0
        for copy in range(copies):
            last8 = permute(np.arange(copy * count, (copy + 1) * count, dtype=np.int64), 10**4, self.seed)
            phone = [f"{seg}{d:08d}" for seg, d in zip(segments, last8.tolist())]
            for row, (s, r) in zip(base, self.phone_index):
                if i >= n:
                    return
                yield [f"YT{7 + i % 3}{int(ids[i]):012d}", row[1], phone[s], row[3], row[4], phone[r],
                       *row[6:]]
                i += 1

    def write_csvs(self, paths: dict[int, Path]) -> None:
        """Every size's file in one pass (they are prefixes of one another)."""
        sizes = sorted(paths)
        handles = [open(paths[n], "w", encoding="utf-8", newline="") for n in sizes]
        writers = [csv.writer(h, lineterminator="\n") for h in handles]
        try:
            for w in writers:
                w.writerow(HEADER)
            live = list(zip(sizes, writers))
            for i, row in enumerate(self.rows(sizes[-1])):
                while live and live[0][0] <= i:
                    live.pop(0)
                for _, w in live:
                    w.writerow(row)
        finally:
            for h in handles:
                h.close()

    def write_xlsx(self, path: Path, n: int) -> None:
        import xlsxwriter

        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("waybills")
        sheet.write_row(0, 0, HEADER)
        weight = HEADER.index("重量(kg)")
        for r, row in enumerate(self.rows(n), start=1):
            for c, value in enumerate(row):
                if c == weight:
                    sheet.write_number(r, c, float(value))
                else:
                    sheet.write_string(r, c, value)
        book.close()


def write_leak(export: Path, leak: Path, n: int, seed: int) -> int:
    """The export shuffled and cut back to ``n`` rows (canaries may fall out)."""
    with open(export, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    random.Random(seed).shuffle(rows)
    rows = rows[:n]
    with open(leak, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return len(rows)


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

PLAIN_COPY = """
import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as src, open(sys.argv[2], "w", encoding="utf-8", newline="") as dst:
    csv.writer(dst, lineterminator="\\n").writerows(csv.reader(src))
"""

POLARS_COPY = """
import sys
import polars as pl
try:
    frame = pl.read_csv(sys.argv[1], infer_schema=False)
except TypeError:  # polars < 1.0
    frame = pl.read_csv(sys.argv[1], infer_schema_length=0)
frame.write_csv(sys.argv[2])
"""

XLSX_COPY = """
import sys
import xlsxwriter
from python_calamine import CalamineWorkbook
sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0)
book = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
out = book.add_worksheet()
for r, row in enumerate(sheet.iter_rows()):
    out.write_row(r, 0, row)
book.close()
"""

XLSX_COPY_OPENPYXL = """
import sys
import openpyxl, xlsxwriter
sheet = openpyxl.load_workbook(sys.argv[1], read_only=True).worksheets[0]
book = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
out = book.add_worksheet()
for r, row in enumerate(sheet.iter_rows(values_only=True)):
    out.write_row(r, 0, row)
book.close()
"""


@dataclass
class Run:
    seconds: float
    cpu: float
    rss_mb: float
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def error(self) -> str:
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}"


# The timed process is started by this small runner, not by the bench itself: Linux carries the
# peak RSS of a process's memory image over an exec (``signal->maxrss``), so a child forked from
# the bench (~100 MB of numpy, faker ...) would report at least the bench's size.  Forked from
# the runner (``python -I -S``, ~8 MB), it reports its own peak: floor ~8 MB.
RUNNER = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvpe(sys.argv[2], sys.argv[2:], os.environ)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
               "returncode": os.waitstatus_to_exitcode(status)}, out)
"""


def run_process(cmd: list[str], work: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end: wall-clock seconds, CPU seconds and peak RSS of that process alone."""
    out_path, err_path, result_path = work / ".stdout", work / ".stderr", work / ".result"
    result_path.unlink(missing_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", RUNNER, str(result_path), *cmd],
                              stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        outer = time.perf_counter() - t0
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    try:
        result = json.loads(result_path.read_text())
    except (OSError, ValueError):
        return Run(outer, 0.0, 0.0, proc.returncode or 1, stdout, stderr or "the runner failed")
    return Run(result["seconds"], result["cpu"], result["maxrss_kb"] / 1024, result["returncode"], stdout, stderr)


def tracer_command() -> list[str]:
    """The ``tracer`` installed beside this interpreter (the venv's), else ``python -m tracer``."""
    script = Path(sys.executable).parent / "tracer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tracer"]


def tracer_origin() -> str:
    where = Path(tracer.__file__).resolve().parent
    text = f"tracer {getattr(tracer, '__version__', '?')} from {where}"
    try:
        head = subprocess.run(["git", "-C", str(where), "log", "-1", "--format=%h %s"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        if head:
            text += f" (git {head[:70]}{', uncommitted changes' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        pass
    return text


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------


@dataclass
class Measure:
    rows: int
    what: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def good(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    @property
    def failed(self) -> Run | None:
        return next((r for r in self.runs if not r.ok), None)

    @property
    def seconds(self) -> float | None:
        return min((r.seconds for r in self.good), default=None)

    @property
    def rss_mb(self) -> float | None:
        return max((r.rss_mb for r in self.good), default=None)

    @property
    def cpu(self) -> float | None:
        best = min(self.good, key=lambda r: r.seconds, default=None)
        return best.cpu if best else None


@dataclass
class Growth:
    rows: int
    account: str
    bytes: int
    anchors: int | None


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    registry: Path
    tracer: list[str]
    measures: dict[tuple[str, int], Measure] = field(default_factory=dict)
    growth: list[Growth] = field(default_factory=list)
    rate: dict[str, float] = field(default_factory=dict)  # kind -> best seconds per row seen so far
    accounts_used: int = 0
    failures: list[str] = field(default_factory=list)

    def discard(self, path: Path) -> None:
        """Delete a file as soon as it has served (large inputs add up), unless --keep."""
        if not self.args.keep:
            path.unlink(missing_ok=True)

    def measure(self, what: str, rows: int) -> Measure:
        return self.measures.setdefault((what, rows), Measure(rows, what))

    def next_account(self) -> str:
        name = account_name(self.accounts_used)
        self.accounts_used += 1
        if self.accounts_used > self.args.accounts:
            raise SystemExit("more timed exports than accounts: raise --accounts")
        return name

    def estimate(self, kind: str, rows: int) -> None:
        if kind in self.rate:
            log(f"  tracer {kind} of {rows:,} rows: estimated {self.rate[kind] * rows:.0f} s "
                f"(from {self.rate[kind] * 1e6:.0f} µs/row measured so far)")

    def timed(self, kind: str, what: str, rows: int, cmd: list[str], env=None) -> Run:
        run = run_process(cmd, self.work, env)
        m = self.measure(what, rows)
        m.runs.append(run)
        if run.ok:
            per_row = run.seconds / rows
            self.rate[kind] = min(self.rate.get(kind, per_row), per_row)
            log(f"  {what} {fmt_rows(rows)}: {run.seconds:.2f} s, {rows / run.seconds:,.0f} rows/s, "
                f"peak {run.rss_mb:.0f} MB")
        else:
            log(f"  {what} {fmt_rows(rows)}: FAILED ({run.error()})")
            self.failures.append(f"{what} {fmt_rows(rows)}: {run.error()}")
        return run


def account_name(i: int) -> str:
    return f"acct-{i:05d}"


def registry_bytes(path: Path) -> int:
    """The registry's size on disk (its write-ahead log checkpointed into it), through its interface."""
    with api.open_registry(path) as registry:
        return registry.disk_bytes()


def export_anchors(path: Path, export_id: int) -> int | None:
    """Exposure digests the export registered (None when the registry cannot tell)."""
    try:
        with api.open_registry(path) as registry:
            return registry.exposure_counts().get(export_id)
    except TracerError:
        return None


def setup_registry(path: Path, accounts: int) -> None:
    """A registry with ``accounts`` accounts, added in-process (not timed)."""
    t = time.perf_counter()
    api.init(path)
    registry = api.open_registry(path)
    try:
        conn = find_connection(registry)
        if conn is not None:
            conn.execute("PRAGMA synchronous=OFF")  # setup only: no fsync per account
        for i in range(accounts):
            registry.add_account(account_name(i), note="speed bench")
    finally:
        registry.close()
    log(f"registry with {accounts:,} accounts ready ({time.perf_counter() - t:.1f} s)")


def find_connection(registry) -> sqlite3.Connection | None:
    conn = getattr(registry, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        return conn
    for value in vars(registry).values():
        if isinstance(value, sqlite3.Connection):
            return value
    return None


def csv_rounds(bench: Bench, n: int, src: Path, repeat: int) -> Path | None:
    """Plain copy, polars copy and tracer export of ``src``, interleaved; the first export's output."""
    work = bench.work
    polars_env = dict(os.environ)
    if bench.args.polars_threads > 0:
        polars_env["POLARS_MAX_THREADS"] = str(bench.args.polars_threads)
    first_output: Path | None = None
    for r in range(repeat):
        bench.timed("plain", "plain csv copy", n, [sys.executable, "-c", PLAIN_COPY, str(src), str(work / "copy.csv")])
        if bench.args.polars:
            bench.timed("polars", "polars copy", n,
                        [sys.executable, "-c", POLARS_COPY, str(src), str(work / "copy-polars.csv")], polars_env)
        account = bench.next_account()
        out = work / f"export-{n}-{r}.csv"
        if r == 0:
            bench.estimate("export", n)
        before = registry_bytes(bench.registry)
        run = bench.timed("export", "tracer export", n, bench.tracer + [
            "--registry", str(bench.registry), "export", str(src), "--account", account, "--output", str(out),
            "--json"])
        if run.ok:
            grown = registry_bytes(bench.registry) - before
            try:
                result = json.loads(run.stdout)
                anchors = export_anchors(bench.registry, int(result["export_id"]))
                bench.measure("tracer export", n).note = (f"{result.get('engine', '?')} engine, "
                                                          f"{result['canaries']} canaries, "
                                                          f"{result['marked_cells']:,} marked cells")
            except (ValueError, KeyError, TypeError):
                anchors = None
            bench.growth.append(Growth(n, account, grown, anchors))
            if first_output is None:
                first_output = out
            else:
                bench.discard(out)
        if bench.args.python_engine:
            out = work / f"export-{n}-{r}-python.csv"
            bench.timed("export-python", PYTHON_EXPORT, n, bench.tracer + [
                "--registry", str(bench.registry), "export", str(src), "--account", bench.next_account(),
                "--output", str(out), "--json"], python_env())
            bench.discard(out)
    for name in ("copy.csv", "copy-polars.csv"):
        bench.discard(work / name)
    return first_output


def match_rounds(bench: Bench, n: int, export: Path, account: str, repeat: int) -> None:
    leak = bench.work / f"leak-{n}.csv"
    t = time.perf_counter()
    rows = write_leak(export, leak, n, bench.args.seed + n)
    log(f"leak of {rows:,} rows from {account}'s export, shuffled ({time.perf_counter() - t:.1f} s, not timed)")
    bench.estimate("match", rows)
    m = bench.measure("tracer match", n)
    for _ in range(repeat):
        run = bench.timed("match", "tracer match", n, bench.tracer + [
            "--registry", str(bench.registry), "match", str(leak), "--json"])
        if not run.ok:
            continue
        try:
            verdict = json.loads(run.stdout)
            suspects = verdict.get("suspects", [])
            if suspects and suspects[0].get("account") == account:
                s = suspects[0]
                m.note = (f"{verdict.get('engine', '?')} engine, accused {account}, p={s.get('p_value'):.1e}, "
                          f"{s.get('canary_hits')} canaries, "
                          f"{s.get('marks_observed')} marks")
                if len(suspects) > 1:
                    m.note += f"; {len(suspects) - 1} more accused"
            else:
                m.note = f"WRONG VERDICT: {[s.get('account') for s in suspects]}, leaker {account}"
                bench.failures.append(f"tracer match {fmt_rows(n)}: {m.note}")
        except (ValueError, AttributeError, TypeError) as exc:
            m.note = f"unreadable --json output ({exc})"
    for _ in range(repeat if bench.args.python_engine else 0):
        bench.timed("match-python", PYTHON_MATCH, n, bench.tracer + [
            "--registry", str(bench.registry), "match", str(leak), "--json"], python_env())
    bench.discard(leak)


PYTHON_EXPORT = "export, python engine"
PYTHON_MATCH = "match, python engine"


def python_env() -> dict[str, str]:
    """The environment that forces tracer's pure-Python reference engine."""
    return {**os.environ, "TRACER_ENGINE": "python"}


def xlsx_rounds(bench: Bench, waybills: Waybills, n: int, repeat: int) -> None:
    src = bench.work / f"waybills-{n}.xlsx"
    t = time.perf_counter()
    waybills.write_xlsx(src, n)
    log(f"xlsx source of {n:,} rows written ({time.perf_counter() - t:.1f} s, not timed)")
    try:
        import python_calamine  # noqa: F401

        script, label = XLSX_COPY, "plain xlsx copy"
    except ImportError:
        script, label = XLSX_COPY_OPENPYXL, "plain xlsx copy"
        bench.measure(label, n).note = "openpyxl read (python-calamine not installed: pip install -e '.[bench]')"
    else:
        bench.measure(label, n).note = "python-calamine read, xlsxwriter constant_memory write"
    for r in range(repeat):
        bench.timed("xlsx-plain", label, n, [sys.executable, "-c", script, str(src), str(bench.work / "copy.xlsx")])
        if r == 0:
            bench.estimate("xlsx", n)
        out = bench.work / f"export-{n}.xlsx"
        bench.timed("xlsx", "tracer export xlsx", n, bench.tracer + [
            "--registry", str(bench.registry), "export", str(src), "--account", bench.next_account(),
            "--output", str(out), "--json"])
        bench.discard(out)
    bench.discard(bench.work / "copy.xlsx")
    bench.discard(src)


# --------------------------------------------------------------------------
# exposure lookups: the query plan and the time per 1k digests
# --------------------------------------------------------------------------

INDEXED = re.compile(r"\bSEARCH\b.*\bUSING\b.*\b(PRIMARY KEY|INDEX)\b", re.I)
SCAN = re.compile(r"\bSCAN\b", re.I)


@dataclass
class Plan:
    name: str
    sql: str
    details: list[str]

    @property
    def indexed(self) -> bool:
        return any(INDEXED.search(d) for d in self.details) and not any(SCAN.search(d) for d in self.details)


def lookup_plans(path: Path) -> list[Plan]:
    """``EXPLAIN QUERY PLAN`` of the SQL the installed Registry runs to look digests up."""
    registry = api.open_registry(path)
    plans: list[Plan] = []
    try:
        conn = find_connection(registry)
        if conn is None:
            return plans
        probes = {
            "exposure_of": lambda: registry.exposure_of([11, 22, 33], 1),
            "canaries_of": lambda: registry.canaries_of([11, 22, 33], 1),
            "exported": lambda: registry.exported(11),
        }
        for name, probe in probes.items():
            statements: list[str] = []
            conn.set_trace_callback(statements.append)
            try:
                probe()
            except AttributeError:
                continue  # the installed Registry has no such method
            finally:
                conn.set_trace_callback(None)
            for sql in statements:
                if sql.lstrip().upper().startswith(("SELECT", "WITH")) and re.search(
                        r"\b(exposure|exposure_blocks|canaries)\b", sql):  # exposure_blocks: SQLite's sorted runs
                    details = [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
                    plans.append(Plan(name, re.sub(r"\s+", " ", sql)[:90], details))
        if not any(re.search(r"\bexposure(_blocks)?\b", p.sql) for p in plans):
            # The probes read no exposure (a run's filter turns absent digests away before any block is read):
            # the queries the schema invites, the old table's and the runs' blocks'.
            for sql in ("SELECT digest, export_id FROM exposure WHERE digest IN (11, 22, 33)",
                        "SELECT digests, export_ids FROM exposure_blocks WHERE id IN (11, 22, 33)"):
                with contextlib.suppress(sqlite3.OperationalError):  # a registry before the runs has no blocks
                    plans.append(Plan("generic", sql, [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]))
    finally:
        registry.close()
    return plans


@dataclass
class Lookup:
    exposure_rows: int
    build_seconds: float
    file_bytes: int
    seconds: float
    digests: int
    found: int
    expected: int

    @property
    def ms_per_1k(self) -> float:
        return self.seconds / self.digests * 1e6


def lookup_timings(work: Path, stages: list[int], seed: int) -> list[Lookup]:
    """A registry filled through ``Registry.record_export`` with synthetic exposure digests,
    each export's digests random over the whole range; 400k digests looked up at each stage."""
    path = work / "lookup.db"
    api.init(path)
    api.add_account(path, "synthetic")
    registry, ring = api.open_with_key(path)
    out: list[Lookup] = []
    try:
        conn = find_connection(registry)
        if conn is not None:  # setup only: no fsync, a larger page cache while filling
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-262144")
        account = registry.account("synthetic")
        rng = np.random.default_rng(seed)
        per_export = 200_000
        sample: list[np.ndarray] = []
        done = 0
        build = 0.0
        for stage in stages:
            t = time.perf_counter()
            while done < stage:
                size = min(per_export, stage - done)
                digests = np.sort(rng.integers(-2**63, 2**63 - 1, size=size, dtype=np.int64))
                sample.append(rng.choice(digests, size=min(size, 4000), replace=False))
                registry.record_export(account, ring.current_id, ring.current, source="synthetic", output="synthetic", rows=size,
                                       marked_cells=0, canary_rows=0, canaries={},
                                       exposure=[digests[i:i + 50_000] for i in range(0, size, 50_000)])
                done += size
            build += time.perf_counter() - t
            if conn is not None:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pool = np.concatenate(sample)
            present = rng.choice(pool, size=min(len(pool), LOOKUP_DIGESTS // 2), replace=False)
            absent = rng.integers(-2**63, 2**63 - 1, size=LOOKUP_DIGESTS - len(present), dtype=np.int64)
            query = np.concatenate([present, absent])
            rng.shuffle(query)
            query_list = query.tolist()
            t = time.perf_counter()
            found = registry.exposure_of(query_list, ring.current_id)
            seconds = time.perf_counter() - t
            out.append(Lookup(done, build, path.stat().st_size, seconds, len(query_list), len(found), len(present)))
            log(f"  lookup: {len(query_list):,} digests against {done:,} exposure rows: {seconds:.2f} s "
                f"({out[-1].ms_per_1k:.2f} ms per 1k digests; filled in {build:.0f} s so far)")
    finally:
        registry.close()
    return out


# --------------------------------------------------------------------------
# the tables
# --------------------------------------------------------------------------


def print_table(title: str, columns: list[str], rows: list[list[str]], justify: list[str] | None = None) -> None:
    justify = justify or ["left"] * len(columns)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
        print(f"\n{title}")
        line = lambda cells: "  ".join(  # noqa: E731
            c.rjust(w) if j == "right" else c.ljust(w) for c, w, j in zip(cells, widths, justify))
        print(line(columns))
        print(line(["-" * w for w in widths]))
        for r in rows:
            print(line(r))
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    for c, j in zip(columns, justify):
        table.add_column(c, justify=j)
    for r in rows:
        style = "red" if "FAIL" in r else None
        table.add_row(*r, style=style)
    Console(width=None if sys.stdout.isatty() else 200, highlight=False).print(table)


TARGET = {"tracer export": 1.5, "tracer match": 2.0}  # × the plain copy (issue 15); stretch 1.0× both


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fx(value: float | None, spec: str = ".2f", suffix: str = "×") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("PASS" if ok else "FAIL")


def report(bench: Bench, sizes: list[int], xlsx_rows: int, plans: list[Plan], lookups: list[Lookup]) -> bool:
    m = bench.measures
    get = lambda what, n: m.get((what, n))  # noqa: E731
    secs = lambda what, n: get(what, n).seconds if get(what, n) else None  # noqa: E731

    # --- the main table ---------------------------------------------------
    rows = []
    order = ["plain csv copy", "polars copy", "tracer export", PYTHON_EXPORT, "tracer match", PYTHON_MATCH]
    for n in sizes:
        plain, polars = secs("plain csv copy", n), secs("polars copy", n)
        for what in order:
            x = get(what, n)
            if x is None:
                continue
            s = x.seconds
            target, ok = "", None
            if what in ("tracer export", "tracer match"):
                limit = TARGET[what]
                target = f"≤ {limit}× plain (stretch 1.0×)"
                ok = None if s is None or plain is None else s <= limit * plain
                if what == "tracer export" and polars:
                    target += "; stretch ≤ 2× polars"
            failed = x.failed
            note = x.note if s is not None else f"failed: {failed.error() if failed else '?'}"
            rows.append([fmt_rows(n), what, fx(s, ".2f", ""), fx(x.cpu, ".2f", ""),
                         "–" if s is None else f"{n / s:,.0f}", fx(ratio(s, plain)), fx(ratio(s, polars)),
                         fx(x.rss_mb, ".0f", ""), target, verdict(ok), note])
    for what in ("plain xlsx copy", "tracer export xlsx"):
        x = get(what, xlsx_rows)
        if x is None:
            continue
        s, base = x.seconds, secs("plain xlsx copy", xlsx_rows)
        rows.append([fmt_rows(xlsx_rows), what, fx(s, ".2f", ""), fx(x.cpu, ".2f", ""),
                     "–" if s is None else f"{xlsx_rows / s:,.0f}", fx(ratio(s, base)), "–",
                     fx(x.rss_mb, ".0f", ""), "measured" if what.startswith("tracer") else "",
                     "–", x.note if s is not None else f"failed: {x.failed.error() if x.failed else '?'}"])
    print_table(
        "Speed (wall-clock seconds, best of the runs; the xlsx rows' ratio is against the plain xlsx copy)",
        ["rows", "what", "seconds", "cpu s", "rows/s", "× plain", "× polars", "peak RSS MB", "target", "",
         "note"],
        rows, ["right", "left", "right", "right", "right", "right", "right", "right", "left", "left", "left"])

    # --- targets ----------------------------------------------------------
    targets: list[list[str]] = []
    failed = False
    target_sizes = [n for n in sizes if n >= 200_000] or sizes[-1:]
    quick = "" if any(n >= 200_000 for n in sizes) else " (smaller than the SPEC's sizes)"

    def add(what: str, measured: str, target: str, ok: bool | None, counts: bool = True) -> None:
        nonlocal failed
        if ok is False and counts:
            failed = True
        targets.append([what, measured, target, verdict(ok) + ("" if counts or ok is None else " (stretch)")])

    for n in target_sizes:
        s, plain, polars = secs("tracer export", n), secs("plain csv copy", n), secs("polars copy", n)
        r = ratio(s, plain)
        add(f"tracer export, {fmt_rows(n)} waybills (CSV){quick}", fx(r) + " plain copy",
            f"≤ {TARGET['tracer export']}× plain copy", None if r is None else r <= TARGET["tracer export"])
        add(f"tracer export, {fmt_rows(n)} waybills (CSV){quick}", fx(r) + " plain copy", "stretch: ≤ 1.0× plain copy",
            None if r is None else r <= 1.0, counts=False)
        rpy = ratio(secs(PYTHON_EXPORT, n), plain)
        if rpy is not None:
            add(f"tracer export, python engine, {fmt_rows(n)} waybills (CSV){quick}", fx(rpy) + " plain copy",
                "measured", None)
        rp = ratio(s, polars)
        if polars is not None:
            add(f"tracer export, {fmt_rows(n)} waybills (CSV){quick}", fx(rp) + " polars copy",
                "stretch: ≤ 2× polars copy", None if rp is None else rp <= 2.0, counts=False)
    match_size = 200_000 if 200_000 in sizes else sizes[-1]
    s, plain = secs("tracer match", match_size), secs("plain csv copy", match_size)
    r = ratio(s, plain)
    add(f"tracer match, {fmt_rows(match_size)}-row leak, {bench.args.accounts:,} accounts"
        + ("" if match_size == 200_000 else " (not the SPEC's 200k)"),
        fx(r) + " plain copy", f"≤ {TARGET['tracer match']}× plain copy",
        None if r is None else r <= TARGET["tracer match"])
    rpy = ratio(secs(PYTHON_MATCH, match_size), plain)
    if rpy is not None:
        add(f"tracer match, python engine, {fmt_rows(match_size)}-row leak", fx(rpy) + " plain copy", "measured", None)
    low = 100_000 if 100_000 in sizes and sizes[-1] > 100_000 else sizes[0]
    high = sizes[-1]
    for what in ("tracer export", "tracer match"):
        a, b = get(what, low), get(what, high)
        ra = ratio(b.rss_mb if b else None, a.rss_mb if a else None)
        label = f"peak memory, {what.split()[1]}: {fmt_rows(high)} vs {fmt_rows(low)} rows"
        if (low, high) != (100_000, 1_000_000):
            label += " (SPEC: 1M vs 100k)"
        add(label, f"{fx(b.rss_mb if b else None, '.0f', ' MB')} / {fx(a.rss_mb if a else None, '.0f', ' MB')} = "
            f"{fx(ra)}", "≤ 1.2×", None if ra is None or low == high else ra <= 1.2)

    per_row = {}
    for g in bench.growth:
        per_row.setdefault(g.rows, []).append(g.bytes / g.rows)
    if per_row:
        largest = max(per_row)
        bpr = statistics.median(per_row[largest])
        add(f"registry growth per exported row ({fmt_rows(largest)}-row exports)", f"{bpr:.1f} B/row",
            "measured", None)
        add(f"registry for a courier's year (10^{round(math.log10(COURIER_YEAR))} exported records)",
            fmt_bytes(bpr * COURIER_YEAR), "projected", None)
    if plans:
        exposure = [p for p in plans if re.search(r"\bexposure(_blocks)?\b", p.sql)] or plans
        add("exposure lookups indexed (EXPLAIN QUERY PLAN)", "; ".join(sorted({d for p in exposure for d in p.details})),
            "SEARCH … USING PRIMARY KEY / INDEX", all(p.indexed for p in exposure))
        others = [p for p in plans if p not in exposure]
        if others:
            add("canary lookups indexed (EXPLAIN QUERY PLAN)",
                "; ".join(sorted({d for p in others for d in p.details})), "SEARCH … USING PRIMARY KEY / INDEX",
                all(p.indexed for p in others))
    for lk in lookups:
        ok = lk.found >= lk.expected
        add(f"exposure lookup, {lk.digests:,} digests in a registry of {lk.exposure_rows:,} exposure rows",
            f"{lk.ms_per_1k:.2f} ms per 1k digests ({lk.found:,} found of {lk.expected:,} present)",
            "measured", None if ok else False)
    x, base = secs("tracer export xlsx", xlsx_rows), secs("plain xlsx copy", xlsx_rows)
    if x is not None or base is not None:
        add(f"xlsx export, {fmt_rows(xlsx_rows)} rows", f"{fx(ratio(x, base))} plain xlsx copy", "measured", None)
    for f in bench.failures:
        add("error", f, "no error", False)
    print_table("Targets (SPEC)", ["what", "measured", "target", ""], targets)

    # --- registry growth and lookups, in detail ----------------------------
    if bench.growth:
        rows = []
        for g in bench.growth:
            rows.append([fmt_rows(g.rows), g.account, fmt_bytes(g.bytes), f"{g.bytes / g.rows:.1f}",
                         "–" if g.anchors is None else f"{g.anchors:,}",
                         "–" if not g.anchors else f"{g.bytes / g.anchors:.1f}"])
        print_table("Registry growth per export (file size after a WAL checkpoint)",
                    ["rows", "account", "grown", "B/row", "exposure digests", "B/digest"], rows,
                    ["right", "left", "right", "right", "right", "right"])
    if plans:
        print_table("Query plans of the installed registry's lookups", ["method", "SQL", "plan", ""],
                    [[p.name, p.sql, "; ".join(p.details), verdict(p.indexed)] for p in plans])
    if lookups:
        print_table(f"Exposure lookups ({LOOKUP_DIGESTS:,} digests, half present)",
                    ["exposure rows", "file", "filled in", "lookup s", "ms per 1k digests"],
                    [[f"{lk.exposure_rows:,}", fmt_bytes(lk.file_bytes), f"{lk.build_seconds:.0f} s",
                      f"{lk.seconds:.2f}", f"{lk.ms_per_1k:.2f}"] for lk in lookups],
                    ["right"] * 5)
    return failed


# --------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        scale = 1
        if part.endswith("k"):
            part, scale = part[:-1], 1000
        elif part.endswith("m"):
            part, scale = part[:-1], 1_000_000
        out.append(int(float(part) * scale))
    return sorted(set(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=parse_sizes, default=None,
                        help="comma-separated sizes, e.g. 100k,200k,1M (default; --quick: 20k,100k)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per size below 1M, best taken (default 3; --quick: 1)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20k and 100k rows, one run each, 20k xlsx rows, lookups up to 10^6")
    parser.add_argument("--skip-1m", action="store_true", help="leave out sizes of 1M rows and more")
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts registered (default 10,000)")
    parser.add_argument("--xlsx-rows", type=int, default=None, help="rows of the xlsx export (default 100k; 0: skip)")
    parser.add_argument("--xlsx-repeat", type=int, default=1, help="runs of the xlsx pair, best taken (default 1)")
    parser.add_argument("--lookup-rows", type=int, default=None,
                        help="exposure rows of the synthetic lookup registry (default 10^7; --quick 10^6; 0: skip)")
    parser.add_argument("--big", action="store_true", help="lookup registry up to 10^8 exposure rows (~1.5 GB)")
    parser.add_argument("--base-rows", type=int, default=50_000, help="distinct rows made by make_waybills")
    parser.add_argument("--polars-threads", type=int, default=1,
                        help="POLARS_MAX_THREADS for the polars copy (default 1; 0: polars' own default)")
    parser.add_argument("--no-polars", dest="polars", action="store_false", help="skip the polars copy")
    parser.add_argument("--seed", type=int, default=7, help="seed of the inputs and leaks")
    parser.add_argument("--no-python-engine", dest="python_engine", action="store_false",
                        help="skip the runs forced onto the pure-Python engine (TRACER_ENGINE=python)")
    parser.add_argument("--workdir", type=Path, default=None, help="work in a new directory under this one")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (inputs, registry, key)")
    args = parser.parse_args()

    sizes = args.rows or ([20_000, 100_000] if args.quick else [100_000, 200_000, 1_000_000])
    if args.skip_1m:
        sizes = [n for n in sizes if n < 1_000_000]
    if not sizes:
        parser.error("no sizes left to run")
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    xlsx_rows = args.xlsx_rows if args.xlsx_rows is not None else (20_000 if args.quick else 100_000)
    top = args.lookup_rows if args.lookup_rows is not None else (
        10**8 if args.big else 10**6 if args.quick else 10**7)
    stages = [s for s in (10**5, 10**6, 10**7, 10**8) if s < top and s >= top // 100] + [top] if top else []
    if args.polars:
        try:
            import polars  # noqa: F401
        except ImportError:
            log("polars is not installed (pip install -e '.[bench]'): no polars copy")
            args.polars = False

    os.environ.pop("TRACER_KEY", None)  # the key file beside the registry, for this process and its children
    os.environ.pop("TRACER_REGISTRY", None)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tracer-speed-", dir=args.workdir))
    log(f"work directory {work}{' (kept)' if args.keep else ''}")
    bench = Bench(args, work, work / "bench.db", tracer_command())

    load = os.getloadavg()
    print(f"tracer speed bench: {tracer_origin()}")
    print(f"command: {' '.join(bench.tracer)}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} at start; sizes {', '.join(fmt_rows(n) for n in sizes)}; "
          f"best of {repeat} below 1M, 1 run from 1M; polars on "
          f"{args.polars_threads or 'its default number of'} thread(s)")
    try:
        waybills = Waybills(min(args.base_rows, max(sizes + [xlsx_rows])), args.seed)
        sources = {n: work / f"waybills-{n}.csv" for n in sizes}
        t = time.perf_counter()
        waybills.write_csvs(sources)
        log(f"inputs written: {', '.join(f'{fmt_rows(n)} ({fmt_bytes(p.stat().st_size)})' for n, p in sources.items())}"
            f" in {time.perf_counter() - t:.1f} s")
        setup_registry(bench.registry, args.accounts)

        exports: dict[int, tuple[Path, str]] = {}
        for n in sizes:
            log(f"{fmt_rows(n)} rows: plain copy, polars copy, tracer export")
            first_account = account_name(bench.accounts_used)
            output = csv_rounds(bench, n, sources[n], repeat if n < BIG else 1)
            if output is not None:
                exports[n] = (output, first_account)
        for n in sizes:
            if n not in exports:
                log(f"{fmt_rows(n)} rows: no export, so no leak to match")
                continue
            log(f"{fmt_rows(n)} rows: tracer match")
            match_rounds(bench, n, exports[n][0], exports[n][1], repeat if n < BIG else 1)
            bench.discard(exports[n][0])
        for n in sizes:
            bench.discard(sources[n])
        if xlsx_rows:
            log(f"xlsx, {fmt_rows(xlsx_rows)} rows: plain xlsx copy, tracer export")
            xlsx_rounds(bench, waybills, xlsx_rows, args.xlsx_repeat)

        log("exposure lookups: query plans")
        plans: list[Plan] = []
        try:
            plans = lookup_plans(bench.registry)
        except Exception as exc:  # noqa: BLE001 - the registry's API may have moved on
            bench.failures.append(f"query plans: {type(exc).__name__}: {exc}")
        lookups: list[Lookup] = []
        if stages:
            log(f"exposure lookups: synthetic registry of {', '.join(f'{s:,}' for s in stages)} exposure rows")
            try:
                lookups = lookup_timings(work, stages, args.seed)
            except Exception as exc:  # noqa: BLE001
                bench.failures.append(f"lookup registry: {type(exc).__name__}: {exc}")
            for suffix in ("", "-wal", "-shm"):
                bench.discard(work / f"lookup.db{suffix}")

        failed = report(bench, sizes, xlsx_rows, plans, lookups)
        log(f"done in {time.perf_counter() - START:.0f} s")
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
