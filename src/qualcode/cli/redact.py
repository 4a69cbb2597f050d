"""The `redact` group: the names --redact exports replace."""

from __future__ import annotations

from typing import Annotated

import typer

from qualcode.cli._common import info, open_db
from qualcode.output import render

redact_app = typer.Typer(help="The redaction list: names replaced by [name] in --redact exports.", no_args_is_help=True)


@redact_app.command("add")
def redact_add(
    ctx: typer.Context, names: Annotated[list[str], typer.Argument(help="Names to redact (quote names with spaces).")]
) -> None:
    """Add names to the redaction list: in --redact exports they become [name] wherever they occur as whole words.

    Matching ignores case and needs whole words: 'Sharma' replaces "Sharma" and "SHARMA'S" but not "Sharmaji".
    Participants' speaker labels and names need no listing: --redact replaces them with study ids anyway. List
    the others: people mentioned in passing, villages, small organisations that would identify someone.

    Example: `qualcode redact add "Mr Sharma" Kathmandu "Golden Star Agency"`
    """
    from qualcode.export.redact import add

    r = add(open_db(ctx), names)
    for name in r["added"]:
        info(ctx, f"added {name}")
    for name in r["already"]:
        info(ctx, f"{name} is already listed")


@redact_app.command("list")
def redact_list(ctx: typer.Context) -> None:
    """The names on the redaction list, one a line.

    Example: `qualcode redact list`
    """
    from qualcode.export.redact import listed

    for name in listed(open_db(ctx)):
        render.out.print(name, markup=False, highlight=False)


@redact_app.command("remove")
def redact_remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The name to take off the list (any case).")]
) -> None:
    """Take a name off the redaction list.

    Example: `qualcode redact remove Kathmandu`
    """
    from qualcode.export.redact import remove

    info(ctx, f"removed {remove(open_db(ctx), name)}")


def register(app: typer.Typer) -> None:
    app.add_typer(redact_app, name="redact")
