"""Bytes read from leak and source files, for a progress display with a total.

Readers open a table's bytes only through ``base.open_binary``.  While a
:class:`ByteMeter` is active (``with metering(meter):``), those streams count
what they hand out, so a progress bar can say how much of a file is done
whatever its format.  Progress is a display concern: a context variable keeps
it out of every reader's signature, and nothing is counted when no one watches.
"""

from __future__ import annotations

import io
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from typing import BinaryIO, Iterator

_ACTIVE: ContextVar["ByteMeter | None"] = ContextVar("tracer_byte_meter", default=None)


class ByteMeter:
    """Per file, the most bytes any one stream of it has read (a sample pass, then
    the full pass, count once); members of an archive add up under the archive."""

    def __init__(self) -> None:
        self.streams: dict[str, int] = {}      # file or member -> most bytes one stream read
        self.group: dict[str, str] = {}        # file or member -> file on disk it is part of

    def note(self, key: str, group: str, count: int) -> None:
        if count > self.streams.get(key, 0):
            self.streams[key] = count
            self.group[key] = group

    def done(self, sizes: dict[str, int]) -> int:
        """Bytes done, each file on disk counted at most at its size (members count unpacked)."""
        per_file: dict[str, int] = defaultdict(int)
        for key, count in self.streams.items():
            per_file[self.group[key]] += count
        return sum(min(count, sizes.get(group, count)) for group, count in per_file.items())

    def stream(self, raw: BinaryIO, key: str, group: str) -> BinaryIO:
        """``raw`` (of file or member ``key``, part of file ``group``), counting into this meter."""
        return io.BufferedReader(_Counted(raw, self, key, group), buffer_size=1 << 16)

    @property
    def files(self) -> int:
        """Files and members started."""
        return len(self.streams)


@contextmanager
def metering(meter: ByteMeter | None) -> Iterator[ByteMeter | None]:
    token = _ACTIVE.set(meter)
    try:
        yield meter
    finally:
        _ACTIVE.reset(token)


def watching() -> ByteMeter | None:
    """The active meter, if a progress display is watching."""
    return _ACTIVE.get()


class _Counted(io.RawIOBase):
    """A raw stream that tells the meter how far it has read."""

    def __init__(self, raw: BinaryIO, meter: ByteMeter, key: str, group: str) -> None:
        super().__init__()
        self._raw, self._meter, self._key, self._group, self._count = raw, meter, key, group, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self._count += count
            self._meter.note(self._key, self._group, self._count)
        return count

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()
