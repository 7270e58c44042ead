#!/usr/bin/env python
"""Canary realism: can a trained classifier tell canary rows from real rows?

Target (SPEC, Targets table): ROC AUC <= 0.60 for a classifier that sees a
row alone — the whole row and every single column — on every world.

The worlds
----------
- ``waybills``, ``orders``: tracer's own fixtures (``fixtures/make_fixtures.py``,
  made with faker, like canaries used to be: on these tracer is measured
  partly against itself);
- ``cn-estates`` (``world_cn.py``) and ``us-shop`` (``world_us.py``): worlds
  tracer did not make, with tables of their own (modern Chinese given names,
  many of one character; estate rooms numbered floor + door; US names,
  streets, apartments, ZIPs, emails).  They import nothing from tracer or
  faker.

What it does
------------
1. Writes each independent world's source (``--rows`` rows), creates a
   temporary registry with a fixed benchmark key (``--seed`` picks another),
   adds ``--accounts`` accounts and exports every world once per account
   through ``tracer.api``, as a user would.
2. Labels each output row (real iff its identifier is the source's), finds
   each canary's donor, and samples ``--ratio`` real rows per canary (each
   source record at most once).
3. Scores with 5-fold cross-validation grouped by source record (a canary
   with its donor and with every decoy in the same gap: the versions of one
   shared slot sit there in every account's export, see ``realism_data.label``)
   (``realism_models``): the row's text without its identifier (char
   1-3-gram TF-IDF + logistic regression; once more grouped by person, so
   that recurring customers cannot be remembered), each column's text alone,
   numeric cell features; and, seeing the row in its export, the context and
   near-copy models.  The faker-list filter a broker can run without labels
   is reported as rows removed / canaries removed.

   A person's column (name, phone, address, email) is grouped by that
   person alone, told by the party's phone digits (``realism_data.by_person``):
   the model is judged on people it never saw, as a broker is on the export
   he holds (he has no labelled rows of them).  That column is not joined
   through a canary's gap: it shows nothing of the gap, and the join chained
   the big shops into one group of 61-67% of cn-estates' sample, which made
   5-fold validation one fold of two thirds and read the sender name anywhere
   from 0.36 to 0.66 by the luck of the folds.  The table's last column is
   the largest group's share of the sample: where it is large, the folds are
   few in effect and the figure is noise (see the README).

Every draw is fixed by ``--seed``: the key, the worlds, the accounts' uids
(``realism_data.fix_uid``), the sample and the folds; a seed's run repeats.

Run:  python benchmarks/canary_realism.py [--accounts 16] [--rows 3000] [--quick]
Needs scikit-learn (``pip install -e .[bench]``); installs nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

try:
    from threadpoolctl import threadpool_limits

    import realism_models as models
except ImportError:  # pragma: no cover - a benchmark, not a test
    sys.exit("canary_realism needs scikit-learn: pip install -e '.[bench]'  (or pip install scikit-learn)")

import world_cn
import world_us
from realism_data import Dataset, Row, by_person, label, run_exports, sample, with_gaps, write_csv

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TARGET = 0.60
ROW = "row alone"
CONTEXT = "row in its export"


def worlds(rows: int, seed: int, workdir: Path) -> dict[str, tuple[str, Path]]:
    """name -> (who made it, its source file)."""
    made = {"cn-estates": world_cn, "us-shop": world_us}
    out = {"waybills": ("tracer's fixtures (faker)", FIXTURES / "waybills.csv"),
           "orders": ("tracer's fixtures (faker)", FIXTURES / "orders.csv")}
    for name, world in made.items():
        path = write_csv(workdir / f"{name}-source.csv", world.HEADER, world.make_rows(rows, seed))
        out[name] = (f"independent ({world.__name__}.py)", path)
    return out


def evaluate(data: Dataset, chosen: list[Row], seed: int, context: bool) -> list[tuple[str, str, float, float, float]]:
    """(feature set, what it sees, AUC mean, AUC std, largest group's share of the sample) for every model."""
    y = np.array([r.canary for r in chosen], dtype=int)
    groups = [r.group for r in chosen]
    ncol = len(data.header)
    idc = data.id_column
    results = []

    def add(name, sees, make, X, by=groups):
        mean, std = models.cv_auc(make, X, y, by, seed)
        results.append((name, sees, mean, std, max(Counter(by).values()) / len(by)))

    text = [" | ".join(c for i, c in enumerate(r.cells) if i != idc) for r in chosen]
    add("row text, identifier left out (char 1-3 tfidf + LR)", ROW, models.text_model, text)
    person = data.kinds.index("phone")
    add("row text, grouped by person", ROW, models.text_model, text,
        with_gaps(chosen, [(r.donor or r.cells)[person] for r in chosen]))
    feats = models.build_features(data, chosen, context)
    cells = np.hstack([feats["cells"][c] for c in range(ncol) if c != idc])
    add("numeric: cells (lengths, digits, values)", ROW, models.numeric_model, cells)
    if context:
        ctx = np.hstack([feats["context"][c] for c in range(ncol)])
        add("numeric: context (neighbours, frequency)", CONTEXT, models.numeric_model, ctx)
        add(f"numeric: near-copy within ±{models.MAX_SHIFT + 2} rows", CONTEXT, models.numeric_model, feats["twin"])
    for c in range(ncol):  # a person's column: all of one person's rows on one side (see module doc)
        phone = data.party_phone[c]
        by = groups if phone is None else by_person(chosen, phone)
        add(f"  {data.header[c]} [{data.kinds[c]}]: text", ROW, models.text_model, [r.cells[c] for r in chosen], by)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=16, help="accounts, one full export of each world each")
    parser.add_argument("--rows", type=int, default=3000, help="rows of each independent world's source")
    parser.add_argument("--ratio", type=float, default=3.0, help="real rows sampled per canary")
    parser.add_argument("--seed", type=int, default=1, help="benchmark key, world and sampling seed")
    parser.add_argument("--no-context", action="store_true", help="skip the models that see a row's neighbours")
    parser.add_argument("--quick", action="store_true", help="6 accounts, 2000-row worlds, no context models")
    parser.add_argument("--worlds", default="", help="comma-separated worlds to run (default: all)")
    args = parser.parse_args(argv)
    if args.quick:
        args.accounts, args.rows, args.no_context = 6, 2000, True
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tracer-canary-realism-") as tmp:
        chosen_worlds = worlds(args.rows, args.seed, Path(tmp))
        if args.worlds:
            chosen_worlds = {k: v for k, v in chosen_worlds.items() if k in args.worlds.split(",")}
        datasets = run_exports(chosen_worlds, args.accounts, args.seed, Path(tmp))
    print(f"canary realism: {args.accounts} accounts x 1 full export of each world "
          f"({time.perf_counter() - started:.1f}s to export)")
    rng = random.Random(args.seed)
    table, attacks = [], []
    threadpool_limits(1)  # small models: threads only add waiting
    for data in datasets:
        label(data)
        chosen = sample(data, args.ratio, rng)
        n_canary = sum(r.canary for r in data.rows)
        print(f"{data.name} [{data.made_by}]: {len(data.exports)} exports, {len(data.rows)} rows, {n_canary} "
              f"canaries, {len(chosen) - n_canary} real rows sampled; canary_fallback: {data.fallback}")
        for name, sees, mean, std, largest in evaluate(data, chosen, args.seed, not args.no_context):
            table.append((data.name, name, sees, mean, std, largest))
        attacks.append((data.name, *models.faker_filter(data)))
    return report(table, attacks)


