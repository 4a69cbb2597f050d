"""Suggestions: suggest (and --evaluate), train, accept-suggestions."""

from __future__ import annotations

from typing import Annotated

import typer

from qualcode.cli._common import (
    INTEGER,
    CoderOpt,
    FormatOpt,
    InterviewOpt,
    info,
    open_db,
    progress_bar,
    require_coder,
    step,
)
from qualcode.output import render


def suggest(
    ctx: typer.Context,
    interview: Annotated[
        list[str] | None, typer.Option("--interview", help="Only these interviews (repeatable).")
    ] = None,
    code: Annotated[str | None, typer.Option("--code", help="Only this code and its subtree.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="An installed spaCy pipeline instead of the blank one.")
    ] = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="Patterns only, even if a model is trained.")] = False,
    all_turns: Annotated[bool, typer.Option("--all-turns", help="Also score interviewers' turns.")] = False,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Cross-validate against --coder instead of storing suggestions.")
    ] = False,
    coder: Annotated[
        str | None, typer.Option("--coder", help="With --evaluate: the coder to evaluate against.")
    ] = None,
    folds: Annotated[
        int, typer.Option("--folds", help="With --evaluate: number of folds (by interview).", parser=INTEGER)
    ] = 4,
    fmt: FormatOpt = "table",
) -> None:
    """Score every participant turn (and its sentences) for every codable code, and store the suggestions.

    Each suggestion keeps its score, source (pattern, model or combined), evidence (the matched words and their
    offsets) and the codebook and model versions that made it. Only stale turns are re-scored: those scored with
    other patterns or another model. Once `qualcode train` has run, model probabilities are combined with pattern
    evidence. A suggestion is shown to coders when its score reaches the code's `threshold` or the codebook's
    `min_score`.

    With `--evaluate --coder NAME`: k-fold cross-validation grouped by interview, reporting precision, recall and F1
    per code and per criterion, micro and macro, for patterns alone, the model alone, and both combined.

    Example: `qualcode suggest` then `qualcode suggest --evaluate --coder coder-a --format json`
    """
    if evaluate:
        _evaluate(ctx, require_coder(coder), folds, fmt)
        return
    from qualcode.suggest.run import suggest as run

    with progress_bar(ctx, "scoring turns") as advance:
        report = run(
            open_db(ctx),
            model_name=model,
            code=code,
            use_model=not no_model,
            interviews=interview,
            all_turns=all_turns,
            progress=advance,
        )
    for note in report.skipped_patterns:
        info(ctx, f"skipped pattern: {note}")
    record = {
        "turns scored": report.turns,
        "already up to date": report.up_to_date,
        "suggestions stored": report.stored,
        "unchanged kept": report.kept,
        "shown to coders": report.shown,
        "model": report.model_version or "none (patterns only)",
        "codebook": report.codebook_hash,
    }
    render.emit_record(fmt, record, title="Suggestions")


def _evaluate(ctx: typer.Context, coder: str, folds: int, fmt: str) -> None:
    from qualcode.suggest.evaluate import VARIANTS, evaluate

    if folds < 2:
        from qualcode.errors import UsageError

        raise UsageError("--folds must be at least 2")
    step(ctx, f"cross-validating against {coder} ({render.plural(folds, 'fold')} by interview)…")
    result = evaluate(open_db(ctx), coder, k=folds)
    if fmt == "json":
        render.emit("json", data=result)
        return
    scope = (
        f"{render.plural(result['turns'], 'turn')} in {render.plural(result['interviews'], 'interview')} decided by "
        f"{coder}; {render.plural(result['folds'], 'fold')} grouped by interview. {result['note']}."
    )
    full = fmt != "table"  # a terminal table shows F1 only; csv/md/json carry precision and recall too
    for level in ("criterion", "code"):
        rows = []
        names = [r["code"] for r in result["variants"]["combined"][level]["rows"]]
        for i, name in enumerate(names):
            row = {level: name, "support": result["variants"]["combined"][level]["rows"][i]["support"]}
            for v in VARIANTS:
                r = result["variants"][v][level]["rows"][i]
                if full:
                    row[f"{v} P"], row[f"{v} R"] = r["precision"], r["recall"]
                row[f"{v} F1"] = r["f1"]
            rows.append(row)
        micro = {level: "micro average", "support": result["variants"]["combined"][level]["micro"]["support"]}
        macro = {level: "macro F1"}
        for v in VARIANTS:
            m = result["variants"][v][level]["micro"]
            if full:
                micro[f"{v} P"], micro[f"{v} R"] = m["precision"], m["recall"]
            micro[f"{v} F1"] = m["f1"]
            macro[f"{v} F1"] = result["variants"][v][level]["macro_f1"]
        rows += [micro, macro]
        numeric = [k for k in rows[0] if k != level]
        render.emit(fmt, rows=rows, title=f"Suggestions against {coder}, per {level}", caption=scope, numeric=numeric)


