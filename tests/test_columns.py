"""Recognising columns by header and by values, and the anchors that survive cleaning."""

from __future__ import annotations

import pytest

from tracer.columns import id_anchor, kind_by_header, phone_anchor, recognise


@pytest.mark.parametrize("header, kind", [
    ("收件人", "name"), ("收货人", "name"), ("姓名", "name"), ("联系人", "name"), ("Customer Name", "name"),
    ("电话", "phone"), ("手机", "phone"), ("联系方式", "phone"), ("收件人电话", "phone"), ("Mobile", "phone"),
    ("地址", "address"), ("收货地址", "address"), ("Shipping Address", "address"),
    ("运单号", "id"), ("快递单号", "id"), ("订单号", "id"), ("Order ID", "id"),
    ("邮箱", "email"), ("E-mail", "email"), ("ZIP", "zip"), ("邮编", "zip"),
    ("重量(kg)", "number"), ("Total", "number"), ("下单时间", "datetime"), ("Order Date", "datetime"),
    ("物品", "item"), ("column_3", None), ("备注", None),
])
def test_headers_in_chinese_and_english(header, kind):
    assert kind_by_header(header) == kind


def test_headerless_columns_are_recognised_by_their_values(waybills, orders):
    for table, expected in (
        (waybills, ["id", "name", "phone", "address", "name", "phone", "address", None, "number", "datetime"]),
        (orders, ["id", "name", "email", "phone", "address", None, None, "zip", "datetime", "number"]),
    ):
        header, rows = table
        schema = recognise([f"column_{i}" for i in range(len(header))], rows[:100])
        for column, kind in zip(schema.columns, expected):
            if kind is not None:
                assert column.kind == kind, (header[column.index], column.kind)
                assert column.by == "values"


def test_a_header_is_overruled_only_by_distinctive_values():
    schema = recognise(["备注", "物品"], [["13800138000", "日用品"], ["13900139000", "服装"]] * 5)
    assert [c.kind for c in schema.columns] == ["phone", "item"]


def test_parties_pair_an_address_with_its_phone(waybills):
    header, rows = waybills
    schema = recognise(header, rows[:50])
    by_header = {c.header: c for c in schema.columns}
    assert schema.party_phone(by_header["收件地址"]).header == "收件人电话"
    assert schema.party_phone(by_header["寄件地址"]).header == "寄件人电话"
    headerless = recognise([f"c{i}" for i in range(len(header))], rows[:50])
    assert headerless.party_phone(headerless.of_kind("address")[0]) is None  # two phones: not certain


@pytest.mark.parametrize("value", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "8613800138000",
                                   "００８６１３８００１３８０００", "138.0013.8000"])
def test_chinese_mobile_anchor_survives_every_layout(value):
    assert phone_anchor(value) == "cn:13800138000"


@pytest.mark.parametrize("value", ["13800138000.0", "1.3800138E+10", "1.3800138000e10", "8613800138000.00"])
def test_a_phone_that_went_through_a_float_keeps_its_anchor(value):
    """Excel, pandas and JSON writers turn phone numbers into floats."""
    assert phone_anchor(value) == "cn:13800138000"


@pytest.mark.parametrize("value", ["1.38001E+10", "1.4E+10", "1.380014e+10"])
def test_a_phone_shown_with_too_few_digits_is_no_anchor(value):
    """Excel's display of a phone in a narrow column, or C's %e: no phone is made up from it."""
    assert phone_anchor(value) is None


@pytest.mark.parametrize("value", ["415-555-0134", "(415) 555-0134", "+1 415 555 0134", "4155550134"])
def test_us_phone_anchor_survives_every_layout(value):
    assert phone_anchor(value) == "us:4155550134"


def test_identifier_anchor_survives_case_and_width():
    assert id_anchor(" yt７９３９４１６６５１３５３ ") == id_anchor("YT7939416651353")
    assert phone_anchor("12345") is None and id_anchor("ab") is None


def test_a_numeric_identifier_that_went_through_a_float_keeps_its_anchor():
    assert id_anchor("773012345678901.0") == id_anchor("7.73012345678901E+14") == id_anchor("773012345678901")
    assert id_anchor("7.73012E+14") == "id:7.73012E+14"  # rounded by Excel: kept as written
