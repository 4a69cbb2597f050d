"""The agreement audit command: parse, call `qualcode.agreement.audit.audit`, render."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from qualcode.cli._common import FormatOpt, open_db, split_csv
from qualcode.output import render


def audit(
    ctx: typer.Context,
    coders: Annotated[str, typer.Option("--coders", help="Coders to compare, comma-separated: A,B[,C...].")],
    unit: Annotated[
        Literal["turn", "sentence", "character", "interview"],
        typer.Option("--unit", help="What is compared: turn, sentence, character (two coders) or interview."),
    ] = "turn",
    code: Annotated[
        str | None, typer.Option("--code", help="Only this code and its subtree (pooled for a parent).")
    ] = None,
    level: Annotated[
        Literal["code", "criterion", "all"],
        typer.Option("--level", help="Rows per code, per criterion (top-level branch), or all with overall."),
    ] = "all",
    interview: Annotated[
        list[str] | None,
        typer.Option("--interview", help="Only these interviews (repeatable or comma-separated)."),
    ] = None,
    metric: Annotated[
        Literal["nominal", "ordinal", "interval"],
        typer.Option("--metric", help="Level of measurement for α on exclusive parents (children's value:)."),
    ] = "nominal",
    fmt: FormatOpt = "table",
) -> None:
    """Inter-coder agreement on the turns every named coder decided: per code, per criterion, overall.

    For each code: units in scope, the agreement counts (both / A only / B only / neither for two coders,
    coder × value otherwise), percent agreement, positive agreement, Cohen's κ (two coders), Krippendorff's α and
    Fleiss' κ, each with its conventional band or the reason it is undefined. A turn only some coders decided is a
    missing value, not a disagreement. Exclusive parents are also audited as one variable whose values are their
    children (α at --metric, using the children's `value:`). With --unit character and --interview, each row is
    also given per interview. See docs/audit.md for the definitions and how to read the figures.

    Example: `qualcode audit --coders coder-a,coder-b --unit sentence --code Relevance --format md`
    """
    from qualcode.agreement import format as audit_format
    from qualcode.agreement.audit import audit as run

    interviews = [i for value in interview or [] for i in split_csv(value)]
    data = run(open_db(ctx), split_csv(coders), unit=unit, code=code, level=level, interviews=interviews,
               metric=metric)  # fmt: skip
    if fmt == "json":
        render.emit("json", data=data)
    elif fmt == "csv":
        sys.stdout.write(audit_format.to_csv(data))
    elif fmt == "md":
        sys.stdout.write(audit_format.to_markdown(data))
    elif (empty := audit_format.empty_text(data)) is not None:
        render.out.print(empty, markup=False, highlight=False, end="")
    else:
        for table in audit_format.tables(data):
            render.emit("table", **table)


def register(app: typer.Typer) -> None:
    app.command()(audit)
