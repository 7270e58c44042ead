"""Canary phones that harm nobody: numbers the company holds, and the trace of each.

A canary phone drawn at random on a real segment is, most of the time,
either somebody's phone (a third party who then gets the fraud calls) or an
unassigned one (which the number screening brokers sell removes, canary and
all).  A pool of numbers the company holds avoids both: canaries take their
phones from it, and a call or an SMS to a pool number is a tripwire that
fires before any dump is found; ``trace`` says which exports carried it.

What a pool number is *not*: a value drawn uniformly at random from its
segment.  It was chosen by the company, may have been someone else's before
(numbers are recycled) and so may sit in older data that never passed
through tracer.  The chance bound ``C(C, h) (n/space)^h`` of random canaries
has no valid analogue for it, so a pool canary is registered with space
``POOL_SPACE`` (< 0): it is reported as evidence (which exports and accounts
carried the number, and when) and adds nothing to any p-value.

The registry holds a pool number only as a keyed digest (to trace it: the
user gives the number) and sealed (AES-GCM under a key derived from the
tracer key: exports need the number itself).  Neither says anything without
the key, which never enters the registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .columns import phone_anchor
from .errors import InputError, KeyError_
from .keys import Key, KeyRing

POOL_SPACE = -1  # a canary value from the pool: evidence, no p-value
# Chinese segments that are no ordinary subscriber's line: virtual operators (转售, resold
# numbers brokers screen out and fraudsters favour) and data-only / IoT segments.
CN_VIRTUAL = ("162", "165", "167", "170", "171")
CN_NOT_PHONES = ("140", "141", "144", "146", "148")


@dataclass(frozen=True)
class PoolNumber:
    anchor: str  # 'cn:13800138000' or 'us:4155550134'
    line: int

    @property
    def digits(self) -> str:
        return self.anchor[3:]


def check_number(text: str, where: str) -> str:
    """The anchor of a number fit for the pool, or an ``InputError`` naming what is wrong with it."""
    anchor = phone_anchor(text)
    if anchor is None:
        raise InputError(f"{where}: {text.strip()!r} is not a Chinese mobile or US phone number")
    digits = anchor[3:]
    if anchor.startswith("cn:"):
        if digits[:3] in CN_VIRTUAL:
            raise InputError(f"{where}: {digits} is on a virtual-operator segment ({digits[:3]}); "
                             "pool numbers must be on ordinary segments")
        if digits[:3] in CN_NOT_PHONES:
            raise InputError(f"{where}: {digits} is on a data-only segment ({digits[:3]}); "
                             "pool numbers must be on ordinary segments")
    else:
        area, exchange = digits[:3], digits[3:6]
        if area[1:] == "11" or exchange[1:] == "11" or exchange[0] in "01":
            raise InputError(f"{where}: {digits} is not a valid North American number")
        if exchange == "555":
            raise InputError(f"{where}: {digits} is a fictional 555 number; pool numbers must be real lines")
    return anchor


def read_pool_file(path: Path) -> list[PoolNumber]:
    """One number a line; blank lines and ``#`` comments skipped.  Any bad line refuses the whole file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the pool file ({getattr(exc, 'strerror', None) or exc})") from None
    numbers, seen = [], set()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        anchor = check_number(line, f"{Path(path).name}: line {number}")
        if anchor not in seen:
            seen.add(anchor)
            numbers.append(PoolNumber(anchor, number))
    if not numbers:
        raise InputError(f"{path}: no numbers in the pool file")
    return numbers


def pool_digest(key: Key, anchor: str) -> int:
    """The keyed digest a pool number is stored and traced under."""
    return int.from_bytes(key.digest("pool", anchor.encode(), 8), "little", signed=True)


def pair_digest(key: Key, anchor: str, name: str) -> int:
    """A pool number together with the name a canary gave it: which account's canary a leaked row is."""
    return int.from_bytes(key.digest("poolname", f"{anchor}|{name.strip()}".encode(), 8), "little", signed=True)


