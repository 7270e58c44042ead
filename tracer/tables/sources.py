"""Leak sources: files, folders and archives, expanded into the table files to read.

Leaks travel through chat groups as folders and archives of many files.  A
folder is walked (every table file under it, recursively, symlinks not
followed); a ``.zip``, ``.tar``, ``.tar.gz``/``.tgz`` or ``.7z`` archive is
opened and each table member read into memory, one at a time: nothing is
ever extracted to disk, so a member named ``../../etc/x`` cannot land
anywhere (it is still refused, as no honest archive has one).

Archives come from whoever made the leak, so every expansion is bounded and
whatever is left out is an :class:`Unread` with its reason, never a
traceback, a hang or a silent drop: members over MAX_MEMBER_BYTES, archives
unpacking to over MAX_ARCHIVE_BYTES, more than MAX_FILES table files or
MAX_ENTRIES entries, zip bombs (ratio), encrypted members, archives inside
archives, links and files that are no table.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import pathlib
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from functools import cache
from dataclasses import dataclass
from typing import BinaryIO

from tracer.tables.base import SUPPORTED_SUFFIXES, Member, input_error, open_binary
from tracer.tables.sheets import reason

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z")
MAX_MEMBER_BYTES = 128 * 2**20   # one member, unpacked (it is held in memory while read)
MAX_ARCHIVE_BYTES = 2**30        # one archive, unpacked (a tar's whole stream)
MAX_FILES = 1000                 # table files read from one folder or archive
MAX_ENTRIES = 20_000             # entries of any kind looked at in one folder or archive
BOMB_RATIO, BOMB_FLOOR = 200, 8 * 2**20  # a zip member unpacking 200x, past 8 MiB: a bomb


@dataclass(frozen=True)
class Source:
    """One table file to read: on disk (a Path) or in an archive (a Member).

    ``named`` sources were given on the command line, and their errors are
    the user's (one Error line); the others were found in a folder or an
    archive, and their errors make them Unread.  ``archive`` is the archive's
    (path, SHA-256) for a member.
    """

    table: pathlib.Path | Member
    label: str
    named: bool
    archive: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", printable(self.label))


@dataclass(frozen=True)
class Unread:
    """A file or member left out, with why, for the report and stderr."""

    label: str
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", printable(self.label))

    def as_json(self) -> dict:
        return {"file": self.label, "reason": self.reason}


def printable(name: str) -> str:
    """A name on one line: an archive's member may be called anything, line breaks and NULs included,
    and a message naming it must stay one line; control characters are written as escapes."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in name)


