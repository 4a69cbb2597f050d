"""Scoring texts for every codable code: pattern evidence, the trained model's probability, and the stored score.

Without a model a suggestion's score is its pattern score. With one, a code the model has a label for gets the
model's answer, which reads the patterns among its features: the stored score is the model's probability rescaled
so that the label's own decision threshold (chosen by cross-validation when it was trained) lands on the code's
shown threshold (`CodeTree.threshold`), so that one rule decides what is shown whoever reads the suggestions; and
the calibrated probability of being right is stored beside it, for the pre-check. Codes without a label keep
their pattern score and have no measured probability.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from sqlite_utils import Database

from qualcode.codebook.patterns import Matchers, compile_patterns, pattern_scores
from qualcode.codebook.tree import Code, CodeTree
from qualcode.suggest import linear, models
from qualcode.suggest.features import FeatureSpace
from qualcode.text import nlp

# Pairs scoring below this (or below the code's own display threshold, if lower) are not stored: with a model
# nearly every pair scores something, and storing those under 0.2 was two in five of a model-assisted run's rows.
FLOOR = 0.2


def _rescale(p: np.ndarray, threshold: float, shown: float) -> np.ndarray:
    """Map model probabilities so that the label's decision THRESHOLD lands on SHOWN, the code's shown threshold;
    piecewise linear and monotone, so the order of suggestions is the model's."""
    if threshold <= 0 or threshold >= 1:
        return p
    return np.where(p < threshold, shown * p / threshold, shown + (1 - shown) * (p - threshold) / (1 - threshold))


# spaCy refuses a text longer than its max_length (1,000,000 characters: error E088), and one turn that long stopped
# every run at the same place. A turn over PIECE characters is cut at sentence ends (within a sentence longer than a
# piece, at white space) and the pieces, processed one by one, are joined back into one Doc (Doc.from_docs), so its
# offsets, matches and sentences are the turn's own.
PIECE = 100_000


def pieces(text: str, language: str, size: int = PIECE) -> list[str]:
    """TEXT cut into consecutive pieces of at most SIZE characters that join back into TEXT exactly."""
    if len(text) <= size:
        return [text]
    from qualcode.text.sentences import SentenceSplitter

    starts = [a for a, _ in SentenceSplitter(language).split(text)][1:]
    out, begin = [], 0
    while len(text) - begin > size:
        limit = begin + size
        # the last sentence start that fits; else the last white space; else a hard cut
        fitting = [a for a in starts if begin < a <= limit]
        cut = fitting[-1] if fitting else text.rfind(" ", begin + 1, limit) + 1 or limit
        if cut <= begin:
            cut = limit
        out.append(text[begin:cut])
        begin = cut
        starts = [a for a in starts if a > begin]
    out.append(text[begin:])
    return out


