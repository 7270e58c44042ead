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

from realism_data import Dataset, by_person, label, with_gaps  # noqa: E402

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


def test_a_persons_column_is_grouped_by_the_person_alone_not_through_the_gap():
    """Two versions of one slot that kept two different shops do not join the shops: a name cell shows
    nothing of the gap, and joined so, the big shops of cn-estates made one group of two thirds of the sample."""
    source = [[f"ORD-{1000 + 10 * i}", "Shop A" if i % 2 else "Shop B", "555-010-0001" if i % 2 else "555-010-0002",
               f"2024-01-01 0{i}:00:00", f"{i}.00"] for i in range(8)]
    version_a = ["ORD-1023", "Shop A", "555 010 0001", "2024-01-01 02:30:00", "6.00"]  # kept shop A, marked layout
    version_b = ["ORD-1027", "Shop B", "(555) 010-0002", "2024-01-01 02:40:00", "1.00"]  # kept shop B
    data = Dataset("t", "test", HEADER, KINDS, source,
                   exports=[source[:3] + [version_a] + source[3:], source[:3] + [version_b] + source[3:]])
    label(data)
    rows = data.rows
    by = dict(zip(map(id, rows), by_person(rows, 2)))
    shop_a = {by[id(r)] for r in rows if r.cells[1] == "Shop A"}
    shop_b = {by[id(r)] for r in rows if r.cells[1] == "Shop B"}
    assert len(shop_a) == len(shop_b) == 1  # every row of a shop, whatever its phone's layout
    assert shop_a != shop_b
    chained = with_gaps(rows, by_person(rows, 2))  # what the person's columns were grouped by before
    assert len(set(chained)) == 1  # the two shops, and every row of theirs, in one group
