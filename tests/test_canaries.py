"""Canary rows: deterministic, never the donor's identifying values, the donor's shape.

The realism itself (can a classifier tell canaries from real rows?) is measured
by ``benchmarks/canary_realism.py``; these tests pin the properties it relies on.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collections import Counter

from tracer.canaries import Donors, _fit_datetime, gap_weight, make_canary, parties, takes_gap
from tracer.canary_draws import Draw, address_from_rows, email_from_rows, name_from_rows
from tracer.canary_values import (
    RANDOM_DIGITS,
    US_EXCHANGES,
    chance_space,
    near_number,
    new_email,
)
from tracer.columns import phone_anchor, recognise

CJK = re.compile(r"[\u4e00-\u9fff]")


def _donors(schema, rows, i):
    """What the exporter hands make_canary after row ``i``: recent rows, neighbours, repeating phones."""
    recent = rows[max(0, i - 511): i + 1]
    counts = Counter(phone_anchor(r[c.index]) for r in rows[: i + 1] for c in schema.of_kind("phone"))
    return Donors(recent, rows[i], rows[i + 1] if i + 1 < len(rows) else None,
                  lambda phone: counts[phone_anchor(phone)] > 1)


def _canaries(table, count=300, seed=7):
    header, rows = table
    schema = recognise(header, rows[:200])
    out = []
    for i in range(600, 600 + count):
        rng = random.Random(seed * 100_003 + i)
        out.append((i, make_canary(schema, _donors(schema, rows, i), rng)))
    return schema, rows, out


@pytest.mark.parametrize("table", ["waybills", "orders"])
def test_canaries_are_deterministic(table, request):
    header, rows = request.getfixturevalue(table)
    schema = recognise(header, rows[:200])
    for i in range(100, 160):
        donors = _donors(schema, rows, i)
        assert make_canary(schema, donors, random.Random(i)) == make_canary(schema, donors, random.Random(i))


@pytest.mark.parametrize("table", ["waybills", "orders"])
def test_new_phones_and_identifiers_are_nobodys(table, request):
    schema, rows, canaries = _canaries(request.getfixturevalue(table))
    real_phones = {phone_anchor(r[c.index]) for r in rows for c in schema.of_kind("phone")}
    real_ids = {r[c.index] for r in rows for c in schema.of_kind("id")}
    for _, canary in canaries:
        fake_phones = [c for c in schema.of_kind("phone") if c.index in canary.fake_columns]
        assert fake_phones, "every canary has a new person"
        for column in fake_phones:
            assert phone_anchor(canary.row[column.index]) not in real_phones
        for column in schema.of_kind("id"):
            assert column.index in canary.fake_columns and canary.row[column.index] not in real_ids


def test_a_shop_that_sends_many_parcels_stays_real(waybills):
    schema, rows, canaries = _canaries(waybills)
    sender = [c for c in schema.of_kind("phone") if c.header == "寄件人电话"][0]
    kept = [c for _, c in canaries if sender.index not in c.fake_columns]
    assert 0.1 < len(kept) / len(canaries) < 0.5  # about the share of rows from repeat senders
    real = {tuple(r[1:4]) for r in rows}
    for canary in kept:
        assert tuple(canary.row[1:4]) in real  # the shop's name, phone and address as they are


def test_a_new_sender_is_made_of_one_off_peoples_parts_not_of_the_shops_that_send_most(tmp_path):
    """Shops send most parcels: drawn from every row, a new sender took a shop's surname and given name
    far more often than real one-off senders carry them (a classifier on the sender's name found that)."""
    header = ["运单号", "寄件人", "寄件人电话", "寄件地址", "收件人", "收件人电话", "收件地址", "重量(kg)"]
    shops = [("欧阳宇轩", "13900000001"), ("上官紫萱", "13900000002")]
    people = [s + g for s in "王李张刘陈" for g in ("浩然", "伟", "欣怡", "磊", "子轩", "梓涵")]
    rows = []
    for i in range(400):  # three parcels in four from a shop; the rest from people who send once
        name, phone = shops[i % 2] if i % 4 else (people[(i // 4) % len(people)], f"1380000{i:04d}")
        rows.append([f"SF{i:010d}", name, phone, f"杭州市西湖区文三路{i % 50 + 1}号", f"赵{'一二三四五'[i % 5]}",
                     f"1370000{i:04d}", f"杭州市余杭区五常大道{i % 80 + 1}号", "1.0"])
    schema = recognise(header, rows[:200])
    sender = next(c for c in schema.of_kind("phone") if c.header == "寄件人电话")
    made = [make_canary(schema, _donors(schema, rows, 399), random.Random(seed)) for seed in range(300)]
    new = [c.row for c in made if sender.index in c.fake_columns]
    assert len(new) > 50
    for row in new:  # surname and given name from the one-off senders (王浩然...), never 欧阳 / 宇轩 / 紫萱
        assert row[1][:1] in "王李张刘陈" and row[1][1:] in ("浩然", "伟", "欣怡", "磊", "子轩", "梓涵"), row[1]
        assert not row[3].startswith("杭州市西湖区文三路") or int(re.search(r"(\d+)号", row[3]).group(1)) <= 50


@pytest.mark.parametrize("table", ["waybills", "orders"])
def test_parts_come_from_real_rows_in_their_shape(table, request):
    schema, rows, canaries = _canaries(request.getfixturevalue(table))
    prefixes = {phone_anchor(r[c.index])[3:6] for r in rows for c in schema.of_kind("phone")}
    layouts = {re.sub(r"\d", "9", r[c.index]) for r in rows for c in schema.of_kind("phone")}
    regions = {tuple(r[c.index] for c in schema.columns if c.kind in ("city", "state", "zip")) for r in rows}
    shapes = {re.sub(r"\d+[A-Z]?", "#", r[c.index]) for r in rows for c in schema.of_kind("address")}
    for i, canary in canaries:
        row = canary.row
        for column in schema.of_kind("phone"):
            assert phone_anchor(row[column.index])[3:6] in prefixes
            assert re.sub(r"\d", "9", row[column.index]) in layouts
        assert tuple(row[c.index] for c in schema.columns if c.kind in ("city", "state", "zip")) in regions
        for column in schema.of_kind("address"):
            assert re.sub(r"\d+[A-Z]?", "#", row[column.index]) in shapes  # only numbers (4C, 1201) change
        for column in schema.of_kind("name"):
            if CJK.search(row[column.index]) and column.index in {c.index for p in parties(schema) for c in p.members}:
                assert row[column.index][:1] in {r[column.index][:1] for r in rows}
        for column in schema.of_kind("datetime"):  # the fixtures are sorted by time: the canary keeps the order
            assert rows[i][column.index] <= row[column.index] <= rows[i + 1][column.index]


def test_no_real_row_is_a_near_copy_of_a_canary(waybills):
    """Parts come from several rows: no real row shares more than half a canary's cells."""
    schema, rows, canaries = _canaries(waybills, count=100)
    for i, canary in canaries:
        nearby = rows[max(0, i - 600): i + 2]
        best = max(sum(a == b for a, b in zip(canary.row, r)) for r in nearby)
        assert best <= len(canary.row) // 2


def test_fallback_emails_follow_the_donors_style():
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
            assert re.fullmatch(pattern, new_email(donor, donor_name, name, rng)), donor


def test_emails_are_the_new_name_in_another_rows_style_at_the_exports_domains():
    rows = [["Phillip Thomas", "phillip.thomas63@outlook.com"], ["John Alvarado", "jalvarado@icloud.com"],
            ["Chris Kerr", "KerrChris@gmail.com"]]
    seen = set()
    for seed in range(60):
        email = email_from_rows("Amy Lee", 1, 0, Draw(rows, random.Random(seed)), set())
        local, domain = email.split("@")
        assert local in ("amy.lee63", "alee", "LeeAmy") and domain in ("outlook.com", "icloud.com", "gmail.com")
        seen.add(local)
    assert len(seen) == 3
    assert email_from_rows("Amy Lee", 1, 0, Draw([["Bo", "x@y.com"]], random.Random(1)), set()) is None


def test_names_join_one_rows_surname_to_another_rows_given_name():
    rows = [["王浩"], ["李鹏阳"], ["欧阳娜娜"], ["张伟"]]
    taken = {r[0] for r in rows}
    made = {name_from_rows("张伟", 0, Draw(rows, random.Random(s)), taken) for s in range(40)}
    assert made == {"张浩", "张鹏阳", "张娜娜"}  # never 张伟 (a real row's)
    assert name_from_rows("张伟", 0, Draw([["张伟"]], random.Random(1)), {"张伟"}) is None


def test_address_numbers_are_other_rows_numbers_of_the_same_role():
    rows = [[a] for a in ("浙江省杭州市西湖区明珠花园21栋2单元701室", "浙江省杭州市西湖区明珠花园3栋1单元1202室",
                          "浙江省杭州市西湖区明珠花园8栋3单元302室", "北京市朝阳区建国路88号", "12 W 21st Street Apt 4C",
                          "7 Oak Lane Apt 12", "310 W 21st Street Apt 9A")]
    rng = random.Random(5)
    for _ in range(50):
        cn = address_from_rows(rows[0][0], 0, Draw(rows, rng))
        match = re.fullmatch(r"浙江省杭州市西湖区明珠花园(\d+)栋(\d)单元(\d+)室", cn)
        assert match and match.group(1) in ("3", "8") and match.group(2) in "13" and match.group(3) in ("1202", "302")
        en = address_from_rows(rows[4][0], 0, Draw(rows, rng))
        assert en == "310 W 21st Street Apt 9A"  # the same street's numbers, the ordinal kept
        road = address_from_rows(rows[3][0], 0, Draw(rows, rng))
        assert road == "北京市朝阳区建国路88号"  # no other house number to take: kept


@pytest.mark.parametrize("table", ["waybills", "orders"])
def test_amounts_are_real_rows_amounts_with_their_item(table, request):
    """A canary's weight or total is one a real row of the window carries, taken whole (no cent moved:
    where prices are few, a moved total is one no real order has), of the base row's item when the
    window has another row of it."""
    schema, rows, canaries = _canaries(request.getfixturevalue(table), count=150)
    numbers, items = schema.of_kind("number"), [c.index for c in schema.of_kind("item")]
    assert numbers
    for i, canary in canaries:
        window = rows[max(0, i - 511): i + 1]
        for column in numbers:
            value = canary.row[column.index]
            holders = [r for r in window if r[column.index] == value]
            assert holders, (column.name, value)
            if items and sum(all(r[k] == canary.row[k] for k in items) for r in window) > 40:
                assert any(all(r[k] == canary.row[k] for k in items) for r in holders)


def test_small_amounts_stay_small():
    rng = random.Random(2)
    assert {near_number("0.1", rng) for _ in range(50)} <= {"0.2", "0.3"}
    assert all(0.1 <= float(near_number("0.2", rng)) <= 0.4 for _ in range(50))


def test_chance_space_counts_only_the_values_a_canary_can_take():
    assert chance_space("cn") == 10 ** RANDOM_DIGITS["cn"]
    assert chance_space("us") == len(US_EXCHANGES) * 10 ** 4 == 7_910_000


def _orders(numbers: list[int]) -> tuple:
    header = ["Order ID", "Customer Name", "Phone"]
    rows = [[f"ORD-{n}", "Jane Doe", f"415-555-{1000 + i:04d}"] for i, n in enumerate(numbers)]
    return recognise(header, rows), rows


def test_a_canary_takes_a_gap_in_proportion_to_its_length():
    """Order numbers 10 apart: a gap of 20 weighs twice a typical one, a gap of 1
    (no free number) nothing; the canary's two gaps then look like everyone's."""
    schema, rows = _orders([1000 + 10 * i for i in range(20)])
    recent, before = rows[:17], rows[16]
    after = lambda n: ["ORD-%d" % n, "Ann Lee", "415-555-9999"]  # noqa: E731
    assert gap_weight(schema, recent, before, after(1160 + 1 + 20)) == pytest.approx(2.0)
    assert gap_weight(schema, recent, before, after(1161)) == 0.0
    assert takes_gap(2.0, 0.5) and not takes_gap(0.5, 0.5) and takes_gap(None, 0.99)


def test_identifiers_out_of_order_weigh_nothing_either_way():
    """Random waybill numbers do not run in order: every gap is taken as it comes."""
    rng = random.Random(3)
    schema, rows = _orders([rng.randrange(10**9) for _ in range(20)])
    assert gap_weight(schema, rows[:17], rows[16], rows[17]) is None


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 86_000), gap=st.integers(0, 400), seed=st.integers(0, 2**32),
       bits=st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)))
