"""The HTML report command, and the redaction list that every --redact export uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._common import info, open_db, write_output
from qualcode.cli.exports import ExportCoderOpt, RedactOpt
from qualcode.output import render


def report(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The .html file to write (default: stdout).")
    ] = None,
    coder: ExportCoderOpt = None,
    redact: RedactOpt = False,
    title: Annotated[
        str | None, typer.Option("--title", help="The report's title (default: from the codebook).")
    ] = None,
    quotes: Annotated[int, typer.Option("--quotes", help="Quotes per code and criterion.", min=0)] = 3,
) -> None:
    """The evaluation report as one self-contained HTML file, ready to read or print to PDF.

    Study overview (interviews; participants by gender, stakeholder group and case study), the codebook with
    definitions, code frequencies per criterion split by gender (bar charts of distinct participants), a code ×
    case-study heat map, agreement per criterion (Cohen's or Fleiss' κ and Krippendorff's α with their
    conventional bands) when two or more coders other than the consensus decided common turns, and the theme
    summaries with quotes (as `qualcode export summary`). Nothing is loaded from elsewhere: CSS and SVG charts
    are inline, so the file opens offline and can be archived or mailed as it is. Printing starts each chapter
    on a new page and keeps colours.

    Example: `qualcode report -o report.html --coder consensus --redact --title "Fair migration evaluation"`
    """
    from qualcode.export.files import report as build

    write_output(build(open_db(ctx), coder=coder, redact=redact, title=title, quotes=quotes), output, ctx,
                 "the report")  # fmt: skip


redact_app = typer.Typer(
    help="The redaction list: names replaced by [name] in --redact exports.", no_args_is_help=True
)


@redact_app.command("add")
def redact_add(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="Names to redact (quote names with spaces).")],
) -> None:
    """Add names to the redaction list: in --redact exports they become [name] wherever they occur as whole words.

    Matching ignores case and needs whole words: 'Sharma' replaces "Sharma" and "SHARMA'S" but not "Sharmaji".
    Participants' speaker labels and names need no listing: --redact replaces them with study ids anyway. List
    the others: people mentioned in passing, villages, small organisations that would identify someone.

    Example: `qualcode redact add "Mr Sharma" Kathmandu "Golden Star Agency"`
    """
    from qualcode.export.redact import add

    r = add(open_db(ctx), names)
    for name in r["added"]:
        info(ctx, f"added {name}")
    for name in r["already"]:
        info(ctx, f"{name} is already listed")


@redact_app.command("list")
def redact_list(ctx: typer.Context) -> None:
    """The names on the redaction list, one a line.

    Example: `qualcode redact list`
    """
    from qualcode.export.redact import listed

    for name in listed(open_db(ctx)):
        render.out.print(name, markup=False, highlight=False)


@redact_app.command("remove")
def redact_remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The name to take off the list (any case).")]
) -> None:
    """Take a name off the redaction list.

    Example: `qualcode redact remove Kathmandu`
    """
    from qualcode.export.redact import remove

    info(ctx, f"removed {remove(open_db(ctx), name)}")


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.add_typer(redact_app, name="redact")
