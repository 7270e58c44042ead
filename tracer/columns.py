"""Recognising what each column holds: by its header, else by its values.

Kinds: ``name``, ``phone``, ``address``, ``email``, ``id`` (waybill or order
number), ``datetime``, ``number`` (a weight or an amount: the only numbers that
may carry a mark), ``zip``, ``city``, ``state``, ``item``, ``other``.

Columns of one person (the sender's name, phone and address) form a *party*.
A party's address and email are marked at code positions derived from that
party's phone, so a leak that keeps only the recipient's columns still
decodes.  Parties come from header prefixes (``寄件人电话`` and ``寄件地址``
share ``寄件``); without headers every phone of the row is tried.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .tables.cells import exact_integer

# Header synonyms, checked against the NFKC-folded, lower-cased header with
# spaces and punctuation removed. Order matters: first match wins, so the more
# specific words come first (邮编 before 编号, 电话 before 人).
HEADER_SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("email", ("email", "e-mail", "mail", "邮箱", "电子邮件", "电邮")),
    ("zip", ("zip", "zipcode", "postcode", "postalcode", "邮编", "邮政编码")),
    ("phone", ("phone", "mobile", "tel", "telephone", "cell", "电话", "手机", "联系方式", "联系电话", "手机号")),
    ("id", ("orderid", "ordernumber", "orderno", "waybill", "trackingnumber", "tracking", "awb",
            "运单号", "快递单号", "订单号", "单号", "订单编号", "id")),
    ("address", ("address", "addr", "street", "地址", "收货地址", "详细地址", "住址")),
    ("datetime", ("date", "time", "created", "timestamp", "时间", "日期", "下单时间")),
    ("number", ("weight", "total", "amount", "price", "sum", "重量", "金额", "价格", "总价", "运费", "kg")),
    ("city", ("city", "town", "城市", "市")),
    ("state", ("state", "province", "省份", "省")),
    ("item", ("item", "product", "goods", "sku", "物品", "商品", "品名", "货物")),
    ("name", ("name", "customer", "recipient", "sender", "contact", "consignee",
              "姓名", "名字", "收件人", "寄件人", "收货人", "联系人", "客户")),
)

# Words that name a person's role: removed from headers to find the party key.
ROLE_WORDS = ("电话", "手机", "地址", "姓名", "邮箱", "name", "phone", "mobile", "address", "email", "号码", "人")

CN_MOBILE = re.compile(r"^(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}$")
US_PHONE = re.compile(r"^(?:\+?1[-.\s]?)?\(?[2-9]\d{2}\)?[-.\s]?\d{3}[-.\s]?\d{4}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
DATETIME = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
CN_ADDRESS = re.compile(r"(省|市|区|县|路|街|道|号|镇|村|小区|栋|单元)")
EN_ADDRESS = re.compile(r"^\d+[A-Za-z]?\s+\w.*\b(street|st|road|rd|avenue|ave|boulevard|blvd|drive|dr|lane|ln|"
                        r"court|ct|place|pl|way|parkway|pkwy)\b", re.IGNORECASE)
CN_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
EN_NAME = re.compile(r"^[A-Z][a-z'.-]+(?:\s+[A-Z][a-z'.-]+){1,2}$")
IDENT = re.compile(r"^[A-Za-z]{0,4}[-_]?\d{6,20}$")
ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")

PHONE_DIGITS = re.compile(r"\D+")
US_PREFIX = re.compile(r"^(?:\+1|1[-.\s(])")
MARKABLE_KINDS = ("address", "phone", "number", "datetime", "email")
# Value patterns distinctive enough to overrule a header ('备注' full of phones holds phones);
# a name-like value is not ('物品' holds 日用品, which looks like a name).
DISTINCT_VALUE_KINDS = ("phone", "email", "datetime", "address")


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    kind: str
    party: str | None  # party key when the header names one ('寄件', 'customer'), else None
    confidence: float
    by: str  # 'header' or 'values'


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]

    def of_kind(self, kind: str) -> list[Column]:
        return [c for c in self.columns if c.kind == kind]

    @property
    def anchor_columns(self) -> list[Column]:
        """Columns whose values identify a record in every leak: phones, then identifiers."""
        return self.of_kind("phone") + self.of_kind("id")

    def nearest_phone(self, column: Column) -> Column | None:
        """The phone column closest to ``column`` (the left one on a tie): how dumps lay a person out."""
        phones = self.of_kind("phone")
        return min(phones, key=lambda p: (abs(p.index - column.index), p.index)) if phones else None

    def party_phone(self, column: Column) -> Column | None:
        """The phone column of ``column``'s party, when headers make the pairing certain."""
        if column.kind == "phone":
            return column
        phones = self.of_kind("phone")
        if len(phones) == 1:
            return phones[0]
        if column.party is None:
            return None
        same = [p for p in phones if p.party == column.party]
        return same[0] if len(same) == 1 else None


