"""Getting material in and looking at it: import, import-qdpx, participants, interviews, show."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._common import FormatOpt, creating_db, info, open_db, progress, refi_counts, warn
from qualcode.errors import UsageError
from qualcode.output import render

TABLE_LIMIT = 200


def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders (searched recursively).")],
    replace: Annotated[bool, typer.Option("--replace", help="Import a changed file over its interview.")] = False,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding of the files (default UTF-8), e.g. cp1252.")
    ] = None,
    speaker_map: Annotated[
        list[str] | None,
        typer.Option(
            "--speaker-map", help="Map labels to ids: 'Ms Sharma=P017,Int 1=EV1' (repeatable: the maps are merged)."
        ),
    ] = None,
    interviewer: Annotated[
        list[str] | None, typer.Option("--interviewer", help="A label that is an interviewer (repeatable).")
    ] = None,
    max_size: Annotated[float, typer.Option("--max-size", help="Largest file accepted, in MB.")] = 20,
    document: Annotated[
        bool, typer.Option("--document", help="Read .txt, .md and .docx files without speakers as documents.")
    ] = False,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="Survey (.csv/.xlsx): the respondent id column.")
    ] = None,
    question: Annotated[
        list[str] | None,
        typer.Option(
            "--question", help="Survey: an open-question column, COLUMN or COLUMN=question text (repeatable)."
        ),
    ] = None,
    attribute: Annotated[
        list[str] | None,
        typer.Option("--attribute", help="Survey: a column describing respondents, e.g. gender (repeatable)."),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Import transcripts, survey answers and documents into the project (created if missing).

    Reads Markdown/text with YAML front matter (the project's own format), plain text with speaker labels
    (`Name:`, `Name :`, `[id1]`, `**Name** [m:ss]`, `I – text`), WebVTT (Zoom, Teams), SubRip, Otter.ai text,
    Zoom saved captions and .docx. Files without front matter take metadata from a sidecar `NAME.yml`.

    Survey answers (.csv, .xlsx): each respondent becomes a respondent of the survey (counted apart from the people
    interviewed), each non-empty answer a unit to code, with its question as context. Name the columns with
    --id-column, --question and --attribute, or in a sidecar NAME.yml (survey:, title:, id_column:,
    attribute_columns:, questions: column → question text). Documents (.pdf; .md/.txt with `document:` front matter;
    .txt/.md/.docx with --document): paragraphs are the units, PDF pages are kept for quotes, headings become the
    context of the paragraphs under them.
    Each file is one transaction: a failed file leaves no trace and the rest go on (exit code 1 if any failed).
    Two files claiming one interview id are both refused. Re-importing an unchanged file does nothing; a changed
    one needs `--replace`.

    With `--replace`, codings follow the edited text: each is found again by its quoted text (exact match nearest
    its old place, else a similar span nearby, difflib ratio >= 0.8; a whole-turn coding covers a whole new turn
    whose text is that similar). Codings that cannot be found are kept as orphaned, reported, and listed by
    `qualcode codings orphans`. Suggestions for the interview are dropped: score it again.

    Example: `qualcode import transcripts/ --speaker-map "Interviewer 1=EV1"`
    """
    from qualcode.ingest.files import skipped_readmes
    from qualcode.ingest.importer import ImportOptions, collect_files, import_paths, parse_speaker_map, unmatched_labels

    if not 0 < max_size <= 1_000_000:  # nan and inf fail this too; a terabyte transcript is a typo
        raise UsageError("--max-size must be a number of megabytes between 0 and 1000000")
    if encoding:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(
                f"--encoding: unknown encoding {encoding!r} (for example utf-8, cp1252, latin-1)"
            ) from None
    survey = None
    if id_column or question or attribute:
        from qualcode.ingest.transcripts.survey import Spec

        questions = dict(q.split("=", 1) if "=" in q else (q, q) for q in question or [])
        survey = Spec(id_column=id_column, questions=questions, attribute_columns=list(attribute or []))
    options = ImportOptions(
        encoding=encoding,
        replace=replace,
        speaker_map=parse_speaker_map(speaker_map),
        interviewers=list(interviewer or []),
        max_bytes=int(max_size * 1024 * 1024),
        document=document,
        survey=survey,
    )
    files = collect_files(paths)
    if not files:
        raise UsageError(f"no transcript files in {', '.join(map(str, paths))}")
    with creating_db(ctx) as db:  # a new project file goes again if nothing of this import was stored
        total = len(files) + len(skipped_readmes(paths))
        results = list(progress(ctx, import_paths(db, paths, options), total, "importing"))
        for option in unmatched_labels(options, [r for r in results if not r.failed]):
            warn(f"{option} matched no speaker in the files imported: nothing was mapped by it (a typo?)")
        _report(ctx, results, fmt)


