"""Scriptable coding: apply, unapply, history, undo."""

from __future__ import annotations

from typing import Annotated

import typer

from qualcode.cli._common import INTEGER, POSITIVE, CoderOpt, FormatOpt, info, open_db, require_coder, warn
from qualcode.output import render

InterviewArg = Annotated[str, typer.Argument(help="Interview id.")]
TurnArg = Annotated[int, typer.Argument(help="0-based turn index.", parser=INTEGER)]
OnlyStartOpt = Annotated[
    int | None, typer.Option("--start", help="Only the coding with this start offset.", parser=INTEGER)
]
OnlyEndOpt = Annotated[int | None, typer.Option("--end", help="Only the coding with this end offset.", parser=INTEGER)]


def apply(
    ctx: typer.Context,
    interview: InterviewArg,
    turn: TurnArg,
    codes: Annotated[list[str], typer.Argument(help="Code paths, keys or names.")],
    coder: CoderOpt = None,
    start: Annotated[
        int | None, typer.Option("--start", help="Start offset in the turn's text.", parser=INTEGER)
    ] = None,
    end: Annotated[
        int | None, typer.Option("--end", help="End offset (exclusive) in the turn's text.", parser=INTEGER)
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
        f"batch {r['batch']}: {render.plural(r['added'], 'coding')} added"
        + (f", {r['already']} already there" if r["already"] else ""),
    )


def translate(
    ctx: typer.Context,
    interview: InterviewArg,
    turn: TurnArg,
    text: Annotated[str | None, typer.Argument(help="The translation, in the team's working language.")] = None,
    coder: CoderOpt = None,
    start: OnlyStartOpt = None,
    end: OnlyEndOpt = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the translation.")] = False,
) -> None:
    """Add your translation of a coded passage said in another language; quotes stay as spoken.

    The summary, the report and the segment exports print it beside the original quote, which is marked with its
    language. It is stored on each of your codings of the turn (or only on the one at --start/--end), travels with
    `codings export` and `codings import`, and nothing is ever machine-translated.

    Example: `qualcode translate INT-04 7 "The fees never went away, they were renamed." --coder ana`
    """
    from qualcode.coding.codings import translate as do
    from qualcode.errors import UsageError

    if clear == (text is not None):
        raise UsageError("give the translation's text, or --clear to remove it (not both)")
    r = do(open_db(ctx), interview, turn, text, require_coder(coder), start=start, end=end)
    what = "removed from" if r["cleared"] else "stored on"
    info(ctx, f"translation {what} {render.plural(r['codings'], 'coding')} of {interview} turn {turn}")


def unapply(
    ctx: typer.Context,
    interview: InterviewArg,
    turn: TurnArg,
    codes: Annotated[list[str], typer.Argument(help="Code paths, keys or names.")],
    coder: CoderOpt = None,
    start: OnlyStartOpt = None,
    end: OnlyEndOpt = None,
) -> None:
    """Remove codes from a turn (soft: the history keeps them; `undo` brings them back).

    Example: `qualcode unapply INT-07 3 Efficiency --coder ana`
    """
    from qualcode.coding.codings import unapply as do

    r = do(open_db(ctx), interview, turn, codes, require_coder(coder), start=start, end=end)
    info(ctx, f"batch {r['batch']}: {render.plural(r['removed'], 'coding')} removed")


def history(
    ctx: typer.Context,
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder's changes.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only changes at or after this date (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many batches (1 or more).", parser=POSITIVE)] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """List changes, newest first: one row per batch with what it added and removed.

    Example: `qualcode history --coder ana --since 2026-11-01`
    """
    from qualcode.coding.codings import history as do

    rows = do(open_db(ctx), coder, since, limit)
    if fmt != "json":  # a change of the code tree is no one coder's: name every coder it touched
        rows = [dict(r, coder=r["coder"] or ", ".join(r["coders"])) for r in rows]
    if fmt in ("table", "md"):  # an older project's figure an undo had erased: said, not shown as 0 or blank
        rows = [dict(r, **{k: "not recorded" for k in ("added", "removed") if r[k] is None}) for r in rows]
    if fmt == "table":  # seconds are enough on a screen; json/csv keep the full timestamp
        rows = [
            dict(r, time=r["time"][:19].replace("T", " "), undone_at=(r["undone_at"] or "")[:19].replace("T", " "))
            for r in rows
        ]
    render.emit(
        fmt,
        rows=rows,
        columns=["batch", "time", "coder", "kind", "description", "added", "removed", "undone_at"],
        numeric=("batch", "added", "removed"),
    )


def undo(
    ctx: typer.Context,
    coder: CoderOpt = None,
    batch: Annotated[
        int | None, typer.Option("--batch", help="The batch to undo (default: the latest).", parser=INTEGER)
    ] = None,
) -> None:
    """Undo a coder's latest batch, or a given one: its codings are retired, what it removed comes back.

    What the batch brought back (an undo's revivals, a merge's) is retired again.

    Example: `qualcode undo --coder ana --batch 42`
    """
    from qualcode.coding.codings import undo as do

    r = do(open_db(ctx), require_coder(coder), batch)
    info(ctx, f"undid batch {r['batch']} ({r['kind']}): {r['removed']} removed, {r['restored']} restored")
    if r["lost"]:
        warn(f"{r['lost']} of its codings cannot come back: their code was removed from the codebook since")


def register(app: typer.Typer) -> None:
    app.command()(apply)
    app.command()(unapply)
    app.command()(translate)
    app.command()(history)
    app.command()(undo)