def fold(text: str) -> str:
    """NFKC, lower case, without spaces and punctuation: how headers are compared."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s_\-()（）\[\]【】:：.#/]+", "", text)


def kind_by_header(header: str) -> str | None:
    folded = fold(header)
    if not folded or re.fullmatch(r"column\d+", folded):
        return None
    for kind, words in HEADER_SYNONYMS:
        if any(word in folded for word in words):
            return kind
    return None


def party_of(header: str) -> str | None:
    """What is left of a header once its role word is removed: '寄件人电话' -> '寄件'."""
    folded = fold(header)
    for word in ROLE_WORDS:
        folded = folded.replace(word, "")
    return folded or None


def kind_of_value(value: str) -> str | None:
    """The kind a single cell looks like, or None when it says nothing."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        return None
    if EMAIL.match(value):
        return "email"
    if CN_MOBILE.match(value) or US_PHONE.match(value):
        return "phone"
    if DATETIME.match(value):
        return "datetime"
    if ZIP.match(value):
        return "zip"
    if NUMBER.match(value):
        return "number" if "." in value or len(value) <= 4 else "id"
    if IDENT.match(value):
        return "id"
    if EN_ADDRESS.match(value):
        return "address"
    if re.search(r"[\u4e00-\u9fff]", value) and len(value) >= 6 and len(CN_ADDRESS.findall(value)) >= 2:
        return "address"
    if CN_NAME.match(value) or EN_NAME.match(value):
        return "name"
    return None


def kind_by_values(values: Sequence[str]) -> tuple[str, float]:
    """The most common value kind of a column sample, with the share that agrees."""
    kinds = Counter(k for k in map(kind_of_value, values) if k is not None)
    filled = sum(1 for v in values if v.strip())
    if not kinds or not filled:
        return "other", 0.0
    kind, count = kinds.most_common(1)[0]
    share = count / filled
    return (kind, share) if share >= 0.6 else ("other", share)


def recognise(headers: Sequence[str], sample: Sequence[Sequence[str]]) -> Schema:
    """Each column's kind: the header when it names one and the values agree, else the values."""
    columns = []
    for index, header in enumerate(headers):
        values = [row[index] for row in sample if index < len(row)]
        by_values, share = kind_by_values(values)
        by_header = kind_by_header(header)
        values_overrule = by_values in DISTINCT_VALUE_KINDS and share >= 0.9 and by_header not in ("number", "id")
        if by_header is not None and not (values_overrule and by_values != by_header):
            kind, confidence, by = by_header, max(share, 0.9) if by_header == by_values else 0.9, "header"
        else:
            kind, confidence, by = by_values, share, "values"
        party = party_of(header) if by == "header" and kind in ("name", "phone", "address", "email") else None
        columns.append(Column(index, header, kind, party, round(confidence, 3), by))
    return Schema(tuple(columns))


def phone_anchor(value: str) -> str | None:
    """The digits that identify a phone whatever its layout: '+86 138 0013 8000' -> 'cn:13800138000'.

    Chinese mobiles are 11 digits starting 13-19 (with an optional 86/0086
    prefix); US numbers 10 digits (with an optional 1/+1 prefix).  An 11-digit
    run starting with 1 is Chinese unless written with a +1 or a separator
    after the leading 1.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    text = exact_integer(text) or text  # 13812345678.0 from Excel or pandas
    digits = PHONE_DIGITS.sub("", text)
    if len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 11 and digits[0] == "1" and US_PREFIX.match(text):
        digits = digits[1:]
    if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "cn:" + digits
    if len(digits) == 10 and digits[0] in "23456789":
        return "us:" + digits
    return None


def id_anchor(value: str) -> str | None:
    """An identifier as it survives cleaning: NFKC, no spaces, upper case."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    text = exact_integer(text) or text  # 773012345678901.0 from Excel or pandas
    return "id:" + text if len(text) >= 6 and any(ch.isdigit() for ch in text) else None
