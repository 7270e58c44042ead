"""SQLite's exposure as sorted runs (registry/runs.py): what any sequence of exports stores, merged or not,
is what a plain set of (digest, export) pairs holds; a merge cut off leaves the runs as they were."""

from __future__ import annotations

import io
import os
import unittest.mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracer import api
from tracer import engine as engine_module
from tracer.errors import RegistryError
from tracer.registry import runs as runs_module
from tracer.registry.base import Registry
from tracer.registry import streams


@pytest.fixture
def small_runs(monkeypatch):
    """Runs small enough that a handful of exports fill blocks, levels and merges: blocks of 5 digests (3 merged), a
    level every 2x from 4 digests, no merging from 64 on."""
    monkeypatch.setattr(runs_module, "BLOCKS_PER_PAGE", 60)  # 4096-byte pages: 43-byte blocks
    monkeypatch.setattr(runs_module, "MERGED_BLOCKS_PER_PAGE", 60)
    monkeypatch.setattr(runs_module, "FANOUT", 2)
    monkeypatch.setattr(runs_module, "BASE_ROWS", 4)
    monkeypatch.setattr(streams, "READ_ROWS", 5)  # merge inputs read a few digests at a time
    monkeypatch.setattr(streams, "SPILL_ROWS", 7)  # an export spilled as several spans, small chunks gathered
    monkeypatch.setattr(runs_module, "FINAL_LEVEL", runs_module.level_of(64))


def fresh(tmp_path, name: str = "r"):
    path, key = tmp_path / f"{name}.db", tmp_path / f"{name}.key"
    api.init(path, key)
    for account in ("alice", "bob"):
        api.add_account(path, account)
    return api.open_with_key(path, key)


def record(registry, ring, account: str, chunks: list[list[int]]):
    return registry.record_export(registry.account(account), ring.current_id, ring.current, source="s.csv",
                                  output="o.csv", rows=1, marked_cells=0, exposure=chunks, canary_rows=0,
                                  canaries={})


# A small pool of values, so that exports share digests (a record exported to many accounts) and a
# digest's rows span blocks; the extremes of int64 are in it.
POOL = [-(2**63), -5, -1, 0, 1, 2, 3, 7, 8, 40, 41, 1000, 2**62, 2**63 - 1] + list(range(100, 160))
DIGESTS = st.sampled_from(POOL)
EXPORTS = st.lists(st.lists(st.lists(DIGESTS, max_size=30), max_size=3), min_size=1, max_size=14)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exports=EXPORTS)
def test_runs_hold_what_a_set_of_pairs_holds(tmp_path_factory, small_runs, exports):
    registry, ring = fresh(tmp_path_factory.mktemp("runs"))
    model: set[tuple[int, int]] = set()
    with registry:
        for i, chunks in enumerate(exports):
            entry = record(registry, ring, "alice" if i % 2 else "bob", chunks)
            mine = {d for chunk in chunks for d in chunk}
            assert entry.id and registry.summary()["exposure"] == len(model) + len(mine)
            model |= {(d, entry.id) for d in mine}
            probe = [-(2**63), 0, 41, 2**63 - 1, 99, 150, 12345]
            assert sorted(registry.exposure_of(probe, ring.current_id)) == sorted(p for p in model if p[0] in probe)
        everything = sorted({d for d, _ in model} | {4, 999})
        assert sorted(registry.exposure_of(everything, ring.current_id)) == sorted(model)
        # the arrays a match reads, and the interface's default (PostgreSQL's, built on exposure_of): the same pairs
        for found, exports in (registry.exposure_arrays(np.array(everything), ring.current_id),
                               Registry.exposure_arrays(registry, np.array(everything), ring.current_id)):
            assert found.dtype == exports.dtype == np.int64
            assert sorted(zip(found.tolist(), exports.tolist())) == sorted(model)
        assert [len(a) for a in registry.exposure_arrays(np.array(everything), ring.current_id + 1)] == [0, 0]
        # a few digests, once the runs are kept whole (searched there) and from blocks (a fresh reader): the same
        # rows in the same order
        few = np.array(sorted({-(2**63), 0, 41, 150, 2**63 - 1, 4}), dtype=np.int64)
        fresh_reader = runs_module.ExposureRuns(registry.runs.conn)
        for kept, read in zip(registry.runs.lookup(few), fresh_reader.lookup(few)):
            assert np.array_equal(kept, read)
        assert all(registry.exported(d) == any(d == m for m, _ in model) for d in everything)
        counts: dict[int, int] = {}
        for _, e in model:
            counts[e] = counts.get(e, 0) + 1
        assert registry.exposure_counts() == counts
        assert registry.check(ring) == []
        below_final = [r for r in registry.runs.runs() if r.level < runs_module.FINAL_LEVEL]
        for level in {r.level for r in below_final}:  # merged as they accumulate: fewer than FANOUT a level
            assert sum(r.level == level for r in below_final) < runs_module.FANOUT


