#!/usr/bin/env python
"""Instruction counts of ``tracer export`` / ``tracer match`` beside a plain csv copy, per engine.

Run:  python benchmarks/instructions.py [--rows 5000] [--accounts 100]

Seconds on a machine shared by many are noise; the instructions a process
executes (``valgrind --tool=callgrind``, the ``summary:`` line of its output)
are repeatable to a fraction of a percent.  Every command runs as a whole
process, as a user runs it, so interpreter start-up and imports count
(they are the same for the plain copy, which starts Python too).  The inputs
are ``benchmarks/speed.py``'s waybills.  Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import speed_inputs  # noqa: E402
import speed_rounds  # noqa: E402
import speed_runs  # noqa: E402


def instructions(cmd: list[str], work: Path, env: dict[str, str]) -> int:
    """Instructions the process executed, counted by callgrind.

    OpenBLAS's worker threads wait for work by spinning, and callgrind runs one thread at a time: a
    match's one-row matrix product counted ~2.9 G instructions of that waiting (of 8 G, a 40k-row leak).
    One BLAS thread here counts what runs."""
    out = work / "callgrind.out"
    env = {**env, "OPENBLAS_NUM_THREADS": "1"}
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], cwd=work, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            out.unlink()
            return int(line.split()[1])
    raise SystemExit(f"no summary line in callgrind's output for {cmd}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000, help="waybills exported and leaked (default 5000)")
    parser.add_argument("--accounts", type=int, default=100, help="accounts in the registry (default 100)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    speed_runs.compile_bytecode()  # as an installed tracer has it
    work = Path(tempfile.mkdtemp(prefix="tracer-instructions-"))
    try:
        src = work / "src.csv"
        speed_inputs.Waybills(min(args.rows, 5000), 7).write_csvs({args.rows: src})
        registry = work / "tracer.db"
        speed_rounds.setup_registry(registry, args.accounts)
        tracer = speed_runs.tracer_command()
        env = dict(os.environ)
        counts = {"plain csv copy": instructions(
            [sys.executable, "-c", speed_runs.PLAIN_COPY, str(src), str(work / "copy.csv")], work, env)}
        for n, engine in enumerate(("native", "python")):
            env = {**os.environ, "TRACER_ENGINE": engine}
            out = work / f"export-{engine}.csv"
            counts[f"export, {engine} engine"] = instructions(tracer + [
                "--registry", str(registry), "export", str(src), "--account", speed_rounds.account_name(n),
                "--output", str(out), "--json"], work, env)
        leak = work / "leak.csv"
        speed_inputs.write_leak(work / "export-native.csv", leak, args.rows, random.Random(1).randrange(1 << 30))
        for engine in ("native", "python"):
            env = {**os.environ, "TRACER_ENGINE": engine}
            counts[f"match, {engine} engine"] = instructions(
                tracer + ["--registry", str(registry), "match", str(leak), "--json"], work, env)
        plain = counts["plain csv copy"]
        print(f"instructions (callgrind), {args.rows:,} waybills, {args.accounts:,} accounts")
        for what, count in counts.items():
            print(f"  {what:24} {count / 1e9:8.2f} G   {count / plain:6.2f}× plain   "
                  f"{count / args.rows / 1e3:8.1f} k/row")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
