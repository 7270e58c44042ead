"""The canaries and shared decoys a batch is asked about are first narrowed to the digests the table holds
(registry/present.py): the rows found are the ones every digest's probe finds, whoever wrote since."""

from __future__ import annotations

import pytest

from tracer import api
from tracer.registry import present


def fresh(tmp_path):
    path, key = tmp_path / "r.db", tmp_path / "r.key"
    api.init(path, key)
    for account in ("alice", "bob"):
        api.add_account(path, account)
    return api.open_with_key(path, key)


def record(registry, ring, account: str, exposure: list[int], canaries: dict[int, int]):
    return registry.record_export(registry.account(account), ring.current_id, ring.current, source="s.csv",
                                  output="o.csv", rows=1, marked_cells=0, exposure=[exposure],
                                  canary_rows=len(canaries), canaries=canaries)


def probed_one_by_one(registry, digests, key_id, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(present, "FROM", 10**9)  # every digest probed: the reference
        return sorted(registry.canaries_of(digests, key_id))


@pytest.mark.parametrize("limit", [present.LIMIT, 1])  # held, and too many rows to hold
def test_canaries_found_are_those_every_probe_finds(tmp_path, monkeypatch, limit):
    monkeypatch.setattr(present, "LIMIT", limit)
    registry, ring = fresh(tmp_path)
    with registry:
        first = record(registry, ring, "alice", list(range(1000)), {5000 + i: 10**8 for i in range(20)})
        wanted = list(range(-100, 6000, 7)) + [5003, 5019]  # far more than FROM, a few canaries among them
        found = sorted(registry.canaries_of(wanted, ring.current_id))
        assert found == probed_one_by_one(registry, wanted, ring.current_id, monkeypatch)
        assert {d for d, _, _ in found} == {d for d in wanted if 5000 <= d < 5020}
        assert all(e == first.id for _, e, _ in found)
        # another process registers an export with new canaries: this reader sees them on its next lookup
        other, _ = api.open_with_key(registry.path, tmp_path / "r.key")
        with other:
            second = record(other, ring, "bob", [1], {5003: 10**8, 7000: 10**6})
        found = sorted(registry.canaries_of(wanted + [7000], ring.current_id))
        assert found == probed_one_by_one(registry, wanted + [7000], ring.current_id, monkeypatch)
        assert {(5003, second.id), (7000, second.id)} <= {(d, e) for d, e, _ in found}  # 5003 clashes: space 0
        assert registry.canaries_of(wanted, ring.current_id + 1) == []  # another key's exports say nothing
