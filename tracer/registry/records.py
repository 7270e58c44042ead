"""What the registry hands out: plain records, no connection, no secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    uid: bytes
    note: str
    created: str


@dataclass(frozen=True)
class Export:
    id: int
    account_id: int
    created: str
    source: str
    output: str
    rows: int
    canaries: int
    marked_cells: int
    released: str | None


@dataclass(frozen=True)
class RegisteredKey:
    """A key as the registry knows it: never the secret, only when it came and what it made."""

    id: int
    created: str
    exports: int


@dataclass(frozen=True)
class CodeParams:
    """The code's public shape; its biases are re-derived from the key."""

    length: int
    cutoff: float


@dataclass(frozen=True)
class Compaction:
    """What ``registry compact`` did: exposure runs before and after, the digests they hold, bytes on disk."""

    runs_before: int
    runs_after: int
    digests: int
    bytes_before: int
    bytes_after: int
