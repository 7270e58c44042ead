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

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(FIXTURES))

import attacks as A  # noqa: E402
from attacks import Table  # noqa: E402

from tracer import api  # noqa: E402
from tracer.errors import TracerError  # noqa: E402

LADDER = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
SUCCESS = 0.9
ALPHAS = (0.05, 0.01, 0.001)
FPR = 1e-6  # api.match's default

WAYBILL_RECIPIENT = ["收件人", "收件人电话", "收件地址"]
ORDER_CONTACT = ["Customer Name", "Phone", "Shipping Address"]

START = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# the registries
# --------------------------------------------------------------------------


@dataclass
class Data:
    """One source table, its foreign counterpart and every account's export of it."""

    name: str
    source: Table
    foreign: Table
    id_col: int
    source_ids: set[str]
    exports: dict[str, Table] = field(default_factory=dict)  # account -> its export, as written
    marks_only: dict[str, Table] = field(default_factory=dict)  # ... with its canaries removed
    windows: dict[str, list[int]] = field(default_factory=dict)  # account -> source row indexes


@dataclass
class World:
    registry: Path
    work: Path
    data: dict[str, Data]
    accounts: list[str]


def window(n_rows: int, start: int, width: int) -> list[int]:
    return [(start + i) % n_rows for i in range(width)]


def build_world(work: Path, name: str, data: dict[str, Data], windows: dict[str, Callable[[int], list[int]]]) -> World:
    """A registry in ``work/name`` where every account exports its window of every table."""
    directory = work / name
    directory.mkdir()
    registry = directory / "tracer.db"
    api.init(registry)
    for account in windows:
        api.add_account(registry, account)
    for table in data.values():
        header, rows = table.source
        for account, rows_of in windows.items():
            index = rows_of(len(rows))
            query = A.write_csv(directory / f"query-{table.name}-{account}.csv", (header, [rows[i] for i in index]))
            out = directory / f"export-{table.name}-{account}.csv"
            api.export(registry, query, account=account, output=out)
            exported = A.read_csv(out)
            table.windows[account] = index
            table.exports[account] = exported
            table.marks_only[account] = A.keep_ids(exported, table.source_ids, table.id_col)
            query.unlink()
        log(f"{name}: {len(windows)} accounts exported {table.name}")
    return World(registry, directory, data, list(windows))


def load(name: str, source: Table, foreign: Table) -> Data:
    id_col = A.id_column(source)
    return Data(name, source, foreign, id_col, {r[id_col] for r in source[1]})


MAIN_BRANCHES = 34
REGIONAL = 5


