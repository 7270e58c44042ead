"""Which phone an address goes with, when a headerless leak does not say.

A dump without headers shows two phone columns and two address columns, and
nothing says which address is the sender's.  The exporter placed each
address's marks at its party's phone's positions; the matcher reads such an
address at every candidate phone's positions (``marks.anchor_choices``), one
stream per candidate, and a *pairing* keeps one candidate per uncertain
column.  Every account is scored under every pairing and keeps its smallest
p-value times the number of pairings tried (Bonferroni): the choice may look
at codewords because it is paid for.  With more than ``MAX_PAIRINGS``
pairings only the nearest phones are tried, as the exporter itself chooses
when headers do not pair columns.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import product
from math import prod
from typing import NamedTuple

MAX_PAIRINGS = 16


class Pairing(NamedTuple):
    set_aside: frozenset[int]  # the streams read at the positions of phones this pairing does not choose
    chosen: tuple[tuple[str, int, int], ...]  # (file, column, phone column) for each uncertain column


def pairings(stream_names: dict[tuple, int]) -> list[Pairing]:
    """Every pairing of the leak's uncertain columns; one empty pairing when there are none.

    ``stream_names`` maps (file, column, slot, anchor column) to a stream."""
    candidates: dict[tuple, set] = defaultdict(set)
    for file, column, _, anchor in stream_names:
        candidates[(file, column)].add(anchor)
    uncertain = {k: sorted(v, key=lambda a: (abs(a - k[1]), a)) for k, v in sorted(candidates.items())
                 if len(v) > 1}
    if prod(len(anchors) for anchors in uncertain.values()) <= MAX_PAIRINGS:
        choices = list(product(*uncertain.values()))
    else:  # counted before listed: twenty phone columns would make 10^26 pairings
        choices = [tuple(anchors[0] for anchors in uncertain.values())]
    out = []
    for choice in choices:
        chosen = dict(zip(uncertain, choice))
        set_aside = frozenset(index for (file, column, _, anchor), index in stream_names.items()
                              if chosen.get((file, column), anchor) != anchor)
        out.append(Pairing(set_aside, tuple((f, c, a) for (f, c), a in chosen.items())))
    return out
