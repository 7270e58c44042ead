"""Leaks as they are passed around: folders and archives of many files.

Each table file in a folder or archive is read as a leak file with its own
SHA-256 (and its archive's); whatever is left out is reported with why.
Hostile archives are bounded and reported, never a traceback or a hang.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile

import py7zr
import pytest

from tracer.tables import sources

from .test_user_leaks import convicting  # noqa: F401 - the shared fixture: bob's convicting export


def halves(clean: bytes) -> tuple[bytes, bytes]:
    """bob's export cut into two CSV files, each with the header."""
    header, *rows = clean.split(b"\n")
    rows = [r for r in rows if r]
    cut = len(rows) // 2
    return tuple(b"\n".join([header, *part]) + b"\n" for part in (rows[:cut], rows[cut:]))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(cli, registry, *paths):
    result = cli("match", *paths, "--json", registry=registry)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def write_zip(path, members: dict[str, bytes], encrypted=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    if encrypted:  # zipfile cannot encrypt: set the flag an encrypting zipper sets, in the central directory
        raw = bytearray(path.read_bytes())
        at = raw.find(b"PK\x01\x02")
        while at != -1:
            length = int.from_bytes(raw[at + 28:at + 30], "little")
            if raw[at + 46:at + 46 + length].decode() in encrypted:
                raw[at + 8] |= 0x1
            at = raw.find(b"PK\x01\x02", at + 46)
        path.write_bytes(bytes(raw))
    return path


def write_tar(path, members: dict[str, bytes], mode="w"):
    with tarfile.open(path, mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_7z(path, members: dict[str, bytes], password=None):
    with py7zr.SevenZipFile(path, "w", password=password) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return path


def test_a_folder_is_read_recursively(cli, convicting, tmp_path):
    registry, clean = convicting
    one, two = halves(clean)
    root = tmp_path / "leaks"
    (root / "day2" / "more").mkdir(parents=True)
    (root / "day1.csv").write_bytes(one)
    (root / "day2" / "more" / "day2.csv").write_bytes(two)
    (root / "day2" / "notes.docx").write_bytes(b"PK not a table")
    verdict, stderr = run(cli, registry, root)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert [(f["path"], f["sha256"]) for f in verdict["files"]] == [
        (str(root / "day1.csv"), sha(one)), (str(root / "day2" / "more" / "day2.csv"), sha(two))]
    assert verdict["unread"] == [{"file": "leaks/day2/notes.docx", "reason": "not a table file"}]
    assert stderr == "Warning: leaks/day2/notes.docx: not a table file\n"


@pytest.mark.parametrize("name", ["dump.zip", "dump.tar", "dump.tar.gz", "dump.7z"])
def test_each_archive_member_is_a_leak_file(cli, convicting, tmp_path, name):
    registry, clean = convicting
    one, two = halves(clean)
    members = {"群文件/第一批.csv": one, "群文件/第二批.csv": two}
    writers = {".zip": write_zip, ".tar": write_tar, ".7z": write_7z}
    archive = tmp_path / name
    if name.endswith(".tar.gz"):
        write_tar(archive, members, "w:gz")
    else:
        writers[archive.suffix](archive, members)
    verdict, stderr = run(cli, registry, archive)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"] and stderr == ""
    assert [(f["path"], f["sha256"], f["archive"]) for f in verdict["files"]] == [
        (f"{name}/{member}", sha(data), {"path": str(archive), "sha256": sha(archive.read_bytes()), "member": member})
        for member, data in members.items()]
    assert verdict["rows"] == clean.count(b"\n") - 1
    assert not list(tmp_path.glob("群文件*"))  # nothing extracted to disk


def test_a_hostile_zip_is_bounded_and_reported(cli, convicting, tmp_path, monkeypatch):
    registry, clean = convicting
    monkeypatch.setattr(sources, "MAX_FILES", 3)
    inner = write_zip(tmp_path / "inner.zip", {"a.csv": clean})
    archive = write_zip(tmp_path / "hostile.zip", {
        "leak.csv": clean,
        "../../etc/cron.d/evil.csv": clean,
        "/abs.csv": clean,
        "secret.csv": clean,
        "bomb.csv": b"0" * (20 * 2**20),
        "inner.zip": inner.read_bytes(),
        "b.csv": b"phone\n13800138000\n",
        "c.csv": b"phone\n13800138000\n",
        "d.csv": b"phone\n13800138000\n",
    }, encrypted={"secret.csv"})
    verdict, stderr = run(cli, registry, archive)
    bomb = zipfile.ZipFile(archive).getinfo("bomb.csv")
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert [f["path"] for f in verdict["files"]] == ["hostile.zip/leak.csv", "hostile.zip/b.csv", "hostile.zip/c.csv"]
    assert [(u["file"], u["reason"]) for u in verdict["unread"]] == [
        ("hostile.zip/../../etc/cron.d/evil.csv", "unsafe name (absolute or with ../), not read"),
        ("hostile.zip//abs.csv", "unsafe name (absolute or with ../), not read"),
        ("hostile.zip/secret.csv", "encrypted, not read"),
        ("hostile.zip/bomb.csv", f"would unpack {bomb.file_size // bomb.compress_size:,}x (a zip bomb?); not read"),
        ("hostile.zip/inner.zip", "an archive inside an archive, not opened (unpack the outer one)"),
        ("hostile.zip/d.csv", "more than 3 table files or 20000 entries; the rest not read"),
    ]
    assert stderr.count("\n") == len(verdict["unread"]) and "Traceback" not in stderr


def test_thousands_of_members_are_bounded(cli, convicting, tmp_path):
    """1,000 table files are read, the rest reported in one line; in seconds, not minutes."""
    import time

    registry, clean = convicting
    members = {"leak.csv": clean} | {f"part{i:04}.csv": b"phone\n13800138000\n" for i in range(1500)}
    archive = write_zip(tmp_path / "many.zip", members)
    started = time.perf_counter()
    verdict, stderr = run(cli, registry, archive)
    assert time.perf_counter() - started < 60
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert len(verdict["files"]) == sources.MAX_FILES
    assert verdict["unread"] == [{"file": "many.zip/part0999.csv",
                                  "reason": "more than 1000 table files or 20000 entries; the rest not read"}]


def test_encrypted_7z_and_broken_archives(cli, convicting, tmp_path):
    registry, clean = convicting
    locked = write_7z(tmp_path / "locked.7z", {"leak.csv": clean}, password="secret")
    result = cli("match", locked, registry=registry)
    assert result.exit_code == 1
    assert result.stderr == "Error: no readable leak file in locked.7z (1 left out: locked.7z: encrypted archive, not read)\n"
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = cli("match", broken, registry=registry)
    assert result.exit_code == 1 and result.stderr.startswith("Error: broken.zip: not a readable .zip archive (")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "leak.csv").write_bytes(clean)
    (folder / "broken.tar.gz").write_bytes(b"\x1f\x8b not gzip at all")
    write_tar(folder / "links.tar", {"leak.csv": clean})
    verdict, stderr = run(cli, registry, folder, locked)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert [f["path"] for f in verdict["files"]] == [str(folder / "leak.csv"), "folder/links.tar/leak.csv"]
    assert [u["file"] for u in verdict["unread"]] == ["folder/broken.tar.gz", "locked.7z"]
    assert verdict["unread"][0]["reason"].startswith("not a readable .tar.gz archive (")


def test_a_tar_is_read_as_a_stream_within_its_budget(cli, convicting, tmp_path, monkeypatch):
    """Past the budget nothing more is unpacked; links are not followed; a member too big is left out."""
    registry, clean = convicting
    monkeypatch.setattr(sources, "MAX_MEMBER_BYTES", 1 << 20)
    monkeypatch.setattr(sources, "MAX_ARCHIVE_BYTES", 3 << 20)
    archive = tmp_path / "dump.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        link = tarfile.TarInfo("link.csv")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        for name, data in (("leak.csv", clean), (link, None), ("big.csv", b"0" * (2 << 20)),
                           ("pad.txt", b"0" * (2 << 20)), ("late.csv", clean)):
            if data is None:
                tar.addfile(name)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    verdict, _ = run(cli, registry, archive)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert [f["path"] for f in verdict["files"]] == ["dump.tar.gz/leak.csv"]
    assert [(u["file"], u["reason"]) for u in verdict["unread"]] == [
        ("dump.tar.gz/link.csv", "not a regular file (a link?), not followed"),
        ("dump.tar.gz/big.csv", "2,097,152 bytes unpacked, over the 1,048,576 a member may have; not read"),
        ("dump.tar.gz/pad.txt", "the archive unpacks to over 3,145,728 bytes; the rest not read"),
    ]


