"""Progress a person can read: bytes read of a total, time left, files done.

Shown on stderr only when it is a terminal (a real pseudo-terminal here,
driving the installed command as a user does), never with ``--json``, never
when stderr is a pipe or a file (the other CLI tests assert stderr exactly).
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys

from .test_user_leaks import convicting  # noqa: F401 - the shared fixture: bob's convicting export


def on_terminal(*args: str) -> tuple[int, str, str]:
    """Run ``python -m tracer ARGS`` with stderr on a pseudo-terminal; (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tracer", *args], stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL, env={**os.environ, "TERM": "xterm", "COLUMNS": "160"})
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    stdout = proc.stdout.read().decode()
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, stdout, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode("utf-8", "replace"))


def done_of_total(terminal: str) -> float:
    """The last 'done/total kB' the bar showed, when done equals the total (kB)."""
    finished = re.findall(r"([\d.]+)/\1 kB", terminal)
    assert finished, terminal
    return float(finished[-1])


def test_match_shows_bytes_files_and_time_left_on_a_terminal(convicting, tmp_path):
    registry, clean = convicting
    folder = tmp_path / "leaks"
    folder.mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        (folder / name).write_bytes(clean)
    code, stdout, terminal = on_terminal("--registry", str(registry), "match", str(folder))
    assert code == 0 and "bob" in stdout
    assert "reading leaks" in terminal and "ETA" in terminal and "file 3/3" in terminal
    assert done_of_total(terminal) == round(3 * len(clean) / 1e3, 1)
    code, stdout, terminal = on_terminal("--registry", str(registry), "match", str(folder), "--json")
    assert code == 0 and terminal == ""  # --json: nothing but the JSON, and no progress


def test_export_shows_bytes_of_its_source(convicting, tmp_path):
    registry, clean = convicting
    source = tmp_path / "source.csv"
    source.write_bytes(clean)
    code, stdout, terminal = on_terminal("--registry", str(registry), "export", str(source), "--account", "alice",
                                         "--output", str(tmp_path / "alice.csv"))
    assert code == 0 and "Exported" in stdout
    assert "exporting source.csv" in terminal and "ETA" in terminal
    assert done_of_total(terminal) == round(len(clean) / 1e3, 1)
