"""What the classifier reads of a turn: a few dozen numbers, each named for a code or a criterion of the codebook.

- `pat:KEY`, each code's pattern score in the turn; `crit:KEY`, its criterion's (every code below it pooled);
- `prev:KEY`, the criterion's pattern score in the turn before (usually the interviewer's question, which often
  says what the answer is about);
- `vocab:KEY`, how many of the words of the criterion's own codebook entries (names, definitions, inclusion
  criteria and examples) the turn uses. The entries are in the codebook's language, so in a turn of another
  language the feature is missing rather than zero: it takes its mean over the training turns (`fill`), which
  leaves the decision to the pattern features, instead of reading every French turn as off-topic;
- `len` and `short`, how long the turn is (greetings and logistics are short).

A bag of the turn's own words was tried and dropped: with a few hundred coded turns it learnt the shipped corpus's
wording and lost F1 on interviews written by others (README, "How good are the suggestions"). Every feature is
computed from the pipeline of the turn's language and names codes, not words, so the same model reads any language
the codebook has patterns and definitions for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qualcode.codebook.patterns import pattern_scores
from qualcode.codebook.tree import CodeTree

SHORT = 15  # words: a turn shorter than this is rarely more than a greeting, a yes or a question back


@dataclass
class FeatureSpace:
    names: list[str]
    vocab: dict[str, frozenset[str]]  # criterion key → the lemmas of its codebook entries
    language: str | None = None  # the language of those entries (the codebook's)
    fill: dict[str, float] = field(default_factory=dict)  # vocab feature → its value for a turn in another language

    @classmethod
    def build(cls, tree: CodeTree, nlp) -> FeatureSpace:
        vocab: dict[str, set[str]] = {}
        stop = getattr(nlp.Defaults, "stop_words", set())
        for c in tree:
            text = " ".join(filter(None, [c.name, c.definition, c.include, *c.examples]))
            words = vocab.setdefault(tree.criterion_of(c.id).key, set())
            words.update(t.lemma_ for t in nlp(text) if t.is_alpha and len(t) > 2 and t.lemma_ not in stop)
        names = [f"pat:{c.key}" for c in tree if c.codable and c.patterns]
        for root in tree.roots():
            names += [f"crit:{root.key}", f"prev:{root.key}", f"vocab:{root.key}"]
        return cls([*names, "len", "short"], {k: frozenset(v) for k, v in vocab.items()}, nlp.lang)

    def to_json(self) -> dict:
        return {
            "names": self.names,
            "vocab": {k: sorted(v) for k, v in self.vocab.items()},
            "language": self.language,
            "fill": self.fill,
        }

    @classmethod
    def from_json(cls, data: dict) -> FeatureSpace:
        vocab = {k: frozenset(v) for k, v in data["vocab"].items()}
        return cls(list(data["names"]), vocab, data.get("language"), dict(data.get("fill") or {}))

    def learn_fill(self, x: np.ndarray, languages: list[str]) -> np.ndarray:
        """Set `fill` from the training rows X in the codebook's language, and return X with it applied to the rows
        in other languages (what `matrix` gives them from now on)."""
        own = np.array([lang == self.language for lang in languages], dtype=bool)
        if not own.any():
            return x
        columns = {n: i for i, n in enumerate(self.names) if n.startswith("vocab:")}
        self.fill = {n: round(float(x[own, i].mean()), 8) for n, i in columns.items()}
        x = x.copy()
        for n, i in columns.items():
            x[~own, i] = self.fill[n]
        return x

    def matrix(self, tree: CodeTree, docs, matches, previous) -> np.ndarray:
        """One row per doc, from its matches and the matches in the turn before it."""
        index = {n: i for i, n in enumerate(self.names)}
        keys = {c.id: (c.key, tree.criterion_of(c.id).key) for c in tree}
        out = np.zeros((len(docs), len(self.names)))
        for row, (doc, found, before) in enumerate(zip(docs, matches, previous, strict=True)):
            x = out[row]
            for code_id, (score, _) in pattern_scores(found).items():
                if code_id not in keys:
                    continue
                key, crit = keys[code_id]
                if (i := index.get(f"pat:{key}")) is not None:
                    x[i] = score
                if (i := index.get(f"crit:{crit}")) is not None:
                    x[i] = 1 - (1 - x[i]) * (1 - score)
            for code_id, (score, _) in pattern_scores(before).items():
                if code_id in keys and (i := index.get(f"prev:{keys[code_id][1]}")) is not None:
                    x[i] = 1 - (1 - x[i]) * (1 - score)
            lemmas = [t.lemma_ for t in doc if not (t.is_punct or t.is_space)]
            present = set(lemmas)
            foreign = self.fill and doc.lang_ != self.language
            for crit, words in self.vocab.items():
                if (i := index.get(f"vocab:{crit}")) is not None:
                    x[i] = self.fill.get(f"vocab:{crit}", 0.0) if foreign else math.log1p(len(present & words)) / 2
            x[index["len"]] = math.log1p(len(lemmas)) / 5
            x[index["short"]] = float(len(lemmas) < SHORT)
        return out
