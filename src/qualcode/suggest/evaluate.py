"""How good are the suggestions? Cross-validation against the coder a model learns from, and held-out coders.

- Cross-validation: k folds grouped by interview (no interview is ever in both training and testing); each fold
  trains the model exactly as `qualcode train` does (its own inner cross-validation for thresholds and
  calibration included) on the other folds and scores the held-out turns.
- Held out: a model trained on all of the coder's decisions (what `qualcode train --coder` stores) scores the turns
  other coders decided in interviews the coder never decided, such as a set imported for the purpose
  (heldout/README.md), and is compared with each of them.
- The learning curve: the held-out figure after the model has seen N of the coder's interviews (several draws).

A suggestion counts when it is shown (`CodeTree.shown`); "patterns" is the same with no model. Pre-checked
suggestions (`precheck.prechecked`) are counted apart: how often they were right is the measure of the pre-check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.errors import UsageError
from qualcode.suggest import classifier as model
from qualcode.suggest.classifier import folds_by_interview
from qualcode.suggest.precheck import prechecked
from qualcode.suggest.score import Scorer

VARIANTS = ("patterns", "model")
CURVE_DRAWS = 3

__all__ = ["VARIANTS", "evaluate", "folds_by_interview"]


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


class Tally:
    """Counts per code and per criterion for each variant, and how often pre-checked suggestions were right."""

    def __init__(self, tree: CodeTree):
        self.tree = tree
        self.code = {v: {c.id: Counts() for c in tree if c.codable and c.depth > 0} for v in VARIANTS}
        self.crit = {v: {c.id: Counts() for c in tree.roots()} for v in VARIANTS}
        self.checked = {"code": Counts(), "criterion": Counts()}
        self.turns = 0

    def add(self, variant: str, turn: dict[int, dict], gold: set[int]) -> None:
        tree = self.tree
        shown = {cid for cid, r in turn.items() if tree[cid].codable and tree.shown(cid, r["score"])}
        for cid, counts in self.code[variant].items():
            counts.add(cid in shown, cid in gold)
        gold_crit = {tree[c].criterion_id for c in gold if c in tree}
        shown_crit = {tree[c].criterion_id for c in shown}
        for cid, counts in self.crit[variant].items():
            counts.add(cid in shown_crit, cid in gold_crit)
        if variant == "model":
            for cid in prechecked(tree, {c: (turn[c]["score"], turn[c]["probability"]) for c in shown}):
                # A criterion's own suggestion says "the turn speaks to this criterion", which is what its
                # probability measures; a code's, that the coder gave that code.
                self.checked["code"].add(True, gold_crit >= {cid} if tree[cid].depth == 0 else cid in gold)
                self.checked["criterion"].add(True, tree[cid].criterion_id in gold_crit)

    def result(self) -> dict:
        tree = self.tree
        out = {
            v: {
                "code": _summary(self.code[v], tree),
                "criterion": _summary(self.crit[v], tree, averaged=lambda c: tree[c].codable),
            }
            for v in VARIANTS
        }
        right = {k: c.tp for k, c in self.checked.items()}
        n = self.checked["code"].tp + self.checked["code"].fp
        out["prechecked"] = {"suggestions": n, **{f"right ({k})": (right[k] / n if n else None) for k in right}}
        return out


def evaluate(
    db: Database,
    coder: str,
    *,
    k: int = 4,
    seed: int = model.SEED,
    heldout: list[str] | tuple[str, ...] = (),
    curve: list[int] | tuple[int, ...] = (),
) -> dict:
    """Precision, recall and F1 per code and per criterion, micro and macro, for each variant: cross-validated
    against CODER, and on the turns each HELDOUT coder decided in interviews CODER did not; with CURVE, the held-out
    criterion-level figure after training on N of CODER's interviews, for each N."""
    tree = CodeTree.load(db, require=True)
    data = model.examples(db, coder)
    if not data:
        raise UsageError(f"coder {coder!r} has no decided turns to evaluate against")
    if curve and not heldout:
        raise UsageError("a learning curve is measured on held-out coders: give --heldout-coder")
    seen = {ex.interview_id for ex in data}
    sets = {}
    for name in heldout:
        turns = [ex for ex in model.examples(db, name) if ex.interview_id not in seen]
        if not turns:
            raise UsageError(
                f"coder {name!r} decided no turn in an interview that {coder} did not decide: nothing is held out"
            )
        sets[name] = turns
    base = Scorer.build(db, use_model=False)
    folds = folds_by_interview(data, k, seed)
    tally, languages = Tally(tree), {}
    for fold in folds:
        held = set(fold)
        train = [ex for ex in data if ex.interview_id not in held]
        test = [ex for ex in data if ex.interview_id in held]
        _score(base, model.train_model(db, tree, train, coder, scorer=base), test, tally, languages)
    result = {
        "coder": coder,
        "folds": len(folds),
        "turns": len(data),
        "interviews": len({ex.interview_id for ex in data}),
        "variants": tally.result(),
        "languages": {lang: t.result() | {"turns": t.turns} for lang, t in sorted(languages.items())},
        "note": "criterion averages cover the codable top-level codes (the six DAC criteria in the shipped "
        "codebook); top-level folders such as cross-cutting themes are listed but not averaged",
        "heldout": {},
        "curve": [],
    }
    if not heldout:
        return result
    full = model.train_model(db, tree, data, coder, scorer=base)
    for name, turns in sets.items():
        tally, languages = Tally(tree), {}
        _score(base, full, turns, tally, languages)
        result["heldout"][name] = {
            "turns": len(turns),
            "interviews": len({ex.interview_id for ex in turns}),
            "variants": tally.result(),
            "languages": {lang: t.result() | {"turns": t.turns} for lang, t in sorted(languages.items())},
        }
    result["curve"] = learning_curve(db, tree, base, data, coder, sets, curve, seed)
    return result


