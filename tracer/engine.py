"""Which row engine runs: the native one (``tracer._engine``, Rust) or the pure-Python reference.

The native engine (``engine/`` in the repository, built by ``pip install``
when a Rust toolchain is there) computes, per batch of rows, what
``marks.row_anchors``, ``mark_row`` and ``read_row`` compute per row: the
anchors, their keyed digests, the row seeds, and every mark slot's site.
The Python code stays the reference: the same rows give the same bytes,
digests and observations through either (``tests/test_engine.py`` checks it
on every fixture, channel and hostile cell).

The engine is chosen per export or leak, before any row is read, from the
schema's mark plan: a plan that uses a slot the engine does not implement
(``_engine.SLOTS``, the one list of native slot names) runs in Python, so a
new Python-only channel can never change a byte.  ``TRACER_ENGINE=python``
forces the reference everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from .channels import ALL_SLOTS
from .channels._cn_regions import CITIES, PROVINCES
from .columns import id_anchor, phone_anchor
from .errors import TracerError
from .keys import Key
from .marks import MarkPlan

try:
    from . import _engine
except ImportError:  # not built: no Rust toolchain when tracer was installed
    _engine = None

ENV_VAR = "TRACER_ENGINE"
BATCH_ROWS = 1024  # rows per call into the engine: the boundary is crossed per batch, not per cell
NATIVE_SLOTS: frozenset[str] = frozenset(_engine.SLOTS) if _engine is not None else frozenset()
NOT_BUILT = ("the native engine was not built (install a Rust toolchain, e.g. from rustup.rs, "
             "then run pip install -e . again); using the Python engine")

_SLOTS_BY_NAME = {slot.NAME: slot for slot in ALL_SLOTS}


class EngineError(TracerError):
    """``TRACER_ENGINE`` asks for an engine that cannot run here."""


def requested() -> str:
    """``TRACER_ENGINE``: 'python', 'native', or 'auto' (unset: native when built)."""
    value = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if value not in ("auto", "native", "python"):
        raise EngineError(f"{ENV_VAR} must be auto, native or python, not {value!r}")
    if value == "native" and _engine is None:
        raise EngineError(f"{ENV_VAR}=native, but {NOT_BUILT.split(';')[0]}")
    return value


def default_engine() -> str:
    """The engine a plan of native slots runs on: 'native' or 'python'."""
    return "python" if requested() == "python" or _engine is None else "native"


def describe() -> str:
    """For ``tracer --version``: which engine runs, and why not the native one."""
    if _engine is None:
        return f"engine: python ({NOT_BUILT.split(';')[0]})"
    try:
        forced = requested() == "python"
    except EngineError as exc:
        return f"engine: none ({exc})"
    if forced:
        return f"engine: python (forced by {ENV_VAR}=python; native built)"
    return "engine: native"


def native_plan(plan: MarkPlan) -> tuple | None:
    """``plan`` as the engine takes it, or None when a slot in it is not native."""
    cells = []
    for cell in plan.cells:
        if any(slot.NAME not in NATIVE_SLOTS for slot, _ in cell.slots):
            return None
        cells.append((cell.index, cell.anchor, [(slot.NAME, word) for slot, word in cell.slots]))
    return list(plan.phone_columns), list(plan.id_columns), cells


class _Reference:
    """What the engine asks of Python for cells its scanners leave undecided
    (non-ASCII anchors, spreadsheet floats, non-ASCII English addresses)."""

    @staticmethod
    def anchor(kind: str, cell: str) -> str | None:
        return phone_anchor(cell) if kind == "phone" else id_anchor(cell)

    @staticmethod
    def site(name: str, cell: str) -> tuple[int, int, int, str, str] | None:
        site = _SLOTS_BY_NAME[name].locate(cell)
        return None if site is None else (site.start, site.end, site.bit, *site.variants)


def native_or_none(name: str, *args):
    """The engine's ``name`` (a class standing in for a Python one, with the same answers) made with
    ``args`` when the native engine runs; None when the Python reference must."""
    return getattr(_engine, name)(*args) if default_engine() == "native" else None


def native_engine(key: Key, plan: MarkPlan):
    """A native engine for ``plan`` under ``key``; None when the Python engine must run it."""
    if default_engine() != "native":
        return None
    spec = native_plan(plan)
    if spec is None:
        return None
    cities = {short: list(names) for short, names in CITIES.items()}
    return _engine.Engine(key.secret, spec, list(PROVINCES.items()), cities, _Reference())


def batches(rows: Iterable[list[str]], size: int = BATCH_ROWS) -> Iterator[list[list[str]]]:
    """Rows in lists of ``size``, each row a list (what the engine reads).  When reading fails
    part way (a reader's ``InputError``), the rows read before it come first, as one by one."""
    batch: list[list[str]] = []
    try:
        for row in rows:
            batch.append(row if type(row) is list else list(row))
            if len(batch) >= size:
                yield batch
                batch = []
    except Exception:
        if batch:
            yield batch
        raise
    if batch:
        yield batch
