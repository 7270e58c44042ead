"""A canary's parts are drawn with the probabilities ``canary_draws`` documents, whatever the drawing's shortcuts.

The drawing takes rows lazily (a partial shuffle, random picks) instead of
shuffling the whole window; these tests pin *what* it draws and *how often*:
each case's exact distribution is written down from the docstrings, and the
frequencies over a fixed set of seeds must fit it (a chi-square test at
p < 10^-6: fixed seeds, so the test passes or fails the same way every run).
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer import address_reading
from tracer.canary_draws import Draw, address_from_rows, email_from_rows, name_from_rows

SEEDS = range(4000)


Z_ONE_IN_A_MILLION = 4.7534  # the standard normal's upper 10^-6 quantile


def chi2_bound(df: int) -> float:
    """The chi-square distribution's upper 10^-6 quantile by Wilson and Hilferty's cube-root normal
    approximation, a little above the true one (looser): by 15% at 1 degree of freedom, 2% at 10, 0.2% at 100."""
    h = 2 / (9 * df)
    return df * (1 - h + Z_ONE_IN_A_MILLION * h ** 0.5) ** 3


def fits(counts: Counter, expected: dict[str, Fraction]) -> None:
    """The draws fall only where ``expected`` allows, as often as it says (chi-square, p < 10^-6)."""
    assert set(counts) <= set(expected), set(counts) - set(expected)
    total = sum(counts.values())
    cells = [k for k, p in expected.items() if p > 0]
    statistic = sum((counts[k] - total * float(expected[k])) ** 2 / (total * float(expected[k])) for k in cells)
    assert statistic < chi2_bound(max(len(cells) - 1, 1)), (statistic, counts, expected)


def uniform(values) -> dict[str, Fraction]:
    """Each value as often as it occurs in ``values``."""
    counts = Counter(values)
    return {v: Fraction(n, len(values)) for v, n in counts.items()}


def test_a_name_is_the_kins_surname_with_a_given_name_as_often_as_rows_carry_it():
    """Every row that gives a new person counts once: a given name three rows carry is drawn three times as
    often; a row whose name would be the kin's own, or a donor's, or not a name, is never the donor."""
    rows = [["王浩"], ["李浩"], ["李浩"], ["陈浩"], ["李鹏阳"], ["欧阳娜娜"], ["张伟"], ["张睿"], ["Amy Lee"], ["n/a"], [""]]
    avoid = {"张伟", "王浩"}
    counts = Counter(name_from_rows("张伟", 0, Draw(rows, random.Random(s)), avoid) for s in SEEDS)
    # 王浩, 李浩 (twice), 陈浩 -> 张浩 (four rows); 李鹏阳 -> 张鹏阳; 欧阳娜娜 -> 张娜娜; 张伟 is avoided, 张睿 is the row
    # itself; Amy Lee is not written in Chinese; n/a and the empty cell are no names.
    fits(counts, uniform(["张浩", "张浩", "张浩", "张浩", "张鹏阳", "张娜娜"]))


def test_a_name_takes_another_surname_only_when_the_kins_makes_nobody_new():
    """All rows share the kin's surname: the kin's makes only their own names, so the first surnames found
    in the (random) order of the rows are tried: each row's surname as often as rows carry it."""
    rows = [["张伟"], ["张睿"], ["张浩"], ["李浩"]]
    counts = Counter(name_from_rows("张伟", 0, Draw(rows, random.Random(s)), {"张伟"}) for s in SEEDS)
    # With the kin's surname: 张睿 (from 张睿: the row itself), 张浩 (from 张浩: itself), 张伟 avoided; 李浩 gives
    # 张浩, a new person.  So 张浩 always.
    assert set(counts) == {"张浩"}
    rows = [["张伟"], ["张睿"], ["张浩"]]
    counts = Counter(name_from_rows("张伟", 0, Draw(rows, random.Random(s)), {"张伟"}) for s in SEEDS)
    # Every surname is 张: nobody new can be made from these rows.
    assert set(counts) == {None}


def test_address_numbers_come_from_one_distinct_same_shaped_address_each_as_often():
    """Each number is the same position's number of a distinct address of the same shape (repeats count
    once), drawn apart for every number; an address equal to the home's is drawn again."""
    estate = "浙江省杭州市西湖区明珠花园{}栋{}单元{}室"
    home = estate.format(21, 2, 701)
    others = [estate.format(3, 1, 1202), estate.format(3, 1, 1202), estate.format(3, 1, 1202),
              estate.format(8, 3, 302), estate.format(21, 2, 702)]
    rows = [[home], [home], *[[a] for a in others], ["北京市朝阳区建国路88号"], ["7 Oak Lane Apt 12"]]
    counts = Counter(address_from_rows(home, 0, Draw(rows, random.Random(s))) for s in SEEDS)
    distinct = [(3, 1, 1202), (8, 3, 302), (21, 2, 702)]  # the repeated address counts once
    expected: dict[str, Fraction] = {}
    for b in distinct:
        for u in distinct:
            for r in distinct:
                text = estate.format(b[0], u[1], r[2])
                if text != home:
                    expected[text] = expected.get(text, 0) + Fraction(1, 27)
    total = sum(expected.values())
    fits(counts, {k: v / total for k, v in expected.items()})