def main_windows() -> dict[str, Callable[[int], list[int]]]:
    windows: dict[str, Callable[[int], list[int]]] = {}
    for k in range(MAIN_BRANCHES):
        windows[f"branch-{k:02d}"] = lambda n, k=k: window(n, k * n // MAIN_BRANCHES, n // 5)
    for k in range(REGIONAL):
        windows[f"region-{k}"] = lambda n, k=k: window(n, k * n // 15, 4 * n // 5)
    windows["hq"] = lambda n: list(range(n))
    return windows


def setup_main(work: Path, name: str = "main") -> World:
    waybills = load("waybills", A.read_csv(FIXTURES / "waybills.csv"), A.read_csv(FIXTURES / "foreign_waybills.csv"))
    orders = load("orders", A.read_csv(FIXTURES / "orders.csv"), A.read_csv(FIXTURES / "foreign_orders.csv"))
    return build_world(work, name, {"waybills": waybills, "orders": orders}, main_windows())


BIG_SOURCE = 15_000
BIG_FOREIGN = 20_000
BIG_ACCOUNTS = 40
BIG_WIDTH = 3_000
INSIDER_ROWS = (3000, 1200, 400, 150, 60)


def setup_big(work: Path, seed: int) -> World:
    """15,000 own waybills, 20,000 foreign ones, 40 accounts with 3,000-row windows."""
    import make_fixtures

    header, own = A.read_csv(FIXTURES / "waybills.csv")
    _, foreign = A.read_csv(FIXTURES / "foreign_waybills.csv")
    used = {r[i] for r in own + foreign for i in (2, 5)}
    ids = {r[0] for r in own + foreign}
    log(f"big: generating {BIG_SOURCE - len(own)} own and {BIG_FOREIGN - len(foreign)} foreign waybills")
    more_own = [r for r in make_fixtures.make_waybills(BIG_SOURCE - len(own) + 50, 900_000 + seed, "YT", used)
                if r[0] not in ids][: BIG_SOURCE - len(own)]
    more_foreign = [r for r in make_fixtures.make_waybills(BIG_FOREIGN - len(foreign) + 50, 800_000 + seed, "SF", used)
                    if r[0] not in ids][: BIG_FOREIGN - len(foreign)]
    source = (header, own + more_own)
    data = load("waybills", source, (header, foreign + more_foreign))
    stride = BIG_SOURCE // BIG_ACCOUNTS
    windows = {f"site-{k:02d}": (lambda n, k=k: window(n, k * stride, BIG_WIDTH)) for k in range(BIG_ACCOUNTS)}
    return build_world(work, "big", {"waybills": data}, windows)


# --------------------------------------------------------------------------
# matching, and the book of every innocent candidate seen
# --------------------------------------------------------------------------


@dataclass
class Innocent:
    p_marks: float
    p_uncorrected: float  # 2 min(p_marks, p_canaries): the per-account p before the correction
    p_value: float  # corrected
    marks: int
    score: float
    accused: bool


@dataclass
class Book:
    innocents: dict[str, list[Innocent]] = field(default_factory=dict)  # scenario group -> innocents
    accused: Counter = field(default_factory=Counter)  # scenario group -> innocents accused
    matches: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    counter: int = 0

    def match(self, world: World, paths: Sequence[Path], guilty: set[str], group: str):
        """``api.match`` the leak; every candidate outside ``guilty`` is booked as innocent.
        A TracerError is booked and returns None (a failure to accuse)."""
        self.matches[group] += 1
        try:
            verdict = api.match(world.registry, list(paths), fpr=FPR)
        except TracerError as exc:
            self.errors.append(f"{group}: {exc}")
            return None
        for c in verdict.candidates:
            if c.account in guilty:
                continue
            unc = min(1.0, 2.0 * min(c.p_marks, c.p_canaries))
            self.innocents.setdefault(group, []).append(Innocent(c.p_marks, unc, c.p_value, c.marks_observed, c.score, c.accused))
            if c.accused:
                self.accused[group] += 1
        return verdict

    def path(self, world: World, stem: str) -> Path:
        self.counter += 1
        return world.work / f"leak-{self.counter:06d}-{stem}"


# --------------------------------------------------------------------------
# attacks, as (clean, write) pipelines
# --------------------------------------------------------------------------


@dataclass
class Ctx:
    rng: random.Random
    data: Data


@dataclass(frozen=True)
class Attack:
    name: str
    clean: Callable[[Table, Ctx], Table]
    write: Callable[[Path, Table], Path]
    target: str | None = None


Step = Callable[[Table, Ctx], Table]


def chain(*steps: Step) -> Step:
    def run(table: Table, ctx: Ctx) -> Table:
        for step in steps:
            table = step(table, ctx)
        return table

    return run


def pure(fn: Callable[[Table], Table]) -> Step:
    return lambda t, ctx: fn(t)


IDENT: Step = lambda t, ctx: t
SHUFFLE: Step = lambda t, ctx: A.shuffle(t, ctx.rng)
DUPLICATES: Step = lambda t, ctx: A.duplicate(t, 0.3, ctx.rng)
REORDER: Step = lambda t, ctx: A.reorder_columns(t, ctx.rng)
NFKC_WS: Step = chain(pure(A.nfkc), pure(A.collapse_whitespace))
DIGITS = pure(A.phones_digits)
INTL = pure(A.phones_international)
TRUNC = pure(A.truncate_addresses)


def foreign(n: int) -> Step:
    return lambda t, ctx: A.mix_foreign(t, ctx.data.foreign, n, ctx.rng)


def select(names: Sequence[str]) -> Step:
    return pure(lambda t: A.select_columns(t, names))


def drop(names: Sequence[str]) -> Step:
    return pure(lambda t: A.drop_columns(t, names))


def rename(language: str) -> Step:
    return pure(lambda t: A.rename_columns(t, A.RENAMES[language]))


def text(suffix: str = ".csv", encoding: str = "utf-8", delimiter: str = ",", header: bool = True,
         newline: str = "\n") -> Callable[[Path, Table], Path]:
    return lambda stem, t: A.write_delimited(stem.with_suffix(suffix), t, encoding=encoding, delimiter=delimiter,
                                             header=header, newline=newline)


CSV = text()
NOHEAD = text(header=False)
DUMP = lambda stem, t: A.write_dump(stem.with_suffix(".txt"), t)  # noqa: E731
XLSX = lambda stem, t: A.write_xlsx(stem.with_suffix(".xlsx"), t)  # noqa: E731
JSONL = lambda stem, t: A.write_jsonl(stem.with_suffix(".jsonl"), t)  # noqa: E731

RESELLER_W = chain(select(WAYBILL_RECIPIENT), pure(A.nfkc), pure(A.collapse_whitespace), DIGITS)
RESELLER_O = chain(select(ORDER_CONTACT), pure(A.nfkc), pure(A.collapse_whitespace), DIGITS)

TARGET_MARKS = "single leaker, marks only, all 10 waybill columns: <= 16 rows"
TARGET_DUMP = "single leaker, name/phone/address, cleaned, headerless GBK '----' dump: <= 64 rows"


def waybill_attacks() -> list[Attack]:
    return [
        Attack("plain CSV, all 10 columns", IDENT, CSV, TARGET_MARKS),
        Attack("shuffled, 30% of rows listed twice", DUPLICATES, CSV),
        Attack("buried in 1,000 foreign rows", foreign(1000), CSV),
        Attack("recipient name/phone/address only", select(WAYBILL_RECIPIENT), CSV),
        Attack("names and phones only", select(["寄件人", "寄件人电话", "收件人", "收件人电话"]), CSV),
        Attack("waybill number dropped", drop(["运单号"]), CSV),
        Attack("address/phone columns only, no ids", select(["寄件人电话", "寄件地址", "收件人电话", "收件地址"]), CSV),
        Attack("phone columns dropped (waybill number kept)", drop(["寄件人电话", "收件人电话"]), CSV),
        Attack("columns reordered", REORDER, CSV),
        Attack("headers renamed: English", rename("waybill_en"), CSV),
        Attack("headers renamed: Japanese", rename("waybill_ja"), CSV),
        Attack("headers renamed: traditional Chinese", rename("waybill_traditional"), CSV),
        Attack("headers renamed: pinyin abbreviations", rename("waybill_pinyin"), CSV),
        Attack("headers renamed: c1..c10", pure(A.opaque_header), CSV),
        Attack("header removed", IDENT, NOHEAD),
        Attack("columns reordered, header removed", REORDER, NOHEAD),
        Attack("utf-8-sig, tab-separated", IDENT, text(".tsv", "utf-8-sig", "\t")),
        Attack("gb18030, '|'-separated, CRLF", IDENT, text(".txt", "gb18030", "|", newline="\r\n")),
        Attack("utf-16, tab-separated", IDENT, text(".txt", "utf-16", "\t")),
        Attack("all columns, headerless GBK '----' dump", IDENT, DUMP),
        Attack("JSON lines", IDENT, JSONL),
        Attack("NFKC + whitespace collapsed", NFKC_WS, CSV),
        Attack("phones digits only", DIGITS, CSV),
        Attack("phones +86", INTL, CSV),
        Attack("upper case", pure(A.upper), CSV),
        Attack("addresses truncated after ...号", TRUNC, CSV),
        Attack("Excel round trip (.xlsx, numbers as numbers)", IDENT, XLSX),
        Attack("Excel CSV re-save (display values)", pure(A.excel_display), CSV),
        Attack("reseller dump: recipient name/phone/address, NFKC, digits, headerless GBK '----'",
               RESELLER_W, DUMP, TARGET_DUMP),
        Attack("reseller dump + 1,000 foreign rows", chain(foreign(1000), RESELLER_W), DUMP),
        Attack("reseller dump, addresses truncated", chain(RESELLER_W, TRUNC), DUMP),
        Attack("reseller dump of sender+recipient phones/addresses",
               chain(select(["寄件人电话", "寄件地址", "收件人电话", "收件地址"]), pure(A.nfkc), DIGITS), DUMP),
        Attack("combined: 1,000 foreign, reordered, English headers, NFKC, +86, truncated, utf-16 tab",
               chain(foreign(1000), rename("waybill_en"), REORDER, NFKC_WS, INTL, TRUNC),
               text(".txt", "utf-16", "\t")),
        Attack("combined: digits, truncated, Excel .xlsx, headerless",
               chain(REORDER, DIGITS, TRUNC), lambda stem, t: A.write_xlsx(stem.with_suffix(".xlsx"), t, header=False)),
    ]


def order_attacks() -> list[Attack]:
    return [
        Attack("plain CSV, all 10 columns", IDENT, CSV),
        Attack("shuffled, 30% of rows listed twice", DUPLICATES, CSV),
        Attack("buried in 1,000 foreign rows", foreign(1000), CSV),
        Attack("name/phone/address only", select(ORDER_CONTACT), CSV),
        Attack("name/email/phone only", select(["Customer Name", "Email", "Phone"]), CSV),
        Attack("order id dropped", drop(["Order ID"]), CSV),
        Attack("phone column dropped (order id kept)", drop(["Phone"]), CSV),
        Attack("columns reordered", REORDER, CSV),
        Attack("headers renamed: Chinese", rename("order_zh"), CSV),
        Attack("headers renamed: Spanish", rename("order_es"), CSV),
        Attack("headers renamed: Russian", rename("order_ru"), CSV),
        Attack("header removed", IDENT, NOHEAD),
        Attack("utf-16, tab-separated", IDENT, text(".txt", "utf-16", "\t")),
        Attack("all columns, headerless '----' dump", IDENT, DUMP),
        Attack("NFKC + whitespace collapsed", NFKC_WS, CSV),
        Attack("phones digits only", DIGITS, CSV),
        Attack("phones +1", INTL, CSV),
        Attack("lower case", pure(A.lower), CSV),
        Attack("upper case", pure(A.upper), CSV),
        Attack("addresses truncated after the street", TRUNC, CSV),
        Attack("Excel round trip (.xlsx, numbers as numbers)", IDENT, XLSX),
        Attack("Excel CSV re-save (display values)", pure(A.excel_display), CSV),
        Attack("reseller dump: name/phone/address, NFKC, digits, headerless '----'", RESELLER_O, DUMP),
        Attack("combined: 1,000 foreign, Chinese headers, reordered, lower, +1, truncated, utf-16 headerless",
               chain(foreign(1000), rename("order_zh"), REORDER, pure(A.lower), INTL, TRUNC),
               text(".txt", "utf-16", "\t", header=False)),
    ]


ATTACKS = {"waybills": waybill_attacks, "orders": order_attacks}


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], note: str = "") -> None:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print()
    print(f"## {title}")
    if note:
        for part in note.strip().splitlines():
            print(f"   {part}")
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print(line)
    for r in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print(line)
    sys.stdout.flush()


