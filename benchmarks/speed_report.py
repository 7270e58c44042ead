"""The speed bench's tables: every run, then the SPEC's targets with PASS / FAIL, then the registry's
growth and lookups in detail."""

from __future__ import annotations

import math
import re
import statistics
import sys

from speed_lookup import LOOKUP_DIGESTS, Lookup, Plan
from speed_rounds import PYTHON_EXPORT, PYTHON_MATCH, Bench
from speed_runs import fmt_bytes, fmt_rows

COURIER_YEAR = 10**10  # records a large courier handles in a year


def print_table(title: str, columns: list[str], rows: list[list[str]], justify: list[str] | None = None) -> None:
    justify = justify or ["left"] * len(columns)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
        print(f"\n{title}")
        line = lambda cells: "  ".join(  # noqa: E731
            c.rjust(w) if j == "right" else c.ljust(w) for c, w, j in zip(cells, widths, justify))
        print(line(columns))
        print(line(["-" * w for w in widths]))
        for r in rows:
            print(line(r))
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    for c, j in zip(columns, justify):
        table.add_column(c, justify=j)
    for r in rows:
        style = "red" if "FAIL" in r else None
        table.add_row(*r, style=style)
    Console(width=None if sys.stdout.isatty() else 200, highlight=False).print(table)


TARGET = {"tracer export": 1.5, "tracer match": 2.0}  # × the plain copy (issue 15); stretch 1.0× both


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fx(value: float | None, spec: str = ".2f", suffix: str = "×") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("PASS" if ok else "FAIL")


