"""Leaks as they really surface: cut, cleaned, re-encoded, re-delimited, in Excel or JSON.

Each leak is made here from an account's export by the reseller's steps, then
matched blind; the right account, and only it, must be named.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata

import pytest
import xlsxwriter

from tracer import api

from .conftest import flip_marks, read_csv, write_csv
from .sheets import excel_value, write_xls

ACCOUNTS = ("li", "wang", "zhang")


@pytest.fixture(scope="module")
def world(tmp_path_factory, waybills, orders):
    """Three accounts export the same waybills and the same orders."""
    work = tmp_path_factory.mktemp("leaks")
    registry = work / "tracer.db"
    api.init(registry)
    wb_source = write_csv(work / "waybills.csv", *_head(waybills, 1500))
    or_source = write_csv(work / "orders.csv", *_head(orders, 1500))
    for name in ACCOUNTS:
        api.add_account(registry, name)
        api.export(registry, wb_source, account=name, output=work / f"wb-{name}.csv")
        api.export(registry, or_source, account=name, output=work / f"or-{name}.csv")
    return registry, work


def _head(table, n):
    header, rows = table
    return header, rows[:n]


def _sample(work, kind, account, n, seed):
    header, rows = read_csv(work / f"{kind}-{account}.csv")
    return header, random.Random(seed).sample(rows, n)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _accused(registry, *paths, **options):
    return [s.account for s in api.match(registry, list(paths), **options).suspects]


def test_gbk_dash_dump_of_cleaned_name_phone_address(world):
    registry, work = world
    header, rows = _sample(work, "wb", "wang", 300, 1)
    keep = [header.index(c) for c in ("收件人", "收件人电话", "收件地址")]
    lines = []
    for row in rows:
        name, phone, address = (unicodedata.normalize("NFKC", row[i]) for i in keep)
        lines.append(f"{name}----{_digits(phone)}----{address}")
    leak = work / "dump.txt"
    leak.write_bytes("\r\n".join(lines).encode("gbk"))
    assert _accused(registry, leak) == ["wang"]


def _swapped_parties(work, account, seed, leak):
    """60 headerless waybill rows laid out so that each address sits beside the other party's phone."""
    header, rows = _sample(work, "wb", account, 60, seed)
    order = [header.index(c) for c in ("收件地址", "寄件人电话", "收件人电话", "寄件地址")]
    leak.write_text("".join(",".join(row[i] for i in order) + "\n" for row in rows), encoding="utf-8")
    return leak


def test_headerless_sender_and_recipient_are_paired_by_their_marks_not_by_position(world):
    """Each address sits beside the *other* party's phone: pairing by position reads
    every address mark at the wrong positions.  The matcher tries each pairing and
    pays for the tries, so the right one shows: every mark read agrees."""
    registry, work = world
    verdict = api.match(registry, [_swapped_parties(work, "wang", 4, work / "swapped.csv")])
    assert [s.account for s in verdict.suspects] == ["wang"]
    wang = verdict.suspects[0]
    assert wang.marks_observed > 100 and wang.marks_agreeing == wang.marks_observed
    # the recipient's address (column 0) went with the recipient's phone (column 2), the sender's with column 1
    assert wang.as_json()["pairing"] == [{"file": "swapped.csv", "column": 0, "phone_column": 2},
                                         {"file": "swapped.csv", "column": 3, "phone_column": 1}]


def test_truncated_addresses_saved_as_xlsx_with_numeric_phones(world):
    registry, work = world
    header, rows = _sample(work, "wb", "zhang", 400, 2)
    leak = work / "truncated.xlsx"
    book = xlsxwriter.Workbook(str(leak))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, (name, cell) in enumerate(zip(header, row)):
            if "地址" in name:
                cell = re.sub(r"(号).*$", r"\1", cell)  # cut after the house number
            if "电话" in name:
                sheet.write_number(r, c, int(_digits(cell)))  # Excel turns phones into numbers
            elif name == "重量(kg)":
                sheet.write_number(r, c, float(cell))
            else:
                sheet.write_string(r, c, cell)
    book.close()
    assert _accused(registry, leak) == ["zhang"]


def test_legacy_xls_with_numeric_phones_and_date_cells(world):
    """Saved by an old Excel: phones and weights are number cells, times date cells."""
    registry, work = world
    header, rows = _sample(work, "wb", "li", 300, 9)
    leak = work / "legacy.xls"
    write_xls(leak, [header] + [[excel_value(cell) for cell in row] for row in rows])
    assert _accused(registry, leak) == ["li"]


