#!/usr/bin/env python
"""Detection benchmark: how many leaked rows tracer needs, under every attack, and
whether its p-values are honest.

Run:  python benchmarks/detection.py [--quick] [--trials N] [--ladder-trials N] [--seed S]

Everything goes through ``tracer.api`` exactly as a user would (export files,
leak files, ``api.match``), in a temporary directory, with a fixed benchmark
key (``--seed`` picks another).  Progress goes to stderr, the tables to stdout.

Setup
-----
*Main registry*: 40 accounts export overlapping slices of both bundled
fixtures (``waybills.csv``, ``orders.csv``, 3,000 rows each), like a
company's branches: 34 branches with 600-row windows (each record is seen by
~7 branches), 5 regional accounts with 2,400-row windows starting 200 rows
apart (any three consecutive ones share exactly 2,000 rows) and one HQ
account that exports everything.

*Big registry* (five-insider scenario): a 15,000-row waybill source (the
fixture plus rows generated with ``fixtures/make_fixtures.py``'s
``make_waybills`` under another seed, phones kept distinct), 40 accounts with
3,000-row windows 375 rows apart; the five insiders are accounts 8 apart, so
their exports are *different* records (different branches), each also seen by
7 innocent accounts.  20,000 foreign rows: ``foreign_waybills.csv`` plus
15,000 more generated the same way.

Scenarios
---------
1. Rows needed, per attack (``attacks.py``, alone and combined), for waybills
   and orders: a random account leaks n random rows of its export *with its
   canaries removed* (marks only); the smallest n of the ladder at which at
   least 90% of the trials accuse exactly the leaker.  The ladder is scanned
   upwards and stops at the first rung that passes (a rung stops early once
   90% has become impossible).
2. Five insiders merged (3,000 / 1,200 / 400 / 150 / 60 rows), deduped,
   buried in 20,000 foreign rows: every insider accused?
3. Three insiders with the same 2,000 rows interleaving cell by cell or
   diff-scrubbing: how many accused (target >= 2)?
4. Calibration: ``--trials`` innocent trials (leaks from other accounts,
   leaks straight from the source, source rows among foreign rows, colluders'
   merges; every attack): the empirical rate of uncorrected p <= alpha among
   innocent candidates.

Every match of every scenario also feeds the count of innocents accused.
"""


import argparse
import os
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchlib import FPR, LADDER, bench_key, log, print_table

from book import Book
from calibration import calibration_table, run_calibration
from insiders import collusion_ladder, five_insiders, three_insiders
from ladder import run_ladders
from worlds import setup_big, setup_main
from attack_lists import TARGET_DUMP, TARGET_MARKS
from broker_bench import run_broker, setup_gang
from survival import print_survival

