"""What happens to a leak before it surfaces: the SPEC's threat model as small functions.

A *table* is ``(header, rows)``: ``header`` a list of column names, ``rows`` a
list of lists of ``str`` cells.  Every transform here is a pure function: it
takes a table (and, where it draws anything, a ``random.Random``) and returns
a new table, never touching its input.  The writers at the end turn a table
into a leak file the way a reseller would (encodings, delimiters, headerless
``----`` dumps, an Excel workbook, JSON lines).

The attacker has no key and no registry: columns are recognised here by their
values only (``column_kinds``), with simple rules of our own, never with
tracer's.

Covered (SPEC, "Threat model"):

- rows: ``subset``, ``concat`` (merge), ``dedupe``, ``shuffle``,
  ``duplicate``, ``mix_foreign``, ``keep_ids`` (remove canaries);
- columns: ``select_columns``, ``drop_columns``, ``rename_columns`` (with
  ``RENAMES`` in several languages), ``reorder_columns``; the header is
  removed by the writers (``header=False``);
- cleaning: ``nfkc``, ``collapse_whitespace``, ``phones_digits``,
  ``phones_international`` (+86 / +1), ``upper``, ``lower``,
  ``truncate_addresses`` (after the house number ...号, after the street),
  ``excel_display`` (what Excel writes back to CSV);
- collusion lives in ``attack_collusion.py``, the writers in ``leakfiles.py``
  (re-exported here: the benches import this module for both), full cleaning
  with a canonicaliser of our own in ``attack_clean.py``, the flip with
  tracer's public slot code in ``attack_flip.py``.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from leakfiles import (  # noqa: F401  (re-exported: one import for the benches)
    DASH, EXCEL_DATETIME, Table, digits, excel_number, read_csv, write_csv, write_delimited, write_dump, write_jsonl, write_xlsx,
)
# --------------------------------------------------------------------------
# recognising columns the attacker's way: by values only
# --------------------------------------------------------------------------

_PHONE = re.compile(r"^\s*(?:\+|00)?[0-9][0-9 ()\-.]{8,20}\s*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DATETIME = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_IDENT = re.compile(r"^\s*[A-Za-z]{0,4}-?\d{6,20}\s*$")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_CN_ADDRESS_WORD = re.compile(r"省|市|区|县|路|街|号|镇|村|栋|单元")
_EN_ADDRESS = re.compile(r"^\s*\d+[A-Za-z]?\s+[A-Za-z0-9]")




def kind_of(value: str) -> str | None:
    """What one cell looks like to an attacker: phone, email, datetime, id,
    number, cn_address, en_address, text; None for an empty cell."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        return None
    if _EMAIL.match(value):
        return "email"
    if _DATETIME.match(value):
        return "datetime"
    if _PHONE.match(value) and 10 <= len(digits(value)) <= 15 and "." not in value:
        return "phone"
    if _NUMBER.match(value) and ("." in value or len(value) <= 5):
        return "number"
    if _IDENT.match(value):
        return "id"
    if _HAN.search(value) and len(value) >= 6 and len(_CN_ADDRESS_WORD.findall(value)) >= 2:
        return "cn_address"
    if _EN_ADDRESS.match(value):
        return "en_address"
    return "text"


def column_kinds(table: Table, sample: int = 300) -> list[str]:
    """Each column's most common value kind (>= 60% of its filled cells), else 'text'."""
    header, rows = table
    kinds = []
    for index in range(len(header)):
        found = Counter(k for k in (kind_of(r[index]) for r in rows[:sample] if index < len(r)) if k)
        total = sum(found.values())
        kind, count = found.most_common(1)[0] if found else ("text", 0)
        kinds.append(kind if total and count / total >= 0.6 else "text")
    return kinds


def columns_of_kind(table: Table, *kinds: str) -> list[int]:
    return [i for i, k in enumerate(column_kinds(table)) if k in kinds]


def id_column(table: Table) -> int:
    """The identifier column (waybill or order number): an 'id' column, else the
    column with the most distinct values."""
    header, rows = table
    ids = columns_of_kind(table, "id")
    if ids:
        return ids[0]
    return max(range(len(header)), key=lambda i: len({r[i] for r in rows}))


# --------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------


def subset(table: Table, n: int, rng: random.Random) -> Table:
    """A random subset of ``n`` rows (all of them when the table is smaller), in random order."""
    header, rows = table
    return list(header), [list(r) for r in rng.sample(rows, min(n, len(rows)))]


def shuffle(table: Table, rng: random.Random) -> Table:
    header, rows = table
    rows = [list(r) for r in rows]
    rng.shuffle(rows)
    return list(header), rows


