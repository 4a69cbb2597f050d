"""Retrieval: segments, search, cooccurrence."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from qualcode.cli._common import (
    INTEGER,
    NO_CODE_DECISION,
    CoderOpt,
    FormatOpt,
    InterviewOpt,
    SourceOpt,
    WhereOpt,
    in_scope,
    info,
    open_db,
    require_coder,
    warn,
    warn_incomplete,
)
from qualcode.output import render

CONTEXT = ["interview", "turn", "speaker", "participant", "gender", "stakeholder_group"]


MARK = ("\x02", "\x03")  # snippet markers for the table, replaced by styling; never in transcript text


def _flat(rows: list[dict], columns: list[str]) -> tuple[list[dict], list[str]]:
    """CSV rows with one column per attribute (participant value over interview value), for spreadsheets."""
    names: dict[str, str] = {}
    for r in rows:
        for n in [*r["interview_attributes"], *r["participant_attributes"]]:
            if n != "stakeholder_group":
                names.setdefault(n, f"attr_{n}" if n in columns else n)
    out = []
    for r in rows:
        merged = {**r["interview_attributes"], **r["participant_attributes"]}
        out.append({**{c: r.get(c) for c in columns}, **{col: merged.get(n) for n, col in names.items()}})
    return out, columns + sorted(names.values())


def _who(row: dict) -> str:
    """The speaker label, then participant, gender and stakeholder group on a second line: narrow enough for a table."""
    if not row["participant"]:
        return f"{row['speaker']}\n(interviewer)"
    about = ", ".join(filter(None, [row["participant"], row["gender"], row["stakeholder_group"]]))
    return f"{row['speaker']}\n({about})"


def _filters(ctx: typer.Context, where: list[str] | None, interview: list[str] | None, source: str | None):
    from qualcode.coding.retrieval import Filters, parse_where

    return Filters(where=parse_where(where), interviews=in_scope(ctx, interview, source))


def segments(
    ctx: typer.Context,
    code: Annotated[str, typer.Option("--code", help="Code path, key or name.")],
    coder: CoderOpt = None,
    where: WhereOpt = None,
    interview: InterviewOpt = None,
    source: SourceOpt = None,
    subcodes: Annotated[
        bool, typer.Option("--subcodes/--no-subcodes", help="Include the codes below CODE (default) or not.")
    ] = True,
    fmt: FormatOpt = "table",
) -> None:
    """Coded segments of a code (and the codes below it), with who said them and the coded text.

    One row per live coding, in transcript order, with the code's path, the speaker's participant id, gender and
    stakeholder group, the coder and memo. JSON carries every participant and interview attribute; CSV has a
    column per attribute. --where filters on gender (woman/female/f all mean woman), any participant attribute or
    any interview attribute (case_study=Ethiopia); a participant's own value wins over the interview's. Orphaned
    codings (see `qualcode codings orphans`) have no place in the text and are counted, not listed.

    Example: `qualcode segments --code Relevance --where gender=woman --where case_study=Ethiopia`
    """
    from qualcode.agreement.consensus import status as consensus_status
    from qualcode.coding.retrieval import segments as do

    filters = _filters(ctx, where, interview, source)
    db = open_db(ctx)
    data = do(db, code, coder=coder, filters=filters, subcodes=subcodes)
    if coder and (status := consensus_status(db, coder)) and not status.complete:
        warn(status.describe())
    rows = data["segments"]
    what = data["code"] + (
        f" and the {render.plural(len(data['codes']) - 1, 'code')} below it" if len(data["codes"]) > 1 else ""
    )
    caption = f"{render.plural(len(rows), 'segment')} coded {what}" + (f" by {coder}" if coder else "")
    if data["orphaned"]:
        warn(f"{data['orphaned']} orphaned codings of these codes are not shown: see 'qualcode codings orphans'")
    if fmt == "json":
        render.emit("json", data=data)
    elif fmt == "csv":
        flat, cols = _flat(rows, [*CONTEXT, "code", "coder", "start", "end", "text", "memo"])
        render.emit("csv", rows=flat, columns=cols)
    elif fmt == "md":
        render.emit("md", rows=rows, columns=[*CONTEXT, "code", "coder", "text", "memo"], caption=caption)
    else:
        rows = [{**r, "speaker": _who(r)} for r in rows]
        columns = ["interview", "turn", "speaker", "code", "coder", "text", "memo"]
        render.emit("table", rows=rows, columns=columns, caption=caption, numeric=("turn",), wide=("text", "memo"))


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='FTS5 query: words, "a phrase", OR, NOT, prefix*, NEAR(a b).')],
    where: WhereOpt = None,
    interview: InterviewOpt = None,
    source: SourceOpt = None,
    all_turns: Annotated[bool, typer.Option("--all-turns", help="Include interviewers' turns.")] = False,
    code_as: Annotated[
        str | None, typer.Option("--code-as", help="Code every hit (the whole turn) with this code.")
    ] = None,
    coder: CoderOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", help="At most this many hits (default 20; with --code-as, all of them).", parser=INTEGER
        ),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Full-text search over participants' turns, best matches first (bm25), with the match highlighted.

    Words match their inflections (porter stemming: 'evaluation' finds 'evaluators' and 'evaluating'); all words
    must occur in a turn unless joined by OR. A prefix* is matched against those stems, so 'evaluat*' finds nothing
    (the stem is 'evalu'): prefer whole words. With --code-as CODE --coder NAME every hit listed is coded with CODE
    over the whole turn, as one
    batch: `qualcode undo --coder NAME --batch ID` takes it back.

    Example: `qualcode search '"recruitment fees"' --where stakeholder_group=Government`
    """
    from qualcode.coding.retrieval import search as do

    if code_as:
        coder = require_coder(coder)
    filters = _filters(ctx, where, interview, source)
    effective = limit if limit is not None else (None if code_as else 20)
    table = fmt == "table"
    data = do(
        open_db(ctx),
        query,
        filters=filters,
        limit=effective,
        all_turns=all_turns,
        code_as=code_as,
        coder=coder,
        mark=MARK if table else ("**", "**"),
    )
    hits = data["hits"]
    coded = data["coded"]
    if coded and coded["batch"]:
        withdrawn = coded["no_code_withdrawn"]
        info(
            ctx,
            f"batch {coded['batch']}: {render.plural(coded['turns'], 'turn')} coded {coded['code']} "
            f"for {coded['coder']} "
            f"({coded['added']} new, {coded['already']} already coded"
            + (f", {render.plural(withdrawn, NO_CODE_DECISION)} withdrawn" if withdrawn else "")
            + f"); undo with: qualcode undo --coder {coded['coder']} --batch {coded['batch']}",
        )
    elif coded:
        info(ctx, f"nothing to code: every hit is already coded {coded['code']} by {coded['coder']}")
    if fmt == "json":
        render.emit("json", data=data)
        return
    shown = f"{len(hits)} of {data['total']}" if len(hits) < data["total"] else f"{len(hits)}"
    noun = "matching turn" if data["total"] == 1 else "matching turns"
    caption = f"{shown} {noun}, best first" + (" (--limit for more)" if len(hits) < data["total"] else "")
    columns = ["rank", *CONTEXT[:5], "score", "snippet"]
    if table:
        from rich.text import Text

        hits = [{**h, "speaker": _who(h), "snippet": _styled(h["snippet"], Text)} for h in hits]
        columns = ["rank", "interview", "turn", "speaker", "score", "snippet"]
    if fmt == "csv":
        hits, columns = _flat(hits, ["rank", *CONTEXT, "score", "snippet", "text"])
    render.emit(fmt, rows=hits, columns=columns, caption=caption, numeric=("rank", "turn", "score"), wide=("snippet",))


