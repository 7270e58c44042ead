"""The registry on SQLite against the registry on PostgreSQL: eight exporters at once, lookups at size, disk.

    python benchmarks/registry.py --postgres postgresql://user:pw@127.0.0.1:5432/postgres [--quick]

(or the server in TRACER_BENCH_POSTGRES).  The server URL is an administrator's: the benchmark makes
its own databases on it and drops them.  Measured, through the registry's interface only
(``Registry.record_export``, ``exposure_of``, ``disk_bytes``), so the figures are the engines', not
the CSV pipeline's:

* eight exporter processes, each registering exports of synthetic exposure digests (keyed-hash-like:
  uniform 64-bit) and a few canaries: exports/s and exposure rows/s over the wall time of all eight;
* 2,000-digest lookups (half exported, half not) at 10^6 and 10^7 exposure rows (``--quick``: 10^5
  and 10^6): the median of several lookups;
* bytes on disk per exposure row at the largest size;
* a projection for 10^10 exported records a year, with the anchors per record measured by exporting
  the bundled waybills once.

The machine is shared: compare the two engines within one run, not across runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracer import api  # noqa: E402
from tracer.demo import read_csv, write_csv  # noqa: E402
from tracer.errors import TracerError  # noqa: E402

EXPORTERS = 8
LOOKUP_DIGESTS = 2000
LOOKUP_REPEATS = 7
YEAR_RECORDS = 10**10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- places -----------------------------------------------------------------
class Places:
    """Fresh registries: a file in the work directory, or a database on the server (dropped at the end)."""

    def __init__(self, work: Path, server: str | None):
        self.work, self.server, self.made = work, server, []

    def new(self, engine: str, name: str) -> tuple[str, Path]:
        key = self.work / f"{name}-{engine}.key"
        if engine == "sqlite":
            return str(self.work / f"{name}.db"), key
        import psycopg

        database = f"tracer_bench_{name}_{secrets.token_hex(4)}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        self.made.append(database)
        return f"{self.server.rpartition('/')[0]}/{database}", key

    def drop(self) -> None:
        if not self.made:
            return
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            for database in self.made:
                conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def make_registry(location: str, key: Path, accounts: int) -> None:
    api.init(location, key)
    for i in range(accounts):
        api.add_account(location, f"exporter-{i}")


def register(registry, ring, account, digests: np.ndarray, canaries: dict[int, int]):
    """One export's registration, as ``export`` makes it, with given digests."""
    return registry.record_export(account, ring.current_id, ring.current, source="bench.csv",
                                  output="bench-out.csv", rows=len(digests), marked_cells=0,
                                  exposure=[digests[i:i + (1 << 16)] for i in range(0, len(digests), 1 << 16)],
                                  canary_rows=len(canaries), canaries=canaries)