def report(table: list[tuple], attacks: list[tuple]) -> int:
    width = max(len(t[1]) for t in table)
    print(f"\n{'world':<10} {'feature set':<{width}}  {'sees':<17}  ROC AUC (mean ± std)  largest group")
    print(f"{'-' * 10} {'-' * width}  {'-' * 17}  {'-' * 20}  {'-' * 13}")
    for world, name, sees, mean, std, largest in table:
        flag = "  > target" if mean > TARGET and sees == ROW else ""
        print(f"{world:<10} {name:<{width}}  {sees:<17}  {mean:.3f} ± {std:.3f}         {largest:6.1%}{flag}")
    print("\nfaker-list filter (drop rows whose given names are all on faker's lists; no labels needed):")
    for world, hit, canaries, real_hit, real in attacks:
        print(f"  {world:<10} canaries removed {hit}/{canaries} ({hit / max(canaries, 1):.1%}), "
              f"real rows removed {real_hit}/{real} ({real_hit / max(real, 1):.1%})")
    print()
    for sees in (ROW, CONTEXT):
        part = [t for t in table if t[2] == sees]
        if part:
            worst = max(part, key=lambda t: t[3])
            print(f"highest AUC, {sees:<17}: {worst[3]:.3f} ({worst[0]}, {worst[1].strip()})")
    worst = max((t for t in table if t[2] == ROW), key=lambda t: t[3])
    verdict = "PASS" if worst[3] <= TARGET else "FAIL"
    print(f"verdict (row alone, every world): {verdict} — highest AUC {worst[3]:.3f} "
          f"({worst[0]}, {worst[1].strip()}); target ≤ {TARGET:.2f}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