def _styled(snippet: str, text_cls):
    out = text_cls()
    for i, part in enumerate(snippet.replace(MARK[1], MARK[0]).split(MARK[0])):
        out.append(part, style="bold reverse" if i % 2 else None)
    return out


def cooccurrence(
    ctx: typer.Context,
    coder: CoderOpt = None,
    level: Annotated[
        Literal["code", "criterion"],
        typer.Option("--level", help="code (every code) or criterion (top-level codes, subtrees pooled)."),
    ] = "code",
    fmt: FormatOpt = "table",
) -> None:
    """Codes applied to the same turns: for each pair, the turns with both and Jaccard (both / either).

    A turn counts once per coder; without --coder, each coder's turns count separately. JSON adds the full matrix
    of counts (the diagonal is each code's turns) and of Jaccard indexes.

    Example: `qualcode cooccurrence --coder ana --level criterion`
    """
    from qualcode.coding.retrieval import cooccurrence as do

    db = open_db(ctx)
    data = do(db, coder=coder, level=level)
    if coder:
        warn_incomplete(db, coder)  # the counts are figures: an unfinished consensus or undecided turns are said
    if fmt == "json":
        render.emit("json", data=data)
        return
    who = f"coded by {coder}" if coder else "coded (each coder's turns counted separately)"
    rows = [{"code": p["a"], "with": p["b"], **p} for p in data["pairs"]]
    render.emit(
        fmt,
        rows=rows,
        columns=["code", "with", "both", "either", "jaccard"],
        caption=f"{render.plural(len(rows), 'pair')} among {render.plural(data['units'], 'turn')} {who}",
        numeric=("both", "either", "jaccard"),
    )


def register(app: typer.Typer) -> None:
    app.command()(segments)
    app.command()(search)
    app.command()(cooccurrence)