@settings(max_examples=50, deadline=None)
@given(chunks=st.lists(st.lists(DIGESTS, max_size=12), max_size=8), spill_rows=st.integers(1, 40))
def test_an_export_is_spilled_in_few_sorted_spans_of_gathered_chunks(chunks, spill_rows):
    """Chunks are gathered up to SPILL_ROWS digests a span (the merge holds a piece of every span, so spans
    as many as chunks made a million-row export's memory grow with it); each span sorted and distinct,
    together the chunks' digests."""
    with unittest.mock.patch.object(streams, "SPILL_ROWS", spill_rows):
        to = io.BytesIO()
        spans = streams.spill(to, chunks)
    data = to.getvalue()
    read = [np.frombuffer(data[offset:offset + 8 * n], dtype="<i8") for offset, n in spans]
    assert all(np.array_equal(span, np.unique(span)) and len(span) for span in read)
    assert set(np.concatenate(read).tolist() if read else []) == {d for chunk in chunks for d in chunk}
    total = sum(map(len, chunks))
    assert len(spans) <= -(-total // spill_rows)  # a span per SPILL_ROWS digests, at most


def test_a_merge_cut_off_leaves_the_registry_as_it_was(tmp_path, small_runs, monkeypatch):
    """The merge runs inside the export's transaction: an error in it (a crash) leaves no half entry, no half
    run; the runs as they were answer as before, and the next export merges them."""
    registry, ring = fresh(tmp_path)
    with registry:
        record(registry, ring, "alice", [[1, 2, 3, 4, 5]])
        before = (registry.runs.runs(), registry.exposure_counts())
        original = runs_module.ExposureRuns.merge_runs

        def dying(self, runs):
            original(self, runs)
            raise OSError("power lost mid-merge")

        monkeypatch.setattr(runs_module.ExposureRuns, "merge_runs", dying)
        with pytest.raises(OSError):
            record(registry, ring, "bob", [[5, 6, 7, 8, 9]])
        assert (registry.runs.runs(), registry.exposure_counts()) == before
        assert registry.exposure_of([6], ring.current_id) == []  # nothing of the rolled-back run is remembered
        assert registry.summary()["exports"] == 1 and registry.check(ring) == []
        monkeypatch.setattr(runs_module.ExposureRuns, "merge_runs", original)
        second = record(registry, ring, "bob", [[5, 6, 7, 8, 9]])
        assert len(registry.runs.runs()) == 1  # the two merged
        assert sorted(registry.exposure_of([5, 9], ring.current_id)) == [(5, 1), (5, second.id), (9, second.id)]
        assert registry.check(ring) == []


def test_a_run_goes_only_when_a_merged_run_holds_its_exports(tmp_path, small_runs):
    registry, ring = fresh(tmp_path)
    with registry:
        for account in ("alice", "bob", "alice"):
            record(registry, ring, account, [list(range(0, 40, 3))])
        for statement in ("DELETE FROM exposure_runs", "DELETE FROM exposure_blocks",
                          "UPDATE exposure_blocks SET digests = x''", "UPDATE exposure_runs SET bloom = x''"):
            with pytest.raises(RegistryError, match="append-only"):
                registry.execute(statement)
        assert registry.check(ring) == []


def test_a_lookup_that_meets_a_merge_reads_again(tmp_path, small_runs, monkeypatch):
    """A matcher that listed the runs just before another process merged them finds their blocks gone, and
    reads the runs again."""
    registry, ring = fresh(tmp_path)
    with registry:
        first = record(registry, ring, "alice", [[10, 20, 30, 40, 50]])
        reader, _ = api.open_with_key(registry.path, tmp_path / "r.key")
        with reader:
            assert reader.exposure_of([20], ring.current_id) == [(20, first.id)]  # its runs and filters read
            listed = reader.runs.runs()
            second = record(registry, ring, "bob", [[20, 60, 70, 80, 90]])  # a merge: the first run is gone
            assert [r.first_export for r in registry.runs.runs()] == [first.id]
            listings = []
            real = runs_module.ExposureRuns.runs

            def racing(self):
                listings.append(1)
                return listed if len(listings) == 1 else real(self)

            monkeypatch.setattr(runs_module.ExposureRuns, "runs", racing)
            assert sorted(reader.exposure_of([20], ring.current_id)) == [(20, first.id), (20, second.id)]
            assert len(listings) == 2


def test_runs_read_whole_are_kept_within_their_budget(tmp_path, monkeypatch):
    """A match's batches each want most of a run: the run read whole is kept for the next, up to
    ``WHOLE_BYTES`` of runs (the oldest dropped), and a run merged away is dropped; the answers do not change."""
    monkeypatch.setattr(runs_module, "WHOLE_BYTES", 2 * 8 * 200 + 100)  # two single-export runs of 200 digests
    registry, ring = fresh(tmp_path)
    with registry:
        model = set()
        for i in range(3):
            entry = record(registry, ring, "alice", [list(range(i * 1000, i * 1000 + 200))])
            model |= {(d, entry.id) for d in range(i * 1000, i * 1000 + 200)}
        everything = np.array(sorted(d for d, _ in model))
        for _ in range(2):  # the first lookup reads and keeps; the second answers from what was kept, the same
            assert sorted(registry.exposure_of(everything.tolist(), ring.current_id)) == sorted(model)
            kept = registry.runs._whole
            assert len(kept) == 2 and sum(map(runs_module._bytes, kept.values())) <= runs_module.WHOLE_BYTES
        entry = record(registry, ring, "bob", [list(range(5000, 5200))])  # the fourth run of level 0: a merge
        model |= {(d, entry.id) for d in range(5000, 5200)}
        assert len(registry.runs.runs()) == 1 and registry.runs._whole == {}  # the merged runs' rows let go
        assert sorted(registry.exposure_of(sorted(d for d, _ in model), ring.current_id)) == sorted(model)
        assert registry.runs._whole == {}  # 800 rows with their export ids: more than the budget, never kept


def test_digests_are_stored_sorted_and_once(tmp_path):
    registry, ring = fresh(tmp_path)
    rng = np.random.default_rng(3)
    digests = rng.integers(-(2**63), 2**63 - 1, size=70_000, dtype=np.int64)
    chunks = [digests[:40_000], digests[30_000:]]  # 10,000 digests in both chunks
    with registry:
        entry = record(registry, ring, "alice", chunks)
        assert registry.exposure_counts() == {entry.id: 70_000} == {entry.id: entry_rows(registry)}
        stored = np.concatenate([d for d, _ in registry.exposure_batches()])
        assert np.array_equal(stored, np.unique(digests))
        assert registry.check(ring) == []


def entry_rows(registry) -> int:
    return registry.summary()["exposure"]


def test_a_rolled_back_export_leaves_nothing_remembered(tmp_path, monkeypatch):
    """An export that fails after its run was written and read (the canary check reads the runs) is rolled
    back; the next export takes the same run id with other digests, and lookups see those."""
    from tracer.registry.store import SqliteRegistry

    registry, ring = fresh(tmp_path)
    with registry:
        first = registry.record_export(registry.account("alice"), ring.current_id, ring.current, source="s.csv",
                                       output="o.csv", rows=1, marked_cells=0, exposure=[[1, 2, 3]],
                                       canary_rows=1, canaries={4: 1000})

        def lost(self, *args):
            raise OSError("disk gone at the last step")

        monkeypatch.setattr(SqliteRegistry, "_insert_export", lost)
        with pytest.raises(OSError):
            registry.record_export(registry.account("bob"), ring.current_id, ring.current, source="s.csv",
                                   output="o.csv", rows=1, marked_cells=0, exposure=[list(range(10, 60))],
                                   canary_rows=1, canaries={2: 1000})
        monkeypatch.undo()
        second = record(registry, ring, "bob", [list(range(100, 150))])
        assert sorted(registry.exposure_of([1, 10, 100, 149], ring.current_id)) == [
            (1, first.id), (100, second.id), (149, second.id)]
        assert registry.check(ring) == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exports=EXPORTS)
