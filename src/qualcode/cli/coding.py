"""Scriptable coding: coding files in and out, apply and unapply, history and undo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from qualcode.cli._common import CoderOpt, FormatOpt, info, open_db, require_coder, write_output
from qualcode.output import render

codings_app = typer.Typer(
    help="Coding files (interview,turn,code,coder,memo) in and out.", no_args_is_help=True
)


@codings_app.command("import")
def codings_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (or JSON) with interview,turn,code,coder,memo.")],
) -> None:
    """Load a coding file: one row per coded turn; an empty code records "decided: no code".

    turn is the 0-based turn index (see `qualcode show`); code is a full path such as
    `Relevance/COVID-19 adaptation`. The whole file is one transaction: an unknown interview, turn or code stops it
    with the row's line number, and nothing is stored.

    Example: `qualcode codings import codings/coder-a.csv`
    """
    from qualcode.coding.files import import_file

    r = import_file(open_db(ctx), file)
    info(ctx, f"{file}: {r['rows']} rows, {r['added']} new ({r['no_code']} 'no code' decisions), "
              f"{r['already']} already present; coders: {', '.join(r['coders'])}")  # fmt: skip


@codings_app.command("export")
def codings_export(
    ctx: typer.Context,
    fmt: Annotated[Literal["csv", "json"], typer.Option("--format", "-f", help="csv or json.")] = "csv",
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Write codings in the shape `codings import` reads (the round trip is exact).

    Example: `qualcode codings export --coder coder-a -o coder-a.csv`
    """
    from qualcode.coding.files import export

    write_output(export(open_db(ctx), fmt, coder), output, ctx, "codings")


@codings_app.command("orphans")
def codings_orphans(
    ctx: typer.Context,
    interview: Annotated[
        list[str] | None, typer.Option("--interview", help="Only this interview (repeatable).")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """List orphaned codings: codings whose quoted text was not found again when an edited transcript was
    re-imported with `import --replace`. They keep their quote, code, coder and memo; re-apply them where they belong
    with `qualcode apply`.

    Example: `qualcode codings orphans --interview INT-07`
    """
    from qualcode.ingest.reanchor import orphans

    rows = orphans(open_db(ctx), list(interview or []))
    render.emit(fmt, rows=rows, columns=["coding", "interview", "coder", "code", "quote", "memo", "origin"],
                caption=f"{len(rows)} orphaned codings", numeric=("coding",))  # fmt: skip


def apply(
    ctx: typer.Context,
    interview: Annotated[str, typer.Argument(help="Interview id.")],
    turn: Annotated[int, typer.Argument(help="0-based turn index.")],
    codes: Annotated[list[str], typer.Argument(help="Code paths, keys or names.")],
    coder: CoderOpt = None,
    start: Annotated[int | None, typer.Option("--start", help="Start offset in the turn's text.")] = None,
    end: Annotated[
        int | None, typer.Option("--end", help="End offset (exclusive) in the turn's text.")
    ] = None,
    memo: Annotated[str | None, typer.Option("--memo", help="A memo on these codings.")] = None,
) -> None:
    """Apply codes to a turn, or to part of it with --start/--end. One undoable batch.

    Example: `qualcode apply INT-07 3 Efficiency "Impact/Policy change" --coder ana --memo "late funds"`
    """
    from qualcode.coding.codings import apply as do

    r = do(open_db(ctx), interview, turn, codes, require_coder(coder), start=start, end=end, memo=memo)
    info(
        ctx,
        f"batch {r['batch']}: {r['added']} coding(s) added"
        + (f", {r['already']} already there" if r["already"] else ""),
    )


def unapply(
    ctx: typer.Context,
    interview: Annotated[str, typer.Argument(help="Interview id.")],
    turn: Annotated[int, typer.Argument(help="0-based turn index.")],
    codes: Annotated[list[str], typer.Argument(help="Code paths, keys or names.")],
    coder: CoderOpt = None,
    start: Annotated[
        int | None, typer.Option("--start", help="Only the coding with this start offset.")
    ] = None,
    end: Annotated[int | None, typer.Option("--end", help="Only the coding with this end offset.")] = None,
) -> None:
    """Remove codes from a turn (soft: the history keeps them; `undo` brings them back).

    Example: `qualcode unapply INT-07 3 Efficiency --coder ana`
    """
    from qualcode.coding.codings import unapply as do

    r = do(open_db(ctx), interview, turn, codes, require_coder(coder), start=start, end=end)
    info(ctx, f"batch {r['batch']}: {r['removed']} coding(s) removed")


def history(
    ctx: typer.Context,
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder's changes.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only changes at or after this date (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many batches.")] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """List changes, newest first: one row per batch with what it added and removed.

    Example: `qualcode history --coder ana --since 2026-11-01`
    """
    from qualcode.coding.codings import history as do

    rows = do(open_db(ctx), coder, since, limit)
    if fmt == "table":  # seconds are enough on a screen; json/csv keep the full timestamp
        rows = [dict(r, time=r["time"][:19].replace("T", " "), undone_at=(r["undone_at"] or "")[:19].replace("T", " "))
                for r in rows]  # fmt: skip
    render.emit(fmt, rows=rows, columns=["batch", "time", "coder", "kind", "description", "added", "removed",
                                         "undone_at"], numeric=("batch", "added", "removed"))  # fmt: skip


def undo(
    ctx: typer.Context,
    coder: CoderOpt = None,
    batch: Annotated[
        int | None, typer.Option("--batch", help="The batch to undo (default: the latest).")
    ] = None,
) -> None:
    """Undo a coder's latest batch, or a given one: its codings are retired, what it removed comes back.

    Example: `qualcode undo --coder ana --batch 42`
    """
    from qualcode.coding.codings import undo as do

    r = do(open_db(ctx), require_coder(coder), batch)
    info(ctx, f"undid batch {r['batch']} ({r['kind']}): {r['removed']} removed, {r['restored']} restored")


def register(app: typer.Typer) -> None:
    app.add_typer(codings_app, name="codings")
    app.command()(apply)
    app.command()(unapply)
    app.command()(history)
    app.command()(undo)
