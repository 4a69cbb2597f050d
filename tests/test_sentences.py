"""Stored sentence boundaries are exactly spaCy's sentencizer's."""

from __future__ import annotations

import spacy

from qualcode.sentences import SentenceSplitter
from tests.conftest import CORPUS


def test_same_boundaries_as_spacys_sentencizer_on_the_corpus():
    texts = []
    for f in sorted(CORPUS.glob("INT-*.md")):
        body = f.read_text(encoding="utf-8").split("---", 2)[2]
        texts += [p.split(": ", 1)[-1] for p in body.split("\n\n") if p.strip()]
    texts += ["", "   ", "No full stop", "Mr. Smith came. Did he? Yes!! ...and then", "«Oui.» Non."]
    reference = spacy.blank("en")
    reference.add_pipe("sentencizer")
    expected = []
    for text, doc in zip(texts, reference.pipe(texts), strict=True):
        spans = []
        for s in doc.sents:
            chunk = text[s.start_char : s.end_char]
            a = s.start_char + len(chunk) - len(chunk.lstrip())
            b = s.end_char - (len(chunk) - len(chunk.rstrip()))
            if b > a:
                spans.append((a, b))
        expected.append(spans)
    assert list(SentenceSplitter("en").spans(texts)) == expected
    assert sum(len(s) for s in expected) > 5000
