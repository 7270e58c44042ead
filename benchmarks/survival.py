"""How much of each mark channel survives each cleaning.

For every slot of ``tracer.channels`` and every cleaning of ``attack_clean``
(plus two real canonicalisers: cpca for Chinese addresses, usaddress-scourgify
for US ones, and the full clean), over the cells of real exports where the
slot is present: the share still readable after the cleaning, and the share
read with the bit that was exported.  A channel that a cleaning leaves
uniform (every read cell shows one variant), or a number column it rounded
to whole units, is erased for the matcher, even if half its bits "agree" by
chance: it is flagged so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attack_clean as K
import attacks as A
from attacks import Table
from benchlib import print_table

from tracer.channels import ALL_SLOTS
from tracer.columns import recognise


def cpca_addresses(table: Table) -> Table:
    """cpca as a real broker runs it: province, city, district in full, the rest verbatim."""
    import cpca

    columns = A.columns_of_kind(table, "cn_address")
    cells = sorted({r[i] for r in table[1] for i in columns})
    if not cells:
        return table
    frame = cpca.transform(cells)
    joined = {c: "".join(x for x in row if isinstance(x, str))
              for c, row in zip(cells, frame[["省", "市", "区", "地址"]].itertuples(index=False))}
    return A.map_cells(table, lambda c: joined.get(c, c), columns)


def scourgify_addresses(table: Table) -> Table:
    """usaddress-scourgify (USPS Publication 28) on each street line; a line it cannot parse is kept."""
    from scourgify import normalize_address_record

    def clean(cell: str) -> str:
        try:
            record = normalize_address_record({"address_line_1": cell, "city": "Springfield", "state": "IL",
                                               "postal_code": "62701"})
        except Exception:  # scourgify raises its own errors for unparseable lines: the broker keeps those
            return cell
        return " ".join(x for x in (record["address_line_1"], record["address_line_2"]) if x)

    return A.map_cells(table, clean, A.columns_of_kind(table, "en_address"))


def cleanings() -> dict[str, Callable[[Table], Table]]:
    found: dict[str, Callable[[Table], Table]] = dict(K.CLEANINGS)
    found["cpca (real)"] = cpca_addresses
    found["scourgify (real)"] = scourgify_addresses
    found["full clean"] = K.full_clean
    return found


SAMPLE = 3000  # rows of each export: enough for a share, and the bench stays quick


def survival(tables: Sequence[Table]) -> dict[str, dict[str, tuple[int, int, int, bool]]]:
    """slot -> cleaning -> (sites exported, read after, same bit after, uniform after), over the
    first ``SAMPLE`` rows of each table."""
    tables = [(header, rows[:SAMPLE]) for header, rows in tables]
    result: dict[str, dict[str, tuple[int, int, int, bool]]] = {}
    for name, clean in cleanings().items():
        counts = {slot.NAME: [0, 0, 0, set(), True] for slot in ALL_SLOTS}  # ..., every read cell coarse
        for table in tables:
            kinds = [c.kind for c in recognise(table[0], table[1][:200]).columns]  # tracer's view: what it marks
            cleaned = clean(table)
            if len(cleaned[1]) != len(table[1]) or cleaned[0] != table[0]:
                raise ValueError(f"cleaning {name!r} changed the table's shape")
            for before, after in zip(table[1], cleaned[1]):
                for cell, new, kind in zip(before, after, kinds):
                    for slot in ALL_SLOTS:
                        if kind not in slot.COLUMN_KINDS:
                            continue
                        bit = slot.read(cell)
                        if bit is None:
                            continue
                        tally = counts[slot.NAME]
                        tally[0] += 1
                        read = slot.read(new)
                        if read is not None:
                            tally[1] += 1
                            tally[2] += read == bit
                            tally[3].add(read)
                            tally[4] = tally[4] and slot.ROUNDABLE and slot.coarse(new)
        for slot_name, (sites, read, same, bits, coarse) in counts.items():
            erased = read > 1 and (len(bits) == 1 or coarse)  # uniform, or every cell whole: both erased
            result.setdefault(slot_name, {})[name] = (sites, read, same, erased)
    return result


def print_survival(title: str, tables: Sequence[Table]) -> dict[str, dict[str, tuple[int, int, int, bool]]]:
    found = survival(tables)
    names = list(cleanings())
    rows = []
    for slot_name, by_clean in found.items():
        sites = next(iter(by_clean.values()))[0]
        if not sites:
            continue
        cells = []
        for name in names:
            _, read, same, uniform = by_clean[name]
            cells.append("erased" if uniform or not read else f"{same / sites:.0%}")
        rows.append([slot_name, sites, *cells])
    print_table(
        f"Survival of each mark channel under each cleaning: {title}",
        ["slot", "sites", *names],
        rows,
        note=f"sites: cells of the exports (first {SAMPLE:,} rows of each) where the slot is present; each\n"
             "cleaning's column: the share of those sites read after the cleaning with the bit exported\n"
             "(50% = chance for a channel that still varies);\n"
             "erased: nothing readable, every read cell shows one variant, or (number.parity) every read cell is\n"
             "a whole number: the matcher treats all three as erased.",
    )
    return found
