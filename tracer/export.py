"""The export pipeline: read -> recognise -> marks and canaries -> register -> atomic write.

Streaming: rows pass through a window of ``WINDOW`` rows (where canaries are
slotted in) and the exposure digests go to a temporary spool file, so memory
does not grow with the export.  The registry entry commits before the output
file appears under its name; the file is written to a temporary name in the
same directory, fsynced and renamed.  A failure at any point leaves no output
and no registry entry; a crash between commit and rename leaves an entry never
marked as released.

Everything is deterministic per (account, record): re-exporting the same rows
for the same account gives a byte-identical file.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path

import numpy as np

from . import code
from .canaries import MAX_SHIFT, RATE, make_canary
from .columns import Schema, recognise
from .errors import InputError, OutputError, TracerError
from .keys import Key
from .marks import AnchorHasher, RowAnchors, mark_row, row_anchors
from .progress import OnRows, counted
from .registry import Account, Registry
from .tables import TableFormat, TableWriter, open_table
from .tables.base import kind_for

SAMPLE_ROWS = 200  # rows used to recognise columns
HEAD_ROWS = 5000  # rows read before writing: a smaller export is known whole
WINDOW = 2 * MAX_SHIFT  # rows held back so late canaries can still be slotted in
SPOOL_CHUNK = 1 << 16
CANARY_THRESHOLD = int(RATE * 2**64)
CANARY_ATTEMPTS = 32


@dataclass(frozen=True)
class ExportResult:
    export_id: int
    account: str
    rows: int
    canaries: int
    marked_cells: int
    output: str

    def as_json(self) -> dict:
        return asdict(self)


class _CanaryCollision(Exception):
    """A canary's phone turned out to be a real phone further down the same export."""

    def __init__(self, digests: set[int]):
        self.digests = digests


@dataclass
class _Slot:
    """A real row waiting in the window, with the canaries to write after it."""

    index: int
    row: list[str]
    canaries: list[tuple[int, list[str]]]


class _Exporter:
    """One export's state: account bits, anchors, canaries, window, spool."""

    def __init__(self, registry: Registry, key: Key, account: Account, schema: Schema, avoid: set[int]):
        self.registry = registry
        self.key = key
        self.account = account
        self.schema = schema
        self.length = registry.code.length
        self.bits = code.Code(key, self.length, registry.code.cutoff).codeword(account.uid)
        self.hasher = AnchorHasher(key)
        self.avoid = avoid
        self.canary_phones: set[int] = set()
        self.canary_others: set[int] = set()  # identifiers of canaries
        self.marked_cells = 0
        self.rows = 0

    def row_seed(self, anchors: RowAnchors) -> bytes | None:
        if anchors.row is None:
            return None
        return self.key.digest("row", self.account.uid + anchors.row.digest[:8], 16)

    def wants_canary(self, seed: bytes | None) -> bool:
        return seed is not None and int.from_bytes(seed[:8], "little") < CANARY_THRESHOLD

    def canary_for(self, donor: list[str], seed: bytes) -> tuple[int, list[str]]:
        """A marked canary built from ``donor``, and how far from it to place it."""
        rng = random.Random(seed)
        shift = rng.randint(1, MAX_SHIFT)
        for _ in range(CANARY_ATTEMPTS):
            canary = make_canary(self.schema, donor, rng)
            anchors = row_anchors(self.schema, canary, self.hasher)
            digests = {a.exposure for a in anchors.all}
            if not digests or digests & (self.canary_phones | self.canary_others | self.avoid):
                continue
            if any(self.registry.canary_conflicts(d, self.account) for d in digests):
                continue
            phones = {a.exposure for a in anchors.phones}
            self.canary_phones |= phones
            self.canary_others |= digests - phones
            marked, _ = mark_row(self.schema, canary, anchors, self.bits, self.length)
            return shift, marked
        raise TracerError("could not draw a canary that collides with no known record; export again")

    def run(self, rows: Iterator[list[str]], head_complete: bool, head: list[list[str]],
            writer: TableWriter, spool) -> int:
        forced = self._forced_canary(head) if head_complete else None
        window: deque[_Slot] = deque()
        future: dict[int, list[tuple[int, list[str]]]] = {}
        late: list[tuple[int, int, list[str]]] = []  # (donor index, shift, canary) past the end
        buffer: list[int] = []
        canaries = 0
        for index, row in enumerate(rows):
            anchors = row_anchors(self.schema, row, self.hasher)
            buffer.extend(a.exposure for a in anchors.all)
            if len(buffer) >= SPOOL_CHUNK:
                spool.write(np.asarray(buffer, dtype="<i8").tobytes())
                buffer.clear()
            marked, cells = mark_row(self.schema, row, anchors, self.bits, self.length)
            self.marked_cells += cells
            slot = _Slot(index, marked, future.pop(index, []))
            window.append(slot)
            seed = self.row_seed(anchors)
            if self.wants_canary(seed) or index == forced:
                shift, canary = self.canary_for(row, seed or self.key.digest("row", self.account.uid, 16))
                future.setdefault(index + shift, []).append((index, canary))
                canaries += 1
            while len(window) > WINDOW:
                self._write(writer, window.popleft())
        self.rows = window[-1].index + 1 if window else 0
        for target, items in future.items():
            for donor_index, canary in items:
                late.append((donor_index, target - donor_index, canary))
        start = window[0].index if window else 0
        for donor_index, shift, canary in sorted(late, key=lambda item: item[0]):
            at = max(start, donor_index - shift)
            window[at - start].canaries.append((donor_index, canary))
        for slot in window:
            self._write(writer, slot)
        if buffer:
            spool.write(np.asarray(buffer, dtype="<i8").tobytes())
        return canaries

    def _forced_canary(self, head: list[list[str]]) -> int | None:
        """In an export too small for any keyed canary, the row with the smallest keyed hash donates one."""
        seeds = [self.row_seed(row_anchors(self.schema, row, self.hasher)) for row in head]
        if any(self.wants_canary(s) for s in seeds):
            return None
        ranked = [(s[:8], i) for i, s in enumerate(seeds) if s is not None]
        return min(ranked)[1] if ranked else None

    @staticmethod
    def _write(writer: TableWriter, slot: _Slot) -> None:
        writer.write_row(slot.row)
        for _, canary in sorted(slot.canaries, key=lambda item: item[0]):
            writer.write_row(canary)


