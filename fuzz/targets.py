"""What the fuzzer checks: any input gives a clean error or a sound result.

A clean error is a TracerError whose message is one line naming the file,
as the CLI prints it.  Anything else that escapes (IndexError, RecursionError,
an assertion below) is a bug; so is a hang or runaway memory, which
libFuzzer's -timeout and -rss_limit_mb catch around these functions.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from tracer import api, engine
from tracer.demo import read_csv, write_csv
from tracer.errors import InputError, TracerError
from tracer.match import match_leaks
from tracer.tables import SUPPORTED_SUFFIXES, open_table
from tracer.tables.base import Member
from tracer.tables.sources import Unread, archive_suffix, expand

from fuzz import inputs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPORT_ROWS = 60  # rows of each fixture an account exports: seeds stay small
ACCOUNTS = {"alice": "waybills.csv", "bob": "waybills.csv", "carol": "orders.csv"}


def check_error(exc: TracerError, path: Path) -> None:
    """The error a user would see: one line, naming the file when the file was at fault."""
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message, repr(message)
    if isinstance(exc, InputError):
        assert path.name in message, repr(message)


def read_table(path: Path) -> int:
    """Read every row of a table file; rows must be as wide as the columns and all text."""
    try:
        with open_table(path) as table:
            width, count = len(table.columns), 0
            assert width > 0 and all(isinstance(c, str) for c in table.columns)
            for row in table.rows():
                assert len(row) == width, (len(row), width)
                assert all(isinstance(cell, str) for cell in row)
                count += 1
            assert table.ragged >= 0
            return count
    except TracerError as exc:
        check_error(exc, path)
        return 0


class Matcher:
    """The whole match path against a small registry that is built once.

    The registry lives in ``work/registry`` and is reused by later runs, so
    a crash found against it replays against the same accounts, marks and
    canaries.  It is built in a scratch directory and renamed into place, so
    an interrupted build is never reused.
    """

    def __init__(self, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.home = work / "registry"
        if not self.home.exists():
            _build_registry(work, self.home)
        self.registry, self.key = api.open_with_key(self.home / "tracer.db")
        self.leaks = input_directory(work, "match")

    def exports(self) -> list[Path]:
        """The files the accounts received: the match seeds start from them."""
        return sorted(self.home.glob("export-*.csv"))

    def verdict(self, data: bytes):
        """The checked verdict on the file a fuzz input stands for, or None
        after a clean error.  Where the native engine is built, the Python
        reference reads the same file and must come to the same verdict (a
        UTF-8 CSV is then read from its bytes by the engine's reader,
        ``tables/native_csv.py``, against the csv module's rows)."""
        path = inputs.materialise(data, self.leaks)
        outcome, verdict = self._match(path)
        if engine.default_engine() == "native":
            chosen = os.environ.get(engine.ENV_VAR)
            os.environ[engine.ENV_VAR] = "python"
            try:
                reference, _ = self._match(path)
            finally:
                if chosen is None:
                    del os.environ[engine.ENV_VAR]
                else:
                    os.environ[engine.ENV_VAR] = chosen
            assert outcome == reference, "the native and Python engines disagree"
        return verdict

    def _match(self, path: Path):
        """(what a user sees: the JSON verdict or the error line, the verdict or None)."""
        try:
            verdict = match_leaks(self.registry, self.key, [path])
        except TracerError as exc:
            check_error(exc, path)
            return str(exc), None
        check_verdict(verdict)
        shown = verdict.as_json()
        shown.pop("engine")  # the one key that names the engine: the rest must be the same on both
        return json.dumps(shown, sort_keys=True), verdict

    def __call__(self, data: bytes) -> None:
        self.verdict(data)


def _build_registry(work: Path, home: Path) -> None:
    """A registry where each account exported its own slice of a fixture."""
    scratch = Path(tempfile.mkdtemp(prefix="building-", dir=work))
    registry = scratch / "tracer.db"
    api.init(registry)
    for index, (name, fixture) in enumerate(ACCOUNTS.items()):
        header, rows = read_csv(FIXTURES / fixture)
        part = rows[index * EXPORT_ROWS:(index + 1) * EXPORT_ROWS]
        source = write_csv(scratch / f"source-{name}.csv", header, part)
        api.add_account(registry, name)
        api.export(registry, source, account=name, output=scratch / f"export-{name}.csv")
        source.unlink()
    os.replace(scratch, home)


def check_verdict(verdict) -> None:
    """A verdict the CLI can print: valid probabilities, JSON without NaN."""
    assert verdict.rows == sum(f.rows for f in verdict.files)
    for suspect in verdict.candidates:
        for p in (suspect.p_value, suspect.p_marks, suspect.p_canaries):
            assert 0.0 <= p <= 1.0, p
        assert not math.isnan(suspect.log10_p_value) and suspect.log10_p_value <= 0.0
        assert not suspect.accused or suspect.p_value <= verdict.fpr
    json.dumps(verdict.as_json(), allow_nan=False)


def input_directory(work: Path, target: str) -> Path:
    """Where a target writes the file each input stands for (one per kind,
    overwritten input after input): one fuzzing process per work directory."""
    directory = work / "inputs" / target
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def read_input(data: bytes, directory: Path) -> int:
    """The table target: a fuzz input read as the file it stands for (an
    archive: every member it yields, each checked like a file)."""
    path = inputs.materialise(data, directory)
    if archive_suffix(path.name):
        return read_archive(path)
    assert path.suffix in SUPPORTED_SUFFIXES
    return read_table(path)


def read_archive(path: Path) -> int:
    """Rows of every table member; what is left out must say why in one line."""
    count = 0
    try:
        for item in expand([path]):
            if isinstance(item, Unread):
                assert item.reason and "\n" not in item.reason and item.label.startswith(path.name), item
            else:
                assert isinstance(item.table, Member) and item.archive[0] == str(path)
                count += read_table(item.table)
    except TracerError as exc:
        check_error(exc, path)
    return count
