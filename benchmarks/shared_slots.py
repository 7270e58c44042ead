"""How many versions per shared canary slot, how many slots, how many per-account canaries: a simulation.

Run:  python benchmarks/shared_slots.py [--quick] [--trials N] [--seed S]

Issue 12: after a full clean the marks are erased, and insiders who received
the same records remove every per-account canary by keeping only the rows all
their copies share.  A *shared* slot follows a record chosen by the key; each
account exporting that record gets one of ``2^k`` versions of a decoy, the
version spelling its codeword bits at the slot's ``k`` code positions.  Where
the colluders' versions agree the decoy is byte-identical in every copy and
survives the intersection (and any cleaning: its phone digits identify it);
where they differ it is gone (an erasure).

This models only what decides the parameters, at the level of the code:

- a Tardos code (biases ``sin^2 r``, cutoff 0.003) and independent random
  codewords for ``ACCOUNTS`` accounts that all exported the same records (so
  all are candidates, Bonferroni over them);
- a leak of ``n`` records, every mark erased by the full clean;
- ``Binomial(n, shared)`` slots of ``k`` positions, ``Binomial(n, canary)``
  per-account canaries per copy;
- attacks: one leaker (keeps everything), two colluders' intersection (random
  cell within identical rows changes nothing), three colluders' per-row
  majority (a decoy is kept where at least two copies hold the same version);
- the score and its two-sided bound are tracer's own (``tracer.code``), the
  canary p-value is ``C(C, h) (n q)^h`` with ``q = 1e-8`` (a phone from 10^8),
  combined as ``k min(p_canary, p_marks, p_shared)`` (``k`` = 3 tests, 2 when
  no shared decoy is left) times the number of candidates, as ``accuse`` does.

It prints, per (k, shared rate, canary rate), the smallest leak on the ladder
where ``--share`` of the trials accuse at least one guilty account, and the
innocents accused over every trial (must be 0); then the calibration of the
innocents' uncorrected p-values.  The pipeline itself is measured by
``tests/test_shared_canaries.py`` and the detection bench.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tracer import code  # noqa: E402  (the bound as the matcher computes it)

LENGTH = 1 << 16
CUTOFF = 0.003
ACCOUNTS = 12  # accounts exporting the same records (the bench)
FPR = 1e-6
Q = 1e-8  # chance a leaked phone equals a given canary phone (one of 10^8 on its segment)
LADDER = (256, 512, 1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000)
EXPORT_ROWS = 45000  # rows of the export the canary count C is taken from


@dataclass(frozen=True)
class Setting:
    bits: int  # k: code positions per shared slot (2^k versions)
    shared: float  # share of records followed by a shared slot
    canary: float  # share of records followed by a per-account canary

    @property
    def decoys(self) -> float:
        return self.shared + self.canary


def biases(rng: np.random.Generator) -> np.ndarray:
    low = math.asin(math.sqrt(CUTOFF))
    return np.sin(rng.uniform(low, math.pi / 2 - low, LENGTH)) ** 2


def observed_slots(words: np.ndarray, positions: np.ndarray, attack: str) -> tuple[np.ndarray, np.ndarray]:
    """(positions, symbols) the leak shows: ``positions`` is (slots x k), ``words`` (colluders x L)."""
    bits = words[:, positions]  # colluders x slots x k
    if attack == "single":
        keep, symbols = np.ones(len(positions), dtype=bool), bits[0]
    elif attack == "intersection":
        keep = np.all(bits == bits[:1], axis=(0, 2))
        symbols = bits[0]
    elif attack == "majority":
        same01 = np.all(bits[0] == bits[1], axis=1)
        same02 = np.all(bits[0] == bits[2], axis=1)
        same12 = np.all(bits[1] == bits[2], axis=1)
        keep = same01 | same02 | same12
        symbols = np.where((same01 | same02)[:, None], bits[0], bits[1])
    else:
        raise ValueError(attack)
    return positions[keep].ravel(), symbols[keep].ravel().astype(np.int8)


def one_symbol_per_position(positions: np.ndarray, symbols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(positions, kind="stable")
    positions, symbols = positions[order], symbols[order]
    unique, start = np.unique(positions, return_index=True)
    low = np.minimum.reduceat(symbols, start) if len(positions) else symbols
    high = np.maximum.reduceat(symbols, start) if len(positions) else symbols
    keep = low == high
    return unique[keep], low[keep]


def canary_log_p(hits: int, total: int, leaked_values: int) -> float:
    if hits <= 0:
        return 0.0
    total = max(total, hits)
    log_p = (math.lgamma(total + 1) - math.lgamma(hits + 1) - math.lgamma(total - hits + 1)
             + hits * math.log(leaked_values * Q))
    return min(0.0, log_p)


def trial(setting: Setting, attack: str, n: int, p: np.ndarray, rng: np.random.Generator):
    """One leak: (any guilty accused, innocents accused, innocents' uncorrected p-values)."""
    colluders = {"single": 1, "intersection": 2, "majority": 3}[attack]
    words = rng.random((ACCOUNTS, LENGTH)) < p  # the first ``colluders`` are guilty
    slots = rng.binomial(n, setting.shared)
    positions = rng.integers(0, LENGTH, (slots, setting.bits))
    pos, y = one_symbol_per_position(*observed_slots(words[:colluders], positions, attack))
    log_alpha = math.log(FPR / (2 * ACCOUNTS))
    if len(pos):
        pi = p[pos]
        a, b = code.term_values(pi, y)
        scores = code.scores(words[:, pos], a, b)
        log_marks = code.log_two_sided_bounds(scores, pi, a, b, refine_below=log_alpha + 12)
    else:
        log_marks = np.zeros(ACCOUNTS)
    log_canary = np.zeros(ACCOUNTS)
    if attack == "single":  # only a lone leaker keeps its own canaries (a clean keeps phone digits)
        hits = rng.binomial(n, setting.canary)
        log_canary[0] = canary_log_p(hits, int(EXPORT_ROWS * setting.canary), 2 * n)
    tests = 3 if len(pos) else 2  # as tracer.accuse: canaries, marks (erased here), shared canaries
    log_p = np.minimum(0.0, math.log(tests) + np.minimum(log_marks, log_canary))
    accused = log_p + math.log(ACCOUNTS) <= math.log(FPR)
    return bool(accused[:colluders].any()), int(accused[colluders:].sum()), np.exp(log_p[colluders:])


def rows_needed(setting: Setting, attack: str, trials: int, share: float, p, rng, innocents: list) -> tuple:
    """The smallest rung where ``share`` of the trials accuse a guilty account; innocents accused on the way."""
    framed = 0
    for n in LADDER:
        caught = 0
        for _ in range(trials):
            hit, wrong, innocent_p = trial(setting, attack, n, p, rng)
            caught += hit
            framed += wrong
            innocents.append(innocent_p)
        if caught >= share * trials:
            return n, framed
    return None, framed


def parse_setting(text: str) -> Setting:
    bits, shared, canary = text.split(",")
    return Setting(int(bits), float(shared), float(canary))


def settings(quick: bool) -> list[Setting]:
    if quick:
        return [Setting(2, 0.0115, 0.0075), Setting(3, 0.0115, 0.0075)]
    out = []
    for bits in (1, 2, 3, 4):
        for shared in (0.005, 0.01, 0.0125, 0.015):
            out.append(Setting(bits, shared, round(0.02 - shared, 4) if shared > 0.0125 else 0.0075))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--share", type=float, default=0.9, help="share of trials that must accuse a colluder")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--setting", type=parse_setting, action="append",
                        help="k,shared,canary (e.g. 3,0.012,0.007); repeatable; default: the grid")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    p = biases(rng)
    attacks = ("single", "intersection", "majority")
    innocents: list[np.ndarray] = []
    print(f"rows needed for >= 1 guilty accused in {args.share:.0%} of {args.trials} trials "
          f"(ladder {LADDER[0]}..{LADDER[-1]}; '-' = not by {LADDER[-1]}), {ACCOUNTS} accounts, fpr {FPR:g}")
    print("| k bits (versions) | shared slots | per-account canaries | decoys | one leaker, full clean "
          "| two, intersection + clean | three, majority + clean | innocents accused |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for setting in args.setting or settings(args.quick):
        cells, framed = [], 0
        for attack in attacks:
            n, wrong = rows_needed(setting, attack, args.trials, args.share, p, rng, innocents)
            cells.append("-" if n is None else f"{n:,}")
            framed += wrong
        print(f"| {setting.bits} ({2 ** setting.bits}) | {setting.shared:.2%} | {setting.canary:.2%} "
              f"| {setting.decoys:.2%} | " + " | ".join(cells) + f" | {framed} |", flush=True)
    pooled = np.concatenate(innocents)
    rates = " / ".join(f"{np.mean(pooled <= alpha):.4f}" for alpha in (0.05, 0.01, 0.001))
    print(f"\ncalibration: {len(pooled):,} innocent trials, share with uncorrected p <= 0.05 / 0.01 / 0.001: {rates}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
