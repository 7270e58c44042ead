"""The registry's history: a keyed chain through the export entries, and the checks of ``tracer registry check``.

Each export entry carries ``chain_link(key, previous link, entry, canaries)``
under the key the export was made with.  Export rows are append-only
(triggers), and the chain makes a rewrite of the history that a trigger
cannot stop (editing the file itself) show: without the keys nobody can
compute links that verify again.  The chain runs in the order the entries
took the registry's serial lock (on SQLite the id order; on PostgreSQL ids
come from a sequence and the order is each entry's position).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..keys import Key, KeyRing

if TYPE_CHECKING:
    from .base import Registry


def chain_link(key: Key, previous: str, entry: tuple, canaries: list[tuple[int, int]]) -> str:
    """The keyed digest linking an export entry to the one before it (tamper-evident history)."""
    text = repr((previous, tuple(entry), [tuple(c) for c in canaries])).encode()
    return key.digest("chain", text, 16).hex()


def history_problems(registry: "Registry", ring: KeyRing) -> list[str]:
    """Each export entry's link, key and exposure count, and exposure of no entry; engine-neutral."""
    problems: list[str] = []
    counts = registry.exposure_counts()
    previous = registry.id
    seen: set[int] = set()
    for entry, chain, key_id, canaries in registry.history():
        export_id, key = entry[0], ring.keys.get(key_id)
        seen.add(export_id)
        if key is None:
            problems.append(f"export {export_id}: made with key {key_id}, which the registry does not know")
        elif chain_link(key, previous, entry, canaries) != chain:
            problems.append(f"export {export_id}: its entry, its canaries or an earlier entry was altered")
        if counts.get(export_id, 0) != entry[8]:
            problems.append(f"export {export_id}: {counts.get(export_id, 0)} exposure digests, "
                            f"{entry[8]} recorded")
        previous = chain
    problems += [f"exposure digests of export {i}, which is not registered" for i in sorted(set(counts) - seen)]
    return problems
