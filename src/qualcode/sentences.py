"""Sentence boundaries for stored turns: spaCy's rule-based sentencizer rule, run over token arrays.

The rule is the `sentencizer` component's: a token that is sentence-final punctuation (its default list, from
many scripts) ends a sentence at the next token that is not punctuation. Reading the tokens as arrays instead of
Token objects gives the same boundaries (tests/test_sentences.py compares them on the corpus) at a fraction of the
cost, which matters at import, where splitting was most of the work after tokenising.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class SentenceSplitter:
    def __init__(self, language: str = "en"):
        import spacy
        from spacy.pipeline import Sentencizer

        try:
            nlp = spacy.blank(language)
        except Exception:  # spaCy raises its own ImportError/ValueError for unknown codes
            nlp = spacy.blank("xx")
        self.tokenizer = nlp.tokenizer
        self.punct = {nlp.vocab.strings.add(c) for c in Sentencizer.default_punct_chars}

    def spans(self, texts: Iterable[str]) -> Iterator[list[tuple[int, int]]]:
        """For each text, its sentences as (start, end) character offsets, trimmed of surrounding white space."""
        from spacy.attrs import IDX, IS_PUNCT, LENGTH, ORTH

        # A plain loop over the rows: a turn has a few dozen tokens, too few for numpy's per-call cost to pay off.
        for text, doc in zip(texts, self.tokenizer.pipe(texts), strict=True):
            rows = doc.to_array([ORTH, IS_PUNCT, IDX, LENGTH]).tolist() if len(doc) else []
            starts, seen = [0], False
            for i, (orth, is_punct, _, _) in enumerate(rows):
                final = orth in self.punct
                if seen and not is_punct and not final:
                    starts.append(i)
                    seen = False
                elif final:
                    seen = True
            out = []
            for k, first in enumerate(starts if rows else []):
                last = (starts[k + 1] if k + 1 < len(starts) else len(rows)) - 1
                a, b = rows[first][2], rows[last][2] + rows[last][3]
                chunk = text[a:b]
                a += len(chunk) - len(chunk.lstrip())
                b -= len(chunk) - len(chunk.rstrip())
                if b > a:
                    out.append((a, b))
            yield out
