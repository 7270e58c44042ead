"""What every part of the detection bench shares: paths, constants, the log, the tables printed.

Imported first by every bench module: it puts ``benchmarks/`` and
``fixtures/`` on ``sys.path`` (the benches are scripts, not a package).
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURES = ROOT / "fixtures"
for _path in (str(HERE), str(FIXTURES)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

LADDER = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
SUCCESS = 0.9
ALPHAS = (0.05, 0.01, 0.001)
FPR = 1e-6  # api.match's default

WAYBILL_RECIPIENT = ["收件人", "收件人电话", "收件地址"]
ORDER_CONTACT = ["Customer Name", "Phone", "Shipping Address"]

START = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f}s] {message}", file=sys.stderr, flush=True)


def bench_key(seed: int, index: int = 0) -> str:
    return hashlib.sha256(f"tracer-detection-bench-{seed}{'-' + str(index) if index else ''}".encode()).hexdigest()


def time_make_canary(clock=time.thread_time) -> list:
    """Wrap ``make_canary`` where the exporter and the shared decoys call it: the returned list holds
    the CPU seconds spent in it (by ``clock``) and its calls, summed as an export runs
    (``canary_cost.py``, ``export_share.py``)."""
    import tracer.export_decoys
    import tracer.shared_canaries

    spent = [0.0, 0]
    real = tracer.export_decoys.make_canary

    def make_canary(*args, **kwargs):
        start = clock()
        try:
            return real(*args, **kwargs)
        finally:
            spent[0] += clock() - start
            spent[1] += 1

    tracer.export_decoys.make_canary = tracer.shared_canaries.make_canary = make_canary
    return spent


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
