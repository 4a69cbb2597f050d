"""The HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._common import (
    COUNT,
    AllowIncompleteOpt,
    ExportCoderOpt,
    RedactOpt,
    open_db,
    warn_caveats,
    write_output,
)


def report(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The .html file to write (default: stdout).")
    ] = None,
    coder: ExportCoderOpt = None,
    redact: RedactOpt = False,
    allow_incomplete: AllowIncompleteOpt = False,
    title: Annotated[
        str | None, typer.Option("--title", help="The report's title (default: from the codebook).")
    ] = None,
    quotes: Annotated[
        int, typer.Option("--quotes", help="Quotes per code and criterion (0 or more).", parser=COUNT)
    ] = 3,
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
    from qualcode.export.files import choose_format as build_format
    from qualcode.export.files import report as build

    if output is not None:
        build_format(None, output, ("html",), what="the report")  # r.pdf would be HTML under a PDF name
    db = open_db(ctx)
    content, data = build(db, coder=coder, redact=redact, allow_incomplete=allow_incomplete, title=title, quotes=quotes)
    warn_caveats(data["summary"]["caveats"])  # what the report's banner says
    write_output(content, output, ctx, "the report")


def register(app: typer.Typer) -> None:
    app.command()(report)