def learning_curve(db, tree, base, data, coder, sets, sizes, seed) -> list[dict]:
    """Held-out criterion-level micro P/R/F1 (means over draws) after training on N of CODER's interviews."""
    interviews = sorted({ex.interview_id for ex in data})
    out = []
    for n in sizes:
        draws = [interviews] if n >= len(interviews) else None
        if draws is None:
            rng = random.Random(seed)
            draws = [sorted(rng.sample(interviews, n)) for _ in range(CURVE_DRAWS)]
        for name, turns in sets.items():
            figures = []
            for chosen in draws:
                train = [ex for ex in data if ex.interview_id in set(chosen)]
                tally = Tally(tree)
                _score(base, model.train_model(db, tree, train, coder, scorer=base), turns, tally)
                figures.append(tally.result()["model"]["criterion"]["micro"])
            mean = {key: sum(f[key] or 0 for f in figures) / len(figures) for key in ("precision", "recall", "f1")}
            out.append({"interviews": min(n, len(interviews)), "coder": name, "draws": len(draws), **mean})
    return out


def _score(
    base: Scorer, trained, turns: list[model.Example], tally: Tally, languages: dict[str, Tally] | None = None
) -> None:
    """Score TURNS with and without the model into TALLY, and into LANGUAGES' tally of each turn's language."""
    texts, previous = [ex.text for ex in turns], [ex.previous for ex in turns]
    langs = [ex.language for ex in turns]
    with_model = base.with_model(trained).score(texts, previous, langs)
    patterns = base.score(texts, previous, langs)
    for ex, (turn, _), (pturn, _) in zip(turns, with_model, patterns, strict=True):
        tallies = [tally] if languages is None else [tally, languages.setdefault(ex.language, Tally(base.tree))]
        for t in tallies:
            t.add("model", turn, ex.codes)
            t.add("patterns", pturn, ex.codes)
            t.turns += 1


def _summary(counts: dict[int, Counts], tree: CodeTree, averaged=lambda cid: True) -> dict:
    rows = [{"code": tree[cid].path, "averaged": averaged(cid), **c.prf()} for cid, c in counts.items()]
    kept = [c for cid, c in counts.items() if averaged(cid)]
    total = Counts(sum(c.tp for c in kept), sum(c.fp for c in kept), sum(c.fn for c in kept))
    f1s = [r["f1"] for r in rows if r["averaged"] and r["support"] and r["f1"] is not None]
    micro = total.prf()
    return {"rows": rows, "micro": micro, "macro_f1": sum(f1s) / len(f1s) if f1s else None}
