"""A canary's Chinese address drawn by the native engine is the Python reference's, draw for draw.

``canary_draws.address_from_rows`` asks the native ``AddressColumn`` (which keeps
the window's address kinds as rows come and go) for a home written in Chinese,
handing it the seed the draw took from its rng; it must return the address
``random.Random(seed)`` draws in the Python code, and the rng must be left where the
Python code leaves it, whatever the window holds
(other scripts, ``#``, full-width and Arabic-Indic digits, 3-2-301 forms,
whitespace), so that exports stay byte-identical between engines.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer import engine
from tracer.address_reading import address_key
from tracer.canary_draws import Draw, address_from_rows
from tracer.canary_window import Window

from .test_read_ahead import record_batch

pytestmark = pytest.mark.skipif(engine._engine is None, reason="the native engine is not built")

PIECES = st.sampled_from(["1", "2", "12", "301", "1201", "１２", "٣", "-", "-", "号", "号楼", "号院", "弄", "栋", "座",
                          "单元", "室", "房", "层", "楼", "路", "幸福小区", "明珠花园", "北京市", "Apt ", "Main St",
                          "#", "4C", "21st", " ", "\u3000", "\n", "\x00", "〇", "②"])
ADDRESS = st.lists(PIECES, max_size=9).map("".join)
ESTATE = st.tuples(st.sampled_from(["幸福小区", "明珠花园", "建设路"]), st.integers(1, 30), st.integers(1, 6),
                   st.integers(101, 2604), st.sampled_from(["{}-{}-{}", "{}栋{}单元{}室", "{}号楼{}单元{}", "{}-{}{}室"])
                   ).map(lambda t: t[0] + t[4].format(*t[1:4]))


def draws(cells: list[str], homes: list[str], seed: int, engine_name: str, monkeypatch, steps: int) -> list:
    """Each home drawn in turn from a window of 6 rows that moves on by ``steps`` rows between draws
    (``cells`` over and over), with the rng's state after each."""
    monkeypatch.setenv("TRACER_ENGINE", engine_name)
    feed = iter(cells * (6 + len(homes) * steps))
    window, rng, out = Window(6), random.Random(seed), []
    window.extend([[next(feed)] for _ in range(6)])
    for home in homes:
        draw = Draw(window, rng)
        assert (window.addresses(0).native is not None) == (engine_name == "native")
        out.append((address_from_rows(home, 0, draw), rng.getstate()))
        window.extend([[next(feed)] for _ in range(steps)])
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(ESTATE, ADDRESS), min_size=1, max_size=40), st.lists(st.one_of(ESTATE, ADDRESS),
       min_size=1, max_size=4), st.integers(0, 2**32), st.integers(1, 7))
def test_the_native_address_draw_is_the_reference_draw_for_draw(cells, homes, seed, steps):
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert draws(cells, homes, seed, "native", monkeypatch, steps) == draws(cells, homes, seed, "python",
                                                                              monkeypatch, steps)


def test_an_estate_address_takes_each_number_from_a_neighbour_of_its_kind(monkeypatch):
    cells = ["幸福小区3-2-301", "幸福小区5-1-1202", "明珠花园8栋2单元601室", "幸福小区7-3-502"]
    native = draws(cells, ["幸福小区3-2-301"], 11, "native", monkeypatch, 4)
    assert native == draws(cells, ["幸福小区3-2-301"], 11, "python", monkeypatch, 4)
    drawn = native[0][0]
    assert drawn != "幸福小区3-2-301" and drawn.startswith("幸福小区")
    building, unit, room = drawn.removeprefix("幸福小区").split("-")
    assert building in {"5", "7"} and unit in {"1", "3"} and room in {"1202", "502"}


def test_the_native_column_draws_chinese_homes_and_leaves_the_others_to_python(monkeypatch):
    monkeypatch.setenv("TRACER_ENGINE", "native")
    window = Window(4, [["幸福小区3-2-301"], ["幸福小区5-1-1202"], ["12 Main St Apt 4C"], [""]])
    column = window.addresses(0)
    assert column.native.counts() == [3, 3, 2, 0] and column.counts == [3, 3, 2, 0]
    drawn = column.native.draw("幸福小区7-3-502", 3)
    building, unit, room = drawn.removeprefix("幸福小区").split("-")  # each number a kind-mate's, in its place
    assert building in {"3", "5"} and unit in {"2", "1"} and room in {"301", "1202"}
    assert {column.native.draw("幸福小区7-3-502", seed) for seed in range(40)} != {drawn}  # the seed draws
    assert column.native.draw("12 Main St Apt 4C", 3) is None


def test_the_native_draw_takes_a_64_bit_seed_alone(monkeypatch):
    monkeypatch.setenv("TRACER_ENGINE", "native")
    column = Window(2, [["幸福小区3-2-301"], ["幸福小区5-1-1202"]]).addresses(0)
    assert column.native.draw("幸福小区7-3-502", 2**64 - 1) is not None
    for bad, error in ((-1, OverflowError), (2**64, OverflowError), ("1", TypeError)):
        with pytest.raises(error):
            column.native.draw("幸福小区7-3-502", bad)


@pytest.mark.parametrize("kind", ["幸福小区{}-{}\n", "幸福小区{}-{}室", "幸福小区{}-{}号", "幸福小区{}-{}-{}", "建设路{}号{}栋{}单元",
                                  "路{}号\u3000", "  明珠花园{}栋{}层 ", "路#{}号{}房"])
def test_each_form_of_number_is_read_as_the_reference_reads_it(kind, monkeypatch):
    """Where ``CN_NUMBER``'s forms differ (3-301 before 室 or the end, a newline being an end to ``$``;
    3-2-301; a role word after a number; full-width digits, ``#``, whitespace): same-kind neighbours and
    other kinds, every home drawn on both engines."""
    rng = random.Random(len(kind))
    cells = [kind.format(*(rng.choice(["1", "12", "３", "301", "1201"]) for _ in range(3))) for _ in range(12)]
    homes = cells[:3] + [kind.format("5", "6", "7")]
    for seed in range(20):
        assert draws(cells, homes, seed, "native", monkeypatch, 2) == draws(cells, homes, seed, "python", monkeypatch, 2)


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.one_of(ESTATE, ADDRESS), min_size=1, max_size=30), start=st.integers(0, 29))
def test_a_columns_cells_read_from_the_bytes_and_keyed_ahead_are_the_cells_added(cells, start):
    """The window's column fed from the byte reader's batch, with the kind keys the marking thread made
    (``address_keys``) or without, holds what adding the cells themselves gives."""
    cells = [c.replace("\x00", "").replace("\r", "").replace("\n", "") for c in cells]
    start = min(start, len(cells) - 1)
    batch = record_batch([[c, "x"] for c in cells])
    keys = engine._engine.address_keys(batch, [1, 0])
    ways = [engine._engine.AddressColumn() for _ in range(3)]
    ways[0].add("\x00".join(cells[start:]), len(cells) - start, address_key)
    ways[1].add_records(batch, 0, start, len(cells) - start, address_key)
    ways[2].add_records(batch, 0, start, len(cells) - start, address_key, keys)
    assert len({(tuple(w.keys()), tuple(w.counts())) for w in ways}) == 1
    assert [w.draw("幸福小区7-3-502", 5) for w in ways] == [ways[0].draw("幸福小区7-3-502", 5)] * 3
    with pytest.raises(IndexError):
        ways[1].add_records(batch, 0, start, len(cells) - start + 1, address_key)
