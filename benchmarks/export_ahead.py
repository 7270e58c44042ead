"""A/B: an export marking each batch on a second thread (``read_ahead.mark_ahead``) against marking in line.

The same installed binary both ways: the in-line side is ``tracer export``
run by a driver that swaps ``read_ahead.ahead`` (the thread) for a loop doing
the same work on the main thread; all else, ``mark_ahead`` included, runs as
it is.  Runs are interleaved (plain copy, in line,
ahead, then again) so that a burst of load on this machine falls on every
side; each export goes into a copy of one fresh registry, so all of them
draw the same canaries and must write the same bytes (checked).

    python benchmarks/export_ahead.py --rows 200000 --runs 5
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import print_table  # noqa: E402
from speed_inputs import Waybills  # noqa: E402
from speed_runs import PLAIN_COPY, compile_bytecode, log, run_process, tracer_command  # noqa: E402

IN_LINE = """
import sys
import tracer.read_ahead as read_ahead
from tracer.cli import main

def in_line(batches, work):
    for batch in batches:
        yield batch, work(batch)

read_ahead.ahead = in_line
sys.argv = ["tracer", *sys.argv[1:]]
main()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--base-rows", type=int, default=50_000)
    args = parser.parse_args()
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="tracer-ahead-") as tmp:
        work = Path(tmp)
        source = work / "waybills.csv"
        Waybills(args.base_rows, 7).write_csvs({args.rows: source})
        registry = {"TRACER_REGISTRY": str(work / "tracer.db"), "TRACER_KEY_FILE": str(work / "tracer.key")}
        env = {**os.environ, **registry}
        for step in (["init"], ["accounts", "add", "clerk"]):
            if not run_process([*tracer_command(), *step], work, env).ok:
                raise SystemExit(f"tracer {' '.join(step)} failed")
        shutil.copy(work / "tracer.db", work / "fresh.db")
        sides = {
            "plain csv copy": lambda out: [sys.executable, "-c", PLAIN_COPY, str(source), str(out)],
            "export, marking in line": lambda out: [sys.executable, "-c", IN_LINE, *_export(source, out)],
            "export, marking ahead": lambda out: [*tracer_command(), *_export(source, out)],
        }
        runs: dict[str, list] = {name: [] for name in sides}
        for k in range(args.runs):
            for i, (name, command) in enumerate(sides.items()):
                shutil.copy(work / "fresh.db", work / "tracer.db")
                for stale in ("tracer.db-wal", "tracer.db-shm"):
                    (work / stale).unlink(missing_ok=True)
                run = run_process(command(work / f"out-{i}.csv"), work, env)
                if not run.ok:
                    raise SystemExit(f"{name}: {run.error()}")
                runs[name].append(run)
                log(f"run {k + 1}: {name} {run.seconds:.2f} s wall, {run.cpu:.2f} s CPU")
            if not filecmp.cmp(work / "out-1.csv", work / "out-2.csv", shallow=False):
                raise SystemExit("the two exports differ: marking ahead must write the same bytes")
    plain = statistics.median(r.seconds for r in runs["plain csv copy"])
    print_table(f"{args.rows:,} rows, {args.runs} interleaved runs each (the exports byte-identical)",
                ["what", "median s", "best s", "median CPU s", "× plain (median)"],
                [[name, f"{statistics.median(r.seconds for r in rs):.2f}", f"{min(r.seconds for r in rs):.2f}",
                  f"{statistics.median(r.cpu for r in rs):.2f}",
                  f"{statistics.median(r.seconds for r in rs) / plain:.2f}×"] for name, rs in runs.items()])


def _export(source: Path, out: Path) -> list[str]:
    return ["export", str(source), "--account", "clerk", "--output", str(out)]


if __name__ == "__main__":
    main()
