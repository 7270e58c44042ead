"""Wide leaks: time and memory linear in cells, and bounded where a cap is honest.

Only the first MAX_COLUMNS columns of a file are looked at (chosen before
any evidence, so no p-value depends on it); the rest are reported as not
looked at.  Each run is a child process so its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from tracer import match

from .test_user_leaks import convicting  # noqa: F401 - the shared fixture: bob's convicting export

# The CLI in a child process, then its own peak memory (MB) and CPU time (s) on
# stderr's last line: CPU time, because wall time on a shared machine says little.
CHILD = (
    "import os, re, sys\n"
    "from tracer.cli import app\n"
    "try:\n"
    "    app(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "status = open('/proc/self/status').read()\n"
    "times = os.times()\n"
    "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024, times.user + times.system, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_child(*args) -> tuple[int, str, list[str], int, float]:
    """(exit code, stdout, warnings, peak MB, CPU seconds); a hang fails on the timeout."""
    done = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True, text=True, timeout=300)
    *warnings, last = done.stderr.splitlines()
    peak, seconds = last.split()
    return done.returncode, done.stdout, warnings, int(peak), float(seconds)


def phones(rng, rows: int, columns: int) -> list[list[str]]:
    return rng.integers(13_000_000_000, 19_999_999_999, size=(rows, columns)).astype(str).tolist()


def test_300_rows_by_10000_columns_of_phones_convicts_quickly(convicting, tmp_path):
    registry, clean = convicting
    header, *rows = clean.decode("utf-8").splitlines()
    extra = 10_000 - len(header.split(","))
    more = phones(np.random.default_rng(1), 300, extra)
    lines = [header + "," + ",".join(f"电话{i}" for i in range(extra))]
    lines += [row + "," + ",".join(cells) for row, cells in zip(rows[:300], more)]
    leak = tmp_path / "wide.csv"
    leak.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, stdout, warnings, peak_mb, seconds = run_child("--registry", registry, "match", leak, "--json")
    assert code == 0, warnings
    verdict = json.loads(stdout)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert verdict["files"][0]["columns_not_read"] == 10_000 - match.MAX_COLUMNS
    assert warnings == [f"Warning: wide.csv: columns {match.MAX_COLUMNS + 1}–10,000 of 10,000 not looked at "
                        f"(only the first {match.MAX_COLUMNS} are)"]
    print(f"300 x 10,000: {seconds:.1f} s CPU, {peak_mb} MB")
    assert peak_mb < 300 and seconds < 10


def test_100_rows_by_100000_columns_is_a_clean_result(convicting, tmp_path):
    registry, _ = convicting
    rng = np.random.default_rng(2)
    leak = tmp_path / "wider.txt"
    with open(leak, "w", encoding="utf-8") as handle:
        handle.write(",".join(f"c{i}" for i in range(100_000)) + "\n")
        rows = [",".join(row) + "\n" for row in phones(rng, 4, 100_000)]
        handle.writelines(rows[i % 4] for i in range(100))  # 120 MB; four distinct rows keep it quick to make
    code, stdout, warnings, peak_mb, seconds = run_child("--registry", registry, "match", leak, "--json")
    assert code == 0, warnings
    verdict = json.loads(stdout)
    assert verdict["suspects"] == [] and verdict["files"][0]["columns_not_read"] == 100_000 - match.MAX_COLUMNS
    print(f"100 x 100,000: {seconds:.1f} s CPU, {peak_mb} MB")
    assert peak_mb < 300 and seconds < 10
