"""The realism bench's data: each world exported once per account through tracer, rows labelled.

A row is real iff its identifier is one of the source's; every other row is a
canary, and its *donor* (the real row it shares the most with, within
``MAX_SHIFT`` rows) is found for grouping: a canary and its donor never sit
on both sides of a cross-validation split.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from tracer import api
from tracer.columns import phone_anchor, recognise

MAX_SHIFT = 64  # how far (rows) a canary's donor is looked for
CJK = re.compile(r"[\u4e00-\u9fff]")


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@dataclass
class Row:
    cells: list[str]
    export: int  # which export file
    position: int  # row number in that file
    canary: bool
    group: str = ""  # source record id (a canary: its donor's)
    donor: list[str] | None = None


@dataclass
class Dataset:
    name: str
    made_by: str  # who generated the source (tracer's fixtures, or an independent world)
    header: list[str]
    kinds: list[str]
    source: list[list[str]]
    exports: list[list[list[str]]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    keys: list[list[list[str]]] = field(default_factory=list)  # cell_key of every output cell
    fallback: bool = False  # some export said canary_fallback
    party_phone: list[int | None] = field(default_factory=list)  # each column's person's phone column

    @property
    def id_column(self) -> int:
        return self.kinds.index("id")


def fix_uid(registry: Path, name: str, seed: int) -> None:
    """Give account ``name`` a uid made from the seed, in place of the random one ``add_account`` drew.

    Which records a canary follows, and every draw that builds it, are keyed
    by the account's uid; drawn afresh, one seed's runs each measured another
    set of canaries (cn-estates' sender name read 0.45, 0.53, 0.66 in three
    runs of seed 2).  With the uid fixed, a seed is one experiment and its
    figures repeat; the spread over seeds is then the bench's own error.
    """
    uid = hashlib.sha256(f"canary-realism-uid-{seed}-{name}".encode()).hexdigest()[:32]
    with sqlite3.connect(registry) as conn:
        conn.execute("UPDATE accounts SET uid = ? WHERE name = ?", (uid, name))
    conn.close()


def run_exports(worlds: dict[str, tuple[str, Path]], accounts: int, seed: int, workdir: Path) -> list[Dataset]:
    """Every world's source exported once for each of ``accounts`` accounts, with a fixed benchmark key
    and fixed account uids (``fix_uid``): a seed's run is reproducible."""
    saved = os.environ.get("TRACER_KEY")
    os.environ["TRACER_KEY"] = hashlib.sha256(f"canary-realism-{seed}".encode()).hexdigest()
    try:
        registry = workdir / "tracer.db"
        api.init(registry)
        names = [f"branch-{i:02d}" for i in range(accounts)]
        for name in names:
            api.add_account(registry, name)
            fix_uid(registry, name, seed)
        datasets = []
        for wname, (made_by, path) in worlds.items():
            header, source = read_csv(path)
            schema = recognise(header, source[:200])
            data = Dataset(wname, made_by, header, [c.kind for c in schema.columns], source)
            data.party_phone = [_party_phone(schema, c) for c in schema.columns]
            for name in names:
                out = workdir / f"{wname}-{name}.csv"
                result = api.export(registry, path, account=name, output=out)
                data.fallback |= result.canary_fallback
                data.exports.append(read_csv(out)[1])
            datasets.append(data)
        return datasets
    finally:
        if saved is None:
            os.environ.pop("TRACER_KEY", None)
        else:
            os.environ["TRACER_KEY"] = saved


def _party_phone(schema, column) -> int | None:
    if column.kind == "phone":
        return column.index
    if column.kind not in ("name", "address", "email"):
        return None
    phone = schema.party_phone(column)
    return phone.index if phone is not None else None


def cell_key(text: str, kind: str) -> str:
    """What a cell shares with the row a canary was copied from, surviving marks and new numbers."""
    t = unicodedata.normalize("NFKC", text).strip()
    if kind == "address":
        if CJK.search(t):
            return re.sub(r"[\d\s\-省市栋幢单元室号楼院]", "", t)
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", t)]
        return " ".join(w[0] for w in words) + ":" + max(words, key=len, default="")
    if kind == "name":
        return t[:1] if CJK.search(t) else (t.split() or [""])[-1].lower()
    if kind == "email":
        return t.rsplit("@", 1)[-1].lower()
    if kind == "phone":
        anchor = phone_anchor(t)
        return anchor[:6] if anchor else ""
    if kind == "datetime":
        return t[:10]
    if kind == "number":
        return t[:-1]
    if kind == "id":
        return ""
    return t.lower()


