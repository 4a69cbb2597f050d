"""The `codebook` group: load, show, patterns, export, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from qualcode.cli._common import info, open_db, warn, write_output
from qualcode.output import render

codebook_app = typer.Typer(help="Load, show, export and import the codebook.", no_args_is_help=True)


@codebook_app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Codebook YAML file.")],
    move_to: Annotated[str | None, typer.Option("--move-to", help="Codings of removed codes go to this code.")] = None,
    delete_codings: Annotated[
        bool, typer.Option("--delete-codings", help="Delete the codings of removed codes (reported).")
    ] = False,
) -> None:
    """Validate a YAML codebook and make it the project's codebook (the project is created if missing).

    Loading a changed codebook updates codes in place by their stable `key`, and reports added, renamed, moved and
    removed codes. A removed code that has codings is refused unless `--move-to CODE` or `--delete-codings` says
    what happens to them. Errors name the file and line. The schema is in codebooks/README.md.

    Example: `qualcode codebook load codebooks/dac.yml`
    """
    from qualcode.codebook.store import load as load_codebook

    report = load_codebook(open_db(ctx, create=True), file, move_to=move_to, delete_codings=delete_codings)
    n = sum(1 for _ in _walk_report(report))
    render.out.print(f"Loaded codebook {report.codebook!r} from {file}.", markup=False, highlight=False)
    for line in _walk_report(report):
        render.out.print(f"  {line}", markup=False, highlight=False)
    if not n:
        render.out.print("  no changes" if report.unchanged else "  no code added, renamed or removed", markup=False)
    for w in report.warnings:
        warn(w)


def _walk_report(r):
    for p in r.added:
        yield f"added    {p}"
    for a, b in r.renamed:
        yield f"renamed  {a} → {b}"
    for a, b in r.moved:
        yield f"moved    {a} → {b}"
    for p in r.updated:
        yield f"updated  {p}"
    for p in r.removed:
        yield f"removed  {p}"
    if r.codings_moved or r.codings_retired:
        yield f"moved {render.plural(r.codings_moved, 'coding')} of removed codes" + (
            f", {r.codings_retired} already had {r.moved_to} (retired)" if r.codings_retired else ""
        )
    if r.codings_deleted:
        yield f"deleted {render.plural(r.codings_deleted, 'coding')} of removed codes"


@codebook_app.command("show")
def show(
    ctx: typer.Context,
    fmt: Annotated[Literal["tree", "json", "md"], typer.Option("--format", "-f", help="tree, json or md.")] = "tree",
    coder: Annotated[
        str | None, typer.Option("--coder", help="Count this coder's codings only (default: every coder's, pooled).")
    ] = None,
) -> None:
    """Show the code tree with the number of codings and suggestions per code.

    The codings are every coder's, pooled (a turn two coders coded counts twice), unless --coder names one;
    `qualcode segments --code CODE --coder NAME` lists them.

    Example: `qualcode codebook show --coder coder-a --format md > codebook.md`
    """
    from rich.tree import Tree

    from qualcode.codebook.formats import to_markdown, tree

    db = open_db(ctx)
    if fmt == "json":
        render.emit("json", data=tree(db, coder))
        return
    if fmt == "md":
        typer.echo(to_markdown(db, coder), nl=False)
        return
    data = tree(db, coder)
    version = f" (version {data['version']})" if data["version"] else ""
    whose = f"codings by {render_escape(coder)}" if coder else "codings: all coders pooled"
    root = Tree(f"[bold]{render_escape(data['name'])}[/bold]{version}  [dim]{whose}[/dim]")

    def add(node, parent):
        flags = "" if node["codable"] else " [dim](folder)[/dim]"
        flags += " [dim](exclusive)[/dim]" if node["exclusive"] else ""
        colour = node["colour"] or "white"
        label = (
            f"[{colour}]■[/] {render_escape(node['name'])}{flags}  "
            f"[dim]{render.plural(node['codings'], 'coding')}"
            + (f" ({node['orphaned']} orphaned)" if node["orphaned"] else "")
            + f", {render.plural(node['suggestions'], 'suggestion')}[/dim]"
        )
        branch = parent.add(label)
        for c in node["children"]:
            add(c, branch)

    for c in data["codes"]:
        add(c, root)
    render.show(root)


@codebook_app.command("patterns")
def patterns(
    ctx: typer.Context,
    coder: Annotated[str, typer.Option("--coder", help="Measure against this coder's decided turns.")],
    code: Annotated[str | None, typer.Option("--code", help="Only this code's patterns and those below it.")] = None,
    min_turns: Annotated[
        int, typer.Option("--min-turns", min=1, help="Leave out patterns matching fewer decided turns.")
    ] = 3,
    fmt: Annotated[
        Literal["table", "csv", "json", "md"], typer.Option("--format", "-f", help="table, csv, json or md.")
    ] = "table",
) -> None:
    """How each pattern does against a coder's decisions: where it matches, did the coder give its code?

    For every pattern that matches at least --min-turns of the turns CODER decided (codes or "no code"): how many,
    on how many of them CODER applied the pattern's code or a code below it (code precision), and on how many any
    code of its criterion (criterion precision). Least precise first: these are the patterns to narrow or drop in
    the codebook, since the model reads one pattern score per code and cannot tell a misleading pattern from the
    code's good ones. Check a narrowed pattern against another coder's decisions than the ones that showed it up.
    `#` is the pattern's number in the code's list for that language, as `codebook load` warnings count them
    (`pattern` in csv and json, where `label` is the pattern).

    Example: `qualcode codebook patterns --coder coder-a --code Effectiveness --min-turns 5`
    """
    from qualcode.suggest.pattern_precision import pattern_precision

    report = pattern_precision(open_db(ctx), coder, code=code, min_turns=min_turns)
    rows = [r.as_dict() for r in report.rows]
    if fmt in ("json", "csv"):
        render.emit(fmt, rows=rows, data={"coder": report.coder, "turns decided": report.turns, "patterns": rows})
        return
    shown = [
        {
            "code": r["code"],
            "#": r["pattern"] if r["language"] == report.language else f"{r['pattern']} ({r['language']})",
            "pattern": r["label"],
            "weight": f"{r['weight']:.2f}",
            "turns": r["turns"],
            "code P": r["code precision"],
            "criterion P": r["criterion precision"],
        }
        for r in rows
    ]
    render.emit(
        fmt,
        rows=shown,
        columns=["code", "#", "pattern", "weight", "turns", "code P", "criterion P"],
        title=f"Patterns against {coder}'s {render.plural(report.turns, 'decided turn')}, least precise first",
        caption=f"{render.plural(len(rows), 'pattern')} matching at least {min_turns} of them",
        numeric=("#", "weight", "turns", "code P", "criterion P"),
    )


def render_escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@codebook_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        Literal["yml", "qdc", "csv"] | None,
        typer.Option(
            "--format", "-f", help="yml, qdc (REFI-QDA) or csv (Taguette) (default: the -o file's suffix, else yml)."
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Write the current codebook as YAML (loadable again), as a REFI-QDA Codebook 1.0 .qdc file, or as CSV.

    The CSV has Taguette's shape: a column tag with each code's path ("Relevance/Constituent needs") and a column
    description (definition, include, exclude and examples as paragraphs). It has no colours, folders or patterns.

    Example: `qualcode codebook export --format qdc -o dac.qdc`
    """
    from qualcode.export.files import choose_format

    fmt = choose_format(fmt, output, ("yml", "qdc", "csv"), what="codebook export")
    db = open_db(ctx)
    if fmt == "qdc":
        from qualcode.refi.codebook import to_qdc

        write_output(to_qdc(db), output, ctx, "codebook")
    elif fmt == "csv":
        from qualcode.refi.csvbook import to_csv

        write_output(to_csv(db), output, ctx, "codebook")
    else:
        from qualcode.codebook.formats import to_yaml

        write_output(to_yaml(db), output, ctx, "codebook")