@dataclass
class Scorer:
    """Scores texts of any language the project holds: each text goes through its language's pipeline and is
    matched against its language's patterns (the codebook language's pipeline is NLP, with MATCHERS; the others
    are built when a text first needs them). Pattern features name codes, not words, so one model reads them all."""

    nlp: object
    matchers: Matchers  # every codable code's patterns: the model's features need them all
    codes: list[Code]  # codable codes in scope
    tree: CodeTree
    model: models.LoadedModel | None = None
    labels: dict[int, int] = field(default_factory=dict)  # code id → the model's label column
    floors: dict[int, float] = field(default_factory=dict)  # code id → storage floor, when under FLOOR
    pipelines: dict[str, tuple[object, Matchers]] = field(default_factory=dict)  # language → pipeline, patterns

    def pipeline(self, language: str | None) -> tuple[object, Matchers]:
        """The pipeline and compiled patterns for LANGUAGE (None: the codebook's)."""
        if language is None or language == self.nlp.lang:
            return self.nlp, self.matchers
        if language not in self.pipelines:
            pipe = nlp.build(language)
            self.pipelines[language] = (pipe, compile_patterns(pipe, self.tree.codable()))
        return self.pipelines[language]

    def docs(self, texts: list[str], languages: list[str] | None = None) -> list:
        """One Doc per text, each from its language's pipeline, long texts made from pieces (see PIECE)."""
        return [d for d, _ in self._parsed(texts, languages, match=False)]

    def matches(self, texts: list[str], languages: list[str] | None = None) -> list[tuple[str, list]]:
        """(language read in, pattern matches) per text."""
        return [(d.lang_, found) for d, found in self._parsed(texts, languages)]

    def _parsed(self, texts: list[str], languages: list[str] | None, match: bool = True) -> list[tuple]:
        """(Doc, pattern matches) per text, grouped by language so each pipeline streams its own texts."""
        out: list = [None] * len(texts)
        langs = languages or [None] * len(texts)
        for language in dict.fromkeys(langs):
            at = [i for i, lang in enumerate(langs) if lang == language]
            pipe, matchers = self.pipeline(language)
            for i, doc in zip(at, _docs(pipe, [texts[i] for i in at]), strict=True):
                out[i] = (doc, matchers.find(doc, texts[i]) if match else None)
        return out

    def with_model(self, model: models.LoadedModel | None) -> Scorer:
        """This pipeline and these patterns with another model (evaluation trains one per fold)."""
        from dataclasses import replace

        return replace(self, model=model, labels=_columns(self.tree, model))

    @property
    def model_version(self) -> str | None:
        return self.model.version if self.model is not None else None

    def features(
        self, space: FeatureSpace, texts: list[str], previous: list[str], languages: list[str] | None = None
    ) -> np.ndarray:
        parsed, before = self._with_before(texts, previous, languages)
        return space.matrix(self.tree, [d for d, _ in parsed], [m for _, m in parsed], before)

    def _with_before(self, texts: list[str], previous: list[str], languages: list[str] | None) -> tuple[list, list]:
        """(Doc, matches) per text, and the matches of the turn before each. When the turn before is the text just
        before it in the list (a participant answering on, or one participant after another), its matches are
        reused rather than read a second time: a fifth of the corpus's turns."""
        langs = languages or [None] * len(texts)
        parsed = self._parsed(texts, langs)
        reuse = {i for i in range(1, len(texts)) if previous[i] == texts[i - 1] and langs[i] == langs[i - 1]}
        again = [i for i in range(len(texts)) if i not in reuse]
        read = iter(self._parsed([previous[i] for i in again], [langs[i] for i in again]))
        return parsed, [parsed[i - 1][1] if i in reuse else next(read)[1] for i in range(len(texts))]

    def score(
        self, texts: list[str], previous: list[str] | None = None, languages: list[str] | None = None
    ) -> Iterator[tuple[dict[int, dict], list]]:
        """Per text: (code id → turn-level result, [(sentence start, sentence end, code id → result)]).

        PREVIOUS holds the text of the turn before each one (the model reads its patterns); LANGUAGES each text's
        language (default: the codebook's)."""
        answers: dict[int, tuple[list, list, list]] = {}  # code id → (raw, score, probability) per text
        if self.model is not None and self.labels:
            parsed, before = self._with_before(texts, previous or [""] * len(texts), languages)
        else:
            parsed, before = self._parsed(texts, languages), None
        docs = [d for d, _ in parsed]
        all_matches = [m for _, m in parsed]
        if before is not None:
            x = self.model.space.matrix(self.tree, docs, all_matches, before)
            answers = self._answers(linear.predict(x, self.model.weights, self.model.bias))
        in_scope = {c.id for c in self.codes}
        for row, (doc, found_all) in enumerate(zip(docs, all_matches, strict=True)):
            matches = [m for m in found_all if m.code_id in in_scope]
            per_code = pattern_scores(matches)
            turn: dict[int, dict] = {}
            for c in self.codes:
                answer, evidence = answers.get(c.id), per_code.get(c.id)
                if answer is None and evidence is None and c.id not in self.floors:
                    continue  # no evidence and no model: a score of 0, never stored
                p, found = evidence or (0.0, [])
                if answer is None:
                    score, m, probability, source = p, None, None, "pattern"
                else:
                    m, score, probability = answer[0][row], answer[1][row], answer[2][row]
                    source = "combined" if p else "model"
                if score >= self.floors.get(c.id, FLOOR) or p > 0:
                    turn[c.id] = {
                        "score": score,
                        "pattern": p,
                        "model": m,
                        "probability": probability,
                        "source": source,
                        "evidence": found,
                    }
            yield turn, _sentences(doc, matches)

    def _answers(self, raw: np.ndarray) -> dict[int, tuple[list, list, list]]:
        """code id → the model's raw probability, stored score and calibrated probability for each text (RAW is
        texts × labels). A code below a criterion is held to its criterion's answer too (the lower of the two): a
        code is never likelier than the criterion it belongs to, and children's own thresholds, chosen on a few
        dozen examples each, had doubled the criterion-level false positives in cross-validation."""
        info = list(self.model.labels.values())
        out = {}
        for c in self.codes:
            col = self.labels.get(c.id)
            if col is None:
                continue
            shown = self.tree.threshold(c.id)
            score = _rescale(raw[:, col], info[col]["threshold"], shown)
            probability = linear.calibrated(raw[:, col], info[col]["calibration"])
            top = self.labels.get(c.criterion_id)
            if top is not None and top != col:
                score = np.minimum(score, _rescale(raw[:, top], info[top]["threshold"], shown))
                probability = np.minimum(probability, linear.calibrated(raw[:, top], info[top]["calibration"]))
            out[c.id] = (raw[:, col].tolist(), score.tolist(), np.asarray(probability, dtype=float).tolist())
        return out

    @classmethod
    def build(
        cls,
        db: Database,
        *,
        model_name: str | None = None,
        code: str | None = None,
        use_model: bool = True,
        trained: models.LoadedModel | None = None,
    ) -> Scorer:
        """Build the pipeline, compile the codebook's patterns, attach the active model if there is one."""
        tree = CodeTree.load(db, require=True)
        scope = list(tree)
        if code:
            ids = set(tree.subtree_ids(tree.resolve(code).id))
            scope = [c for c in tree if c.id in ids]
        codable = [c for c in scope if c.codable]
        pipeline = nlp.build(tree.language, model_name)
        matchers = compile_patterns(pipeline, tree.codable())
        loaded = trained if trained is not None else (models.active(db) if use_model else None)
        if not use_model:
            loaded = None
        floors = {c.id: tree.threshold(c.id) for c in codable if tree.threshold(c.id) < FLOOR}
        return cls(pipeline, matchers, codable, tree, loaded, _columns(tree, loaded), floors)