def train(
    ctx: typer.Context,
    coder: Annotated[
        str | None, typer.Option("--coder", envvar="QUALCODE_CODER", help="Learn from this coder's decisions.")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Train the text classifier on a coder's turn-level decisions and make it the project's active model.

    Labels are the codes with at least 6 examples, and every top-level criterion always. Training is seeded and
    deterministic: the same decisions give the same model version. From then on `qualcode suggest` combines model
    probabilities with pattern evidence (run it again to re-score).

    Example: `qualcode train --coder coder-a && qualcode suggest`
    """
    from qualcode.suggest.classifier import train as do

    r = do(open_db(ctx), require_coder(coder))
    if fmt == "json":
        render.emit("json", data=r)
        return
    row = {
        "model": r["version"],
        "coder": r["coder"],
        "turns": r["examples"],
        "labels": r["labels"],
        "data hash": r["data_hash"],
        "status": "unchanged (same data)" if r["unchanged"] else "trained",
    }
    render.emit_record(fmt, row, title="Text classifier")


def accept_suggestions(
    ctx: typer.Context,
    min_score: Annotated[float, typer.Option("--min-score", help="Accept suggestions scoring at least this.")],
    coder: CoderOpt = None,
    code: Annotated[str | None, typer.Option("--code", help="Only this code and the codes below it.")] = None,
    interview: InterviewOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Accept shown turn-level suggestions scoring at least --min-score as the coder's codings, in one batch.

    Shown means at or above the code's threshold (else the codebook's min_score). Turns the coder has already
    decided, "no code" included, are skipped and counted. The codings keep their suggestion score;
    `qualcode undo --coder NAME --batch ID` takes the whole batch back.

    Example: `qualcode accept-suggestions --coder ana --min-score 0.9 --interview INT-07`
    """
    from qualcode.coding.retrieval import accept_suggestions as do

    coder = require_coder(coder)
    r = do(open_db(ctx), coder, min_score, code=code, interview_ids=list(interview or []))
    if r["batch"]:
        info(
            ctx,
            f"batch {r['batch']}: {render.plural(r['turns'], 'turn')}, {render.plural(r['codings'], 'coding')} "
            f"accepted for {coder}; "
            f"undo with: qualcode undo --coder {coder} --batch {r['batch']}",
        )
    else:
        info(ctx, f"nothing to accept: no undecided turn has a shown suggestion scoring >= {min_score}")
    if r["skipped_turns"]:
        info(ctx, f"{render.plural(r['skipped_turns'], 'turn')} skipped: already decided by {coder}")
    if r["lesser_options_left_out"]:
        info(
            ctx,
            f"{render.plural(r['lesser_options_left_out'], 'lesser option')} of exclusive scales left out: a turn "
            "takes the best-scoring option of a scale",
        )
    if fmt == "json":
        render.emit("json", data=r)
        return
    rows = [{"code": k, "codings": n} for k, n in r["by_code"].items()]
    render.emit(
        fmt,
        rows=rows,
        columns=["code", "codings"],
        numeric=("codings",),
        caption=f"{render.plural(r['turns'], 'turn')} coded, {r['skipped_turns']} skipped",
    )


def register(app: typer.Typer) -> None:
    app.command()(suggest)
    app.command()(train)
    app.command("accept-suggestions")(accept_suggestions)