def seal(key: Key, anchor: str) -> bytes:
    """The number, encrypted (AES-GCM, a nonce derived from it: the same number seals the same way)."""
    nonce = key.digest("poolnonce", anchor.encode(), 12)
    return nonce + AESGCM(key.digest("poolseal", b"", 32)).encrypt(nonce, anchor.encode(), b"tracer pool")


def unseal(key: Key, sealed: bytes) -> str:
    try:
        return AESGCM(key.digest("poolseal", b"", 32)).decrypt(sealed[:12], sealed[12:], b"tracer pool").decode()
    except InvalidTag:
        raise KeyError_("a canary-pool number does not open with its key: the registry or key file is damaged") \
            from None


def pool_entries(ring: KeyRing, numbers: Iterable[PoolNumber]) -> list[tuple[int, bytes, str]]:
    """(digest, sealed, anchor) under the current key, for the registry."""
    key = ring.current
    return [(pool_digest(key, n.anchor), seal(key, n.anchor), n.anchor) for n in numbers]


def numbers_by_kind(ring: KeyRing, stored: Iterable[tuple[int, bytes]]) -> dict[str, tuple[str, ...]]:
    """The pool's numbers, opened, by kind ('cn', 'us'), each kind sorted (exports are deterministic)."""
    out: dict[str, set[str]] = {}
    for key_id, sealed in stored:
        anchor = unseal(ring.keys[key_id], sealed)
        out.setdefault(anchor[:2], set()).add(anchor[3:])
    return {kind: tuple(sorted(values)) for kind, values in out.items()}


DIGIT = re.compile(r"\d")


def in_layout(layout: str, digits: str) -> str:
    """``digits`` written like ``layout`` (a donor phone: '138 0013 8000', '+86-138...', '(415) 555-0134').

    The donor's own prefix digits (86, 1) are kept; the number's digits fill the rest from the right.
    """
    slots = [m.start() for m in DIGIT.finditer(layout)]
    if len(slots) < len(digits):
        return digits
    out = list(layout)
    for position, digit in zip(slots[len(slots) - len(digits):], digits):
        out[position] = digit
    return "".join(out)


def add_numbers(registry, ring: KeyRing, numbers: list[PoolNumber]) -> int:
    """Put ``numbers`` into the registry's pool (sealed under the current key); how many were new."""
    rows = []
    for digest, sealed, anchor in pool_entries(ring, numbers):
        every_key = [(key_id, pool_digest(key, anchor)) for key_id, key in ring.keys.items()]
        rows.append((every_key, (digest, ring.current_id, sealed)))
    return registry.add_pool_numbers(rows)


@dataclass(frozen=True)
class Carried:
    """One export whose canaries carried a traced number."""

    export_id: int
    account: str
    created: str
    output: str
    pool: bool  # a pool number (no p-value) rather than one drawn at random (chance-bounded)

    def as_json(self) -> dict:
        return {"export_id": self.export_id, "account": self.account, "created": self.created,
                "output": self.output, "pool": self.pool}


def trace(registry, ring: KeyRing, number: str) -> list[Carried]:
    """Every export whose canaries carried ``number`` (a pool number or a random canary phone), oldest first.

    The registry knows canary phones only as keyed digests: the number is
    hashed under each key of the ring and looked up, so nothing is stored in
    clear and the user, who has the number, finds it.
    """
    from .marks import AnchorHasher  # the anchors' own digests: as the exporter registered them

    anchor = phone_anchor(number)
    if anchor is None:
        raise InputError(f"{number.strip()!r} is not a Chinese mobile or US phone number")
    found: dict[int, int] = {}
    for key_id, key in sorted(ring.keys.items()):
        digest = AnchorHasher(key)(anchor).exposure
        for _, export_id, space in registry.canaries_of([digest], key_id):
            found[export_id] = space
    exports = registry.exports(found)
    accounts = registry.account_names(e.account_id for e in exports.values())
    return [Carried(e.id, accounts[e.account_id], e.created, e.output, found[e.id] == POOL_SPACE)
            for e in sorted(exports.values(), key=lambda e: e.id)]