def neglog10(p: float) -> str:
    if p <= 0:
        return ">300"
    return f"{max(0.0, -math.log10(p)):.1f}"


# --------------------------------------------------------------------------
# 1. rows needed per attack
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# 2. five insiders merged and buried in 20,000 foreign rows
# --------------------------------------------------------------------------


def five_insiders(world: World, trials: int, rng: random.Random, book: Book) -> list[list[object]]:
    data = world.data["waybills"]
    step = BIG_ACCOUNTS // len(INSIDER_ROWS)
    variants = [
        ("CSV, all columns, canaries kept", data.exports, IDENT, CSV),
        ("CSV, all columns, marks only", data.marks_only, IDENT, CSV),
        ("reseller dump (recipient name/phone/address, NFKC, digits, GBK '----'), marks only", data.marks_only,
         RESELLER_W, DUMP),
    ]
    table = []
    for label, pools, clean, write in variants:
        for trial in range(trials):
            offset = (trial * 3) % step
            insiders = [world.accounts[(offset + k * step) % BIG_ACCOUNTS] for k in range(len(INSIDER_ROWS))]
            parts = [A.subset(pools[a], n, rng) for a, n in zip(insiders, INSIDER_ROWS)]
            merged = A.dedupe(A.concat(*parts), data.id_col)
            leak = A.mix_foreign(merged, data.foreign, BIG_FOREIGN, rng)
            path = write(book.path(world, "five"), clean(leak, Ctx(rng, data)))
            verdict = book.match(world, [path], set(insiders), "five insiders")
            path.unlink(missing_ok=True)
            accused = {s.account for s in verdict.suspects} if verdict else set()
            by_name = {c.account: c for c in verdict.candidates} if verdict else {}
            cells = []
            for a, n in zip(insiders, INSIDER_ROWS):
                c = by_name.get(a)
                mark = "Y" if a in accused else "n"
                cells.append(f"{n}:{mark} {neglog10(c.p_value) if c else '-'}")
            innocent = len(accused - set(insiders))
            # the smallest insider's very rows, matched alone: what the merge and the foreign rows cost it
            small = insiders[-1]
            alone_path = write(book.path(world, "five-alone"), clean(parts[-1], Ctx(rng, data)))
            alone = book.match(world, [alone_path], {small}, "five insiders")
            alone_path.unlink(missing_ok=True)
            a = next((c for c in alone.candidates if c.account == small), None) if alone else None
            m = by_name.get(small)
            table.append([label, trial + 1, len(leak[1]), len(verdict.candidates) if verdict else 0,
                          f"{len(accused & set(insiders))}/5", *cells, innocent,
                          f"{m.marks_observed if m else 0}/{m.marks_agreeing if m else 0}",
                          f"{a.marks_observed if a else 0}/{a.marks_agreeing if a else 0} "
                          f"{neglog10(a.p_value) if a else '-'}"])
            log(f"five insiders: {label}, trial {trial + 1}: {len(accused & set(insiders))}/5 accused, "
                f"{innocent} innocents")
    print_table(
        f"Five insiders merged ({'/'.join(map(str, INSIDER_ROWS))} rows), deduped, buried in {BIG_FOREIGN:,} "
        "foreign rows",
        ["leak", "trial", "rows", "tested", "accused", *[f"{n} rows" for n in INSIDER_ROWS], "innocents accused",
         f"{INSIDER_ROWS[-1]}-row insider marks/agreeing", "same rows alone: marks/agreeing -log10 p"],
        table,
        note=f"{BIG_SOURCE:,}-row waybill source, {BIG_ACCOUNTS} accounts with {BIG_WIDTH:,}-row windows "
             f"{BIG_SOURCE // BIG_ACCOUNTS} rows apart; the insiders are\n"
             f"accounts {step} apart: their exports hold different records (different branches), each record also\n"
             "seen by 7 innocent accounts. Per insider: rows leaked, Y/n accused, -log10 of its corrected p-value.\n"
             f"Last columns: the {INSIDER_ROWS[-1]}-row insider's marks scored / agreeing in the merged leak, and the same "
             "rows matched alone (same cleaning).",
    )
    return table


