"""The demo: the whole workflow on the shipped corpus."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._common import step
from qualcode.output import render


def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the project and every output.")] = Path(
        "qualcode-demo"
    ),
    transcripts: Annotated[
        Path | None, typer.Option("--transcripts", help="Transcripts folder (default: the shipped corpus).")
    ] = None,
    codebook: Annotated[
        Path | None, typer.Option("--codebook", help="Codebook YAML (default: the shipped DAC codebook).")
    ] = None,
    codings: Annotated[
        Path | None, typer.Option("--codings", help="Coding CSV files or folder (default: the shipped codings).")
    ] = None,
) -> None:
    """Run the whole workflow on the shipped corpus and write every output into one folder.

    Creates a fresh project in OUT (default ./qualcode-demo; a project.db there that an earlier demo made is
    replaced, any other project.db is refused and left as it is), imports the shipped transcripts, the two staff
    and constituent surveys and the five evaluation documents, loads the DAC codebook, imports both coders'
    codings, trains the text classifier on coder-a and scores suggestions, audits the two coders' agreement, and
    writes the theme summary (md, xlsx), criterion × gender, stakeholder-group, case-study and source
    (triangulation) matrices, participant counts, coded segments, the audit and the HTML report. Then it prints an
    overview. `--db` is not used: the project is OUT/project.db. The shipped material is installed with qualcode,
    so the demo runs from any folder; --transcripts, --codebook and --codings name other material (and leave the
    shipped surveys and documents out).

    Example: `qualcode demo --out /tmp/demo && qualcode --db /tmp/demo/project.db audit --coders coder-a,coder-b`
    """
    from qualcode.demo import Outcome, Sources
    from qualcode.demo import run as do

    sources = Sources.find(None, transcripts, codebook, codings)
    started = time.perf_counter()
    outcome = None
    for line in do(out, sources):
        if isinstance(line, Outcome):
            outcome = line
        else:
            step(ctx, f"[{time.perf_counter() - started:5.1f}s] {line}")
    assert outcome is not None
    _print_overview(outcome, time.perf_counter() - started)


GENDERS = {"woman": "women", "man": "men"}  # the plurals; other values are kept as written ("3 not recorded")


def _print_overview(outcome, seconds: float) -> None:
    ov = outcome.overview
    people = ov["participants"]
    gender = ", ".join(render.plural(n, g, GENDERS.get(g, g)) for g, n in people["by_gender"].items())
    lines = [f"Participants: {people['total']} ({gender})."]
    groups = "; ".join(f"{r['value']} {r['total']}" for r in people["by"]["rows"])
    lines.append(f"By stakeholder group: {groups}.")
    others = {k: n for k, n in ov["sources"].items() if k != "interview"}
    if others:
        respondents = ov["respondents"]
        split = ", ".join(render.plural(n, g, GENDERS.get(g, g)) for g, n in respondents["by_gender"].items())
        parts = [render.plural(others[k], k) for k in ("survey", "document") if k in others]
        if "survey" in others:
            parts[0] += f" ({render.plural(respondents['total'], 'respondent')}: {split})"
        lines.append(f"Beside {render.plural(ov['sources'].get('interview', 0), 'interview')}: {', '.join(parts)}.")
    if ov["criteria"]:
        unit = "unit" if others else "turn"  # survey answers and document paragraphs are coded as turns are
        top = ", ".join(f"{name} ({render.plural(n, unit)})" for name, n in ov["criteria"][:4])
        lines.append(f"Most-coded criteria ({ov['coder']}): {top}.")
    if ov["agreement"]:
        overall = next((a for a in ov["agreement"] if a["code"] == "all codes pooled"), None)
        lines.append(f"Agreement ({ov['scope'].removeprefix('Scope: ').removesuffix('.')}):")
        if overall:
            lines.append(
                f"  all codes pooled: Cohen's κ {overall['kappa']:.3f}, Krippendorff's α "
                f"{overall['alpha']:.3f} ({overall['band']}, by Krippendorff's convention)"
            )
        for a in ov["agreement"]:
            if a["code"] != "all codes pooled" and a["alpha"] is not None:
                lines.append(f"  {a['code']}: κ {a['kappa']:.3f}, α {a['alpha']:.3f}")
    lines.append(f"Files in {outcome.folder}/ (project: {outcome.folder / 'project.db'}):")
    lines += [f"  {name}" for name in outcome.files]
    lines.append(f"Done in {seconds:.0f} s. Open {outcome.folder / 'report.html'} in a browser.")
    for line in lines:
        render.out.print(line, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(demo)
