"""Running suggestions over a project: which turns are stale, scoring them in batches, storing what they give.

Turns stream from the database in batches through `nlp.pipe`; each batch is written in its own transaction, so an
interrupted run loses at most one batch and the next run carries on. A turn is re-scored only when the codebook's
patterns or the active model changed since it was scored (the `scored_turns` record), and within a re-scored turn a
code's suggestions are replaced only if that code's patterns or the model changed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _string

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.store.db import now, transaction
from qualcode.suggest.classifier import LANGUAGE_SQL, PREVIOUS_SQL
from qualcode.suggest.score import Scorer, codebook_hash

BATCH = 128


@dataclass
class SuggestReport:
    turns: int = 0  # scored in this run
    up_to_date: int = 0  # in scope, and already scored with these patterns and this model
    stored: int = 0
    kept: int = 0
    shown: int = 0
    model_version: str | None = None
    codebook_hash: str = ""
    skipped_patterns: list[str] = field(default_factory=list)


def suggest(
    db: Database,
    *,
    model_name: str | None = None,
    code: str | None = None,
    use_model: bool = True,
    interviews: list[str] | None = None,
    all_turns: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SuggestReport:
    """Score the stale turns in scope and store their suggestions; PROGRESS(done, total) after each batch.

    With CODE (a code and its subtree) every turn in scope is re-scored for those codes, and the record of which
    turns are up to date is left alone, since the other codes were not scored.
    """
    scorer = Scorer.build(db, model_name=model_name, code=code, use_model=use_model)
    tree = CodeTree.load(db, require=True)
    partial = code is not None
    h = codebook_hash(scorer.codes, tree.language)
    report = SuggestReport(
        model_version=scorer.model_version, codebook_hash=h, skipped_patterns=scorer.matchers.skipped
    )
    join, where, params = _scope(interviews, all_turns)
    base = f"FROM turns t{join} LEFT JOIN scored_turns s ON s.turn_id = t.id WHERE 1"
    in_scope = db.execute(f"SELECT count(*) {base}" + "".join(f" AND {w}" for w in where), params).fetchone()[0]
    if not partial:
        where = [*where, "(s.turn_id IS NULL OR s.codebook_hash != ? OR s.model_version IS NOT ?)"]
        params = [*params, h, scorer.model_version]
    todo = db.execute(f"SELECT count(*) {base}" + "".join(f" AND {w}" for w in where), params).fetchone()[0]
    report.up_to_date = in_scope - todo
    hashes = {c.id: c.pattern_hash for c in scorer.codes}
    sql = (
        f"SELECT t.id, t.interview_id, t.start, t.text, {PREVIOUS_SQL}, {LANGUAGE_SQL} {base} AND t.id > ?"
        + "".join(f" AND {w}" for w in where)
        + f" ORDER BY t.id LIMIT {BATCH}"
    )
    # Scoring makes millions of short-lived objects (docs, tokens, matches) and no reference cycles, so the garbage
    # collector's passes over them, and over the pipeline and patterns that live as long as the run, were a sixth
    # of a patterns-only run for nothing: it is paused while scoring (peak memory unchanged, 216 MB at 10x).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _run(db, scorer, sql, params, report, hashes, partial, h, todo, progress)
    finally:
        if was_enabled:
            gc.enable()
    return report


def _run(db, scorer, sql, params, report, hashes, partial, h, todo, progress) -> None:
    last = 0
    while True:
        rows = db.execute(sql, [last, *params]).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        results = list(scorer.score([r[3] for r in rows], [r[4] or "" for r in rows], [r[5] for r in rows]))
        with transaction(db):
            # The batch's reads and writes go in a few statements: a statement per suggestion row was most of the
            # time a model-assisted run spent beyond the pipeline itself.
            existing = _existing(db, [r[0] for r in rows])
            deletes: list[tuple[int, int]] = []
            inserts: list[list] = []
            for (tid, iid, offset, text, _, _), (turn, sents) in zip(rows, results, strict=True):
                _plan_turn(
                    tid,
                    iid,
                    (offset, offset + len(text)),
                    turn,
                    sents,
                    existing.get(tid, {}),
                    hashes,
                    scorer.model_version,
                    scorer.tree,
                    report,
                    deletes,
                    inserts,
                )
            db.conn.executemany("DELETE FROM suggestions WHERE turn_id = ? AND code_id = ?", deletes)
            db.conn.executemany(
                """INSERT INTO suggestions (interview_id, turn_id, code_id, unit, start, end, score, pattern_score,
                   model_score, probability, source, evidence, pattern_hash, model_version, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                inserts,
            )
            if not partial:
                stamp = now()
                db.conn.executemany(
                    "INSERT OR REPLACE INTO scored_turns (turn_id, codebook_hash, model_version, scored_at) "
                    "VALUES (?, ?, ?, ?)",
                    [(r[0], h, scorer.model_version, stamp) for r in rows],
                )
        report.turns += len(rows)
        if progress is not None:
            progress(report.turns, todo)


