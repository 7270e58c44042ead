"""The realism bench's grouping: decoys that sit in one gap are scored in one cross-validation fold.

The versions of one shared slot follow the same record in every account's
export, their identifiers and times drawn from that gap; grouped apart, a model
learns the gap's digits from one version and recognises the next, an AUC no
single export allows (issue 14: order numbers 0.68 with the leak, 0.46 without).
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

from realism_data import Dataset, label, with_gaps  # noqa: E402

HEADER = ["Order ID", "Customer", "Phone", "Order Date", "Total"]
KINDS = ["id", "name", "phone", "datetime", "number"]


def _source() -> list[list[str]]:
    return [[f"ORD-{1000 + 10 * i}", f"Person {i}", f"555-010-{i:04d}", f"2024-01-01 0{i}:00:00", f"{i}.00"]
            for i in range(8)]


def test_versions_of_one_slot_share_a_group_and_per_account_canaries_elsewhere_do_not():
    source = _source()
    # two accounts, one shared slot after ORD-1020 (versions copied from different donors), and one
    # account's own canary after ORD-1050
    version_a = ["ORD-1023", "Alice New", "555-999-0001", "2024-01-01 02:30:00", "6.00"]
    version_b = ["ORD-1027", "Bob New", "555-999-0002", "2024-01-01 02:40:00", "1.00"]
    own = ["ORD-1055", "Carol New", "555-999-0003", "2024-01-01 05:30:00", "3.00"]
    export_a = source[:3] + [version_a] + source[3:6] + [own] + source[6:]
    export_b = source[:3] + [version_b] + source[3:]
    data = Dataset("t", "test", HEADER, KINDS, source, exports=[export_a, export_b])
    label(data)
    group = {tuple(r.cells): r.group for r in data.rows}
    assert [r.canary for r in data.rows].count(True) == 3
    assert group[tuple(version_a)] == group[tuple(version_b)]
    assert group[tuple(own)] != group[tuple(version_a)]
    assert group[tuple(source[4])] != group[tuple(source[2])]


def test_person_groups_join_a_canary_with_its_gap():
    source = _source()
    version_a = ["ORD-1023", "Alice New", "555-999-0001", "2024-01-01 02:30:00", "6.00"]
    version_b = ["ORD-1027", "Bob New", "555-999-0002", "2024-01-01 02:40:00", "1.00"]
    data = Dataset("t", "test", HEADER, KINDS, source,
                   exports=[source[:3] + [version_a] + source[3:], source[:3] + [version_b] + source[3:]])
    label(data)
    rows = [r for r in data.rows if r.canary] + [r for r in data.rows if not r.canary][:4]
    by = with_gaps(rows, [r.cells[2] for r in rows])
    assert by[0] == by[1]  # two people, one gap
    assert len(set(by[2:])) == 4  # real customers stay apart
