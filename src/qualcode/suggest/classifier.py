"""The text classifier that learns from a coder's own decisions: training, storing, loading.

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

from qualcode.codebook import core as codebook
from qualcode.store.db import now, transaction
from qualcode.errors import NotFoundError, UsageError

MIN_EXAMPLES = 6
SEED = 0
EPOCHS = 20
# The probability at which the classifier's own vote counts as a suggestion (it is rescaled so this lands on the
# codebook's threshold). Cross-validation on the shipped corpus, with the noisy-or combination, peaked between 0.45
# and 0.55 for both coders (0.35 gave 0.06 less micro-F1, precision falling to 0.45).
DECISION_THRESHOLD = 0.5
KIND = "textcat_multilabel:lemmas+patterns"
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
    sql = """SELECT t.id, t.interview_id, t.text, c.code_id FROM codings c JOIN turns t ON t.id = c.turn_id
             WHERE c.coder = ? AND c.deleted_at IS NULL"""
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


def label_plan(codes: list[dict], data: list[Example], min_examples: int = MIN_EXAMPLES) -> dict[str, dict]:
    """label → {code_id, key, kind}; criteria are the top-level codes, present when any code in their subtree is."""
    counts: dict[int, int] = {}
    for ex in data:
        for cid in ex.codes:
            counts[cid] = counts.get(cid, 0) + 1
    plan: dict[str, dict] = {}
    for c in codes:
        if c["depth"] == 0:
            plan[c["key"]] = {"code_id": c["id"], "key": c["key"], "kind": "criterion", "path": c["path"]}
        elif c["codable"] and counts.get(c["id"], 0) >= min_examples:
            plan[c["key"]] = {"code_id": c["id"], "key": c["key"], "kind": "code", "path": c["path"]}
    return plan


def gold(codes: list[dict], ex: Example) -> set[int]:
    """The codes that apply to the turn, with every ancestor of an applied code (criteria pool their subtree)."""
    by_id = {c["id"]: c for c in codes}
    present = set(ex.codes)
    for cid in ex.codes:
        cur = by_id.get(cid)
        while cur is not None and cur["parent_id"] is not None:
            cur = by_id.get(cur["parent_id"])
            if cur is not None:
                present.add(cur["id"])
    return present


def cats_for(plan: dict[str, dict], codes: list[dict], ex: Example) -> dict[str, float]:
    present = gold(codes, ex)
    return {
        label: float(info["code_id"] in (present if info["kind"] == "criterion" else ex.codes))
        for label, info in plan.items()
    }


def train_pipeline(language: str, plan: dict[str, dict], codes: list[dict], data: list[Example], *, seed: int = SEED,
                   epochs: int = EPOCHS):  # fmt: skip
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
    train = [
        SpacyExample.from_dict(nlp.make_doc(ex.text), {"cats": cats_for(plan, codes, ex)}) for ex in data
    ]
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


def features(doc, matches, marks: dict[int, tuple[str, ...]]) -> str:
    """What the classifier reads: the turn's lowercased lemmas, then a token per code (and its criterion) whose
    patterns matched, so the model can learn how far to trust each code's patterns."""
    words = [t.lemma_ for t in doc if not (t.is_punct or t.is_space)]
    return " ".join(words + sorted({tok for m in matches for tok in marks.get(m.code_id, ())}))


def feature_marks(codes: list[dict]) -> dict[int, tuple[str, ...]]:
    by_id = {c["id"]: c for c in codes}

    def token(prefix: str, key: str) -> str:
        return prefix + "_" + "".join(ch if ch.isalnum() else "_" for ch in key)

    out = {}
    for c in codes:
        top = c
        while top["parent_id"] is not None:
            top = by_id[top["parent_id"]]
        out[c["id"]] = (token("pat", c["key"]), token("crit", top["key"]))
    return out


def featurize(db: Database, data: list[Example]) -> list[Example]:
    """The same examples with the text the classifier reads (see `features`)."""
    from qualcode.suggest import score as suggest

    scorer = suggest.make_scorer(db, use_model=False)
    return [Example(ex.turn_id, ex.interview_id, text, ex.codes)
            for ex, text in zip(data, scorer.feature_texts([ex.text for ex in data]), strict=True)]  # fmt: skip


def train(db: Database, coder: str) -> dict:
    """Train on CODER's decisions and store the model as the project's active one."""
    import spacy

    settings = codebook.require_codebook(db)
    codes = codebook.codes(db)
    data = examples(db, coder)
    if not data:
        known = ", ".join(r[0] for r in db.execute(
            "SELECT DISTINCT coder FROM codings WHERE deleted_at IS NULL ORDER BY coder")) or "none"  # fmt: skip
        raise NotFoundError(
            f"coder {coder!r} has no decided turns to learn from (coders with codings: {known})"
        )
    plan = label_plan(codes, data)
    for info in plan.values():
        info["threshold"] = DECISION_THRESHOLD
    nlp = train_pipeline(settings["language"], plan, codes, featurize(db, data))
    blob = nlp.to_bytes()
    version = "tc-" + hashlib.sha256(blob).hexdigest()[:12]
    positives = {
        label: sum(1 for ex in data if cats_for({label: info}, codes, ex)[label])
        for label, info in plan.items()
    }
    info = {"version": version, "coder": coder, "examples": len(data), "labels": len(plan),
            "data_hash": data_hash(data, plan), "positives": positives, "unchanged": False}  # fmt: skip
    with transaction(db):
        if db.execute("SELECT 1 FROM models WHERE version = ?", [version]).fetchone():
            info["unchanged"] = True
            db.execute("UPDATE models SET active = (version = ?)", [version])
            return info
        db.execute("UPDATE models SET active = 0")
        db["models"].insert({
            "version": version, "kind": KIND, "coder": coder,
            "labels": json.dumps({k: {**v, "positives": positives[k]} for k, v in plan.items()}, ensure_ascii=False),
            "data_hash": info["data_hash"], "spacy_version": spacy.__version__, "trained_at": now(),
            "examples": len(data), "active": 1, "config": nlp.config.to_str(), "blob": blob,
        })  # fmt: skip
    return info


@dataclass
class LoadedModel:
    version: str
    coder: str
    labels: dict[str, dict]
    nlp: object


def active(db: Database) -> LoadedModel | None:
    row = db.execute("SELECT version, coder, labels, config, blob FROM models WHERE active = 1 "
                     "ORDER BY id DESC LIMIT 1").fetchone()  # fmt: skip
    if not row:
        return None
    return LoadedModel(row[0], row[1], json.loads(row[2]), from_bytes(row[3], row[4]))


def from_bytes(config: str, blob: bytes):
    from spacy.util import load_model_from_config
    from thinc.api import Config

    nlp = load_model_from_config(Config().from_str(config), auto_fill=True)
    return nlp.from_bytes(blob)


def models(db: Database) -> list[dict]:
    keys = ["version", "coder", "examples", "data_hash", "spacy_version", "trained_at", "active"]
    return [dict(zip(keys, r, strict=True)) for r in db.execute(
        f"SELECT {', '.join(keys)} FROM models ORDER BY id")]  # fmt: skip
