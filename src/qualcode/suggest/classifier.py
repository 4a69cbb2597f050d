"""The text classifier that learns from a coder's own decisions: its examples, labels and training.

A spaCy `textcat_multilabel` over turns. Labels are the codes with enough examples, and every top-level branch
(a DAC criterion) always, as "the turn speaks to this criterion". Training is seeded and deterministic: the same
decisions give the same model bytes and so the same version.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.errors import NotFoundError, UsageError
from qualcode.store.db import now, transaction
from qualcode.store.queries import coders
from qualcode.suggest.models import DECISION_THRESHOLD, KIND

MIN_EXAMPLES = 6
SEED = 0
EPOCHS = 20
BATCH = 16
DROPOUT = 0.2
# A bag of lemmas. 2**14 hashed features are plenty for a few thousand distinct lemmas, and training time grows with
# the table (Adam updates it whole): 262,144 rows took 4 s per epoch on the shipped corpus, 16,384 take 0.3 s.
# Bigrams scored lower than unigrams in cross-validation.
TEXTCAT_CONFIG = {
    "threshold": 0.5,
    "model": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": False,
        "ngram_size": 1,
        "no_output_layer": False,
        "length": 16384,
    },
}


@dataclass
class Example:
    turn_id: int
    interview_id: str
    text: str
    codes: set[int]  # code ids applied by the coder (empty = decided "no code")


def examples(db: Database, coder: str, interviews: list[str] | None = None) -> list[Example]:
    """The coder's turn-level decisions: every turn with a live coding by CODER (codes, or "no code")."""
    sql = """SELECT t.id, t.interview_id, t.text, c.code_id FROM live_codings c JOIN turns t ON t.id = c.turn_id
             WHERE c.coder = ?"""
    params: list = [coder]
    if interviews:
        sql += f" AND t.interview_id IN ({','.join('?' * len(interviews))})"
        params += interviews
    sql += " ORDER BY t.id"
    out: dict[int, Example] = {}
    for tid, iid, text, code_id in db.execute(sql, params):
        ex = out.setdefault(tid, Example(tid, iid, text, set()))
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


def cats_for(plan: dict[str, dict], tree: CodeTree, ex: Example) -> dict[str, float]:
    present = criteria(tree, ex)
    return {
        label: float(info["code_id"] in (present if info["kind"] == "criterion" else ex.codes))
        for label, info in plan.items()
    }


def train_pipeline(
    language: str, plan: dict[str, dict], tree: CodeTree, data: list[Example], *, seed: int = SEED, epochs: int = EPOCHS
):
    """Train and return a blank pipeline with only the text classifier (tokenizer included)."""
    import spacy
    from spacy.training import Example as SpacyExample
    from spacy.util import fix_random_seed, minibatch

    if not plan:
        raise UsageError("nothing to learn: no labels")
    fix_random_seed(seed)
    nlp = spacy.blank(language)
    textcat = nlp.add_pipe("textcat_multilabel", config=TEXTCAT_CONFIG)
    for label in plan:
        textcat.add_label(label)
    train = [SpacyExample.from_dict(nlp.make_doc(ex.text), {"cats": cats_for(plan, tree, ex)}) for ex in data]
    optimizer = nlp.initialize(lambda: train)
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(train)
        for batch in minibatch(train, size=BATCH):
            nlp.update(batch, sgd=optimizer, drop=DROPOUT)
    return nlp


def data_hash(data: list[Example], plan: dict) -> str:
    h = hashlib.sha256()
    for ex in sorted(data, key=lambda e: e.turn_id):
        h.update(f"{ex.turn_id}\x1f{ex.text}\x1f{sorted(ex.codes)}\x1e".encode())
    h.update(json.dumps(sorted(plan), ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def featurize(db: Database, data: list[Example]) -> list[Example]:
    """The same examples with the text the classifier reads (see `suggest.features`)."""
    from qualcode.suggest.score import Scorer

    scorer = Scorer.build(db, use_model=False)
    return [
        Example(ex.turn_id, ex.interview_id, text, ex.codes)
        for ex, text in zip(data, scorer.feature_texts([ex.text for ex in data]), strict=True)
    ]


def train(db: Database, coder: str) -> dict:
    """Train on CODER's decisions and store the model as the project's active one."""
    import spacy

    tree = CodeTree.load(db, require=True)
    data = examples(db, coder)
    if not data:
        known = ", ".join(coders(db, with_codings=True)) or "none"
        raise NotFoundError(f"coder {coder!r} has no decided turns to learn from (coders with codings: {known})")
    plan = label_plan(tree, data)
    for info in plan.values():
        info["threshold"] = DECISION_THRESHOLD
    nlp = train_pipeline(tree.language, plan, tree, featurize(db, data))
    blob = nlp.to_bytes()
    version = "tc-" + hashlib.sha256(blob).hexdigest()[:12]
    positives = {
        label: sum(1 for ex in data if cats_for({label: info}, tree, ex)[label]) for label, info in plan.items()
    }
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
                    {k: {**v, "positives": positives[k]} for k, v in plan.items()}, ensure_ascii=False
                ),
                "data_hash": info["data_hash"],
                "spacy_version": spacy.__version__,
                "trained_at": now(),
                "examples": len(data),
                "active": 1,
                "config": nlp.config.to_str(),
                "blob": blob,
            }
        )
    return info
