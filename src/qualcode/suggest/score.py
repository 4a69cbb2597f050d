"""Scoring texts for every codable code: pattern evidence, the classifier's probability, and how they combine."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlite_utils import Database

from qualcode.codebook.patterns import Matchers, compile_patterns, pattern_scores
from qualcode.codebook.tree import Code, CodeTree
from qualcode.suggest import models
from qualcode.suggest.features import feature_marks, features
from qualcode.text import nlp

# Pairs scoring below this (or below the code's own display threshold, if lower) are not stored. With a model nearly
# every pair scores something; under 0.2, two fifths of a label's decision threshold, they are noise, and storing
# them was two in five of a model-assisted run's rows.
FLOOR = 0.2


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
    nlp: object
    matchers: Matchers  # every codable code's patterns: the classifier's features need them all
    codes: list[Code]  # codable codes in scope
    model_version: str | None
    labels: dict[int, tuple[str, float]]  # code id → (textcat label, decision threshold)
    use_patterns: bool = True
    use_model: bool = True
    model_nlp: object = None
    marks: dict = field(default_factory=dict)
    floors: dict[int, float] = field(default_factory=dict)  # code id → storage floor, when under FLOOR

    def feature_texts(self, texts: list[str]) -> list[str]:
        return [features(doc, self.matchers.find(doc), self.marks) for doc in self.docs(texts)]

    def docs(self, texts: list[str]) -> list:
        """One Doc per text, long texts made from pieces (see PIECE)."""
        from spacy.tokens import Doc

        size = min(PIECE, self.nlp.max_length)
        cut = [pieces(t, self.nlp.lang, size) if len(t) > size else [t] for t in texts]
        made = iter(self.nlp.pipe((p for ps in cut for p in ps), batch_size=64))
        out = []
        for ps in cut:
            parts = [next(made) for _ in ps]
            out.append(parts[0] if len(parts) == 1 else Doc.from_docs(parts, ensure_whitespace=False))
        return out

    def cats(self, inputs: list[str]) -> list[dict]:
        """The classifier's probabilities per input; a long input is scored in pieces and each label takes its
        highest probability over them (a turn is about a code if some part of it is)."""
        size = min(PIECE, self.model_nlp.max_length)
        cut = [pieces(t, self.model_nlp.lang, size) if len(t) > size else [t] for t in inputs]
        made = iter(self.model_nlp.pipe((p for ps in cut for p in ps), batch_size=64))
        out = []
        for ps in cut:
            parts = [next(made).cats for _ in ps]
            out.append({label: max(c.get(label, 0.0) for c in parts) for label in parts[0]})
        return out

    def score(self, texts: list[str]) -> Iterator[tuple[dict[int, dict], list]]:
        """Per text: (code id → turn-level result, [(sentence start, sentence end, code id → result)])."""
        docs = self.docs(texts)
        all_matches = [self.matchers.find(doc) for doc in docs]
        cats: list[dict] = [{} for _ in docs]
        if self.use_model and self.model_nlp is not None:
            inputs = [features(doc, m, self.marks) for doc, m in zip(docs, all_matches, strict=True)]
            cats = self.cats(inputs)
        in_scope = {c.id for c in self.codes}
        for doc, found_all, doc_cats in zip(docs, all_matches, cats, strict=True):
            matches = [m for m in found_all if m.code_id in in_scope] if self.use_patterns else []
            per_code = pattern_scores(matches)
            turn: dict[int, dict] = {}
            for c in self.codes:
                p, found = per_code.get(c.id, (0.0, []))
                m = None
                if self.use_model and c.id in self.labels:
                    label, threshold = self.labels[c.id]
                    m = calibrate(float(doc_cats.get(label, 0.0)), threshold)
                score, source = combine(p, m)
                if score >= self.floors.get(c.id, FLOOR) or p > 0:
                    turn[c.id] = {
                        "score": score,
                        "pattern": p if self.use_patterns else None,
                        "model": m,
                        "source": source,
                        "evidence": found,
                    }
            sents = []
            if matches:
                # matches are in order of start: each sentence looks only at its own, not at the whole turn's
                starts = [m.start for m in matches]
                for s in doc.sents:
                    own = matches[bisect.bisect_left(starts, s.start_char) : bisect.bisect_left(starts, s.end_char)]
                    inside = pattern_scores(own, s.start_char, s.end_char)
                    if inside:
                        sents.append(
                            (
                                s.start_char,
                                s.end_char,
                                {
                                    cid: {
                                        "score": sc,
                                        "pattern": sc,
                                        "model": None,
                                        "source": "pattern",
                                        "evidence": ev,
                                    }
                                    for cid, (sc, ev) in inside.items()
                                },
                            )
                        )
            yield turn, sents

    @classmethod
    def build(
        cls,
        db: Database,
        *,
        model_name: str | None = None,
        code: str | None = None,
        use_model: bool = True,
        use_patterns: bool = True,
        trained: models.LoadedModel | None = None,
    ) -> Scorer:
        """Build the pipeline, compile the codebook's patterns, attach the active text classifier if there is one."""
        tree = CodeTree.load(db, require=True)
        scope = list(tree)
        if code:
            ids = set(tree.subtree_ids(tree.resolve(code).id))
            scope = [c for c in tree if c.id in ids]
        codable = [c for c in scope if c.codable]
        pipeline = nlp.build(tree.language, model_name)
        matchers = compile_patterns(pipeline, tree.codable())
        loaded = trained if trained is not None else (models.active(db) if use_model else None)
        labels: dict[int, tuple[str, float]] = {}
        version = None
        if loaded is not None and use_model:
            by_key = tree.by_key()
            for label, info in loaded.labels.items():
                if info["key"] in by_key:
                    labels[by_key[info["key"]].id] = (label, float(info.get("threshold", models.DECISION_THRESHOLD)))
            version = loaded.version
        floors = {c.id: tree.threshold(c.id) for c in codable if tree.threshold(c.id) < FLOOR}
        return cls(
            pipeline,
            matchers,
            codable,
            version,
            labels,
            use_patterns=use_patterns,
            use_model=use_model,
            model_nlp=loaded.nlp if loaded is not None and use_model else None,
            marks=feature_marks(tree),
            floors=floors,
        )


def codebook_hash(codes: Iterable[Code], language: str) -> str:
    h = hashlib.sha256(language.encode())
    for c in sorted(codes, key=lambda c: c.id):
        h.update(f"{c.id}:{c.pattern_hash}:{int(c.codable)};".encode())
    return h.hexdigest()[:16]
