#!/usr/bin/env python
"""Insiders with the same records, through the whole pipeline: do the shared canaries convict?

Run:  python benchmarks/shared_pipeline.py [--quick] [--trials N] [--seed S]

Twelve accounts export the same waybills (the bundled fixture plus rows made
by ``fixtures/make_fixtures.py``, which shares nothing with ``tracer/``).
Colluders compare their copies:

- *two, intersection*: keep the rows both copies hold (aligned by waybill
  number and phone digits: every per-account canary goes), each cell from a
  random copy;
- *three, majority*: keep the rows at least two copies hold, each cell the
  value most copies show;

then clean everything: phones to digits, weights to whole kg, times to the
minute, and the address columns dropped (harsher than rewriting them in one
canonical form: no address mark is left either way).  A leak of n of those
rows is matched with ``tracer.api``; a rung of the ladder passes when every
trial accuses at least one colluder.  Innocent accounts accused are counted
over every match.  ``benchmarks/shared_slots.py`` is the simulation that
chose the parameters; this measures the product.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fixtures"))
import make_fixtures  # noqa: E402

Table = tuple[list[str], list[list[str]]]

ACCOUNTS = 12
LADDER = (1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000)
DROPPED = ("寄件地址", "收件地址")


def read_csv(path: Path) -> Table:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, table: Table) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table[0])
        writer.writerows(table[1])
    return path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_source(rows: int, seed: int) -> Table:
    header, own = read_csv(HERE.parent / "fixtures" / "waybills.csv")
    used = {r[i] for r in own for i in (2, 5)}
    more = make_fixtures.make_waybills(max(0, rows - len(own)) + 50, 700_000 + seed, "YT", used)
    ids = {r[0] for r in own}
    return header, (own + [r for r in more if r[0] not in ids])[:rows]


def key_of(row: list[str]) -> tuple[str, str, str]:
    return row[0], re.sub(r"\D", "", row[2]), re.sub(r"\D", "", row[5])


def collude(copies: list[Table], attack: str, rng: random.Random) -> Table:
    """The rows the colluders keep, and each cell's value (see the module docstring)."""
    header = copies[0][0]
    indexed = [{key_of(row): row for row in rows} for _, rows in copies]
    needed = len(copies) if attack == "intersection" else 2
    out = []
    for key in dict.fromkeys(k for index in indexed for k in index):
        held = [index[key] for index in indexed if key in index]
        if len(held) < needed:
            continue
        if attack == "intersection":
            out.append([rng.choice(cells) for cells in zip(*held)])
        else:
            out.append([Counter(cells).most_common(1)[0][0] if len(set(cells)) < len(cells) else rng.choice(cells)
                        for cells in zip(*held)])
    return header, out


def full_clean(table: Table) -> Table:
    header, rows = table
    keep = [i for i, name in enumerate(header) if name not in DROPPED]

    def clean(name: str, cell: str) -> str:
        if "电话" in name:
            return re.sub(r"\D", "", cell)
        if "重量" in name:
            return str(round(float(cell)))
        if "时间" in name:
            return cell[:16]
        return cell
    return [header[i] for i in keep], [[clean(header[i], row[i]) for i in keep] for row in rows]


def run(args) -> int:
    from tracer import api

    rng = random.Random(args.seed)
    rows = max(LADDER) if not args.quick else 10000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        registry = work / "tracer.db"
        api.init(registry)
        header, source_rows = make_source(rows, args.seed)
        source = write_csv(work / "source.csv", (header, source_rows))
        names = [f"clerk-{k:02d}" for k in range(ACCOUNTS)]
        decoys = []
        started = time.perf_counter()
        for name in names:
            api.add_account(registry, name)
            result = api.export(registry, source, account=name, output=work / f"{name}.csv")
            decoys.append((result.canaries - result.shared_canaries, result.shared_canaries))
        log(f"{ACCOUNTS} accounts exported {rows} rows in {time.perf_counter() - started:.0f} s")
        copies = {name: read_csv(work / f"{name}.csv") for name in names}
        own = sum(d[0] for d in decoys) / ACCOUNTS
        shared = sum(d[1] for d in decoys) / ACCOUNTS
        print(f"decoys per export: {own:.0f} own canaries + {shared:.0f} shared = "
              f"{(own + shared) / rows:.2%} of {rows:,} rows")
        print("| attack | rows needed (every trial >= 1 colluder accused) | innocents accused | matches |")
        print("| --- | --- | --- | --- |")
        for attack, size in (("intersection", 2), ("majority", 3)):
            framed = matches = 0
            needed = None
            for n in (r for r in LADDER if r <= rows):
                caught = 0
                for t in range(args.trials):
                    guilty = rng.sample(names, size)
                    kept = collude([copies[g] for g in guilty], attack, rng)
                    leak_rows = rng.sample(kept[1], min(n, len(kept[1])))
                    leak = write_csv(work / f"leak-{attack}-{n}-{t}.csv", full_clean((kept[0], leak_rows)))
                    verdict = api.match(registry, [leak])
                    accused = {s.account for s in verdict.suspects}
                    caught += bool(accused & set(guilty))
                    framed += len(accused - set(guilty))
                    matches += 1
                    log(f"{attack} n={n} trial {t}: accused {sorted(accused)}, guilty {guilty}; "
                        f"best p {verdict.candidates[0].p_value:.2e}")
                if caught == args.trials:
                    needed = n
                    break
            label = "two accounts, intersection + random cell" if size == 2 else "three accounts, per-cell majority"
            print(f"| {label} + full clean | {needed if needed else f'not by {rows:,}'} | {framed} | {matches} |",
                  flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows, fewer rungs")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    saved = os.environ.get("TRACER_KEY")
    os.environ["TRACER_KEY"] = f"{args.seed + 1:064x}"  # a fixed bench key, restored afterwards
    try:
        return run(args)
    finally:
        if saved is None:
            os.environ.pop("TRACER_KEY", None)
        else:
            os.environ["TRACER_KEY"] = saved


if __name__ == "__main__":
    raise SystemExit(main())