def aligned(target_header: Sequence[str], table: Table) -> list[list[str]]:
    """``table``'s rows laid out in ``target_header``'s columns: by name when every
    name is found, else by position (padded / cut)."""
    header, rows = table
    if list(header) == list(target_header):
        return [list(r) for r in rows]
    if all(name in header for name in target_header):
        index = [header.index(name) for name in target_header]
        return [[r[i] for i in index] for r in rows]
    width = len(target_header)
    return [(list(r) + [""] * width)[:width] for r in rows]


def concat(*tables: Table) -> Table:
    """Merge several tables (several insiders' subsets) under the first one's header."""
    header = list(tables[0][0])
    rows: list[list[str]] = []
    for table in tables:
        rows.extend(aligned(header, table))
    return header, rows


def dedupe(table: Table, key: int | None = None) -> Table:
    """Keep the first of identical rows, or of rows sharing column ``key``."""
    header, rows = table
    seen: set = set()
    out = []
    for row in rows:
        mark = tuple(row) if key is None else row[key]
        if mark not in seen:
            seen.add(mark)
            out.append(list(row))
    return list(header), out


def duplicate(table: Table, share: float, rng: random.Random) -> Table:
    """Repeat a random ``share`` of the rows (a dump that lists records twice), shuffled."""
    header, rows = table
    extra = rng.sample(rows, int(round(share * len(rows))))
    return shuffle((header, [list(r) for r in rows] + [list(r) for r in extra]), rng)


def mix_foreign(table: Table, foreign: Table, n: int, rng: random.Random) -> Table:
    """Bury the leak among ``n`` rows of another company's data (columns aligned by name), shuffled."""
    return shuffle(concat(table, subset(foreign, n, rng)), rng)


def keep_ids(table: Table, ids: set[str], column: int) -> Table:
    """Only the rows whose identifier is in ``ids``: with the source's ids, this
    removes every canary (marks-only evidence)."""
    header, rows = table
    return list(header), [list(r) for r in rows if r[column] in ids]


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------


def select_columns(table: Table, names: Sequence[str]) -> Table:
    header, rows = table
    index = [header.index(n) for n in names]
    return [header[i] for i in index], [[r[i] for i in index] for r in rows]


def drop_columns(table: Table, names: Iterable[str]) -> Table:
    header, _ = table
    gone = set(names)
    return select_columns(table, [h for h in header if h not in gone])


def rename_columns(table: Table, mapping: dict[str, str] | Sequence[str]) -> Table:
    """New column names: a dict (old -> new; others kept) or a full list."""
    header, rows = table
    if isinstance(mapping, dict):
        new = [mapping.get(h, h) for h in header]
    else:
        new = list(mapping)[: len(header)]
    return new, [list(r) for r in rows]


def reorder_columns(table: Table, rng: random.Random) -> Table:
    header, _ = table
    order = list(header)
    while len(order) > 1 and order == list(header):
        rng.shuffle(order)
    return select_columns(table, order)


def opaque_header(table: Table) -> Table:
    """Columns named c1..cN: names that say nothing."""
    return rename_columns(table, [f"c{i + 1}" for i in range(len(table[0]))])


RENAMES: dict[str, dict[str, str]] = {
    # waybills (Chinese headers) into other languages
    "waybill_en": {
        "运单号": "Tracking No", "寄件人": "Sender", "寄件人电话": "Sender Phone", "寄件地址": "Sender Address",
        "收件人": "Recipient", "收件人电话": "Recipient Phone", "收件地址": "Recipient Address",
        "物品": "Goods", "重量(kg)": "Weight", "下单时间": "Created",
    },
    "waybill_ja": {
        "运单号": "送り状番号", "寄件人": "依頼主", "寄件人电话": "依頼主電話", "寄件地址": "依頼主住所",
        "收件人": "お届け先", "收件人电话": "お届け先電話", "收件地址": "お届け先住所",
        "物品": "品名", "重量(kg)": "重さ", "下单时间": "受付日時",
    },
    "waybill_pinyin": {
        "运单号": "yundanhao", "寄件人": "jjr", "寄件人电话": "jjr_dh", "寄件地址": "jjr_dz",
        "收件人": "sjr", "收件人电话": "sjr_dh", "收件地址": "sjr_dz",
        "物品": "wp", "重量(kg)": "zl", "下单时间": "sj",
    },
    "waybill_traditional": {
        "运单号": "運單號", "寄件人": "寄件人", "寄件人电话": "寄件人電話", "寄件地址": "寄件地址",
        "收件人": "收件人", "收件人电话": "收件人電話", "收件地址": "收件地址",
        "物品": "物品", "重量(kg)": "重量", "下单时间": "下單時間",
    },
    # orders (English headers) into other languages
    "order_zh": {
        "Order ID": "订单号", "Customer Name": "客户姓名", "Email": "邮箱", "Phone": "手机",
        "Shipping Address": "收货地址", "City": "城市", "State": "州", "ZIP": "邮编",
        "Order Date": "下单时间", "Total": "金额",
    },
    "order_es": {
        "Order ID": "Pedido", "Customer Name": "Nombre", "Email": "Correo", "Phone": "Teléfono",
        "Shipping Address": "Dirección de envío", "City": "Ciudad", "State": "Estado", "ZIP": "Código postal",
        "Order Date": "Fecha", "Total": "Importe",
    },
    "order_ru": {
        "Order ID": "Номер заказа", "Customer Name": "Клиент", "Email": "Почта", "Phone": "Телефон",
        "Shipping Address": "Адрес", "City": "Город", "State": "Штат", "ZIP": "Индекс",
        "Order Date": "Дата", "Total": "Сумма",
    },
}


