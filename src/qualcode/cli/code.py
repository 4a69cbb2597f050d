"""The `code` group: the keyboard coding session, and rename, merge and move on the code tree."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from qualcode.cli._common import CoderOpt, InterviewOpt, SourceOpt, in_scope, info, open_db, require_coder
from qualcode.output import render

code_app = typer.Typer(
    help="Code the transcripts (the keyboard session), or change the code tree: rename, merge, move."
)


def code(
    ctx: typer.Context,
    coder: CoderOpt = None,
    interview: InterviewOpt = None,
    source: SourceOpt = None,
    code_: Annotated[
        str | None,
        typer.Option("--code", help="Only turns where this code (or one below it) is suggested or already yours."),
    ] = None,
    uncoded: Annotated[bool, typer.Option("--uncoded", help="Only turns you have not decided yet.")] = False,
    order: Annotated[
        Literal["document", "uncertain"],
        typer.Option("--order", help="document, or uncertain: suggestions nearest their threshold first."),
    ] = "document",
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", help="Show suggestions from this score (codes without a threshold of their own)."),
    ] = None,
    all_turns: Annotated[bool, typer.Option("--all-turns", help="Interviewer turns too.")] = False,
) -> None:
    """Code the transcripts turn by turn, one key per decision; or change the code tree (subcommands).

    Each screen shows a participant's turn with the previous one, the suggested codes (score, source, the words
    that matched; those above the threshold are pre-checked) and the codes you already gave it. Keys: enter/a
    accept the checked codes, 1-9 toggle, c find a code, x no code, s skip, n/p next/previous, m memo, k code only
    some sentences, u undo, ? help, q quit. Every decision is saved at once; running the command again resumes at
    the first turn you have not decided. When stdin is not a terminal, each line is one command (`a`, `3`,
    `c fund`, `x`, `m text`, `k 1 3`, ...; an empty line accepts, except right after `?`: then it closes the help);
    with stdin a terminal, stdout must be one too.

    Example: `qualcode code --coder ana --interview INT-07 --order uncertain`
    """
    if ctx.invoked_subcommand is not None:
        return
    from qualcode.cli import _keys as session_ui
    from qualcode.coding import scope, session

    name = require_coder(coder)
    keys = session_ui.keys_from_terminal(render.out)
    db = open_db(ctx, writes=True)
    ids = scope.scope(
        db,
        name,
        interview_ids=in_scope(ctx, interview, source),
        code=code_,
        uncoded=uncoded,
        order=order,
        score=min_score,
        all_turns=all_turns,
    )
    if not ids:
        info(ctx, "no turns match: nothing to code here")
        return
    session_ui.run(session.CodingSession(db, name, ids, score=min_score), render.out, keys=keys)


@code_app.command("rename")
def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="Code path, key or name.")],
    new: Annotated[str, typer.Argument(help="New name (same parent).")],
) -> None:
    """Rename a code; its codings and suggestions stay.

    Example: `qualcode code rename "Relevance/Constituent needs" "Needs of constituents"`
    """
    from qualcode.codebook.ops import rename as do

    r = do(open_db(ctx), old, new)
    info(ctx, f"renamed {r['from']} → {r['to']}")


@code_app.command("merge")
def merge(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="Code to merge away.")],
    into: Annotated[str, typer.Argument(metavar="INTO", help="Code that receives its codings.")],
) -> None:
    """Merge one code into another: codings move (duplicates retired), children move, the code goes.

    Example: `qualcode code merge "Efficiency/Delays" "Efficiency/Funding and timeliness"`
    """
    from qualcode.codebook.ops import merge as do

    r = do(open_db(ctx), source, into)
    retired = f", {r['retired']} already had {r['into']} (retired)" if r["retired"] else ""
    info(
        ctx,
        (f"batch {r['batch']}: " if r["batch"] else "")
        + f"merged {r['from']} into {r['into']}: {render.plural(r['codings'], 'coding')} moved{retired}; "
        f"{render.plural(r['children'], 'child code')} moved",
    )


@code_app.command("move")
def move(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Code to move.")],
    parent: Annotated[str, typer.Option("--parent", help="New parent code; '' for the top level.")],
) -> None:
    """Move a code (with its subtree) under another parent; codings stay.

    Example: `qualcode code move "Visibility" --parent "Coherence"`
    """
    from qualcode.codebook.ops import move as do

    r = do(open_db(ctx), code, parent or None)
    info(ctx, f"moved {r['from']} → {r['to']}")


def register(app: typer.Typer) -> None:
    code_app.callback(invoke_without_command=True, help=code.__doc__)(code)
    app.add_typer(code_app, name="code")
