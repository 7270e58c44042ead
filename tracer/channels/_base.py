"""What every mark slot is, and the helpers the channel modules share.

A *mark slot* is one binary, meaning-preserving choice inside a cell: the
exporter writes variant 0 or variant 1 for one bit of the account's codeword,
and the matcher later reads which variant a leaked cell shows, blind (no source
data, no key).  Slots know nothing about keys, accounts or codeword positions:
the slot's ``NAME`` enters the keyed hash elsewhere, so it must never change
once released.

Every slot here is built the same way, so that the laws the matcher relies on
hold by construction rather than by care:

* ``locate(cell)`` finds the one place (a :class:`Site`) where the slot lives
  and renders *both* variants of it from what the two variants share;
* ``read`` is the site's current bit; ``embed`` splices in the wanted variant.

Because both variants are rendered from shared content, re-marking from either
variant gives the same text (a re-export is byte-identical), and a slot can
only be wrong by locating differently in the two variants -- which the tests
check on realistic and adversarial cells.
"""

from __future__ import annotations

from typing import ClassVar, Iterable, NamedTuple

# Han ideographs (CJK Unified and Extension A).
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))


def han_except(excluded: str = "") -> str:
    """A regex class body of the Han ideographs other than ``excluded``.  A
    single class matches much faster than a look-ahead per character."""
    skip = sorted(map(ord, excluded))
    parts = []
    for low, high in _HAN_RANGES:
        for code in [c for c in skip if low <= c <= high] + [high + 1]:
            if low < code:
                parts.append(f"{chr(low)}-{chr(code - 1)}")
            low = code + 1
    return "".join(parts)


# Han ideographs as a regex class body: "[" + HAN + "]".
HAN = han_except()


class Site(NamedTuple):
    """Where a slot lives in one cell: ``cell[start:end]`` shows
    ``variants[bit]``; writing ``variants[b]`` there shows bit ``b``."""

    start: int
    end: int
    bit: int
    variants: tuple[str, str]


class MarkSlot:
    """One binary mark slot.  Subclasses declare ``NAME`` and ``COLUMN_KINDS``
    and implement :meth:`locate`; ``read`` and ``embed`` follow from it."""

    NAME: ClassVar[str] = ""
    COLUMN_KINDS: ClassVar[tuple[str, ...]] = ()
    # True for a slot whose variants a rounding cleaning rewrites at random
    # (the last digit of a number): the matcher then asks :meth:`coarse` of
    # every cell it reads, and erases a stream whose every cell is coarse.
    ROUNDABLE: ClassVar[bool] = False

    def coarse(self, cell: str) -> bool:
        """Whether ``cell`` is written at the precision a cleaning rounds to
        (a whole number).  A column of such cells may have been rounded, and
        what its slot reads would then be noise, not the exported bit."""
        return False

    def locate(self, cell: str) -> Site | None:
        """The site of this slot in ``cell``, or None when the slot is absent
        or ambiguous there (the matcher then records an erasure)."""
        raise NotImplementedError

    def read(self, cell: str) -> int | None:
        """0 or 1: which variant the cell shows; None when the slot is absent
        from this cell or ambiguous (an erasure)."""
        site = self.site(cell)
        return None if site is None else site.bit

    def embed(self, cell: str, bit: int) -> str:
        """The cell showing variant ``bit``; the cell itself (same object)
        when ``read(cell)`` is None.  A changed cell comes back as plain
        ``str``: callers holding typed cells re-wrap it."""
        if bit != 0 and bit != 1:
            raise ValueError(f"bit must be 0 or 1, not {bit!r}")
        site = self.site(cell)
        if site is None:
            return cell
        return cell[: site.start] + site.variants[bit] + cell[site.end :]

    # The exporter reads a cell, then embeds into the same cell: remembering
    # the last site halves its cost.  One tuple, swapped whole, so threads
    # sharing a slot never see a site paired with another cell.
    _last: tuple[str | None, Site | None] = (None, None)

    def site(self, cell: str) -> Site | None:
        """``locate(cell)``, remembered for the last cell (the exporter reads, then writes)."""
        last = self._last
        if last[0] == cell:
            return last[1]
        site = self.locate(cell)
        self._last = (cell, site)
        return site

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.NAME}>"


def canonical_form(slots: Iterable[MarkSlot], cell: str) -> str:
    """``cell`` with every slot showing variant 1.

    Each slot only swaps synonyms (江苏省/江苏, Street/St), so this form
    denotes what every marked variant denotes; two cells that differ only by
    marks share it.  Used by channel modules whose variants have no simpler
    normal form."""
    for slot in slots:
        cell = slot.embed(cell, 1)
    return cell


def parity_digit(digit: str, bit: int) -> str:
    """The digit of the pair {2k, 2k+1} containing ``digit`` whose parity is
    ``bit``.  Staying inside the pair never carries into the next digit, so a
    number moves by at most one unit of its last digit and seconds never
    change the minute; and both members map to the same pair, which makes
    re-marking deterministic."""
    return str((int(digit) & ~1) | bit)


def parity_site(text: str, index: int) -> Site:
    """The site of the parity bit of the ASCII digit at ``text[index]``."""
    digit = text[index]
    return Site(index, index + 1, int(digit) & 1, (parity_digit(digit, 0), parity_digit(digit, 1)))


def case_style(word: str) -> str:
    """'lower', 'upper' or 'title': how a source word is written, so that a
    written variant looks like its neighbours (Street/St, STREET/ST)."""
    if word.islower():
        return "lower"
    if word.isupper() and len(word) > 1:
        return "upper"
    return "title"


def styled(word: str, style: str) -> str:
    """``word`` (lower-case) written in ``style``."""
    if style == "lower":
        return word
    if style == "upper":
        return word.upper()
    return word[:1].upper() + word[1:]
