"""The speed bench's rounds: a registry of many accounts, then plain copy, export and match of each size
interleaved, and the xlsx pair."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from speed_inputs import Waybills, write_leak
from speed_runs import (PLAIN_COPY, POLARS_COPY, XLSX_COPY, XLSX_COPY_OPENPYXL, Growth, Measure, Run, fmt_rows, log,
                        run_process)

from tracer import api
from tracer.errors import TracerError


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

