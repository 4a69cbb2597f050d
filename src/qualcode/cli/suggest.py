"""Suggestions: suggest (and --evaluate), train, accept-suggestions."""

from __future__ import annotations

from typing import Annotated

import typer

from qualcode.cli._common import (
    INTEGER,
    CoderOpt,
    FormatOpt,
    InterviewOpt,
    SourceOpt,
    in_scope,
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
    source: SourceOpt = None,
    code: Annotated[str | None, typer.Option("--code", help="Only this code and its subtree.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="An installed spaCy pipeline instead of the blank one.")
    ] = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="Patterns only, even if a model is trained.")] = False,
    all_turns: Annotated[bool, typer.Option("--all-turns", help="Also score interviewers' turns.")] = False,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Measure suggestions against --coder instead of storing them.")
    ] = False,
    coder: Annotated[
        str | None, typer.Option("--coder", help="With --evaluate: the coder the model learns from.")
    ] = None,
    folds: Annotated[
        int, typer.Option("--folds", help="With --evaluate: number of folds (by interview).", parser=INTEGER)
    ] = 4,
    heldout_coder: Annotated[
        list[str] | None,
        typer.Option(
            "--heldout-coder",
            help="With --evaluate: also score the turns this coder decided in interviews --coder did not (repeatable).",
        ),
    ] = None,
    curve: Annotated[
        str | None,
        typer.Option("--curve", help="With --heldout-coder: held-out F1 after training on N interviews, e.g. 4,8,16."),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Score every participant turn (and its sentences) for every codable code, and store the suggestions.

    Each suggestion keeps its score, source (pattern, model or combined), evidence (the matched words and their
    offsets) and the codebook and model versions that made it. Only stale turns are re-scored: those scored with
    other patterns or another model. Once `qualcode train` has run, model probabilities are combined with pattern
    evidence. A suggestion is shown to coders when its score reaches the code's `threshold` or the codebook's
    `min_score`.

    With `--evaluate --coder NAME`: k-fold cross-validation grouped by interview (each fold trains as `qualcode
    train` does), reporting precision, recall and F1 per code and per criterion, micro and macro, for patterns alone
    and with the model, and how often pre-checked suggestions were right. `--heldout-coder OTHER` adds the same
    figures for a model trained on all of NAME's decisions, scored on the turns OTHER decided in interviews NAME did
    not (a held-out set imported for the purpose); `--curve 4,8,16` adds the held-out figure after training on that
    many of NAME's interviews.

    Example: `qualcode suggest` then `qualcode suggest --evaluate --coder coder-a --heldout-coder coder-f`
    """
    if evaluate:
        sizes = _sizes(curve)
        _evaluate(ctx, require_coder(coder), folds, list(heldout_coder or []), sizes, fmt)
        return
    from qualcode.suggest.run import suggest as run

    with progress_bar(ctx, "scoring turns") as advance:
        report = run(
            open_db(ctx, writes=True),
            model_name=model,
            code=code,
            use_model=not no_model,
            interviews=in_scope(ctx, interview, source) or None,
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


def _sizes(curve: str | None) -> list[int]:
    from qualcode.errors import UsageError

    if not curve:
        return []
    try:
        sizes = [int(x) for x in curve.replace(" ", "").split(",") if x]
    except ValueError:
        raise UsageError(
            f"--curve takes numbers of interviews separated by commas, such as 4,8,16; got {curve!r}"
        ) from None
    if not sizes or min(sizes) < 2:
        raise UsageError("--curve: each number of interviews must be at least 2")
    return sizes


def _evaluate(ctx: typer.Context, coder: str, folds: int, heldout: list[str], curve: list[int], fmt: str) -> None:
    from qualcode.suggest.evaluate import evaluate

    if folds < 2:
        from qualcode.errors import UsageError

        raise UsageError("--folds must be at least 2")
    step(ctx, f"cross-validating against {coder} ({render.plural(folds, 'fold')} by interview)…")
    result = evaluate(open_db(ctx), coder, k=folds, heldout=heldout, curve=curve)
    if fmt == "json":
        render.emit("json", data=result)
        return
    scope = (
        f"{render.plural(result['turns'], 'turn')} in {render.plural(result['interviews'], 'interview')} decided by "
        f"{coder}; {render.plural(result['folds'], 'fold')} grouped by interview. {result['note']}."
    )
    _tables(fmt, result["variants"], f"cross-validated against {coder}", scope, levels=("criterion", "code"))
    for name, held in result["heldout"].items():
        caption = (
            f"model trained on all {result['turns']} turns decided by {coder}, scored on the {held['turns']} turns "
            f"{name} decided in {held['interviews']} interviews {coder} did not"
        )
        _tables(fmt, held["variants"], f"held out, against {name}", caption, levels=("criterion",))
    _languages(fmt, result, coder)
    if result["curve"]:
        rows = [
            {
                "interviews seen": c["interviews"],
                "against": c["coder"],
                "draws": c["draws"],
                "precision": c["precision"],
                "recall": c["recall"],
                "F1": c["f1"],
            }
            for c in result["curve"]
        ]
        render.emit(
            fmt,
            rows=rows,
            title="Learning curve: held-out criterion micro-F1 by interviews seen",
            caption="means over draws of that many of the coder's interviews",
            numeric=("interviews seen", "draws", "precision", "recall", "F1"),
        )


def _languages(fmt: str, result: dict, coder: str) -> None:
    """Criterion-level figures per language of the turns, when the decided turns are in more than one."""
    from qualcode.text.language import name

    sets = [(f"cross-validated against {coder}", result["languages"])]
    sets += [(f"held out, against {n}", held["languages"]) for n, held in result["heldout"].items()]
    if all(len(langs) < 2 for _, langs in sets):
        return
    rows = []
    for title, langs in sets:
        for lang, figures in langs.items():
            row = {"turns of": title, "language": name(lang), "turns": figures["turns"]}
            for v in ("patterns", "model"):
                m = figures[v]["criterion"]["micro"]
                row[f"{v} P"], row[f"{v} R"], row[f"{v} F1"] = m["precision"], m["recall"], m["f1"]
            row["pre-checked right"] = figures["prechecked"]["right (code)"]
            rows.append(row)
    render.emit(
        fmt,
        rows=rows,
        title="Suggestions by language, per criterion (micro average)",
        caption="each turn read with its interview's language: its pipeline and its patterns; one model for all",
        numeric=[k for k in rows[0] if k not in ("turns of", "language")],
    )


def _tables(fmt: str, variants: dict, title: str, caption: str, levels: tuple[str, ...]) -> None:
    full = fmt != "table"  # a terminal table shows F1 only; csv/md/json carry precision and recall too
    names = ("patterns", "model")
    checked = variants["prechecked"]
    right = checked["right (code)"]
    pre = f"; pre-checked: {checked['suggestions']}, right {right:.0%}" if right is not None else ""
    for level in levels:
        rows = []
        for i, r0 in enumerate(variants["model"][level]["rows"]):
            row = {level: r0["code"], "support": r0["support"]}
            for v in names:
                r = variants[v][level]["rows"][i]
                row[f"{v} P"], row[f"{v} R"] = r["precision"], r["recall"]
                row[f"{v} F1"] = r["f1"]
            rows.append(row)
        micro = {level: "micro average", "support": variants["model"][level]["micro"]["support"]}
        macro = {level: "macro F1"}
        for v in names:
            m = variants[v][level]["micro"]
            micro[f"{v} P"], micro[f"{v} R"] = m["precision"], m["recall"]
            micro[f"{v} F1"] = m["f1"]
            macro[f"{v} F1"] = variants[v][level]["macro_f1"]
        rows += [micro, macro]
        if not full:
            rows = [{k: v for k, v in r.items() if not k.endswith((" P", " R")) or k.startswith("model")} for r in rows]
        numeric = [k for k in rows[0] if k != level]
        render.emit(fmt, rows=rows, title=f"Suggestions {title}, per {level}", caption=caption + pre, numeric=numeric)


def train(
    ctx: typer.Context,
    coder: Annotated[
        str | None, typer.Option("--coder", envvar="QUALCODE_CODER", help="Learn from this coder's decisions.")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Train the classifier on a coder's turn-level decisions and make it the project's active model.

    Labels are the codes with at least 6 examples, and every top-level criterion always. Each label's decision
    threshold and calibration are chosen by cross-validation inside the coder's decisions and stored with the model.
    Training is deterministic: the same decisions give the same model version. From then on `qualcode suggest`
    scores with the model, which reads the pattern evidence among its features (run it again to re-score).

    Example: `qualcode train --coder coder-a && qualcode suggest`
    """
    from qualcode.suggest.classifier import train as do

    r = do(open_db(ctx, writes=True), require_coder(coder))
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
    render.emit_record(fmt, row, title="Classifier")


def accept_suggestions(
    ctx: typer.Context,
    min_score: Annotated[float, typer.Option("--min-score", help="Accept suggestions scoring at least this.")],
    coder: CoderOpt = None,
    code: Annotated[str | None, typer.Option("--code", help="Only this code and the codes below it.")] = None,
    interview: InterviewOpt = None,
    source: SourceOpt = None,
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
    r = do(open_db(ctx), coder, min_score, code=code, interview_ids=in_scope(ctx, interview, source))
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