def test_compact_merges_every_run_into_one_and_answers_as_before(tmp_path_factory, small_runs, exports):
    """``registry compact``: final runs too go into one run; every lookup, count and check is as before."""
    registry, ring = fresh(tmp_path_factory.mktemp("compact"))
    with registry:
        for i, chunks in enumerate(exports):
            record(registry, ring, "alice" if i % 2 else "bob", chunks)
        everything = sorted(set(POOL) | {4, 999})
        before = (sorted(registry.exposure_of(everything, ring.current_id)), registry.exposure_counts())
        runs = len(registry.runs.runs())
        done = registry.compact()
        assert (done.runs_before, done.runs_after, done.digests) == (runs, min(runs, 1), len(before[0]))
        assert len(registry.runs.runs()) == min(runs, 1)
        assert (sorted(registry.exposure_of(everything, ring.current_id)), registry.exposure_counts()) == before
        assert registry.check(ring) == []
        record(registry, ring, "alice", [[1, 2, 3]])  # exports go on as before on the compacted runs
        assert registry.check(ring) == []


def test_a_compaction_killed_midway_leaves_the_runs_as_they_were(tmp_path, small_runs):
    """The process dies (``os._exit``: no cleanup, as a kill) after the merged run's first blocks were written:
    the next opening finds the runs as they were, sound; compacting again does it whole."""
    import os
    import subprocess
    import sys

    registry, ring = fresh(tmp_path)
    with registry:
        for i in range(6):
            record(registry, ring, "alice", [list(range(10 * i, 10 * i + 40))])
        before = (registry.runs.runs(), registry.exposure_counts())
    assert len(before[0]) > 1
    killed = subprocess.run([sys.executable, "-c", f"""
import os
from tracer import api
from tracer.registry import runs, streams
runs.BLOCKS_PER_PAGE = runs.MERGED_BLOCKS_PER_PAGE = 60
streams.READ_ROWS = 5
blocks = streams.reblock
def dying(pieces, per_block):
    for n, piece in enumerate(blocks(pieces, per_block)):
        if n == 2:
            os._exit(9)
        yield piece
runs.reblock = dying
registry, ring = api.open_with_key({str(tmp_path / 'r.db')!r}, {str(tmp_path / 'r.key')!r})
registry.compact()
"""], env={k: v for k, v in os.environ.items() if k != "TRACER_KEY"})
    assert killed.returncode == 9
    registry, ring = api.open_with_key(tmp_path / "r.db", tmp_path / "r.key")
    with registry:
        assert (registry.runs.runs(), registry.exposure_counts()) == before
        assert registry.check(ring) == []
        assert registry.compact().runs_after == 1
        assert registry.exposure_counts() == before[1] and registry.check(ring) == []


