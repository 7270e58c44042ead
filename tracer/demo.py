"""``tracer demo``: the whole story on the bundled fixtures, in a temporary directory.

A courier's four branch accounts export overlapping sets of waybills.  One of
them (``nanjing-wang``) sells 300 rows; the reseller keeps only the
recipient's name, phone and address, cleans them (full-width to half-width,
phones to digits), writes them as a headerless GBK ``----`` dump and buries
them among 1,000 rows of another courier's data.  ``tracer match`` names the
account from that dump alone.  A second dump, taken straight from the
database and never exported, accuses nobody.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import re
import tempfile
import time
import unicodedata
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from rich.console import Console

from . import api
from .errors import TracerError
from .terminal import format_p, print_verdict

# The demo's tables travel inside the package (gzipped copies that
# fixtures/make_fixtures.py writes next to the repo's CSVs), so the demo runs
# from an installed wheel or sdist, far from any source checkout.
DEMO_DATA = resources.files("tracer") / "data"
ACCOUNTS = (
    ("nanjing-li", "Nanjing branch, clerk Li", slice(0, 1500)),
    ("nanjing-wang", "Nanjing branch, clerk Wang", slice(500, 2000)),
    ("suzhou-zhang", "Suzhou franchise, Zhang", slice(1500, 3000)),
    ("hangzhou-chen", "Hangzhou franchise, Chen", slice(0, 3000, 2)),
)
LEAKER = "nanjing-wang"
LEAKED_ROWS = 300
FOREIGN_ROWS = 1000
RECIPIENT = ("收件人", "收件人电话", "收件地址")


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def demo_table(name: str) -> tuple[list[str], list[list[str]]]:
    """A bundled table (``waybills.csv``, ``foreign_waybills.csv``) as header and rows."""
    resource = DEMO_DATA / f"{name}.gz"
    if not resource.is_file():
        raise TracerError(f"demo data {name}.gz is missing from the installed package (a broken install?)")
    text = gzip.decompress(resource.read_bytes()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _reseller_dump(path: Path, header: list[str], rows: list[list[str]], foreign: list[list[str]],
                   foreign_header: list[str], rng: random.Random) -> None:
    """What a chat-group reseller makes of stolen rows: three columns, cleaned, GBK, '----'."""
    keep = [header.index(c) for c in RECIPIENT]
    keep_foreign = [foreign_header.index(c) for c in RECIPIENT]
    lines = [[row[i] for i in keep] for row in rows] + [[row[i] for i in keep_foreign] for row in foreign]
    rng.shuffle(lines)
    cleaned = []
    for name, phone, address in lines:
        phone = re.sub(r"\D", "", phone)
        cleaned.append("----".join(unicodedata.normalize("NFKC", v).strip() for v in (name, phone, address)))
    path.write_bytes(("\r\n".join(cleaned) + "\r\n").encode("gb18030"))


@contextmanager
def _workdir(keep: Path | None):
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
    else:
        with tempfile.TemporaryDirectory(prefix="tracer-demo-") as name:
            yield Path(name)


def run_demo(console: Console, keep: Path | None = None) -> None:
    started = time.perf_counter()
    rng = random.Random(20241111)
    header, source_rows = demo_table("waybills.csv")
    foreign_header, foreign_rows = demo_table("foreign_waybills.csv")
    with _workdir(keep) as work:
        registry = work / "tracer.db"
        console.print(f"[bold]1. The security team sets tracer up[/bold] in {work}")
        api.init(registry)
        for name, note, _ in ACCOUNTS:
            api.add_account(registry, name, note)
        console.print(f"   registry {registry.name}, key {registry.stem}.key (mode 0600), "
                      f"{len(ACCOUNTS)} accounts: {', '.join(a[0] for a in ACCOUNTS)}")

        console.print("[bold]2. Staff export waybills[/bold] (overlapping branches; each file is marked for its account)")
        exports = {}
        for name, _, rows in ACCOUNTS:
            query = work / f"query-{name}.csv"
            write_csv(query, header, source_rows[rows])
            result = api.export(registry, query, account=name, output=work / f"export-{name}.csv")
            exports[name] = result
            console.print(f"   {name:14} export #{result.export_id}: {result.rows} rows, "
                          f"{result.canaries} canaries ({result.shared_canaries} shared), "
                          f"{result.marked_cells} marked cells")

        console.print(f"[bold]3. A leak surfaces[/bold] in a chat group: {LEAKED_ROWS} of {LEAKER}'s rows, "
                      f"recipient name/phone/address only, cleaned, headerless GBK '----' dump, "
                      f"mixed with {FOREIGN_ROWS} rows of another courier's data")
        out_header, out_rows = read_csv(Path(exports[LEAKER].output))
        stolen = rng.sample(out_rows, LEAKED_ROWS)
        leak = work / "leak-chatgroup.txt"
        _reseller_dump(leak, out_header, stolen, rng.sample(foreign_rows, FOREIGN_ROWS), foreign_header, rng)
        console.print("   first lines: " + " | ".join(leak.read_bytes().decode("gb18030").splitlines()[:2]))

        console.print("[bold]4. The investigator runs[/bold] tracer match leak-chatgroup.txt")
        verdict = api.match(registry, [leak])
        print_verdict(verdict, console)
        for suspect in verdict.suspects:
            console.print(f"   Evidence against {suspect.account}: p = {format_p(suspect.p_value, suspect.log10_p_value)}; "
                          f"{suspect.canary_hits} canary row(s) found; "
                          f"{suspect.marks_agreeing} of {suspect.marks_observed} marks agree with its codeword"
                          + (" (far fewer than chance: its variants were flipped)" if suspect.marks_tail == "disagree"
                             else ""))
            for hit in suspect.canary_rows[:3]:
                console.print(f"     canary in {hit.file} row {hit.row_number}: {' / '.join(hit.row)} "
                              f"(export #{hit.export_id})")

        console.print("[bold]5. A dump straight from the database[/bold] (never exported) accuses nobody")
        innocent = work / "leak-from-database.txt"
        _reseller_dump(innocent, header, rng.sample(source_rows, LEAKED_ROWS),
                       rng.sample(foreign_rows, FOREIGN_ROWS), foreign_header, rng)
        print_verdict(api.match(registry, [innocent]), console)
    console.print(f"Done in {time.perf_counter() - started:.1f} s.")
