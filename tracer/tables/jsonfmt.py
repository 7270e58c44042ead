"""JSON arrays of objects (.json, streamed with ijson) and JSON Lines (.jsonl).

Columns are the keys of the first object, in order.  A later object missing
a key gives '' for it; one with a key the first lacked cannot be placed in
the columns and counts as a ragged row.

Cells keep their JSON type: number literals become NumberText (the literal's
text), true/false/null and nested values become JsonLiteral, so a rewrite
puts them back unchanged.  The writers use one style, that of
``json.dumps(obj, ensure_ascii=False)`` per object:

* .jsonl: one object per line;
* .json:  ``[`` newline, objects joined by ``,`` newline, newline ``]``
  newline, i.e. ``[\\n{...},\\n{...}\\n]\\n`` (with the source's line ending).

Files written in that style round-trip byte for byte; other layouts (e.g.
``indent=2``) keep every value but not the whitespace.
"""

from __future__ import annotations

import json
import pathlib
import re
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Iterator

import ijson

from tracer.tables import textio
from tracer.tables.base import Skip, TableFormat, input_error
from tracer.tables.cells import JsonLiteral, NumberText

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_BAD_JSON = (ijson.JSONError, ValueError, UnicodeError, RecursionError, TypeError)


# --- values <-> cells ----------------------------------------------------------

def to_cell(value) -> str:
    """A parsed JSON value as a cell (see the module docstring)."""
    if type(value) is str:  # the common case first: this runs per cell
        return value
    if isinstance(value, str):  # includes NumberText from json.loads hooks
        return value
    if value is None:
        return JsonLiteral("", "null")
    if isinstance(value, bool):
        text = "true" if value else "false"
        return JsonLiteral(text, text)
    if isinstance(value, (int, Decimal, float)):
        return NumberText(_number_text(value))
    raw = dump_value(value)
    return JsonLiteral(raw, raw)


def _number_text(value) -> str:
    """ijson gives Decimal('1E+5') for 1e5; show it without the exponent."""
    text = str(value)
    if isinstance(value, Decimal) and "E" in text:
        text = format(value, "f")
    return text


