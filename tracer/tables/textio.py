"""Choosing a text encoding and streaming decoded text.

Leaks arrive in UTF-8, GBK/GB18030 or UTF-16, often without a declaration.
Statistical detectors misread short GBK files, so strict decodes are tried
first, in a fixed order: BOM, (BOM-less UTF-16), UTF-8, GB18030, and only then
charset-normalizer (which also gets a say when the GB18030 decode is made of
rare characters, the mark of Big5 or Shift-JIS read as GB18030).  The
decision is made on a prefix; the whole file is then streamed with the same
codec in strict mode, and a later decode error becomes an InputError rather
than silently corrupted cells.
"""

from __future__ import annotations

import codecs
import io
import os
import pathlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator, TextIO

from tracer.tables.base import SAMPLE_RECORDS, Skip, input_error, open_binary, output_error

PREFIX_BYTES = 1 << 20       # enough to decide, small enough to stay constant
MAX_PREFIX_BYTES = 32 << 20  # grown to this for very long lines (see _line_prefix)
SAMPLE_LINES = 4             # whole lines the prefix is grown to hold
MAX_LINE = 16 * 1024 * 1024   # characters in one physical line of a table
DETECTOR_BYTES = 64 * 1024    # what charset-normalizer looks at
_MAX_CONTROL_SHARE = 0.05     # more C0 control characters than this: binary
# A few NUL bytes in text (a truncated write, a stray byte appended) cost only
# their lines, skipped and counted; more than this share of the prefix is a
# binary file.  UTF-16 text has far more NULs, but in one byte parity only.
_MAX_NUL_SHARE = 0.01
# Lines over MAX_LINE are skipped as they stream, but a file made of such
# lines is no table: past this many times MAX_LINE skipped, it is refused.
MAX_SKIPPED_LINES = 4

# Longest BOM first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROLS = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r", "\f"}


@dataclass(frozen=True)
class TextSample:
    """The decoded start of a text file and the codec that decoded it."""

    encoding: str
    text: str
    complete: bool  # the whole file fits in the sample


def read_prefix(path: pathlib.Path, size: int = PREFIX_BYTES) -> bytes:
    """The first ``size`` bytes, with OS errors turned into InputError."""
    try:
        with open_binary(path) as handle:
            return handle.read(size)
    except OSError as exc:
        raise input_error(path, f"cannot read: {exc.strerror or exc}") from None


def sample_text(path: pathlib.Path, encoding: str | None = None) -> TextSample:
    """Decide the encoding from a prefix and return the decoded prefix.

    Raises InputError for binary content, undecodable text and files that
    hold nothing but whitespace.
    """
    raw, complete = _line_prefix(path)
    if encoding is not None:
        codec = _user_codec(path, encoding, raw)
        text = _strict_decode(raw, codec, complete)
        if text is None:
            raise input_error(path, f"cannot decode the text as {codec}")
    else:
        codec, text = _detect(path, raw, complete)
    if _looks_binary(text):
        raise input_error(path, "binary file, not a text table")
    if not text.strip():
        raise input_error(path, "empty file: no rows")
    return TextSample(codec, text, complete)


def _line_prefix(path: pathlib.Path) -> tuple[bytes, bool]:
    """A prefix of PREFIX_BYTES, grown (doubling, up to MAX_PREFIX_BYTES) until
    it holds a few whole lines: a very wide table's header alone may exceed
    1 MiB, and sniffing a cut header would miscount its columns.  Also whether
    the prefix is the whole file."""
    size = PREFIX_BYTES
    while True:
        raw = read_prefix(path, size + 1)
        if len(raw) <= size:
            return raw, True
        if raw.count(b"\n", 0, size) >= SAMPLE_LINES or size >= MAX_PREFIX_BYTES:
            return raw[:size], False
        size *= 2


