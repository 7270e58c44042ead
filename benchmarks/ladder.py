"""Rows needed: the smallest leak at which >= 90% of trials accuse exactly the leaker."""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass

from attack_lists import ATTACKS, Attack, Ctx
from benchlib import LADDER, SUCCESS, log, neglog10, print_table
from book import Book
from worlds import Data, World

import attacks as A



@dataclass
class LadderResult:
    attack: Attack
    needed: int | None
    rung_ok: int
    rung_trials: int
    marks: float
    p_median: float
    matches: int
    innocents_accused: int
    errors: int
    tested: float


def rows_needed(world: World, data: Data, attack: Attack, trials: int, rng: random.Random, book: Book) -> LadderResult:
    group = "ladder"
    ctx = Ctx(rng, data)
    matches = 0
    accused_before = book.accused[group]
    errors_before = len(book.errors)
    allowed_failures = trials - math.ceil(SUCCESS * trials)
    last = (0, 0, 0.0, 1.0, 0.0)
    for n in LADDER:
        ok = fails = 0
        marks, ps, tested = [], [], []
        for _ in range(trials):
            leaker = rng.choice(world.accounts)
            leak = A.subset(data.marks_only[leaker], n, rng)
            path = attack.write(book.path(world, data.name), attack.clean(leak, ctx))
            verdict = book.match(world, [path], {leaker}, group)
            path.unlink(missing_ok=True)
            matches += 1
            if verdict is not None:
                tested.append(len(verdict.candidates))
                mine = [c for c in verdict.candidates if c.account == leaker]
                if mine:
                    marks.append(mine[0].marks_observed)
                    ps.append(mine[0].p_value)
            if verdict is not None and [s.account for s in verdict.suspects] == [leaker]:
                ok += 1
            else:
                fails += 1
                if fails > allowed_failures:
                    break
        done = ok + fails
        last = (ok, done, statistics.median(marks) if marks else 0, statistics.median(ps) if ps else 1.0,
                statistics.mean(tested) if tested else 0)
        if fails <= allowed_failures and done == trials:
            return LadderResult(attack, n, ok, done, last[2], last[3], matches, book.accused[group] - accused_before,
                                len(book.errors) - errors_before, last[4])
    return LadderResult(attack, None, last[0], last[1], last[2], last[3], matches,
                        book.accused[group] - accused_before, len(book.errors) - errors_before, last[4])


def run_ladders(world: World, trials: int, rng: random.Random, book: Book, quick: bool) -> dict[str, list[LadderResult]]:
    results: dict[str, list[LadderResult]] = {}
    for name, make in ATTACKS.items():
        data = world.data[name]
        attacks = make()
        if quick:
            attacks = [a for a in attacks if a.target or "combined" in a.name or a.name.startswith("plain")
                       or "reseller" in a.name and "foreign" in a.name]
        results[name] = []
        for attack in attacks:
            result = rows_needed(world, data, attack, trials, rng, book)
            results[name].append(result)
            log(f"ladder {name}: {attack.name}: {result.needed or '>256'} rows "
                f"({result.rung_ok}/{result.rung_trials}), {result.matches} matches")
        rows = []
        for r in results[name]:
            rows.append([
                r.attack.name + (" [target]" if r.attack.target else ""),
                r.needed if r.needed else f">{LADDER[-1]}",
                f"{r.rung_ok}/{r.rung_trials}",
                f"{r.marks:.0f}",
                neglog10(r.p_median),
                f"{r.tested:.0f}",
                r.matches,
                r.innocents_accused,
                r.errors,
            ])
        print_table(
            f"Rows needed: single leaker, marks only (canaries removed), {name} "
            f"({len(data.source[1])}-row source, {len(world.accounts)} accounts)",
            ["attack", "rows", "ok@rows", "marks", "-log10 p", "tested", "matches", "innocents accused", "errors"],
            rows,
            note=f"rows: smallest n in {LADDER} where >= {SUCCESS:.0%} of {trials} trials accuse exactly the leaker\n"
                 "(a random account each trial); ok@rows: trials that did at that rung (or at the last rung tried);\n"
                 "marks: the leaker's marks read (median); -log10 p: the leaker's corrected p-value (median);\n"
                 "tested: accounts tested (mean); innocents accused: over every trial of that attack.",
        )
    return results

