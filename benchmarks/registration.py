"""Registration against a plain csv copy of the same rows, as the registry grows (issue 15, point 4).

    python benchmarks/registration.py [--rows 200000] [--sizes 0,1e6,1e7] [--legacy] [--postgres URL] [--no-runs]
                                      [--compact]

One run, ratios within it (the machine is shared).  The plain copy is
``csv.reader`` -> ``csv.writer`` of ``--rows`` ten-column waybills (speed.py's
generator), in this process, best of three.  A registration is
``Registry.record_export`` of one export of those rows: ``rows x anchors``
exposure digests (anchors per record measured by exporting the bundled
waybills; keyed-hash-like, uniform 64-bit) and ``rows / 70`` canaries, into a
registry already holding each of ``--sizes`` exposure rows.  The registry is
filled by exactly such registrations, so every fill is measured too; the table
gives, per size, the median of the registrations made at that size, the
slowest (a merge of runs falls on some) and the mean of every registration
from the empty registry to that size (merges amortized), as ratios to the copy, the write-ahead log it wrote, and a 2,000-digest lookup
(half present) with whether its query plan is indexed.

``--legacy`` runs the same on the rows-in-a-B-tree store of schema 4 (the
exposure table, ``executemany`` of sorted digests) beside it; ``--postgres``
adds the server engine (an administrator's URL: a database is made and
dropped).  ``--compact`` ends each store's run with ``Registry.compact``
(``tracer registry compact``) at the largest size: its time, and a lookup
before and after it, both cold (a fresh process's first lookup, which reads
every run's fences and filter) and warm.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import registry as registry_bench  # noqa: E402
import speed_inputs  # noqa: E402
from speed_lookup import INDEXED, SCAN  # noqa: E402

from tracer import api  # noqa: E402
from tracer.registry.store import SqliteRegistry  # noqa: E402

LOOKUP = 2000
CANARY_EVERY = 70


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_waybills(work: Path, rows: int) -> Path:
    src = work / "waybills.csv"
    speed_inputs.Waybills(min(rows, 20_000), seed=11).write_csvs({rows: src})
    return src


def plain_copy_seconds(src: Path, repeat: int = 1) -> float:
    dst = src.with_name("copy.csv")
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        with open(src, encoding="utf-8", newline="") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
            csv.writer(fout, lineterminator="\n").writerows(csv.reader(fin))
        best = min(best, time.perf_counter() - t)
    return best


class LegacyRegistry(SqliteRegistry):
    """Schema 4's write path, for comparison: one (digest, export_id) row per anchor in the exposure B-tree."""

    def _load_exposure(self, export_id, chunks):
        self.legacy = True  # read the table too
        anchors = 0
        for chunk in chunks:
            cur = self.conn.executemany("INSERT OR IGNORE INTO exposure(digest, export_id) VALUES (?, ?)",
                                        zip(np.unique(np.asarray(chunk, dtype=np.int64)).tolist(), repeat(export_id)))
            anchors += cur.rowcount
        return anchors


@dataclass
class Stage:
    size: int  # exposure rows before the registrations counted here
    copy: float  # the plain copy's seconds, timed beside these registrations
    seconds: list[float] = field(default_factory=list)
    wal: list[int] = field(default_factory=list)
    amortized: float = 0.0  # the mean of every registration from the empty registry to here, merges and all
    lookup_ms: float = 0.0
    found: int = 0
    indexed: bool | None = None


@dataclass
class Compacted:
    size: int
    copy: float
    seconds: float
    runs: tuple[int, int]
    cold_ms: tuple[float, float]  # a fresh registry object's first lookup, before and after
    warm_ms: tuple[float, float]


def wal_bytes(location: str) -> int:
    wal = Path(f"{location}-wal")
    return wal.stat().st_size if wal.exists() else 0


def checkpoint(registry) -> None:
    conn = getattr(registry, "conn", None)
    if isinstance(conn, __import__("sqlite3").Connection):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def plan_indexed(registry, digests: list[int], key_id: int) -> bool | None:
    """Whether every statement the lookup ran against exposure searches an index (SQLite only)."""
    conn = getattr(registry, "conn", None)
    if not hasattr(conn, "set_trace_callback"):
        return None
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        registry.exposure_of(digests, key_id)
    finally:
        conn.set_trace_callback(None)
    plans = [[row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)] for sql in statements
             if re.search(r"\bexposure(_blocks)?\b", sql) and sql.lstrip().upper().startswith("SELECT")]
    return bool(plans) and all(any(INDEXED.search(d) for d in p) and not any(SCAN.search(d) for d in p)
                               for p in plans)