def random_digests(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(-(2**63), 2**63 - 1, size=n, dtype=np.int64)


# ---- eight exporters -----------------------------------------------------------
def exporter(location: str, key: str, index: int, exports: int, rows: int, start, done) -> None:
    """One exporter process: waits for the start, registers its exports, reports its time."""
    registry, ring = api.open_with_key(location, key)
    with registry:
        account = registry.account(f"exporter-{index}")
        rng = np.random.default_rng(1000 + index)
        batches = [random_digests(rng, rows) for _ in range(exports)]
        canaries = [{int(d): 10**6 for d in random_digests(rng, max(1, rows // 70))} for _ in range(exports)]
        start.wait()
        failed = 0
        for digests, drawn in zip(batches, canaries):
            try:
                register(registry, ring, account, digests, drawn)
            except TracerError as exc:  # SQLite: the write lock waited for longer than its busy timeout
                log(f"  exporter {index}: {exc}")
                failed += 1
        done.put(failed)


def concurrent(places: Places, engine: str, exports: int, rows: int) -> dict[str, float]:
    location, key = places.new(engine, "concurrent")
    make_registry(location, key, EXPORTERS)
    start, done = multiprocessing.Event(), multiprocessing.Queue()
    processes = [multiprocessing.Process(target=exporter, args=(location, str(key), i, exports, rows, start, done))
                 for i in range(EXPORTERS)]
    for process in processes:
        process.start()
    time.sleep(2.0)  # every process has its connection and its digests ready
    t = time.perf_counter()
    start.set()
    for process in processes:
        process.join()
    wall = time.perf_counter() - t
    if any(p.exitcode for p in processes):
        raise SystemExit(f"an exporter process failed on {engine}")
    failed = sum(done.get() for _ in processes)
    problems, summary = api.check_registry(location, key)
    total = EXPORTERS * exports - failed
    if problems or summary["exports"] != total:  # a refused export leaves nothing; a registered one is whole
        raise SystemExit(f"{engine}: lost exports or a broken chain: {problems[:1]} {summary}")
    return {"exports/s": total / wall, "rows/s": total * rows / wall, "exports refused (lock timeout)": failed}


# ---- lookups at size ------------------------------------------------------------
def lookups(places: Places, engine: str, sizes: list[int]) -> dict[str, float]:
    """Fill one registry in exports of up to 10^6 digests; at each size time 2,000-digest lookups."""
    location, key = places.new(engine, "lookup")
    make_registry(location, key, 1)
    registry, ring = api.open_with_key(location, key)
    out: dict[str, float] = {}
    rng = np.random.default_rng(7)
    with registry:
        account = registry.account("exporter-0")
        stored, present = 0, np.empty(0, dtype=np.int64)
        t = time.perf_counter()
        for size in sizes:
            while stored < size:
                batch = random_digests(rng, min(10**6, size - stored))
                register(registry, ring, account, batch, {})
                stored += len(batch)
                present = batch[:LOOKUP_DIGESTS]
            log(f"  {engine}: {stored:,} exposure rows ({time.perf_counter() - t:.0f} s)")
            times = []
            for _ in range(LOOKUP_REPEATS):
                wanted = np.concatenate([rng.choice(present, LOOKUP_DIGESTS // 2, replace=False),
                                         random_digests(rng, LOOKUP_DIGESTS // 2)]).tolist()
                t0 = time.perf_counter()
                found = registry.exposure_of(wanted, ring.current_id)
                times.append(time.perf_counter() - t0)
                assert len(found) == LOOKUP_DIGESTS // 2
            out[f"lookup ms @ {size:.0e}"] = 1000 * statistics.median(times)
        out["bytes/row"] = registry.disk_bytes() / stored
    return out


# ---- the projection ----------------------------------------------------------------
def anchors_per_record(work: Path) -> float:
    """Exposure digests per exported record, from one real export of the bundled waybills."""
    header, rows = read_csv(ROOT / "fixtures" / "waybills.csv")
    registry = work / "anchors.db"
    api.init(registry)
    api.add_account(registry, "one")
    result = api.export(registry, write_csv(work / "w.csv", header, rows), account="one", output=work / "w-out.csv")
    return api.check_registry(registry)[1]["exposure"] / result.rows


def table(results: dict[str, dict[str, float]], per_record: float) -> str:
    engines = list(results)
    keys = [k for k in results[engines[0]]]
    lines = ["| | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    for k in keys:
        cells = [f"{results[e][k]:,.1f}" if results[e][k] < 1000 else f"{results[e][k]:,.0f}" for e in engines]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    rows_year = YEAR_RECORDS * per_record
    lines.append(f"| exposure rows for 10^10 records/year ({per_record:.2f} per record) | "
                 + " | ".join(f"{rows_year:.2e}" for _ in engines) + " |")
    lines.append("| disk per year, TB | " + " | ".join(
        f"{rows_year * results[e]['bytes/row'] / 1e12:,.2f}" for e in engines) + " |")
    lines.append("| loading a year at the 8-exporter rate, hours | " + " | ".join(
        f"{rows_year / results[e]['rows/s'] / 3600:,.1f}" for e in engines) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("TRACER_BENCH_POSTGRES"),
                        help="an administrator's URL of a PostgreSQL server (env TRACER_BENCH_POSTGRES)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for development")
    parser.add_argument("--work", type=Path, help="keep the work directory here")
    parser.add_argument("--engines", default="sqlite,postgresql", help="which engines, comma-separated")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("Error: name a PostgreSQL server: --postgres URL or TRACER_BENCH_POSTGRES")
    exports, rows = (4, 20_000) if args.quick else (10, 100_000)
    sizes = [10**5, 10**6] if args.quick else [10**6, 10**7]
    work = args.work or Path(tempfile.mkdtemp(prefix="tracer-registry-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    places = Places(work, args.postgres)
    results: dict[str, dict[str, float]] = {}
    try:
        per_record = anchors_per_record(work)
        for engine in args.engines.split(","):
            log(f"{engine}: {EXPORTERS} exporters x {exports} exports x {rows:,} digests")
            results[engine] = concurrent(places, engine, exports, rows)
            results[engine] |= lookups(places, engine, sizes)
            log(f"{engine}: {results[engine]}")
        print(table(results, per_record))
    finally:
        places.drop()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
