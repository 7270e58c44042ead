"""Several insiders: five merged and buried in foreign rows; three mixing or scrubbing the same records."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence

from attack_lists import CSV, DUMP, IDENT, RESELLER_O, RESELLER_W, Ctx
from benchlib import SUCCESS, log, neglog10, print_table
from book import Book
from worlds import BIG_ACCOUNTS, BIG_FOREIGN, BIG_SOURCE, BIG_WIDTH, INSIDER_ROWS, REGIONAL, Data, World

import attack_collusion as C
import attacks as A
from attacks import Table



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
        ("interleaved cell by cell, canaries kept", lambda c, d, r: C.interleave(c, d.id_col, r), True),
        ("interleaved cell by cell, marks only",
         lambda c, d, r: marks_only(C.interleave(c, d.id_col, r, common_only=True), d), True),
        ("diff-scrub: majority, singletons deleted", lambda c, d, r: C.diff_scrub(c, d.id_col, r, "majority"), True),
        ("diff-scrub: differing cells emptied", lambda c, d, r: C.diff_scrub(c, d.id_col, r, "drop"), False),
        ("diff-scrub: canonical spelling (longest)",
         lambda c, d, r: C.diff_scrub(c, d.id_col, r, "canonical", prefer="long"), False),
        ("diff-scrub: canonical spelling (shortest)",
         lambda c, d, r: C.diff_scrub(c, d.id_col, r, "canonical", prefer="short"), False),
    ]
    extra = {
        "waybills": [("interleaved, marks only, then reseller dump",
                      lambda c, d, r: RESELLER_W(marks_only(C.interleave(c, d.id_col, r, common_only=True), d),
                                                 Ctx(r, d)), True, DUMP)],
        "orders": [("interleaved, marks only, then reseller dump",
                    lambda c, d, r: RESELLER_O(marks_only(C.interleave(c, d.id_col, r, common_only=True), d),
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
        ("interleaved cell by cell, marks only", lambda c, d, r: C.interleave(c, d.id_col, r, common_only=True)),
        ("diff-scrub: majority", lambda c, d, r: C.diff_scrub(c, d.id_col, r, "majority")),
        ("diff-scrub: differing cells emptied", lambda c, d, r: C.diff_scrub(c, d.id_col, r, "drop")),
        ("diff-scrub: canonical spelling (longest)",
         lambda c, d, r: C.diff_scrub(c, d.id_col, r, "canonical", prefer="long")),
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

