"""The canary pool: numbers the company holds, carried by canaries, traced, and worth no p-value."""

from __future__ import annotations

import json

import pytest

from pathlib import Path

from .conftest import read_csv, write_csv

POOL = ["13812340001", "139 1234 0002", "15012340003", "18612340004", "13712340005", "13612340006"]


@pytest.fixture()
def pooled(place, tmp_path, waybills):
    """A registry (each backend) with a pool, and one export of 500 waybills for each of two accounts."""
    header, rows = waybills
    place.init()
    for name in ("li", "wang"):
        place.add_account(name)
    (tmp_path / "pool.txt").write_text("# numbers we hold\n" + "\n".join(POOL) + "\n13812340001\n")
    assert place.add_to_pool(tmp_path / "pool.txt") == (6, 6)
    assert place.add_to_pool(tmp_path / "pool.txt") == (0, 6)  # a number is in the pool once
    source = write_csv(tmp_path / "source.csv", header, rows[:500])
    for name in ("li", "wang"):
        place.export(source, account=name, output=tmp_path / f"{name}.csv")
    return place, tmp_path, header, rows[:500]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())[-11:]


def _pool_rows(path, ids):
    numbers = {_digits(n) for n in POOL}
    return [r for r in read_csv(path)[1] if r[0] not in ids and ({_digits(r[2]), _digits(r[5])} & numbers)]


def test_canaries_carry_pool_numbers_and_trace_names_the_exports(pooled):
    registry, work, _, rows = pooled
    ids = {r[0] for r in rows}
    li, wang = _pool_rows(work / "li.csv", ids), _pool_rows(work / "wang.csv", ids)
    assert li and wang
    number = next(n for n in ({_digits(r[2]) for r in li} | {_digits(r[5]) for r in li}) if n in map(_digits, POOL))
    carried = registry.trace(number)
    assert "li" in {c.account for c in carried} and all(c.pool for c in carried)
    assert registry.trace("13900000000") == []


def test_the_registry_holds_no_pool_number_in_clear(pooled):
    registry, work, *_ = pooled
    if isinstance(registry.location, Path):
        data = b"".join(p.read_bytes() for p in work.glob("tracer.db*"))
    else:
        data = repr(registry.rows("SELECT * FROM canary_pool") + registry.rows("SELECT * FROM canaries")).encode()
    assert len(registry.rows("SELECT * FROM canary_pool")) == 6
    for number in POOL:
        assert _digits(number).encode() not in data and _digits(number).encode("utf-16-le") not in data


def test_a_pool_canary_is_evidence_but_no_p_value(pooled):
    """A leak of the pool canaries' names and phones only: reported, with the account whose canary
    gave the number that name, and no p-value from it (a recycled number may sit in older data)."""
    registry, work, _, rows = pooled
    ids = {r[0] for r in rows}
    pool = set(map(_digits, POOL))
    leak = [[r[1], r[2]] if _digits(r[2]) in pool else [r[4], r[5]] for r in _pool_rows(work / "li.csv", ids)]
    source = write_csv(work / "leak.csv", ["收件人", "收件人电话"], leak)
    verdict = registry.match([source])
    assert not verdict.suspects and all(s.p_canaries == 1.0 for s in verdict.candidates)
    found = verdict.as_json()["pool_canaries"]
    assert found and all("recycled" in p["proves"] for p in found)
    assert all(any(e["account"] == "li" and e["same_name"] for e in p["exports"]) for p in found)
    assert not any(e["account"] == "wang" and e["same_name"] for p in found for e in p["exports"])


def test_re_export_with_a_pool_is_byte_identical(pooled):
    registry, work, *_ = pooled
    registry.export(work / "source.csv", account="li", output=work / "again.csv")
    assert (work / "again.csv").read_bytes() == (work / "li.csv").read_bytes()


@pytest.mark.parametrize("number, message", [
    ("17012345678", "pool.txt: line 2: 17012345678 is on a virtual-operator segment (170); "
                    "pool numbers must be on ordinary segments"),
    ("16712345678", "pool.txt: line 2: 16712345678 is on a virtual-operator segment (167); "
                    "pool numbers must be on ordinary segments"),
    ("14112345678", "pool.txt: line 2: 14112345678 is on a data-only segment (141); "
                    "pool numbers must be on ordinary segments"),
    ("(415) 555-0134", "pool.txt: line 2: 4155550134 is a fictional 555 number; pool numbers must be real lines"),
    ("hello", "pool.txt: line 2: 'hello' is not a Chinese mobile or US phone number"),
])
def test_a_pool_file_with_a_bad_number_is_refused_whole(cli, tmp_path, number, message):
    cli("init")
    (tmp_path / "pool.txt").write_text(f"13812340001\n{number}\n")
    result = cli("canary-pool", "add", tmp_path / "pool.txt")
    assert result.exit_code == 1 and result.stderr.strip() == f"Error: {message}"
    listed = cli("trace", "13812340001", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


def test_trace_refuses_what_is_no_phone(cli):
    cli("init")
    result = cli("trace", "12345")
    assert result.exit_code == 1 and result.stderr.strip() == "Error: '12345' is not a Chinese mobile or US phone number"
