"""Plumbing shared by the commands: the root options, opening the project, progress, messages."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer

from qualcode.errors import UsageError
from qualcode.output import render

T = TypeVar("T")

NO_CODE_DECISION = "'no code' decision"  # for render.plural

Format = Literal["table", "json", "csv", "md"]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format: table, json, csv or md.")]
CoderOpt = Annotated[
    str | None, typer.Option("--coder", envvar="QUALCODE_CODER", help="Coder name (or QUALCODE_CODER).")
]

WhereOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="Only where ATTR=VALUE: gender (normalised), a participant or an interview attribute; repeat to AND.",
    ),
]

InterviewOpt = Annotated[list[str] | None, typer.Option("--interview", "-i", help="Only this interview (repeatable).")]

SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Only one kind of source: interviews, survey or documents.")
]


def in_scope(ctx: typer.Context, interview: list[str] | None, source: str | None) -> list[str]:
    """The interview ids a command is narrowed to: those given, or every source of the kind --source names (of those
    given, with both); [] for no narrowing."""
    if not source:
        return list(interview or [])
    from qualcode.store.queries import sources_of

    return sources_of(open_db(ctx), source, list(interview or []))


OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout; xlsx needs a file).")
]

# No QUALCODE_CODER here: that variable names the person coding, and an export of their codings by accident would
# pass for the team's consensus.
ExportCoderOpt = Annotated[
    str | None,
    typer.Option("--coder", help="Whose codings (default: 'consensus' if that coder exists, else the only coder)."),
]

RedactOpt = Annotated[
    bool,
    typer.Option(
        "--redact",
        help="Pseudonymise: participants by study id, names in the text and the redaction "
        "list replaced (see 'qualcode redact').",
    ),
]

AllowIncompleteOpt = Annotated[
    bool,
    typer.Option(
        "--allow-incomplete",
        help="Export a consensus whose review is unfinished, marked as incomplete (refused otherwise).",
    ),
]


class WholeNumber:
    """The one parser of every integer the command line takes (ids, turn numbers, batches, limits, counts): a
    whole number that SQLite can hold (64 bits), at least MIN. Anything else is a usage error (exit 2) naming the
    option, never an OverflowError or a "datatype mismatch" from deep inside a query."""

    def __init__(self, min: int | None = None):
        self.min = min

    def __call__(self, value) -> int:
        from qualcode.store.db import SQLITE_MAX_INT, fits_sqlite

        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            try:
                n = int(str(value).strip())
            except ValueError:
                raise typer.BadParameter(f"{value!r} is not a whole number") from None
        if not fits_sqlite(n):
            raise typer.BadParameter(
                f"{value} is out of range: SQLite holds whole numbers between -2**63 and 2**63-1 ({SQLITE_MAX_INT})"
            )
        if self.min is not None and n < self.min:
            raise typer.BadParameter(f"{value} is too small: the least is {self.min}")
        return n


INTEGER = WholeNumber()
COUNT = WholeNumber(min=0)
POSITIVE = WholeNumber(min=1)


@dataclass
class State:
    db_path: Path
    quiet: bool = False
    opened: list = field(default_factory=list)  # project connections, closed when the command ends


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State(db_path=Path(os.environ.get("QUALCODE_DB") or "qualcode.db"))
    return root.obj


def open_db(ctx: typer.Context, *, create: bool = False, migrate: bool = True, writes: bool = False):
    """The project, opened to work, or read-only when this process cannot write it (then the first write is
    refused in one line, and confirm_unchanged says whether what was read stayed one state of it). writes=True:
    the command will change it (a coding session, training), so a read-only project is refused before it starts."""
    from qualcode.store.db import open_project

    db = open_project(state(ctx).db_path, create=create, migrate=migrate, writes=writes)
    state(ctx).opened.append(db)
    return db


def confirm_unchanged(ctx: typer.Context) -> None:
    """Raise when a project read without a lock was written to by another process while the command read it."""
    from qualcode.store.db import confirm_unchanged as confirm

    for db in state(ctx).opened:
        confirm(db)


@contextlib.contextmanager
def creating_db(ctx: typer.Context):
    """open_db(create=True) for a command that brings material in. If the command made the project file and then
    fails with nothing stored (every file refused, a broken archive), the file is removed again: a refused import
    leaves the folder as it was. A project that existed before is never removed."""
    from qualcode.store.db import remove_if_blank

    path = state(ctx).db_path
    new = not path.exists() and not path.is_symlink()
    db = open_db(ctx, create=True)
    try:
        yield db
    except BaseException as e:
        if new and getattr(e, "exit_code", 1) != 0:  # typer.Exit(0) is a success
            db.conn.close()  # a WAL project removes its -wal and -shm files when its last connection closes
            remove_if_blank(path)
        raise


def info(ctx: typer.Context, message: str) -> None:
    """A one-line message ("wrote X", "added Y"): stderr, wherever it goes; silent with --quiet."""
    if not state(ctx).quiet:
        render.err.print(message, markup=False, highlight=False)


def warn_caveats(caveats: list[str]) -> None:
    """What the figures rest on that is incomplete (an unfinished consensus given --allow-incomplete, undecided
    units, codings left out) goes to stderr too, even with --quiet: the only place a CSV has for it."""
    for caveat in caveats:
        warn(caveat)


def warn_incomplete(db, coder: str | None) -> None:
    """warn_caveats for figures that are not an export's own data (participants, co-occurrence)."""
    from qualcode.export.segments import caveats_for

    warn_caveats(caveats_for(db, coder))


