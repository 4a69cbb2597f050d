"""The `codings` group: coding files in and out, orphaned codings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from qualcode.cli._common import NO_CODE_DECISION, FormatOpt, info, open_db, write_output
from qualcode.output import render

codings_app = typer.Typer(help="Coding files (interview,turn,code,coder,memo) in and out.", no_args_is_help=True)


@codings_app.command("import")
def codings_import(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="CSV (or JSON) with interview,turn,code,coder,memo.")]
) -> None:
    """Load a coding file: one row per coded turn; an empty code records "decided: no code".

    turn is the 0-based turn index (see `qualcode show`); code is a full path such as
    `Relevance/COVID-19 adaptation`. The whole file is one transaction: an unknown interview, turn or code stops it
    with the row's line number, and nothing is stored.

    Example: `qualcode codings import codings/coder-a.csv`
    """
    from qualcode.coding.files import import_file

    r = import_file(open_db(ctx), file)
    info(
        ctx,
        f"{file}: {render.plural(r['rows'], 'row')}, {r['added']} new "
        f"({render.plural(r['no_code'], NO_CODE_DECISION)}), "
        f"{r['already']} already present; coders: {', '.join(r['coders'])}",
    )


@codings_app.command("export")
def codings_export(
    ctx: typer.Context,
    fmt: Annotated[
        Literal["csv", "json"] | None,
        typer.Option("--format", "-f", help="csv or json (default: the -o file's suffix, else csv)."),
    ] = None,
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Write codings in the shape `codings import` reads (the round trip is exact).

    Example: `qualcode codings export --coder coder-a -o coder-a.csv`
    """
    from qualcode.coding.files import export
    from qualcode.export.files import choose_format

    fmt = choose_format(fmt, output, ("csv", "json"), what="codings export")
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
    render.emit(
        fmt,
        rows=rows,
        columns=["coding", "interview", "coder", "code", "quote", "memo", "origin"],
        caption=f"{len(rows)} orphaned codings",
        numeric=("coding",),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(codings_app, name="codings")
