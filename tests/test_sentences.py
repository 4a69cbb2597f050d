"""Stored sentence boundaries are exactly spaCy's sentencizer's, except that an opening bracket opens a sentence."""

from __future__ import annotations

import random

import spacy

from qualcode.text.sentences import SentenceSplitter
from tests.conftest import CORPUS


def test_same_boundaries_as_spacys_sentencizer_on_the_corpus():
    texts = []
    for f in sorted(CORPUS.glob("INT-*.md")):
        body = f.read_text(encoding="utf-8").split("---", 2)[2]
        texts += [p.split(": ", 1)[-1] for p in body.split("\n\n") if p.strip()]
    texts += [
        "",
        "   ",
        "No full stop",
        "Mr. Smith came. Did he? Yes!! ...and then",
        "«Oui.» Non.",
        ".",
        "!!!",
        "? x",
        "A. . ! B",
        "“Really?” she said. (Laughs.) OK",
        "one.two. three ...  four",
    ]
    expected = sentencizer_spans(texts)
    assert list(SentenceSplitter("en").spans(texts)) == expected
    assert sum(len(s) for s in expected) > 5000


def sentencizer_spans(texts: list[str]) -> list[list[tuple[int, int]]]:
    reference = spacy.blank("en")
    reference.add_pipe("sentencizer")
    out = []
    for text, doc in zip(texts, reference.pipe(texts), strict=True):
        spans = []
        for s in doc.sents:
            chunk = text[s.start_char : s.end_char]
            a = s.start_char + len(chunk) - len(chunk.lstrip())
            b = s.end_char - (len(chunk) - len(chunk.rstrip()))
            if b > a:
                spans.append((a, b))
        out.append(brackets_to_the_next_sentence(text, spans))
    return out


def brackets_to_the_next_sentence(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The one exception to the sentencizer: trailing opening brackets belong to the sentence they open."""
    spans = [list(s) for s in spans]
    for k in range(len(spans) - 1):
        a, b = spans[k]
        trailing = len(text[a:b]) - len(text[a:b].rstrip("([{"))
        if trailing:
            spans[k][1] = a + len(text[a : b - trailing].rstrip())
            spans[k + 1][0] = b - trailing if spans[k][1] > a else a
    return [(a, b) for a, b in spans if b > a]


def test_an_opening_bracket_opens_the_next_sentence():
    text = "But it is not the same budget line. [laughs] Okay. (Pause.) Fine [x."
    got = [text[a:b] for a, b in SentenceSplitter("en").split(text)]
    assert got == ["But it is not the same budget line.", "[laughs] Okay.", "(Pause.)", "Fine [x."]


def test_same_boundaries_on_random_texts_built_from_awkward_pieces():
    """Abbreviations, runs of punctuation, quotes and brackets, odd white space, finals from other scripts."""
    rng = random.Random(7)
    pieces = [
        "word",
        "Mr.",
        "Dr",
        ".",
        "!",
        "?",
        "?!",
        "...",
        "…",
        "。",
        "a.",
        "U.S.",
        "e.g.",
        "x.y",
        "(",
        ")",
        '"',
        "'",
        "«",
        "»",
        "-",
        "—",
        ":)",
        "3.5",
        "end.",
        "(Laughs.)",
        "No!",
        "“Yes?”",
        "p.m.",
    ]
    gaps = [" ", " ", " ", "", "  ", "\n", "\n\n", "\t", "\xa0", " \n"]
    texts = ["".join(rng.choice(pieces) + rng.choice(gaps) for _ in range(rng.randint(1, 25))) for _ in range(3000)]
    expected = sentencizer_spans(texts)
    assert list(SentenceSplitter("en").spans(texts)) == expected
    assert sum(len(s) > 1 for s in expected) > 1000  # most texts have several sentences
