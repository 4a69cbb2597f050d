"""The keyboard sessions: `qualcode code` (coding, with suggestions) and `qualcode review` (into a consensus),
and `qualcode disagreements`, the list a review works through."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from qualcode.cli._common import CoderOpt, FormatOpt, info, open_db, require_coder, split_csv
from qualcode.cli.codebook import code_app
from qualcode.output import render

InterviewOpt = Annotated[
    list[str] | None, typer.Option("--interview", "-i", help="Only this interview (repeatable).")
]


def code(
    ctx: typer.Context,
    coder: CoderOpt = None,
    interview: InterviewOpt = None,
    code_: Annotated[
        str | None,
        typer.Option(
            "--code", help="Only turns where this code (or one below it) is suggested or already yours."
        ),
    ] = None,
    uncoded: Annotated[bool, typer.Option("--uncoded", help="Only turns you have not decided yet.")] = False,
    order: Annotated[
        Literal["document", "uncertain"],
        typer.Option("--order", help="document, or uncertain: suggestions nearest their threshold first."),
    ] = "document",
    min_score: Annotated[
        float | None,
        typer.Option(
            "--min-score", help="Show suggestions from this score (codes without a threshold of their own)."
        ),
    ] = None,
    all_turns: Annotated[bool, typer.Option("--all-turns", help="Interviewer turns too.")] = False,
) -> None:
    """Code the transcripts turn by turn, one key per decision; or change the code tree (subcommands).

    Each screen shows a participant's turn with the previous one, the suggested codes (score, source, the words
    that matched; those above the threshold are pre-checked) and the codes you already gave it. Keys: enter/a
    accept the checked codes, 1-9 toggle, c find a code, x no code, s skip, n/p next/previous, m memo, k code only
    some sentences, u undo, ? help, q quit. Every decision is saved at once; running the command again resumes at
    the first turn you have not decided. When stdin is not a terminal, each line is one command (`a`, `3`,
    `c fund`, `x`, `m text`, `k 1 3`, ...; an empty line accepts).

    Example: `qualcode code --coder ana --interview INT-07 --order uncertain`
    """
    if ctx.invoked_subcommand is not None:
        return
    from qualcode.cli import _screen as session_ui
    from qualcode.coding import session

    name = require_coder(coder)
    db = open_db(ctx)
    ids = session.scope(db, name, interview_ids=interview or [], code=code_, uncoded=uncoded, order=order,
                        score=min_score, all_turns=all_turns)  # fmt: skip
    if not ids:
        info(ctx, "no turns match: nothing to code here")
        return
    session_ui.run(session.CodingSession(db, name, ids, score=min_score), render.out)


def review(
    ctx: typer.Context,
    coders: Annotated[str, typer.Option("--coders", help="The two coders to reconcile: A,B.")],
    as_: Annotated[str, typer.Option("--as", help="The coder the consensus is stored as.")] = "consensus",
    code_: Annotated[
        str | None, typer.Option("--code", help="Only disagreements on this code's subtree.")
    ] = None,
    interview: InterviewOpt = None,
) -> None:
    """Review two coders' disagreements turn by turn and record a consensus, keeping both originals.

    Each screen shows a turn both coders decided with different codes: each one's codes and memos. Keys: 1 keep
    the first coder's version, 2 the second's, b both, 0 neither (no code), e edit (toggle codes, enter saves),
    s skip, n/p, m memo, u undo, ? help, q quit. The result is stored as codings of the --as coder (origin
    review); running it again resumes at the first disagreement the consensus has not decided.

    Example: `qualcode review --coders ana,ben --as consensus --code Efficiency`
    """
    from qualcode.agreement import disagreements
    from qualcode.agreement.review import ReviewSession
    from qualcode.cli import _screen as session_ui

    db = open_db(ctx)
    a, b = disagreements.coders_pair(db, split_csv(coders))
    found = disagreements.compare(db, a, b, code=code_, interview_ids=interview or [])
    if not found:
        info(ctx, f"{a} and {b} agree on every turn they both decided: nothing to review")
        return
    sess = ReviewSession(db, require_coder(as_), a, b, [d.turn_id for d in found])
    session_ui.run(sess, render.out)


def disagreements(
    ctx: typer.Context,
    coders: Annotated[str, typer.Option("--coders", help="The two coders to compare: A,B.")],
    code_: Annotated[
        str | None, typer.Option("--code", help="Only disagreements on this code's subtree.")
    ] = None,
    interview: InterviewOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """List every turn two coders both decided but coded differently: text, each one's codes and memos.

    Example: `qualcode disagreements --coders ana,ben --code Relevance --format csv > to-discuss.csv`
    """
    from qualcode.agreement.disagreements import coders_pair, listing

    db = open_db(ctx)
    a, b = coders_pair(db, split_csv(coders))
    rows = listing(db, a, b, code=code_, interview_ids=interview or [])
    columns = ["interview", "turn", "speaker", "text", f"{a}_codes", f"{b}_codes", f"{a}_memo", f"{b}_memo"]
    render.emit(fmt, rows=rows, columns=columns, numeric=("turn",),
                caption=f"{len(rows)} turn{'s' if len(rows) != 1 else ''} where {a} and {b} differ")  # fmt: skip


def register(app: typer.Typer) -> None:
    code_app.callback(invoke_without_command=True, help=code.__doc__)(code)
    app.command()(review)
    app.command()(disagreements)
