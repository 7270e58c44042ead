"""Tests for tracer.tables: formats, encodings, sniffing, round trips, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import json
import subprocess
import sys
import tracemalloc
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracer.errors import InputError, OutputError
from tracer.tables import (
    SUPPORTED_SUFFIXES, DateText, NumberText, Table, TableFormat, TableWriter, open_table,
)
from tracer.tables.cells import exact_integer, format_number

from .sheets import write_xls, write_xlsx

PEOPLE = [
    ["姓名", "电话", "地址"],
    ["张三", "13800138000", "江苏省南京市玄武区中山路12号"],
    ["李四", "13912345678", "浙江省杭州市西湖区文三路90号3栋2单元301室"],
    ["王五", "15088886666", "广东省深圳市南山区科技园1号"],
]


def make(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def csv_text(rows, *, delimiter=",", quoting=csv.QUOTE_MINIMAL, end="\n") -> str:
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=end).writerows(rows)
    return buffer.getvalue()


def read_all(path, **kwargs) -> tuple[Table, list[list[str]]]:
    with open_table(path, **kwargs) as table:
        return table, list(table.rows())


def rewrite(path, out):
    """Read a table and write it back unchanged through TableWriter."""
    with open_table(path) as table:
        with TableWriter(out, table.format, table.columns) as writer:
            for row in table.rows():
                writer.write_row(row)
    return table


# --- byte-identical round trips ---------------------------------------------------

ROUND_TRIPS = {
    "utf8.csv": csv_text(PEOPLE).encode("utf-8"),
    "bom.csv": csv_text(PEOPLE).encode("utf-8-sig"),
    "quoted.csv": csv_text(PEOPLE, quoting=csv.QUOTE_ALL).encode("utf-8"),
    "crlf.csv": csv_text(PEOPLE, end="\r\n").encode("utf-8"),
    "tabs.tsv": csv_text(PEOPLE, delimiter="\t").encode("utf-8"),
    "gbk.csv": csv_text(PEOPLE).encode("gb18030"),
    "utf16.csv": csv_text(PEOPLE, end="\r\n").encode("utf-16"),
    "embedded.csv": csv_text(
        [["id", "note"], ["1", 'says "hi", then\nleaves'], ["2", "plain"]]
    ).encode("utf-8"),
    "dump.txt": "".join("----".join(r[:3]) + "\r\n" for r in PEOPLE[1:]).encode("gb18030"),
    "people.jsonl": "".join(
        json.dumps({"name": r[0], "phone": int(r[1]), "weight": 1.25, "addr": r[2]},
                   ensure_ascii=False) + "\n"
        for r in PEOPLE[1:]
    ).encode("utf-8"),
    "people.json": (
        "[\n"
        + ",\n".join(
            json.dumps({"name": r[0], "phone": r[1], "weight": 0.5, "n": 3, "vip": True,
                        "email": None, "tags": ["a", 1]}, ensure_ascii=False)
            for r in PEOPLE[1:]
        )
        + "\n]\n"
    ).encode("utf-8"),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_round_trip_is_byte_identical(tmp_path, name):
    source = make(tmp_path, name, ROUND_TRIPS[name])
    out = tmp_path / ("out" + source.suffix)
    table = rewrite(source, out)
    assert table.ragged == 0
    assert out.read_bytes() == source.read_bytes()


def test_detected_formats(tmp_path):
    expected = {
        "utf8.csv": ("utf-8", ",", csv.QUOTE_MINIMAL, "\n"),
        "bom.csv": ("utf-8-sig", ",", csv.QUOTE_MINIMAL, "\n"),
        "quoted.csv": ("utf-8", ",", csv.QUOTE_ALL, "\n"),
        "crlf.csv": ("utf-8", ",", csv.QUOTE_MINIMAL, "\r\n"),
        "tabs.tsv": ("utf-8", "\t", csv.QUOTE_MINIMAL, "\n"),
        "gbk.csv": ("gb18030", ",", csv.QUOTE_MINIMAL, "\n"),
        "utf16.csv": ("utf-16", ",", csv.QUOTE_MINIMAL, "\r\n"),
        "dump.txt": ("gb18030", "----", csv.QUOTE_MINIMAL, "\r\n"),
    }
    for name, (encoding, delimiter, quoting, end) in expected.items():
        table, rows = read_all(make(tmp_path, name, ROUND_TRIPS[name]))
        fmt = table.format
        assert (fmt.kind, fmt.encoding, fmt.delimiter, fmt.quoting, fmt.lineterminator) == (
            "csv", encoding, delimiter, quoting, end), name
        if name != "dump.txt":
            assert table.columns == PEOPLE[0] and rows == PEOPLE[1:], name


def test_json_cells_keep_their_types(tmp_path):
    table, rows = read_all(make(tmp_path, "people.json", ROUND_TRIPS["people.json"]))
    assert table.columns == ["name", "phone", "weight", "n", "vip", "email", "tags"]
    name, phone, weight, n, vip, email, tags = rows[0]
    assert (name, phone) == ("张三", "13800138000") and type(phone) is str
    assert isinstance(weight, NumberText) and weight == "0.5"
    assert isinstance(n, NumberText) and n == "3"
    assert (vip, email, tags) == ("true", "", '["a", 1]')

    table, rows = read_all(make(tmp_path, "people.jsonl", ROUND_TRIPS["people.jsonl"]))
    assert rows[0][1] == "13800138000" and isinstance(rows[0][1], NumberText)
    assert rows[0][2] == "1.25" and isinstance(rows[0][2], NumberText)


def test_json_missing_keys_are_empty_and_extra_keys_ragged(tmp_path):
    objects = [{"a": "1", "b": "2"}, {"a": "3"}, {"a": "4", "b": "5", "c": "6"}, {"b": "7", "a": "8"}]
    for name, text in {
        "x.json": json.dumps(objects),
        "x.jsonl": "\n".join(json.dumps(o) for o in objects) + "\n",
    }.items():
        table, rows = read_all(make(tmp_path, name, text.encode()))
        assert table.columns == ["a", "b"]
        assert rows == [["1", "2"], ["3", ""], ["8", "7"]]
        assert table.ragged == 1


def test_json_writer_style_and_numbers(tmp_path):
    out = tmp_path / "o.json"
    with TableWriter(out, TableFormat(kind="json", lineterminator="\n"), ["k", "v"]) as writer:
        writer.write_row(["a", NumberText("12.5")])
        writer.write_row(["b", NumberText("not a number")])
        writer.write_row(["c", "12.5"])
    assert out.read_text() == (
        '[\n{"k": "a", "v": 12.5},\n{"k": "b", "v": "not a number"},\n{"k": "c", "v": "12.5"}\n]\n'
    )
    empty = tmp_path / "e.json"
    with TableWriter(empty, TableFormat(kind="json", lineterminator="\n"), ["k"]):
        pass
    assert json.loads(empty.read_text()) == []


# --- xlsx -----------------------------------------------------------------------------

XLSX_ROWS = [
    ["姓名", "电话", "重量", "下单时间", "日期", "备注"],
    ["张三", 13800138000.0, 12.5, dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2), "=1+1"],
    ["李四", 13912345678, 0.1 + 0.2, dt.datetime(2024, 5, 6, 7, 8, 9), dt.datetime(2023, 12, 31), None],
]


EXCEL_WRITERS = pytest.mark.parametrize("write, suffix", [(write_xlsx, ".xlsx"), (write_xls, ".xls")],
                                        ids=["xlsx", "xls"])


@EXCEL_WRITERS
def test_excel_cells_become_typed_text(tmp_path, write, suffix):
    table, rows = read_all(write(tmp_path / f"x{suffix}", XLSX_ROWS))
    assert table.format.kind == suffix[1:] and table.format.sheet == "名单"
    assert table.format.has_header and table.columns == XLSX_ROWS[0]
    assert rows[0] == ["张三", "13800138000", "12.5", "2024-01-02 03:04:05", "2024-01-02", "=1+1"]
    assert rows[1] == ["李四", "13912345678", "0.3", "2024-05-06 07:08:09", "2023-12-31", ""]
    assert isinstance(rows[0][1], NumberText) and isinstance(rows[0][2], NumberText)
    assert isinstance(rows[0][3], DateText) and isinstance(rows[0][4], DateText)
    assert type(rows[0][5]) is str


def test_xlsx_round_trip_keeps_values_and_types(tmp_path):
    import openpyxl

    source = write_xlsx(tmp_path / "x.xlsx", XLSX_ROWS)
    out = tmp_path / "out.xlsx"
    rewrite(source, out)
    before, after = read_all(source), read_all(out)
    assert after[0].columns == before[0].columns and after[1] == before[1]
    assert [type(c) for c in after[1][0]] == [type(c) for c in before[1][0]]
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert sheet.title == "名单"
    assert sheet["B2"].value == 13800138000 and sheet["C2"].value == 12.5
    assert sheet["D2"].value == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert sheet["E2"].is_date and sheet["F2"].value == "=1+1" and sheet["F2"].data_type == "s"


@pytest.mark.parametrize("number_format", [
    'yyyy"年"m"月"d"日" hh:mm:ss', "m/d/yy h:mm:ss", "[$-F800]dddd, mmmm dd, yyyy", "hh:mm:ss AM/PM",
    "yyyy-mm-dd hh:mm:ss.000",
])
def test_a_date_cell_in_any_date_format_reads_to_the_second(tmp_path, number_format):
    """Excel keeps a date as a serial number of days (15 digits) and shows it
    through the cell's format; the reader gives the moment, seconds exact
    (they carry a mark)."""
    import xlsxwriter

    path = tmp_path / "d.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["下单时间", "时长"])
    sheet.write_number(1, 0, 45356.5990393519, book.add_format({"num_format": number_format}))
    sheet.write_number(1, 1, 1.5 + 37 / 86400, book.add_format({"num_format": "[h]:mm:ss"}))
    book.close()
    rows = read_all(path, header=True)[1]
    assert rows == [["2024-03-05 14:22:37", "36:00:37"]] and isinstance(rows[0][0], DateText)


@EXCEL_WRITERS
def test_excel_headerless_and_short_rows(tmp_path, write, suffix):
    path = write(tmp_path / f"h{suffix}", [["张三", 13800138000, "南京"], ["李四", 13912345678]])
    table, rows = read_all(path)
    assert not table.format.has_header
    assert table.columns == ["column_1", "column_2", "column_3"]
    assert rows == [["张三", "13800138000", "南京"], ["李四", "13912345678", ""]]


@EXCEL_WRITERS
def test_a_title_above_the_table_or_an_unnamed_last_column_is_not_fatal(tmp_path, write, suffix):
    """Excel ends a row at its last used cell: a title alone in A1 looked
    like a one-column header under which every row was ragged."""
    waybills = [["运单明细"], ["运单号", "电话"], ["YT7939416651353", 13800138000], ["YT7665437223674", 13912345678]]
    table, rows = read_all(write(tmp_path / f"t{suffix}", waybills))
    assert not table.format.has_header and table.columns == ["column_1", "column_2"]
    assert [row[1] for row in rows] == ["", "电话", "13800138000", "13912345678"] and table.ragged == 0
    unnamed = [XLSX_ROWS[0][:2]] + [row[:2] + ["备注"] for row in XLSX_ROWS[1:]]
    table, rows = read_all(write(tmp_path / f"u{suffix}", unnamed), header=True)
    assert table.columns == ["姓名", "电话", "column_3"] and rows[0] == ["张三", "13800138000", "备注"]


def test_xls_times_booleans_and_errors(tmp_path):
    import xlwt

    path = write_xls(tmp_path / "t.xls", [
        ["姓名", "到达", "签收", "运费"],
        ["张三", dt.time(14, 22, 37), True, None],
        ["李四", dt.time(8, 0, 1), False, None],
    ])
    table, rows = read_all(path)
    assert table.columns == ["姓名", "到达", "签收", "运费"]
    assert rows == [["张三", "14:22:37", "TRUE", ""], ["李四", "08:00:01", "FALSE", ""]]
    book = xlwt.Workbook()
    sheet = book.add_sheet("s")
    sheet.write(0, 0, "运费")
    sheet.row(1).set_cell_error(0, 42)  # #N/A
    book.save(str(tmp_path / "e.xls"))
    assert read_all(tmp_path / "e.xls", header=True)[1] == [["#N/A"]]


def test_xls_reads_the_first_sheet_only(tmp_path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    for title, phone in (("一月", 13800138000), ("二月", 13912345678)):
        sheet = book.add_sheet(title)
        sheet.write(0, 0, "电话")
        sheet.write(1, 0, phone)
    book.save(str(tmp_path / "two.xls"))
    table, rows = read_all(tmp_path / "two.xls")
    assert table.format.sheet == "一月" and rows == [["13800138000"]]


def test_a_sparse_xls_is_read_in_bounded_memory(tmp_path):
    """Cells at opposite corners of three sheets: a 20 KB file that a reader
    expanding sheets to their span (python-calamine) turns into 2 GB."""
    import xlwt

    book = xlwt.Workbook()
    for index in range(3):
        sheet = book.add_sheet(f"s{index}")
        sheet.write(0, 0, "电话")
        sheet.write(65535, 255, 13800138000)
    path = tmp_path / "sparse.xls"
    book.save(str(path))
    # VmHWM, the peak of this process's own memory: ru_maxrss would inherit
    # pytest's peak across fork and exec.
    script = (
        "import re, sys\n"
        "from tracer.tables import open_table\n"
        "with open_table(sys.argv[1]) as table:\n"
        "    rows = sum(1 for _ in table.rows())\n"
        "status = open('/proc/self/status').read()\n"
        "print(rows, int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                          timeout=60, check=True)
    rows, peak_mb = map(int, done.stdout.split())
    assert rows == 2 and peak_mb < 300


@pytest.mark.parametrize("text, integer", [
    ("13812345678.0", "13812345678"), ("1.3812345678E+10", "13812345678"), ("1.3812345678e10", "13812345678"),
    (" 13812345678.00 ", "13812345678"), ("773012345678901", "773012345678901"), ("100000.0", "100000"),
    ("1.3800138E10", "13800138000"), ("7.7301234E+14", "773012340000000"),
    ("1.38123E+10", None), ("1.380014e+10", None), ("1E+5", None), ("12.5", None), ("1.3812345678E-2", None), ("-5.0", None),
    ("abc", None), ("", None), ("1" * 50 + ".0", None), ("1.2345678901234568e+17", None),
])
def test_exact_integer_recovers_only_what_the_float_kept(text, integer):
    assert exact_integer(text) == integer


def test_format_number_never_scientific():
    assert format_number(13800138000.0) == "13800138000"
    assert format_number(12.5) == "12.5"
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(1.5e-7) == "0.00000015"
    assert format_number(1e20) == "100000000000000000000"
    assert format_number(-3) == "-3"


# --- encodings -------------------------------------------------------------------------

def test_short_gbk_file_decodes_as_gb18030(tmp_path):
    text = "张三,江苏省南京市鼓楼区\n李四,浙江省杭州市西湖区\n王五,广东省广州市天河区\n"
    table, rows = read_all(make(tmp_path, "short.csv", text.encode("gbk")))
    assert table.format.encoding == "gb18030"
    assert rows[0] == ["张三", "江苏省南京市鼓楼区"]


def test_utf16_with_and_without_bom(tmp_path):
    text = csv_text(PEOPLE)
    for name, data, encoding in [
        ("le.csv", text.encode("utf-16"), "utf-16"),
        ("be.csv", codecs_bom_be(text), "utf-16"),
        ("nobom.csv", text.encode("utf-16-le"), "utf-16-le"),
    ]:
        table, rows = read_all(make(tmp_path, name, data))
        assert table.format.encoding == encoding, name
        assert table.columns == PEOPLE[0] and rows == PEOPLE[1:], name


def codecs_bom_be(text: str) -> bytes:
    import codecs

    return codecs.BOM_UTF16_BE + text.encode("utf-16-be")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "UTF8", "gb18030", "utf-16"])
def test_csv_bytes_and_rows_write_what_the_text_codec_writes(tmp_path, encoding):
    """Rows the csv module writes and UTF-8 csv bytes the native engine made, interleaved, are the file a
    text handle in the encoding writes (a UTF-8 file takes the bytes as they are, BOM first for utf-8-sig)."""
    fmt = TableFormat(kind="csv", encoding=encoding, delimiter=",", lineterminator="\r\n")
    out = tmp_path / "out.csv"
    with TableWriter(out, fmt, ["姓名", "电话"]) as writer:
        writer.write_row(["张三", "13800138000"])
        writer.write_csv("李四,13900139000\r\n\"王,五\",1\r\n".encode("utf-8"))
        writer.write_row(["é", ""])
    with open(tmp_path / "want.csv", "w", encoding=encoding, newline="") as want:
        csv.writer(want, lineterminator="\r\n").writerows([["姓名", "电话"], ["张三", "13800138000"]])
        want.write("李四,13900139000\r\n\"王,五\",1\r\n")
        csv.writer(want, lineterminator="\r\n").writerow(["é", ""])
    assert out.read_bytes() == (tmp_path / "want.csv").read_bytes()


def test_a_cell_no_utf_8_can_hold_is_an_output_error(tmp_path):
    fmt = TableFormat(kind="csv", encoding="utf-8", delimiter=",", lineterminator="\n")
    with pytest.raises(OutputError, match="cannot write row"):
        with TableWriter(tmp_path / "out.csv", fmt, ["a"]) as writer:
            writer.write_row(["\ud800"])


def test_encoding_argument_overrides_detection(tmp_path):
    path = make(tmp_path, "big5.csv", "姓名,電話\n陳大文,0912345678\n".encode("big5"))
    table, rows = read_all(path, encoding="big5")
    assert table.format.encoding == "big5" and rows == [["陳大文", "0912345678"]]


def test_decode_error_after_the_prefix_is_input_error(tmp_path):
    body = "".join(f"张三{i},1380013{i:04d}\n" for i in range(60000)).encode("utf-8")
    path = make(tmp_path, "late.csv", "name,phone\n".encode() + body + b"\xff\xfe,1\n")
    assert path.stat().st_size > (1 << 20)
    with open_table(path) as table:
        assert table.format.encoding == "utf-8"
        with pytest.raises(InputError, match="late.csv"):
            for _ in table.rows():
                pass


# --- delimiters and headers --------------------------------------------------------------

def test_dash_dump_is_headerless_and_keeps_commas(tmp_path):
    lines = [
        "张三----13800138000----江苏省南京市玄武区中山路1号,3栋",
        "李四----13912345678----浙江省杭州市西湖区文三路90号",
        "王五----15088886666----广东省深圳市南山区科技园",
    ]
    table, rows = read_all(make(tmp_path, "dump.txt", "\n".join(lines).encode("gbk")))
    assert table.format.delimiter == "----" and not table.format.has_header
    assert table.columns == ["column_1", "column_2", "column_3"]
    assert rows[0] == ["张三", "13800138000", "江苏省南京市玄武区中山路1号,3栋"]
    assert len(rows) == 3


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
def test_single_char_delimiters_are_sniffed(tmp_path, delimiter):
    table, rows = read_all(make(tmp_path, "d.txt", csv_text(PEOPLE, delimiter=delimiter).encode()))
    assert table.format.delimiter == delimiter and rows == PEOPLE[1:]


def test_one_column_file(tmp_path):
    table, rows = read_all(make(tmp_path, "one.txt", b"13800138000\n13912345678\n"))
    assert table.columns == ["column_1"] and rows == [["13800138000"], ["13912345678"]]


def test_header_detection_and_override(tmp_path):
    headed = make(tmp_path, "h.csv", csv_text(PEOPLE).encode())
    bare = make(tmp_path, "b.csv", csv_text(PEOPLE[1:]).encode())
    english = make(tmp_path, "e.csv", b"name,email\nAnn,ann@example.com\nBob,bob@example.com\n")
    assert read_all(headed)[0].format.has_header
    assert not read_all(bare)[0].format.has_header
    assert read_all(english)[0].columns == ["name", "email"]

    table, rows = read_all(headed, header=False)
    assert table.columns == ["column_1", "column_2", "column_3"] and rows == PEOPLE
    table, rows = read_all(bare, header=True)
    assert table.columns == PEOPLE[1] and rows == PEOPLE[2:]


def test_headerless_table_keeps_its_first_row(tmp_path):
    table, rows = read_all(make(tmp_path, "b.csv", csv_text(PEOPLE[1:]).encode()))
    assert rows[0] == PEOPLE[1]
    out = tmp_path / "o.csv"
    rewrite(tmp_path / "b.csv", out)
    assert out.read_bytes() == (tmp_path / "b.csv").read_bytes()


# --- ragged rows and bad input --------------------------------------------------------------

def test_ragged_rows_are_skipped_and_counted(tmp_path):
    text = "a,b\n1,2\n3\n4,5,6\n7,8\n\n"
    table, rows = read_all(make(tmp_path, "r.csv", text.encode()), header=True)
    assert rows == [["1", "2"], ["7", "8"]] and table.ragged == 2


@pytest.mark.parametrize("name, delimiter", [("d.txt", "----"), ("t.tsv", "\t"), ("c.csv", ",")])
def test_a_third_of_the_rows_ragged_still_sniffs_the_delimiter(tmp_path, name, delimiter):
    lines = []
    for i in range(30):
        cells = [f"张{i}", f"138{i:08d}", f"南京市中山路{i}号"]
        cells = cells[:2] if i % 3 == 1 else cells
        lines.append(delimiter.join(cells))
    table, rows = read_all(make(tmp_path, name, "\n".join(lines).encode("gb18030")))
    assert table.format.delimiter == delimiter and len(table.columns) == 3
    assert len(rows) == 20 and table.ragged == 10


@pytest.mark.parametrize("name, delimiter", [("t.csv", ","), ("t.txt", "----")])
def test_a_title_line_above_a_text_table_is_one_ragged_row(tmp_path, name, delimiter):
    lines = ["运单明细", delimiter.join(["运单号", "电话", "地址"])]
    lines += [delimiter.join([f"YT79394166513{i:02d}", f"138001380{i:02d}", f"南京市中山路{i}号"]) for i in range(20)]
    table, rows = read_all(make(tmp_path, name, "\n".join(lines).encode("utf-8")))
    assert not table.format.has_header and len(table.columns) == 3
    assert len(rows) == 21 and rows[0] == ["运单号", "电话", "地址"] and table.ragged == 1


def test_all_rows_ragged_is_input_error(tmp_path):
    path = make(tmp_path, "r.csv", b"a,b,c\n1,2\n3,4\n")
    with pytest.raises(InputError, match="r.csv"):
        read_all(path, header=True)


def _zip_without_workbook(tmp_path):
    path = tmp_path / "notbook.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return path


def _hostile_zip(tmp_path, name: str, patch):
    """A one-part zip whose central directory record ``patch`` edits (found by the fuzzer:
    zipfile raises NotImplementedError and UnicodeDecodeError, not BadZipFile, on these)."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    data = bytearray(path.read_bytes())
    patch(data, data.find(b"PK\x01\x02"))
    path.write_bytes(data)
    return path


