"""The classifier that learns from a coder's own decisions: its examples, labels, training and calibration.

One logistic regression per label over the features of `suggest.features`. Labels are the codes with enough
examples, and every top-level branch (a DAC criterion) always, as "the turn speaks to this criterion". For each
label, cross-validation inside the training data (folds by interview) gives out-of-fold scores, from which two
things are chosen and stored with the model: the decision threshold (the score with the best F1: where a
suggestion starts to be shown) and an isotonic calibration (the measured share of right suggestions at each score:
the probability that decides the pre-check). Training is deterministic: the same decisions give the same model
bytes and so the same version.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.errors import NotFoundError, UsageError
from qualcode.store.db import now, transaction
from qualcode.store.queries import coders
from qualcode.suggest import linear
from qualcode.suggest.features import FeatureSpace
from qualcode.suggest.models import KIND, LoadedModel, from_bytes, to_bytes

MIN_EXAMPLES = 6
SEED = 0
INNER_FOLDS = 4


@dataclass
class Example:
    turn_id: int
    interview_id: str
    text: str
    codes: set[int]  # code ids applied by the coder (empty = decided "no code")
    previous: str = ""  # the turn before it in the interview (usually the question)
    language: str = "en"  # its interview's: the pipeline and patterns it is read with


# What a unit answers: a survey answer's question, a document paragraph's section; an interview turn's, the turn
# before it.
PREVIOUS_SQL = (
    "coalesce(t.context, (SELECT p.text FROM turns p WHERE p.interview_id = t.interview_id AND p.idx = t.idx - 1))"
)
LANGUAGE_SQL = "(SELECT i.language FROM interviews i WHERE i.id = t.interview_id)"


def examples(db: Database, coder: str, interviews: list[str] | None = None) -> list[Example]:
    """The coder's turn-level decisions: every turn with a live coding by CODER (codes, or "no code")."""
    sql = f"""SELECT t.id, t.interview_id, t.text, c.code_id, {PREVIOUS_SQL}, {LANGUAGE_SQL}
              FROM live_codings c JOIN turns t ON t.id = c.turn_id WHERE c.coder = ?"""
    params: list = [coder]
    if interviews:
        sql += f" AND t.interview_id IN ({','.join('?' * len(interviews))})"
        params += interviews
    sql += " ORDER BY t.id"
    out: dict[int, Example] = {}
    for tid, iid, text, code_id, previous, language in db.execute(sql, params):
        ex = out.setdefault(tid, Example(tid, iid, text, set(), previous or "", language))
        if code_id is not None:
            ex.codes.add(code_id)
    return list(out.values())


def label_plan(tree: CodeTree, data: list[Example], min_examples: int = MIN_EXAMPLES) -> dict[str, dict]:
    """label → {code_id, key, kind}; criteria are the top-level codes, present when any code in their subtree is."""
    counts: dict[int, int] = {}
    for ex in data:
        for cid in ex.codes:
            counts[cid] = counts.get(cid, 0) + 1
    plan: dict[str, dict] = {}
    for c in tree:
        if c.depth == 0:
            plan[c.key] = {"code_id": c.id, "key": c.key, "kind": "criterion", "path": c.path}
        elif c.codable and counts.get(c.id, 0) >= min_examples:
            plan[c.key] = {"code_id": c.id, "key": c.key, "kind": "code", "path": c.path}
    return plan


def criteria(tree: CodeTree, ex: Example) -> set[int]:
    """The criteria the turn speaks to: the top-level ancestors of its codes."""
    return {tree[cid].criterion_id for cid in ex.codes if cid in tree}


def targets(plan: dict[str, dict], tree: CodeTree, data: list[Example]) -> np.ndarray:
    """examples × labels, 1 where the coder's decision has the label."""
    out = np.zeros((len(data), len(plan)))
    for row, ex in enumerate(data):
        present = criteria(tree, ex)
        for col, info in enumerate(plan.values()):
            out[row, col] = info["code_id"] in (present if info["kind"] == "criterion" else ex.codes)
    return out


def folds_by_interview(data: list[Example], k: int, seed: int) -> list[list[str]]:
    interviews = sorted({ex.interview_id for ex in data})
    if len(interviews) < 2:
        raise UsageError("cross-validation needs decisions in at least two interviews")
    k = min(k, len(interviews))
    random.Random(seed).shuffle(interviews)
    return [interviews[i::k] for i in range(k)]


