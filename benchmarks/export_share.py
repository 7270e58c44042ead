#!/usr/bin/env python
"""One export's CPU time with drawing canaries timed apart, beside a plain csv copy in the same process.

Run:  python benchmarks/export_share.py [--rows 200000] [--rounds 1]

Drawing canaries (``canaries.make_canary``) is most of an export's time and
is worked on apart (issue 14); this bench says what the rest of an export
costs.  A ``time.process_time()`` around each ``make_canary`` call (no
profiler, which inflates Python calls unevenly) gives the canaries' CPU
time; the rest is the export's CPU time less it, printed beside a plain
``csv.reader`` -> ``csv.writer`` copy of the same file run just before in
the same process.  The input is ``benchmarks/speed.py``'s waybills; one
account in a fresh registry.  ``TRACER_ENGINE`` picks the engine as usual.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import speed_inputs  # noqa: E402
from benchlib import time_make_canary  # noqa: E402

from tracer import api  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="waybills exported (default 200,000)")
    parser.add_argument("--rounds", type=int, default=1, help="copy + export rounds (default 1)")
    parser.add_argument("--base-rows", type=int, default=50_000, help="distinct rows made by make_waybills")
    args = parser.parse_args()
    spent = time_make_canary(time.process_time)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "waybills.csv"
        speed_inputs.Waybills(min(args.base_rows, args.rows), 7).write_csvs({args.rows: source})
        for r in range(args.rounds):
            registry = work / f"tracer{r}.db"
            api.init(registry)
            api.add_account(registry, "a")
            start = time.process_time()
            with open(source, newline="", encoding="utf-8") as f, \
                    open(work / "copy.csv", "w", newline="", encoding="utf-8") as g:
                csv.writer(g, lineterminator="\n").writerows(csv.reader(f))
            copy = time.process_time() - start
            spent[0] = 0.0
            start = time.process_time()
            result = api.export(registry, source, account="a", output=work / f"out{r}.csv")
            total = time.process_time() - start
            rest = total - spent[0]
            print(f"{args.rows:,} rows, {result.engine} engine: plain copy {copy:.2f} s CPU; export {total:.2f} s "
                  f"({total / copy:.1f}x); make_canary {spent[0]:.2f} s; the rest {rest:.2f} s ({rest / copy:.2f}x)",
                  flush=True)


if __name__ == "__main__":
    main()
