#!/usr/bin/env python
"""Do shared decoys fit their neighbours as per-account canaries do? A diagnosis (issue 14).

Exports a world once per account through ``tracer.api`` and records, for every
decoy row the exporter writes, whether it is a shared decoy or an account's own
canary, the rows it sits between, and whether its sequential identifier and
its time lie between theirs (fitted) or not (fresh / drawn near a recent row).
Then it counts, per kind of decoy, how many distinct decoys and how many
distinct *gaps* (records followed) the bench's pooled sample holds: the
realism bench pools every account's export, and the versions of one shared
slot all sit in the same gap.

Run:  python benchmarks/decoy_fit.py [--world orders|waybills|us-shop|cn-estates] [--accounts 6] [--rows 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import world_cn
import world_us
from realism_data import read_csv, write_csv
from tracer import api, export
from tracer.columns import recognise

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEQUENCE = re.compile(r"(\D*)(\d+)(\D*)")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


def _number(text: str) -> int | None:
    match = SEQUENCE.fullmatch(text.strip())
    return int(match.group(2)) if match else None


def _time(text: str) -> datetime | None:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def between(value, low, high) -> str:
    """'fitted' when strictly between (or on) the neighbours, 'outside' else, 'n/a' when not comparable."""
    if value is None or low is None or high is None or high < low:
        return "n/a"
    return "fitted" if low <= value <= high else "outside"


def record_decoys(log: list) -> None:
    """Wrap the exporter's two decoy builders so that each decoy is logged with its neighbours."""
    shared, own = export._Exporter.shared_after, export._Exporter.canary_after

    def shared_after(self, before, anchors, after):
        made = shared(self, before, anchors, after)
        if made is not None:
            log.append(("shared", self.account.name, list(before), None if after is None else list(after),
                        list(made[0])))
        return made

    def canary_after(self, before, after, seed):
        row = own(self, before, after, seed)
        log.append(("own", self.account.name, list(before), None if after is None else list(after), list(row)))
        return row

    export._Exporter.shared_after, export._Exporter.canary_after = shared_after, canary_after


def source_for(world: str, rows: int, seed: int, workdir: Path) -> Path:
    if world in ("orders", "waybills"):
        return FIXTURES / f"{world}.csv"
    module = {"us-shop": world_us, "cn-estates": world_cn}[world]
    return write_csv(workdir / f"{world}.csv", module.HEADER, module.make_rows(rows, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="orders")
    parser.add_argument("--accounts", type=int, default=6)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=4, help="decoys of each kind shown beside their neighbours")
    args = parser.parse_args(argv)
    log: list = []
    record_decoys(log)
    os.environ["TRACER_KEY"] = hashlib.sha256(f"canary-realism-{args.seed}".encode()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="tracer-decoy-fit-") as tmp:
        work = Path(tmp)
        source = source_for(args.world, args.rows, args.seed, work)
        header, _ = read_csv(source)
        registry = work / "tracer.db"
        api.init(registry)
        for i in range(args.accounts):
            api.add_account(registry, f"branch-{i:02d}")
            api.export(registry, source, account=f"branch-{i:02d}", output=work / f"out-{i}.csv")
        schema = recognise(header, read_csv(source)[1][:200])
    ids = [c.index for c in schema.columns if c.kind == "id"]
    times = [c.index for c in schema.columns if c.kind == "datetime"]
    print(f"{args.world}: {args.accounts} accounts; identifier columns {[header[i] for i in ids]}, "
          f"time columns {[header[i] for i in times]}")
    report(log, header, ids, times, args.show)
    return 0


def report(log: list, header: list[str], ids: list[int], times: list[int], show: int) -> None:
    for kind in ("own", "shared"):
        entries = [e for e in log if e[0] == kind]
        print(f"\n{kind} decoys: {len(entries)} rows, {len({tuple(e[4]) for e in entries})} distinct, "
              f"in {len({tuple(e[2]) for e in entries})} distinct gaps (records followed); "
              f"after=None {sum(e[3] is None for e in entries)}")
        for index in ids:
            fit = Counter(between(_number(e[4][index]), _number(e[2][index]),
                                  _number(e[3][index]) if e[3] else None) for e in entries)
            print(f"  {header[index]}: {dict(fit)}")
        for index in times:
            fit = Counter(between(_time(e[4][index]), _time(e[2][index]),
                                  _time(e[3][index]) if e[3] else None) for e in entries)
            print(f"  {header[index]}: {dict(fit)}")
        per_gap = defaultdict(set)
        for e in entries:
            per_gap[tuple(e[2])].add(tuple(e[4]))
        sizes = Counter(len(v) for v in per_gap.values())
        print(f"  distinct decoys per gap: {dict(sorted(sizes.items()))}")
        for e in entries[:show]:
            cols = ids + times
            print("   ", " | ".join(f"{e[2][i]} < {e[4][i]} < {e[3][i] if e[3] else None}" for i in cols))


if __name__ == "__main__":
    sys.exit(main())
