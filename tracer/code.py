"""The Tardos fingerprinting code, the symmetric score and its p-value bound.

See ``shared/ACCUSATION.md``.  In short:

- position ``i`` has a bias ``p_i = sin^2(r_i)``, ``r_i`` uniform on
  ``[t', pi/2 - t']`` with ``t' = arcsin(sqrt(t))``; the biases come from the
  key, so nothing about them is stored;
- account ``j``'s bit at ``i`` is ``X_ji = [u_ji < p_i]`` with ``u_ji`` from a
  keyed stream of (key, account uid): independent across accounts;
- an observed symbol ``y_i`` scores ``+sqrt((1-p)/p)`` / ``-sqrt(p/(1-p))``
  (y=1, X=1 / X=0) and ``+sqrt(p/(1-p))`` / ``-sqrt((1-p)/p)`` (y=0, X=0 / X=1);
- under "account j is innocent" each term has mean 0 and variance 1 and the
  terms are independent across distinct positions, so the Chernoff bound
  ``min_l exp(-l s) prod_i (p_i e^{l a_i} + (1-p_i) e^{l b_i})`` bounds the
  chance of a score at least ``s``.  It is a bound at every m, unlike a normal
  approximation;
- both tails count: a leak that disagrees with a codeword far beyond chance
  (every variant flipped) is as telling as one that agrees, so the lower tail
  is bounded the same way (``-S`` has terms ``-a``, ``-b``) and the two-sided
  p-value is ``2 min(P(S >= s), P(S <= s))``, the factor 2 paid for looking
  at both.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .keys import Key

DEFAULT_LENGTH = 1 << 16
DEFAULT_CUTOFF = 0.003


def biases(key: Key, length: int, cutoff: float) -> np.ndarray:
    """The per-position biases p_i, re-derived from the key."""
    raw = np.frombuffer(key.stream("bias", b"", 4 * length), dtype="<u4").astype(np.float64)
    low = math.asin(math.sqrt(cutoff))
    r = low + (raw + 0.5) / 2.0**32 * (math.pi / 2 - 2 * low)
    return np.sin(r) ** 2


class Code:
    """The code of one registry: biases, and every account's codeword on demand.

    ``X_ji = [u_ji < p_i]`` is computed as an integer comparison of the
    keystream word with ``floor(p_i * 2^32)``, so a codeword costs one keystream
    and one vector compare.
    """

    def __init__(self, key: Key, length: int, cutoff: float):
        self.key = key
        self.length = length
        self.p = biases(key, length, cutoff)
        self.thresholds = np.floor(self.p * 2.0**32).astype(np.uint32)

    def codeword(self, account_uid: bytes) -> np.ndarray:
        """Account's bits X_j (bool array of length L), from a keyed stream of its uid."""
        raw = np.frombuffer(self.key.stream("code", account_uid, 4 * self.length), dtype="<u4")
        return raw < self.thresholds

    def codewords(self, account_uids, positions: np.ndarray) -> np.ndarray:
        """Bits of several accounts at some positions: a (accounts x positions) bool matrix."""
        out = np.empty((len(account_uids), len(positions)), dtype=bool)
        for row, uid in enumerate(account_uids):
            out[row] = self.codeword(uid)[positions]
        return out


def term_values(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): the score term when the account's bit is 1, and when it is 0, given y."""
    big = np.sqrt((1 - p) / p)
    small = np.sqrt(p / (1 - p))
    a = np.where(y == 1, big, -big)
    b = np.where(y == 1, -small, small)
    return a, b


