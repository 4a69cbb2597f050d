"""Scoring turns (and their sentences) for every codable code, and storing the suggestions with their evidence.

Turns stream from the database in batches through `nlp.pipe`; each batch is written in its own transaction, so an
interrupted run loses at most one batch and the next run carries on. A turn is re-scored only when the codebook's
patterns or the active model changed since it was scored (the `scored_turns` record), and within a re-scored turn a
code's suggestions are replaced only if that code's patterns or the model changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlite_utils import Database

from qualcode.codebook import core as codebook
from qualcode.text import nlp
from qualcode.store.db import now, transaction

# Pairs scoring below this (or below the code's own display threshold, if lower) are not stored. With a model nearly
# every pair scores something; under 0.2, two fifths of a label's decision threshold, they are noise, and storing
# them was two in five of a model-assisted run's rows.
FLOOR = 0.2
BATCH = 128


def calibrate(p: float, threshold: float) -> float:
    """Map a model probability so that the label's own decision threshold lands on 0.5, the display threshold."""
    if threshold <= 0 or threshold >= 1:
        return p
    if p < threshold:
        return 0.5 * p / threshold
    return 0.5 + 0.5 * (p - threshold) / (1 - threshold)


def combine(pattern: float, model: float | None) -> tuple[float, str]:
    """Score and source from pattern evidence and a (calibrated) model probability.

    With a model, pattern evidence moves the model's score toward 1 by the pattern score (a noisy-or of the two):
    evidence from either source can raise a suggestion, and agreement raises it most. Chosen over a weighted pull
    by cross-validation on the shipped corpus (README, "How good are the suggestions").
    """
    if model is None:
        return pattern, "pattern"
    if pattern <= 0:
        return model, "model"
    return model + (1 - model) * pattern * PATTERN_PULL, "combined"


PATTERN_PULL = 1.0


@dataclass
class Scorer:
    nlp: object
    matchers: nlp.Matchers  # every codable code's patterns: the classifier's features need them all
    codes: list[dict]  # codable codes in scope
    model_version: str | None
    labels: dict[int, tuple[str, float]]  # code id → (textcat label, decision threshold)
    use_patterns: bool = True
    use_model: bool = True
    model_nlp: object = None
    marks: dict = field(default_factory=dict)
    floors: dict[int, float] = field(default_factory=dict)  # code id → storage floor, when under FLOOR

    def feature_texts(self, texts: list[str]) -> list[str]:
        from qualcode.suggest.classifier import features

        return [features(doc, self.matchers.find(doc), self.marks) for doc in self.nlp.pipe(texts, batch_size=64)]

    def score(self, texts: list[str]) -> Iterator[tuple[dict[int, dict], list]]:
        """Per text: (code id → turn-level result, [(sentence start, sentence end, code id → result)])."""
        from qualcode.suggest.classifier import features

        docs = list(self.nlp.pipe(texts, batch_size=64))
        all_matches = [self.matchers.find(doc) for doc in docs]
        cats: list[dict] = [{} for _ in docs]
        if self.use_model and self.model_nlp is not None:
            inputs = [features(doc, m, self.marks) for doc, m in zip(docs, all_matches, strict=True)]
            cats = [d.cats for d in self.model_nlp.pipe(inputs, batch_size=64)]
        in_scope = {c["id"] for c in self.codes}
        for doc, found_all, doc_cats in zip(docs, all_matches, cats, strict=True):
            matches = [m for m in found_all if m.code_id in in_scope] if self.use_patterns else []
            per_code = nlp.pattern_scores(matches)
            turn: dict[int, dict] = {}
            for c in self.codes:
                p, found = per_code.get(c["id"], (0.0, []))
                m = None
                if self.use_model and c["id"] in self.labels:
                    label, threshold = self.labels[c["id"]]
                    m = calibrate(float(doc_cats.get(label, 0.0)), threshold)
                score, source = combine(p, m)
                if score >= self.floors.get(c["id"], FLOOR) or p > 0:
                    turn[c["id"]] = {"score": score, "pattern": p if self.use_patterns else None, "model": m,
                                     "source": source, "evidence": found}  # fmt: skip
            sents = []
            if matches:
                for s in doc.sents:
                    inside = nlp.pattern_scores(matches, s.start_char, s.end_char)
                    if inside:
                        sents.append((s.start_char, s.end_char, {
                            cid: {"score": sc, "pattern": sc, "model": None, "source": "pattern", "evidence": ev}
                            for cid, (sc, ev) in inside.items()}))  # fmt: skip
            yield turn, sents


