"""A capable broker and insiders who hold the same records: rows needed to name the leaker.

The world (``setup_gang``): 20,000 waybills (6,000 with ``--quick``) made by ``gang_world.py`` (no
tracer, no faker), exported whole by each of 12 accounts (6), so exposure cannot
tell them apart and only marks and canaries can.  Leaks keep their canaries
(a real leak does) unless the attack removes them.

Attacks (``attack_clean.full_clean`` is our own canonicaliser; the flip uses
tracer's public slot code):

- one account: plain subset; full clean of every column; the same with the
  waybill number and the time dropped; name/phone/address only, full clean;
  every variant flipped; the fixture orders, full clean (on the main world);
- two accounts: the records both copies hold (every per-account canary
  gone), each cell from a random copy, full clean;
- three accounts: per-cell majority (records in one copy only deleted), full
  clean.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import attack_clean as K
import attack_collusion as C
import attacks as A
import gang_world
from attack_flip import flip_all
from attacks import Table
from benchlib import SUCCESS, WAYBILL_RECIPIENT, log, neglog10, print_table
from book import Book
from worlds import Data, World, build_world, load, window

GANG_RECORDS = 20_000
GANG_ACCOUNTS = 12
QUICK_GANG = (6_000, 6)  # --quick: records, accounts
SINGLE_LADDER = (8, 16, 32, 64, 128, 256, 512, 1024, 2048)
COLLUSION_LADDER = (500, 1000, 2000, 5000, 10_000, 20_000)
QUICK_COLLUSION_LADDER = (2000, 5000)


def setup_gang(work: Path, seed: int, quick: bool = False) -> World:
    records, accounts = QUICK_GANG if quick else (GANG_RECORDS, GANG_ACCOUNTS)
    header, own = gang_world.make_waybills(records, 7_000 + seed, "ZT")
    _, other = gang_world.make_waybills(2_000, 8_000 + seed, "JD")
    data = load("gang", (header, own), (header, other))
    windows = {f"clerk-{k:02d}": (lambda n: window(n, 0, n)) for k in range(accounts)}
    return build_world(work, "gang", {"gang": data}, windows)


@dataclass(frozen=True)
class Scenario:
    name: str
    world: str  # "gang" or "main"
    table: str  # which Data of the world
    colluders: int  # 1: one account's leak; 2, 3: insiders with the same records
    make: Callable[[list[Table], Data, random.Random], Table]  # copies -> the leak
    target: int | None = None  # rows at most (None: measured only)
    target_label: str = ""


def _one(fn: Callable[[Table], Table]) -> Callable[[list[Table], Data, random.Random], Table]:
    return lambda copies, data, rng: fn(copies[0])


def _recipient(table: Table) -> Table:
    return A.select_columns(table, WAYBILL_RECIPIENT)


def _no_id_no_time(table: Table) -> Table:
    return A.drop_columns(table, ["运单号", "下单时间"])


def _intersection_random_cell(copies: list[Table], data: Data, rng: random.Random) -> Table:
    return K.full_clean(C.interleave(copies, data.id_col, rng, common_only=True))


def _majority(copies: list[Table], data: Data, rng: random.Random) -> Table:
    return K.full_clean(C.diff_scrub(copies, data.id_col, rng, "majority", drop_singletons=True))


SCENARIOS = [
    Scenario("one account, plain subset", "gang", "gang", 1, _one(lambda t: t)),
    Scenario("one account, full clean, all columns", "gang", "gang", 1, _one(K.full_clean), 256,
             "one account, full clean, all columns: <= 256 rows"),
    Scenario("same, waybill number and time dropped", "gang", "gang", 1, _one(lambda t: K.full_clean(_no_id_no_time(t)))),
    Scenario("one account, name/phone/address only, full clean", "gang", "gang", 1,
             _one(lambda t: K.full_clean(_recipient(t))), 512,
             "one account, full clean, name/phone/address only: <= 512 rows"),
    Scenario("one account, every variant flipped (tracer's public slots)", "gang", "gang", 1, _one(flip_all), 16,
             "one account, every variant flipped: <= 16 rows"),
    Scenario("waybills (fixture, 40 accounts), full clean, all columns", "main", "waybills", 1, _one(K.full_clean)),
    Scenario("orders (fixture, 40 accounts), full clean", "main", "orders", 1, _one(K.full_clean)),
    Scenario("two accounts, same records: rows in both copies, random cell, full clean", "gang", "gang", 2,
             _intersection_random_cell, 10_000,
             "two accounts, same records, intersection + random cell + full clean: >= 1 accused from <= 10,000 rows"),
    Scenario("three accounts, same records: per-cell majority, full clean", "gang", "gang", 3, _majority, 20_000,
             "three accounts, same records, majority + full clean: >= 1 accused from <= 20,000 rows"),
]


@dataclass
class Outcome:
    scenario: Scenario
    needed: int | None
    ok: int
    done: int
    marks: float
    canary_hits: float
    p_median: float
    matches: int
    innocents_accused: int

    @property
    def passed(self) -> bool | None:
        if self.scenario.target is None:
            return None
        return self.needed is not None and self.needed <= self.scenario.target and self.innocents_accused == 0


def _leak(world: World, scenario: Scenario, n: int, rng: random.Random) -> tuple[Table, set[str]]:
    data = world.data[scenario.table]
    guilty = rng.sample(world.accounts, scenario.colluders)
    if scenario.colluders == 1:
        return scenario.make([A.subset(data.exports[guilty[0]], n, rng)], data, rng), set(guilty)
    common = sorted(set.intersection(*({r[data.id_col] for r in data.exports[a][1]} for a in guilty)))
    chosen = set(rng.sample(common, min(n, len(common))))
    copies = [A.keep_ids(data.exports[a], chosen, data.id_col) for a in guilty]
    return A.shuffle(scenario.make(copies, data, rng), rng), set(guilty)


def run_scenario(world: World, scenario: Scenario, rungs: tuple[int, ...], trials: int, rng: random.Random,
                 book: Book) -> Outcome:
    """The smallest rung at which >= 90% of trials accuse exactly the leaker (one account) or at
    least one colluder and no innocent (several)."""
    group = "broker: " + scenario.name
    allowed = trials - math.ceil(SUCCESS * trials)
    matches = 0
    last = (0, 0, 0.0, 0.0, 1.0)
    for n in rungs:
        ok = fails = 0
        marks, hits, ps = [], [], []
        for _ in range(trials):
            leak, guilty = _leak(world, scenario, n, rng)
            path = A.write_csv(book.path(world, "broker").with_suffix(".csv"), leak)
            verdict = book.match(world, [path], guilty, group)
            path.unlink(missing_ok=True)
            matches += 1
            accused = [s.account for s in verdict.suspects] if verdict else []
            mine = [c for c in verdict.candidates if c.account in guilty] if verdict else []
            if mine:
                best = min(mine, key=lambda c: c.p_value)
                marks.append(best.marks_observed)
                hits.append(sum(c.canary_hits for c in mine))
                ps.append(best.p_value)
            good = set(accused) <= guilty and (accused == sorted(guilty) if scenario.colluders == 1 else bool(accused))
            if good:
                ok += 1
            else:
                fails += 1
                if fails > allowed:
                    break
        last = (ok, ok + fails, statistics.median(marks) if marks else 0.0,
                statistics.mean(hits) if hits else 0.0, statistics.median(ps) if ps else 1.0)
        log(f"broker: {scenario.name}: {n} rows: {ok}/{ok + fails}")
        if fails <= allowed:
            return Outcome(scenario, n, *last, matches, book.accused[group])
    return Outcome(scenario, None, *last, matches, book.accused[group])


def run_broker(worlds: dict[str, World], trials: int, rng: random.Random, book: Book, quick: bool) -> list[Outcome]:
    outcomes = []
    for scenario in SCENARIOS:
        world = worlds[scenario.world]
        if scenario.colluders == 1:
            rungs, runs = SINGLE_LADDER, trials
        else:
            rungs, runs = (QUICK_COLLUSION_LADDER, 1) if quick else (COLLUSION_LADDER, 3)
        outcomes.append(run_scenario(world, scenario, rungs, runs, rng, book))
    rows = []
    for o in outcomes:
        target = "" if o.scenario.target is None else (f"<= {o.scenario.target:,}" if o.scenario.colluders == 1
                                                       else f">= 1 from <= {o.scenario.target:,}")
        verdict = {None: "", True: "PASS", False: "FAIL"}[o.passed]
        top = (SINGLE_LADDER if o.scenario.colluders == 1 else COLLUSION_LADDER)[-1]
        rows.append([o.scenario.name, f"{o.needed:,}" if o.needed else f">{top:,}", f"{o.ok}/{o.done}",
                     f"{o.marks:.0f}", f"{o.canary_hits:.1f}", neglog10(o.p_median), o.matches,
                     o.innocents_accused, target, verdict])
    print_table(
        f"A capable broker, and insiders with the same records ({len(worlds['gang'].data['gang'].source[1]):,} "
        f"independent waybills, {len(worlds['gang'].accounts)} accounts exporting all of them)",
        ["attack", "rows needed", "ok@rows", "marks", "canary hits", "-log10 p", "matches", "innocents accused",
         "target", ""],
        rows,
        note="rows needed: smallest rung where >= 90% of trials accuse exactly the leaker (one account) or >= 1\n"
             "colluder and no innocent; one-account rungs " + str(SINGLE_LADDER) + ", collusion rungs "
             + str(QUICK_COLLUSION_LADDER if quick else COLLUSION_LADDER) + ".\n"
             "marks: the (best) guilty account's marks read, median; canary hits: summed over the guilty, mean;\n"
             "-log10 p: its corrected p-value, median, at that rung. Leaks keep the canaries they were exported with.",
    )
    return outcomes
