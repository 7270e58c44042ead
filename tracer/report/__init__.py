"""The investigator's report: the verdict, the evidence behind it and a score plot, in HTML or Markdown.

``check_report_path`` runs before the match, so a bad ``--report`` costs the
investigator nothing; ``write_report`` writes atomically (temp file, fsync,
rename), so a reader never sees half a report.  The HTML is one file that
loads nothing from the network (inline CSS and SVG, no script, a CSP that
forbids any fetch); the Markdown gets its figure as ``<stem>-scores.svg``
beside it.
"""

from __future__ import annotations

import os
import re
import tempfile
from html import escape as html_escape
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from ..errors import OutputError
from .context import build_context
from .plot import score_plot

__all__ = ["check_report_path", "write_report", "figure_path"]

FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}
MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~!{}])")


def check_report_path(path) -> Path:
    """The report path, if tracer can write a report there; else a one-line OutputError."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        shown = path.suffix or "no suffix"
        raise OutputError(f"{path}: unsupported report format ({shown}); use .html or .md")
    directory = path.parent
    if not directory.is_dir():
        raise OutputError(f"{path}: directory {directory} does not exist")
    if path.is_dir():
        raise OutputError(f"{path}: is a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: directory {directory} is not writable")
    return path


def figure_path(path) -> Path:
    """Where a Markdown report's figure goes: ``report.md`` -> ``report-scores.svg``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-scores.svg")


def md_escape(value) -> str:
    """Text safe inside Markdown (tables included): no markup, no raw HTML, one line."""
    text = " ".join(str(value).splitlines())
    return MD_SPECIAL.sub(r"\\\1", html_escape(text, quote=False))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tracer.report", "templates"),
        autoescape=lambda name: name is not None and name.endswith((".html", ".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    return env


def _write_atomic(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, rename: the path holds the old file or the whole new one.

    The file keeps mkstemp's mode 0600, like an export: a report is case material about real people.
    """
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_report(verdict, path, *, unmask: bool = False, encoding: str | None = None) -> Path:
    """Write the report for ``verdict`` to ``path`` (.html or .md); real people masked unless ``unmask``.

    ``encoding`` is the one given to the match, used to re-read the first rows
    of each leak file for the preview.
    """
    path = check_report_path(path)
    context = build_context(verdict, unmask=unmask, encoding=encoding)
    env = _environment()
    if FORMATS[path.suffix.lower()] == "html":
        context["plot"] = score_plot(verdict)
        _write_atomic(path, env.get_template("report.html.j2").render(context))
        return path
    figure = figure_path(path)
    context["figure"] = quote(figure.name)
    _write_atomic(figure, str(score_plot(verdict, standalone=True)))
    _write_atomic(path, env.get_template("report.md.j2").render(context))
    return path