def codebook_hash(codes: list[dict], language: str) -> str:
    h = hashlib.sha256(language.encode())
    for c in sorted(codes, key=lambda c: c["id"]):
        h.update(f"{c['id']}:{c['pattern_hash']}:{int(c['codable'])};".encode())
    return h.hexdigest()[:16]


def make_scorer(db: Database, *, model_name: str | None = None, code: str | None = None, use_model: bool = True,
                use_patterns: bool = True, trained=None) -> Scorer:  # fmt: skip
    """Build the pipeline, compile the codebook's patterns, attach the active text classifier if there is one."""
    from qualcode.suggest import classifier as model_mod

    settings = codebook.require_codebook(db)
    all_codes = codebook.codes(db)
    scope = all_codes
    if code:
        root = codebook.resolve(db, code)
        ids = set(codebook.subtree_ids(db, root["id"]))
        scope = [c for c in all_codes if c["id"] in ids]
    codable = [c for c in scope if c["codable"]]
    pipeline = nlp.build(settings["language"], model_name)
    matchers = nlp.compile_patterns(pipeline, [c for c in all_codes if c["codable"]])
    loaded = trained if trained is not None else (model_mod.active(db) if use_model else None)
    labels: dict[int, tuple[str, float]] = {}
    version = None
    if loaded is not None and use_model:
        by_key = {c["key"]: c["id"] for c in all_codes}
        for label, info in loaded.labels.items():
            if info["key"] in by_key:
                labels[by_key[info["key"]]] = (label, float(info.get("threshold", model_mod.DECISION_THRESHOLD)))
        version = loaded.version
    shown_from = {c["id"]: c["threshold"] if c["threshold"] is not None else settings["min_score"] for c in codable}
    return Scorer(pipeline, matchers, codable, version, labels, use_patterns=use_patterns, use_model=use_model,
                  model_nlp=loaded.nlp if loaded is not None and use_model else None,
                  marks=model_mod.feature_marks(all_codes),
                  floors={k: v for k, v in shown_from.items() if v < FLOOR})  # fmt: skip


@dataclass
class SuggestReport:
    turns: int = 0
    stored: int = 0
    kept: int = 0
    shown: int = 0
    model_version: str | None = None
    codebook_hash: str = ""
    skipped_patterns: list[str] = field(default_factory=list)
    up_to_date: int = 0


def _stale_filter(interviews: list[str] | None, all_turns: bool) -> tuple[str, list]:
    sql = " JOIN speakers sp ON sp.id = t.speaker_id"
    where = [] if all_turns else ["sp.participant_id IS NOT NULL"]
    params: list = []
    if interviews:
        where.append(f"t.interview_id IN ({','.join('?' * len(interviews))})")
        params += interviews
    return sql, where, params


def plan(db: Database, scorer: Scorer, *, interviews: list[str] | None = None, partial: bool = False,
         all_turns: bool = False) -> tuple[str, int, int]:  # fmt: skip
    """(codebook hash, turns to score, turns already up to date)."""
    h = codebook_hash(scorer.codes, codebook.settings(db)["language"])
    join, where, params = _stale_filter(interviews, all_turns)
    base = f"SELECT count(*) FROM turns t{join} LEFT JOIN scored_turns s ON s.turn_id = t.id"
    total = db.execute(base + (" WHERE " + " AND ".join(where) if where else ""), params).fetchone()[0]
    if partial:
        return h, total, 0
    stale_where = [*where, "(s.turn_id IS NULL OR s.codebook_hash != ? OR s.model_version IS NOT ?)"]
    stale = db.execute(
        base + " WHERE " + " AND ".join(stale_where), [*params, h, scorer.model_version]
    ).fetchone()[0]
    return h, stale, total - stale