def sha256_of(handle: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of a stream, read in 1 MiB blocks."""
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def archive_suffix(name: str) -> str | None:
    lower = name.lower()
    return next((s for s in ARCHIVE_SUFFIXES if lower.endswith(s)), None)


def is_table(name: str) -> bool:
    return pathlib.PurePosixPath(name).suffix.lower() in SUPPORTED_SUFFIXES


def expand(paths: Iterable[pathlib.Path]) -> Iterator[Source | Unread]:
    """Every table file the user's paths hold, in a fixed order, and what was left out."""
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            yield from _folder(path)
        elif archive_suffix(path.name) and path.is_file():
            yield from _archive(path, path.name, named=True)
        else:
            yield Source(path, path.name, named=True)


def on_disk(paths: Iterable[pathlib.Path]) -> dict[str, int]:
    """The size of every file the paths will be read from (tables and archives,
    folders walked), keyed as the progress meter keys them: a progress total."""
    sizes = {}
    for path in map(pathlib.Path, paths):
        found = (pathlib.Path(d, n) for d, _, names in os.walk(path) for n in names) if path.is_dir() else [path]
        for count, file in enumerate(found):
            if count >= MAX_ENTRIES:
                break
            if (is_table(file.name) or archive_suffix(file.name)) and file.is_file() and not file.is_symlink():
                sizes[str(file)] = file.stat().st_size
    return sizes


def _folder(root: pathlib.Path) -> Iterator[Source | Unread]:
    """Files under ``root`` sorted by relative path; labels are 'root/sub/file.csv'."""
    files = entries = 0
    for directory, subdirs, names in os.walk(root, onerror=None, followlinks=False):
        subdirs.sort()
        for name in sorted(names):
            path = pathlib.Path(directory, name)
            label = path.relative_to(root.parent).as_posix()
            entries += 1
            if entries > MAX_ENTRIES or files >= MAX_FILES:
                yield Unread(f"{root.name}/", f"more than {MAX_FILES} table files or {MAX_ENTRIES} entries; "
                                              "the rest not read")
                return
            if path.is_symlink() or not path.is_file():
                yield Unread(label, "not a regular file (a link?), not followed")
            elif archive_suffix(name):
                files += 1
                yield from _archive(path, label, named=False)
            elif is_table(name):
                files += 1
                yield Source(path, label, named=False)
            else:
                yield Unread(label, "not a table file")


def _archive(path: pathlib.Path, label: str, named: bool) -> Iterator[Source | Unread]:
    """The members of one archive; an unreadable archive is the user's error if named, else Unread."""
    try:
        with open_binary(path, counted=False) as handle:
            digest = sha256_of(handle)[0]
    except OSError as exc:
        yield _refused(path, label, named, f"cannot read: {exc.strerror or exc}")
        return
    suffix = archive_suffix(path.name)
    try:
        for item in _MEMBERS[suffix](path, _Picker(label)):
            yield item if isinstance(item, Unread) else Source(item, f"{label}/{item.member}", named=False,
                                                                archive=(str(path), digest))
    except _bad_archive() as exc:
        yield _refused(path, label, named, f"not a readable {suffix} archive ({reason(exc)})")


def find_member(path: pathlib.Path, member: str) -> Member:
    """One member of an archive again (for a report's preview), within the same bounds."""
    try:
        for item in _MEMBERS[archive_suffix(path.name)](path, _Picker(path.name)):
            if isinstance(item, Member) and item.member == member:
                return item
    except _bad_archive() as exc:
        raise input_error(path, f"not a readable archive ({reason(exc)})") from None
    raise input_error(path, f"no member {member}")


def _refused(path, label, named, message) -> Unread:
    if named:
        raise input_error(path, message)
    return Unread(label, message)


class _Picker:
    """The bounds every archive format shares: which members to read, and the budget spent."""

    def __init__(self, label: str) -> None:
        self.label, self.files, self.entries, self.unpacked, self.done = label, 0, 0, 0, False

    def judge(self, name: str, size: int, refusal: str | None = None) -> str | None:
        """Why member ``name`` (``size`` bytes unpacked) is not read, or None to read it.

        ``refusal`` is the format's own reason (encrypted, a bomb, a link),
        given once the name has been judged."""
        self.entries += 1
        if self.entries > MAX_ENTRIES or self.files >= MAX_FILES:
            self.done = True
            return f"more than {MAX_FILES} table files or {MAX_ENTRIES} entries; the rest not read"
        parts = pathlib.PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and parts[0].endswith(":")):
            return "unsafe name (absolute or with ../), not read"
        if archive_suffix(name):
            return "an archive inside an archive, not opened (unpack the outer one)"
        if not is_table(name):
            return "not a table file"
        if refusal is not None:
            return refusal
        if size > MAX_MEMBER_BYTES:
            return f"{size:,} bytes unpacked, over the {MAX_MEMBER_BYTES:,} a member may have; not read"
        if self.unpacked + size > MAX_ARCHIVE_BYTES:
            self.done = True
            return f"the archive unpacks to over {MAX_ARCHIVE_BYTES:,} bytes; the rest not read"
        self.files += 1
        self.unpacked += size
        return None


