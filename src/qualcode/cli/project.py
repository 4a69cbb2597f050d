"""The project file as a whole: merge, backup, check."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._common import FormatOpt, open_db, state, warn
from qualcode.output import render


def merge(
    ctx: typer.Context,
    other: Annotated[Path, typer.Argument(help="Another qualcode project (.db); opened read-only.")],
    add_codes: Annotated[
        bool, typer.Option("--add-codes", help="Create the codes OTHER has and this project lacks.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Bring another project's codings (live ones and the history of removed ones), memos and coders into this one.

    For coders who work on their own copies. OTHER is only read; the merge is one transaction; merging the same
    project twice changes nothing.

    Interviews match by their text, else by id with a warning (the codings are then placed by their quotes, as
    `import --replace` does, or kept as orphaned). Codes match by path, then key; codings on codes this project
    lacks are skipped and listed, unless --add-codes creates those codes. Coders match by name.

    A coding with the same GUID in both projects is the same coding; live in one and removed in the other, the
    project that changed it last (made, removed, or revived it by undo) is ahead on it. Per turn and coder: when
    OTHER has nothing this project lacks, nothing changes; when this project has nothing OTHER lacks (say its coder
    never decided the turn), OTHER's decision is taken, removals and revivals included; when both changed it,
    nothing changes if the decisions agree, OTHER's is taken if this project's coder has none there, and anything
    else is a conflict: listed, this project's decision kept. An empty memo takes OTHER's. Each coder's arrivals are
    one batch, which `undo` takes back.

    Example: `qualcode --db team.db merge laptops/ana.db --dry-run`
    """
    from qualcode.coding.merge import merge as do

    r = do(open_db(ctx), other, add_codes=add_codes, dry_run=dry_run)
    for w in r.warnings:
        warn(w)
    unknown = [c for c in r.codes_unknown if c["code"] not in r.codes_created]
    if unknown:
        listing = ", ".join(f"{c['code']} ({c['codings']})" for c in unknown)
        warn(f"codes of {other.name} unknown here (live codings): {listing}; add them with --add-codes")
    if fmt == "json":
        render.emit("json", data=dataclasses.asdict(r))
        return
    c = r.codings
    missing = [i["interview"] for i in r.interviews if not i["matched"]]
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    turns = sum(x["kind"] == "decision" for x in r.conflicts)
    record = {
        "interviews": f"{r.matched('hash')} matched by text, {r.matched('id')} by id (text differs), "
        f"{len(missing)} not here" + (f" ({shown})" if missing else ""),
        "codings added": c["added"],
        "history added (removed codings)": c["history"],
        "orphaned (no place here)": c["orphaned"],
        "already here": c["already"],
        "removed here (OTHER removed them)": r.removed,
        "conflicting (not taken)": f"{c['conflicting']} on {turns} turn{'s' if turns != 1 else ''}",
        "skipped, code unknown here": c["unknown_code"],
        "skipped, interview not here": c["no_interview"],
        "memos added": r.memos_added,
        "codes created": r.codes_created or "none",
    }
    if unknown:
        record["codes unknown here"] = [x["code"] for x in unknown]
    record["coders"] = [f"{x['coder']} ({'new, ' if x['created'] else ''}{x['added']} added)" for x in r.coders]
    if c["superseded"]:
        record["'no code' superseded by codes"] = c["superseded"]
    title = f"Dry run: merging {other} would give (nothing written)" if dry_run else f"Merged {other}"
    render.emit_record(fmt, record, title=title)
    if r.conflicts:
        render.emit(
            fmt,
            rows=r.conflicts,
            columns=["interview", "turn", "coder", "kind", "here", "there"],
            title="Conflicts: this project's version was kept",
            numeric=("turn",),
            wide=("here", "there"),
        )


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Copy the project into FILE with SQLite's online backup: consistent even while others are coding.

    FILE is a complete project on its own (open it with --db). It is written under a temporary name and renamed
    when complete; an existing FILE is only replaced with --force.

    Example: `qualcode backup backups/study-2026-11-27.db`
    """
    from qualcode.output.files import replacing
    from qualcode.store.maintenance import backup as do

    def into(dest: Path):
        return replacing(dest, project=state(ctx).db_path, overwrite=force)

    r = do(open_db(ctx, migrate=False), file, replacing=into)
    render.emit_record(fmt, r, title=f"Backed up to {file}")


def check(ctx: typer.Context, fmt: FormatOpt = "table") -> None:
    """Check the project: SQLite integrity and foreign keys, orphaned codings, codings whose code or turn is gone,
    quotes and turns that no longer match the interview text at their offsets, two options of one exclusive scale on
    one passage, sentences outside their turn, the search index, sources and patterns in languages spaCy knows, and
    each person stored as the kind of the sources they speak in (respondents apart from the people interviewed).
    Exit code 1 when a problem is found.

    Example: `qualcode check --format json`
    """
    from qualcode.store.maintenance import check as do

    results = do(open_db(ctx))
    problems = sum(r["problems"] for r in results)
    if fmt == "json":
        render.emit("json", data={"ok": not problems, "checks": results})
    else:
        rows = [
            {
                "check": r["check"],
                "status": f"{r['problems']} problem{'s' if r['problems'] > 1 else ''}" if r["problems"] else "ok",
                "what": r["what"],
                "examples": "\n".join(r["examples"]),
            }
            for r in results
        ]
        failed = sum(bool(r["problems"]) for r in results)
        render.emit(
            fmt,
            rows=rows,
            columns=["check", "status", "what", "examples"],
            wide=("what", "examples"),
            caption=f"{failed} of {len(results)} checks found problems" if failed else "all checks passed",
        )
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(merge)
    app.command()(backup)
    app.command()(check)
