"""Pairing a headerless leak's addresses with phones: every way is tried, within a bound."""

from __future__ import annotations

from tracer.pairing import MAX_PAIRINGS, pairings


def names(uncertain: int, phones: int) -> dict[tuple, int]:
    """Streams of a leak whose ``uncertain`` address columns each were read at ``phones`` phone columns."""
    out = {}
    for column in range(uncertain):
        for phone in range(phones):
            out[("leak.csv", 100 + column, "slot", phone)] = len(out)
    out[("leak.csv", 0, "phone.layout", 0)] = len(out)  # a phone's own marks: certain
    return out


def test_each_pairing_keeps_one_phone_per_uncertain_column():
    streams = names(2, 2)
    found = pairings(streams)
    assert len(found) == 4
    for pairing in found:
        kept = set(streams.values()) - pairing.set_aside
        assert len(kept) == 3  # one stream per address column, and the phone's own
        assert streams[("leak.csv", 0, "phone.layout", 0)] in kept


def test_a_leak_with_nothing_uncertain_has_one_pairing_that_sets_nothing_aside():
    assert [p.set_aside for p in pairings(names(0, 3))] == [frozenset()]


def test_too_many_pairings_fall_back_to_the_nearest_phones_without_listing_them():
    found = pairings(names(20, 20))  # 20^20 pairings: must not be listed
    assert 20 ** 20 > MAX_PAIRINGS and len(found) == 1
    assert len(found[0].chosen) == 20


def test_a_leak_with_too_many_pairings_is_read_at_the_nearest_phones_only():
    from tracer.columns import Column, Schema
    from tracer.marks import mark_plan

    phones = [Column(2 * i, f"column_{2 * i + 1}", "phone", None, 1.0, "values") for i in range(6)]
    addresses = [Column(2 * i + 1, f"column_{2 * i + 2}", "address", None, 1.0, "values") for i in range(6)]
    schema = Schema(tuple(sorted(phones + addresses, key=lambda c: c.index)))
    plans = [c for c in mark_plan(schema, alternatives=True).cells if c.index % 2 == 1]
    assert [c.anchor for c in plans] == [0, 2, 4, 6, 8, 10]  # 6^6 pairings: only the nearest (left) phone
    two = Schema(tuple(c for c in schema.columns if c.index < 4))
    assert len([c for c in mark_plan(two, alternatives=True).cells if c.index % 2 == 1]) == 4  # 2 x 2: all
