"""The verdict as a person reads it in a terminal (rich tables on stdout)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from .accuse import Verdict

SHOWN_CANDIDATES = 10


def verdict_sentence(verdict: Verdict) -> str:
    """The verdict in one sentence."""
    accused = verdict.suspects
    tested = len(verdict.candidates)
    if accused:
        names = ", ".join(s.account for s in accused)
        return (f"ACCUSED: {names} — each with a chance below {verdict.fpr:g} that an innocent account "
                f"shows evidence this strong ({tested} account(s) tested, {verdict.rows} leaked rows).")
    if not tested:
        return (f"Nobody accused: none of the {verdict.rows} leaked rows was ever exported "
                f"from this registry (no exposure, no canary).")
    return (f"Nobody accused at fpr {verdict.fpr:g}: {tested} account(s) received some of these records, "
            f"but the evidence does not convict any of them.")


def format_p(value: float, log10: float | None = None) -> str:
    """A p-value as people read it: 0.42, 3.1e-09; one below a float's range from its log10 (1e-1234)."""
    if value <= 0:
        return f"1e{math.floor(log10)}" if log10 is not None else "< 1e-300"
    return f"{value:.2f}" if value >= 0.01 else f"{value:.2e}"


def marks_text(suspect) -> str:
    """Marks agreeing/read, and when the score lies in the lower tail, that the marks disagree.

    The p-value is two-sided: a copy whose marks disagree with an account's
    codeword far beyond chance (every variant flipped) convicts as well, so
    "3/633" alone would misread as weak evidence.
    """
    text = f"{suspect.marks_agreeing}/{suspect.marks_observed}"
    return text + " (disagreeing)" if suspect.marks_tail == "disagree" and suspect.marks_observed else text


def print_verdict(verdict: Verdict, console: Console) -> None:
    console.print(verdict_sentence(verdict))
    if not verdict.candidates:
        return
    table = Table("account", "accused", "p-value", "canaries", "marks agree/read", "shared agree/read", "rows",
                  "exports (UTC)")
    table.columns[0].no_wrap = True
    for suspect in verdict.candidates[:SHOWN_CANDIDATES]:
        exports = "; ".join(f"#{e.export_id} {e.created[:16].replace('T', ' ')}" for e in suspect.exports)
        table.add_row(
            suspect.account,
            "YES" if suspect.accused else "no",
            format_p(suspect.p_value, suspect.log10_p_value),
            str(suspect.canary_hits),
            marks_text(suspect),
            f"{suspect.shared_agreeing}/{suspect.shared_observed}",
            str(suspect.records_in_leak),
            exports,
        )
    console.print(table)
    hidden = len(verdict.candidates) - SHOWN_CANDIDATES
    if hidden > 0:
        console.print(f"... and {hidden} more account(s) tested, none stronger.")
