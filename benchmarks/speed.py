#!/usr/bin/env python
"""Speed benchmark: ``tracer export`` and ``tracer match`` against a plain copy of the same file.

Run:  python benchmarks/speed.py [--quick] [--rows 100000,200000,1000000] [--repeat 3] [--skip-1m] [--big]

Every timed thing runs as a whole process, as a user would run it, timed
wall-clock; its peak RSS is that process's own ``ru_maxrss`` (``os.wait4`` on
its pid).  Setup (generating inputs, 10,000 accounts, the leaks) is not timed.
The tracer package's bytecode is compiled first, as installing a wheel does
(``speed_runs.compile_bytecode``).
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
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from speed_inputs import Waybills  # noqa: E402
from speed_lookup import Lookup, Plan, lookup_plans, lookup_timings  # noqa: E402
from speed_report import report  # noqa: E402
from speed_rounds import Bench, account_name, csv_rounds, match_rounds, setup_registry, xlsx_rounds  # noqa: E402
from speed_runs import START, compile_bytecode, fmt_bytes, fmt_rows, log, tracer_command, tracer_origin  # noqa: E402

BIG = 1_000_000  # sizes from here on run once


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
    compiled = compile_bytecode()
    print(f"tracer speed bench: {tracer_origin()}{'' if compiled else ' (its bytecode could not be compiled)'}")
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