@pytest.mark.parametrize("name", ["floats.csv", "floats.jsonl"])
def test_phones_turned_into_floats_without_identifiers(world, name):
    """pandas writes a phone column with a gap as 13812345678.0; a JSON writer
    may use 1.3812345678E+10.  With the waybill numbers dropped, the phones
    are the only anchors left."""
    registry, work = world
    header, rows = _sample(work, "wb", "wang", 250, 10)
    keep = [header.index(c) for c in ("收件人", "收件人电话", "收件地址", "下单时间")]
    names = [header[i] for i in keep]
    picked = [[row[i] for i in keep] for row in rows]
    leak = work / name
    if name.endswith(".csv"):
        write_csv(leak, names, [[*r[:1], f"{float(_digits(r[1])):.1f}", *r[2:]] for r in picked])
    else:
        lines = (dict(zip(names, r)) | {"收件人电话": f"{float(_digits(r[1])):.10E}"} for r in picked)
        leak.write_text("".join(json.dumps(line, ensure_ascii=False).replace(
            f'"{line["收件人电话"]}"', line["收件人电话"]) + "\n" for line in lines), encoding="utf-8")
    assert _accused(registry, leak) == ["wang"]


def test_us_orders_as_jsonl_with_case_and_phone_cleaning(world):
    registry, work = world
    header, rows = _sample(work, "or", "li", 200, 3)
    leak = work / "orders.jsonl"
    with open(leak, "w", encoding="utf-8") as handle:
        for row in rows:
            record = dict(zip(header, row))
            record["Email"] = record["Email"].lower()
            record["Customer Name"] = record["Customer Name"].upper()
            record["Phone"] = _digits(record["Phone"])
            handle.write(json.dumps(record) + "\n")
    assert _accused(registry, leak) == ["li"]


def test_utf16_tab_separated_with_english_headers_and_reordered_columns(world):
    registry, work = world
    header, rows = _sample(work, "wb", "li", 150, 4)
    renamed = {"收件人": "Recipient", "收件人电话": "Recipient Phone", "收件地址": "Recipient Address",
               "寄件人电话": "Sender Phone", "寄件地址": "Sender Address", "下单时间": "Created"}
    order = ["收件地址", "收件人电话", "下单时间", "寄件地址", "寄件人电话", "收件人"]
    idx = [header.index(c) for c in order]
    text = "\t".join(renamed[c] for c in order) + "\r\n"
    text += "".join("\t".join(row[i] for i in idx) + "\r\n" for row in rows)
    leak = work / "utf16.tsv"
    leak.write_bytes(text.encode("utf-16"))
    assert _accused(registry, leak) == ["li"]


def test_headerless_with_both_parties_mixed_with_foreign_rows(world, foreign_waybills):
    registry, work = world
    header, rows = _sample(work, "wb", "wang", 120, 5)
    _, foreign = foreign_waybills
    mixed = rows + foreign[:2000]
    random.Random(5).shuffle(mixed)
    leak = work / "headerless.csv"
    leak.write_text("".join("|".join(row) + "\n" for row in mixed), encoding="utf-8")
    assert _accused(registry, leak) == ["wang"]


def test_several_leak_files_in_one_match(world):
    registry, work = world
    header, rows = _sample(work, "wb", "zhang", 60, 6)
    first = write_csv(work / "part1.csv", header, rows[:30])
    second = write_csv(work / "part2.csv", header, rows[30:])
    verdict = api.match(registry, [first, second])
    assert [s.account for s in verdict.suspects] == ["zhang"]
    assert verdict.rows == 60 and len(verdict.files) == 2


def test_two_accounts_leaks_merged_name_both(world):
    registry, work = world
    a = write_csv(work / "merged-wb.csv", *_sample(work, "wb", "li", 150, 7))
    b = write_csv(work / "merged-or.csv", *_sample(work, "or", "wang", 150, 8))
    assert sorted(_accused(registry, a, b)) == ["li", "wang"]


def test_the_report_says_how_a_headerless_leak_was_paired(world, tmp_path):
    from tracer.report import write_report

    registry, work = world
    verdict = api.match(registry, [_swapped_parties(work, "li", 5, tmp_path / "swapped.csv")])
    for name in ("r.html", "r.md"):
        text = write_report(verdict, tmp_path / name).read_text(encoding="utf-8")
        assert "address/email column 1 read as the party of phone column 3" in text


def test_every_variant_flipped_convicts_on_the_lower_tail(world, waybills):
    """A broker flips every mark to the other spelling with tracer's own public slot code
    and drops the canaries: the marks now disagree with wang's codeword almost everywhere,
    which an innocent's never would.  The two-sided p-value convicts wang, and says so."""
    registry, work = world
    header, rows = _sample(work, "wb", "wang", 40, 12)
    real = {_digits(row[header.index("收件人电话")]) for row in waybills[1][:1500]}
    rows = [row for row in rows if _digits(row[header.index("收件人电话")]) in real]
    verdict = api.match(registry, [write_csv(work / "flipped.csv", header, flip_marks(header, rows))])
    assert [s.account for s in verdict.suspects] == ["wang"]
    wang = verdict.suspects[0]
    assert wang.canary_hits == 0 and wang.marks_tail == "disagree"
    assert wang.marks_agreeing < 0.1 * wang.marks_observed and wang.p_marks < 1e-8
    assert all(s.marks_tail == "agree" or s.p_marks > 1e-3 for s in verdict.candidates if s.account != "wang")
