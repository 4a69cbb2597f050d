"""The codebook's patterns compiled into spaCy matchers, the pattern score of a turn, and the warnings for patterns
that can never match."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qualcode.errors import InputError

if TYPE_CHECKING:
    from qualcode.codebook.tree import Code


@dataclass(slots=True)
class Match:
    code_id: int
    pattern: int  # index in the code's pattern list
    label: str  # the pattern as the user wrote it
    weight: float
    start: int  # character offsets in the doc
    end: int
    text: str


@dataclass
class Matchers:
    """The codebook's phrases (on LEMMA and LOWER) and token patterns, compiled once.

    Token patterns made only of LOWER/LEMMA values (strings or IN lists, optionally `?`) are expanded into every
    lowercase word sequence they accept and matched by `WordSequences`: spaCy's Matcher tries each pattern's first
    token at every position (hundreds of predicate checks per token with this codebook), while a sequence is one
    hash lookup. A LEMMA value is replaced by the words whose lookup lemma it is, which matches exactly the same
    tokens. Anything else (other attributes, wildcards, `+`, `*`, `!`, expansions over the cap) stays with spaCy's
    Matcher, but a pattern with an anchor (a token that must be there, given by LOWER or LEMMA values) gets a Matcher
    of its own that runs only on the docs holding one of its anchor's values: a set lookup per distinct word instead
    of every pattern tried at every token. The anchor test is the Matcher's own predicate on that token, so the
    matches are the same (a test compares them with one Matcher of every pattern on the corpus).
    """

    nlp: object
    phrase_lemma: object
    phrase_lower: object
    tokens: object  # token patterns without an anchor: run on every doc
    expanded: object = None
    meta: dict[str, tuple[int, int, str, float]] = field(default_factory=dict)  # match key → code, idx, label, w
    skipped: list[str] = field(default_factory=list)
    anchored: dict[str, tuple[object, int | None]] = field(default_factory=dict)  # key → its own Matcher, max length
    anchors: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # (attr id, value hash) → match keys
    requires: dict[str, list[tuple[int, frozenset[int]]]] = field(default_factory=dict)  # key → its anchors
    anchor_values: dict[int, set[int]] = field(default_factory=dict)  # attr id → every first anchor's values

    def find(self, doc, text: str | None = None) -> list[Match]:
        """Every pattern match in DOC; TEXT is the doc's text when the caller has it (spaCy rebuilds it from the
        tokens at each access)."""
        seen: set[tuple[str, int, int]] = set()
        out: list[Match] = []
        hits = []
        for matcher in (self.phrase_lemma, self.phrase_lower, self.expanded, self.tokens):
            if matcher is not None and len(matcher):
                hits.extend(matcher(doc))
        hits.extend(self._anchored_hits(doc))
        if not hits:
            return out
        from spacy.attrs import IDX, LENGTH

        offsets = doc.to_array([IDX, LENGTH]).tolist()
        strings = self.nlp.vocab.strings
        text = doc.text if text is None else text
        for match_id, start, end in hits:
            key = strings[match_id]
            if (key, start, end) in seen:
                continue
            seen.add((key, start, end))
            code_id, idx, label, weight = self.meta[key]
            a, b = offsets[start][0], offsets[end - 1][0] + offsets[end - 1][1]
            out.append(Match(code_id, idx, label, weight, a, b, text[a:b]))
        out.sort(key=lambda m: (m.start, m.end, m.code_id, m.pattern))
        return out

    def _anchored_hits(self, doc) -> list[tuple[int, int, int]]:
        """What the anchored patterns match in DOC: each pattern whose every anchor has a value in the doc, run on
        the windows around its first anchor's tokens (the whole doc for a pattern of unbounded length), since every
        call of a Matcher walks the tokens it is given."""
        if not self.anchors or not len(doc):
            return []
        from spacy.attrs import LEMMA, LOWER

        values = doc.to_array([LOWER, LEMMA])
        present = {LOWER: set(values[:, 0].tolist()), LEMMA: set(values[:, 1].tolist())}
        keys: set[str] = set()
        for attr in (LOWER, LEMMA):
            for value in present[attr]:
                keys.update(self.anchors.get((attr, value), ()))
        if not keys:
            return []
        where: dict[tuple[int, int], list[int]] = {}  # (attr, value) → token positions, for anchor values only
        for column, attr in enumerate((LOWER, LEMMA)):
            wanted = self.anchor_values.get(attr, set())
            for i, value in enumerate(values[:, column].tolist()):
                if value in wanted:
                    where.setdefault((attr, value), []).append(i)
        hits = []
        for key in sorted(keys):
            (attr, first), *rest = self.requires[key]
            if any(present[a].isdisjoint(vs) for a, vs in rest):
                continue
            matcher, length = self.anchored[key]
            if length is None:
                hits.extend(matcher(doc))
                continue
            at = sorted(i for v in first for i in where.get((attr, v), ()))
            windows: list[list[int]] = []
            for i in at:  # overlapping windows merged, so each stretch is walked once
                a, b = max(i - length + 1, 0), min(i + length, len(doc))
                if windows and a <= windows[-1][1]:
                    windows[-1][1] = b
                else:
                    windows.append([a, b])
            for a, b in windows:
                hits.extend((m, a + s, a + e) for m, s, e in matcher(doc[a:b]))
        return hits


class WordSequences:
    """Word sequences matched on the tokens' lowercase forms: what a PhraseMatcher on LOWER does with phrases given
    as word lists, called the same way (match id, start, end), without building a Doc per phrase: the expanded
    token patterns are 70,000 sequences with the shipped codebook, and their Docs took a second of every run."""

    def __init__(self, vocab):
        self.vocab = vocab
        self.keys: set[str] = set()
        self.index: dict[int, dict[int, dict[tuple[int, ...], list[int]]]] = {}  # first word → length → seq → ids

    def add(self, key: str, sequences: list[tuple[str, ...]]) -> None:
        from spacy.strings import get_string_id

        match_id = self.vocab.strings.add(key)
        self.keys.add(key)
        for words in sequences:
            hashes = tuple(get_string_id(w) for w in words)
            ids = self.index.setdefault(hashes[0], {}).setdefault(len(hashes), {}).setdefault(hashes, [])
            if match_id not in ids:
                ids.append(match_id)

    def __len__(self) -> int:
        return len(self.keys)

    def __call__(self, doc) -> list[tuple[int, int, int]]:
        from spacy.attrs import LOWER

        lower = doc.to_array(LOWER).tolist()
        index = self.index
        out = []
        for i in [i for i, value in enumerate(lower) if value in index]:
            for n, table in index[lower[i]].items():
                ids = table.get(tuple(lower[i : i + n]))
                if ids:
                    out.extend((match_id, i, i + n) for match_id in ids)
        return out


TAGGER_ATTRS = {"POS", "TAG", "DEP", "MORPH", "ENT_TYPE"}


def compile_patterns(nlp, codes: Iterable[Code]) -> Matchers:
    """The patterns of CODES (as stored by `codebook load`) for this pipeline. Token LEMMA values are lowercased."""
    from spacy.matcher import Matcher, PhraseMatcher

    m = Matchers(
        nlp,
        PhraseMatcher(nlp.vocab, attr="LEMMA"),
        PhraseMatcher(nlp.vocab, attr="LOWER"),
        Matcher(nlp.vocab),
        WordSequences(nlp.vocab),
    )
    forms = lemma_forms(nlp.lang) if "qualcode_lower_lemmas" in nlp.pipe_names else None
    has_tagger = any(nlp.has_pipe(p) for p in ("tagger", "morphologizer", "parser"))
    phrases: list[tuple[str, str]] = []
    for code in codes:
        for idx, p in enumerate(code.patterns.get(nlp.lang, ())):
            key = f"{code.id}:{idx}"
            if "phrase" in p:
                m.meta[key] = (code.id, idx, p["phrase"], p["weight"])
                phrases.append((key, p["phrase"]))
            else:
                tokens = [_lower_lemma(t) for t in p["tokens"]]
                if not has_tagger and any(k in TAGGER_ATTRS for t in tokens for k in t):
                    m.skipped.append(f"{code.path}: pattern {idx + 1} needs a tagger or parser (use --model)")
                    continue
                m.meta[key] = (code.id, idx, _label(p["tokens"]), p["weight"])
                variants = expand(tokens, forms)
                try:
                    if variants is None:
                        _add_token_pattern(m, nlp, key, tokens)
                    elif variants:
                        m.expanded.add(key, variants)
                except Exception as e:
                    # A pattern stored by a version that let it through: say which, never a traceback.
                    raise InputError(
                        f"{code.path}: pattern {idx + 1} cannot be used ({e}); correct it in the codebook file "
                        "and load it again"
                    ) from e
    docs = list(nlp.pipe(text for _, text in phrases))
    for (key, _), doc in zip(phrases, docs, strict=True):
        m.phrase_lemma.add(key, [doc])
        m.phrase_lower.add(key, [doc])
    return m


def _add_token_pattern(m: Matchers, nlp, key: str, tokens: list[dict]) -> None:
    """To the Matcher of every doc, or to a Matcher of its own behind its anchors (see `Matchers`)."""
    from spacy.matcher import Matcher

    found = sorted(anchors(tokens), key=lambda a: len(a[1]))
    if not found:
        m.tokens.add(key, [tokens])
        return
    own = Matcher(nlp.vocab)
    own.add(key, [tokens])
    unbounded = any(t.get("OP") not in (None, "?", "!") for t in tokens)
    m.anchored[key] = (own, None if unbounded else len(tokens))
    hashed = [(attr, frozenset(nlp.vocab.strings.add(v) for v in values)) for attr, values in found]
    for h in hashed[0][1]:
        m.anchors.setdefault((hashed[0][0], h), []).append(key)
        m.anchor_values.setdefault(hashed[0][0], set()).add(h)
    m.requires[key] = hashed


def anchors(tokens: list[dict]) -> list[tuple[int, list[str]]]:
    """(attr id, values) of each token every match must contain that is given by LOWER or LEMMA values alone."""
    from spacy.attrs import LEMMA, LOWER

    out = []
    for t in tokens:
        keys = [k for k in t if k != "OP"]
        if len(keys) != 1 or keys[0] not in ("LOWER", "LEMMA") or t.get("OP") not in (None, "+"):
            continue
        value = t[keys[0]]
        if isinstance(value, str):
            out.append((LOWER if keys[0] == "LOWER" else LEMMA, [value]))
        elif isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"]):
            out.append((LOWER if keys[0] == "LOWER" else LEMMA, list(value["IN"])))
    return out


# Patterns with more word sequences than this run behind their anchor instead: raising it to 20,000 saved no
# measurable time on the 10x corpus and cost 76 MB more memory.
EXPANSION_CAP = 2_000
_FORMS: dict[str, dict[str, set[str]] | None] = {}


def lemma_forms(language: str) -> dict[str, set[str]] | None:
    """lemma → the lowercase words the lookup table lemmatises to it (a word absent from the table is its own)."""
    if language not in _FORMS:
        try:
            import gzip
            import json

            import spacy_lookups_data

            with gzip.open(spacy_lookups_data.get_file(f"{language}_lemma_lookup.json.gz")) as f:
                table = json.load(f)
        except Exception:  # no table for this language: LEMMA patterns stay with the Matcher
            _FORMS[language] = None
            return None
        # Some tables (French, for one) give each word a list of lemmas; spaCy's lemmatiser takes the first.
        table = {w: lemma[0] if isinstance(lemma, list) else lemma for w, lemma in table.items() if lemma}
        rev: dict[str, set[str]] = {}
        for word, lemma in table.items():
            rev.setdefault(lemma.lower(), set()).add(word.lower())
        _FORMS[language] = {"__table__": table, **rev}  # type: ignore[dict-item]
    return _FORMS[language]


def _words_for(attr: str, value: str, forms: dict | None) -> set[str] | None:
    if attr == "LOWER":  # the Matcher compares the value as written: one with a capital never matches
        return {value} if value == value.lower() else set()
    value = str(value).lower()
    if attr == "LEMMA" and forms is not None:
        table = forms["__table__"]
        out = set(forms.get(value, set()))
        if table.get(value, value).lower() == value:
            out.add(value)
        return out
    return None


def expand(tokens: list[dict], forms: dict | None, cap: int = EXPANSION_CAP) -> list[tuple[str, ...]] | None:
    """Every lowercase word sequence a simple token pattern accepts, or None when it is not simple or too large."""
    import itertools
    import math

    options: list[list[str | None]] = []
    for t in tokens:
        keys = [k for k in t if k != "OP"]
        op = t.get("OP")
        if len(keys) != 1 or op not in (None, "?"):
            return None
        value = t[keys[0]]
        if isinstance(value, str):
            values = [value]
        elif isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"]):
            values = value["IN"]
        else:
            return None
        words: set[str] = set()
        for v in values:
            found = _words_for(keys[0], v, forms)
            if found is None:
                return None
            words |= found
        options.append([*sorted(words), *([None] if op == "?" else [])])
    if math.prod(len(o) for o in options) > cap:
        return None
    out = {tuple(w for w in combo if w is not None) for combo in itertools.product(*options)}
    return sorted(v for v in out if v)


def _lower_lemma(token: dict) -> dict:
    out = dict(token)
    value = out.get("LEMMA")
    if isinstance(value, str):
        out["LEMMA"] = value.lower()
    elif isinstance(value, dict):
        out["LEMMA"] = {k: [v.lower() for v in vs] if isinstance(vs, list) else vs for k, vs in value.items()}
    return out


def _label(tokens: list[dict]) -> str:
    """A short readable form of a token pattern for evidence lists."""
    parts = []
    for t in tokens:
        op = t.get("OP", "")
        attrs = [(k, v) for k, v in t.items() if k != "OP"]
        if not attrs:
            parts.append(f"*{op}" if op else "*")
            continue
        k, v = attrs[0]
        if isinstance(v, dict) and ("IN" in v or "NOT_IN" in v):
            words = v.get("IN") or v.get("NOT_IN") or []
            shown = "|".join(map(str, words[:3])) + ("|…" if len(words) > 3 else "")
            v = f"!({shown})" if "NOT_IN" in v else f"({shown})"
        elif isinstance(v, bool):  # a flag such as LIKE_NUM: named, not printed as True
            v = f"<{k}>" if v else f"<not {k}>"
        parts.append(f"{v}{op}")
    return " ".join(str(p) for p in parts)


def noisy_or(weights) -> float:
    """1 - Π(1 - w): several independent pieces of evidence, each with its own weight."""
    p = 1.0
    for w in weights:
        p *= 1.0 - w
    return 1.0 - p


def pattern_scores(matches: list[Match], start: int = 0, end: int | None = None) -> dict[int, tuple[float, list]]:
    """code id → (score, matches) over the matches inside [start, end); each distinct pattern counts once."""
    found: dict[int, list[Match]] = {}
    for mt in matches:
        if mt.start >= start and (end is None or mt.end <= end):
            found.setdefault(mt.code_id, []).append(mt)
    out = {}
    for code_id, ms in found.items():
        weights = {}
        for m in ms:
            weights.setdefault(m.pattern, m.weight)
        out[code_id] = (noisy_or(weights.values()), ms)
    return out


def lint(codes: list[tuple[str, dict[str, list[dict]]]]) -> list[str]:
    """Patterns that can never match, as warnings: (path, language → patterns) per code; each language's
    patterns are checked with that language's pipeline."""
    languages = sorted({lang for _, by_language in codes for lang in by_language})
    warnings = []
    for language in languages:
        named = f" ({language})" if len(languages) > 1 else ""
        warnings += _lint(language, [(f"{path}{named}", pats.get(language, [])) for path, pats in codes], named)
    return warnings


