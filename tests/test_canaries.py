"""Canary rows: deterministic, never the donor's identifying values, the donor's shape.

The realism itself (can a classifier tell canaries from real rows?) is measured
by ``benchmarks/canary_realism.py``; these tests pin the properties it relies on.
"""

from __future__ import annotations

import random
import re

import pytest

from tracer.canaries import (
    CN_SURNAMES,
    KEPT_DIGITS,
    RANDOM_DIGITS,
    US_EXCHANGES,
    _address,
    _email,
    _number,
    chance_space,
    make_canary,
)
from tracer.columns import phone_anchor, recognise

CJK = re.compile(r"[\u4e00-\u9fff]")


def _canaries(table, count=300, seed=7):
    header, rows = table
    schema = recognise(header, rows[:200])
    out = []
    for i, donor in enumerate(rows[:count]):
        rng = random.Random(seed * 100_003 + i)
        out.append((donor, make_canary(schema, donor, rng)))
    return schema, out


def _house_number(address: str) -> str | None:
    if CJK.search(address):
        match = re.search(r"(\d+)号(?!楼)", address)
    else:
        match = re.match(r"\s*(\d+)\b", address)
    return match.group(1) if match else None


@pytest.mark.parametrize("table", ["waybills", "orders"])
def test_canaries_are_deterministic_given_the_rng(table, request):
    header, rows = request.getfixturevalue(table)
    schema = recognise(header, rows[:200])
    for i, donor in enumerate(rows[:100]):
        assert make_canary(schema, donor, random.Random(i)) == make_canary(schema, donor, random.Random(i))


@pytest.mark.parametrize("table", ["waybills", "orders"])
def test_canaries_never_reuse_the_donors_identifying_values(table, request):
    schema, pairs = _canaries(request.getfixturevalue(table))
    for donor, canary in pairs:
        assert len(canary) == len(donor)
        for column in schema.columns:
            old, new = donor[column.index], canary[column.index]
            if column.kind in ("phone", "id", "email"):
                assert new != old, (column.header, old)
            if column.kind == "phone":
                assert phone_anchor(new) != phone_anchor(old)
            if column.kind == "name" and column.header not in ("物品",):
                assert new != old
            if column.kind == "address":
                assert new != old
                house = _house_number(old)
                if house is not None:
                    assert _house_number(new) != house, (old, new)


@pytest.mark.parametrize("table", ["waybills", "orders"])
def test_canaries_keep_the_donors_shape(table, request):
    schema, pairs = _canaries(request.getfixturevalue(table))
    for donor, canary in pairs:
        for column in schema.columns:
            old, new = donor[column.index], canary[column.index]
            if column.kind == "phone":
                assert re.sub(r"\d", "9", new) == re.sub(r"\d", "9", old)  # same layout
                kind, digits, new_digits = phone_anchor(old)[:2], phone_anchor(old)[3:], phone_anchor(new)[3:]
                assert new_digits[:KEPT_DIGITS[kind]] == digits[:KEPT_DIGITS[kind]]  # the donor's segment
                if kind == "us":
                    assert int(new_digits[3:6]) in US_EXCHANGES
            elif column.kind == "id":
                assert re.sub(r"\d", "9", new) == re.sub(r"\d", "9", old)
                assert new[:5] == old[:5]
            elif column.kind == "name" and CJK.search(old):
                surname = old[:2] if old[:2] in CN_SURNAMES and len(old) > 2 else old[:1]
                assert new.startswith(surname) and len(new) == len(old)
            elif column.kind == "name":
                assert new.split()[1:] == old.split()[1:]
            elif column.kind == "address":
                assert re.sub(r"\d+", "#", new) == re.sub(r"\d+", "#", old)  # only numbers change
            elif column.kind == "email":
                assert new.rsplit("@", 1)[1] == old.rsplit("@", 1)[1]
            elif column.kind == "number":
                decimals = len(old.split(".")[1]) if "." in old else 0
                assert len(new.split(".")[-1]) == len(old.split(".")[-1])  # as many decimals
                assert 0 < abs(float(new) - float(old)) <= 2 * 10 ** -decimals + 1e-9 and float(new) > 0
            elif column.kind == "datetime":
                assert new[:10] == old[:10]
            else:
                assert new == old, column.header  # city, state, ZIP, item: the donor's


def test_an_item_column_taken_for_names_is_not_renamed(waybills):
    header, rows = waybills
    schema = recognise(header, rows[:200])
    item = header.index("物品")
    for i, donor in enumerate(rows[:200]):
        assert make_canary(schema, donor, random.Random(i))[item] == donor[item]


def test_emails_follow_the_donors_style():
    rng = random.Random(3)
    cases = [
        ("phillip.thomas63@outlook.com", "Phillip Thomas", "Amy Thomas", r"amy\.thomas\d\d@outlook\.com"),
        ("jalvarado@icloud.com", "John Alvarado", "Mary Alvarado", r"malvarado@icloud\.com"),
        ("smith.l@gmail.com", "Luis Smith", "Anna Smith", r"smith\.a@gmail\.com"),
        ("kerrchris@gmail.com", "Chris Kerr", "Dana Kerr", r"kerrdana@gmail\.com"),
        ("amandawilliams1994@yahoo.com", "Amanda Williams", "Rose Williams", r"rosewilliams(19[4-9]\d|20[01]\d)@yahoo\.com"),
    ]
    for donor, donor_name, name, pattern in cases:
        for _ in range(20):
            assert re.fullmatch(pattern, _email(donor, donor_name, name, rng)), donor


def test_address_numbers_keep_their_roles():
    rng = random.Random(5)
    for _ in range(50):
        cn = _address("浙江省杭州市西湖区明珠花园21栋2单元701室", rng)
        assert re.fullmatch(r"浙江省杭州市西湖区明珠花园\d+栋2单元\d+01室", cn)
        en = _address("12 W 21st Street Apt 4C", rng)
        assert re.fullmatch(r"\d+ W 21st Street Apt \d+C", en) and not en.startswith("12 ")


def test_small_amounts_stay_small():
    rng = random.Random(2)
    assert {_number("0.1", rng) for _ in range(50)} <= {"0.2", "0.3"}
    assert all(0.1 <= float(_number("0.2", rng)) <= 0.4 for _ in range(50))


def test_chance_space_counts_only_the_values_a_canary_can_take():
    assert chance_space("cn") == 10 ** RANDOM_DIGITS["cn"]
    assert chance_space("us") == len(US_EXCHANGES) * 10 ** 4 == 7_910_000
