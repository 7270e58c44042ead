"""Run one fuzz target under atheris (libFuzzer):

    python -m fuzz tables|match [libFuzzer options] [CORPUS_DIR ... | INPUT_FILE ...]

``tables`` reads arbitrary files with every table reader; ``match`` runs the
whole matcher on them against a small registry kept in $TRACER_FUZZ_WORK
(default fuzz/work).  Give corpus directories to fuzz (see fuzz/run.sh), or
input files (e.g. a crash-* artifact) to replay them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris

TARGETS = ("tables", "match")
# Whose code feeds coverage back to the fuzzer: ours and the parsers under it.
INSTRUMENTED = ["tracer", "fuzz", "openpyxl", "xlrd", "et_xmlfile"]


def work_directory() -> Path:
    default = Path(__file__).resolve().parent / "work"
    return Path(os.environ.get("TRACER_FUZZ_WORK", default))


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz {{{'|'.join(TARGETS)}}} [libFuzzer options] [corpus or inputs]")
    target = sys.argv.pop(1)
    with atheris.instrument_imports(include=INSTRUMENTED):
        import openpyxl  # noqa: F401 - imported lazily by tracer; instrumented here
        import xlrd  # noqa: F401

        from fuzz import targets
    if target == "match":
        test_one = targets.Matcher(work_directory())
    else:
        scratch = targets.input_directory(work_directory(), "tables")

        def test_one(data: bytes) -> None:
            targets.read_input(data, scratch)

    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
