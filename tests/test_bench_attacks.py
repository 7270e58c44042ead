"""The attack bench's own pieces: independent of tracer where they claim to be, and doing what they say.

The detection figures are only worth something if the cleaning that erases
marks is not tracer's own code (which would erase exactly what tracer
expects) and the data world is not tracer's nor faker's.  These tests read
the imports of those modules, and check the canonicaliser and the flip on
examples (the Chinese admin part needs cpca, a bench extra: the street part
is tested without it).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import attack_clean as K  # noqa: E402
from attack_flip import flip_all  # noqa: E402

from tracer.channels import cn_address, cn_estate, en_address, en_ordinal  # noqa: E402

INDEPENDENT = ["attack_clean.py", "attack_collusion.py", "attacks.py", "leakfiles.py", "gang_world.py"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", INDEPENDENT)
def test_the_attackers_and_the_independent_world_share_no_code_with_tracer(name):
    imported = _imports(BENCH / name)
    assert not imported & {"tracer", "faker", "make_fixtures"}, imported
    for local in imported & {p.stem for p in BENCH.glob("*.py")}:  # and neither do the bench modules they use
        assert local + ".py" in INDEPENDENT, (name, local)


def test_the_flip_uses_tracer_s_public_slot_code_only():
    tree = ast.parse((BENCH / "attack_flip.py").read_text(encoding="utf-8"))
    found = [(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and (node.module or "").startswith("tracer") for alias in node.names]
    assert found and all(module == "tracer.channels" and not name.startswith("_") for module, name in found)


@pytest.mark.parametrize(
    "rest, expected",
    [
        ("中山路88号3-2-301", "中山路88号3栋2单元301室"),
        ("中山路88号3号楼2单元301", "中山路88号3栋2单元301室"),
        ("长江路43号锦绣花园小区17栋3301室", "长江路43号锦绣花园小区17栋3301室"),
        ("世纪大道100号2幢", "世纪大道100号2栋"),
        ("明珠花园21-2-701", "明珠花园21栋2单元701室"),
    ],
)
def test_the_street_part_is_rejoined_in_one_form_and_keeps_what_it_does_not_know(rest, expected):
    assert K._street(rest) == expected


def test_the_canonical_street_erases_the_building_slots_and_keeps_the_estate():
    B, L = cn_address.SLOTS[2], cn_address.SLOTS[3]
    (E,) = cn_estate.SLOTS
    cell = "长江路43号锦绣花园3栋2单元301室"
    for bit in (0, 1):
        marked = E.embed(B.embed(cell, bit), bit)
        assert B.read(K._street(marked)) == 1  # always the long form: erased
        assert E.read(K._street(marked)) == bit  # kept
    assert {L.read(K._street(L.embed("广场路1号5号楼", b))) for b in (0, 1)} == {0}


def test_usps_erases_the_word_slots_and_keeps_the_ordinal():
    (O,) = en_ordinal.SLOTS
    T, U, D = en_address.SLOTS
    for bit in (0, 1):
        cell = "215 East 5th Street Apt 23D"
        for slot in (T, U, D, O):
            cell = slot.embed(cell, bit)
        clean = K.usps_address(cell)
        assert [T.read(clean), U.read(clean), D.read(clean)] == [0, 0, 0]
        assert O.read(clean) == bit
    assert K.usps_address("12 N. Main St., Suite 200") == "12 N MAIN ST STE 200"
    assert K.usps_address("5 North Street") == "5 NORTH ST"  # North is the street's name


def test_numbers_times_phones_and_emails():
    assert [K.whole(c) for c in ("2.5", "0.3", "$12.49", "3", "1,234.7")] == ["3", "0", "12", "3", "1235"]
    assert K.to_minute("2024-01-01 09:14:46") == "2024-01-01 09:14"
    assert K.to_minute("2024/3/5 9:05:59") == "2024-03-05 09:05"
    assert [K.bare_digits(c) for c in ("+86 138 0013 8000", "138 0013 8000", "+1 415-555-0134", "(415) 555-0134")] \
        == ["13800138000", "13800138000", "4155550134", "4155550134"]
    table = (["Email", "Phone"], [["John.Smith@Gmail.com", "415-555-0134"]] * 20)
    assert K.emails_lower(table)[1][0] == ["john.smith@gmail.com", "415-555-0134"]


def test_the_flip_turns_every_readable_mark():
    header = ["运单号", "收件人电话", "收件地址", "重量(kg)", "下单时间"]
    row = ["YT1234567890123", "13800138000", "江苏省南京市玄武区中山路88号锦绣花园3栋2单元301室", "2.4",
           "2024-01-01 09:14:46"]
    table = (header, [list(row) for _ in range(20)])
    flipped = flip_all(table)[1][0]
    assert flipped == ["YT1234567890123", "138 0013 8000", "江苏南京玄武区中山路88号锦绣花园小区3-2-301", "2.5",
                       "2024-01-01 09:14:47"]
