"""Calibration through the whole pipeline: many innocent accounts that received the same records.

Twenty-five accounts export the same rows, so every one of them is a
candidate for every leak; one of them leaks a subset (sometimes cleaned).
Over 1,000 innocent (leak, account) pairs the share with p <= alpha must stay
at or below alpha, and no innocent is ever accused.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata

import numpy as np
import pytest

from tracer import api

from .conftest import flip_marks, read_csv, write_csv

ACCOUNTS = 25
LEAKS = 44  # x 24 innocents: over 1,000 innocent trials


def clean(header, rows, rng):
    """A reseller's cleaning, chosen at random: NFKC, digits-only phones, fewer columns, every
    mark flipped (the two-sided score must stay calibrated when marks disagree with the leaker)."""
    choice = rng.randrange(4)
    if choice == 3:
        return header, flip_marks(header, rows)
    if choice == 0:
        return header, [[unicodedata.normalize("NFKC", c) for c in row] for row in rows]
    if choice == 1:
        return header, [[re.sub(r"\D", "", c) if "电话" in h else c for h, c in zip(header, row)] for row in rows]
    keep = [header.index(c) for c in ("收件人", "收件人电话", "收件地址", "重量(kg)")]
    return [header[i] for i in keep], [[row[i] for i in keep] for row in rows]


@pytest.fixture(scope="module")
def shared_exports(tmp_path_factory, waybills):
    work = tmp_path_factory.mktemp("calibration")
    registry = work / "tracer.db"
    api.init(registry)
    header, rows = waybills
    source = write_csv(work / "source.csv", header, rows[:300])
    outputs = {}
    for n in range(ACCOUNTS):
        name = f"clerk-{n:02d}"
        api.add_account(registry, name)
        api.export(registry, source, account=name, output=work / f"{name}.csv")
        outputs[name] = work / f"{name}.csv"
    return registry, outputs, work


def test_innocent_accounts_are_calibrated_and_never_accused(shared_exports):
    registry, outputs, work = shared_exports
    rng = random.Random(2024)
    innocent_p, innocent_marks_p, guilty_caught = [], [], 0
    for trial in range(LEAKS):
        leaker = rng.choice(sorted(outputs))
        header, rows = read_csv(outputs[leaker])
        size = rng.choice((10, 20, 40, 80))
        header, rows = clean(header, rng.sample(rows, size), rng)
        leak = write_csv(work / f"leak-{trial}.csv", header, rows)
        verdict = api.match(registry, [leak])
        assert {s.account for s in verdict.suspects} <= {leaker}
        guilty_caught += [s.account for s in verdict.suspects] == [leaker]
        for candidate in verdict.candidates:
            if candidate.account != leaker:
                innocent_p.append(min(1.0, 2 * min(candidate.p_marks, candidate.p_canaries)))
                innocent_marks_p.append(candidate.p_marks)
    innocent_marks_p = np.array(innocent_marks_p)
    assert len(innocent_marks_p) >= 1000
    for alpha in (0.05, 0.01, 0.001):
        slack = 3 * math.sqrt(alpha * len(innocent_marks_p)) + 1
        assert np.sum(innocent_marks_p <= alpha) <= alpha * len(innocent_marks_p) + slack
        assert np.sum(np.array(innocent_p) <= alpha) <= alpha * len(innocent_p) + slack
    assert guilty_caught >= LEAKS * 0.6  # most leaks, even 10 cleaned rows, convict


def test_rows_from_the_database_accuse_nobody(shared_exports, waybills, foreign_waybills):
    registry, _, work = shared_exports
    header, rows = waybills
    _, foreign = foreign_waybills
    leak = write_csv(work / "database.csv", header, rows[:300] + foreign[:1000])
    verdict = api.match(registry, [leak])
    assert verdict.suspects == []
    assert len(verdict.candidates) == ACCOUNTS