def report(bench: Bench, sizes: list[int], xlsx_rows: int, plans: list[Plan], lookups: list[Lookup]) -> bool:
    m = bench.measures
    get = lambda what, n: m.get((what, n))  # noqa: E731
    secs = lambda what, n: get(what, n).seconds if get(what, n) else None  # noqa: E731

    # --- the main table ---------------------------------------------------
    rows = []
    order = ["plain csv copy", "polars copy", "tracer export", PYTHON_EXPORT, "tracer match", PYTHON_MATCH]
    for n in sizes:
        plain, polars = secs("plain csv copy", n), secs("polars copy", n)
        for what in order:
            x = get(what, n)
            if x is None:
                continue
            s = x.seconds
            target, ok = "", None
            if what in ("tracer export", "tracer match"):
                limit = TARGET[what]
                target = f"≤ {limit}× plain (stretch 1.0×)"
                ok = None if s is None or plain is None else s <= limit * plain
                if what == "tracer export" and polars:
                    target += "; stretch ≤ 2× polars"
            failed = x.failed
            note = x.note if s is not None else f"failed: {failed.error() if failed else '?'}"
            rows.append([fmt_rows(n), what, fx(s, ".2f", ""), fx(x.cpu, ".2f", ""),
                         "–" if s is None else f"{n / s:,.0f}", fx(ratio(s, plain)), fx(ratio(s, polars)),
                         fx(x.rss_mb, ".0f", ""), target, verdict(ok), note])
    for what in ("plain xlsx copy", "tracer export xlsx"):
        x = get(what, xlsx_rows)
        if x is None:
            continue
        s, base = x.seconds, secs("plain xlsx copy", xlsx_rows)
        rows.append([fmt_rows(xlsx_rows), what, fx(s, ".2f", ""), fx(x.cpu, ".2f", ""),
                     "–" if s is None else f"{xlsx_rows / s:,.0f}", fx(ratio(s, base)), "–",
                     fx(x.rss_mb, ".0f", ""), "measured" if what.startswith("tracer") else "",
                     "–", x.note if s is not None else f"failed: {x.failed.error() if x.failed else '?'}"])
    print_table(
        "Speed (wall-clock seconds, best of the runs; the xlsx rows' ratio is against the plain xlsx copy)",
        ["rows", "what", "seconds", "cpu s", "rows/s", "× plain", "× polars", "peak RSS MB", "target", "",
         "note"],
        rows, ["right", "left", "right", "right", "right", "right", "right", "right", "left", "left", "left"])

    # --- targets ----------------------------------------------------------
    targets: list[list[str]] = []
    failed = False
    target_sizes = [n for n in sizes if n >= 200_000] or sizes[-1:]
    quick = "" if any(n >= 200_000 for n in sizes) else " (smaller than the SPEC's sizes)"

    def add(what: str, measured: str, target: str, ok: bool | None, counts: bool = True) -> None:
        nonlocal failed
        if ok is False and counts:
            failed = True
        targets.append([what, measured, target, verdict(ok) + ("" if counts or ok is None else " (stretch)")])

    for n in target_sizes:
        s, plain, polars = secs("tracer export", n), secs("plain csv copy", n), secs("polars copy", n)
        r = ratio(s, plain)
        add(f"tracer export, {fmt_rows(n)} waybills (CSV){quick}", fx(r) + " plain copy",
            f"≤ {TARGET['tracer export']}× plain copy", None if r is None else r <= TARGET["tracer export"])
        add(f"tracer export, {fmt_rows(n)} waybills (CSV){quick}", fx(r) + " plain copy", "stretch: ≤ 1.0× plain copy",
            None if r is None else r <= 1.0, counts=False)
        rpy = ratio(secs(PYTHON_EXPORT, n), plain)
        if rpy is not None:
            add(f"tracer export, python engine, {fmt_rows(n)} waybills (CSV){quick}", fx(rpy) + " plain copy",
                "measured", None)
        rp = ratio(s, polars)
        if polars is not None:
            add(f"tracer export, {fmt_rows(n)} waybills (CSV){quick}", fx(rp) + " polars copy",
                "stretch: ≤ 2× polars copy", None if rp is None else rp <= 2.0, counts=False)
    match_size = 200_000 if 200_000 in sizes else sizes[-1]
    s, plain = secs("tracer match", match_size), secs("plain csv copy", match_size)
    r = ratio(s, plain)
    add(f"tracer match, {fmt_rows(match_size)}-row leak, {bench.args.accounts:,} accounts"
        + ("" if match_size == 200_000 else " (not the SPEC's 200k)"),
        fx(r) + " plain copy", f"≤ {TARGET['tracer match']}× plain copy",
        None if r is None else r <= TARGET["tracer match"])
    rpy = ratio(secs(PYTHON_MATCH, match_size), plain)
    if rpy is not None:
        add(f"tracer match, python engine, {fmt_rows(match_size)}-row leak", fx(rpy) + " plain copy", "measured", None)
    low = 100_000 if 100_000 in sizes and sizes[-1] > 100_000 else sizes[0]
    high = sizes[-1]
    for what in ("tracer export", "tracer match"):
        a, b = get(what, low), get(what, high)
        ra = ratio(b.rss_mb if b else None, a.rss_mb if a else None)
        label = f"peak memory, {what.split()[1]}: {fmt_rows(high)} vs {fmt_rows(low)} rows"
        if (low, high) != (100_000, 1_000_000):
            label += " (SPEC: 1M vs 100k)"
        add(label, f"{fx(b.rss_mb if b else None, '.0f', ' MB')} / {fx(a.rss_mb if a else None, '.0f', ' MB')} = "
            f"{fx(ra)}", "≤ 1.2×", None if ra is None or low == high else ra <= 1.2)

    per_row = {}
    for g in bench.growth:
        per_row.setdefault(g.rows, []).append(g.bytes / g.rows)
    if per_row:
        largest = max(per_row)
        bpr = statistics.median(per_row[largest])
        add(f"registry growth per exported row ({fmt_rows(largest)}-row exports)", f"{bpr:.1f} B/row",
            "measured", None)
        add(f"registry for a courier's year (10^{round(math.log10(COURIER_YEAR))} exported records)",
            fmt_bytes(bpr * COURIER_YEAR), "projected", None)
    if plans:
        exposure = [p for p in plans if re.search(r"\bexposure(_blocks)?\b", p.sql)] or plans
        add("exposure lookups indexed (EXPLAIN QUERY PLAN)", "; ".join(sorted({d for p in exposure for d in p.details})),
            "SEARCH … USING PRIMARY KEY / INDEX", all(p.indexed for p in exposure))
        others = [p for p in plans if p not in exposure]
        if others:
            add("canary lookups indexed (EXPLAIN QUERY PLAN)",
                "; ".join(sorted({d for p in others for d in p.details})), "SEARCH … USING PRIMARY KEY / INDEX",
                all(p.indexed for p in others))
    for lk in lookups:
        ok = lk.found >= lk.expected
        add(f"exposure lookup, {lk.digests:,} digests in a registry of {lk.exposure_rows:,} exposure rows",
            f"{lk.ms_per_1k:.2f} ms per 1k digests ({lk.found:,} found of {lk.expected:,} present)",
            "measured", None if ok else False)
    x, base = secs("tracer export xlsx", xlsx_rows), secs("plain xlsx copy", xlsx_rows)
    if x is not None or base is not None:
        add(f"xlsx export, {fmt_rows(xlsx_rows)} rows", f"{fx(ratio(x, base))} plain xlsx copy", "measured", None)
    for f in bench.failures:
        add("error", f, "no error", False)
    print_table("Targets (SPEC)", ["what", "measured", "target", ""], targets)

    # --- registry growth and lookups, in detail ----------------------------
    if bench.growth:
        rows = []
        for g in bench.growth:
            rows.append([fmt_rows(g.rows), g.account, fmt_bytes(g.bytes), f"{g.bytes / g.rows:.1f}",
                         "–" if g.anchors is None else f"{g.anchors:,}",
                         "–" if not g.anchors else f"{g.bytes / g.anchors:.1f}"])
        print_table("Registry growth per export (file size after a WAL checkpoint)",
                    ["rows", "account", "grown", "B/row", "exposure digests", "B/digest"], rows,
                    ["right", "left", "right", "right", "right", "right"])
    if plans:
        print_table("Query plans of the installed registry's lookups", ["method", "SQL", "plan", ""],
                    [[p.name, p.sql, "; ".join(p.details), verdict(p.indexed)] for p in plans])
    if lookups:
        print_table(f"Exposure lookups ({LOOKUP_DIGESTS:,} digests, half present)",
                    ["exposure rows", "file", "filled in", "lookup s", "ms per 1k digests"],
                    [[f"{lk.exposure_rows:,}", fmt_bytes(lk.file_bytes), f"{lk.build_seconds:.0f} s",
                      f"{lk.seconds:.2f}", f"{lk.ms_per_1k:.2f}"] for lk in lookups],
                    ["right"] * 5)
    return failed