# main
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer attacks and trials (~2 minutes)")
    parser.add_argument("--trials", type=int, default=None, help="innocent calibration trials (default 1000; quick 200)")
    parser.add_argument("--ladder-trials", type=int, default=None, help="trials per ladder rung (default 20; quick 10)")
    parser.add_argument("--calibration-keys", type=int, default=None,
                        help="registries (keys, codeword draws) the calibration trials are spread over (default 5; quick 1)")
    parser.add_argument("--seed", type=int, default=1, help="benchmark key and random seed")
    parser.add_argument("--keep", type=Path, default=None, help="work in this directory and keep it")
    parser.add_argument("--skip", action="append", default=[], choices=["ladder", "five", "three", "calibration", "broker", "survival"],
                        help="skip a scenario (repeatable)")
    args = parser.parse_args(argv)
    trials = args.trials if args.trials is not None else (200 if args.quick else 1000)
    keys = args.calibration_keys if args.calibration_keys is not None else (1 if args.quick else 5)
    if args.ladder_trials is None:
        args.ladder_trials = 10 if args.quick else 20
    scenario_trials = 1 if args.quick else 3
    rng = random.Random(args.seed)
    saved_key = os.environ.get("TRACER_KEY")
    os.environ["TRACER_KEY"] = bench_key(args.seed)
    book = Book()
    try:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=False)
            work_ctx = None
            work = args.keep
        else:
            work_ctx = tempfile.TemporaryDirectory(prefix="tracer-detection-")
            work = Path(work_ctx.name)
        try:
            print(f"# tracer detection benchmark (seed {args.seed}{', quick' if args.quick else ''}; "
                  f"ladder trials {args.ladder_trials}, calibration trials {trials}, fpr {FPR:g})")
            log("setting up the main registry")
            world = setup_main(work)
            ladder = run_ladders(world, args.ladder_trials, rng, book, args.quick) if "ladder" not in args.skip else {}
            three = three_insiders(world, scenario_trials, rng, book, args.quick) if "three" not in args.skip else []
            if "three" not in args.skip and not args.quick:
                collusion_ladder(world, args.ladder_trials, rng, book)
            per_kind: Counter = Counter()
            if "calibration" not in args.skip:
                per_kind = run_calibration(work, world, trials, keys, args.seed, rng, book)
            broker: list = []
            if "broker" not in args.skip or "survival" not in args.skip:
                log("setting up the gang registry (independent waybills, every account exports all of them)")
                gang = setup_gang(work, args.seed, args.quick)
            if "survival" not in args.skip:
                print_survival("independent waybills (gang_world.py), one account's export",
                               [gang.data["gang"].exports[gang.accounts[0]]])
                print_survival("fixture waybills and orders, the HQ account's exports",
                               [world.data[name].exports["hq"] for name in ("waybills", "orders")])
            if "broker" not in args.skip:
                broker = run_broker({"gang": gang, "main": world}, max(5, args.ladder_trials // 2), rng, book, args.quick)
            five = []
            if "five" not in args.skip:
                log("setting up the big registry")
                big = setup_big(work, args.seed)
                five = five_insiders(big, 1 if args.quick else 5, rng, book)
            calibrated = calibration_table(book, trials, keys, per_kind) if "calibration" not in args.skip else None
        finally:
            if work_ctx is not None:
                work_ctx.cleanup()
    finally:
        if saved_key is None:
            os.environ.pop("TRACER_KEY", None)
        else:
            os.environ["TRACER_KEY"] = saved_key

    print_table("Innocents accused, per scenario", ["scenario", "matches", "innocent candidates", "innocents accused"],
                [[g, book.matches[g], len(book.innocents.get(g, [])), book.accused[g]] for g in book.matches])
    if book.errors:
        print(f"\n{len(book.errors)} match(es) failed with a tracer error (counted as not accused); first ones:")
        for e in book.errors[:10]:
            print(f"   {e}")

    print("\n## SPEC targets")
    summary = []

    def target(label: str, ok: bool | None, detail: str) -> None:
        status = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
        summary.append(status)
        print(f"{status}  {label}: {detail}")

    by_target = {r.attack.target: r for results in ladder.values() for r in results if r.attack.target}
    for label, limit in ((TARGET_MARKS, 16), (TARGET_DUMP, 64)):
        r = by_target.get(label)
        target(label, None if r is None else (r.needed is not None and r.needed <= limit),
               "not run" if r is None else f"{r.needed or '>' + str(LADDER[-1])} rows")
    if five:
        all_five = all(row[4] == "5/5" for row in five)
        target("five insiders merged, buried in 20,000 foreign rows: all five accused", all_five,
               f"{sum(row[4] == '5/5' for row in five)}/{len(five)} leaks with all five accused")
    else:
        target("five insiders merged, buried in 20,000 foreign rows: all five accused", None, "not run")
    if three:
        at_least_two = [int(row[4][0]) >= 2 for row in three if "canaries kept" not in row[0]]
        target("three insiders interleaving or diff-scrubbing the same 2,000 rows: >= 2 accused",
               all(at_least_two), f"{sum(at_least_two)}/{len(at_least_two)} marks-only leaks with >= 2 accused "
               f"(fewest: {min(int(row[4][0]) for row in three)}/3)")
    else:
        target("three insiders ... : >= 2 accused", None, "not run")
    for outcome in broker:
        if outcome.scenario.target is not None:
            target(outcome.scenario.target_label, outcome.passed,
                   f"{outcome.needed or 'more than the ladder'} rows, {outcome.innocents_accused} innocents accused")
    if not broker:
        target("broker and same-records insiders (issue 12)", None, "not run")
    total_accused = sum(book.accused.values())
    target("innocents accused over every scenario and the calibration run: 0", total_accused == 0,
           f"{total_accused} innocent accusations in {sum(book.matches.values())} matches")
    target("calibration: uncorrected p_marks and p_value rates <= alpha (0.05, 0.01, 0.001)", calibrated,
           f"{trials} innocent trials, {keys} keys" if calibrated is not None else "not run")
    log("done")
    return 0 if all(s != "FAIL" for s in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
