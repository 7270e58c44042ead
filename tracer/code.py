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
  approximation.
"""

from __future__ import annotations

import math

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


def codeword(key: Key, account_uid: bytes, p: np.ndarray) -> np.ndarray:
    """Account's bits X_j (bool array of len(p)), from a keyed stream of its uid."""
    raw = np.frombuffer(key.stream("code", account_uid, 4 * len(p)), dtype="<u4")
    return (raw.astype(np.float64) + 0.5) / 2.0**32 < p


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
    if len(p) == 0 or score <= 0:
        return 0.0
    lo, hi = 0.0, None
    lam = min(1.0, score / max(len(p), 1))
    best = 0.0
    for _ in range(100):
        value, d1, d2 = _log_mgf(lam, p, a, b)
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
    return best


def p_value_bound(score: float, p: np.ndarray, y: np.ndarray) -> float:
    """Upper bound on the chance an innocent account scores at least ``score``."""
    a, b = term_values(p, y)
    return math.exp(log_tail_bound(score, p, a, b))
