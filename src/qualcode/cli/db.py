"""The `db` group: the project file's schema migrations."""

from __future__ import annotations

import typer

from qualcode.cli._common import FormatOpt, open_db
from qualcode.output import render

db_app = typer.Typer(help="The project database: migrations and schema.", no_args_is_help=True)


@db_app.command("status")
def db_status(ctx: typer.Context, fmt: FormatOpt = "table") -> None:
    """Migrations applied to the project, and those pending (applied the next time a command opens it).

    Example: `qualcode db status`
    """
    from qualcode.store.db import migration_status

    data = migration_status(open_db(ctx, migrate=False))
    rows = [{"migration": m["name"], "status": "applied", "applied_at": m["applied_at"]} for m in data["applied"]]
    rows += [{"migration": m, "status": "pending", "applied_at": ""} for m in data["pending"]]
    render.emit(
        fmt,
        rows=rows,
        data=data,
        columns=["migration", "status", "applied_at"],
        caption=f"{len(data['applied'])} applied, {len(data['pending'])} pending",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