def _unknown_version(data, record):
    data[record + 6] = 122  # 'version needed to extract' 12.2


def _bad_utf8_name(data, record):
    data[record + 9] |= 0x08  # flag bit 11: the name is UTF-8 ...
    data[record + 46] = 0xFF  # ... and it is not


BAD_INPUTS = {
    "missing": lambda d: d / "missing.csv",
    "zero bytes": lambda d: make(d, "zero.csv", b""),
    "blank": lambda d: make(d, "blank.csv", b" \n\r\n  \n"),
    "header only": lambda d: make(d, "head.csv", "姓名,电话\n".encode()),
    "binary": lambda d: make(d, "bin.csv", b"PK\x03\x04\x00\x00\x01\x02" * 50),
    "binary controls": lambda d: make(d, "ctl.txt", bytes(range(1, 32)) * 20),
    "directory": lambda d: (d / "dir.csv").mkdir() or d / "dir.csv",
    "unknown suffix": lambda d: make(d, "leak.pdf", b"%PDF-1.4"),
    "not a zip": lambda d: make(d, "bad.xlsx", b"this is not a workbook"),
    "zip not workbook": _zip_without_workbook,
    "zip of an unknown version": lambda d: _hostile_zip(d, "version.xlsx", _unknown_version),
    "zip with a bad utf-8 name": lambda d: _hostile_zip(d, "utf8.xlsx", _bad_utf8_name),
    "empty xlsx sheet": lambda d: write_xlsx(d / "empty.xlsx", []),
    "not an xls": lambda d: make(d, "bad.xls", b"\xd0\xcf\x11\xe0 not really a workbook" * 30),
    "xls header only": lambda d: write_xls(d / "head.xls", [["姓名", "电话"]]),
    "empty xls sheet": lambda d: write_xls(d / "empty.xls", []),
    "truncated xls": lambda d: make(d, "cut.xls", write_xls(d / "whole.xls", XLSX_ROWS).read_bytes()[:3000]),
    "invalid json": lambda d: make(d, "bad.json", b'[{"a": 1}, {"a": '),
    "json object": lambda d: make(d, "obj.json", b'{"a": 1}'),
    "json numbers": lambda d: make(d, "nums.json", b"[1, 2, 3]"),
    "json mixed": lambda d: make(d, "mixed.json", b'[{"a": 1}, 2]'),
    "json empty list": lambda d: make(d, "none.json", b"[]"),
    "json trailing": lambda d: make(d, "tail.json", b'[{"a": 1}] junk'),
    "invalid jsonl": lambda d: make(d, "bad.jsonl", b'{"a": 1}\n{"a": \n'),
    "jsonl not objects": lambda d: make(d, "arr.jsonl", b"[1, 2]\n"),
    "jsonl later not object": lambda d: make(d, "later.jsonl", b'{"a": 1}\n"x"\n'),
    "json no keys": lambda d: make(d, "nokeys.json", b"[{}]"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_input_error_naming_the_file(tmp_path, case):
    path = BAD_INPUTS[case](tmp_path)
    with pytest.raises(InputError) as info:
        read_all(path)
    message = str(info.value)
    assert message.startswith(path.name + ": ") and "\n" not in message


def test_an_xlsx_named_xls_is_refused_with_what_to_do(tmp_path):
    path = write_xlsx(tmp_path / "report.xls", XLSX_ROWS)
    with pytest.raises(InputError, match=r"^report.xls: this is an .xlsx workbook named .xls; rename it to .xlsx$"):
        read_all(path)


def test_wrong_encoding_argument_is_input_error(tmp_path):
    path = make(tmp_path, "gbk.csv", csv_text(PEOPLE).encode("gbk"))
    with pytest.raises(InputError, match="gbk.csv.*utf-8"):
        read_all(path, encoding="utf-8")
    with pytest.raises(InputError, match="unknown encoding"):
        read_all(path, encoding="no-such-codec")


def test_unknown_suffix_lists_supported(tmp_path):
    with pytest.raises(InputError) as info:
        open_table(make(tmp_path, "leak.pdf", b"x"))
    assert all(suffix in str(info.value) for suffix in SUPPORTED_SUFFIXES)


SUFFIXES = ["x.csv", "x.txt", "x.tsv", "x.json", "x.jsonl", "x.xlsx", "x.xls"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(SUFFIXES), data=st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.lists(st.sampled_from(["a", ",", "\n", '"', "----", "1", "张", "[", "{", "}", "]",
                              ":", '"k"', "\r", "\t", "13800138000", "@"]),
             max_size=60).map(lambda parts: "".join(parts).encode("utf-8")),
))
def test_arbitrary_bytes_read_or_raise_input_error(tmp_path, name, data):
    path = make(tmp_path, name, data)
    try:
        with open_table(path) as table:
            for row in table.rows():
                assert len(row) == len(table.columns)
                assert all(isinstance(cell, str) for cell in row)
    except InputError as exc:
        assert str(exc).startswith(name + ": ")


# --- writer ---------------------------------------------------------------------------------

def test_writer_refuses_a_cell_that_breaks_a_dash_dump(tmp_path):
    fmt = TableFormat(kind="csv", delimiter="----", lineterminator="\n", has_header=False)
    with pytest.raises(OutputError, match="d.txt"):
        with TableWriter(tmp_path / "d.txt", fmt, ["a", "b"]) as writer:
            writer.write_row(["x----y", "z"])


def test_writer_refuses_wrong_width_and_unencodable(tmp_path):
    with pytest.raises(OutputError):
        with TableWriter(tmp_path / "w.csv", TableFormat(kind="csv"), ["a", "b"]) as writer:
            writer.write_row(["only one"])
    fmt = TableFormat(kind="csv", encoding="latin-1")
    with pytest.raises(OutputError, match="l.csv"):
        with TableWriter(tmp_path / "l.csv", fmt, ["a"]) as writer:
            writer.write_row(["张三"])


def test_csv_writer_quotes_per_format(tmp_path):
    out = tmp_path / "q.csv"
    fmt = TableFormat(kind="csv", quoting=csv.QUOTE_ALL, lineterminator="\n")
    with TableWriter(out, fmt, ["a", "b"]) as writer:
        writer.write_row(["1", NumberText("2")])
    assert out.read_text() == '"a","b"\n"1","2"\n'


# --- streaming ---------------------------------------------------------------------------------

def test_reading_is_streamed(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("姓名,电话,地址,重量\n")
        for i in range(200_000):
            handle.write(f"张{i},138{i:08d},江苏省南京市玄武区中山路{i % 500}号,{i % 97}.5\n")
    tracemalloc.start()
    try:
        with open_table(path) as table:
            stream = table.rows()
            assert inspect.isgenerator(stream)
            count = sum(1 for _ in stream)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 200_000 and table.ragged == 0
    assert peak < 20 * 1024 * 1024


def test_rows_can_be_read_twice_and_close_releases_streams(tmp_path):
    path = make(tmp_path, "t.csv", csv_text(PEOPLE).encode())
    table = open_table(path)
    assert list(table.rows()) == list(table.rows()) == PEOPLE[1:]
    stream = table.rows()
    next(stream)
    table.close()
    assert next(stream, None) is None


def test_big5_is_not_taken_for_gb18030(tmp_path):
    text = "姓名,電話,地址\n陳大文,0912345678,臺北市中正區重慶南路一段122號\n林美玲,0922333444,高雄市前鎮區中山二路2號\n"
    table, rows = read_all(make(tmp_path, "tw.csv", text.encode("big5")))
    assert table.format.encoding == "big5"
    assert rows[0][0] == "陳大文"


def test_gbk_with_rare_name_characters_stays_gb18030(tmp_path):
    text = "".join(f"{name},1380013800{i},江苏省南京市玄武区中山路{i}号\n"
                   for i, name in enumerate(["张喆", "王堃", "李玥", "赵四", "钱五"]))
    table, rows = read_all(make(tmp_path, "rare.csv", text.encode("gbk")))
    assert table.format.encoding == "gb18030" and rows[1][0] == "王堃"


def test_quote_all_file_with_multiline_fields(tmp_path):
    rows = [["id", "note"]] + [[str(i), f"line one\nline {i}"] for i in range(300)]
    path = make(tmp_path, "ml.csv", csv_text(rows, quoting=csv.QUOTE_ALL, end="\r\n").encode())
    out = tmp_path / "o.csv"
    assert rewrite(path, out).format.quoting == csv.QUOTE_ALL
    assert out.read_bytes() == path.read_bytes()


def test_hostile_json_is_refused_before_it_exhausts_memory(tmp_path):
    """A 100,000-deep nest or a 50,000-deep object: one clear error, quickly."""
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    nested = tmp_path / "nested.json"
    nested.write_text('[{"a":' + '{"b":' * 50_000 + "1" + "}" * 50_000 + "}]")
    for path in (deep, nested):
        with pytest.raises(InputError, match=path.name):
            with open_table(path) as table:
                list(table.rows())


@pytest.mark.parametrize("name, good, endless", [
    ("x.csv", "姓名,电话\n张三,13800138000\n", "李四," + "9" * 3000 + "\n"),
    ("x.txt", "张三----13800138000\n", "李四----" + "9" * 3000 + "\n"),
    ("x.jsonl", '{"电话": "13800138000"}\n', '{"电话": "' + "9" * 3000 + '"}\n'),
])
def test_an_endless_line_is_skipped_or_refused_before_it_is_read_whole(tmp_path, monkeypatch, name, good, endless):
    """One over-long line among good ones costs only itself (skipped, counted);
    a file of one endless line must neither fill memory nor be read to its end."""
    from tracer.tables import textio

    monkeypatch.setattr(textio, "MAX_LINE", 2000)
    _, rows = read_all(make(tmp_path, name, good.encode()))
    with open_table(make(tmp_path, name, (good + endless + good).encode())) as table:
        assert list(table.rows())[-1] == rows[-1] and table.skipped == {"long_line": 1}
    for body in (endless, endless.replace("9", "9" * 4, 1) * 4):
        with pytest.raises(InputError, match=f"^{name}: a line longer than 0 Mi characters; not a table$"):
            read_all(make(tmp_path, name, (good + body).encode()))


def test_a_giant_json_string_is_refused_in_linear_time(tmp_path, monkeypatch):
    """ijson's C backend copies a token for every 64 KiB read: a 40 MB string
    took seconds (100 MB, a minute) before any error.  The reader refuses a
    value once it passes the cap: a file four times as long costs at most
    about four times as much to refuse (the encoding check reads it all, in
    linear time; the quadratic parse stops at the cap), where a quadratic
    parse of it all would cost sixteen (CPU time, in one run: a ratio, not
    seconds).  Escaped quotes inside it must not reset the count (were they
    to, neither file would be refused)."""
    import time

    from tracer.tables import jsonfmt

    monkeypatch.setattr(jsonfmt, "MAX_VALUE", 2 * 2**20)  # the cap at 2 Mi keeps the test quick

    def refusal_cpu(copies: int) -> float:
        body = ("x" * 1_000_000 + '\\"') * copies
        path = make(tmp_path, "giant.json", ('[{"电话": "13800138000", "备注": "' + body + '"}]').encode())
        started = time.process_time()
        with pytest.raises(InputError, match="^giant.json: a JSON value longer than 2 Mi characters$"):
            read_all(path)
        return time.process_time() - started

    short = min(refusal_cpu(8) for _ in range(3))
    long = min(refusal_cpu(32) for _ in range(3))
    assert long < 6 * short + 0.05, (short, long)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='ab"\\', max_size=60), cuts=st.lists(st.integers(0, 60), max_size=5))