def step(ctx: typer.Context, message: str) -> None:
    """A line of progress ("imported 64 transcripts" while more is coming): like a progress bar, only for a person
    watching a terminal, so `2>file` and a pipe get the messages, not a running commentary."""
    if not state(ctx).quiet and sys.stderr.isatty():
        render.err.print(message, markup=False, highlight=False)


def warn(message: str) -> None:
    render.err.print(f"warning: {message}", markup=False, style="yellow")


def progress(ctx: typer.Context, items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """A progress bar on stderr, only for a person watching a terminal."""
    if state(ctx).quiet or not sys.stderr.isatty() or total < 2:
        yield from items
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=render.err, transient=True
    ) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task)


@contextlib.contextmanager
def progress_bar(ctx: typer.Context, label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr driven by the library's progress(done, total) callback; only for a person watching
    a terminal."""
    if state(ctx).quiet or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=render.err, transient=True
    ) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def require_coder(coder: str | None) -> str:
    if not coder or not coder.strip():
        raise UsageError("name the coder with --coder NAME or QUALCODE_CODER")
    return coder.strip()


def refi_counts(r) -> str:
    """'64 sources, 36 codes, 766 codings, 1 user, 0 cases': what a REFI-QDA export or import carried."""
    pairs = ((r.sources, "source"), (r.codes, "code"), (r.codings, "coding"), (r.users, "user"), (r.cases, "case"))
    return ", ".join(render.plural(n, w) for n, w in pairs)


def split_csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def write_output(text: str | bytes, output: Path | None, ctx: typer.Context, what: str) -> None:
    """Write to -o FILE (and say so on stderr), else to stdout."""
    if output is None:
        if isinstance(text, bytes):
            raise UsageError(f"{what} is binary: write it to a file with -o FILE")
        # On a terminal a project's text (a transcript, a memo, a coder's name) must not move the cursor or
        # retitle the window: its control characters are shown. A pipe or a file gets the text as stored.
        sys.stdout.write(render.printable(text) if sys.stdout.isatty() else text)
        return
    from qualcode.output.files import write

    confirm_unchanged(ctx)  # a file made from a read that mixed two states of the project is not written
    write(output, text, project=state(ctx).db_path)
    info(ctx, f"wrote {what} to {output}")