def _matching_reference(digests: np.ndarray, exports: np.ndarray, wanted: np.ndarray):
    """The two-search definition ``_matching`` had before a whole run's repeat count spared one search."""
    start = np.searchsorted(digests, wanted, "left")
    count = np.searchsorted(digests, wanted, "right") - start
    at = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
    return digests[at], exports[at]


ENGINES = ["python"] + (["native"] if engine_module._engine is not None else [])


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-6, 6), max_size=60), st.lists(st.integers(-8, 8), max_size=20, unique=True))
def test_matching_with_a_known_repeat_is_the_two_search_definition(engine, values, wanted):
    """numpy's searches with a run's repeat count known or not, and the native engine's galloping search."""
    digests = np.array(sorted(values), dtype=np.int64)
    exports = np.arange(len(digests), dtype=np.int64)
    wanted = np.array(sorted(wanted), dtype=np.int64)
    longest = runs_module.longest_repeat(digests)
    assert longest == (max(values.count(v) for v in values) if values else 0)
    expected = _matching_reference(digests, exports, wanted)
    with unittest.mock.patch.dict(os.environ, {"TRACER_ENGINE": engine}):
        for given_longest in (None, longest):
            got = runs_module._matching(digests, exports, wanted, given_longest)
            assert all(np.array_equal(g, e) for g, e in zip(got, expected))