def test_a_found_file_that_breaks_midway_keeps_its_rows(cli, convicting, tmp_path):
    """Rows read before a decode error are evidence; the file is listed with why it stopped."""
    registry, clean = convicting
    header, *rows = clean.split(b"\n")
    body = b"\n".join([header] + [r for r in rows if r] * 7)  # over the 1 MiB sniffing prefix
    folder = tmp_path / "leaks"
    folder.mkdir()
    (folder / "broken.csv").write_bytes(body + b"\n\xff\xfe broken\n")
    (folder / "empty.csv").write_bytes(b"")
    verdict, stderr = run(cli, registry, folder)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    [found] = verdict["files"]
    lines = body.count(b"\n") + 1
    assert lines - 100 < found["rows"] < lines  # text is decoded in blocks: the rows of the bad one are lost
    assert found["stopped"].startswith("broken.csv: cannot decode the text as utf-8 near line ")
    assert verdict["unread"] == [{"file": "leaks/empty.csv", "reason": "empty file (0 bytes)"}]
    assert f"Warning: leaks/broken.csv: read {found['rows']} rows, then stopped: broken.csv: cannot decode" in stderr


def test_a_member_named_with_line_breaks_is_named_on_one_line(cli, convicting, tmp_path):
    """A member may be called anything (the fuzzer found "leak.csv\\n\\x00…"): every message naming it
    stays one line, its control characters written as escapes."""
    registry, clean = convicting
    odd = write_tar(tmp_path / "leak.tar", {"群文件/leak.csv\n\x00\x00": clean})
    result = cli("match", odd, registry=registry)
    assert result.exit_code == 1
    assert result.stderr == ("Error: no readable leak file in leak.tar (1 left out: "
                             "leak.tar/群文件/leak.csv\\n\\x00\\x00: not a table file)\n")
    both = write_tar(tmp_path / "both.tar", {"leak.csv": clean, "notes\r\n.csv": b"\xff\xfe broken"})
    verdict, stderr = run(cli, registry, both)
    assert [s["account"] for s in verdict["suspects"]] == ["bob"]
    assert [u["file"] for u in verdict["unread"]] == ["both.tar/notes\\r\\n.csv"]
    assert stderr.count("\n") == 1 and stderr.startswith("Warning: both.tar/notes\\r\\n.csv: ")