def run(db: Database, scorer: Scorer, *, interviews: list[str] | None = None, partial: bool = False,
        all_turns: bool = False, report: SuggestReport | None = None) -> Iterator[int]:  # fmt: skip
    """Score stale turns batch by batch; yields the number of turns done after each committed batch.

    partial=True (a --code run) re-scores the codes in scope on every turn without touching the staleness record.
    """
    report = report if report is not None else SuggestReport()
    h, _, _ = plan(db, scorer, interviews=interviews, partial=partial, all_turns=all_turns)
    report.codebook_hash, report.model_version = h, scorer.model_version
    report.skipped_patterns = scorer.matchers.skipped
    hashes = {c["id"]: c["pattern_hash"] for c in scorer.codes}
    thresholds = _thresholds(db)
    join, where, params = _stale_filter(interviews, all_turns)
    if not partial:
        where = [*where, "(s.turn_id IS NULL OR s.codebook_hash != ? OR s.model_version IS NOT ?)"]
        params = [*params, h, scorer.model_version]
    sql = (f"SELECT t.id, t.interview_id, t.start, t.text FROM turns t{join} "
           f"LEFT JOIN scored_turns s ON s.turn_id = t.id WHERE t.id > ?"
           + "".join(f" AND {w}" for w in where) + f" ORDER BY t.id LIMIT {BATCH}")  # fmt: skip
    last = 0
    while True:
        rows = db.execute(sql, [last, *params]).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        results = list(scorer.score([r[3] for r in rows]))
        with transaction(db):
            # The batch's reads and writes go in a few statements: a statement per suggestion row was most of the
            # time a model-assisted run spent beyond the pipeline itself.
            existing = _existing(db, [r[0] for r in rows])
            deletes: list[tuple[int, int]] = []
            inserts: list[list] = []
            for (tid, iid, offset, text), (turn, sents) in zip(rows, results, strict=True):
                _plan_turn(tid, iid, (offset, offset + len(text)), turn, sents, existing.get(tid, {}), hashes,
                           scorer.model_version, thresholds, report, deletes, inserts)  # fmt: skip
            db.conn.executemany("DELETE FROM suggestions WHERE turn_id = ? AND code_id = ?", deletes)
            db.conn.executemany(
                """INSERT INTO suggestions (interview_id, turn_id, code_id, unit, start, end, score, pattern_score,
                   model_score, source, evidence, pattern_hash, model_version, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
        yield len(rows)


def _thresholds(db: Database) -> dict[int, float]:
    default = codebook.settings(db)["min_score"]
    return {c["id"]: c["threshold"] if c["threshold"] is not None else default for c in codebook.codes(db)}


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


def _plan_turn(tid: int, iid: str, bounds: tuple[int, int], turn: dict, sents: list, existing: dict[int, tuple],
               hashes: dict[int, str], version: str | None, thresholds: dict[int, float], report: SuggestReport,
               deletes: list, inserts: list) -> None:  # fmt: skip
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
            if r["score"] >= thresholds.get(code_id, 0.5):
                report.shown += 1
        for a, b, per in sents:
            if code_id in per:
                rows.append(("sentence", offset + a, offset + b, per[code_id]))
        for unit, a, b, r in rows:
            evidence = [{"start": offset + m.start, "end": offset + m.end, "text": m.text, "pattern": m.label}
                        for m in r["evidence"]]  # fmt: skip
            inserts.append([iid, tid, code_id, unit, a, b, round(r["score"], 4), _r(r["pattern"]), _r(r["model"]),
                            r["source"], json.dumps(evidence, ensure_ascii=False), h, version, stamp])  # fmt: skip
            report.stored += 1


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