def dump_value(value) -> str:
    """JSON text for a cell or nested value, in json.dumps' default style
    (', ' and ': ' separators, non-ASCII kept)."""
    if type(value) is str:  # the common case first: this runs per cell
        return encode_basestring(value)
    if isinstance(value, JsonLiteral):
        return value.raw
    if isinstance(value, NumberText) and _JSON_NUMBER.fullmatch(value):
        return str(value)
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal, float)):
        return _number_text(value)
    if isinstance(value, dict):
        items = (f"{encode_basestring(str(k))}: {dump_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return "[" + ", ".join(dump_value(v) for v in value) + "]"


def object_row(obj: dict, columns: list[str], names: frozenset) -> list[str]:
    """An object as a row in column order; keys outside the columns are
    appended, which makes the row ragged rather than silently dropping data."""
    row = [to_cell(obj[c]) if c in obj else "" for c in columns]
    if not names.issuperset(obj):
        row.extend(to_cell(v) for k, v in obj.items() if k not in names)
    return row


# --- reading -------------------------------------------------------------------

def probe_json(path: pathlib.Path, encoding: str | None, header: bool | None):
    """Check the document is an array of objects and take the first
    object's keys as columns.  ``header`` is ignored: keys are the header."""
    return _probe(path, encoding, "json", _json_objects)


def probe_jsonl(path: pathlib.Path, encoding: str | None, header: bool | None):
    """Columns from the first non-blank line's object."""
    return _probe(path, encoding, "jsonl", _jsonl_objects)


def _probe(path: pathlib.Path, encoding: str | None, kind: str, objects_of):
    """The format (encoding, line ending) and the first object's keys as columns."""
    sample = textio.sample_text(path, encoding)
    if kind == "json" and not sample.text.lstrip().startswith("["):
        raise input_error(path, "JSON document is not a list of objects")
    fmt = TableFormat(
        kind=kind,
        encoding=sample.encoding,
        lineterminator=textio.line_terminator(sample.text, "\n"),
    )
    objects = objects_of(path, fmt)
    try:
        first = next((o for o in objects if not isinstance(o, Skip)), None)
    finally:
        objects.close()
    return fmt, _first_columns(path, first)


def _first_columns(path: pathlib.Path, first: dict | None) -> list[str]:
    if first is None:
        raise input_error(path, "no rows (no JSON objects)")
    if not first:
        raise input_error(path, "the first JSON object has no keys, so no columns")
    return list(first)


def records_json(path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> Iterator[list[str]]:
    names = frozenset(columns)
    for obj in _json_objects(path, fmt):
        yield object_row(obj, columns, names)


def records_jsonl(path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> Iterator[list[str]]:
    names = frozenset(columns)
    for obj in _jsonl_objects(path, fmt):
        yield obj if isinstance(obj, Skip) else object_row(obj, columns, names)


def _json_objects(path: pathlib.Path, fmt: TableFormat) -> Iterator[dict]:
    """The objects of the top-level array, one at a time, from ijson's event stream.

    Objects are built here, not by ``ijson.items``, so that a hostile file
    (nesting thousands deep, one giant object) is refused with a clear error
    instead of exhausting memory or the stack.
    """
    done = 0
    with textio.open_text(path, fmt.encoding) as handle:
        try:
            events = ijson.basic_parse(_Utf8Reader(handle, path), use_float=False)
            first = next(events, None)
            if first is None or first[0] != "start_array":
                raise input_error(path, "JSON document is not a list of objects")
            for event, _ in events:
                if event == "end_array":
                    for _extra in events:  # the parser raises on trailing junk
                        raise input_error(path, "invalid JSON: data after the top-level list")
                    return
                if event != "start_map":
                    raise input_error(path, "JSON document is not a list of objects")
                obj = _build_object(events, path)
                done += 1
                yield obj
        except _BAD_JSON as exc:
            raise _invalid(path, exc, f"after object {done}") from None


MAX_DEPTH = 32  # nesting allowed inside one row's object
MAX_EVENTS = 100_000  # parser events allowed for one row's object (keys, values, brackets)


def _build_object(events, path: pathlib.Path) -> dict:
    """One object from the events after its ``start_map``, bounded in depth and size."""
    root: dict = {}
    stack: list = [root]
    keys: list = [None]
    for count, (event, value) in enumerate(events, 1):
        if count > MAX_EVENTS:
            raise input_error(path, f"a JSON object is too large (over {MAX_EVENTS} values)")
        if event == "map_key":
            keys[-1] = value
            continue
        if event in ("end_map", "end_array"):
            stack.pop()
            keys.pop()
            if not stack:
                return root
            continue
        new = {} if event == "start_map" else [] if event == "start_array" else value
        top = stack[-1]
        if isinstance(top, dict):
            top[keys[-1]] = new
        else:
            top.append(new)
        if event in ("start_map", "start_array"):
            if len(stack) >= MAX_DEPTH:
                raise input_error(path, f"JSON nested deeper than {MAX_DEPTH} levels")
            stack.append(new)
            keys.append(None)
    raise input_error(path, "invalid JSON: the document ends inside an object")


def _jsonl_objects(path: pathlib.Path, fmt: TableFormat) -> Iterator[dict | Skip]:
    """One object per non-blank line (a dropped line passes as its Skip); number literals keep their text."""
    number = NumberText
    lineno, skips = 0, []
    with textio.open_text(path, fmt.encoding) as handle:
        try:
            for lineno, line in enumerate(textio.bounded_lines(handle, path, skips), 1):
                if skips:
                    yield from skips
                    skips.clear()
                if not line.strip():
                    continue
                obj = json.loads(
                    line, parse_int=number, parse_float=number, parse_constant=_constant
                )
                if not isinstance(obj, dict):
                    raise input_error(path, f"line {lineno} is not a JSON object")
                yield obj
            yield from skips
        except _BAD_JSON as exc:
            raise _invalid(path, exc, f"on line {lineno}") from None


def _constant(name: str) -> JsonLiteral:
    """NaN/Infinity are not JSON, but json.loads accepts them: keep verbatim."""
    return JsonLiteral(name, name)


def _invalid(path: pathlib.Path, exc: Exception, where: str):
    if isinstance(exc, UnicodeError):
        return input_error(path, f"cannot decode the text {where}")
    return input_error(path, f"invalid JSON {where}")


MAX_VALUE = 16 * 1024 * 1024  # characters from one unescaped '"' to the next


class _Utf8Reader:
    """Feeds ijson UTF-8 bytes from our strictly decoded text stream, so any
    source encoding works and ijson does not warn about text files.

    It also refuses MAX_VALUE characters without an unescaped quote.  No table
    has that (every object's keys are quoted), but one giant string or
    number would make ijson's C backend work in time quadratic in its length
    (it copies the token for every 64 KiB read): 100 MB took a minute.
    """

    def __init__(self, handle, path: pathlib.Path) -> None:
        self._handle = handle
        self._path = path
        self._run = 0  # characters since the last unescaped quote
        self._slashes = 0  # backslashes ending the text read so far

    def read(self, size: int = -1) -> bytes:
        text = self._handle.read(size)
        self._run, self._slashes = quote_run(text, self._run, self._slashes)
        if self._run > MAX_VALUE:
            raise input_error(self._path, f"a JSON value longer than {MAX_VALUE // 2**20} Mi characters")
        return text.encode("utf-8")


def quote_run(text: str, run: int, slashes: int) -> tuple[int, int]:
    """(characters since the last unescaped '"', backslashes ending the
    text) once ``text`` follows text that had ``run`` and ``slashes``.  A
    quote after an odd number of backslashes is escaped, inside a string."""
    end = len(text)
    while (quote := text.rfind('"', 0, end)) >= 0:
        start = quote
        while start and text[start - 1] == "\\":
            start -= 1
        before = quote - start + (slashes if start == 0 else 0)
        if before % 2 == 0:
            run = len(text) - quote - 1
            break
        end = start
    else:
        run += len(text)
    body = text.rstrip("\\")
    trailing = len(text) - len(body)
    return run, trailing + (slashes if not body else 0)


# --- writing -------------------------------------------------------------------

class JsonWriter:
    """JSON Lines or a JSON array in the style of the module docstring."""

    def __init__(self, path: pathlib.Path, fmt: TableFormat, columns: list[str]) -> None:
        self._handle = textio.create_text(path, fmt.encoding)
        self._keys = [encode_basestring(c) + ": " for c in columns]
        self._end = fmt.lineterminator
        self._array = fmt.kind == "json"
        self._count = 0

    def write_row(self, row: list[str]) -> None:
        text = "{" + ", ".join(k + dump_value(c) for k, c in zip(self._keys, row)) + "}"
        if self._array:
            text = ("[" if self._count == 0 else ",") + self._end + text
        else:
            text += self._end
        self._handle.write(text)
        self._count += 1

    def close(self) -> None:
        if self._array:
            closing = "]" if self._count == 0 else self._end + "]"
            self._handle.write(("[" if self._count == 0 else "") + closing + self._end)
        textio.sync_close(self._handle)

    def abort(self) -> None:
        self._handle.close()
