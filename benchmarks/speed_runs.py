"""The speed bench's timed processes: how a command is run, timed and its peak RSS taken, and the
plain copies every ratio is against (``speed.py`` runs them)."""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


import tracer

START = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f}s] {message}", file=sys.stderr, flush=True)


def fmt_rows(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1000
    return f"{n:.3g} PB"

# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

PLAIN_COPY = """
import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as src, open(sys.argv[2], "w", encoding="utf-8", newline="") as dst:
    csv.writer(dst, lineterminator="\\n").writerows(csv.reader(src))
"""

POLARS_COPY = """
import sys
import polars as pl
try:
    frame = pl.read_csv(sys.argv[1], infer_schema=False)
except TypeError:  # polars < 1.0
    frame = pl.read_csv(sys.argv[1], infer_schema_length=0)
frame.write_csv(sys.argv[2])
"""

XLSX_COPY = """
import sys
import xlsxwriter
from python_calamine import CalamineWorkbook
sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0)
book = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
out = book.add_worksheet()
for r, row in enumerate(sheet.iter_rows()):
    out.write_row(r, 0, row)
book.close()
"""

XLSX_COPY_OPENPYXL = """
import sys
import openpyxl, xlsxwriter
sheet = openpyxl.load_workbook(sys.argv[1], read_only=True).worksheets[0]
book = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
out = book.add_worksheet()
for r, row in enumerate(sheet.iter_rows(values_only=True)):
    out.write_row(r, 0, row)
book.close()
"""


@dataclass
class Run:
    seconds: float
    cpu: float
    rss_mb: float
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def error(self) -> str:
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}"


# The timed process is started by this small runner, not by the bench itself: Linux carries the
# peak RSS of a process's memory image over an exec (``signal->maxrss``), so a child forked from
# the bench (~100 MB of numpy, faker ...) would report at least the bench's size.  Forked from
# the runner (``python -I -S``, ~8 MB), it reports its own peak: floor ~8 MB.
RUNNER = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvpe(sys.argv[2], sys.argv[2:], os.environ)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
               "returncode": os.waitstatus_to_exitcode(status)}, out)
"""


def run_process(cmd: list[str], work: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end: wall-clock seconds, CPU seconds and peak RSS of that process alone."""
    out_path, err_path, result_path = work / ".stdout", work / ".stderr", work / ".result"
    result_path.unlink(missing_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", RUNNER, str(result_path), *cmd],
                              stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        outer = time.perf_counter() - t0
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    try:
        result = json.loads(result_path.read_text())
    except (OSError, ValueError):
        return Run(outer, 0.0, 0.0, proc.returncode or 1, stdout, stderr or "the runner failed")
    return Run(result["seconds"], result["cpu"], result["maxrss_kb"] / 1024, result["returncode"], stdout, stderr)


def tracer_command() -> list[str]:
    """The ``tracer`` installed beside this interpreter (the venv's), else ``python -m tracer``."""
    script = Path(sys.executable).parent / "tracer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tracer"]


def compile_bytecode() -> bool:
    """Compile the tracer package's bytecode, as installing a wheel does.

    An editable install run where ``PYTHONDONTWRITEBYTECODE`` is set (as on
    these machines) compiles every module from source in every process: a
    tenth of a 200k-row match was the compiler's.  A user's installed tracer
    has its ``.pyc`` files; so do the timed runs."""
    return compileall.compile_dir(str(Path(tracer.__file__).resolve().parent), quiet=1)


def tracer_origin() -> str:
    where = Path(tracer.__file__).resolve().parent
    text = f"tracer {getattr(tracer, '__version__', '?')} from {where}"
    try:
        head = subprocess.run(["git", "-C", str(where), "log", "-1", "--format=%h %s"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        if head:
            text += f" (git {head[:70]}{', uncommitted changes' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        pass
    return text


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------


@dataclass
class Measure:
    rows: int
    what: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def good(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    @property
    def failed(self) -> Run | None:
        return next((r for r in self.runs if not r.ok), None)

    @property
    def seconds(self) -> float | None:
        return min((r.seconds for r in self.good), default=None)

    @property
    def rss_mb(self) -> float | None:
        return max((r.rss_mb for r in self.good), default=None)

    @property
    def cpu(self) -> float | None:
        best = min(self.good, key=lambda r: r.seconds, default=None)
        return best.cpu if best else None


@dataclass
class Growth:
    rows: int
    account: str
    bytes: int
    anchors: int | None