def test_address_numbers_without_a_same_shaped_address_are_any_rows_of_that_role():
    """No other address of the home's shape: each number is drawn from the same role's numbers of every
    distinct address written in the same script, repeats counted once."""
    home = "上海市浦东新区锦绣路1188弄星河湾5号"
    rows = [[home], ["北京市朝阳区建国路88号"], ["北京市朝阳区建国路88号"], ["广州市天河区体育西路191号"],
            ["重庆市南岸区创业路58号书香门第12栋704室"], ["12 W 21st Street Apt 4C"]]
    counts = Counter(address_from_rows(home, 0, Draw(rows, random.Random(s))) for s in SEEDS)
    # 1188 is a lane (弄: house role), 5 a house number (号): house numbers of distinct CJK rows other than home:
    # 88 (once: repeats count once), 191, 58.
    houses = ["88", "191", "58"]
    expected = {f"上海市浦东新区锦绣路{a}弄星河湾{b}号": Fraction(1, 9) for a in houses for b in houses}
    fits(counts, expected)


def test_an_email_takes_a_rows_style_as_often_as_rows_carry_it_at_a_domain_as_often_as_rows_use_it():
    rows = [["Phillip Thomas", "phillip.thomas63@outlook.com"], ["John Alvarado", "jalvarado@icloud.com"],
            ["Rose Hill", "rhill@icloud.com"], ["Rose Hill", "rhill@icloud.com"], ["Chris Kerr", "KerrChris@gmail.com"], ["Bo", "bo@qq.com"],
            ["Dana Wu", ""]]
    counts = Counter(email_from_rows("Amy Lee", 1, 0, Draw(rows, random.Random(s)), set()) for s in SEEDS)
    # Each row with a style as likely, the repeated one twice over (Bo's has none); the domains likewise.
    styles = {"amy.lee63": Fraction(1, 5), "alee": Fraction(3, 5), "LeeAmy": Fraction(1, 5)}
    domains = {"outlook.com": Fraction(1, 6), "icloud.com": Fraction(3, 6), "gmail.com": Fraction(1, 6),
               "qq.com": Fraction(1, 6)}
    fits(counts, {f"{s}@{d}": p * q for s, p in styles.items() for d, q in domains.items()})


@pytest.mark.parametrize("size", [1, 2, 7, 64])
def test_rows_are_drawn_in_a_uniformly_random_order(size):
    """Draw.rows: every row first equally often, and the first two an ordered pair of distinct rows."""
    rows = [[str(i)] for i in range(size)]
    firsts, pairs = Counter(), Counter()
    for s in SEEDS:
        order = [r[0] for r in Draw(rows, random.Random(s)).rows()]
        assert sorted(order, key=int) == [r[0] for r in rows]
        firsts[order[0]] += 1
        if size > 1:
            pairs[order[0] + "," + order[1]] += 1
    fits(firsts, uniform([r[0] for r in rows]))
    if 1 < size <= 7:
        fits(pairs, uniform([f"{a},{b}" for a in range(size) for b in range(size) if a != b]))


ADDRESS_PIECES = st.sampled_from(["1", "12", "301", "１２", "-", "号", "号楼", "号院", "弄", "栋", "幢", "座", "单元", "室",
                                  "房", "户", "层", "楼", "路", "明珠花园", "Apt ", "#", "4C", "21st", " ", "\n"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ADDRESS_PIECES, max_size=12).map("".join))
def test_an_address_is_read_once_as_address_numbers_and_address_shape_read_it(text):
    """The draw reads each distinct address once, in one regex pass: the same numbers, roles and shape."""
    kind, numbers, by_role = address_reading.address_parts(text)
    reference = address_reading.address_numbers(text)
    cjk = address_reading.CJK.search(text) is not None
    assert kind == f"{cjk:d}{len(reference)}|{address_reading.address_shape(text)}"
    assert address_reading.address_kind(text) == (kind, len(reference))  # the quick reading of the kind agrees
    for role, hints in address_reading.CN_ROLE_HINTS.items():  # an address without a role's hints has none of it
        assert not cjk or any(h in text for h in hints) or (True, role) not in by_role
    assert numbers == tuple((role, text[start:end]) for start, end, role in reference)
    assert by_role == {(cjk, role): tuple(v for r, v in numbers if r == role) for role, _ in numbers}
