"""Sentence boundaries for stored turns: spaCy's rule-based sentencizer rule, without tokenising whole texts.

The rule is the `sentencizer` component's: a token that is sentence-final punctuation (one of its default
characters, from many scripts) ends a sentence at the next token that is neither punctuation nor final. One
exception: an opening bracket opens the next sentence. The sentencizer keeps the "[" of "...budget line. [laughs]"
as punctuation that trails the sentence before, so a coder picking sentences saw "...budget line. [" and "laughs]".

spaCy's tokenizer cuts a text at white space and tokenises each piece on its own; a run of white space other
than one plain space becomes a token of its own (not punctuation, so it starts a sentence). Only pieces that
contain a final character, and the pieces right after them, can decide a boundary, so only those are tokenised,
each distinct piece once. The boundaries are the same as the sentencizer's (tests/test_sentences.py compares
them on the corpus and on edge cases); tokenising every turn was most of the cost of importing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

Token = tuple[int, int, bool, bool]  # start and end within the piece, sentence-final, punctuation


class SentenceSplitter:
    def __init__(self, language: str = "en"):
        import spacy
        from spacy.pipeline import Sentencizer

        try:
            nlp = spacy.blank(language)
        except Exception:  # spaCy raises its own ImportError/ValueError for unknown codes
            nlp = spacy.blank("xx")
        self.tokenizer = nlp.tokenizer
        self.finals = frozenset(Sentencizer.default_punct_chars)
        # Searching for one of 128 characters is several times slower than for three, and ASCII texts (most turns
        # in English) can only hold these three.
        self.any_final = re.compile("[" + re.escape("".join(sorted(self.finals))) + "]")
        self.ascii_final = re.compile("[" + re.escape("".join(c for c in sorted(self.finals) if c.isascii())) + "]")
        self.piece = re.compile(r"\S+")
        self.space = re.compile(r"\s")
        self.cache: dict[str, tuple[Token, ...]] = {}

    def tokens(self, piece: str) -> tuple[Token, ...]:
        found = self.cache.get(piece)
        if found is None:
            if len(self.cache) > 200_000:  # bounded: a corpus of unusual words must not grow it without end
                self.cache.clear()
            found = tuple((t.idx, t.idx + len(t), t.text in self.finals, t.is_punct) for t in self.tokenizer(piece))
            self.cache[piece] = found
        return found

    def spans(self, texts: Iterable[str]) -> Iterator[list[tuple[int, int]]]:
        """For each text, its sentences as (start, end) character offsets, trimmed of surrounding white space."""
        for text in texts:
            yield self.split(text)

    def split(self, text: str) -> list[tuple[int, int]]:
        starts, done = [0], 0
        for m in (self.ascii_final if text.isascii() else self.any_final).finditer(text):
            if m.start() < done:
                continue  # in a piece already walked
            pos, seen = text.rfind(" ", 0, m.start()) + 1, False  # most pieces follow a plain space
            if self.space.search(text, pos, m.start()):
                pos = m.start()
                while pos and not text[pos - 1].isspace():
                    pos -= 1  # back to the start of the piece
            while True:
                piece = self.piece.match(text, pos).group()
                for a, _, final, punct in self.tokens(piece):
                    if seen and not punct and not final:
                        starts.append(pos + a)
                        seen = False
                    elif final:
                        seen = True
                end = pos + len(piece)
                done = end
                if not seen:
                    break
                nxt = self.piece.search(text, end)
                if nxt is None:
                    break
                if text[end : nxt.start()] != " ":  # white space that is a token: it starts the sentence
                    starts.append(nxt.start())
                    break
                pos = nxt.start()  # one plain space is no token: the next piece's leading punctuation stays
        out: list[tuple[int, int]] = []
        for k, a in enumerate(starts):
            b = starts[k + 1] if k + 1 < len(starts) else len(text)
            chunk = text[a:b]
            lead = len(chunk) - len(chunk.lstrip())
            b = a + len(chunk.rstrip())
            if b > a + lead:
                out.append((a + lead, b))
        return _brackets_open_sentences(text, out)


OPENING_BRACKETS = "([{"


def _brackets_open_sentences(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move opening brackets at the end of a sentence to the start of the next one."""
    out: list[tuple[int, int]] = []
    carry: int | None = None  # where the next sentence starts instead, when brackets were moved into it
    for k, (a, b) in enumerate(spans):
        a = a if carry is None else carry
        carry = None
        if k + 1 < len(spans) and text[b - 1] in OPENING_BRACKETS:
            cut = b
            while cut > a and text[cut - 1] in OPENING_BRACKETS:
                cut -= 1
            carry = cut
            b = a + len(text[a:cut].rstrip())
            if b <= a:
                carry = a  # nothing but brackets: all of it opens the next sentence
                continue
        out.append((a, b))
    return out
