"""The secret key ring, and every keyed function derived from a key.

A key is 32 random bytes that live apart from the registry: in a key file
(mode 0600, ``tracer.key`` beside ``tracer.db`` by default) or in the
``TRACER_KEY`` environment variable.  Nothing in the registry or in an export
can be tied to an account without it.

Keys are rotated, never dropped: an export can only be read with the key it
was made with, so the key file is a *ring* of keys by id, and the highest id
is the current one (new exports use it).  Its formats:

- one bare line of 64 hex digits: key 1 (what ``tracer init`` writes, and
  every key file before rotation existed);
- lines ``<id> <64 hex digits>`` (what ``tracer key rotate`` writes; ``#``
  starts a comment line);
- in ``TRACER_KEY``: the bare 64 hex digits, or ``<id>:<hex>,<id>:<hex>``.

Each use of the key gets its own domain (BLAKE2b's ``person`` field, or a
derived sub-key), so digests made for one purpose never equal digests made for
another:

- ``anchor``: a record anchor (phone digits, an identifier) -> 64 bytes from
  which come the 8-byte exposure digest and the code positions of its marks.
- ``row``: (account, row anchor) -> the per-account decision and randomness of
  canary rows, so a re-export of the same record is identical.
- ``code``: the Tardos biases and every account's codeword, as a keyed
  stream: AES-256 in counter mode under a sub-key that keyed BLAKE2b derives
  from (domain, account uid).  AES-CTR is a standard PRF-grade keystream and
  ~20x faster than an XOF here, which matters when 10,000 codewords are scored.
- ``check``: the key check value the registry stores, so a wrong key is
  refused instead of silently producing wrong verdicts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .durable import replace_private
from .errors import KeyError_

KEY_BYTES = 32
ENV_VAR = "TRACER_KEY"
RING_ENTRY = re.compile(r"(\d+)\s*[:\s]\s*(\S+)")  # '<id> <hex>' (file) or '<id>:<hex>' (TRACER_KEY)
RING_HEADER = "# tracer key ring: '<id> <key>' per line; the highest id is current. Never delete a line:\n" \
              "# an export can only be matched with the key it was made with.\n"


def _person(domain: str) -> bytes:
    raw = ("tracer." + domain).encode()
    if len(raw) > 16:
        raise ValueError(f"domain too long: {domain}")
    return raw


@dataclass(frozen=True)
class Key:
    """The secret; its methods are the only way tracer derives anything from it."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise KeyError_(f"a tracer key is {KEY_BYTES} bytes, got {len(self.secret)}")

    def __repr__(self) -> str:  # never print the secret
        return "Key(<secret>)"

    def digest(self, domain: str, data: bytes, size: int = 8) -> bytes:
        """Keyed BLAKE2b of ``data`` in ``domain``."""
        return hashlib.blake2b(data, key=self.secret, digest_size=size, person=_person(domain)).digest()

    def anchor_digest(self, anchor: str) -> bytes:
        """64 keyed bytes for a record anchor: exposure digest and mark positions."""
        return hashlib.blake2b(
            anchor.encode(), key=self.secret, digest_size=64, person=b"tracer.anchor"
        ).digest()

    def stream(self, domain: str, data: bytes, size: int) -> bytes:
        """A keyed pseudo-random byte stream (for biases and codewords)."""
        subkey = self.digest("s." + domain[:7], data, 32)
        encryptor = Cipher(algorithms.AES(subkey), modes.CTR(bytes(16))).encryptor()
        return encryptor.update(bytes(size)) + encryptor.finalize()

    def check_value(self, registry_id: str) -> str:
        """What the registry stores to recognise its key (reveals nothing of it)."""
        return self.digest("check", registry_id.encode(), 16).hex()

    def matches(self, registry_id: str, check: str) -> bool:
        return hmac.compare_digest(self.check_value(registry_id), check)


def default_key_path(registry_path: Path) -> Path:
    """``tracer.db`` -> ``tracer.key``, beside it."""
    return registry_path.with_name(registry_path.stem + ".key")


