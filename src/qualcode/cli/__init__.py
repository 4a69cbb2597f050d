"""The qualcode command line. Commands only parse, call one library function, and render.

Heavy libraries (spaCy, openpyxl, lxml) are imported inside the commands that need them, so `qualcode --help`
stays instant.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from qualcode import __version__
from qualcode.cli._common import State, confirm_unchanged
from qualcode.errors import QualcodeError
from qualcode.output import render


class QualcodeGroup(TyperGroup):
    """Turns every domain error into one line on stderr and its exit code: never a traceback. Accepts the global
    options after the command name too (`qualcode audit --coders a,b --db x.db`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _global_options_everywhere(self)

    def list_commands(self, ctx):  # keep the order commands were registered in (the workflow order)
        return list(self.commands)

    def make_context(self, *args, **kwargs):
        # `qualcode --help` and `--version` print while their options are parsed, before any command runs; Click
        # would answer a reader that went away with exit 1, where every command answers 141.
        try:
            return super().make_context(*args, **kwargs)
        except OSError as e:
            raise typer.Exit(_refused(e)) from None

    def invoke(self, ctx):
        import sqlite3  # here, not at the top: `qualcode --help` never gets this far and needs no sqlite3

        try:
            result = super().invoke(ctx)
            confirm_unchanged(ctx)
            sys.stdout.flush()  # what is still buffered fails here, if it fails, not in Python's exit
            return result
        except QualcodeError as e:
            render.err.print(f"Error: {e}", markup=False, highlight=False, style="red", soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except sqlite3.OperationalError as e:
            hint = ""
            if "locked" in str(e):
                hint = " (another process holds the project; try again)"
            elif "readonly" in str(e) or "unable to open" in str(e):
                hint = " (the project file or its folder is read-only: check the permissions, or work on a copy)"
            render.err.print(f"Error: {_project(ctx)}: database: {e}{hint}", markup=False, style="red", soft_wrap=True)
            raise typer.Exit(1) from None
        except sqlite3.DatabaseError as e:
            render.err.print(
                f"Error: {_project(ctx)}: not a usable qualcode project: {e}", markup=False, style="red", soft_wrap=True
            )
            raise typer.Exit(1) from None
        except OSError as e:
            raise typer.Exit(_refused(e)) from None
        finally:
            _close(ctx)


# The exit status of a command whose reader went away (`qualcode segments | head -1`): 128 + SIGPIPE, what a shell
# reports for git, which dies of SIGPIPE on purpose, and for cat or grep. Not ripgrep's 0: the command stopped before
# its end (an import's "1 failed" exit status, the rest of the output), and 0 would say it had finished; a script
# under `set -o pipefail` sees what it sees for any other tool. Not a signal death itself, so in-process callers live.
SIGPIPE_STATUS = 141


def _refused(e: OSError) -> int:
    """The system refused a read or write (a full disk, a closed or full stdout, a name too long): one line, and the
    exit status. Each write is a transaction and each file written aside first, so nothing was left halfway."""
    _settle_stdout()
    if e.errno == errno.EPIPE:  # the reader went away: nothing went wrong to tell it
        return SIGPIPE_STATUS
    where = e.filename if e.filename is not None else "standard output"
    with contextlib.suppress(OSError):
        render.err.print(
            f"Error: {where}: {e.strerror or e}", markup=False, style="red", soft_wrap=True, highlight=False
        )
    return 1


def _settle_stdout() -> None:
    """Flush stdout; what cannot be written (its reader went away, the disk is full) goes to /dev/null instead, or
    Python's own flush at exit would fail again, print "Exception ignored" and exit 120."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):  # a stdout with no descriptor (a test's) holds no buffer
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def _close(ctx) -> None:
    """Close the project connections the command opened: a WAL project is checkpointed when its last connection
    closes, and in-process callers (tests, scripts using the app) must not leave that to the garbage collector."""
    from qualcode.cli._common import state

    for db in state(ctx).opened:
        with contextlib.suppress(Exception):
            db.conn.close()
    state(ctx).opened.clear()


def _global_options_everywhere(group) -> None:
    """Give every command and group below the root a hidden copy of --db and -q/--quiet that sets the root's State.

    Click reads a group's options only before the command name; a copy on each command parses them after it, as
    options of that command, so a value can never be mistaken for one of them. The copies read no envvar:
    QUALCODE_DB is read once, by the root, and must not override a --db given before the command.
    """
    import copy

    from qualcode.cli._common import state

    def set_db(ctx, _param, value):
        if value is not None:
            state(ctx).db_path = Path(value)

    def set_quiet(ctx, _param, value):
        if value:
            state(ctx).quiet = True

    copies = []
    for param in group.params:
        if param.name in ("db", "quiet"):
            c = copy.copy(param)
            c.hidden, c.expose_value, c.envvar, c.show_default = True, False, None, False
            c.default, c.callback = (None, set_db) if param.name == "db" else (False, set_quiet)
            copies.append(c)

    def add(cmd) -> None:
        taken = {n for p in cmd.params for n in p.opts}
        cmd.params.extend(c for c in copies if not taken & set(c.opts))
        _refuse_repeated_options(cmd)
        for sub in getattr(cmd, "commands", {}).values():
            add(sub)

    _refuse_repeated_options(group)
    for cmd in group.commands.values():
        add(cmd)


def _refuse_repeated_options(cmd) -> None:
    """An option that takes one value, given twice, is a usage error: click keeps the last one silently, and
    `apply ... --coder alice --coder bob` stored bob's coding. Options meant to repeat say so (`multiple`)."""
    parse = cmd.parse_args

    def parse_args(ctx, args):
        try:
            _, _, order = cmd.make_parser(ctx).parse_args(args=list(args))
        except Exception:  # noqa: BLE001 - click's own message, from the parse below, for what it cannot parse
            return parse(ctx, args)
        seen: set[str] = set()
        for param in order:
            # (typer vendors its own click: options are told by their kind, not by class)
            single = param.param_type_name == "option" and not (param.multiple or param.count or param.is_flag)
            if single and param.name in seen:
                raise typer.BadParameter("given twice: give it once", ctx=ctx, param=param)
            seen.add(param.name)
        return parse(ctx, args)

    cmd.parse_args = parse_args


def _project(ctx) -> str:
    """The project file, for errors SQLite raises without naming it."""
    from qualcode.cli._common import state

    return str(state(ctx).db_path)


app = typer.Typer(
    cls=QualcodeGroup,
    name="qualcode",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qualcode {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path, typer.Option("--db", envvar="QUALCODE_DB", help="Project file (env QUALCODE_DB).", show_default=True)
    ] = Path("qualcode.db"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or messages on stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Qualitative interview coding in the terminal: import transcripts, code them against a codebook with
    spaCy-assisted suggestions, audit agreement between coders, export summaries and reports.

    Every command works on one SQLite project file, chosen with `--db` (default `qualcode.db`). `--db` and `-q`
    may also follow the command name.

    Example: `qualcode --db study.db import transcripts/ && qualcode --db study.db participants`
    """
    ctx.obj = State(db_path=db, quiet=quiet)


def _register() -> None:
    from qualcode.cli import (
        agreement,
        code,
        codebook,
        coding,
        codings,
        db,
        demo,
        export,
        ingest,
        project,
        redact,
        report,
        retrieval,
        suggest,
        suggestions,
    )

    # The order of the workflow: it is the order of `qualcode --help` and of the README's command table.
    for module in (
        demo,
        ingest,
        suggest,
        coding,
        retrieval,
        agreement,
        report,
        project,
        db,
        codebook,
        code,
        suggestions,
        codings,
        export,
        redact,
    ):
        module.register(app)


_register()


class _ClosedStdout(io.TextIOBase):
    """What stands for stdout when the shell closed it (`>&-`): writing to it is an error the command reports in one
    line, like a full disk, instead of a traceback from deep inside the library that was printing."""

    def write(self, s: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def main() -> None:
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    elif isinstance(getattr(sys.stdout, "buffer", None), io.RawIOBase):
        # PYTHONUNBUFFERED or -u: text goes straight to the descriptor, and a short write (the reader went away
        # mid-write) loses the rest without an error. A buffered writer writes all or raises; flushed at each line,
        # as often as before for output made of lines (a prompt is flushed by whoever shows it).
        out = sys.stdout
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(out.buffer),
            encoding=out.encoding,
            errors=out.errors,
            line_buffering=True,
            write_through=True,
        )
    try:
        try:
            app(prog_name="qualcode")
        finally:
            sys.stdout.flush()
    except OSError as e:  # the last flush, after the command's own handling
        sys.exit(_refused(e))
