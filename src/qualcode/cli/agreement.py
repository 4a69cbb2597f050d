"""Agreement between coders: audit, disagreements, review."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from qualcode.cli._common import FormatOpt, InterviewOpt, SourceOpt, in_scope, info, open_db, require_coder, split_csv
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
        list[str] | None, typer.Option("--interview", help="Only these interviews (repeatable or comma-separated).")
    ] = None,
    metric: Annotated[
        Literal["nominal", "ordinal", "interval"],
        typer.Option("--metric", help="Level of measurement for α on exclusive parents (children's value:)."),
    ] = "nominal",
    wide: Annotated[
        bool, typer.Option("--wide", help="Every figure: agreement counts, positive agreement, every κ with its band.")
    ] = False,
    fmt: FormatOpt = "table",
    source: SourceOpt = None,
) -> None:
    """Inter-coder agreement on the turns at least two named coders decided: per code, per criterion, overall.

    The table has one row per code: units in scope, percent agreement, κ (Cohen's for two coders, Fleiss' for more),
    Krippendorff's α and α's conventional band; a figure that is undefined says why in a note printed once below.
    --wide (and --format md, csv, json) adds the agreement counts (both / A only / B only / neither for two coders,
    coder × value otherwise), positive agreement, the other κ and every band. A turn only some coders decided is a
    missing value, not a disagreement. Exclusive parents are also audited as one variable whose values are their
    children (α at --metric, using the children's `value:`). With --unit character and --interview, each row is
    also given per interview. --source survey (or interviews, documents) audits one kind of source alone; by
    default every unit two coders decided counts, survey answers and document paragraphs as turns do. See
    docs/audit.md for the definitions and how to read the figures.

    Example: `qualcode audit --coders coder-a,coder-b --unit sentence --code Relevance --format md`
    """
    from qualcode.agreement import format as audit_format
    from qualcode.agreement.audit import audit as run

    interviews = [i for value in interview or [] for i in split_csv(value)]
    data = run(
        open_db(ctx),
        split_csv(coders),
        unit=unit,
        code=code,
        level=level,
        interviews=interviews,
        metric=metric,
        source=source,
    )
    if fmt == "json":
        render.emit("json", data=data)
    elif fmt == "csv":
        sys.stdout.write(audit_format.to_csv(data))
    elif fmt == "md":
        sys.stdout.write(audit_format.to_markdown(data))
    elif (empty := audit_format.empty_text(data)) is not None:
        sys.stdout.write(empty)
    else:
        tables, notes = audit_format.report(data, wide=wide)
        for table in tables:
            render.emit("table", **table)
            render.text()
        for line in notes:
            render.text(line, "dim")


def review(
    ctx: typer.Context,
    coders: Annotated[str, typer.Option("--coders", help="The two coders to reconcile: A,B.")],
    as_: Annotated[
        str, typer.Option("--as", help="The coder the consensus is stored as: a new coder, or this pair's consensus.")
    ] = "consensus",
    code_: Annotated[str | None, typer.Option("--code", help="Only disagreements on this code's subtree.")] = None,
    interview: InterviewOpt = None,
    source: SourceOpt = None,
) -> None:
    """Review two coders' disagreements turn by turn and record a consensus, keeping both originals.

    Each screen shows a turn both coders decided with different codes: each one's codes and memos. Keys: 1 keep
    the first coder's version, 2 the second's, b both, 0 neither (no code), e edit (toggle codes, enter saves),
    s skip, n/p, m memo, u undo, ? help, q quit. The result is stored as codings of the --as coder (origin
    review); running it again resumes at the first disagreement the consensus has not decided.

    The consensus is a whole coding: first, every turn both coders decided the same way is carried over to it (origin
    agreed, one batch that `undo` takes back). At the end the command says how many disagreements remain; exports
    of an incomplete consensus are refused unless --allow-incomplete is given (docs/exports.md).

    Example: `qualcode review --coders ana,ben --as consensus --code Efficiency`
    """
    from qualcode.agreement import consensus, disagreements
    from qualcode.agreement.review import ReviewSession
    from qualcode.cli import _keys as session_ui

    keys = session_ui.keys_from_terminal(render.out)  # refused before anything is reopened or carried over
    db = open_db(ctx)
    a, b = disagreements.coders_pair(db, split_csv(coders))
    as_ = require_coder(as_)
    reopened, carried = consensus.prepare(db, as_, a, b)
    if reopened:
        info(
            ctx,
            f"reopened {reopened} turns {a} or {b} changed after {as_} settled them (one batch, undo takes it back)",
        )
    if carried:
        info(ctx, f"carried over to {as_} the {carried} turns {a} and {b} agree on (origin 'agreed', one batch)")
    found = disagreements.compare(db, a, b, code=code_, interview_ids=in_scope(ctx, interview, source))
    if found:
        sess = ReviewSession(db, as_, a, b, [d.turn_id for d in found])
        session_ui.run(sess, render.out, keys=keys)
    else:
        info(ctx, f"no disagreement of {a} and {b} in scope: nothing to review")
    info(ctx, consensus.status(db, as_).describe())


def disagreements(
    ctx: typer.Context,
    coders: Annotated[str, typer.Option("--coders", help="The two coders to compare: A,B.")],
    code_: Annotated[str | None, typer.Option("--code", help="Only disagreements on this code's subtree.")] = None,
    interview: InterviewOpt = None,
    source: SourceOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """List every turn two coders both decided but coded differently: text, each one's codes and memos.

    Example: `qualcode disagreements --coders ana,ben --code Relevance --format csv > to-discuss.csv`
    """
    from qualcode.agreement.disagreements import coders_pair, listing

    db = open_db(ctx)
    a, b = coders_pair(db, split_csv(coders))
    rows = listing(db, a, b, code=code_, interview_ids=in_scope(ctx, interview, source))
    columns = ["interview", "turn", "speaker", "text", f"{a}_codes", f"{b}_codes", f"{a}_memo", f"{b}_memo"]
    render.emit(
        fmt,
        rows=rows,
        columns=columns,
        numeric=("turn",),
        caption=f"{len(rows)} turn{'s' if len(rows) != 1 else ''} where {a} and {b} differ",
    )


def register(app: typer.Typer) -> None:
    app.command()(audit)
    app.command()(disagreements)
    app.command()(review)
