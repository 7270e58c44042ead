"""The book of every match: innocent candidates seen, innocents accused, errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import FPR
from worlds import World

from tracer import api
from tracer.errors import TracerError



@dataclass
class Innocent:
    p_marks: float
    p_uncorrected: float  # 2 min(p_marks, p_canaries): the per-account p before the correction
    p_value: float  # corrected
    marks: int
    score: float
    accused: bool


@dataclass
class Book:
    innocents: dict[str, list[Innocent]] = field(default_factory=dict)  # scenario group -> innocents
    accused: Counter = field(default_factory=Counter)  # scenario group -> innocents accused
    matches: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    counter: int = 0

    def match(self, world: World, paths: Sequence[Path], guilty: set[str], group: str):
        """``api.match`` the leak; every candidate outside ``guilty`` is booked as innocent.
        A TracerError is booked and returns None (a failure to accuse)."""
        self.matches[group] += 1
        try:
            verdict = api.match(world.registry, list(paths), fpr=FPR)
        except TracerError as exc:
            self.errors.append(f"{group}: {exc}")
            return None
        for c in verdict.candidates:
            if c.account in guilty:
                continue
            unc = min(1.0, 2.0 * min(c.p_marks, c.p_canaries))
            self.innocents.setdefault(group, []).append(Innocent(c.p_marks, unc, c.p_value, c.marks_observed, c.score, c.accused))
            if c.accused:
                self.accused[group] += 1
        return verdict

    def path(self, world: World, stem: str) -> Path:
        self.counter += 1
        return world.work / f"leak-{self.counter:06d}-{stem}"