def _report(ctx: typer.Context, results: list, fmt: str) -> None:
    """The table of files, their notes, and an error line per failed file (exit 1 if any failed)."""
    rows = [
        {
            "file": r.file,
            "interview": r.interview,
            "format": r.format,
            "turns": r.turns,
            "speakers": r.speakers,
            "status": r.status,
            "message": r.message,
            "notes": r.notes,
            "reanchor": dataclasses.asdict(r.reanchor) if r.reanchor else None,
        }
        for r in results
    ]
    columns = ["file", "interview", "format", "turns", "speakers", "status"]
    statuses = ("imported", "replaced", "unchanged", "failed", "skipped")
    counts = {s: sum(r.status == s for r in results) for s in statuses}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    shown = rows
    if fmt == "table" and len(rows) > TABLE_LIMIT:
        # A screen of thousands of identical "imported" rows hides the few that matter (and takes seconds to draw).
        shown = [r for r in rows if r["status"] in ("failed", "replaced", "skipped")]
        summary += f"; listed: the {len(shown)} failed, replaced or skipped (--format csv lists every file)"
    render.emit(fmt, rows=shown, columns=columns, data=rows, caption=summary, numeric=("turns", "speakers"))
    for r in results:
        if r.status == "skipped":
            info(ctx, r.message)
        for note in r.notes:
            if not note.startswith(("speaker convention", "metadata from")):
                info(ctx, f"{Path(r.file).name}: {note}")
    for r in results:
        if r.reanchor and r.reanchor.orphaned:
            warn(r.message)  # not silenced by --quiet: orphaned codings need a person's attention
        elif r.reanchor and r.message:
            info(ctx, r.message)
    failed = [r for r in results if r.failed]
    for r in failed:
        render.err.print(f"Error: {r.message}", markup=False, style="red", soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def import_qdpx(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="REFI-QDA project (.qdpx).")],
    speakers: Annotated[
        bool,
        typer.Option("--speakers", help="Read 'Name:' lines as speakers when most of a source's text opens with them."),
    ] = False,
) -> None:
    """Import a REFI-QDA project (.qdpx) from MAXQDA, ATLAS.ti, NVivo or QualCoder.

    The project is created if missing; importing into an existing one adds to it (sources and codings it already
    has, by GUID, are left as they are). Text sources are stored as they are (LF line ends, NFC), so every selection
    keeps its place, and every character is in a unit. A source is a document whose units are its paragraphs (joined
    where a selection runs across them), of no recorded speaker, unless its speakers are known: labels its cases
    declare (qualcode's own exports), or with --speakers, 'Name:' lines that open most of its text. A selection
    across two speakers' turns becomes one coding per turn. Users become coders, cases become participants,
    selections become codings (origin refi) with their notes as memos, and qualcode's "no code" selections (in a set
    named "No code: CODER") become "no code" decisions. An interview's id is its source's name without a file
    extension ("interview.txt" is interview). A project without a codebook takes the file's; one with a codebook
    matches codes by GUID, then by path. UTF-16 offsets (NVivo's, or a file whose origin says so) are converted to
    code points. The archive is checked before anything is written, and the whole import is one transaction.

    Example: `qualcode --db study.db import-qdpx maxqda-export.qdpx`
    """
    from qualcode.refi.importer import import_qdpx as do

    with creating_db(ctx) as db:
        r = do(db, file, speakers=speakers)
    origin = f" ({r.origin})" if r.origin else ""
    render.out.print(f"Imported {file}{origin}: " + refi_counts(r) + ".", markup=False, highlight=False, soft_wrap=True)
    if r.no_code:
        render.out.print(f"  {r.no_code} 'no code' decision(s)", markup=False, highlight=False)
    for n, what in ((r.sources_present, "sources were"), (r.codings_present, "codings were")):
        if n:
            render.out.print(f"  {n} {what} already in the project", markup=False, highlight=False)
    if r.converted:
        render.out.print(
            f"  converted the offsets of {render.plural(r.converted, 'selection')} from UTF-16 code units to "
            "code points",
            markup=False,
            highlight=False,
        )
    for note in r.notes:
        info(ctx, note)
    if r.not_imported:
        warn(f"{len(r.not_imported)} coding(s) not imported:")
        for line in r.not_imported:
            warn(f"  {line}")