def _docs(pipe, texts: list[str]) -> list:
    """One Doc per text from PIPE, long texts made from pieces (see PIECE)."""
    from spacy.tokens import Doc

    size = min(PIECE, pipe.max_length)
    cut = [pieces(t, pipe.lang, size) if len(t) > size else [t] for t in texts]
    made = iter(pipe.pipe((p for ps in cut for p in ps), batch_size=64))
    out = []
    for ps in cut:
        parts = [next(made) for _ in ps]
        out.append(parts[0] if len(parts) == 1 else Doc.from_docs(parts, ensure_whitespace=False))
    return out


def _columns(tree: CodeTree, model: models.LoadedModel | None) -> dict[int, int]:
    """code id → the model's label column, for the codes of this codebook the model has a label for."""
    if model is None:
        return {}
    by_key = tree.by_key()
    return {by_key[info["key"]].id: col for col, info in enumerate(model.labels.values()) if info["key"] in by_key}


def _sentences(doc, matches: list) -> list[tuple[int, int, dict]]:
    """Each sentence with pattern matches: (start, end, code id → result), from the pattern evidence alone."""
    if not matches:
        return []
    from spacy.attrs import IDX, LENGTH, SENT_START

    rows = doc.to_array([SENT_START, IDX, LENGTH]).tolist()
    starts = [i for i, r in enumerate(rows) if r[0] == 1 or i == 0]
    bounds = []
    for k, first in enumerate(starts):
        last = (starts[k + 1] if k + 1 < len(starts) else len(rows)) - 1
        bounds.append((rows[first][1], rows[last][1] + rows[last][2]))
    inside: dict[int, list] = {}
    for m in matches:  # a match belongs to the sentence it starts in, if it also ends there
        k = bisect.bisect_right(bounds, (m.start, float("inf"))) - 1
        if k >= 0 and m.end <= bounds[k][1]:
            inside.setdefault(k, []).append(m)
    out = []
    for k, found in sorted(inside.items()):
        a, b = bounds[k]
        results = {
            cid: {"score": sc, "pattern": sc, "model": None, "probability": None, "source": "pattern", "evidence": ev}
            for cid, (sc, ev) in pattern_scores(found).items()
        }
        out.append((a, b, results))
    return out


def codebook_hash(codes: Iterable[Code], language: str) -> str:
    h = hashlib.sha256(language.encode())
    for c in sorted(codes, key=lambda c: c.id):
        h.update(f"{c.id}:{c.pattern_hash}:{int(c.codable)};".encode())
    return h.hexdigest()[:16]
