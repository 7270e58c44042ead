"""The secret key, and every keyed function derived from it.

The key is 32 random bytes that live apart from the registry: in a key file
(mode 0600, ``tracer.key`` beside ``tracer.db`` by default) or in the
``TRACER_KEY`` environment variable (64 hex digits).  Nothing in the registry
or in an export can be tied to an account without it.

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
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import KeyError_

KEY_BYTES = 32
ENV_VAR = "TRACER_KEY"


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


def create_key_file(path: Path) -> Key:
    """Write a fresh random key, readable by its owner only; refuse to overwrite."""
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
    return key


def load_key(key_path: Path) -> Key:
    """The key from ``TRACER_KEY`` if set, else from the key file."""
    env = os.environ.get(ENV_VAR)
    if env is not None:
        return parse_hex_key(env, ENV_VAR)
    try:
        mode = key_path.stat().st_mode
    except FileNotFoundError:
        raise KeyError_(f"key file {key_path} not found (set {ENV_VAR} or pass --key)") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(
            f"key file {key_path} is readable by others (mode {stat.S_IMODE(mode):o}); run: chmod 600 {key_path}"
        )
    try:
        text = key_path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeyError_(f"cannot read key file {key_path}") from None
    return parse_hex_key(text, f"key file {key_path}")