def fit(plan: dict[str, dict], x: np.ndarray, y: np.ndarray, groups: list[str], *, seed: int = SEED) -> dict:
    """Per label: weights and bias on all the data; threshold and calibration from out-of-fold scores."""
    oof = np.zeros_like(y)
    interviews = sorted(set(groups))
    if len(interviews) >= 2:
        for fold in folds_by_interview([Example(0, g, "", set()) for g in interviews], INNER_FOLDS, seed):
            held = np.array([g in fold for g in groups])
            for col in range(y.shape[1]):
                w, b = linear.fit(x[~held], y[~held, col])
                oof[held, col] = linear.predict(x[held], w, b)
    labels = {}
    for col, (label, info) in enumerate(plan.items()):
        w, b = linear.fit(x, y[:, col])
        xs, ys = linear.isotonic(oof[:, col], y[:, col])
        labels[label] = {
            **info,
            "weights": [round(v, 8) for v in w.tolist()],
            "bias": round(b, 8),
            "threshold": round(linear.best_threshold(oof[:, col], y[:, col]), 6),
            "calibration": [[round(v, 6) for v in xs], [round(v, 6) for v in ys]],
            "positives": int(y[:, col].sum()),
        }
    return labels


def train_model(db: Database, tree: CodeTree, data: list[Example], coder: str, *, scorer=None) -> LoadedModel:
    """A model trained on DATA, not stored (evaluation trains one per fold)."""
    from qualcode.suggest.score import Scorer

    plan = label_plan(tree, data)
    if not plan:
        raise UsageError("nothing to learn: no labels")
    scorer = scorer or Scorer.build(db, use_model=False)
    space = FeatureSpace.build(tree, scorer.nlp)
    languages = [ex.language for ex in data]
    x = space.learn_fill(
        scorer.features(space, [ex.text for ex in data], [ex.previous for ex in data], languages), languages
    )
    labels = fit(plan, x, targets(plan, tree, data), [ex.interview_id for ex in data])

    blob = to_bytes(space, labels)
    return from_bytes("lr-" + hashlib.sha256(blob).hexdigest()[:12], coder, blob)


def data_hash(data: list[Example], plan: dict) -> str:
    h = hashlib.sha256()
    for ex in sorted(data, key=lambda e: e.turn_id):
        h.update(f"{ex.turn_id}\x1f{ex.text}\x1f{ex.previous}\x1f{sorted(ex.codes)}\x1e".encode())
    h.update(json.dumps(sorted(plan), ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def train(db: Database, coder: str) -> dict:
    """Train on CODER's decisions and store the model as the project's active one."""
    import spacy

    tree = CodeTree.load(db, require=True)
    data = examples(db, coder)
    if not data:
        known = ", ".join(coders(db, with_codings=True)) or "none"
        raise NotFoundError(f"coder {coder!r} has no decided turns to learn from (coders with codings: {known})")
    model = train_model(db, tree, data, coder)
    blob = to_bytes(model.space, model.labels)
    version = model.version
    plan = {k: {f: v[f] for f in ("code_id", "key", "kind", "path")} for k, v in model.labels.items()}
    positives = {k: v["positives"] for k, v in model.labels.items()}
    info = {
        "version": version,
        "coder": coder,
        "examples": len(data),
        "labels": len(plan),
        "data_hash": data_hash(data, plan),
        "positives": positives,
        "unchanged": False,
    }
    with transaction(db):
        if db.execute("SELECT 1 FROM models WHERE version = ?", [version]).fetchone():
            info["unchanged"] = True
            db.execute("UPDATE models SET active = (version = ?)", [version])
            return info
        db.execute("UPDATE models SET active = 0")
        db["models"].insert(
            {
                "version": version,
                "kind": KIND,
                "coder": coder,
                "labels": json.dumps(
                    {
                        k: {f: v[f] for f in ("code_id", "key", "kind", "path", "threshold", "positives")}
                        for k, v in model.labels.items()
                    },
                    ensure_ascii=False,
                ),
                "data_hash": info["data_hash"],
                "spacy_version": spacy.__version__,
                "trained_at": now(),
                "examples": len(data),
                "active": 1,
                "config": json.dumps({"l2": linear.L2, "inner_folds": INNER_FOLDS, "seed": SEED}),
                "blob": blob,
            }
        )
    return info
