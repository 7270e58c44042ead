"""The attacks of the rows-needed ladders, as (clean, write) pipelines over tables."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib import ORDER_CONTACT, WAYBILL_RECIPIENT
from worlds import Data

import attack_clean as K
import attacks as A
from attack_flip import flip_all
from attacks import Table



@dataclass
class Ctx:
    rng: random.Random
    data: Data


@dataclass(frozen=True)
class Attack:
    name: str
    clean: Callable[[Table, Ctx], Table]
    write: Callable[[Path, Table], Path]
    target: str | None = None


Step = Callable[[Table, Ctx], Table]


def chain(*steps: Step) -> Step:
    def run(table: Table, ctx: Ctx) -> Table:
        for step in steps:
            table = step(table, ctx)
        return table

    return run


def pure(fn: Callable[[Table], Table]) -> Step:
    return lambda t, ctx: fn(t)


IDENT: Step = lambda t, ctx: t
SHUFFLE: Step = lambda t, ctx: A.shuffle(t, ctx.rng)
DUPLICATES: Step = lambda t, ctx: A.duplicate(t, 0.3, ctx.rng)
REORDER: Step = lambda t, ctx: A.reorder_columns(t, ctx.rng)
NFKC_WS: Step = chain(pure(A.nfkc), pure(A.collapse_whitespace))
DIGITS = pure(A.phones_digits)
INTL = pure(A.phones_international)
TRUNC = pure(A.truncate_addresses)


def foreign(n: int) -> Step:
    return lambda t, ctx: A.mix_foreign(t, ctx.data.foreign, n, ctx.rng)


def select(names: Sequence[str]) -> Step:
    return pure(lambda t: A.select_columns(t, names))


def drop(names: Sequence[str]) -> Step:
    return pure(lambda t: A.drop_columns(t, names))


def rename(language: str) -> Step:
    return pure(lambda t: A.rename_columns(t, A.RENAMES[language]))


def text(suffix: str = ".csv", encoding: str = "utf-8", delimiter: str = ",", header: bool = True,
         newline: str = "\n") -> Callable[[Path, Table], Path]:
    return lambda stem, t: A.write_delimited(stem.with_suffix(suffix), t, encoding=encoding, delimiter=delimiter,
                                             header=header, newline=newline)


CSV = text()
NOHEAD = text(header=False)
DUMP = lambda stem, t: A.write_dump(stem.with_suffix(".txt"), t)  # noqa: E731
XLSX = lambda stem, t: A.write_xlsx(stem.with_suffix(".xlsx"), t)  # noqa: E731
JSONL = lambda stem, t: A.write_jsonl(stem.with_suffix(".jsonl"), t)  # noqa: E731

RESELLER_W = chain(select(WAYBILL_RECIPIENT), pure(A.nfkc), pure(A.collapse_whitespace), DIGITS)
RESELLER_O = chain(select(ORDER_CONTACT), pure(A.nfkc), pure(A.collapse_whitespace), DIGITS)

TARGET_MARKS = "single leaker, marks only, all 10 waybill columns: <= 16 rows"
TARGET_DUMP = "single leaker, name/phone/address, cleaned, headerless GBK '----' dump: <= 64 rows"


def broker_attacks() -> list[Attack]:
    """A capable broker's (issue 12): every column fully cleaned with a canonicaliser of its own, and
    every variant flipped with tracer's public slot code."""
    return [
        Attack("full clean (own canonicaliser: addresses, digits, whole units, minutes, lower-case e-mails)",
               pure(K.full_clean), CSV),
        Attack("every variant flipped (tracer's public slots)", pure(flip_all), CSV),
    ]


