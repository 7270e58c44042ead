"""Invariants that must hold for any rows: determinism per record, and any subset decodes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracer import api

from .conftest import read_csv, write_csv

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def full_export(tmp_path_factory, waybills):
    work = tmp_path_factory.mktemp("props")
    registry = work / "tracer.db"
    api.init(registry)
    for name in ("li", "wang"):
        api.add_account(registry, name)
    header, rows = waybills
    source = write_csv(work / "source.csv", header, rows[:600])
    api.export(registry, source, account="li", output=work / "li.csv")
    api.export(registry, source, account="wang", output=work / "wang.csv")
    return registry, work, header, rows[:600]


@SETTINGS
@given(picks=st.lists(st.integers(0, 599), min_size=1, max_size=80, unique=True))
def test_a_record_is_exported_the_same_way_in_every_export(full_export, picks, tmp_path_factory):
    """Re-exporting any subset: each real record reads exactly as in the full export (a diff reveals nothing)."""
    registry, work, header, rows = full_export
    tmp = tmp_path_factory.mktemp("subset")
    source = write_csv(tmp / "subset.csv", header, [rows[i] for i in sorted(picks)])
    out = tmp / "out.csv"
    api.export(registry, source, account="li", output=out)
    again = tmp / "again.csv"
    api.export(registry, source, account="li", output=again)
    assert out.read_bytes() == again.read_bytes()
    _, full_rows = read_csv(work / "li.csv")
    by_id = {row[0]: row for row in full_rows}
    _, subset_rows = read_csv(out)
    chosen = {rows[i][0] for i in picks}
    real = [row for row in subset_rows if row[0] in chosen]
    assert len(real) == len(picks)
    for row in real:
        assert row == by_id[row[0]]


@SETTINGS
@given(seed=st.integers(0, 10**6), size=st.integers(40, 120))
def test_any_subset_of_an_export_names_its_account(full_export, seed, size, tmp_path_factory):
    import random

    registry, work, header, _ = full_export
    _, out_rows = read_csv(work / "wang.csv")
    leak = write_csv(tmp_path_factory.mktemp("leak") / "leak.csv", header,
                     random.Random(seed).sample(out_rows, size))
    assert [s.account for s in api.match(registry, [leak]).suspects] == ["wang"]