# --------------------------------------------------------------------------
# 3. three insiders with the same 2,000 rows
# --------------------------------------------------------------------------


def colluder_copies(data: Data, colluders: Sequence[str]) -> tuple[list[Table], set[str]]:
    """Each colluder's export cut to the span of the records all of them hold (canaries in it kept)."""
    common = set.intersection(*({data.source[1][i][data.id_col] for i in data.windows[a]} for a in colluders))
    copies = []
    for a in colluders:
        header, rows = data.exports[a]
        where = [i for i, r in enumerate(rows) if r[data.id_col] in common]
        copies.append((header, rows[where[0]: where[-1] + 1]))
    return copies, common


def three_insiders(world: World, trials: int, rng: random.Random, book: Book, quick: bool) -> list[list[object]]:
    triples = [[f"region-{k + j}" for j in range(3)] for k in range(1 if quick else REGIONAL - 2)]

    def marks_only(table: Table, data: Data) -> Table:
        return A.keep_ids(table, data.source_ids, data.id_col)

    variants: list[tuple[str, Callable, bool]] = [
        ("interleaved cell by cell, canaries kept", lambda c, d, r: A.interleave(c, d.id_col, r), True),
        ("interleaved cell by cell, marks only",
         lambda c, d, r: marks_only(A.interleave(c, d.id_col, r, common_only=True), d), True),
        ("diff-scrub: majority, singletons deleted", lambda c, d, r: A.diff_scrub(c, d.id_col, r, "majority"), True),
        ("diff-scrub: differing cells emptied", lambda c, d, r: A.diff_scrub(c, d.id_col, r, "drop"), False),
        ("diff-scrub: canonical spelling (longest)",
         lambda c, d, r: A.diff_scrub(c, d.id_col, r, "canonical", prefer="long"), False),
        ("diff-scrub: canonical spelling (shortest)",
         lambda c, d, r: A.diff_scrub(c, d.id_col, r, "canonical", prefer="short"), False),
    ]
    extra = {
        "waybills": [("interleaved, marks only, then reseller dump",
                      lambda c, d, r: RESELLER_W(marks_only(A.interleave(c, d.id_col, r, common_only=True), d),
                                                 Ctx(r, d)), True, DUMP)],
        "orders": [("interleaved, marks only, then reseller dump",
                    lambda c, d, r: RESELLER_O(marks_only(A.interleave(c, d.id_col, r, common_only=True), d),
                                               Ctx(r, d)), True, DUMP)],
    }
    table = []
    for name, data in world.data.items():
        for label, make, random_attack, *write in [(*v, CSV) for v in variants] + extra[name]:
            write = write[0]
            runs = trials if random_attack else 1
            for k, colluders in enumerate(triples):
                for trial in range(runs):
                    copies, common = colluder_copies(data, colluders)
                    leak = make(copies, data, rng)
                    path = write(book.path(world, "three"), leak)
                    verdict = book.match(world, [path], set(colluders), "three insiders")
                    path.unlink(missing_ok=True)
                    accused = {s.account for s in verdict.suspects} if verdict else set()
                    by_name = {c.account: c for c in verdict.candidates} if verdict else {}
                    ps = " ".join(neglog10(by_name[a].p_value) if a in by_name else "-" for a in colluders)
                    got = len(accused & set(colluders))
                    table.append([f"{name}: {label}", f"{'+'.join(c[-1] for c in colluders)}#{trial + 1}",
                                  len(common), len(leak[1]), f"{got}/3", ps,
                                  sum(by_name[a].canary_hits for a in colluders if a in by_name),
                                  len(accused - set(colluders))])
                    log(f"three insiders: {name}: {label} {colluders} #{trial + 1}: {got}/3 accused")
    print_table(
        "Three insiders with the same 2,000 records: interleaving and diff-scrubbing",
        ["leak", "colluders#", "shared", "rows", "accused", "-log10 p each", "canary hits", "innocents accused"],
        table,
        note="colluders: regional accounts region-k..k+2 (2,400-row windows 200 rows apart share exactly 2,000 rows);\n"
             "copies aligned by identifier; deterministic scrubs are run once per triple.",
    )
    return table