def _spool_chunks(spool) -> Iterator[np.ndarray]:
    spool.seek(0)
    while True:
        data = spool.read(8 * SPOOL_CHUNK)
        if not data:
            return
        yield np.frombuffer(data, dtype="<i8")


def _output_format(source_format: TableFormat, source: Path, output: Path) -> TableFormat:
    """The source's own format when the output has the same suffix; else that suffix's defaults."""
    kind = kind_for(output)
    if source.suffix.lower() == output.suffix.lower():
        return source_format
    delimiter = "\t" if output.suffix.lower() == ".tsv" else ","
    return TableFormat(kind=kind, encoding="utf-8", delimiter=delimiter, lineterminator="\n")


def export_table(registry: Registry, key: Key, account_name: str, source: Path, output: Path,
                 on_rows: OnRows | None = None) -> ExportResult:
    """Export ``source`` for ``account_name`` to ``output``, marked, with canaries, registered."""
    registry.verify_key(key)
    account = registry.account(account_name)
    source, output = Path(source), Path(output)
    if output.exists() and source.exists() and output.resolve() == source.resolve():
        raise OutputError(f"{output}: the output would overwrite the source")
    kind_for(output)
    avoid: set[int] = set()
    for _ in range(3):
        try:
            return _export_once(registry, key, account, source, output, avoid, on_rows)
        except _CanaryCollision as collision:
            avoid |= collision.digests
    raise TracerError("canaries kept colliding with the export's own records; export again")


def _export_once(registry: Registry, key: Key, account: Account, source: Path, output: Path,
                 avoid: set[int], on_rows: OnRows | None) -> ExportResult:
    with open_table(source) as table:
        rows = table.rows()
        head = list(islice(rows, HEAD_ROWS))
        if not head:
            raise InputError(f"{source.name}: no data rows")
        head_complete = len(head) < HEAD_ROWS
        schema = recognise(table.columns, head[:SAMPLE_ROWS])
        if not schema.anchor_columns:
            raise InputError(f"{source.name}: no phone or identifier column found; tracer cannot mark this table")
        out_format = _output_format(table.format, source, output)
        exporter = _Exporter(registry, key, account, schema, avoid)
        directory = output.parent if str(output.parent) else Path(".")
        if not directory.is_dir():
            raise OutputError(f"{output}: directory {directory} does not exist")
        try:
            fd, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=directory)
        except OSError as exc:
            raise OutputError(f"{output}: cannot write there ({exc.strerror})") from None
        os.close(fd)
        temp = Path(temp_name)
        try:
            with tempfile.TemporaryFile() as spool:
                try:
                    with TableWriter(temp, out_format, table.columns) as writer:
                        canaries = exporter.run(counted(chain(head, rows), on_rows), head_complete, head, writer, spool)
                except OSError as exc:
                    raise OutputError(f"{output}: cannot write ({exc.strerror})") from None
                if table.ragged:
                    raise InputError(f"{source.name}: {table.ragged} rows have the wrong number of cells")
                _check_canaries(exporter.canary_phones | exporter.canary_others, spool)
                entry = registry.record_export(
                    account,
                    key,
                    source=source.name,
                    output=output.name,
                    rows=exporter.rows,
                    marked_cells=exporter.marked_cells,
                    exposure=_spool_chunks(spool),
                    canary_rows=canaries,
                    canary_phones=sorted(exporter.canary_phones),
                    canary_others=sorted(exporter.canary_others),
                )
            try:
                os.replace(temp, output)
                _fsync_directory(directory)
            except OSError as exc:
                raise OutputError(f"{output}: cannot write ({exc.strerror})") from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    registry.mark_released(entry.id)
    return ExportResult(entry.id, account.name, exporter.rows, canaries, exporter.marked_cells, str(output))


def _check_canaries(canary_digests: set[int], spool) -> None:
    """Refuse canaries whose phone or identifier is also a real record of this export."""
    if not canary_digests:
        return
    wanted = np.fromiter(canary_digests, dtype=np.int64)
    clash: set[int] = set()
    for chunk in _spool_chunks(spool):
        clash.update(int(d) for d in chunk[np.isin(chunk, wanted)])
    if clash:
        raise _CanaryCollision(clash)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