def test_quote_run_is_the_same_however_the_text_is_cut(text, cuts):
    """The JSON reader counts characters since the last unescaped quote across
    reads of any size; the count must not depend on where reads end."""
    from tracer.tables.jsonfmt import quote_run

    run, slashes = 0, 0
    edges = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    for start, end in zip(edges, edges[1:]):
        run, slashes = quote_run(text[start:end], run, slashes)
    state, since = False, 0  # reference: scan one character at a time
    for ch in text:
        since = 0 if ch == '"' and not state else since + 1
        state = ch == "\\" and not state
    assert (run, slashes) == (since, len(text) - len(text.rstrip("\\")))


def test_a_zip_bomb_posing_as_a_workbook_is_refused_quickly(tmp_path):
    """A valid workbook whose sheet part unpacks to 200 MB of padding: refused before unpacking."""
    import time
    import zipfile

    import xlsxwriter

    real = tmp_path / "real.xlsx"
    book = xlsxwriter.Workbook(str(real))
    book.add_worksheet().write_row(0, 0, ["name", "phone"])
    book.close()
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(real) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (200 * 1024 * 1024))
            target.writestr(item.filename, data)
    started = time.perf_counter()
    with pytest.raises(InputError, match="bomb.xlsx: refused: part xl/worksheets/sheet1.xml would unpack"):
        with open_table(bomb) as table:
            list(table.rows())
    assert time.perf_counter() - started < 5