def _zip(path: pathlib.Path, picker: _Picker) -> Iterator[Member | Unread]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = _zip_name(info)
            why = picker.judge(name, info.file_size, _zip_refusal(info))
            if why is not None:
                yield Unread(f"{picker.label}/{name}", why)
                if picker.done:
                    return
                continue
            try:
                data = archive.read(info)  # zipfile stops at the declared size and checks the CRC
            except _BAD_MEMBER as exc:
                yield Unread(f"{picker.label}/{name}", f"unreadable member ({reason(exc)})")
                continue
            yield Member(path, name, data)


def _zip_refusal(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted, not read"
    if info.file_size > BOMB_FLOOR and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        return f"would unpack {info.file_size // max(info.compress_size, 1):,}x (a zip bomb?); not read"
    return None


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Chinese zips name members in GBK without saying so; zipfile reads them as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except UnicodeError:
        return info.filename


def _tar(path: pathlib.Path, picker: _Picker) -> Iterator[Member | Unread]:
    """Streamed, so a member's data is unpacked only if read, and never past the budget."""
    with tarfile.open(path, mode="r|*") as archive:
        for info in archive:
            if info.isdir():
                continue
            if info.offset_data + info.size > MAX_ARCHIVE_BYTES:
                yield Unread(f"{picker.label}/{info.name}", f"the archive unpacks to over "
                                                            f"{MAX_ARCHIVE_BYTES:,} bytes; the rest not read")
                return
            name = info.name[2:] if info.name.startswith("./") else info.name
            why = picker.judge(name, info.size, None if info.isfile() else "not a regular file (a link?), not followed")
            if why is not None:
                yield Unread(f"{picker.label}/{name}", why)
                if picker.done:
                    return
                continue
            yield Member(path, name, archive.extractfile(info).read())


def _7z(path: pathlib.Path, picker: _Picker) -> Iterator[Member | Unread]:
    """py7zr unpacks into memory; members are taken in batches of at most MAX_MEMBER_BYTES."""
    import py7zr
    from py7zr.io import BytesIOFactory

    with py7zr.SevenZipFile(path) as archive:
        if archive.needs_password():
            yield Unread(picker.label, "encrypted archive, not read")
            return
        entries = [e for e in archive.list() if not e.is_directory]
        if sum(e.uncompressed or 0 for e in entries) > MAX_ARCHIVE_BYTES:
            yield Unread(picker.label, f"the archive unpacks to over {MAX_ARCHIVE_BYTES:,} bytes; not read")
            return
        batches, batch, size = [], [], 0
        for entry in entries:
            why = picker.judge(entry.filename, entry.uncompressed or 0,
                               None if entry.is_file else "not a regular file (a link?), not followed")
            if why is not None:
                yield Unread(f"{picker.label}/{entry.filename}", why)
                if picker.done:
                    break
                continue
            if batch and size + entry.uncompressed > MAX_MEMBER_BYTES:
                batches.append(batch)
                batch, size = [], 0
            batch.append(entry.filename)
            size += entry.uncompressed
        batches += [batch] if batch else []
        for names in batches:
            archive.reset()
            factory = BytesIOFactory(MAX_MEMBER_BYTES + 1)
            archive.extract(targets=names, factory=factory)
            for name in names:
                product = factory.products.get(name)
                if product is None:
                    yield Unread(f"{picker.label}/{name}", "unreadable member (nothing unpacked)")
                    continue
                product.seek(0)
                yield Member(path, name, product.read())


_MEMBERS = {suffix: _tar for suffix in ARCHIVE_SUFFIXES} | {".zip": _zip, ".7z": _7z}

@cache
def _bad_archive() -> tuple[type[BaseException], ...]:
    """What the archive libraries raise on a broken or hostile archive.  Asked for only when something was
    raised (an ``except`` clause evaluates its types then): importing py7zr costs ~0.2 s of every start."""
    import py7zr.exceptions as py7zr_errors

    return (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, KeyError, IndexError,
            NotImplementedError, RuntimeError, MemoryError, zlib.error, lzma.LZMAError,
            *(e for e in vars(py7zr_errors).values() if isinstance(e, type) and issubclass(e, Exception)))


_BAD_MEMBER = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError, zlib.error)
