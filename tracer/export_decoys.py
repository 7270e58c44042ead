"""Drawing one export's decoys: the account's own canaries and the shared decoys, each checked to collide
with nothing (no exported record, no other account's canary, no other slot's version), then marked.

``DecoyDraws`` is the drawing half of ``export._Exporter``, which holds the state it reads and fills
(the export's key, plan, codeword, registry, recent rows and the decoys drawn so far); where and when a
decoy goes in the file is the exporter's loop.
"""

from __future__ import annotations

import random

from .canary_pool import POOL_SPACE, pair_digest
from .canaries import RECENT, Donors, gap_weight, make_canary
from .canary_window import Window
from .columns import phone_anchor
from .engine import native_engine
from .errors import TracerError
from .marks import RowAnchors, mark_row, marked_cells, row_anchors
from .shared_canaries import VersionBits, draw_version, slot_for, version_seed
from .shared_meaning import encode_meaning

CANARY_ATTEMPTS = 32


class DecoyDraws:
    """Decoys for an ``_Exporter``: ``canary_after`` and ``shared_after`` and the checks they need."""

    def repeats(self, phone: str) -> bool:
        """Whether the phone in cell ``phone`` was on more than one row so far: read and hashed by the
        engine's count when it can (a draw asks it of ~8 window rows' phones), else here."""
        ask = getattr(self.phone_counts, "repeats_phone", None)
        known = ask(phone) if ask is not None and type(phone) is str else None
        if known is not None:
            return known
        text = phone_anchor(phone)
        return text is not None and self.phone_counts.repeats(self.hasher(text).exposure)

    def canary_after(self, before: list[str], after: list[str] | None, seed: bytes) -> list[str]:
        """A marked canary to sit between ``before`` and ``after``.

        Its new phones must be nobody's: no exported record's, no other
        account's canary's.  Its identifier must be no exported record's; when
        the neighbours leave no free identifier between them, later attempts
        draw a fresh one instead.  "Exported" means under any key of the ring.
        """
        rng = random.Random(seed)
        recent = self.donor_rows()
        for attempt in range(CANARY_ATTEMPTS):
            fits = attempt < CANARY_ATTEMPTS // 2
            donors = Donors(recent, before, after if fits else None, self.repeats, self.is_known, self.unused_pool())
            canary = make_canary(self.schema, donors, rng)
            anchors = row_anchors(self.plan, canary.row, self.hasher)
            fake = {anchors.by_column[i].exposure: space for i, space in canary.spaces.items()
                    if i in anchors.by_column}
            if not fake or not self.canaries.keys().isdisjoint(fake) or not self.shared.keys().isdisjoint(fake):
                continue
            if any(self.registry.shared_meanings(d) for d in fake):
                continue
            if self.taken(canary.row, [i for i in canary.spaces if i in anchors.by_column], canary.pooled):
                continue
            self.canaries.update(fake)
            self.pool_used.update(phone_anchor(str(canary.row[i]))[3:] for i in canary.pooled)
            self.canaries.update(dict.fromkeys(self.pool_pairs(canary), POOL_SPACE))
            self.fallback |= canary.fallback
            return self.marked(canary.row, anchors, self.bits)
        raise TracerError("could not draw a canary that collides with no known record; export again")

    def donor_rows(self) -> Window:
        """What a decoy's parts are drawn from: the recent rows, or the export's first rows while fewer
        have passed (an early canary drawn from three rows would be nearly their copy).  Either is a
        ``Window``, whose column indexes are kept from one canary to the next."""
        if len(self.recent) >= len(self.head):
            return self.recent
        if self.head_window is None or len(self.head_window) != len(self.head):
            self.head_window = Window(RECENT, self.head)
        return self.head_window

    def is_known(self, text: str) -> bool:
        return text.strip().lower() in self.known

    def pool_pairs(self, canary) -> list[int]:
        """Digests of (pool number, name) for each name of a canary carrying one: a shared number, told
        apart by the name each account's canary gave it."""
        names = [str(canary.row[c.index]) for c in self.schema.of_kind("name") if str(canary.row[c.index]).strip()]
        return [pair_digest(self.key, phone_anchor(str(canary.row[i])), name)
                for i in sorted(canary.pooled) for name in names]

    def unused_pool(self) -> dict[str, tuple[str, ...]]:
        return {kind: tuple(n for n in numbers if n not in self.pool_used) for kind, numbers in self.pool.items()}

    def shared_after(self, before: list[str], record: bytes, exposures: list[int], after: list[str] | None
                     ) -> tuple[list[str], list[str]] | None:
        """The shared decoy following ``before``, when a shared slot follows it (see ``shared_canaries``):
        as written (marked) and as drawn.

        The version is the account's bits at the slot's positions; the decoy
        is drawn from (key, record, version) and the export's rows, so accounts
        with the same records and symbols write the same bytes.  Its new values
        must be nobody else's: no exported record's, no account's own canary,
        no other slot's or version's.
        """
        def gap() -> float | None:
            return gap_weight(self.schema, self.recent, before, after) if after is not None else None

        slot = slot_for(self.key, record, gap, self.length)
        if slot is None:
            return None
        version = slot.version(self.bits)
        seed = version_seed(self.key, slot, version)
        meaning = encode_meaning(slot, version, exposures)
        for attempt in range(CANARY_ATTEMPTS):
            fits = attempt < CANARY_ATTEMPTS // 2
            decoy = draw_version(self.schema, Donors(self.donor_rows(), before, after if fits else None,
                                                     self.repeats), seed, attempt)
            decoy_anchors = row_anchors(self.plan, decoy.row, self.hasher)
            fresh = [i for i, space in decoy.spaces.items() if space > 0 and i in decoy_anchors.by_column]
            digests = [decoy_anchors.by_column[i].exposure for i in fresh]
            if not digests or self.shared_taken(digests, meaning) or self.taken(decoy.row, fresh):
                continue
            self.shared.update(dict.fromkeys(digests, meaning))
            self.shared_rows += 1
            self.fallback |= decoy.fallback
            return self.marked(decoy.row, decoy_anchors, VersionBits(seed)), decoy.row
        return None  # the slot stays empty: an erasure for the matcher, never a wrong symbol

    def marked(self, row: list[str], anchors: RowAnchors, bits) -> list[str]:
        """A decoy's row marked with ``bits`` (``marks.mark_row``), by the engine when it runs.

        Only the bits at the positions the row's marks take are asked of
        ``bits`` (a shared decoy's are a keyed hash per position) and laid in
        a codeword-long array, as the engine reads a codeword; a decoy marked
        in Python, by the slots' patterns, was a tenth of an export.
        """
        if self.native is not None and all(type(cell) is str for cell in row):
            out = self._natively_marked(row, anchors, bits)
            if out is not None:
                return out
        return mark_row(self.plan, row, anchors, bits, self.length)[0]

    def _natively_marked(self, row: list[str], anchors: RowAnchors, bits) -> list[str] | None:
        """``marked`` by the engine; None for a row it cannot take (a lone surrogate has no UTF-8)."""
        if bits is self.bits:
            word = self.codeword
        else:
            wanted = bytearray(self.length)
            for cell_plan, anchor in marked_cells(self.plan, anchors):
                for _, w in cell_plan.slots:
                    position = anchor.words[w] % self.length
                    wanted[position] = bits[position]
            word = bytes(wanted)
        if self.decoy_engine is None:  # its own: the marking thread holds the rows' engine while it marks
            self.decoy_engine = native_engine(self.key, self.plan)
        try:
            return self.decoy_engine.mark([row], word, self.account.uid)[0][0]
        except UnicodeEncodeError:
            return None

    def shared_taken(self, digests: list[int], meaning: tuple[str, str, bytes]) -> bool:
        """Whether a shared decoy's new value is some canary's or another slot's (or version's) value."""
        for digest in digests:
            if digest in self.canaries or self.shared.get(digest, meaning) != meaning:
                return True
            if self.registry.canary_anywhere(digest) or self.registry.shared_meanings(digest) - {meaning[:2]}:
                return True
        return False

    def taken(self, row: list[str], columns: list[int], pooled: frozenset[int] = frozenset()) -> bool:
        """Whether, under some key of the ring, a canary's new value in ``columns`` is already known.

        A phone may be no exported record's and no other account's canary; an
        identifier no exported record's, nor one of this export's own
        (``own_records``: all of them when the export is known whole, so
        that a re-export, which finds them registered, draws the same).  A
        pool number is shared by every account's canaries (with another name
        for each), so only the first holds.
        """
        for hasher in self.ring_hashers:
            anchors = row_anchors(self.plan, row, hasher)
            for index in columns:
                anchor = anchors.by_column[index]
                if hasher is self.hasher and anchor.exposure in self.own_records:
                    return True  # one of this export's own records (a small export is known whole)
                if index in pooled:
                    if self.registry.exported(anchor.exposure):
                        return True
                elif anchor in anchors.phones:
                    if self.registry.canary_conflicts(anchor.exposure, self.account):
                        return True
                elif self.registry.exported(anchor.exposure):
                    return True
        return False

