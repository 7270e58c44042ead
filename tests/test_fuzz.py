"""The fuzz targets run here without atheris, so they cannot rot and every
test run fuzzes a little: the seeds read as what they are, and random edits
of them (hypothesis) end in a clean error or a sound result.  The long runs
are fuzz/run.sh's job."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import inputs, seeds, targets

from .conftest import read_csv

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def table_seeds() -> list[bytes]:
    return [seed for table in seeds.fixture_tables() for seed in seeds.table_inputs(*table)]


@pytest.fixture(scope="module")
def matcher(tmp_path_factory) -> targets.Matcher:
    return targets.Matcher(tmp_path_factory.mktemp("fuzz-work"))


def test_every_kind_of_seed_reads_all_its_rows(tmp_path, waybills):
    header, rows = waybills[0], waybills[1][:seeds.SEED_ROWS]
    ragged = inputs.encode("csv", seeds.ragged_csv(header, rows))
    kinds = set()
    for seed in seeds.table_inputs(header, rows):
        kind = inputs.decode(seed)[0]
        kinds.add(kind)
        if kind == "strings":  # the seed's strings shown in the template's one-row sheet
            expected = 1
        else:
            expected = seeds.SEED_ROWS - (seeds.SEED_ROWS // 4 if seed == ragged else 0)
        assert targets.read_input(seed, tmp_path) == expected, kind
    assert kinds == set(inputs.KINDS)


def test_the_matcher_names_the_account_whose_export_is_a_seed(matcher):
    named = {}
    for path in matcher.exports():
        header, rows = read_csv(path)
        verdict = matcher.verdict(inputs.encode("csv", seeds.written_by_tracer("csv", header, rows)))
        named[path.stem] = [s.account for s in verdict.suspects]
    assert named == {f"export-{name}": [name] for name in targets.ACCOUNTS}


def _edited(seed: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """The seed with some byte ranges replaced (kind byte kept)."""
    data = bytearray(seed)
    for where, length, new in edits:
        at = 1 + where % max(len(data) - 1, 1)
        data[at:at + length] = new
    return bytes(data)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 8), st.binary(max_size=8)), min_size=1, max_size=6)


@SETTINGS
@given(pick=st.integers(0, 1 << 16), edits=EDITS)
def test_edited_seeds_read_cleanly(table_seeds, tmp_path, pick, edits):
    targets.read_input(_edited(table_seeds[pick % len(table_seeds)], edits), tmp_path)


@SETTINGS
@given(pick=st.integers(0, 1 << 16), edits=EDITS)
def test_edited_leaks_match_cleanly(matcher, pick, edits):
    exports = matcher.exports()
    header, rows = read_csv(exports[pick % len(exports)])
    kinds = list(inputs.KINDS)
    kind = kinds[pick % len(kinds)]
    if kind in ("sheet", "strings"):
        kind = "xlsx"
    if kind in seeds.ARCHIVERS:  # an archive of the export, as a chat group passes it on
        body = seeds.archived(kind, {"leak.csv": seeds.written_by_tracer("csv", header, rows[:seeds.SEED_ROWS])})
    else:
        writer = seeds.written_by_excel if kind == "xls" else seeds.written_by_tracer
        body = writer(kind, header, rows[:seeds.SEED_ROWS])
    matcher(_edited(inputs.encode(kind, body), edits))
