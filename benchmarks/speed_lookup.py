"""The speed bench's exposure lookups: the query plans the installed registry runs, and the time per
1,000 digests in registries of 10^5 to 10^8 exposure rows."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speed_rounds import find_connection
from speed_runs import log

from tracer import api

LOOKUP_DIGESTS = 400_000  # digests looked up per timing: half present, half absent


INDEXED = re.compile(r"\bSEARCH\b.*\bUSING\b.*\b(PRIMARY KEY|INDEX)\b", re.I)
SCAN = re.compile(r"\bSCAN\b", re.I)


@dataclass
class Plan:
    name: str
    sql: str
    details: list[str]

    @property
    def indexed(self) -> bool:
        return any(INDEXED.search(d) for d in self.details) and not any(SCAN.search(d) for d in self.details)


def lookup_plans(path: Path) -> list[Plan]:
    """``EXPLAIN QUERY PLAN`` of the SQL the installed Registry runs to look digests up."""
    registry = api.open_registry(path)
    plans: list[Plan] = []
    try:
        conn = find_connection(registry)
        if conn is None:
            return plans
        probes = {
            "exposure_of": lambda: registry.exposure_of([11, 22, 33], 1),
            "canaries_of": lambda: registry.canaries_of([11, 22, 33], 1),
            "exported": lambda: registry.exported(11),
        }
        for name, probe in probes.items():
            statements: list[str] = []
            conn.set_trace_callback(statements.append)
            try:
                probe()
            except AttributeError:
                continue  # the installed Registry has no such method
            finally:
                conn.set_trace_callback(None)
            for sql in statements:
                if sql.lstrip().upper().startswith(("SELECT", "WITH")) and re.search(
                        r"\b(exposure|exposure_blocks|canaries)\b", sql):  # exposure_blocks: SQLite's sorted runs
                    details = [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
                    plans.append(Plan(name, re.sub(r"\s+", " ", sql)[:90], details))
        if not any(re.search(r"\bexposure(_blocks)?\b", p.sql) for p in plans):
            # The probes read no exposure (a run's filter turns absent digests away before any block is read):
            # the queries the schema invites, the old table's and the runs' blocks'.
            for sql in ("SELECT digest, export_id FROM exposure WHERE digest IN (11, 22, 33)",
                        "SELECT digests, export_ids FROM exposure_blocks WHERE id IN (11, 22, 33)"):
                with contextlib.suppress(sqlite3.OperationalError):  # a registry before the runs has no blocks
                    plans.append(Plan("generic", sql, [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]))
    finally:
        registry.close()
    return plans


@dataclass
class Lookup:
    exposure_rows: int
    build_seconds: float
    file_bytes: int
    seconds: float
    digests: int
    found: int
    expected: int

    @property
    def ms_per_1k(self) -> float:
        return self.seconds / self.digests * 1e6


def lookup_timings(work: Path, stages: list[int], seed: int) -> list[Lookup]:
    """A registry filled through ``Registry.record_export`` with synthetic exposure digests,
    each export's digests random over the whole range; 400k digests looked up at each stage."""
    path = work / "lookup.db"
    api.init(path)
    api.add_account(path, "synthetic")
    registry, ring = api.open_with_key(path)
    out: list[Lookup] = []
    try:
        conn = find_connection(registry)
        if conn is not None:  # setup only: no fsync, a larger page cache while filling
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-262144")
        account = registry.account("synthetic")
        rng = np.random.default_rng(seed)
        per_export = 200_000
        sample: list[np.ndarray] = []
        done = 0
        build = 0.0
        for stage in stages:
            t = time.perf_counter()
            while done < stage:
                size = min(per_export, stage - done)
                digests = np.sort(rng.integers(-2**63, 2**63 - 1, size=size, dtype=np.int64))
                sample.append(rng.choice(digests, size=min(size, 4000), replace=False))
                registry.record_export(account, ring.current_id, ring.current, source="synthetic", output="synthetic", rows=size,
                                       marked_cells=0, canary_rows=0, canaries={},
                                       exposure=[digests[i:i + 50_000] for i in range(0, size, 50_000)])
                done += size
            build += time.perf_counter() - t
            if conn is not None:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pool = np.concatenate(sample)
            present = rng.choice(pool, size=min(len(pool), LOOKUP_DIGESTS // 2), replace=False)
            absent = rng.integers(-2**63, 2**63 - 1, size=LOOKUP_DIGESTS - len(present), dtype=np.int64)
            query = np.concatenate([present, absent])
            rng.shuffle(query)
            query_list = query.tolist()
            t = time.perf_counter()
            found = registry.exposure_of(query_list, ring.current_id)
            seconds = time.perf_counter() - t
            out.append(Lookup(done, build, path.stat().st_size, seconds, len(query_list), len(found), len(present)))
            log(f"  lookup: {len(query_list):,} digests against {done:,} exposure rows: {seconds:.2f} s "
                f"({out[-1].ms_per_1k:.2f} ms per 1k digests; filled in {build:.0f} s so far)")
    finally:
        registry.close()
    return out