def participants(
    ctx: typer.Context,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Cross-tabulate with gender by this attribute (participant or interview)."),
    ] = None,
    respondents: Annotated[
        bool, typer.Option("--respondents", help="Count survey respondents instead of the people interviewed.")
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Count distinct participants, disaggregated by gender, optionally by an attribute.

    Participants are the people interviewed; survey respondents are counted apart (--respondents), each against its
    own total, and documents are no one. Gender values are normalised (woman/female/f → woman, man/male/m → man;
    others kept as written; missing → "not recorded"). An interview attribute such as case_study applies to that
    interview's participants.

    Example: `qualcode participants --by stakeholder_group --format json`
    """
    from qualcode.ingest.participants import counts

    db = open_db(ctx)
    data = counts(db, by, kind="respondent" if respondents else "interviewee")
    genders = list(data["by_gender"])
    if fmt == "json":
        render.emit("json", data=data)
        return
    label = by or ("respondents" if respondents else "participants")
    rows = [{label: "all", "total": data["total"], **data["by_gender"]}]
    if by:
        rows = [{label: r["value"], "total": r["total"], **r["by_gender"]} for r in data["by"]["rows"]] + rows
    render.emit(
        fmt,
        rows=rows,
        columns=[label, "total", *genders],
        title=f"Participants by {by.replace('_', ' ')} and gender" if by else "Participants by gender",
        numeric=("total", *genders),
    )


def interviews(ctx: typer.Context, fmt: FormatOpt = "table") -> None:
    """List interviews with their language, participants, turns, words and attributes.

    The language decides how a source is read for suggestions (its pipeline and its patterns); "fr*" means it was
    detected from the text because the source declared none.

    Example: `qualcode interviews --format csv > interviews.csv`
    """
    from qualcode.ingest.interviews import listing

    rows = listing(open_db(ctx))
    total_words = sum(r["words"] for r in rows)
    kinds = {k: sum(r["kind"] == k for r in rows) for k in ("interview", "survey", "document")}
    counts = ", ".join(render.plural(n, k) for k, n in kinds.items() if n or k == "interview")
    languages = Counter(r["language"].rstrip("*") for r in rows)
    by_language = ", ".join(f"{lang} {n}" for lang, n in languages.most_common())
    guessed = "; * detected from the text, not declared" if any(r["language"].endswith("*") for r in rows) else ""
    render.emit(
        fmt,
        rows=rows,
        columns=["id", "kind", "title", "date", "language", "participants", "turns", "words", "attributes"],
        caption=f"{counts}; {render.plural(total_words, 'word')}; sources by language: {by_language}{guessed}",
        numeric=("participants", "turns", "words"),
    )


def show(
    ctx: typer.Context,
    interview: Annotated[str, typer.Argument(help="Interview id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show one transcript with turn numbers, speakers and participant attributes.

    Turn numbers are the 0-based indexes that `apply`, the coding CSV files and exports use.

    Example: `qualcode show INT-07`
    """
    from qualcode.ingest.interviews import transcript

    if fmt not in ("text", "json"):
        raise UsageError("--format must be text or json")
    data = transcript(open_db(ctx), interview)
    if fmt == "json":
        render.emit("json", data=data)
        return
    attrs = ", ".join(f"{k}: {v}" for k, v in data["attributes"].items())
    render.text(f"{data['id']}  {data['title'] or ''}  {data['date'] or ''}", "bold")
    if attrs:
        render.text(attrs, "dim")
    for s in data["speakers"]:
        who = s["participant"] or s["interviewer"]
        extra = (
            ", ".join([s["gender"]] + list(s["attributes"].values())) if s["role"] == "participant" else "interviewer"
        )
        render.text(f"  {s['label']} = {who} ({extra})", "dim")
    for t in data["turns"]:
        render.text()
        where = f"  p. {t['page']}" if t["page"] else ""
        render.text(f"[{t['turn']}] {t['speaker']}{where}", "bold cyan" if t["role"] == "participant" else "bold")
        if t["context"]:  # a survey answer's question, a document paragraph's section
            render.text(f"({t['context']})", "dim italic")
        render.text(t["text"])


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("import-qdpx")(import_qdpx)
    app.command()(participants)
    app.command()(interviews)
    app.command()(show)