COLLUSION_LADDER = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def collusion_ladder(world: World, trials: int, rng: random.Random, book: Book) -> list[list[object]]:
    """Rows needed for >= 2 of 3 colluders accused: they pick n of their shared records, then mix or scrub."""
    triples = [[f"region-{k + j}" for j in range(3)] for k in range(REGIONAL - 2)]
    variants = [
        ("interleaved cell by cell, marks only", lambda c, d, r: A.interleave(c, d.id_col, r, common_only=True)),
        ("diff-scrub: majority", lambda c, d, r: A.diff_scrub(c, d.id_col, r, "majority")),
        ("diff-scrub: differing cells emptied", lambda c, d, r: A.diff_scrub(c, d.id_col, r, "drop")),
        ("diff-scrub: canonical spelling (longest)",
         lambda c, d, r: A.diff_scrub(c, d.id_col, r, "canonical", prefer="long")),
    ]
    allowed_failures = trials - math.ceil(SUCCESS * trials)
    table = []
    for name, data in world.data.items():
        for label, make in variants:
            needed, matches, last = None, 0, (0, 0, 0.0)
            accused_before = book.accused["collusion ladder"]
            for n in COLLUSION_LADDER:
                ok = fails = 0
                counts = []
                for _ in range(trials):
                    colluders = rng.choice(triples)
                    copies, common = colluder_copies(data, colluders)
                    chosen = set(rng.sample(sorted(common), n))
                    copies = [A.keep_ids(c, chosen, data.id_col) for c in copies]
                    path = CSV(book.path(world, "collude"), A.shuffle(make(copies, data, rng), rng))
                    verdict = book.match(world, [path], set(colluders), "collusion ladder")
                    path.unlink(missing_ok=True)
                    matches += 1
                    got = len({s.account for s in verdict.suspects} & set(colluders)) if verdict else 0
                    counts.append(got)
                    if got >= 2:
                        ok += 1
                    else:
                        fails += 1
                        if fails > allowed_failures:
                            break
                last = (ok, ok + fails, statistics.mean(counts))
                if fails <= allowed_failures:
                    needed = n
                    break
            table.append([f"{name}: {label}", needed or f">{COLLUSION_LADDER[-1]}", f"{last[0]}/{last[1]}",
                          f"{last[2]:.1f}", matches, book.accused["collusion ladder"] - accused_before])
            log(f"collusion ladder: {name}: {label}: {needed or '>' + str(COLLUSION_LADDER[-1])} rows")
    print_table(
        "Rows needed: three colluders (same records) mixing or scrubbing, >= 2 of 3 accused",
        ["attack", "rows", "ok@rows", "mean accused", "matches", "innocents accused"],
        table,
        note=f"rows: smallest n in {COLLUSION_LADDER} where >= {SUCCESS:.0%} of {trials} trials accuse at least 2 of "
             "the 3 colluders\n(a random regional triple each trial; n of their shared records; canaries gone).",
    )
    return table


# --------------------------------------------------------------------------
# 4. calibration: innocent trials
# --------------------------------------------------------------------------

CALIBRATION_N = (8, 16, 32, 64, 128, 256, 512)


def bench_key(seed: int, index: int = 0) -> str:
    return hashlib.sha256(f"tracer-detection-bench-{seed}{'-' + str(index) if index else ''}".encode()).hexdigest()


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
                merged = A.interleave(copies, data.id_col, rng)
            elif how == "concat":
                merged = A.dedupe(A.concat(*copies), data.id_col)
            else:
                merged = A.diff_scrub(copies, data.id_col, rng, how, drop_singletons=False)
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


# --------------------------------------------------------------------------
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
    parser.add_argument("--skip", action="append", default=[], choices=["ladder", "five", "three", "calibration"],
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
    total_accused = sum(book.accused.values())
    target("innocents accused over every scenario and the calibration run: 0", total_accused == 0,
           f"{total_accused} innocent accusations in {sum(book.matches.values())} matches")
    target("calibration: uncorrected p_marks and p_value rates <= alpha (0.05, 0.01, 0.001)", calibrated,
           f"{trials} innocent trials, {keys} keys" if calibrated is not None else "not run")
    log("done")
    return 0 if all(s != "FAIL" for s in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