def test_a_time_fitted_between_neighbours_stays_between_them_whatever_the_seconds_marks(start, gap, seed, bits):
    """The timestamp channel moves a time within its pair of seconds {2k, 2k+1}. A canary's time takes a
    pair of its own between its neighbours' whenever one lies between them, and then stays between them
    whatever the three rows' marks (a shared decoy one second before its predecessor was a tell, and made
    a test fail one run in ten; a 3 s gap with a pair inside still drew in the neighbours' pairs). With no
    pair between, it shares a neighbour's pair, and the marks may swap the two as they swap real rows."""
    day = datetime(2024, 5, 2)
    before, after = day + timedelta(seconds=start), day + timedelta(seconds=start + gap)
    text = lambda t: t.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    donors = Donors(recent=[[text(before)]], before=[text(before)], after=[text(after)], repeats=lambda _: False)
    fitted = datetime.strptime(_fit_datetime(donors, 0, text(before), random.Random(seed)), "%Y-%m-%d %H:%M:%S")
    marked = [t - timedelta(seconds=t.second % 2 - bit) for t, bit in zip((before, fitted, after), bits)]
    pair = [(t - day).total_seconds() // 2 for t in (before, fitted, after)]
    assert pair[0] <= pair[1] <= pair[2]
    if pair[2] - pair[0] >= 2:
        assert pair[0] < pair[1] < pair[2] and marked[0] <= marked[1] <= marked[2]


@pytest.mark.parametrize("donor", ["138 0013 8000", "+86 13800138000", "(212) 555-0101", "1-212-555-0101", "٣٤٥6789"])
def test_a_new_phones_digits_are_randints_from_the_same_state(donor):
    """Each replaced digit is ``rng.randint(low, 9)``'s (drawn through ``_randbelow``, without randint's
    frames): the same digits, and the rng left where randint leaves it."""
    from tracer.canary_values import _replace_digits

    def with_randint(text, keep, rng, first_nonzero):
        out, seen = [], 0
        for ch in text:
            if ch.isdigit():
                if seen >= keep:
                    ch = str(rng.randint(2 if first_nonzero and seen == keep else 0, 9))
                seen += 1
            out.append(ch)
        return "".join(out)

    for seed in range(200):
        ours, theirs = random.Random(seed), random.Random(seed)
        assert _replace_digits(donor, 3, ours, seed % 2 == 0) == with_randint(donor, 3, theirs, seed % 2 == 0)
        assert ours.getstate() == theirs.getstate()