# --------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------


def map_cells(table: Table, fn: Callable[[str], str], columns: Iterable[int] | None = None) -> Table:
    header, rows = table
    chosen = set(range(len(header)) if columns is None else columns)
    return list(header), [[fn(c) if i in chosen else c for i, c in enumerate(r)] for r in rows]


def nfkc(table: Table) -> Table:
    """Full-width to half-width and every other compatibility folding."""
    return map_cells(table, lambda c: unicodedata.normalize("NFKC", c))


def collapse_whitespace(table: Table) -> Table:
    """Runs of whitespace to one space, ends stripped."""
    return map_cells(table, lambda c: re.sub(r"\s+", " ", c).strip())


def upper(table: Table) -> Table:
    return map_cells(table, str.upper)


def lower(table: Table) -> Table:
    return map_cells(table, str.lower)


def phones_digits(table: Table) -> Table:
    """Phones stripped to their digits ('138 0013 8000' -> '13800138000', '(646) 596-9107' -> '6465969107')."""
    return map_cells(table, digits, columns_of_kind(table, "phone"))


def _international(cell: str) -> str:
    d = digits(cell)
    if len(d) == 13 and d.startswith("86"):
        d = d[2:]
    if len(d) == 11 and d.startswith("1") and d[1] in "3456789" and not cell.strip().startswith("+1"):
        return "+86 " + d
    if len(d) == 11 and d.startswith("1"):
        d = d[1:]
    if len(d) == 10:
        return f"+1 {d[:3]} {d[3:6]} {d[6:]}"
    return cell


def phones_international(table: Table) -> Table:
    """Phones written '+86 13800138000' (mainland mobiles) or '+1 646 596 9107' (US)."""
    return map_cells(table, _international, columns_of_kind(table, "phone"))


_CN_HOUSE = re.compile(r"^(.*?[0-9]+号)(?!楼|院)")
_EN_STREET = re.compile(
    r"^(\s*\d+[A-Za-z]?\s+.*?\b(?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|court|ct|place|pl|boulevard|blvd"
    r"|way|parkway|pkwy|terrace|ter|circle|cir|highway|hwy)\b\.?)",
    re.IGNORECASE,
)


def truncate_address(cell: str) -> str:
    """A Chinese address cut after its house number (...路88号), an English one after its street."""
    if _HAN.search(cell):
        match = _CN_HOUSE.match(cell)
    else:
        match = _EN_STREET.match(cell)
    return match.group(1) if match else cell


def truncate_addresses(table: Table) -> Table:
    return map_cells(table, truncate_address, columns_of_kind(table, "cn_address", "en_address"))



def _general(value: float) -> str:
    """Excel's 'General' display of a number (11 significant characters, then scientific)."""
    if value == int(value) and abs(value) < 1e11:
        return str(int(value))
    text = f"{value:.10g}"
    if "e" in text or len(text) > 11:
        mantissa, exponent = f"{value:.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E+{int(exponent):02d}"
    return text


def excel_display(table: Table) -> Table:
    """What Excel writes when a CSV is opened and saved again as CSV: numbers in
    'General' format (phones as digits, leading and trailing zeros lost, 12+ digit
    numbers in scientific notation), date-times as 'yyyy/m/d h:mm' (seconds lost)."""

    def cell(text: str) -> str:
        number = excel_number(text)
        if number is not None:
            return _general(number)
        match = EXCEL_DATETIME.match(text.strip())
        if match:
            y, mo, d, h, mi = (int(g) for g in match.groups()[:5])
            return f"{y}/{mo}/{d} {h}:{mi:02d}"
        return text

    return map_cells(table, cell)
