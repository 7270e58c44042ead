"""The native engine against the Python reference: same sites, anchors, digests, bytes and verdicts.

Skipped where the engine was not built (the Python engine is then all there
is); CI builds it, so there these tests run.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracer import api, engine, export_rows
from tracer.export_rows import SLOT_BELOW
from tracer.shared_canaries import may_take_slot, record_digest
from tracer.channels import ALL_SLOTS
from tracer.channels._cn_regions import CITIES, PROVINCES
from tracer.errors import TracerError
from tracer.columns import Column, Schema, id_anchor, phone_anchor, recognise
from tracer.keys import Key
from tracer.marks import AnchorHasher, CellPlan, MarkPlan, mark_plan, mark_row, read_row, row_anchors

from .conftest import FIXTURES, flip_marks, read_csv, write_csv
from .test_channels import cells

pytestmark = pytest.mark.skipif(engine._engine is None, reason="native engine not built")


@pytest.fixture(autouse=True)
def _default_engine(monkeypatch):
    """These tests pick each engine themselves, whatever the suite runs on (``TRACER_ENGINE``)."""
    monkeypatch.delenv("TRACER_ENGINE", raising=False)

KIND_OF_SLOT = {slot.NAME: slot.COLUMN_KINDS[0] for slot in ALL_SLOTS}
# Cells that trip byte/character and Unicode differences between the two languages.
HOSTILE = [
    "", " ", "\x1c13800138000\x1f", "\u300013800138000", "１３８００１３８０００", "138 0013 8000\x85",
    "+86 138 0013 8000", "0086-13800138000", "13800138000.0", "1.3800138E10", "1.38001E+10",
    "(415) 555-0134", "1-415-555-0134", "+1 415-555-0134", "4155550134", "😀",
    "江苏省南京市玄武区中山路88号3栋2单元301室", "江苏南京玄武区3-2-301", " 广西壮族自治区南宁市青秀区5号楼",
    "北京市朝阳区建国路88号 3-2-301", "1234-2-301", "江苏省吉林市", "12 North St", "100 Court St Apt 4B",
    "12 ŃORTH Main Street", "12 N Main Street, Apt 7", "1 Main St Hartford CT 06103", "Ste #3",
    "¥1,234.56元", "-0.01", "12.80kg", "١٢٣", "2024年3月5日 14:22:36", "2024-03-05T14:22:37.123Z",
    "03/05/2024 2:22:36 PM", "mailto:John.smith@gmail.com", "Öscar@x.com", "j@a-.com", "A" * 70 + "@b.cn",
]


def boundary_cells() -> list[str]:
    """Cells at every counted repetition's edges (one below, at and above each bound), where a
    scanner written by hand differs from a regex by one."""
    out = []
    for head in ("江苏省", "江苏", "广西壮族自治区", "广西", "北京市", "内蒙古", " 江苏\u3000"):
        for k in range(0, 19):
            for tail in ("区", "县", "地区", "路", "市", "小区", "大区", "小区5栋"):
                out += [head + "玄" * k + tail + "88号", head + "玄 " * (k // 2) + tail, head + "自" + "玄" * k + tail]
    for city in ("江苏省南京", "江苏南京市", "广东省广州", "吉林省吉林"):
        for gap in ("", " ", "  ", "\u3000"):
            for k in range(0, 9):
                for tail in ("区", "县", "市", "旗", "路", "小区", "大区", "小区0"):
                    out += [city + gap + "玄" * k + tail, city + gap + "市" + "玄" * k + tail]
    for before in ("", "路", "苑", "苑 ", "苑  ", "5", "a"):
        for a in range(1, 5):
            for b in range(0, 4):
                for c in range(1, 6):
                    for after in ("", "室", "号", "-", "1", "楼", " "):
                        n, m, r = "1" * a, "2" * b, "3" * c
                        out += [f"{before}{n}栋{m}单元{r}室{after}", f"{before}{n}-{m}-{r}{after}",
                                f"{before}{n}栋{after}", f"{before}{n}号楼{after}{m}单元"]
    for before in ("长江路43号", "玄武区", "玄武", "88号 "):
        for k in range(0, 8):
            for res in ("花园", "苑", "居", "大厦"):
                for after in ("小区17栋", "17栋", "小区", "小区 1", ""):
                    out.append(f"{before}{'锦' * k}{res}{after}")
                    out.append(f"{before}{'路' * (k % 2)}{'锦' * k}{res}{res}{after}")
    for house in ("100", "12-3A", "7"):
        for direction in ("", "N ", "North ", "s. ", "SW "):
            for ordinal in ("5th", "5TH", "Fifth", "fifth", "FIFTH", "1st", "Tenth", "11th", "2nd"):
                for street in ("Avenue", "AVE", "st", "St."):
                    out.append(f"{house} {direction}{ordinal} {street}")
                    out.append(f"{house} {direction}{ordinal} Main {street}, Apt 4")
    for k in (0, 1, 62, 63, 64, 65):
        for j in (0, 1, 60, 61, 62, 63):
            out += [f"a{'b' * k}@{'c' * j}.com", f"A{'b' * k}@x{'-' * j}y.cn", f" mailto:J{'.' * k}@d.{'e' * j} "]
    for k in range(8, 14):
        out += ["1" + "3" * k, "+86 1" + "3" * k, "2" * k, f"415-555-{'1' * (k - 6)}", f"(415) 555-{'0' * (k - 7)}"]
    for k in range(0, 12):
        out += [f"2024-03-05 14:22:36.{'1' * k}", f"1,{'2' * k}.{'3' * (k % 4)}", f"{'1' * k},234", f"¥{'9' * k}元",
                f"{'0' * k}1", f"0.{'0' * k}1", f"12{'kg' * (k % 4)}", f"3{'元' * (k % 5)}"]
    return out


@pytest.fixture(scope="module")
def scanner():
    cities = {short: list(names) for short, names in CITIES.items()}
    return engine._engine.Scanner(list(PROVINCES.items()), cities)


def _agree(scanner, slot, cell: str) -> None:
    found = scanner.locate(slot.NAME, cell)
    if found == "unsure":  # the engine asks the reference for this cell
        return
    site = slot.locate(cell)
    assert found == (None if site is None else (site.start, site.end, site.bit, *site.variants)), (slot.NAME, cell)


@pytest.mark.parametrize("slot", ALL_SLOTS, ids=lambda s: s.NAME)
def test_every_slot_of_the_reference_is_native(slot):
    assert slot.NAME in engine.NATIVE_SLOTS


@pytest.mark.parametrize("slot", ALL_SLOTS, ids=lambda s: s.NAME)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_slot_sites_match_the_reference(scanner, slot, data):
    _agree(scanner, slot, data.draw(cells(KIND_OF_SLOT[slot.NAME])))


@pytest.mark.parametrize("slot", ALL_SLOTS, ids=lambda s: s.NAME)
def test_slot_sites_on_boundary_cells(scanner, slot):
    for cell in boundary_cells():
        _agree(scanner, slot, cell)


@pytest.mark.parametrize("slot", ALL_SLOTS, ids=lambda s: s.NAME)
def test_slot_sites_on_fixtures_and_hostile_cells(scanner, slot):
    unsure = 0
    corpus = list(HOSTILE)
    for name in ("waybills", "orders", "foreign_waybills", "foreign_orders"):
        corpus += [cell for row in read_csv(FIXTURES / f"{name}.csv")[1][:600] for cell in row]
    for cell in corpus:
        unsure += scanner.locate(slot.NAME, cell) == "unsure"
        _agree(scanner, slot, cell)
    assert unsure <= len(corpus) // 50  # the reference is asked for rare cells only


@pytest.mark.parametrize("cell", ["008613812345678", "+86 138 1234 5678", "8613812345678", "0086138123456789",
                                  "1-202-555-0143", "+1 (202) 555-0143", "12025550143", "1 202 555 0143",
                                  "13812345678901234", "2025550143", " ab-12 cd ", "yt 7790 7982", "12345"])
def test_anchor_texts_of_each_phone_form_and_length_match_the_reference(cell):
    """Every prefix form, the longest (15 digits) and one digit more, and identifiers with spaces: the
    engine's answer is the reference's (or 'unsure', float-like text, which the reference then reads)."""
    for kind, reference in (("phone", phone_anchor), ("id", id_anchor)):
        found = engine._engine.Scanner.anchor(kind, cell)
        assert found == reference(cell) or (found == "unsure" and set(cell.replace(" ", "")) <= set("0123456789.eE+")), \
            (kind, cell)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.one_of(cells("phone"), st.text(max_size=30), st.sampled_from(HOSTILE),
                      st.text("0123456789.eE+- ", max_size=20)))
def test_anchor_texts_match_the_reference(cell):
    for kind, reference in (("phone", phone_anchor), ("id", id_anchor)):
        found = engine._engine.Scanner.anchor(kind, cell)
        if found != "unsure":
            assert found == reference(cell), (kind, cell)


@given(text=st.text(max_size=40), secret=st.binary(min_size=32, max_size=32))
def test_anchor_digests_are_hashlibs(text, secret):
    assert engine._engine.anchor_digest(secret, text) == Key(secret).anchor_digest(text)


# ---- whole rows: anchors, digests, seeds, marks and readings ------------------------------

KINDS = ("id", "phone", "address", "phone", "address", "email", "number", "datetime", "name")
SCHEMA = Schema(tuple(Column(i, f"c{i}", kind, None, 1.0, "values") for i, kind in enumerate(KINDS)))


def _cell(kind: str):
    if kind == "id":
        return st.one_of(st.from_regex(r"[A-Z]{2}[0-9]{10,13}", fullmatch=True), st.sampled_from(HOSTILE))
    if kind == "name":
        return st.text(max_size=6)
    return cells(kind)


ROWS = st.lists(st.tuples(*[_cell(k) for k in KINDS]).map(list), min_size=1, max_size=12)


def _reference_rows(plan: MarkPlan, key: Key, rows, bits, uid: bytes, canary_below: int = 0, slot_below: int = 0):
    hasher = AnchorHasher(key)
    out, marked, exposures, counts, phones, seeds, at, records = [], 0, [], [], [], b"", [], b""
    for i, row in enumerate(rows):
        anchors = row_anchors(plan, row, hasher)
        new, n = mark_row(plan, row, anchors, bits, len(bits))
        out.append(new)
        marked += n
        exposures += [a.exposure for a in anchors.all]
        counts.append(len(anchors.all))
        phones.append(len(anchors.phones))
        record = b"".join(sorted(a.digest[:8] for a in anchors.all))
        seeds += key.digest("row", uid + record, 16) if anchors.all else bytes(16)
        digest = record_digest(key, anchors)
        draw = lambda d: int.from_bytes(d[:8], "little")  # noqa: E731
        if digest is not None and (draw(seeds[-16:]) < canary_below or draw(digest) < slot_below):
            at.append(i)
            records += digest
    return out, marked, exposures, counts, phones, seeds, at, records


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, secret=st.binary(min_size=32, max_size=32), seed=st.integers(0, 2**32),
       below=st.tuples(*[st.sampled_from([0, 1, 2**62, 2**63 + 1, 2**64 - 1, 2**64]) for _ in "cs"]))
def test_rows_mark_as_the_reference(rows, secret, seed, below):
    """Marked rows, digests, seeds, and which rows may take a decoy (a seed or a record digest under a bound)."""
    key = Key(secret)
    plan = mark_plan(SCHEMA)
    bits = [random.Random(seed).getrandbits(1) for _ in range(97)]
    native_engine = engine.native_engine(key, plan)
    out, marked, exposures, counts, phones, seeds, at, records = native_engine.mark(rows, bytes(bits), b"uid-1", *below)
    import numpy as np
    got = (out, marked, np.frombuffer(exposures, "<i8").tolist(), list(counts), list(phones), seeds,
           np.frombuffer(at, "<u4").tolist(), records)
    assert got == _reference_rows(plan, key, rows, bits, b"uid-1", *below)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(*[_cell(k) for k in KINDS], st.text(alphabet=',\t;|"\r\n \x85\u2028a\x00', max_size=5))
                     .map(list), min_size=1, max_size=12),
       secret=st.binary(min_size=32, max_size=32), delimiter=st.sampled_from([",", "\t", ";", "|", "a"]),
       quote_all=st.booleans(), terminator=st.sampled_from(["\r\n", "\n", "\r"]))
def test_marked_rows_as_csv_text_are_what_the_csv_module_writes(rows, secret, delimiter, quote_all, terminator):
    """The engine's csv text of a batch is the csv writer's text of its marked rows, row by row, in UTF-8
    (each row's start counted in bytes)."""
    import csv
    import io
    import numpy as np
    plan = mark_plan(Schema(SCHEMA.columns + (Column(len(KINDS), "note", "text", None, 1.0, "values"),)))
    native_engine = engine.native_engine(Key(secret), plan)
    marked = native_engine.mark(rows, bytes(97), b"u")[0]
    (text, starts), *_ = native_engine.mark(rows, bytes(97), b"u", 0, 0, (delimiter, quote_all, terminator))
    starts = np.frombuffer(starts, "<u4").tolist()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    for row, start, stop in zip(marked, starts, starts[1:]):
        want = io.StringIO()
        csv.writer(want, delimiter=delimiter, quoting=quoting, lineterminator=terminator).writerow(row)
        assert text[start:stop] == want.getvalue().encode("utf-8")
    assert starts[-1] == len(text)


def test_one_empty_field_is_quoted():
    plan = MarkPlan((), (0,), ())
    (text, _), *_ = engine.native_engine(Key(bytes(32)), plan).mark([[""]], bytes(97), b"u", 0, 0, (",", False, "\n"))
    assert text == b'""\n'


def test_the_slot_bound_is_the_exact_float_comparison():
    """The engine is told an integer bound; a record draw under it is one under the float threshold."""
    for draw in (SLOT_BELOW - 2, SLOT_BELOW - 1, SLOT_BELOW, SLOT_BELOW + 1, 0, 2**64 - 1):
        assert may_take_slot(draw.to_bytes(8, "little") + bytes(8)) == (draw < SLOT_BELOW)


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, secret=st.binary(min_size=32, max_size=32))
def test_batches_are_the_references(rows, secret):
    """What the exporter reads of a batch is the same from either engine, candidates and records included
    (a canary rate of a half, so that some rows are candidates)."""
    key, plan, bits = Key(secret), mark_plan(SCHEMA), [1, 0] * 40
    below = 2**63
    seed_of = lambda anchors: key.digest("row", b"u" + b"".join(sorted(a.digest[:8] for a in anchors.all)), 16) \
        if anchors.all else None  # noqa: E731
    wants = lambda seed: seed is not None and int.from_bytes(seed[:8], "little") < below  # noqa: E731
    reference = export_rows.python_batch(rows, plan, AnchorHasher(key), key, bits, len(bits), seed_of, wants)
    native, = export_rows.native_batches(rows, engine.native_engine(key, plan), bits, b"u", below, None)
    for field in ("rows", "marked", "marked_cells", "seeds", "candidates", "records"):
        assert getattr(native, field) == getattr(reference, field)
    for field in ("exposures", "counts", "phones", "phone_digests", "phone_ends"):
        assert getattr(native, field).tolist() == getattr(reference, field).tolist()
    assert [native.exposure_list(i) for i in range(len(rows))] == [reference.exposure_list(i) for i in range(len(rows))]


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, secret=st.binary(min_size=32, max_size=32))
def test_rows_read_as_the_reference(rows, secret):
    import numpy as np
    key = Key(secret)
    plan = mark_plan(Schema(tuple(Column(c.index, "", c.kind, None, 1.0, "values") for c in SCHEMA.columns)),
                     alternatives=True)
    exposures, counts, at, positions, symbols, codes, first_read = engine.native_engine(key, plan).read(rows, 97)
    names = [(p, s) for p, cell in enumerate(plan.cells) for s in range(len(cell.slots))]
    got = list(zip(np.frombuffer(at, "<u4").tolist(), np.frombuffer(positions, "<u4").tolist(), list(symbols),
                   np.frombuffer(codes, "<u4").tolist()))
    hasher, want, digests = AnchorHasher(key), [], []
    for r, row in enumerate(rows):
        anchors = row_anchors(plan, row, hasher)
        digests += [a.exposure for a in anchors.all]
        for position, bit, column, slot, anchor in read_row(plan, row, anchors, 97):
            p = next(i for i, c in enumerate(plan.cells) if c.index == column and c.anchor == anchor)
            s = [sl.NAME for sl, _ in plan.cells[p].slots].index(slot)
            want.append((r, position, bit, 16 * p + s))
    assert (np.frombuffer(exposures, "<i8").tolist(), got) == (digests, want)
    assert np.frombuffer(counts, "<u4").tolist() == [len(row_anchors(plan, row, hasher).all) for row in rows]
    assert all((p, s) in names for p, s in ((c // 16, c % 16) for *_, c in got))
    assert np.frombuffer(first_read, "<u4").tolist() == list(dict.fromkeys(c for *_, c in want))  # each once, in order


def test_a_row_of_hundreds_of_anchors_is_counted_whole():
    """A wide leak (up to match.MAX_COLUMNS columns) may hold more phones a row than a byte counts."""
    import numpy as np
    row = [f"138{i:08d}" for i in range(300)]
    exposures, counts, *_ = engine.native_engine(Key(bytes(32)), MarkPlan(tuple(range(300)), (), ())).read([row], 97)
    assert np.frombuffer(counts, "<u4").tolist() == [300] and len(exposures) == 8 * 300


# ---- the rule: a plan with any slot the engine lacks runs in Python ------------------------

class _PythonOnlySlot:
    NAME = "made_up.python_only"
    COLUMN_KINDS = ("address",)


def test_a_plan_with_a_python_only_slot_falls_back():
    plan = mark_plan(recognise(*read_csv(FIXTURES / "waybills.csv")))
    key = Key(bytes(32))
    assert engine.native_engine(key, plan) is not None
    cell = plan.cells[0]
    widened = MarkPlan(plan.phone_columns, plan.id_columns,
                       (CellPlan(cell.index, cell.anchor, (*cell.slots, (_PythonOnlySlot(), 5))), *plan.cells[1:]))
    assert engine.native_plan(widened) is None
    assert engine.native_engine(key, widened) is None


def test_tracer_engine_python_forces_the_reference(monkeypatch):
    monkeypatch.setenv("TRACER_ENGINE", "python")
    assert engine.default_engine() == "python"
    assert engine.native_engine(Key(bytes(32)), mark_plan(recognise(*read_csv(FIXTURES / "orders.csv")))) is None
    monkeypatch.setenv("TRACER_ENGINE", "fast")
    with pytest.raises(engine.EngineError, match="^TRACER_ENGINE must be auto, native or python, not 'fast'$"):
        engine.default_engine()


def test_version_says_which_engine(cli, monkeypatch):
    assert cli("--version").stdout == "tracer 0.1.0 (engine: native)\n"
    monkeypatch.setenv("TRACER_ENGINE", "python")
    assert "engine: python (forced by TRACER_ENGINE=python" in cli("--version").stdout
    monkeypatch.setenv("TRACER_ENGINE", "fast")
    assert "TRACER_ENGINE must be auto, native or python, not 'fast'" in cli("--version").stdout
    result = cli("export", FIXTURES / "orders.csv", "--account", "x", "--output", "out.csv")
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")


# ---- whole exports and matches: byte-identical files, identical verdicts -------------------

def _export(tmp_path: Path, monkeypatch, source: Path, name: str):
    """Export ``source`` for 'wang' with engine ``name`` (a re-export is byte-identical, so both
    engines export into one registry): (output bytes, rows, canaries, marked cells), or the refusal."""
    monkeypatch.setenv("TRACER_ENGINE", name)
    registry = tmp_path / "tracer.db"
    if not registry.exists():
        api.init(registry)
        api.add_account(registry, "wang")
    try:
        result = api.export(registry, source, account="wang", output=tmp_path / f"{name}.csv")
    except TracerError as exc:
        return str(exc)
    assert result.engine == name
    return Path(result.output).read_bytes(), result.rows, result.canaries, result.marked_cells


def _entry(registry: Path, export_id: int) -> tuple:
    """One export's registry entry: its counts, exposure digests, canaries and shared decoys."""
    with sqlite3.connect(registry) as db:
        query = lambda sql: sorted(db.execute(sql, (export_id,)).fetchall())  # noqa: E731
        return (query("SELECT rows, canaries, marked_cells, anchors FROM exports WHERE id = ?"),
                query("SELECT digest FROM exposure WHERE export_id = ?"),
                query("SELECT digest, space FROM canaries WHERE export_id = ?"),
                query("SELECT digest, positions, symbols, record FROM shared_decoys WHERE export_id = ?"))


def _both(tmp_path: Path, monkeypatch, source: Path):
    """Both engines' exports of ``source``: the same file, counts and registry entry."""
    native_export = _export(tmp_path, monkeypatch, source, "native")
    assert native_export == _export(tmp_path, monkeypatch, source, "python")
    if not isinstance(native_export, str):
        last = _last_export(tmp_path / "tracer.db")
        assert _entry(tmp_path / "tracer.db", last - 1) == _entry(tmp_path / "tracer.db", last)
    return native_export


def _last_export(registry: Path) -> int:
    with sqlite3.connect(registry) as db:
        return db.execute("SELECT max(id) FROM exports").fetchone()[0]


@pytest.mark.parametrize("fixture", ["waybills", "orders"])
def test_exports_fill_bounded_memory_identically(tmp_path, monkeypatch, fixture):
    """With the e-mails and phone counts remembered in a few hundred entries, both memories are cleared
    many times within a batch: both engines still write the same file and registry entry."""
    from tracer import export
    monkeypatch.setattr(export, "KNOWN_LIMIT", 300)
    monkeypatch.setattr(export, "PHONE_COUNT_LIMIT", 500)
    _both(tmp_path, monkeypatch, FIXTURES / f"{fixture}.csv")


@pytest.mark.parametrize("fixture", ["waybills", "orders", "foreign_waybills", "foreign_orders"])
def test_exports_and_verdicts_are_identical(tmp_path, monkeypatch, fixture):
    _both(tmp_path, monkeypatch, FIXTURES / f"{fixture}.csv")
    header, rows = read_csv(tmp_path / "native.csv")
    leak = write_csv(tmp_path / "leak.csv", header, random.Random(3).sample(rows, min(len(rows), 700)))
    _verdicts(tmp_path / "tracer.db", [leak], monkeypatch)


def _verdicts(registry: Path, leaks: list[Path], monkeypatch) -> str:
    """``match --json`` of ``leaks`` by each engine: the same text but for the engine it names."""
    verdicts = {}
    for name in ("native", "python"):
        monkeypatch.setenv("TRACER_ENGINE", name)
        verdict = api.match(registry, leaks).as_json()
        assert verdict.pop("engine") == name
        verdicts[name] = json.dumps(verdict, sort_keys=True)
    assert verdicts["native"] == verdicts["python"]
    return verdicts["native"]


def _whole_and_digits(header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """A cleaning: weights rounded to whole units, phones to their digits."""
    kinds = {c.index: c.kind for c in recognise(header, rows).columns}
    clean = {"number": lambda c: c.split(".")[0], "phone": lambda c: "".join(ch for ch in c if ch.isdigit())}
    return [[clean.get(kinds[i], str)(cell) for i, cell in enumerate(row)] for row in rows]


def test_attacked_leaks_get_identical_verdicts(tmp_path, monkeypatch):
    """Flipped marks, a cleaning, two insiders merged, a headerless dump and a folder of them all."""
    registry = tmp_path / "tracer.db"
    api.init(registry)
    copies = {}
    for name in ("wang", "li", "zhao"):
        api.add_account(registry, name)
        api.export(registry, FIXTURES / "waybills.csv", account=name, output=tmp_path / f"{name}.csv")
        copies[name] = read_csv(tmp_path / f"{name}.csv")
    header, rows = copies["wang"]
    draw = random.Random(5)
    sample = draw.sample(rows, 600)
    leaks = tmp_path / "leaks"
    leaks.mkdir()
    tables = {"flipped": flip_marks(header, sample), "cleaned": _whole_and_digits(header, sample),
              "merged": draw.sample(sample[:300] + draw.sample(copies["li"][1], 300), 600)}
    for name, table in tables.items():
        write_csv(leaks / f"{name}.csv", header, table)
    (leaks / "dump.txt").write_text("".join("----".join(row) + "\n" for row in sample), encoding="utf-8")
    for leak in sorted(leaks.iterdir()):
        assert json.loads(_verdicts(registry, [leak], monkeypatch))["suspects"]
    found = json.loads(_verdicts(registry, [leaks], monkeypatch))
    # li's rows come in one file only; wang's come flipped and unflipped too, and the two copies show both
    # symbols at each position: his marks cancel, and whether his canaries alone convict is the key's draw.
    assert "li" in {s["account"] for s in found["suspects"]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(*[_cell(k) for k in KINDS]).map(list), min_size=1, max_size=40))
def test_hostile_tables_export_identically(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("hostile")
    header = ["运单号", "寄件人电话", "寄件地址", "收件人电话", "收件地址", "邮箱", "重量", "下单时间", "备注"]
    source = write_csv(tmp / "src.csv", header, [[c.replace("\x00", "") for c in row] for row in rows])
    with pytest.MonkeyPatch.context() as monkeypatch:
        _both(tmp, monkeypatch, source)


def test_a_lone_surrogate_is_left_to_the_reference():
    """JSON escapes can make a cell no UTF-8 holds: the engine refuses the batch, the caller
    (export and match) then runs the reference on it."""
    plan = mark_plan(SCHEMA)
    row = ["AB1234567890", "\ud800", "", "", "", "", "", "", ""]
    with pytest.raises(UnicodeEncodeError):
        engine.native_engine(Key(bytes(32)), plan).mark([row], bytes(97), b"u")
