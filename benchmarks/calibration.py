"""Calibration: innocent trials, and the tables that check the null (z) and the p-values' rates."""

from __future__ import annotations

import math
import os
import random
import statistics
from collections import Counter
from pathlib import Path

from attack_lists import ATTACKS, Ctx
from benchlib import ALPHAS, bench_key, log, print_table
from book import Book
from worlds import World, setup_main

import attack_collusion as C
import attacks as A


CALIBRATION_N = (8, 16, 32, 64, 128, 256, 512)

def run_calibration(work: Path, world: World, trials: int, keys: int, seed: int, rng: random.Random,
                    book: Book) -> Counter:
    """``trials`` innocent trials spread over ``keys`` registries (the main one, then fresh ones with
    other keys): the p-values are then tested over several draws of the codewords, not one."""
    per_kind: Counter = Counter()
    done = 0
    try:
        for k in range(keys):
            share = trials // keys + (1 if k < trials % keys else 0)
            if k:
                os.environ["TRACER_KEY"] = bench_key(seed, k)
                log(f"calibration: registry {k + 1}/{keys} with another key")
                world = setup_main(work, f"calibration-{k}")
            calibration(world, share, rng, book, per_kind, done, trials)
            done += share
    finally:
        os.environ["TRACER_KEY"] = bench_key(seed)
    return per_kind


def calibration(world: World, trials: int, rng: random.Random, book: Book, per_kind: Counter, done: int,
                total: int) -> None:
    kinds = (("other account's leak", 0.5), ("straight from the source", 0.2), ("source rows among foreign rows", 0.1),
             ("colluders' merge", 0.2))
    attacks = {name: make() for name, make in ATTACKS.items()}
    group = "calibration"
    for trial in range(trials):
        name = rng.choice(list(world.data))
        data = world.data[name]
        attack = rng.choice(attacks[name])
        n = rng.choice(CALIBRATION_N)
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        guilty: set[str] = set()
        if kind == "other account's leak":
            leaker = rng.choice(world.accounts)
            pool = data.exports[leaker] if rng.random() < 0.5 else data.marks_only[leaker]
            leak = A.subset(pool, n, rng)
            guilty = {leaker}
        elif kind == "straight from the source":
            leak = A.subset(data.source, n, rng)
        elif kind == "source rows among foreign rows":
            leak = A.mix_foreign(A.subset(data.source, n, rng), data.foreign, rng.choice((100, 1000)), rng)
        else:
            colluders = rng.sample(world.accounts, rng.choice((2, 3)))
            copies = [data.exports[a] for a in colluders]
            how = rng.choice(("interleave", "majority", "drop", "canonical", "concat"))
            if how == "interleave":
                merged = C.interleave(copies, data.id_col, rng)
            elif how == "concat":
                merged = A.dedupe(A.concat(*copies), data.id_col)
            else:
                merged = C.diff_scrub(copies, data.id_col, rng, how, drop_singletons=False)
            leak = A.subset(merged, n, rng)
            guilty = set(colluders)
        path = attack.write(book.path(world, "calib"), attack.clean(leak, Ctx(rng, data)))
        book.match(world, [path], guilty, group)
        path.unlink(missing_ok=True)
        per_kind[kind] += 1
        if (done + trial + 1) % 100 == 0:
            log(f"calibration: {done + trial + 1}/{total} trials, {len(book.innocents.get(group, []))} innocent candidates")


def calibration_table(book: Book, trials: int, keys: int, per_kind: Counter) -> bool:
    ok = True
    rows = []
    groups = [("calibration run", book.innocents.get("calibration", []))]
    everything = [i for g in book.innocents.values() for i in g]
    groups.append(("every match of this run", everything))
    for label, innocents in groups:
        scored = [i for i in innocents if i.marks > 0]
        for subset_label, items in (("all innocent candidates", innocents), ("with >= 1 mark read", scored)):
            for alpha in ALPHAS:
                count = len(items)
                pm = sum(i.p_marks <= alpha for i in items)
                pu = sum(i.p_uncorrected <= alpha for i in items)
                rate_m = pm / count if count else 0.0
                rate_u = pu / count if count else 0.0
                good = rate_m <= alpha and rate_u <= alpha
                ok &= good
                rows.append([label, subset_label, alpha, count, f"{pm} ({rate_m:.2e})", f"{pu} ({rate_u:.2e})",
                             "<= alpha" if good else "EXCEEDS alpha"])
    zrows = []
    for label, innocents in groups + [(f"  {g}", book.innocents[g]) for g in book.innocents if g != "calibration"]:
        pairs = [(i.score / math.sqrt(i.marks), i.marks) for i in innocents if i.marks > 0]
        if len(pairs) < 2:
            continue
        z = [v for v, _ in pairs]
        top = max(pairs)
        tails = [sum(v >= q for v in z) / len(z) for q in (1.6449, 2.3263, 3.0902)]
        mean = statistics.mean(z)
        squares = [(v - mean) ** 2 for v in z]
        se_mean = math.sqrt(statistics.variance(z) / len(z))
        se_var = math.sqrt(statistics.variance(squares) / len(z))
        zrows.append([label, len(z), f"{mean:+.3f} ± {se_mean:.3f}", f"{statistics.variance(z):.3f} ± {se_var:.3f}",
                      f"{top[0]:.1f} ({top[1]})", *(f"{t:.2e}" for t in tails)])
    print_table(
        "Null check of the score: z = S / sqrt(marks) of innocent candidates (null: mean 0, variance 1)",
        ["innocents of", "scored", "mean z ± se", "var z ± se", "max z (marks)", "z >= 1.645", "z >= 2.326", "z >= 3.090"],
        zrows,
        note="under the null every term has mean 0 and variance 1 and positions are distinct, so z has mean 0 and\n"
             "variance 1 exactly; a variance above 1 would mean correlated terms (a position read twice).\n"
             "se: standard error if every candidate were independent; it is not: one account scored on overlapping\n"
             "leaks (e.g. the three-insider leaks, all on the same 2,000 records) gives correlated z, so the true se\n"
             "is larger, and only the calibration run (random records, several keys) is close to independent.\n"
             "Normal tails for reference: 0.05, 0.01, 0.001 (only approximate at small marks).",
    )
    print_table(
        f"Calibration: innocent candidates' uncorrected p-values ({trials} innocent trials)",
        ["innocents of", "which", "alpha", "candidates", "p_marks <= alpha", "p (uncorrected) <= alpha", "verdict"],
        rows,
        note=f"{trials} trials over {keys} registries with different keys (40 accounts each): "
             + ", ".join(f"{k}: {v}" for k, v in per_kind.items()) + ";\n"
             "each trial: a random dataset, attack (from the ladder's lists) and size in " + str(CALIBRATION_N) + ".\n"
             "innocent = a tested account that is not a true source of the leak; p (uncorrected) = 2 min(p_marks,\n"
             "p_canaries), the per-account p-value before the Bonferroni factor. Valid (uniform or conservative)\n"
             "means the rate stays <= alpha.",
    )
    return ok

