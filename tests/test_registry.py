"""The registry's interface on both engines: what record_export stores, the canary re-check under the lock."""

from __future__ import annotations

from tracer import api


def record(registry, ring, name, exposure, canaries):
    return registry.record_export(registry.account(name), ring.current_id, ring.current, source="s.csv",
                                  output="o.csv", rows=3, marked_cells=0, exposure=exposure,
                                  canary_rows=len(canaries), canaries=canaries)


def test_exposure_in_chunks_is_stored_once_per_anchor(reg):
    registry, ring = api.open_with_key(reg.location, reg.key)
    with registry:
        entry = record(registry, ring, "alice", [[5, 1, 2, 2], [2, 3, -7]], {})
        found = sorted(registry.exposure_of([1, 2, 3, 5, -7, 9], ring.current_id))
        assert found == [(d, entry.id) for d in (-7, 1, 2, 3, 5)]
        assert registry.exposure_counts() == {entry.id: 5} and registry.summary()["exposure"] == 5
        assert registry.exposure_of([1], ring.current_id + 1) == []  # another key's digests say nothing
        assert registry.check(ring) == []


def test_a_canary_another_export_committed_meanwhile_is_no_evidence(reg):
    """Under the lock, a canary that another export committed as a real record, or another account as
    its canary, is registered with space 0 (two hosts drew it at once).  Bob's file now holds the value
    too, so alice giving it again is no evidence either."""
    registry, ring = api.open_with_key(reg.location, reg.key)
    with registry:
        first = record(registry, ring, "alice", [[100, 200]], {300: 1000})
        second = record(registry, ring, "bob", [[400]], {100: 1000, 300: 1000, 500: 1000})
        third = record(registry, ring, "alice", [[600]], {300: 1000})
        spaces = {(d, e): space for d, e, space in registry.canaries_of([100, 300, 500], ring.current_id)}
        assert spaces == {(300, first.id): 1000, (100, second.id): 0, (300, second.id): 0, (500, second.id): 1000,
                          (300, third.id): 0}
        assert registry.canary_counts([1, 2], ring.current_id) == {1: (1, 1000), 2: (1, 1000)}
        assert registry.check(ring) == []  # the chain holds the spaces as registered