@pytest.mark.skipif(engine_module._engine is None, reason="the native engine is not built")
def test_the_native_search_is_numpys_on_a_large_run_and_refuses_unsorted_wants():
    rng = np.random.default_rng(5)
    run = np.sort(rng.integers(-2**40, 2**40, 200_000))
    run = np.sort(np.concatenate([run, run[::7]]))  # some digests held by two exports
    wanted = np.sort(np.concatenate([rng.choice(run, 3000), rng.integers(-2**40, 2**40, 3000), run[:1], run[-1:]]))
    starts, counts = engine_module._engine.find_sorted(run, wanted)  # repeats in wanted too (rng.choice)
    left, right = np.searchsorted(run, wanted, "left"), np.searchsorted(run, wanted, "right")
    assert np.array_equal(np.frombuffer(starts, "<i8"), left) and np.array_equal(np.frombuffer(counts, "<i8"), right - left)
    with pytest.raises(ValueError, match="not sorted"):
        engine_module._engine.find_sorted(run, wanted[::-1].copy())


def test_registering_an_export_holds_a_few_pieces_of_it_at_a_time(tmp_path):
    """Two million digests (16 MB) registered through the spill and the merge: what numpy holds at once
    stays a few MB, whatever the export's size (a run's fences once kept every piece alive, 21 MB of a
    million-row export)."""
    import tracemalloc

    registry, ring = fresh(tmp_path)
    rng = np.random.default_rng(11)
    chunks = [rng.integers(-2**63, 2**63 - 1, size=1 << 16, dtype=np.int64) for _ in range(32)]
    tracemalloc.start()
    try:
        with registry:
            export = record(registry, ring, "alice", chunks)
            peak = tracemalloc.get_traced_memory()[1]
            assert registry.exposure_counts() == {export.id: 32 << 16}
    finally:
        tracemalloc.stop()
    assert peak < 12_000_000, peak


def test_a_run_that_can_be_kept_is_read_whole_when_a_tenth_of_it_is_wanted(tmp_path, monkeypatch):
    """A 1M-row leak's 2,000-row batch wants about a quarter of its export's run's blocks, each batch
    another quarter: a run that fits the budget is read whole once a lookup wants ``KEPT_SHARE`` of it,
    and kept for the next; one too big to keep is read by its blocks below ``WHOLE_SHARE``."""
    registry, ring = fresh(tmp_path)
    with registry:
        entry = record(registry, ring, "alice", [list(range(0, 20_000, 10))])  # 2,000 digests
        run = registry.runs.runs()[0]
        wanted = [block * run.per_block * 10 + 10 for block in range(0, run.blocks, 6)]  # in a sixth of the blocks
        share = len(wanted) / run.blocks
        assert runs_module.KEPT_SHARE <= share < runs_module.WHOLE_SHARE
        expected = [(d, entry.id) for d in wanted]

        monkeypatch.setattr(runs_module, "WHOLE_BYTES", 8 * 2000 - 1)  # the run does not fit
        assert registry.exposure_of(wanted, ring.current_id) == expected
        assert registry.runs._whole == {}

        monkeypatch.setattr(runs_module, "WHOLE_BYTES", 8 * 2000)  # it fits
        assert registry.exposure_of(wanted, ring.current_id) == expected
        assert list(registry.runs._whole) == [run.id]
        assert registry.exposure_of(wanted[:1], ring.current_id) == expected[:1]  # one digest: from the run kept