def scores(bits: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Symmetric scores S_j for a (accounts x positions) bool matrix: one matrix product."""
    bits = np.asarray(bits, dtype=np.float64)
    return bits @ (a - b) + b.sum()


def _log_mgf(lam: float, p: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """log E[exp(lam * S)] under the null, with its first two derivatives in lam."""
    la = np.log(p) + lam * a
    lb = np.log1p(-p) + lam * b
    m = np.maximum(la, lb)
    ea, eb = np.exp(la - m), np.exp(lb - m)
    z = ea + eb
    wa = ea / z
    mean = wa * a + (1 - wa) * b
    second = wa * a * a + (1 - wa) * b * b
    return float(np.sum(m + np.log(z))), float(mean.sum()), float((second - mean * mean).sum())


def log_tail_bound(score: float, p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """log of the Chernoff bound on P(S >= score) for an innocent account (<= 0).

    ``f(l) = log M(l) - l*score`` is convex; Newton's method from l=0, guarded
    by bisection, finds its minimum.  Any l gives a valid bound, so stopping
    early only makes the bound looser, never wrong.
    """
    return _newton(score, p, a, b)[0]


def _newton(score: float, p: np.ndarray, a: np.ndarray, b: np.ndarray
            ) -> tuple[float, list[tuple[float, float, float]]]:
    """:func:`log_tail_bound`, and the (l, log M(l), d/dl log M(l)) it evaluated: tangents of the convex log M."""
    tangents: list[tuple[float, float, float]] = []
    if len(p) == 0 or score <= 0:
        return 0.0, tangents
    lo, hi = 0.0, None
    lam = min(1.0, score / max(len(p), 1))
    best = 0.0
    for _ in range(100):
        value, d1, d2 = _log_mgf(lam, p, a, b)
        tangents.append((lam, value, d1))
        f = value - lam * score
        best = min(best, f)
        grad = d1 - score
        if abs(grad) < 1e-9 * max(1.0, score):
            break
        if grad < 0:
            lo = lam
        else:
            hi = lam
        step = lam - grad / d2 if d2 > 0 else math.nan
        if hi is None:
            nxt = step if math.isfinite(step) and step > lam else lam * 2
        else:
            nxt = step if math.isfinite(step) and lo < step < hi else (lo + hi) / 2
        if abs(nxt - lam) < 1e-12 * max(1.0, lam):
            break
        lam = nxt
    return best, tangents


GRID = np.geomspace(1e-4, 20.0, 64)  # lambdas tried for many scores at once
LOG2 = math.log(2.0)
EXACT_FOR_FEW = 64  # groups this small get the exact bound for every score
ROUNDING = 1e-6  # relative slack for float error in a sum of terms (recursive summation: n * 1.1e-16 at most)


GRID_CHUNK = 4  # lambdas summed at a time: all 64 at once were three 33 MB arrays at 65,536 positions
GRID_THREADS = max(1, min(4, os.cpu_count() or 1))  # chunks summed at once (numpy lets go of the GIL)


def _grid_log_mgf(rows: np.ndarray, p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log M(l) at ``GRID[rows]``: one value per lambda, computed alike whichever rows are asked for
    (each lambda's terms summed on their own), ``GRID_CHUNK`` lambdas at a time: the terms of a few
    lambdas are held at once, not of the whole grid (a 1M-row leak's match peaked there).

    The chunks are summed on ``GRID_THREADS`` threads: numpy's loops let go of the GIL, and a match
    accuses after its reading thread has stopped, so the second core was idle while this took most of
    the accusing (0.2 s of a 200k-row match).  Each value is the same, on whichever thread."""
    log_p, log_q = np.log(p)[None, :], np.log1p(-p)[None, :]
    out = np.empty(len(rows))

    def chunk(start: int) -> None:
        lam = GRID[rows[start:start + GRID_CHUNK], None]
        out[start:start + GRID_CHUNK] = np.logaddexp(log_p + lam * a[None, :], log_q + lam * b[None, :]).sum(axis=1)

    starts = range(0, len(rows), GRID_CHUNK)
    if GRID_THREADS == 1 or len(starts) == 1:
        for start in starts:
            chunk(start)
    else:
        with ThreadPoolExecutor(min(GRID_THREADS, len(starts))) as pool:
            list(pool.map(chunk, starts))
    return out


def _grid_rows_below(best: float, score: float, tangents: list[tuple[float, float, float]], p: np.ndarray,
                     a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The grid lambdas whose bound for ``score`` might come out below ``best``; the others cannot.

    ``log M`` is convex with ``log M(0) = 0`` and slope 0 there (each term has
    mean 0), so every tangent ``(l, v, d)`` bounds it from below:
    ``log M(g) >= v + d (g - l)``, and ``log M(g) >= 0``.  A grid lambda whose
    lower bound, less a slack for rounding far above float error, exceeds
    ``best`` computes to at least ``best`` and cannot change the minimum.
    """
    grid = GRID[:, None]
    lam, value, slope = (np.array(column, dtype=np.float64)[None, :] for column in zip(*tangents))
    lower = np.maximum(0.0, (value + slope * (grid - lam)).max(axis=1)) - GRID * score
    sizes = float(np.sum(np.abs(np.log(p)) + np.abs(np.log1p(-p)))), float(np.sum(np.abs(a) + np.abs(b)))
    spread = (GRID + np.abs(lam - grid).max(axis=1) + lam.max()) * sizes[1]
    slack = ROUNDING * (1.0 + sizes[0] + spread + np.abs(value).max() + GRID * abs(score))
    return np.flatnonzero(~(lower - slack > best))  # a NaN (an overflowed tangent) rules nothing out


def log_tail_bounds(scores: np.ndarray, p: np.ndarray, a: np.ndarray, b: np.ndarray,
                    refine_below: float) -> np.ndarray:
    """Chernoff bounds (logs) for many scores that share their positions.

    Every lambda gives a valid bound, so the minimum over a fixed grid is one
    (computed for all scores in one matrix operation); scores whose grid bound
    comes near ``refine_below`` — those that could be accused — or small
    groups get the exact minimum.  A looser bound can only spare an account.

    A small group is not put through the whole grid: each score's exact
    minimum comes first, and only the grid lambdas that its tangents cannot
    rule out are computed (see :func:`_grid_rows_below`), with the very
    arithmetic of the whole grid, so the bound is the one the whole grid and
    the exact minimum together give.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if len(p) == 0:
        return np.zeros(len(scores))
    if len(scores) <= EXACT_FOR_FEW:
        return _few_log_tail_bounds(scores, p, a, b)
    log_mgf = _grid_log_mgf(np.arange(len(GRID)), p, a, b)
    grid = np.minimum(0.0, (log_mgf[None, :] - GRID[None, :] * scores[:, None]).min(axis=1))
    refine = np.flatnonzero(grid <= refine_below)
    for k in refine:
        grid[k] = min(grid[k], log_tail_bound(float(scores[k]), p, a, b))
    return grid


def _few_log_tail_bounds(scores: np.ndarray, p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`log_tail_bounds` of a small group: the exact minimum, and the grid where it might be lower.

    A score <= 0 has bound 0 on the grid as exactly (``log M >= 0``)."""
    out = np.zeros(len(scores))
    found = [(k, *_newton(float(s), p, a, b)) for k, s in enumerate(scores.tolist()) if s > 0]
    wanted = [_grid_rows_below(best, float(scores[k]), tangents, p, a, b) for k, best, tangents in found]
    rows = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *wanted]))
    log_mgf = _grid_log_mgf(rows, p, a, b) if len(rows) else np.zeros(0)
    for (k, best, _), mine in zip(found, wanted):
        at = np.searchsorted(rows, mine)
        out[k] = min(best, float(np.min(log_mgf[at] - GRID[mine] * scores[k]))) if len(mine) else best
    return out


def log_two_sided_bound(score: float, p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """log of ``2 min(P(S >= score), P(S <= score))`` bounded, for an innocent account (<= 0).

    ``P(S <= s) = P(-S >= -s)`` and ``-S`` is a sum of the same kind with terms
    ``-a``, ``-b``, so the upper-tail bound serves both.  Only the tail the
    score lies in can be small; the other is 1.
    """
    upper = log_tail_bound(score, p, a, b)
    lower = log_tail_bound(-score, p, -a, -b)
    return min(0.0, LOG2 + min(upper, lower))


def log_two_sided_bounds(scores: np.ndarray, p: np.ndarray, a: np.ndarray, b: np.ndarray,
                         refine_below: float) -> np.ndarray:
    """:func:`log_two_sided_bound` for many scores that share their positions (grid + exact refine)."""
    scores = np.asarray(scores, dtype=np.float64)
    upper = log_tail_bounds(scores, p, a, b, refine_below)
    lower = log_tail_bounds(-scores, p, -a, -b, refine_below)
    return np.minimum(0.0, LOG2 + np.minimum(upper, lower))


def tail(score: float) -> str:
    """Which tail a score lies in: 'agree' (above its null mean 0) or 'disagree' (below it)."""
    return "disagree" if score < 0 else "agree"


def p_value_bound(score: float, p: np.ndarray, y: np.ndarray) -> float:
    """Upper bound on the two-sided chance of an innocent account's score being as far from 0."""
    a, b = term_values(p, y)
    return math.exp(log_two_sided_bound(score, p, a, b))