def parse_hex_key(text: str, origin: str) -> Key:
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise KeyError_(f"{origin} is not a tracer key (expected {2 * KEY_BYTES} hex digits)") from None
    if len(raw) != KEY_BYTES:
        raise KeyError_(f"{origin} is not a tracer key (expected {2 * KEY_BYTES} hex digits)")
    return Key(raw)


@dataclass(frozen=True)
class KeyRing:
    """Every key a registry has had, by id; the highest id is current.

    ``origin`` says where it came from (``TRACER_KEY`` or the key file), for
    error messages; the secrets never appear in one.
    """

    keys: Mapping[int, Key]
    origin: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyError_(f"{self.origin} holds no key")

    @property
    def current_id(self) -> int:
        return max(self.keys)

    @property
    def current(self) -> Key:
        return self.keys[self.current_id]

    def rotated(self) -> "KeyRing":
        """This ring and a fresh random key with the next id, which becomes current."""
        return KeyRing({**self.keys, self.current_id + 1: Key(secrets.token_bytes(KEY_BYTES))}, self.origin)

    def file_text(self) -> str:
        return RING_HEADER + "".join(f"{i} {self.keys[i].secret.hex()}\n" for i in sorted(self.keys))


def parse_ring(text: str, origin: str) -> KeyRing:
    """A key ring from a key file's text or ``TRACER_KEY``: a bare key (id 1) or ``id hex`` entries."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    entries = [e.strip() for line in lines for e in line.split(",") if e.strip()]
    if len(entries) == 1 and RING_ENTRY.fullmatch(entries[0]) is None:
        return KeyRing({1: parse_hex_key(entries[0], origin)}, origin)
    keys: dict[int, Key] = {}
    for entry in entries:
        found = RING_ENTRY.fullmatch(entry)
        if found is None or int(found[1]) < 1:
            raise KeyError_(f"{origin} is not a tracer key ring (expected '<id> <key>' lines or "
                            f"'<id>:<key>,<id>:<key>', ids from 1, keys of {2 * KEY_BYTES} hex digits)")
        key_id = int(found[1])
        if key_id in keys:
            raise KeyError_(f"{origin} holds key {key_id} twice")
        keys[key_id] = parse_hex_key(found[2], f"{origin}, key {key_id},")
    return KeyRing(keys, origin)


def key_from_environment() -> bool:
    """Whether the keys come from ``TRACER_KEY`` (which tracer cannot rewrite) rather than a key file."""
    return os.environ.get(ENV_VAR) is not None


def create_key_file(path: Path) -> KeyRing:
    """Write a fresh random key (key 1), readable by its owner only; refuse to overwrite."""
    key = Key(secrets.token_bytes(KEY_BYTES))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyError_(f"key file {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyError_(f"cannot create key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key.secret.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return KeyRing({1: key}, f"key file {path}")


def load_ring(key_path: Path) -> KeyRing:
    """The key ring from ``TRACER_KEY`` if set, else from the key file (refused if others may read it)."""
    env = os.environ.get(ENV_VAR)
    if env is not None:
        return parse_ring(env, ENV_VAR)
    try:
        mode = key_path.stat().st_mode
    except FileNotFoundError:
        raise KeyError_(f"key file {key_path} not found (set {ENV_VAR}, or put the key file beside the registry)"
                        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(
            f"key file {key_path} is readable by others (mode {stat.S_IMODE(mode):o}); run: chmod 600 {key_path}"
        )
    try:
        text = key_path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeyError_(f"cannot read key file {key_path}") from None
    return parse_ring(text, f"key file {key_path}")


def write_ring(key_path: Path, ring: KeyRing) -> None:
    """Replace the key file with ``ring`` atomically (0600 temp file, fsync, rename): never half a ring."""
    try:
        replace_private(key_path, ring.file_text().encode("ascii"))
    except OSError as exc:
        raise KeyError_(f"cannot write key file {key_path}: {exc.strerror}") from None
