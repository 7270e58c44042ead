"""The ``tracer`` command: parses, calls ``tracer.api``, prints.  Nothing else.

Every ``TracerError`` becomes one ``Error: ...`` line on stderr and exit 1;
``--debug`` shows the traceback instead.  Locals are never shown in
tracebacks: they hold personal data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from . import __version__, api, engine
from .errors import RegistryError, TracerError
from .tables.meter import ByteMeter, metering
from .tables.sources import on_disk

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    help="Watermark personal-data exports per account, and name the account a leak came from.",
)
accounts_app = typer.Typer(no_args_is_help=True, help="Accounts that export data.")
app.add_typer(accounts_app, name="accounts")
registry_app = typer.Typer(no_args_is_help=True, help="The registry itself.")
app.add_typer(registry_app, name="registry")
key_app = typer.Typer(no_args_is_help=True, help="The secret key ring: rotate it, list its keys.")
app.add_typer(key_app, name="key")


@functools.cache
def stdout():
    """The console tables and verdicts are printed on, made when first wanted: rich's import (~25 ms) is
    on no ``--json`` export's or match's path."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


class State:
    registry: Optional[str] = None
    key_file: Optional[str] = None
    debug: bool = False


state = State()


def reports_errors(command):
    """Turn a TracerError (and, unless --debug, any bug) into one line on stderr."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TracerError as exc:
            if state.debug:
                raise
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own (its click is vendored)
            raise
        except Exception as exc:  # noqa: BLE001 - a traceback would print personal data
            if state.debug:
                raise
            typer.echo(f"Error: internal error ({type(exc).__name__}); run with --debug for details", err=True)
            raise typer.Exit(2) from None

    return wrapper


@contextlib.contextmanager
def bytes_progress(description: str, paths: list[Path], quiet: bool):
    """Bytes read of the total, time left, files done and rows on stderr, only when
    a person watches it (a terminal, not --json); yields the on_rows callback."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    sizes = on_disk(paths)
    files = len(sizes)
    meter, rows = ByteMeter(), [0]
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TextColumn("ETA"),
               TimeRemainingColumn(), TextColumn("{task.fields[files]}"), TextColumn("{task.fields[rows]:,} rows"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress, metering(meter):
        task = progress.add_task(description, total=sum(sizes.values()) or None, files="", rows=0)

        def on_rows(count: int) -> None:
            rows[0] += count
            done = f"file {min(meter.files, files)}/{files}" if files > 1 else ""
            progress.update(task, completed=meter.done(sizes), files=done, rows=rows[0])

        yield on_rows


def warn_left_out(verdict, shown: int = 20) -> None:
    """What a match skipped, on stderr: lines per cause, files stopped early, files not read (the first few)."""
    for leak in verdict.files:
        name = leak.name
        for skipped in leak.skipped_text():
            typer.echo(f"Warning: {name}: {skipped} skipped", err=True)
        if leak.columns_not_read:
            typer.echo(f"Warning: {name}: {leak.columns_text()}", err=True)
        if leak.stopped:
            typer.echo(f"Warning: {name}: read {leak.rows} rows, then stopped: {leak.stopped}", err=True)
    for unread in verdict.unread[:shown]:
        typer.echo(f"Warning: {unread.label}: {unread.reason}", err=True)
    if len(verdict.unread) > shown:
        typer.echo(f"Warning: … and {len(verdict.unread) - shown} more files not read (see --json or the report)",
                   err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tracer {__version__} ({engine.describe()})")
        raise typer.Exit()


@app.callback()
def main_options(
    registry: Optional[str] = typer.Option(
        None, "--registry",
        help="Registry file, or a postgresql:// URL for many export hosts (env TRACER_REGISTRY; default ./tracer.db).",
    ),
    key_file: Optional[str] = typer.Option(
        None, "--key-file",
        help="Key file (env TRACER_KEY_FILE; default beside a registry file; a URL's must be named, or TRACER_KEY).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    state.registry = registry
    state.key_file = key_file
    state.debug = debug
    if engine._engine is None and os.environ.get(engine.ENV_VAR, "").strip().lower() != "python":
        typer.echo(f"warning: {engine.NOT_BUILT}", err=True)


@app.command()
@reports_errors
def init() -> None:
    """Create a new registry and its key file (refuses to overwrite either)."""
    path, key_path = api.init(state.registry, state.key_file)
    typer.echo(f"Created registry {path}")
    typer.echo(f"Key: {key_path} (keep it secret, keep it apart from the registry's backups)"
               if key_path.exists() else "Key: from TRACER_KEY")


@accounts_app.command("add")
@reports_errors
def accounts_add(
    name: str = typer.Argument(..., help="Account name, e.g. branch-nanjing-li."),
    note: str = typer.Option("", "--note", help="Free text: who holds the account."),
) -> None:
    """Register an account that exports data."""
    account = api.add_account(state.registry, name, note)
    typer.echo(f"Added account {account.name}")


@accounts_app.command("list")
@reports_errors
def accounts_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the registered accounts."""
    rows = api.list_accounts(state.registry)
    if as_json:
        typer.echo(json.dumps([
            {"name": a.name, "note": a.note, "created": a.created, "exports": n} for a, n in rows
        ], ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("account", "note", "created", "exports")
    for account, count in rows:
        table.add_row(account.name, account.note, account.created, str(count))
    stdout().print(table)


@registry_app.command("check")
@reports_errors
def registry_check() -> None:
    """Verify the registry: the database's integrity, the key, the keyed chain of export entries."""
    problems, summary = api.check_registry(state.registry, state.key_file)
    if problems:
        raise RegistryError(f"registry check failed: {problems[0]}"
                            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    typer.echo("Registry OK: {accounts} accounts, {exports} exports, {exposure} exposure digests, "
               "{canaries} canaries; history chain verified".format(**summary))


@registry_app.command("compact")
@reports_errors
def registry_compact(as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Merge the exposure runs into one, so a match reads one index instead of many (a large registry)."""
    done = api.compact_registry(state.registry)
    if as_json:
        fields = {"compacted": False, "reason": "server"} if done is None else \
            {"compacted": done.runs_after < done.runs_before, **dataclasses.asdict(done)}
        typer.echo(json.dumps(fields))
    elif done is None:
        typer.echo("Nothing to compact: a PostgreSQL registry keeps its exposure in one indexed table")
    elif done.runs_after == done.runs_before:
        typer.echo(f"Nothing to compact: the exposure is {'one run' if done.runs_before else 'empty'}"
                   f" ({done.digests:,} digests)")
    else:
        typer.echo(f"Compacted {done.runs_before} exposure runs into {done.runs_after}: {done.digests:,} digests;"
                   f" {done.bytes_before:,} bytes on disk before, {done.bytes_after:,} after"
                   " (freed pages are reused by later exports)")


@registry_app.command("migrate")
@reports_errors
def registry_migrate(
    to: str = typer.Option(..., "--to", help="The empty PostgreSQL database to move to: postgresql://..."),
) -> None:
    """Move this registry file whole onto a PostgreSQL server; the file is then marked as moved."""
    moved = api.migrate_registry(state.registry, to, state.key_file)
    typer.echo(f"Moved registry {moved.source} to {moved.target}: {moved.exports} exports, "
               f"{moved.exposure} exposure digests, {moved.canaries} canaries; history chain verified")
    typer.echo(f"From now on: tracer --registry {moved.target} --key-file {moved.key_path} ...")


@key_app.command("rotate")
@reports_errors
def key_rotate() -> None:
    """Make a new current key; the old ones stay in the key file to match the exports made with them."""
    key_id, key_path = api.rotate_key(state.registry, state.key_file)
    typer.echo(f"Key {key_id} is now current ({key_path}); earlier keys are kept to match earlier exports")


@key_app.command("list")
@reports_errors
def key_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the registry's keys: id, created, exports made with each (never a secret)."""
    keys = api.list_keys(state.registry)
    current = max(k.id for k in keys)
    if as_json:
        typer.echo(json.dumps([{"id": k.id, "created": k.created, "exports": k.exports, "current": k.id == current}
                               for k in keys]))
        return
    from rich.table import Table

    table = Table("key", "created", "exports", "current")
    for k in keys:
        table.add_row(str(k.id), k.created, str(k.exports), "yes" if k.id == current else "")
    stdout().print(table)


@app.command()
@reports_errors
def export(
    source: Path = typer.Argument(..., help="Table to export: .csv .tsv .txt .jsonl .json .xlsx .xls (written as .xlsx)"),
    account: str = typer.Option(..., "--account", help="The account receiving the export."),
    output: Path = typer.Option(..., "--output", help="Where to write the marked export."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Export SOURCE for an account: marks, canaries, registered before the file appears."""
    with bytes_progress(f"exporting {source.name}", [source], as_json) as on_rows:
        result = api.export(state.registry, source, account=account, output=output, on_rows=on_rows,
                            key_path=state.key_file)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo(f"Exported {result.rows} rows for {result.account} to {result.output} "
                   f"(export {result.export_id}: {result.canaries} canaries, {result.shared_canaries} of them shared, "
                   f"{result.marked_cells} marked cells)")
        if result.canary_fallback:
            typer.echo("Note: too few rows to draw every canary part from; some came from built-in lists, "
                       "which a broker can read", err=True)


@app.command()
@reports_errors
def match(
    leaks: list[Path] = typer.Argument(..., help="Leaked files: csv, tsv, txt (also ---- dumps), json, jsonl, xlsx, xls; "
                                                 "folders of them; .zip .tar .tar.gz .7z archives of them."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a report: FILE.html or FILE.md."),
    fpr: float = typer.Option(1e-6, "--fpr", help="Bound on the chance of accusing any innocent account."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Text encoding of the leaks (default: detect)."),
    unmask: bool = typer.Option(False, "--unmask", help="Show real names and phones in full in the report."),
) -> None:
    """Name the account(s) a leak came from, with evidence and a p-value."""
    if report is not None:
        from .report import check_report_path

        check_report_path(report)
    with bytes_progress("reading leaks", leaks, as_json) as on_rows:
        verdict = api.match(state.registry, leaks, fpr=fpr, encoding=encoding, on_rows=on_rows,
                            key_path=state.key_file)
    warn_left_out(verdict)
    if report is not None:
        from .report import write_report

        write_report(verdict, report, unmask=unmask, encoding=encoding)
    if as_json:
        typer.echo(json.dumps(verdict.as_json(), ensure_ascii=False))
    else:
        from .terminal import print_verdict

        print_verdict(verdict, stdout())


@app.command()
@reports_errors
def demo(keep: Optional[Path] = typer.Option(None, "--keep", help="Work in this directory and keep it.")) -> None:
    """The whole story on the bundled fixtures: exports, a staged leak, the match."""
    from .demo import run_demo

    run_demo(stdout(), keep)


# ---- canary pool and trace (issue 14) ------------------------------------
pool_app = typer.Typer(no_args_is_help=True, help="Phone numbers the company holds, for canaries that harm nobody.")
app.add_typer(pool_app, name="canary-pool")


@pool_app.command("add")
@reports_errors
def canary_pool_add(file: Path = typer.Argument(..., help="Numbers, one a line (# comments allowed).")) -> None:
    """Add numbers to the canary pool: canaries then carry them instead of random phones."""
    added, size = api.add_to_pool(state.registry, file, state.key_file)
    typer.echo(f"Added {added} numbers to the canary pool ({size} in all)")


@app.command()
@reports_errors
def trace(
    number: str = typer.Argument(..., help="A phone number that was called or texted (a canary's)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Which exports (account, when) carried NUMBER in a canary."""
    carried = api.trace(state.registry, number, state.key_file)
    if as_json:
        typer.echo(json.dumps([c.as_json() for c in carried], ensure_ascii=False))
        return
    if not carried:
        typer.echo("No export carried this number in a canary")
    for c in carried:
        kind = "pool number: evidence, no p-value" if c.pool else "random canary phone"
        typer.echo(f"export {c.export_id}  {c.created}  account {c.account}  {c.output}  ({kind})")


def main() -> None:
    """Entry point for the ``tracer`` script."""
    app()


if __name__ == "__main__":
    main()