def _user_codec(path: pathlib.Path, encoding: str, raw: bytes) -> str:
    """Normalise a user-given encoding; 'utf-8' on a BOM file means utf-8-sig
    (the user meant the text, not a stray U+FEFF in the first header)."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise input_error(path, f"unknown encoding {encoding!r}") from None
    if codec == "utf-8" and raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return codec


def _detect(path: pathlib.Path, raw: bytes, complete: bool) -> tuple[str, str]:
    """The strict-first decision order described in the module docstring."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _decoded_or_fail(path, raw, codec, complete)
    nuls = raw.count(0)
    if nuls > _MAX_NUL_SHARE * len(raw):
        codec = _bomless_utf16(raw)
        if codec is None:
            raise input_error(path, "binary file (NUL bytes), not a text table")
        return _decoded_or_fail(path, raw, codec, complete)
    text = _strict_decode(raw, "utf-8", complete)
    if text is not None:
        return "utf-8", text
    text = _strict_decode(raw, "gb18030", complete)
    if text is not None and _plausible_gbk(text):
        return "gb18030", text
    guess = _detected(raw, complete)
    if guess is not None:
        return guess
    if text is not None:
        return "gb18030", text
    raise input_error(path, "cannot decode the text (not UTF-8, GB18030 or a known encoding)")


def _plausible_gbk(text: str) -> bool:
    """GB18030 decodes most double-byte text (Big5, Shift-JIS, Latin-1 with
    accents) into rare characters; real GBK data is overwhelmingly in the
    GB2312 repertoire.  An implausible decode is offered to the detector
    first and kept only if the detector has nothing better."""
    wide = "".join(ch for ch in text[:20000] if ch > "\x7f")
    common = len(wide.encode("gb2312", errors="ignore")) // 2
    return common >= 0.8 * len(wide)


def _detected(raw: bytes, complete: bool) -> tuple[str, str] | None:
    """charset-normalizer's guess, if it strictly decodes the prefix."""
    codec = _detector_guess(raw)
    if codec is None:
        return None
    text = _strict_decode(raw, codec, complete)
    return None if text is None else (codec, text)


def _decoded_or_fail(path, raw, codec, complete) -> tuple[str, str]:
    text = _strict_decode(raw, codec, complete)
    if text is None:
        raise input_error(path, f"cannot decode the text as {codec}")
    return codec, text


