"""The `suggestions` group: export what a coder would see."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from qualcode.cli._common import open_db, write_output

suggestions_app = typer.Typer(help="Suggestions out of the project.", no_args_is_help=True)


@suggestions_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[Literal["jsonl", "csv"], typer.Option("--format", "-f", help="jsonl or csv.")] = "jsonl",
    all_: Annotated[bool, typer.Option("--all", help="Every stored scored pair, not only those shown.")] = False,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", min=0, max=1, help="Shown from this score (codes without their own threshold)."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """One row per suggestion as the coder would see it (at or above its threshold), with its evidence.

    A suggestion is shown when its score reaches its code's `threshold:` in the codebook, else --min-score, else the
    codebook's `min_score`. Columns: interview, turn, unit, start, end (offsets into the turn's text), code, score,
    source, evidence, probability (the calibrated probability of being right, with a trained model; a suggestion
    is pre-checked in the session from 0.8).

    Example: `qualcode suggestions export --format csv -o suggestions.csv`
    """
    from qualcode.suggest.export import export as do

    write_output(do(open_db(ctx), fmt, everything=all_, min_score=min_score), output, ctx, "suggestions")


def register(app: typer.Typer) -> None:
    app.add_typer(suggestions_app, name="suggestions")
