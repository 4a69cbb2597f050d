"""How good are the suggestions? k-fold cross-validation grouped by interview against one coder's decisions.

No interview is ever both in training and in testing. Each fold trains the text classifier on the other folds'
interviews and scores the held-out turns; patterns need no training but are scored on the same held-out turns so
the three variants (patterns alone, model alone, combined) are compared on identical data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.errors import UsageError
from qualcode.suggest import classifier as model
from qualcode.suggest.models import DECISION_THRESHOLD, LoadedModel
from qualcode.suggest.score import Scorer

VARIANTS = ("patterns", "model", "combined")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        self.tp += predicted and actual
        self.fp += predicted and not actual
        self.fn += actual and not predicted

    def prf(self) -> dict:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        return {
            "precision": p,
            "recall": r,
            "f1": f,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.tp + self.fn,
        }


def folds_by_interview(data: list[model.Example], k: int, seed: int) -> list[list[str]]:
    interviews = sorted({ex.interview_id for ex in data})
    if len(interviews) < 2:
        raise UsageError("cross-validation needs decisions in at least two interviews")
    k = min(k, len(interviews))
    random.Random(seed).shuffle(interviews)
    return [interviews[i::k] for i in range(k)]


def evaluate(db: Database, coder: str, *, k: int = 4, seed: int = model.SEED) -> dict:
    """Precision, recall and F1 per code and per criterion, micro and macro, for each variant."""
    tree = CodeTree.load(db, require=True)
    data = model.examples(db, coder)
    if not data:
        raise UsageError(f"coder {coder!r} has no decided turns to evaluate against")
    folds = folds_by_interview(data, k, seed)
    thresholds = tree.thresholds()
    top = {c.id: c.criterion_id for c in tree}
    code_counts = {v: {c.id: Counts() for c in tree if c.codable and c.depth > 0} for v in VARIANTS}
    crit_counts = {v: {c.id: Counts() for c in tree.roots()} for v in VARIANTS}
    patterns_only = Scorer.build(db, use_model=False)
    featured = {ex.turn_id: ex for ex in model.featurize(db, data)}
    for fold in folds:
        held = set(fold)
        train = [ex for ex in data if ex.interview_id not in held]
        test = [ex for ex in data if ex.interview_id in held]
        plan = model.label_plan(tree, train)
        for info in plan.values():
            info["threshold"] = DECISION_THRESHOLD
        tc = model.train_pipeline(tree.language, plan, tree, [featured[ex.turn_id] for ex in train])
        scorer = Scorer.build(db, trained=LoadedModel("cv", coder, plan, tc))
        scored = list(scorer.score([ex.text for ex in test]))
        pattern_scored = list(patterns_only.score([ex.text for ex in test]))
        for ex, (turn, _), (pturn, _) in zip(test, scored, pattern_scored, strict=True):
            gold_codes = ex.codes
            gold_crit = {top[c] for c in ex.codes if c in top}
            for variant in VARIANTS:
                predicted = set()
                for cid in thresholds:
                    if not tree[cid].codable:
                        continue
                    r = (pturn if variant == "patterns" else turn).get(cid)
                    if r is None:
                        continue
                    if variant == "model":
                        score = r["model"] if r["model"] is not None else 0.0
                    elif variant == "patterns":
                        score = r["pattern"] or 0.0
                    else:
                        score = r["score"]
                    if score >= thresholds[cid]:
                        predicted.add(cid)
                for cid, counts in code_counts[variant].items():
                    counts.add(cid in predicted, cid in gold_codes)
                pred_crit = {top[c] for c in predicted}
                for cid, counts in crit_counts[variant].items():
                    counts.add(cid in pred_crit, cid in gold_crit)
    return {
        "coder": coder,
        "folds": len(folds),
        "turns": len(data),
        "interviews": len({ex.interview_id for ex in data}),
        "variants": {
            v: {
                "code": _summary(code_counts[v], tree),
                "criterion": _summary(crit_counts[v], tree, averaged=lambda c: tree[c].codable),
            }
            for v in VARIANTS
        },
        "note": "criterion averages cover the codable top-level codes (the six DAC criteria in the shipped "
        "codebook); top-level folders such as cross-cutting themes are listed but not averaged",
    }


def _summary(counts: dict[int, Counts], tree: CodeTree, averaged=lambda cid: True) -> dict:
    rows = [{"code": tree[cid].path, "averaged": averaged(cid), **c.prf()} for cid, c in counts.items()]
    kept = [c for cid, c in counts.items() if averaged(cid)]
    total = Counts(sum(c.tp for c in kept), sum(c.fp for c in kept), sum(c.fn for c in kept))
    f1s = [r["f1"] for r in rows if r["averaged"] and r["support"] and r["f1"] is not None]
    micro = total.prf()
    return {"rows": rows, "micro": micro, "macro_f1": sum(f1s) / len(f1s) if f1s else None}