def _lint(language: str, codes: list[tuple[str, list[dict]]], named: str) -> list[str]:
    import spacy

    # The checks need the tokenizer and the lemma table, not a whole pipeline: initialising one loads the table a
    # second time (a second a language, three languages in the shipped codebook).
    pipe = spacy.blank(language)
    forms = lemma_forms(pipe.lang)
    warnings = []
    if forms is None and any(p for _, patterns in codes for p in patterns):
        warnings.append(
            f"patterns{named}: spacy-lookups-data has no lemma table for {language!r}: phrases and LEMMA values "
            "match the words exactly as written (lowercased), so write every inflected form"
        )
    for path, patterns in codes:
        for n, p in enumerate(patterns, 1):
            for t in p.get("tokens", []):
                for attr in ("LEMMA", "LOWER"):
                    value = t.get(attr)
                    values = (
                        [value]
                        if isinstance(value, str)
                        else (value or {}).get("IN", [])
                        if isinstance(value, dict)
                        else []
                    )
                    for v in values:
                        if len(pipe.tokenizer(str(v))) > 1:
                            warnings.append(
                                f"{path}: pattern {n}: {attr} {v!r} is split into several tokens by the "
                                "tokenizer, so it never matches one token; write a phrase pattern instead"
                            )
                        elif attr == "LEMMA" and forms is not None and not _words_for("LEMMA", v, forms):
                            lemma = forms["__table__"].get(str(v).lower(), str(v).lower())
                            warnings.append(
                                f"{path}: pattern {n}: LEMMA {v!r} never matches: the lookup table "
                                f"lemmatises {v!r} to {lemma!r} (use LEMMA {lemma!r} or LOWER {v!r})"
                            )
    return warnings
