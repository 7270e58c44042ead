"""A leak file as the verdict states it: where it came from, its SHA-256, what was read and skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .columns import Schema
from .tables.base import SKIP_CAUSES, skip_words


@dataclass(frozen=True)
class LeakFile:
    path: str
    sha256: str
    size: int
    rows: int
    ragged: int
    schema: Schema
    skipped: dict[str, int] = field(default_factory=dict)  # cause (SKIP_CAUSES) -> lines or rows skipped
    archive: tuple[str, str, str] | None = None  # (path, SHA-256, member name) of the archive it came from
    stopped: str = ""  # why reading stopped early (a file found in a folder or archive), else ""
    label: str = ""  # the name its rows go by (canary hits): 'leak.csv', 'leaks/sub/a.csv', 'dump.zip/a.csv'
    columns_not_read: int = 0  # the last columns of a very wide file, past match.MAX_COLUMNS: not looked at

    @property
    def name(self) -> str:
        return self.label or Path(self.path).name

    def skip_counts(self) -> dict[str, int]:
        """Rows or lines skipped per cause, every cause of SKIP_CAUSES (0 when none)."""
        counts = {cause: self.skipped.get(cause, 0) for cause in SKIP_CAUSES}
        counts["ragged"] = self.ragged
        return counts

    def skipped_text(self) -> list[str]:
        """What was skipped, in words, one entry per cause that occurred: '2 lines with NUL bytes'."""
        return [skip_words(cause, n) for cause, n in self.skip_counts().items() if n]

    def columns_text(self) -> str:
        """'columns 501–10,000 of 10,000 not looked at' for a very wide file, else ''."""
        if not self.columns_not_read:
            return ""
        first, last = len(self.schema.columns) + 1, len(self.schema.columns) + self.columns_not_read
        return f"columns {first:,}–{last:,} of {last:,} not looked at (only the first {first - 1:,} are)"

    def as_json(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "rows": self.rows,
            "ragged_rows_skipped": self.ragged,
            "skipped": self.skip_counts(),
            "columns_not_read": self.columns_not_read,
            **({"archive": {"path": self.archive[0], "sha256": self.archive[1], "member": self.archive[2]}}
               if self.archive else {}),
            **({"stopped": self.stopped} if self.stopped else {}),
            "columns": [
                {"index": c.index, "header": c.header, "kind": c.kind, "by": c.by, "confidence": c.confidence}
                for c in self.schema.columns
            ],
        }
