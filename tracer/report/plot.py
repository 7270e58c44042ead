"""The score plot: every tested account's evidence against the accusation threshold, as SVG.

Drawn by hand, not by a plotting library, so that the HTML report stays one
self-contained file that opens offline and the Markdown report needs only one
SVG file beside it.

The horizontal axis is the corrected p-value on a doubly logarithmic scale
(``log10(1 + -log10 p)``): it keeps ``p = 1`` at the left edge, spreads the
innocent accounts near it, and still fits a ``p = 1e-300`` accused account on
the same page.  The threshold ``p = fpr`` is a vertical line, so an account is
right of the line exactly when it is accused.  Innocent accounts are grey
dots stacked in columns (one dot per account, a ``+N`` when a column
overflows); accused accounts are red, with their names.  When nobody is
accused, the strongest account is named in grey, so a near miss is visible.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup, escape

CLIP = 300.0  # -log10 p beyond this (and p == 0, an underflow) is drawn at the edge
TICKS = (0, 1, 3, 10, 30, 100, 300)
WIDTH = 900
LEFT, RIGHT = 30, 40
DOT = 9  # dot diameter and column width, px
MAX_STACK = 10  # dots per column before "+N"
MAX_LABELS = 12  # accused accounts named on the plot
LABEL_ROW = 16
AXIS_HEIGHT = 58
INNOCENT, ACCUSED, THRESHOLD = "#8a8f98", "#c62828", "#c62828"


def strength(p_value: float) -> float:
    """-log10 of a p-value, clipped to [0, CLIP]; an underflowed 0 counts as the clip."""
    if p_value <= 0:
        return CLIP
    return min(CLIP, max(0.0, -math.log10(p_value)))


@dataclass(frozen=True)
class Axis:
    """Maps a strength (-log10 p) to an x pixel on the doubly logarithmic scale."""

    top: float  # strength at the right edge

    @classmethod
    def covering(cls, strengths: list[float], threshold: float) -> "Axis":
        """The smallest tick range that shows every account and the threshold with room to spare."""
        need = max([threshold * 1.5, 10.0, *strengths])
        return cls(next((t for t in TICKS if t >= need), CLIP))

    def x(self, value: float) -> float:
        span = WIDTH - LEFT - RIGHT
        return LEFT + span * math.log10(1 + min(value, self.top)) / math.log10(1 + self.top)


def _p_label(value: float) -> str:
    """A tick label as a p-value: '1', '0.1', or 10 with a superscript exponent."""
    if value == 0:
        return "1"
    if value == 1:
        return "0.1"
    return f'10<tspan dy="-6" font-size="9">−{value:g}</tspan>'


def _columns(points: list[tuple[float, str]], axis: Axis) -> dict[int, list[tuple[float, str]]]:
    """Dots grouped into pixel columns DOT wide, so that equal scores stack instead of overlapping."""
    columns: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for value, title in points:
        columns[int(axis.x(value) // DOT)].append((value, title))
    return columns


def _dot(cx: float, cy: float, colour: str, title: str) -> str:
    return (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{DOT / 2 - 0.5:.1f}" fill="{colour}">'
            f"<title>{escape(title)}</title></circle>")


def _stacks(points: list[tuple[float, str]], axis: Axis, base: float, colour: str, height: int) -> list[str]:
    """One column of stacked dots per pixel bin, growing upwards from ``base``, at most ``height`` high."""
    parts = []
    for column, dots in sorted(_columns(points, axis).items()):
        cx = column * DOT + DOT / 2
        shown = dots if len(dots) <= height else dots[: height - 1]
        for level, (_, title) in enumerate(shown):
            parts.append(_dot(cx, base - DOT / 2 - level * DOT, colour, title))
        if len(shown) < len(dots):
            top = base - height * DOT
            parts.append(f'<text x="{cx:.1f}" y="{top + DOT - 1:.1f}" font-size="10" text-anchor="middle" '
                         f'fill="{colour}">+{len(dots) - len(shown)}</text>')
    return parts


def _stack_height(candidates: list, axis: Axis) -> int:
    """Dots in the tallest column, between 3 and MAX_STACK: the plot is no taller than it needs."""
    tallest = max((len(d) for d in _columns([(strength(s.p_value), "") for s in candidates], axis).values()),
                  default=0)
    return max(3, min(MAX_STACK, tallest))


def _title(suspect, value: float) -> str:
    p = "p < 1e-300 (clipped)" if value >= CLIP else f"p = {suspect.p_value:.3g}"
    return f"{suspect.account}: {p}"


def _named(verdict) -> list:
    """Accounts named on the plot: the accused, strongest first; else the strongest account if p < 1."""
    accused = sorted(verdict.suspects, key=lambda s: strength(s.p_value), reverse=True)
    if accused or not verdict.candidates:
        return accused
    best = max(verdict.candidates, key=lambda s: strength(s.p_value))
    return [best] if strength(best.p_value) > 0 else []


def _labels(named: list, axis: Axis, base: float) -> list[str]:
    """Named accounts, one row each above the dots, joined to their dot by a line."""
    parts = []
    for row, suspect in enumerate(named[:MAX_LABELS]):
        value = strength(suspect.p_value)
        colour = ACCUSED if suspect.accused else INNOCENT
        text = _title(suspect, value) + ("" if suspect.accused else " (not accused)")
        x = axis.x(value)
        y = 14 + row * LABEL_ROW
        anchor, dx = ("end", -4) if x > WIDTH / 2 else ("start", 4)
        parts.append(f'<line x1="{x:.1f}" y1="{y + 3}" x2="{x:.1f}" y2="{base - DOT:.1f}" '
                     f'stroke="{colour}" stroke-width="0.8" stroke-dasharray="2 2"/>')
        parts.append(f'<text x="{x + dx:.1f}" y="{y}" font-size="12" font-weight="bold" '
                     f'text-anchor="{anchor}" fill="{colour}">{escape(text)}</text>')
    hidden = len(named) - MAX_LABELS
    if hidden > 0:
        y = 14 + MAX_LABELS * LABEL_ROW
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{y}" font-size="11" text-anchor="end" '
                     f'fill="{ACCUSED}">and {hidden} more accused</text>')
    return parts


def _axis(axis: Axis, base: float, threshold: float, fpr: float, top: float) -> list[str]:
    """Baseline, ticks labelled as p-values, the threshold line and the accused zone."""
    x_thr = axis.x(threshold)
    parts = [
        f'<rect x="{x_thr:.1f}" y="{top}" width="{WIDTH - RIGHT - x_thr:.1f}" height="{base - top:.1f}" '
        f'fill="{ACCUSED}" fill-opacity="0.06"/>',
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#333"/>',
    ]
    for tick in (t for t in TICKS if t <= axis.top):
        x = axis.x(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 5}" stroke="#333"/>')
        parts.append(f'<text x="{x:.1f}" y="{base + 19}" font-size="11" text-anchor="middle">'
                     f"{_p_label(tick)}</text>")
    parts.append(f'<line x1="{x_thr:.1f}" y1="{top}" x2="{x_thr:.1f}" y2="{base + 24}" stroke="{THRESHOLD}" '
                 f'stroke-width="1.5" stroke-dasharray="6 3"/>')
    parts.append(f'<text x="{x_thr + 4:.1f}" y="{base + 34}" font-size="11" fill="{THRESHOLD}">'
                 f"accusation threshold: p = fpr = {fpr:g}</text>")
    parts.append(f'<text x="{LEFT}" y="{base + 50}" font-size="11" fill="#444">'
                 "corrected p-value of each tested account (log–log scale; further right = stronger "
                 "evidence; each dot is one account)</text>")
    return parts


def score_plot(verdict, *, standalone: bool = False) -> Markup:
    """The SVG figure for ``verdict``; ``standalone`` adds the XML header for a separate .svg file."""
    candidates = verdict.candidates
    named = _named(verdict)
    threshold = strength(verdict.fpr)
    axis = Axis.covering([strength(s.p_value) for s in candidates], threshold)
    stack = _stack_height(candidates, axis)
    top = LABEL_ROW * (min(len(named), MAX_LABELS) + (len(named) > MAX_LABELS)) + 8
    base = top + DOT * stack + 8
    height = base + AXIS_HEIGHT
    body = _axis(axis, base, threshold, verdict.fpr, top)
    for accused, colour in ((False, INNOCENT), (True, ACCUSED)):
        points = [(strength(s.p_value), _title(s, strength(s.p_value))) for s in candidates if s.accused == accused]
        body += _stacks(points, axis, base, colour, stack)
    body += _labels(named, axis, base)
    if not candidates:
        body.append(f'<text x="{WIDTH / 2}" y="{base - 12}" font-size="13" text-anchor="middle" fill="#444">'
                    "no account tested: none received any of the leaked records</text>")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    svg = (f'{head}<svg{namespace} class="scores" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
           f'height="{height}" role="img" font-family="sans-serif" '
           f'aria-label="Scores of {len(candidates)} tested accounts against the accusation threshold">'
           f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>' + "".join(body) + "</svg>\n")
    return Markup(svg)
