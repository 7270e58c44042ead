"""The quicker ways the canary draws read their window give exactly what the plain ways gave.

Exports must stay byte-identical: each shortcut (kind keys read for a block of
addresses in one pass, kind-mates found by ``index``, ``_randbelow`` for
``randrange``, timestamps read without strptime, a schema's layout kept) is
checked here against the computation it replaced.
"""

from __future__ import annotations

import random
from datetime import datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracer.address_reading import address_key, address_keys, address_kind
from tracer import canaries
from tracer.canaries import _parse_time, parties, strptime_time
from tracer.canary_draws import Draw
from tracer.canary_layout import Layout, layout
from tracer.canary_values import DATETIME_FORMATS, below
from tracer.canary_window import Window
from tracer.columns import Column, Schema

PIECES = st.sampled_from(["1", "12", "301", "１２", "٣", "-", "号", "号楼", "栋", "单元", "室", "层", "路", "明珠花园", "北京市",
                          "Apt ", "Main St", "#", "4C", "21st", " ", "\u3000", "\n", "\x00", "é"])
ADDRESS = st.lists(PIECES, max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(ADDRESS, min_size=0, max_size=12))
def test_address_keys_are_equal_exactly_when_kinds_are(cells):
    keys, counts = address_keys(cells)
    assert (keys, counts) == ([address_key(c)[0] for c in cells], [address_key(c)[1] for c in cells])
    kinds = [address_kind(c) for c in cells]
    assert counts == [n for _, n in kinds]
    for a, ka in zip(cells, keys):
        for b, kb in zip(cells, keys):
            assert (ka == kb) == (address_kind(a) == address_kind(b)), (a, b)


@settings(max_examples=200, deadline=None)
@given(st.lists(ADDRESS, min_size=1, max_size=30), st.integers(1, 8), st.data())
def test_a_window_keeps_its_address_column_as_the_rows_say(cells, size, data):
    """Rows entering a few at a time: the index's cells, counts and kind-mates are the window's own."""
    window = Window(size)
    rows = [[c] for c in cells]
    at = 0
    while at < len(rows):
        step = data.draw(st.integers(1, 5))
        window.extend(rows[at:at + step])
        at += step
        column = window.addresses(0)
        now = [r[0] for r in window]
        assert column.cells == now
        assert column.counts == [address_kind(c)[1] for c in now]
        assert column.most_numbers() == max(address_kind(c)[1] for c in now)
        home = data.draw(st.sampled_from(now))
        kind = address_kind(home)[0]
        expected = []  # what address_from_rows computed before: kind_count > count, then the cells of the kind
        if sum(address_kind(c)[0] == kind for c in now) > now.count(home):
            expected = [c for c in dict.fromkeys(c for c in now if address_kind(c)[0] == kind) if c != home]
        assert column.others_of_kind(home) == expected


@given(st.integers(0, 2**32), st.lists(st.integers(1, 10**6), min_size=1, max_size=40))
def test_below_draws_what_randrange_draws(seed, bounds):
    ours, theirs = random.Random(seed), random.Random(seed)
    quick = below(ours)
    assert [quick(n) for n in bounds] == [theirs.randrange(n) for n in bounds]
    assert ours.getstate() == theirs.getstate()


@given(st.integers(0, 2**32), st.integers(1, 40))
def test_a_draws_order_is_the_fisher_yates_of_randrange(seed, size):
    order = list(Draw([[str(i)] for i in range(size)], random.Random(seed)).order())
    rng, moved, expected = random.Random(seed), {}, []
    for i in range(size):
        j = rng.randrange(i, size)
        expected.append(moved.get(j, j))
        moved[j] = moved.pop(i, i)
    assert order == expected


TIME_TEXT = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: d.strftime(DATETIME_FORMATS[0])),
    st.tuples(*[st.integers(0, 99)] * 5, st.integers(0, 9999)).map(
        lambda t: f"{t[5]:04d}-{t[0]:02d}-{t[1]:02d} {t[2]:02d}:{t[3]:02d}:{t[4]:02d}"),
    st.text(st.sampled_from("0123456789-/: T０"), max_size=22),
)


@settings(max_examples=500)
@given(TIME_TEXT, st.sampled_from(["", " ", "\t"]))
def test_timestamps_are_read_as_strptime_reads_them(text, pad):
    assert _parse_time(pad + text + pad) == strptime_time(pad + text + pad)


def test_a_layout_is_the_schemas_and_made_once():
    kinds = ("id", "name", "phone", "address", "name", "phone", "address", "item", "number", "datetime", "city")
    schema = Schema(tuple(Column(i, f"c{i}", k, None, 1.0, "values") for i, k in enumerate(kinds)))
    plan = layout(schema)
    assert plan is layout(schema) and plan == Layout.of(schema)
    assert list(plan.parties) == parties(schema)
    assert plan.fitted == (("id", 0), ("datetime", 9), ("region", 10))
    assert plan.items == (7,) and plan.numbers == (8,)
    assert plan.names == tuple(p.name for p in plan.parties)
    same = Schema(schema.columns)  # an equal schema, another object: its own layout, equal
    assert layout(same) == plan



def _gap_weight_whole(schema, recent, before, after):
    """``canaries.gap_weight`` as it was: every point read, then checked."""
    if len(recent) < canaries.GAP_MIN_ROWS:
        return None
    local = list(recent)[-(canaries.GAP_SAMPLE + 1):]
    weight = None
    for column in schema.of_kind("id"):
        points = [canaries._sequence_point(row[column.index]) for row in (*local, before, after)]
        if any(p is None for p in points) or len({p[0] for p in points}) != 1:
            continue
        line = [p[1] for p in points]
        low, high = line[-2], line[-1]
        if any(a > b for a, b in zip(line, line[1:-2])) or line[-3] <= line[0] or high < low:
            continue
        typical = (line[-3] - line[0]) / (len(local) - 1)
        weight = (1.0 if weight is None else weight) * max(high - low - 1, 0) / typical
    return weight


ODD = st.sampled_from(["", "ORD-99", "X1000", " ORD-1005 ", "ORD-10000", "abc", "ORD-1003"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=24), st.booleans(), st.tuples(st.integers(0, 40), st.integers(0, 40)),
       st.lists(st.tuples(st.integers(0, 26), ODD), max_size=2))
@example([5] * 10, True, (5, 9), [])  # the last rows all one number: no typical gap, no weight
def test_gap_weight_stops_at_the_first_point_out_of_order_with_the_same_weight(numbers, rising, pair, odd):
    """Read lazily, the weight of a gap is the one every point read gives: two id columns (order numbers,
    plain numbers), their rows in order or not, equal neighbours, a few cells of another form."""
    schema = Schema(tuple(Column(i, name, "id", None, 1.0, "header") for i, name in enumerate(("订单号", "运单号"))))
    rows = [[f"ORD-{1000 + n}", str(3 * n)] for n in (sorted(numbers) if rising else numbers)]
    before, after = ([f"ORD-{1000 + n}", str(3 * n)] for n in pair)
    cells = [*rows, before, after]
    for at, value in odd:
        cells[at % len(cells)][0] = value
    assert canaries.gap_weight(schema, rows, before, after) == _gap_weight_whole(schema, rows, before, after)