def twin_score(a: list[str], b: list[str]) -> int:
    return sum(1 for x, y in zip(a, b) if x and x == y)


def window(rows: list, p: int) -> range:
    return range(max(0, p - MAX_SHIFT - 2), min(len(rows), p + MAX_SHIFT + 3))


def _finder(parent: dict[str, str]):
    """``find`` of a union-find over ``parent`` (path halving): groups joined by ``parent[find(a)] = find(b)``."""
    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    return find


def label(data: Dataset) -> None:
    """Mark canaries (identifier not in the source), find each canary's donor, and group the rows.

    A canary's group joins its donor's record and the gap it sits in (the
    real record before it): the versions of one shared slot sit in the same
    gap in every account's export, their identifiers and times drawn from the
    same narrow range, so pooling the accounts' exports puts several of them
    in the sample; in different folds, the model would learn the gap's digits
    from one and recognise the next, which no single export lets anyone do.
    """
    idc = data.id_column
    by_id = {row[idc]: row for row in data.source}
    data.keys = [[[cell_key(c, k) for c, k in zip(cells, data.kinds)] for cells in rows] for rows in data.exports]
    parent: dict[str, str] = {}
    find = _finder(parent)

    for e, rows in enumerate(data.exports):
        gap = None  # the last real record above
        for p, cells in enumerate(rows):
            canary = cells[idc] not in by_id
            row = Row(cells, e, p, canary, group=cells[idc])
            if canary:
                row.donor = _find_donor(data, e, p, by_id)
                row.group = row.donor[idc] if row.donor else cells[idc]
                if gap is not None:
                    parent[find(row.group)] = find("gap:" + gap)  # its decoys, not the real record
            else:
                gap = cells[idc]
            data.rows.append(row)
    for row in data.rows:
        row.group = find(row.group)


def _find_donor(data: Dataset, e: int, p: int, by_id: dict) -> list[str] | None:
    """The real row in the canary's window that shares the most with it (nearest on ties)."""
    rows, keys = data.exports[e], data.keys[e]
    idc = data.id_column
    best, best_score = None, (-1, 0)
    for q in window(rows, p):
        if q == p or rows[q][idc] not in by_id:
            continue
        score = (twin_score(keys[p], keys[q]), -abs(q - p))
        if score > best_score:
            best, best_score = by_id[rows[q][idc]], score
    return best


def sample(data: Dataset, ratio: float, rng: random.Random) -> list[Row]:
    """Every canary, plus ``ratio`` times as many real rows, each source record at most once."""
    canaries = [r for r in data.rows if r.canary]
    real = [r for r in data.rows if not r.canary]
    rng.shuffle(real)
    seen, chosen = set(), []
    for r in real:
        record = r.cells[data.id_column]
        if record in seen:
            continue
        seen.add(record)
        chosen.append(r)
        if len(chosen) >= ratio * len(canaries):
            break
    rows = canaries + chosen
    rng.shuffle(rows)
    return rows


def by_person(rows: list[Row], phone: int) -> list[str]:
    """Groups for a person's column: the person, told by the phone digits (``phone_anchor``) of that party.

    Every row of one person (a shop's hundreds, a returning customer's few)
    falls on one side of a split, so the model is judged on people it never
    saw, as a broker is on the export he holds.  The copies of one shared
    decoy in several accounts' exports carry the same phone, so they share a
    group too.  Not joined through a canary's gap (``with_gaps``): a name,
    phone, address or email cell carries nothing of the gap's identifiers and
    times, and the versions of one slot kept different shops as their other
    party, so the join chained every large shop into one group holding
    61-67% of cn-estates' sample: one of the five folds was two thirds of the
    data, and the sender name read 0.36-0.66 by fold luck (fold std 0.08-0.12).
    """
    return [phone_anchor(r.cells[phone]) or r.cells[phone] for r in rows]


def with_gaps(rows: list[Row], keys: list[str]) -> list[str]:
    """Groups by ``keys`` (a person), joined for every canary with its own group (its donor, its gap):
    a person-grouped model must not split one shared slot's versions either (see ``label``)."""
    parent: dict[str, str] = {}
    find = _finder(parent)

    for row, key in zip(rows, keys):
        if row.canary:
            parent[find("p:" + key)] = find("g:" + row.group)
    return [find("p:" + key) for key in keys]