def waybill_attacks() -> list[Attack]:
    return [
        Attack("plain CSV, all 10 columns", IDENT, CSV, TARGET_MARKS),
        Attack("shuffled, 30% of rows listed twice", DUPLICATES, CSV),
        Attack("buried in 1,000 foreign rows", foreign(1000), CSV),
        Attack("recipient name/phone/address only", select(WAYBILL_RECIPIENT), CSV),
        Attack("names and phones only", select(["寄件人", "寄件人电话", "收件人", "收件人电话"]), CSV),
        Attack("waybill number dropped", drop(["运单号"]), CSV),
        Attack("address/phone columns only, no ids", select(["寄件人电话", "寄件地址", "收件人电话", "收件地址"]), CSV),
        Attack("phone columns dropped (waybill number kept)", drop(["寄件人电话", "收件人电话"]), CSV),
        Attack("columns reordered", REORDER, CSV),
        Attack("headers renamed: English", rename("waybill_en"), CSV),
        Attack("headers renamed: Japanese", rename("waybill_ja"), CSV),
        Attack("headers renamed: traditional Chinese", rename("waybill_traditional"), CSV),
        Attack("headers renamed: pinyin abbreviations", rename("waybill_pinyin"), CSV),
        Attack("headers renamed: c1..c10", pure(A.opaque_header), CSV),
        Attack("header removed", IDENT, NOHEAD),
        Attack("columns reordered, header removed", REORDER, NOHEAD),
        Attack("utf-8-sig, tab-separated", IDENT, text(".tsv", "utf-8-sig", "\t")),
        Attack("gb18030, '|'-separated, CRLF", IDENT, text(".txt", "gb18030", "|", newline="\r\n")),
        Attack("utf-16, tab-separated", IDENT, text(".txt", "utf-16", "\t")),
        Attack("all columns, headerless GBK '----' dump", IDENT, DUMP),
        Attack("JSON lines", IDENT, JSONL),
        Attack("NFKC + whitespace collapsed", NFKC_WS, CSV),
        Attack("phones digits only", DIGITS, CSV),
        Attack("phones +86", INTL, CSV),
        Attack("upper case", pure(A.upper), CSV),
        Attack("addresses truncated after ...号", TRUNC, CSV),
        Attack("Excel round trip (.xlsx, numbers as numbers)", IDENT, XLSX),
        Attack("Excel CSV re-save (display values)", pure(A.excel_display), CSV),
        *broker_attacks(),
        Attack("reseller dump: recipient name/phone/address, NFKC, digits, headerless GBK '----'",
               RESELLER_W, DUMP, TARGET_DUMP),
        Attack("reseller dump + 1,000 foreign rows", chain(foreign(1000), RESELLER_W), DUMP),
        Attack("reseller dump, addresses truncated", chain(RESELLER_W, TRUNC), DUMP),
        Attack("reseller dump of sender+recipient phones/addresses",
               chain(select(["寄件人电话", "寄件地址", "收件人电话", "收件地址"]), pure(A.nfkc), DIGITS), DUMP),
        Attack("combined: 1,000 foreign, reordered, English headers, NFKC, +86, truncated, utf-16 tab",
               chain(foreign(1000), rename("waybill_en"), REORDER, NFKC_WS, INTL, TRUNC),
               text(".txt", "utf-16", "\t")),
        Attack("combined: digits, truncated, Excel .xlsx, headerless",
               chain(REORDER, DIGITS, TRUNC), lambda stem, t: A.write_xlsx(stem.with_suffix(".xlsx"), t, header=False)),
    ]


def order_attacks() -> list[Attack]:
    return [
        Attack("plain CSV, all 10 columns", IDENT, CSV),
        Attack("shuffled, 30% of rows listed twice", DUPLICATES, CSV),
        Attack("buried in 1,000 foreign rows", foreign(1000), CSV),
        Attack("name/phone/address only", select(ORDER_CONTACT), CSV),
        Attack("name/email/phone only", select(["Customer Name", "Email", "Phone"]), CSV),
        Attack("order id dropped", drop(["Order ID"]), CSV),
        Attack("phone column dropped (order id kept)", drop(["Phone"]), CSV),
        Attack("columns reordered", REORDER, CSV),
        Attack("headers renamed: Chinese", rename("order_zh"), CSV),
        Attack("headers renamed: Spanish", rename("order_es"), CSV),
        Attack("headers renamed: Russian", rename("order_ru"), CSV),
        Attack("header removed", IDENT, NOHEAD),
        Attack("utf-16, tab-separated", IDENT, text(".txt", "utf-16", "\t")),
        Attack("all columns, headerless '----' dump", IDENT, DUMP),
        Attack("NFKC + whitespace collapsed", NFKC_WS, CSV),
        Attack("phones digits only", DIGITS, CSV),
        Attack("phones +1", INTL, CSV),
        Attack("lower case", pure(A.lower), CSV),
        Attack("upper case", pure(A.upper), CSV),
        Attack("addresses truncated after the street", TRUNC, CSV),
        Attack("Excel round trip (.xlsx, numbers as numbers)", IDENT, XLSX),
        Attack("Excel CSV re-save (display values)", pure(A.excel_display), CSV),
        *broker_attacks(),
        Attack("reseller dump: name/phone/address, NFKC, digits, headerless '----'", RESELLER_O, DUMP),
        Attack("combined: 1,000 foreign, Chinese headers, reordered, lower, +1, truncated, utf-16 headerless",
               chain(foreign(1000), rename("order_zh"), REORDER, pure(A.lower), INTL, TRUNC),
               text(".txt", "utf-16", "\t", header=False)),
    ]


ATTACKS = {"waybills": waybill_attacks, "orders": order_attacks}