@codebook_app.command("import")
def import_qdc(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="REFI-QDA codebook (.qdc), or a CSV codebook (.csv).")],
    move_to: Annotated[str | None, typer.Option("--move-to", help="Codings of removed codes go here.")] = None,
    delete_codings: Annotated[bool, typer.Option("--delete-codings", help="Delete codings of removed codes.")] = False,
    paths: Annotated[
        bool, typer.Option("--paths", help="Read '/' in a .qdc's code names as levels: 'A/B' is B under A (Taguette).")
    ] = False,
) -> None:
    """Import a codebook from other QDA software: REFI-QDA Codebook 1.0 (.qdc), or CSV in Taguette's shape.

    A .qdc (MAXQDA, ATLAS.ti, NVivo, QualCoder, Taguette): codes keep their GUIDs; codes with isCodable="false"
    become folders. Taguette's .qdc is a flat list whose names are paths: with --paths, "A/B" becomes B under A
    (a level no code names becomes a folder); without it, '/' is kept in the name as '∕'. A .csv: exactly one
    column tag, name or path, and optionally description; its names are always read as paths, and a code already
    in the project at that path keeps its GUID, colour, patterns and whether it is a folder. Either way, it then
    behaves like `codebook load`. The report says how names were read.

    Example: `qualcode codebook import taguette-codebook.csv`
    """
    db = open_db(ctx, create=True)
    if file.suffix.casefold() == ".csv":
        from qualcode.refi.csvbook import import_csv

        report = import_csv(db, file, move_to=move_to, delete_codings=delete_codings)
    else:
        from qualcode.refi.codebook import import_qdc as do_import

        report = do_import(db, file, move_to=move_to, delete_codings=delete_codings, paths=paths)
    render.out.print(
        f"Imported codebook {report.codebook!r} from {file}: {len(report.added)} added, "
        f"{len(report.renamed)} renamed, {len(report.removed)} removed.",
        markup=False,
        soft_wrap=True,
    )
    for note in report.notes:
        info(ctx, note)


def register(app: typer.Typer) -> None:
    app.add_typer(codebook_app, name="codebook")
