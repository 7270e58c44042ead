"""Seed corpora, generated from the bundled fixtures (nothing binary is committed).

Each seed is a few rows of a fixture (or, for the match target, of an
account's export) written as every kind of file tracer reads: so the fuzzer
starts from inputs that reach deep into every reader and, for the match
target, from leaks that actually hit the registry.

    python -m fuzz.seeds WORK     # writes WORK/seeds/tables and WORK/seeds/match
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tracer.demo import read_csv
from tracer.tables import DateText, NumberText, TableFormat, TableWriter

from fuzz import inputs
from fuzz.targets import FIXTURES, Matcher
from tests.sheets import excel_value, write_xls, write_xlsx

SEED_ROWS = 12  # rows per seed: small inputs mutate and run fast

# Files written by tracer's own writers: a few encodings, delimiters and
# layouts, and an .xlsx with inline strings (xlsxwriter's constant_memory).
_TRACER_FORMATS = {
    "csv": TableFormat(kind="csv", encoding="utf-8", lineterminator="\n"),
    "tsv": TableFormat(kind="csv", encoding="utf-16", delimiter="\t", quoting=csv.QUOTE_ALL),
    "txt": TableFormat(kind="csv", encoding="gb18030", delimiter="----", has_header=False),
    "json": TableFormat(kind="json", lineterminator="\n"),
    "jsonl": TableFormat(kind="jsonl", lineterminator="\n"),
    "xlsx": TableFormat(kind="xlsx", sheet="Sheet1"),
}
# Workbooks as Excel writes them: shared strings (.xlsx) and BIFF8 (.xls).
_EXCEL_WRITERS = {"xlsx": write_xlsx, "xls": write_xls}


def typed_cell(cell: str) -> str:
    """The cell as a JSON or xlsx reader would give it back, typed."""
    value = excel_value(cell)
    if isinstance(value, (int, float)):
        return NumberText(cell)
    if isinstance(value, dt.datetime):
        return DateText(cell)
    return cell


def written_by_tracer(kind: str, header: list[str], rows: list[list[str]]) -> bytes:
    """One table as tracer's TableWriter writes it in one kind."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"seed{inputs.KINDS[kind]}"
        with TableWriter(path, _TRACER_FORMATS[kind], header) as writer:
            for row in rows:
                writer.write_row([typed_cell(c) for c in row])
        return path.read_bytes()


def written_by_excel(kind: str, header: list[str], rows: list[list[str]]) -> bytes:
    """One table as Excel would save it, numbers and dates typed."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"seed{inputs.KINDS[kind]}"
        _EXCEL_WRITERS[kind](path, [header] + [[excel_value(c) for c in row] for row in rows])
        return path.read_bytes()


def table_inputs(header: list[str], rows: list[list[str]]) -> Iterator[bytes]:
    """Fuzz inputs for one table: every file kind, the workbooks' XML parts
    (the sheet with inline strings, so it reads in the template workbook), and
    a CSV with ragged rows."""
    for kind in _TRACER_FORMATS:
        yield inputs.encode(kind, written_by_tracer(kind, header, rows))
    for kind in _EXCEL_WRITERS:
        yield inputs.encode(kind, written_by_excel(kind, header, rows))
    inline = inputs.workbook_parts(written_by_tracer("xlsx", header, rows))
    shared = inputs.workbook_parts(written_by_excel("xlsx", header, rows))
    yield inputs.encode("sheet", inline[inputs.SHEET_PART])
    yield inputs.encode("strings", shared[inputs.STRINGS_PART])
    yield inputs.encode("csv", ragged_csv(header, rows))
    member = written_by_tracer("csv", header, rows)
    for kind in ARCHIVERS:
        yield inputs.encode(kind, archived(kind, {"群文件/leak.csv": member, "readme.txt": b"not a table"}))


def archived(kind: str, members: dict[str, bytes]) -> bytes:
    """An archive of ``kind`` (zip, tar, 7z) holding ``members``, as bytes."""
    buffer = io.BytesIO()
    ARCHIVERS[kind](buffer, members)
    return buffer.getvalue()


def _zip(buffer, members):
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _tar(buffer, members):
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _7z(buffer, members):
    import py7zr

    with py7zr.SevenZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(data, name)


ARCHIVERS = {"zip": _zip, "tar": _tar, "7z": _7z}


def ragged_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """CSV where every fourth row lost its last cell (TableWriter refuses to write that)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(row[:-1] if i % 4 == 1 else row for i, row in enumerate(rows))
    return buffer.getvalue().encode("utf-8")


def write_corpus(directory: Path, seeds: Iterator[bytes]) -> int:
    """Replace the directory's seeds, named by their digest as libFuzzer names
    corpus files (workbooks carry their creation time, so old seeds would pile up)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    count = 0
    for data in seeds:
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
        count += 1
    return count


def fixture_tables() -> Iterator[tuple[list[str], list[list[str]]]]:
    for path in sorted(FIXTURES.glob("*.csv")):
        header, rows = read_csv(path)
        yield header, rows[:SEED_ROWS]


def export_tables(matcher: Matcher) -> Iterator[tuple[list[str], list[list[str]]]]:
    for path in matcher.exports():
        header, rows = read_csv(path)
        yield header, rows[:SEED_ROWS]


def write_seeds(work: Path, matcher: Matcher) -> dict[str, Path]:
    """Both targets' seed corpora under ``work/seeds``; their directories."""
    corpora = {"tables": fixture_tables(), "match": export_tables(matcher)}
    out = {}
    for target, tables in corpora.items():
        out[target] = work / "seeds" / target
        write_corpus(out[target], (seed for table in tables for seed in table_inputs(*table)))
    return out


if __name__ == "__main__":
    work = Path(sys.argv[1])
    for target, directory in write_seeds(work, Matcher(work)).items():
        print(f"{target}: {sum(1 for _ in directory.iterdir())} seeds in {directory}")
