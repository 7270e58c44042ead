#!/usr/bin/env python
"""What a canary costs inside ``tracer export``: cProfile's cumulative time of ``make_canary`` per canary.

Run:  python benchmarks/canary_cost.py [--rows 200000] [--base-rows 50000] [--repeat 1]

The input is ``benchmarks/speed.py``'s waybills (``make_waybills`` rows repeated
with fresh waybill numbers and phones).  Three things run as whole processes,
one after the other, ``--repeat`` rounds interleaved (best of each kept):

- a plain ``csv`` copy of the file (``speed_runs.PLAIN_COPY``);
- ``tracer export`` of it, unprofiled: its ratio to the plain copy;
- the same export in a process of its own whose ``make_canary`` is wrapped
  in a CPU timer (``time.thread_time``: the CPU this thread spent, which
  other processes on a shared machine disturb far less than wall-clock
  time): CPU per call (own canaries and shared decoys: every draw, the
  attempts whose values were taken included) and its share of the export's
  CPU;
- the same export under ``python -m cProfile``: the cumulative seconds of
  ``canaries.make_canary`` and the heaviest functions below it (profiling
  inflates small Python calls: read it for where the time goes, the timer
  for how much).

Seconds are those of a shared machine: read the ratios (export / plain
copy, make_canary / export) and the per-call cost side by side.
"""

from __future__ import annotations

import argparse
import json
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import speed_inputs  # noqa: E402
import speed_rounds  # noqa: E402
import speed_runs  # noqa: E402

TARGET = ("canaries.py", "make_canary")

TIMED_EXPORT = f"""
import json, sys, time
sys.path.insert(0, {str(HERE)!r})
from benchlib import time_make_canary
from tracer import api
spent = time_make_canary(time.thread_time)
t = time.thread_time()
result = api.export(sys.argv[1], sys.argv[2], account=sys.argv[3], output=sys.argv[4])
print(json.dumps({{"export_cpu": time.thread_time() - t, "canary_cpu": spent[0], "calls": spent[1],
                   "canaries": result.canaries}}))
"""


def profile_stats(path: Path) -> tuple[float, int, float, list[tuple[str, int, float]]]:
    """(make_canary cumulative s, its calls, the whole profile's s, the heaviest callees under it)."""
    stats = pstats.Stats(str(path))
    entries = stats.stats  # (file, line, name) -> (primitive calls, calls, tottime, cumtime, callers)
    total = max(cum for _, _, _, cum, _ in entries.values())
    target = [(key, value) for key, value in entries.items()
              if key[0].endswith(TARGET[0]) and key[2] == TARGET[1]]
    if not target:
        return 0.0, 0, total, []
    (_, (_, calls, _, cum, _)), = target
    heavy = sorted(((f"{Path(k[0]).name}:{k[2]}", v[1], v[3]) for k, v in entries.items()
                    if Path(k[0]).name in ("canary_draws.py", "address_reading.py", "canaries.py", "canary_values.py")
                    and k[2] != TARGET[1]), key=lambda t: -t[2])
    return cum, calls, total, heavy[:8]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--base-rows", type=int, default=50_000, help="distinct waybills generated (speed.py's)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of plain copy + export (best kept)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tracer-canary-cost-"))
    src, registry = work / "src.csv", work / "tracer.db"
    speed_inputs.Waybills(min(args.base_rows, args.rows), args.seed).write_csvs({args.rows: src})
    speed_rounds.setup_registry(registry, args.repeat + 2)
    tracer = speed_runs.tracer_command()
    plain, export = [], []
    for r in range(args.repeat):
        plain.append(speed_runs.run_process(
            [sys.executable, "-c", speed_runs.PLAIN_COPY, str(src), str(work / "copy.csv")], work))
        run = speed_runs.run_process(tracer + ["--registry", str(registry), "export", str(src), "--account",
                                               speed_rounds.account_name(r), "--output", str(work / "out.csv"),
                                               "--json"], work)
        if not run.ok:
            raise SystemExit(f"export failed: {run.error()}")
        export.append(run)
    run = speed_runs.run_process([sys.executable, "-c", TIMED_EXPORT, str(registry), str(src),
                                  speed_rounds.account_name(args.repeat), str(work / "out-timed.csv")], work)
    if not run.ok:
        raise SystemExit(f"timed export failed: {run.error()}")
    timed = json.loads(run.stdout)
    prof = work / "export.prof"
    run = speed_runs.run_process([sys.executable, "-m", "cProfile", "-o", str(prof), *tracer, "--registry",
                                  str(registry), "export", str(src), "--account",
                                  speed_rounds.account_name(args.repeat), "--output", str(work / "out-prof.csv"),
                                  "--json"], work)
    if not run.ok:
        raise SystemExit(f"profiled export failed: {run.error()}")
    cum, calls, total, heavy = profile_stats(prof)
    best_plain, best_export = min(p.seconds for p in plain), min(e.seconds for e in export)
    print(f"{args.rows:,} waybills ({args.base_rows:,} distinct), {speed_runs.tracer_origin()}")
    print(f"plain csv copy {best_plain:.2f} s, tracer export {best_export:.2f} s: "
          f"{best_export / best_plain:.1f}x (best of {args.repeat})")
    print(f"timed export: make_canary {timed['canary_cpu']:.2f} s CPU over {timed['calls']:,} calls "
          f"({timed['canaries']:,} canaries written): {timed['canary_cpu'] / max(timed['calls'], 1) * 1e6:.0f} µs "
          f"per call, {timed['canary_cpu'] / timed['export_cpu']:.0%} of the export's {timed['export_cpu']:.1f} s CPU")
    print(f"profiled export {total:.1f} s; make_canary {cum:.2f} s cumulative over {calls:,} calls "
          f"({cum / max(calls, 1) * 1e3:.2f} ms per call, {cum / total:.0%} of the profiled export)")
    for name, n, seconds in heavy:
        print(f"  {name:<40} {n:>10,} calls {seconds:8.2f} s")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
