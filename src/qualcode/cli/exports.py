"""Export commands: the project for other software (REFI-QDA), and reports for readers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._common import info, open_db

export_app = typer.Typer(
    help="Export the project for other QDA software, or as reports.", no_args_is_help=True
)


@export_app.command("qdpx")
def qdpx(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The .qdpx file to write.")],
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder's codings.")] = None,
) -> None:
    """Write the project as a REFI-QDA 1.0 project (.qdpx) for other QDA software.

    It follows the REFI-QDA 1.0 Project schema, the exchange format of MAXQDA, ATLAS.ti, NVivo and QualCoder. The
    archive holds every interview's text exactly as stored, the codebook, coders as users, participants as cases
    (gender and attributes as variables) and each coding as a selection; memos become notes. Offsets are Unicode
    code points. "No code" decisions have no REFI-QDA form and are left out (the count is reported). GUIDs come from
    the project, so an unchanged project exported twice under the same file name gives the same bytes.

    Example: `qualcode export qdpx study.qdpx --coder ana`
    """
    from qualcode.refi.project import export_qdpx

    r = export_qdpx(open_db(ctx), file, coder=coder)
    info(ctx, f"wrote {file}: {r.sources} sources, {r.codes} codes, {r.codings} codings, {r.users} users, "
              f"{r.cases} cases")  # fmt: skip
    if r.no_code:
        info(ctx, f"left out {r.no_code} 'no code' decision(s): REFI-QDA cannot record them")
    if r.orphaned:
        info(
            ctx, f"left out {r.orphaned} orphaned coding(s): their place in the edited transcript is unknown"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