def _scope(interviews: list[str] | None, all_turns: bool) -> tuple[str, list[str], list]:
    join = " JOIN speakers sp ON sp.id = t.speaker_id"
    where = [] if all_turns else ["sp.participant_id IS NOT NULL"]
    params: list = []
    if interviews:
        where.append(f"t.interview_id IN ({','.join('?' * len(interviews))})")
        params += interviews
    return join, where, params


def _existing(db: Database, turn_ids: list[int]) -> dict[int, dict[int, tuple]]:
    """turn id → code id → (pattern hash, model version) of its stored turn-level suggestions."""
    out: dict[int, dict[int, tuple]] = {}
    for tid, code_id, ph, mv in db.conn.execute(
        "SELECT turn_id, code_id, pattern_hash, model_version FROM suggestions "
        f"WHERE unit = 'turn' AND turn_id IN ({','.join('?' * len(turn_ids))})",
        turn_ids,
    ):
        out.setdefault(tid, {})[code_id] = (ph, mv)
    return out


def _plan_turn(
    tid: int,
    iid: str,
    bounds: tuple[int, int],
    turn: dict,
    sents: list,
    existing: dict[int, tuple],
    hashes: dict[int, str],
    version: str | None,
    tree: CodeTree,
    report: SuggestReport,
    deletes: list,
    inserts: list,
) -> None:
    """Add to DELETES and INSERTS what replaces the turn's stale suggestions."""
    offset, turn_end = bounds
    stamp = now()
    for code_id, h in hashes.items():
        if code_id in existing and existing[code_id] == (h, version):
            report.kept += 1
            continue
        if code_id in existing:
            deletes.append((tid, code_id))
        rows = []
        if code_id in turn:
            r = turn[code_id]
            rows.append(("turn", offset, turn_end, r))
            if tree.shown(code_id, r["score"]):
                report.shown += 1
        for a, b, per in sents:
            if code_id in per:
                rows.append(("sentence", offset + a, offset + b, per[code_id]))
        for unit, a, b, r in rows:
            evidence = "[" + ", ".join(_evidence(m, offset) for m in r["evidence"]) + "]"
            inserts.append(
                [
                    iid,
                    tid,
                    code_id,
                    unit,
                    a,
                    b,
                    round(r["score"], 4),
                    _r(r["pattern"]),
                    _r(r["model"]),
                    _r(r["probability"]),
                    r["source"],
                    evidence,
                    h,
                    version,
                    stamp,
                ]
            )
            report.stored += 1


def _evidence(m, offset: int) -> str:
    """One piece of evidence as JSON, {"start", "end", "text", "pattern"}, written directly: json.dumps of the
    dicts was a tenth of a patterns-only run."""
    return (
        f'{{"start": {offset + m.start}, "end": {offset + m.end}, "text": {_string(m.text)}, '
        f'"pattern": {_string(m.label)}}}'
    )


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
