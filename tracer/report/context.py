"""What the report says, as plain data for the templates: one view for HTML and Markdown.

Every sentence an investigator may quote is composed here, once, so the two
formats cannot drift apart; the templates only lay it out.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from .. import __version__
from ..columns import MARKABLE_KINDS
from ..terminal import format_p, marks_text, verdict_sentence
from .mask import preview

SHOWN_CANDIDATES = 25
FEW_RECORDS = 64  # leaked rows of one account below which a marks-only conviction is unlikely
FEW_MARKS = 50  # readable marks below which a conviction is unlikely
SUGGESTIVE = 0.01  # a corrected p-value worth mentioning although above the threshold


def bound_p(value: float, log10: float | None = None) -> str:
    """The number after 'below': an underflowed 0 is below 1e-300 (or its log10), not below 0."""
    if value <= 0:
        return f"1e{math.floor(log10)}" if log10 is not None else "1e-300"
    return format_p(value)


def format_time(stamp: str) -> str:
    """'2026-11-25T02:17:22+00:00' -> '2026-11-25 02:17:22 UTC' (registry times are UTC)."""
    text = stamp.replace("T", " ")
    for suffix in ("+00:00", "Z"):
        if text.endswith(suffix):
            return text[: -len(suffix)] + " UTC"
    return text


def format_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _files_by_name(verdict) -> dict:
    return {f.name: f for f in verdict.files}


def canary_tables(suspect, files: dict) -> list[dict]:
    """Canary rows as they stand in the leak, one table per file, each row once.

    A canary row usually holds two canary phones (sender and recipient): two
    hits, one row.  Each row names the export that carried it and when.
    """
    exports = {e.export_id: format_time(e.created) for e in suspect.exports}
    tables: dict[str, dict] = {}
    for hit in suspect.canary_rows:
        table = tables.get(hit.file)
        if table is None:
            leak = files.get(hit.file)
            kinds = [c.kind for c in leak.schema.columns] if leak else []
            headers = [{"header": h, "kind": kinds[i] if i < len(kinds) else ""} for i, h in enumerate(hit.columns)]
            table = tables[hit.file] = {"file": hit.file, "headers": headers, "rows": {}}
        row = table["rows"].setdefault(hit.row_number, {
            "row_number": hit.row_number, "export_id": hit.export_id,
            "exported": exports.get(hit.export_id, "unknown"), "cells": [str(v) for v in hit.row], "canaries": 0})
        row["canaries"] += 1
    return [{**t, "rows": sorted(t["rows"].values(), key=lambda r: r["row_number"])} for t in tables.values()]


def suspect_view(suspect, verdict, files: dict) -> dict:
    """Everything the report says about one accused account."""
    tested = len(verdict.candidates)
    return {
        "account": suspect.account,
        "p": format_p(suspect.p_value, suspect.log10_p_value),
        "meaning": (f"If {suspect.account} were innocent, the chance that it would show evidence this strong is below "
                    f"{bound_p(suspect.p_value, suspect.log10_p_value)} (already corrected for the {tested} account(s) tested)."),
        "p_marks": format_p(suspect.p_marks),
        "p_canaries": format_p(suspect.p_canaries),
        "canary_hits": suspect.canary_hits,
        "canary_tables": canary_tables(suspect, files),
        "canary_row_count": len({(h.file, h.row_number) for h in suspect.canary_rows}),
        "marks_observed": suspect.marks_observed,
        "shared_canaries": suspect.shared_canaries,
        "shared_observed": suspect.shared_observed,
        "shared_agreeing": suspect.shared_agreeing,
        "p_shared": format_p(suspect.p_shared),
        "marks_agreeing": suspect.marks_agreeing,
        "marks_disagreeing": suspect.marks_observed - suspect.marks_agreeing,
        "marks_flipped": (suspect.marks_tail == "disagree" and suspect.marks_observed > 0
                          and suspect.p_marks <= SUGGESTIVE),
        "score": f"{suspect.score:.1f}",
        "records_in_leak": suspect.records_in_leak,
        "exports": [export_view(e) for e in suspect.exports],
        "pairing": [f"{file}: address/email column {column + 1} read as the party of phone column {phone + 1}"
                    for file, column, phone in suspect.pairing],
    }


def export_view(export) -> dict:
    return {
        "export_id": export.export_id,
        "created": format_time(export.created),
        "source": export.source,
        "records_in_leak": export.records_in_leak,
        "canaries_in_leak": export.canaries_in_leak,
    }


def candidate_row(suspect) -> dict:
    return {
        "account": suspect.account,
        "accused": suspect.accused,
        "p": format_p(suspect.p_value, suspect.log10_p_value),
        "canary_hits": suspect.canary_hits,
        "marks": marks_text(suspect),
        "records_in_leak": suspect.records_in_leak,
        "exports": ", ".join(f"#{e.export_id} ({format_time(e.created)})" for e in suspect.exports),
    }


def file_view(leak, canary_rows: set, *, unmask: bool, encoding: str | None) -> dict:
    """A leak file: its identity (SHA-256, size, rows), its recognised columns and first rows."""
    return {
        "name": leak.name,
        "path": leak.path,
        "sha256": leak.sha256,
        "size": leak.size,
        "size_text": format_size(leak.size),
        "rows": leak.rows,
        "ragged": leak.ragged,
        "skipped": "; ".join(leak.skipped_text() + [leak.columns_text()] * bool(leak.columns_not_read)
                             + [f"then stopped: {leak.stopped}"] * bool(leak.stopped)) or "none",
        "archive": (f"member {leak.archive[2]} of {leak.archive[0]} (archive SHA-256 {leak.archive[1]})"
                    if leak.archive else ""),
        "columns": [{"number": c.index + 1, "header": c.header, "kind": c.kind, "by": c.by,
                     "confidence": f"{c.confidence:.0%}", "markable": c.kind in MARKABLE_KINDS}
                    for c in leak.schema.columns],
        "preview": preview(leak, canary_rows, unmask=unmask, encoding=encoding),
    }


def why_nobody(verdict) -> list[dict]:
    """Why no account is accused, each reason with what would help; most decisive first."""
    candidates = verdict.candidates
    if not candidates:
        return [{
            "reason": "The data was never exported through tracer (no candidate account)",
            "detail": (f"None of the {verdict.rows} leaked rows matches a record that any of the "
                       f"{verdict.accounts_registered} registered account(s) exported, and no canary appears. "
                       "No account received these records, so none can be tested."),
            "help": ("Check that this is the registry that guards this data. Data that never went through a "
                     "tracer export (taken straight from the database or a backup, or another company's data) "
                     "carries no marks: look at the other ways out of the system."),
        }]
    reasons = []
    covered = max(candidates, key=lambda s: (s.records_in_leak, s.marks_observed))
    most_marks = max(s.marks_observed for s in candidates)
    markable = sorted({c.kind for f in verdict.files for c in f.schema.columns if c.kind in MARKABLE_KINDS})
    if covered.records_in_leak < FEW_RECORDS:
        reasons.append({
            "reason": "Too few rows",
            "detail": (f"The best-covered account, {covered.account}, received only {covered.records_in_leak} "
                       f"of the {verdict.rows} leaked rows."),
            "help": ("More rows from the same source: a larger sample from the seller, or every file of the same "
                     "batch passed together to one tracer match."),
        })
    if most_marks == 0 or most_marks < FEW_MARKS:
        erased = verdict.channels_erased
        reasons.append({
            "reason": "No marks readable" if most_marks == 0 else "Few marks readable",
            "detail": (f"At most {most_marks} mark(s) could be read for any tested account; a conviction usually "
                       f"needs at least about {FEW_MARKS}. Columns that can carry marks: "
                       f"{', '.join(markable) or 'none'}."
                       + (f" Channels a cleaning made uniform (treated as erased): {', '.join(erased)}." if erased
                          else "")),
            "help": ("A copy closer to the original export: more of its columns (address, weight, time, e-mail), "
                     "in their original formatting, from earlier in the resale chain. A complete copy whose "
                     "spellings are uniform throughout may also never have gone through a tracer export."),
        })
    strongest = candidates[0]
    if strongest.p_value <= SUGGESTIVE:
        reasons.append({
            "reason": "Suggestive, not conclusive",
            "detail": (f"The strongest account, {strongest.account}, has p = {format_p(strongest.p_value)}, "
                       f"above the threshold {verdict.fpr:g}. Do not act on this alone."),
            "help": "More rows of the same leak would confirm or clear it.",
        })
    elif not reasons:
        reasons.append({
            "reason": "The marks match no account",
            "detail": (f"{len(candidates)} account(s) received some of these records and enough marks were read, "
                       "but none of their codewords agrees with the marks more than chance allows. The copy "
                       "that leaked most likely never went through a tracer export of these accounts."),
            "help": ("Look at the other ways out of the system: direct database access, backups, APIs, "
                     "exports made before tracer was installed."),
        })
    return reasons


def build_context(verdict, *, unmask: bool = False, encoding: str | None = None) -> dict:
    """The whole report as data; ``unmask`` shows real people's names and phones in full."""
    files = _files_by_name(verdict)
    canary_rows = {(h.file, h.row_number) for s in verdict.candidates for h in s.canary_rows}
    tested = len(verdict.candidates)
    return {
        "version": __version__,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "sentence": verdict_sentence(verdict),
        "accused": [suspect_view(s, verdict, files) for s in verdict.suspects],
        "reasons": [] if verdict.suspects else why_nobody(verdict),
        "candidates": [candidate_row(s) for s in verdict.candidates[:SHOWN_CANDIDATES]],
        "more_candidates": max(0, tested - SHOWN_CANDIDATES),
        "files": [file_view(f, canary_rows, unmask=unmask, encoding=encoding) for f in verdict.files],
        "unread": [{"file": u.label, "reason": u.reason} for u in getattr(verdict, "unread", [])],
        "rows": verdict.rows,
        "fpr": f"{verdict.fpr:g}",
        "tested": tested,
        "registered": verdict.accounts_registered,
        "registry_id": getattr(verdict, "registry_id", "") or "unknown",
        "positions_read": verdict.positions_read,
        "channels_erased": list(verdict.channels_erased),
        "unmask": unmask,
    }
