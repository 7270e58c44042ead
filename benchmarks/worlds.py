"""The registries the detection bench matches against: accounts exporting windows of a source.

*Main*: 40 accounts over both bundled fixtures (34 branches, 5 regional
accounts, one HQ).  *Big*: 15,000 waybills and 20,000 foreign ones for the
five insiders.  *Gang* (``gang_world.py``): records made by code that shares
nothing with tracer nor with the fixtures' generator, exported whole by
several accounts, for the attacks of insiders holding the same records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import FIXTURES, log

import attacks as A
from attacks import Table

from tracer import api



@dataclass
class Data:
    """One source table, its foreign counterpart and every account's export of it."""

    name: str
    source: Table
    foreign: Table
    id_col: int
    source_ids: set[str]
    exports: dict[str, Table] = field(default_factory=dict)  # account -> its export, as written
    marks_only: dict[str, Table] = field(default_factory=dict)  # ... with its canaries removed
    windows: dict[str, list[int]] = field(default_factory=dict)  # account -> source row indexes


@dataclass
class World:
    registry: Path
    work: Path
    data: dict[str, Data]
    accounts: list[str]


def window(n_rows: int, start: int, width: int) -> list[int]:
    return [(start + i) % n_rows for i in range(width)]


def build_world(work: Path, name: str, data: dict[str, Data], windows: dict[str, Callable[[int], list[int]]]) -> World:
    """A registry in ``work/name`` where every account exports its window of every table."""
    directory = work / name
    directory.mkdir()
    registry = directory / "tracer.db"
    api.init(registry)
    for account in windows:
        api.add_account(registry, account)
    for table in data.values():
        header, rows = table.source
        for account, rows_of in windows.items():
            index = rows_of(len(rows))
            query = A.write_csv(directory / f"query-{table.name}-{account}.csv", (header, [rows[i] for i in index]))
            out = directory / f"export-{table.name}-{account}.csv"
            api.export(registry, query, account=account, output=out)
            exported = A.read_csv(out)
            table.windows[account] = index
            table.exports[account] = exported
            table.marks_only[account] = A.keep_ids(exported, table.source_ids, table.id_col)
            query.unlink()
        log(f"{name}: {len(windows)} accounts exported {table.name}")
    return World(registry, directory, data, list(windows))


def load(name: str, source: Table, foreign: Table) -> Data:
    id_col = A.id_column(source)
    return Data(name, source, foreign, id_col, {r[id_col] for r in source[1]})


MAIN_BRANCHES = 34
REGIONAL = 5


def main_windows() -> dict[str, Callable[[int], list[int]]]:
    windows: dict[str, Callable[[int], list[int]]] = {}
    for k in range(MAIN_BRANCHES):
        windows[f"branch-{k:02d}"] = lambda n, k=k: window(n, k * n // MAIN_BRANCHES, n // 5)
    for k in range(REGIONAL):
        windows[f"region-{k}"] = lambda n, k=k: window(n, k * n // 15, 4 * n // 5)
    windows["hq"] = lambda n: list(range(n))
    return windows


def setup_main(work: Path, name: str = "main") -> World:
    waybills = load("waybills", A.read_csv(FIXTURES / "waybills.csv"), A.read_csv(FIXTURES / "foreign_waybills.csv"))
    orders = load("orders", A.read_csv(FIXTURES / "orders.csv"), A.read_csv(FIXTURES / "foreign_orders.csv"))
    return build_world(work, name, {"waybills": waybills, "orders": orders}, main_windows())


BIG_SOURCE = 15_000
BIG_FOREIGN = 20_000
BIG_ACCOUNTS = 40
BIG_WIDTH = 3_000
INSIDER_ROWS = (3000, 1200, 400, 150, 60)


def setup_big(work: Path, seed: int) -> World:
    """15,000 own waybills, 20,000 foreign ones, 40 accounts with 3,000-row windows."""
    import make_fixtures

    header, own = A.read_csv(FIXTURES / "waybills.csv")
    _, foreign = A.read_csv(FIXTURES / "foreign_waybills.csv")
    used = {r[i] for r in own + foreign for i in (2, 5)}
    ids = {r[0] for r in own + foreign}
    log(f"big: generating {BIG_SOURCE - len(own)} own and {BIG_FOREIGN - len(foreign)} foreign waybills")
    more_own = [r for r in make_fixtures.make_waybills(BIG_SOURCE - len(own) + 50, 900_000 + seed, "YT", used)
                if r[0] not in ids][: BIG_SOURCE - len(own)]
    more_foreign = [r for r in make_fixtures.make_waybills(BIG_FOREIGN - len(foreign) + 50, 800_000 + seed, "SF", used)
                    if r[0] not in ids][: BIG_FOREIGN - len(foreign)]
    source = (header, own + more_own)
    data = load("waybills", source, (header, foreign + more_foreign))
    stride = BIG_SOURCE // BIG_ACCOUNTS
    windows = {f"site-{k:02d}": (lambda n, k=k: window(n, k * stride, BIG_WIDTH)) for k in range(BIG_ACCOUNTS)}
    return build_world(work, "big", {"waybills": data}, windows)

