"""The speed bench's inputs: ten-column waybills at any count, and the leak cut from an export."""

from __future__ import annotations

import csv
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fixtures"))

import make_fixtures  # noqa: E402

from speed_runs import log  # noqa: E402

HEADER = make_fixtures.WAYBILL_HEADER


def permute(x: np.ndarray, half: int, seed: int, rounds: int = 4) -> np.ndarray:
    """A keyed bijection of [0, half**2) (a small Feistel network): distinct in, distinct out."""
    left, right = np.divmod(x.astype(np.int64), half)
    for r in range(rounds):
        k = (seed * 0x9E3779B1 + r * 0x85EBCA77) & 0xFFFFFFF
        f = ((right ^ k) * 2654435761 + k) % half
        left, right = right, (left + f) % half
    return left * half + right


class Waybills:
    """Ten-column waybills at any count: ``make_waybills`` rows, repeated with fresh ids and phones."""

    def __init__(self, base_rows: int, seed: int):
        t = time.perf_counter()
        self.base = make_fixtures.make_waybills(base_rows, seed, "YT", set())
        log(f"generated {base_rows:,} base waybills with make_fixtures.make_waybills "
            f"({(time.perf_counter() - t) / base_rows * 1e6:.0f} µs/row)")
        phones: dict[str, int] = {}
        for row in self.base:
            for col in (2, 5):
                phones.setdefault(row[col], len(phones))
        self.phone_index = [(phones[row[2]], phones[row[5]]) for row in self.base]
        self.segments = [p[:3] for p in phones]
        self.seed = seed

    def rows(self, n: int):
        """The first ``n`` rows of the sequence."""
        base, segments, count = self.base, self.segments, len(self.segments)
        copies = math.ceil(n / len(base))
        if copies * count > 10**8:
            raise SystemExit(f"{n:,} rows need more than 10^8 phones: raise --base-rows")
        ids = permute(np.arange(n, dtype=np.int64), 10**6, self.seed + 1)
        i = 0
        for copy in range(copies):
            last8 = permute(np.arange(copy * count, (copy + 1) * count, dtype=np.int64), 10**4, self.seed)
            phone = [f"{seg}{d:08d}" for seg, d in zip(segments, last8.tolist())]
            for row, (s, r) in zip(base, self.phone_index):
                if i >= n:
                    return
                yield [f"YT{7 + i % 3}{int(ids[i]):012d}", row[1], phone[s], row[3], row[4], phone[r],
                       *row[6:]]
                i += 1

    def write_csvs(self, paths: dict[int, Path]) -> None:
        """Every size's file in one pass (they are prefixes of one another)."""
        sizes = sorted(paths)
        handles = [open(paths[n], "w", encoding="utf-8", newline="") for n in sizes]
        writers = [csv.writer(h, lineterminator="\n") for h in handles]
        try:
            for w in writers:
                w.writerow(HEADER)
            live = list(zip(sizes, writers))
            for i, row in enumerate(self.rows(sizes[-1])):
                while live and live[0][0] <= i:
                    live.pop(0)
                for _, w in live:
                    w.writerow(row)
        finally:
            for h in handles:
                h.close()

    def write_xlsx(self, path: Path, n: int) -> None:
        import xlsxwriter

        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("waybills")
        sheet.write_row(0, 0, HEADER)
        weight = HEADER.index("重量(kg)")
        for r, row in enumerate(self.rows(n), start=1):
            for c, value in enumerate(row):
                if c == weight:
                    sheet.write_number(r, c, float(value))
                else:
                    sheet.write_string(r, c, value)
        book.close()


def write_leak(export: Path, leak: Path, n: int, seed: int) -> int:
    """The export shuffled and cut back to ``n`` rows (canaries may fall out)."""
    with open(export, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    random.Random(seed).shuffle(rows)
    rows = rows[:n]
    with open(leak, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return len(rows)

