"""The Tardos code and its p-value bound: valid under the null, strong for the guilty.

Calibration is tested, not assumed: innocent codewords are drawn with the real
keyed PRF and scored against leaks they had no part in; the share with
p <= alpha must stay at or below alpha.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tracer import code
from tracer.evidence import consistent_positions, erased_streams
from tracer.keys import Key

KEY = Key(bytes(range(32)))
LENGTH = 1 << 14


@pytest.fixture(scope="module")
def the_code() -> code.Code:
    return code.Code(KEY, LENGTH, code.DEFAULT_CUTOFF)


def uid(n: int) -> bytes:
    return n.to_bytes(16, "little")


def test_biases_follow_the_cutoff_and_come_from_the_key(the_code):
    p = the_code.p
    assert p.min() >= code.DEFAULT_CUTOFF * 0.999 and p.max() <= 1 - code.DEFAULT_CUTOFF * 0.999
    assert abs(p.mean() - 0.5) < 0.02
    assert np.array_equal(p, code.Code(KEY, LENGTH, code.DEFAULT_CUTOFF).p)
    assert not np.array_equal(p, code.Code(Key(bytes(32)), LENGTH, code.DEFAULT_CUTOFF).p)


def test_codewords_are_keyed_independent_and_follow_the_biases(the_code):
    words = the_code.codewords([uid(n) for n in range(400)], np.arange(LENGTH))
    assert not np.array_equal(words[0], words[1])
    # The share of ones at each position tracks its bias.
    high, low = the_code.p > 0.9, the_code.p < 0.1
    assert words[:, high].mean() > 0.9 and words[:, low].mean() < 0.1
    # Another key gives unrelated codewords.
    other = code.Code(Key(bytes(32)), LENGTH, code.DEFAULT_CUTOFF).codeword(uid(0))
    assert 0.3 < np.mean(other == words[0]) < 0.8


def test_terms_have_mean_zero_and_variance_one_under_the_null():
    p = np.array([0.003, 0.2, 0.5, 0.9, 0.997])
    for y in (0, 1):
        a, b = code.term_values(p, np.full(5, y))
        assert np.allclose(p * a + (1 - p) * b, 0)
        assert np.allclose(p * a**2 + (1 - p) * b**2, 1)


def exact_tail(score: float, p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """P(S >= score) by enumerating every codeword (small m only)."""
    total = 0.0
    for bits in itertools.product((0, 1), repeat=len(p)):
        x = np.array(bits, dtype=bool)
        if np.where(x, a, b).sum() >= score - 1e-12:
            total += float(np.prod(np.where(x, p, 1 - p)))
    return total


def exact_lower_tail(score: float, p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """P(S <= score) by enumeration: the upper tail of -S, whose terms are -a and -b."""
    return exact_tail(-score, p, -a, -b)


@pytest.mark.parametrize("seed", range(6))
def test_bound_is_never_below_the_exact_tail(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, 12)
    y = rng.integers(0, 2, 12)
    a, b = code.term_values(p, y)
    for score in (0.5, 2.0, 4.0, 8.0, float(np.maximum(a, b).sum()) * 0.9):
        bound = math.exp(code.log_tail_bound(score, p, a, b))
        assert bound >= exact_tail(score, p, a, b) * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_both_tails_are_bounded_against_exact_enumeration(seed):
    """The lower-tail bound is never below P(S <= s), and the two-sided bound never
    below 2 min(P(S >= s), P(S <= s)), at every score from the lowest to the highest."""
    rng = np.random.default_rng(100 + seed)
    p = rng.uniform(0.01, 0.99, 11)
    y = rng.integers(0, 2, 11)
    a, b = code.term_values(p, y)
    low, high = float(np.minimum(a, b).sum()), float(np.maximum(a, b).sum())
    for score in np.linspace(low, high, 23):
        upper, lower = exact_tail(score, p, a, b), exact_lower_tail(score, p, a, b)
        assert math.exp(code.log_tail_bound(-score, p, -a, -b)) >= lower * (1 - 1e-9)
        two_sided = math.exp(code.log_two_sided_bound(float(score), p, a, b))
        assert two_sided >= min(1.0, 2 * min(upper, lower)) * (1 - 1e-9)
        assert two_sided == pytest.approx(code.p_value_bound(float(score), p, y))
    # The lowest score is reached by one codeword only: its bound is small, as the highest's is.
    assert code.log_two_sided_bound(low, p, a, b) < math.log(0.5)
    assert code.tail(low) == "disagree" and code.tail(high) == "agree"


def test_two_sided_grid_bounds_are_valid_and_close_to_exact():
    rng = np.random.default_rng(4)
    p = rng.uniform(0.003, 0.997, 300)
    y = rng.integers(0, 2, 300)
    a, b = code.term_values(p, y)
    scores = np.linspace(-200, 200, 101)
    grid = code.log_two_sided_bounds(scores, p, a, b, refine_below=-np.inf)
    exact = np.array([code.log_two_sided_bound(s, p, a, b) for s in scores])
    assert np.all(grid >= exact - 1e-9)
    assert np.all(grid - exact < 1.0 + 0.02 * np.abs(exact))
    refined = code.log_two_sided_bounds(scores, p, a, b, refine_below=np.inf)
    assert np.allclose(refined, exact)
    assert grid[0] < -20 and grid[-1] < -20 and grid[50] == 0.0  # both ends small, the middle 1


def test_grid_bounds_are_valid_and_close_to_exact():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.003, 0.997, 300)
    y = rng.integers(0, 2, 300)
    a, b = code.term_values(p, y)
    scores = np.linspace(-20, 200, 100)
    grid = code.log_tail_bounds(scores, p, a, b, refine_below=-np.inf)
    exact = np.array([code.log_tail_bound(s, p, a, b) for s in scores])
    assert np.all(grid >= exact - 1e-9)  # never tighter than the true minimum
    assert np.all(grid - exact < 1.0 + 0.02 * np.abs(exact))


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("positions", [1, 7, 4099])
def test_the_grid_is_summed_a_few_lambdas_at_a_time_to_the_same_bits(positions, threads, monkeypatch):
    """log M on the grid, a few lambdas at a time (bounded memory, on one thread or several), is bit for bit
    the whole grid's at once, and any rows asked for alone give their values in it: a bound never depends
    on which rows were asked, or on how many threads summed them."""
    monkeypatch.setattr(code, "GRID_THREADS", threads)
    rng = np.random.default_rng(positions)
    p = rng.uniform(0.003, 0.997, positions)
    a, b = code.term_values(p, rng.integers(0, 2, positions))
    every = np.arange(len(code.GRID))
    at_once = np.logaddexp(np.log(p)[None, :] + code.GRID[:, None] * a[None, :],
                           np.log1p(-p)[None, :] + code.GRID[:, None] * b[None, :]).sum(axis=1)
    assert np.array_equal(code._grid_log_mgf(every, p, a, b), at_once)
    some = np.array([0, 5, 6, 40, 63])
    assert np.array_equal(code._grid_log_mgf(some, p, a, b), at_once[some])


@pytest.mark.parametrize("leak", ["random", "guilty", "flipped"])
def test_innocent_p_values_are_calibrated(the_code, leak):
    """2,000 innocent accounts against one leak: P(p <= alpha) <= alpha (with binomial slack), two-sided."""
    rng = np.random.default_rng(11)
    positions = np.sort(rng.choice(LENGTH, 150, replace=False))
    p = the_code.p[positions]
    if leak == "random":
        y = rng.integers(0, 2, len(positions))
    else:
        y = the_code.codeword(uid(10**6))[positions].astype(np.int8)
        y = 1 - y if leak == "flipped" else y
    a, b = code.term_values(p, y)
    innocents = the_code.codewords([uid(n) for n in range(2000)], positions)
    scores = code.scores(innocents, a, b)
    logs = code.log_two_sided_bounds(scores, p, a, b, refine_below=np.inf)
    pvalues = np.exp(logs)
    for alpha in (0.05, 0.01, 0.001):
        allowed = alpha * 2000 + 3 * math.sqrt(alpha * 2000) + 1
        assert np.sum(pvalues <= alpha) <= allowed


@pytest.mark.parametrize("flip", [False, True])
def test_calibration_over_many_leaks(the_code, flip):
    """1,000 independent innocent trials, each a fresh leak (flipped or not) and a fresh innocent:
    the two-sided p-value stays calibrated, one-sided bounds too."""
    rng = np.random.default_rng(5 + flip)
    two_sided, upper, lower = [], [], []
    for trial in range(1000):
        positions = rng.choice(LENGTH, int(rng.integers(20, 200)), replace=False)
        p = the_code.p[positions]
        y = the_code.codeword(uid(10**7 + trial))[positions].astype(np.int8)
        y = 1 - y if flip else y
        a, b = code.term_values(p, y)
        x = the_code.codeword(uid(trial))[positions]
        score = float(code.scores(x[None, :], a, b)[0])
        two_sided.append(math.exp(code.log_two_sided_bound(score, p, a, b)))
        upper.append(math.exp(code.log_tail_bound(score, p, a, b)))
        lower.append(math.exp(code.log_tail_bound(-score, p, -a, -b)))
    for pvalues in (two_sided, upper, lower):
        for alpha in (0.05, 0.01, 0.001):
            assert np.mean(np.array(pvalues) <= alpha) <= alpha


def test_a_single_leaker_is_convicted_from_a_few_dozen_marks(the_code):
    rng = np.random.default_rng(8)
    positions = rng.choice(LENGTH, 60, replace=False)
    guilty = the_code.codeword(uid(42))[positions]
    p = the_code.p[positions]
    a, b = code.term_values(p, guilty.astype(np.int8))
    score = float(code.scores(guilty[None, :], a, b)[0])
    assert code.log_tail_bound(score, p, a, b) < math.log(1e-8)


def test_a_flipped_leak_convicts_like_an_unflipped_one(the_code):
    """Every variant flipped: the marks disagree with the leaker's codeword everywhere. The lower
    tail convicts from as few marks as the upper tail does for the unflipped copy."""
    rng = np.random.default_rng(8)
    positions = rng.choice(LENGTH, 60, replace=False)
    guilty = the_code.codeword(uid(42))[positions]
    p = the_code.p[positions]
    logs = {}
    for name, y in (("plain", guilty.astype(np.int8)), ("flipped", 1 - guilty.astype(np.int8))):
        a, b = code.term_values(p, y)
        score = float(code.scores(guilty[None, :], a, b)[0])
        assert code.tail(score) == ("agree" if name == "plain" else "disagree")
        logs[name] = code.log_two_sided_bound(score, p, a, b)
        assert logs[name] < math.log(1e-8)
    assert logs["flipped"] < logs["plain"] + math.log(1e3)  # flipped no weaker than a thousandfold
    # The one-sided upper tail alone, as before, would have cleared the flipper.
    a, b = code.term_values(p, 1 - guilty.astype(np.int8))
    assert code.log_tail_bound(float(code.scores(guilty[None, :], a, b)[0]), p, a, b) == 0.0


@pytest.mark.parametrize("strategy", ["interleave", "majority", "minority"])
def test_three_colluders_cannot_hide_all_of_them(the_code, strategy):
    """Colluders obey the marking assumption: where their bits agree, so does the leak."""
    rng = np.random.default_rng(9)
    positions = rng.choice(LENGTH, 3000, replace=False)
    bits = the_code.codewords([uid(100), uid(101), uid(102)], positions).astype(np.int8)
    if strategy == "interleave":
        y = bits[rng.integers(0, 3, len(positions)), np.arange(len(positions))]
    elif strategy == "majority":
        y = (bits.sum(axis=0) >= 2).astype(np.int8)
    else:
        votes = bits.sum(axis=0)
        y = np.where(votes == 0, 0, np.where(votes == 3, 1, (votes == 1).astype(np.int8)))
    p = the_code.p[positions]
    a, b = code.term_values(p, y)
    everyone = the_code.codewords([uid(n) for n in range(100, 400)], positions)
    logs = code.log_two_sided_bounds(code.scores(everyone, a, b), p, a, b, refine_below=0.0)
    threshold = math.log(1e-6 / 300)
    accused = set(np.flatnonzero(logs <= threshold))
    assert accused and accused <= {0, 1, 2}


def test_one_symbol_per_position():
    positions = np.array([5, 5, 7, 9, 9, 9])
    symbols = np.array([1, 1, 0, 1, 0, 1], dtype=np.int8)
    kept, values = consistent_positions(positions, symbols)
    assert kept.tolist() == [5, 7] and values.tolist() == [1, 0]


def test_a_channel_made_uniform_by_cleaning_is_erased():
    readings = np.array([20, 20, 5])  # stream 0 always read 0; stream 1 half ones; stream 2 too few to judge
    ones = np.array([0, 10, 0])
    assert erased_streams(readings, ones, min_symbols=8, minority=0.05, alpha=1e-3).tolist() == [0]


def test_a_few_readings_alike_by_chance_erase_nothing():
    """Eight fair coins all alike is a 1-in-128 chance: among a small leak's dozens of streams one such
    stream is common, and would wrongly report a cleaning.  The same uniformity over 40 readings is none."""
    readings = np.array([8] * 60 + [40])
    ones = np.array([0] * 60 + [40])
    assert erased_streams(readings, ones, min_symbols=8, minority=0.05, alpha=1e-3).tolist() == [60]


def test_the_chance_of_so_uniform_a_stream_is_the_binomial_tail():
    """Two-sided: the rarer face of ``n`` fair coins at most ``r`` times, exactly (up to rounding), and
    cheap for a stream of a million readings."""
    import math

    from tracer.evidence import uniform_chance

    for n in [*range(1, 40), 200, 1001]:
        for r in range(0, n // 2 + 1, max(1, n // 60)):
            exact = min(1.0, 2 * sum(math.comb(n, k) for k in range(r + 1)) / 2**n)
            assert math.isclose(uniform_chance(n, r), exact, rel_tol=1e-9, abs_tol=1e-300)
    assert 0 < uniform_chance(10**6, 49_999) < 1e-300 or uniform_chance(10**6, 49_999) == 0.0


def test_marks_left_alone_are_judged_erased_at_most_at_the_stated_rate():
    """Streams of fair coins, as uncleaned marks read: some stream of a leak is erased in at most ``alpha``
    of leaks (3,000 leaks of 80 streams each, of 8 to 30 readings)."""
    generator = np.random.default_rng(11)
    leaks, alpha = 3000, 1e-2
    readings = generator.integers(8, 31, size=(leaks, 80))
    ones = generator.binomial(readings, 0.5)
    falsely = sum(erased_streams(r, o, min_symbols=8, minority=0.05, alpha=alpha).size > 0
                  for r, o in zip(readings, ones))
    assert falsely <= alpha * leaks + 3 * (alpha * leaks) ** 0.5