def _bomless_utf16(raw: bytes) -> str | None:
    """UTF-16 without a BOM shows NULs in every other byte (the high byte of
    ASCII digits, commas and newlines), rarely in the other (U+4E00 '一' is
    00 4E); binary data has them anywhere."""
    head = raw[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 4 * even:
        return "utf-16-le"
    if even > 4 * odd:
        return "utf-16-be"
    return None


def _strict_decode(raw: bytes, codec: str, complete: bool) -> str | None:
    """Decode a prefix strictly; an incremental decoder keeps a multibyte
    character cut at the prefix end from counting as an error."""
    try:
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        return decoder.decode(raw, final=complete)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None


def _detector_guess(raw: bytes) -> str | None:
    """charset-normalizer's best guess as a Python codec name, if any."""
    from charset_normalizer import from_bytes

    try:
        best = from_bytes(raw[:DETECTOR_BYTES]).best()
        return codecs.lookup(best.encoding).name if best is not None else None
    except (LookupError, ValueError, TypeError):
        return None


def _looks_binary(text: str) -> bool:
    """Many control characters (NUL among them) mean the bytes were never
    text; a few cost only their lines (see bounded_lines)."""
    head = text[:65536]
    controls = sum(1 for ch in head if ch in _CONTROLS)
    return controls > _MAX_CONTROL_SHARE * len(head)


def open_text(path: pathlib.Path, encoding: str) -> TextIO:
    """Open for streaming with the chosen codec, strict, newlines untouched
    (the csv module needs newline='' for quoted line breaks)."""
    try:
        raw = open_binary(path)
    except OSError as exc:
        raise input_error(path, f"cannot read: {exc.strerror or exc}") from None
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def bounded_lines(handle: TextIO, path: pathlib.Path, skips: list[Skip]) -> Iterator[str]:
    """The handle's physical lines, terminators kept, at bounded memory.

    A line holding a NUL byte, or longer than MAX_LINE (read in pieces, never
    whole), is not yielded: a Skip goes into ``skips`` for the caller to pass
    on.  A file that is one endless line must neither fill memory nor take
    minutes to be called malformed: past MAX_SKIPPED_LINES x MAX_LINE
    characters skipped it is refused.
    """
    skipped = 0
    while line := handle.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            skipped += _rest_of_line(handle, line)
            if skipped > MAX_SKIPPED_LINES * MAX_LINE:
                raise endless_line(path)
            skips.append(LONG_LINE)
        elif "\x00" in line:
            skips.append(NUL_LINE)
        else:
            yield line


LONG_LINE, NUL_LINE = Skip("long_line"), Skip("nul")


def endless_line(path: pathlib.Path):
    """The InputError for a file of over-long lines (see bounded_lines)."""
    return input_error(path, f"a line longer than {MAX_LINE // 2**20} Mi characters; not a table")


def _rest_of_line(handle: TextIO, line: str) -> int:
    """Read past the end of an over-long line, a piece at a time; its length read."""
    length = len(line)
    while not line.endswith(("\n", "\r")):
        line = handle.readline(MAX_LINE)
        if not line:
            break
        length += len(line)
    return length


def decode_failure(path: pathlib.Path, encoding: str, line: int):
    """The InputError for a decode error found while streaming."""
    return input_error(path, f"cannot decode the text as {encoding} near line {line}")


def sample_lines(sample: TextSample, limit: int = SAMPLE_RECORDS * 4) -> list[str]:
    """Complete physical lines from the start of the sample, terminators kept.

    A line cut by the prefix end is dropped (unless it is the only one) so the
    sniffers never see half a record.
    """
    lines = []
    for line in io.StringIO(sample.text, newline=""):
        if "\x00" in line:  # skipped when the file streams; the sniffers must not see it either
            continue
        lines.append(line)
        if len(lines) > limit:
            break
    if not sample.complete and len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines.pop()
    return lines[:limit]


def line_terminator(text: str, default: str) -> str:
    """The first line ending in the text: '\\r\\n', '\\n' or '\\r'."""
    lf, cr = text.find("\n"), text.find("\r")
    if cr == -1:
        return default if lf == -1 else "\n"
    if lf != -1 and lf < cr:
        return "\n"
    return "\r\n" if text.startswith("\n", cr + 1) else "\r"


def create_text(path: pathlib.Path, encoding: str) -> "TextIO | Utf8Text":
    """Open an output text file; the codec writes a BOM when the encoding
    has one (utf-8-sig, utf-16, utf-32), exactly as the source had.  A UTF-8
    one is a ``Utf8Text``, which also takes bytes already UTF-8."""
    try:
        if codecs.lookup(encoding).name in UTF8_NAMES:
            return Utf8Text(open(path, "wb"), bom=codecs.lookup(encoding).name == "utf-8-sig")
        return open(path, "w", encoding=encoding, errors="strict", newline="")
    except (OSError, LookupError) as exc:
        raise output_error(path, f"cannot write: {getattr(exc, 'strerror', None) or exc}") from None


UTF8_NAMES = ("utf-8", "utf-8-sig")


class Utf8Text:
    """A UTF-8 output file that takes text (the csv module's rows, a decoy) and bytes already UTF-8 (the
    native engine's marked rows) into one buffer, in the order written.  Through a ``TextIOWrapper`` each
    of the engine's bytes was decoded to a str and encoded back (~3% of an export's main thread).  The
    same bytes as ``open(path, "w", encoding=..., newline="")`` writes: strict, no newline translation,
    a utf-8-sig BOM before the first text."""

    def __init__(self, raw: BinaryIO, bom: bool):
        self.raw, self.bom = raw, bom

    def write(self, text: str) -> int:
        self._start()
        return self.raw.write(text.encode("utf-8"))

    def write_bytes(self, data) -> int:
        self._start()
        return self.raw.write(data)

    def _start(self) -> None:
        if self.bom:
            self.bom = False
            self.raw.write(codecs.BOM_UTF8)

    def flush(self) -> None:
        self.raw.flush()

    def fileno(self) -> int:
        return self.raw.fileno()

    def close(self) -> None:
        self.raw.close()


def sync_close(handle: TextIO) -> None:
    """Flush, fsync and close: the caller renames the file into place next,
    and a crash must never leave a renamed but incomplete export."""
    try:
        handle.flush()
        os.fsync(handle.fileno())
    finally:
        handle.close()