def run_engine(location: str, key: Path, engine: type | None, rows: int, anchors: float, sizes: list[int],
               seed: int, src: Path, compact: bool = False) -> list[Stage | Compacted]:
    registry_bench.make_registry(location, key, 1)
    registry, ring = api.open_with_key(location, key)
    if engine is not None:
        registry.close()
        registry = engine._open(Path(location))
    rng = np.random.default_rng(seed)
    per_export = int(rows * anchors)
    stages, stored, present, every = [], 0, np.empty(0, dtype=np.int64), []
    with registry:
        account = registry.account("exporter-0")
        for size in sizes:
            while stored + per_export <= size:  # fill up to the size (each fill measured at its own size)
                stored += register(registry, ring, account, rng, rows, per_export, None, every=every)
            stage = Stage(stored, float("inf"))
            for _ in range(3):  # the copy and a registration in turn: the same load on both
                stage.copy = min(stage.copy, plain_copy_seconds(src))
                digests = registry_bench.random_digests(rng, per_export)
                present = digests[:LOOKUP]
                stored += register(registry, ring, account, rng, rows, per_export, stage, digests, every)
            stage.amortized = statistics.mean(every)
            wanted = np.concatenate([rng.choice(present, LOOKUP // 2, replace=False),
                                     registry_bench.random_digests(rng, LOOKUP // 2)]).tolist()
            times = []
            for _ in range(5):
                t = time.perf_counter()
                stage.found = len(registry.exposure_of(wanted, ring.current_id))
                times.append(time.perf_counter() - t)
            stage.lookup_ms = 1000 * statistics.median(times)
            stage.indexed = plan_indexed(registry, wanted, ring.current_id)
            stages.append(stage)
            log(f"  {location.rpartition('/')[2]}: {stage.size:,} rows: registration "
                f"{statistics.median(stage.seconds):.3f} s (max {max(stage.seconds):.3f}),"
                f" lookup {stage.lookup_ms:.1f} ms")
    if compact:
        stages.append(compaction(location, key, engine, stored, wanted, src))
    return stages


def lookup_ms(registry, wanted: list[int], key_id: int) -> tuple[float, float]:
    """A lookup's milliseconds on a registry just opened (its runs' indexes read), then the median of 5 more."""
    times = []
    for _ in range(6):
        t = time.perf_counter()
        registry.exposure_of(wanted, key_id)
        times.append(time.perf_counter() - t)
    return 1000 * times[0], 1000 * statistics.median(times[1:])


def compaction(location: str, key: Path, engine: type | None, size: int, wanted: list[int], src: Path) -> Compacted:
    def opened():
        registry, ring = api.open_with_key(location, key)
        if engine is not None:
            registry.close()
            registry = engine._open(Path(location))
        return registry, ring

    registry, ring = opened()
    with registry:
        before = lookup_ms(registry, wanted, ring.current_id)
        copy = plain_copy_seconds(src)
        t = time.perf_counter()
        done = registry.compact()
        seconds = time.perf_counter() - t
    registry, ring = opened()
    with registry:
        after = lookup_ms(registry, wanted, ring.current_id)
    runs = (done.runs_before, done.runs_after) if done else (0, 0)
    log(f"  compact at {size:,} rows: {seconds:.1f} s, runs {runs[0]} -> {runs[1]},"
        f" lookup cold {before[0]:.1f} -> {after[0]:.1f} ms, warm {before[1]:.1f} -> {after[1]:.1f} ms")
    return Compacted(size, copy, seconds, runs, (before[0], after[0]), (before[1], after[1]))


def register(registry, ring, account, rng, rows: int, per_export: int, stage: Stage | None,
             digests: np.ndarray | None = None, every: list[float] | None = None) -> int:
    digests = registry_bench.random_digests(rng, per_export) if digests is None else digests
    canaries = {int(d): 10**6 for d in registry_bench.random_digests(rng, max(1, rows // CANARY_EVERY))}
    checkpoint(registry)
    t = time.perf_counter()
    registry_bench.register(registry, ring, account, digests, canaries)
    seconds = time.perf_counter() - t
    if every is not None:
        every.append(seconds)
    if stage is not None:
        stage.seconds.append(seconds)
        stage.wal.append(wal_bytes(str(registry.path)) if isinstance(registry.path, Path) else 0)
    return per_export


def report(rows: int, anchors: float, results: dict[str, list[Stage]]) -> None:
    print(f"\nRegistration of one {rows:,}-row export ({int(rows * anchors):,} exposure digests, {anchors:.2f} per row;"
          f" {rows // CANARY_EVERY:,} canaries) against a plain csv copy of the same rows, timed in turn with it\n")
    print("| store | registry size (exposure rows) | plain copy | registration, median | × plain copy |"
          " slowest × copy | amortized × copy | µs per digest | WAL per digest | 2,000-digest lookup |"
          " plan indexed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    compactions = [(name, s) for name, stages in results.items() for s in stages if isinstance(s, Compacted)]
    for name, stages in results.items():
        for s in stages:
            if isinstance(s, Compacted):
                continue
            med, copy_s = statistics.median(s.seconds), s.copy
            wal = statistics.median(s.wal) / (rows * anchors)
            print(f"| {name} | {s.size:,} | {copy_s:.3f} s | {med:.3f} s | {med / copy_s:.2f}× |"
                  f" {max(s.seconds) / copy_s:.2f}× | {s.amortized / copy_s:.2f}× |"
                  f" {med / (rows * anchors) * 1e6:.2f} | {f'{wal:.0f} B' if wal else '–'} | {s.lookup_ms:.1f} ms ({s.found} found) |"
                  f" {'–' if s.indexed is None else 'yes' if s.indexed else 'NO'} |")
    report_compactions(compactions)


def report_compactions(compactions: list[tuple[str, Compacted]]) -> None:
    if not compactions:
        return
    print("\n`Registry.compact` at the largest size, and a 2,000-digest lookup before -> after it\n")
    print("| store | exposure rows | compact | × plain copy | runs | lookup, cold | lookup, warm |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, c in compactions:
        print(f"| {name} | {c.size:,} | {c.seconds:.1f} s | {c.seconds / c.copy:.1f}× | {c.runs[0]} -> {c.runs[1]} |"
              f" {c.cold_ms[0]:.1f} -> {c.cold_ms[1]:.1f} ms | {c.warm_ms[0]:.1f} -> {c.warm_ms[1]:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--sizes", default="0,1e6,1e7", help="registry sizes in exposure rows, comma-separated")
    parser.add_argument("--legacy", action="store_true", help="the schema-4 B-tree store beside it (slow at 1e7+)")
    parser.add_argument("--no-runs", action="store_true", help="leave out SQLite's sorted runs (the other stores only)")
    parser.add_argument("--postgres", default=os.environ.get("TRACER_BENCH_POSTGRES"),
                        help="an administrator's URL of a PostgreSQL server: its engine too")
    parser.add_argument("--compact", action="store_true", help="compact at the largest size; lookups before/after")
    args = parser.parse_args()
    sizes = [int(float(x)) for x in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="tracer-registration-"))
    places = registry_bench.Places(work, args.postgres)
    try:
        anchors = registry_bench.anchors_per_record(work)
        src = write_waybills(work, args.rows)
        log(f"plain csv copy of {args.rows:,} rows: {plain_copy_seconds(src, 3):.3f} s; {anchors:.2f} anchors per row")
        engines = [] if args.no_runs else [("sqlite runs", "sqlite", None)]
        engines += [("sqlite B-tree (schema 4)", "sqlite", LegacyRegistry)] if args.legacy else []
        engines += [("postgresql", "postgresql", None)] if args.postgres else []
        results = {}
        for i, (name, engine, cls) in enumerate(engines):
            location, key = places.new(engine, f"reg{i}")
            results[name] = run_engine(location, key, cls, args.rows, anchors, sizes, seed=5, src=src,
                                       compact=args.compact)
        report(args.rows, anchors, results)
    finally:
        places.drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
