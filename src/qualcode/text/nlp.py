"""The spaCy pipeline every qualcode process uses for a language.

Built locally from `spacy.blank(language)`, spaCy's lookup lemmatiser (tables from spacy-lookups-data) and the rule
based sentencizer; nothing is downloaded. An installed trained pipeline can be named instead (`--model NAME`).
Lemmas are lowercased: the lookup tables are keyed by lowercase words, so "Fees" at the start of a sentence would
otherwise keep its capital and miss the phrase "recruitment fee".
"""

from __future__ import annotations

from qualcode.errors import NotFoundError, UsageError

PIPELINE_NOTE = "spacy.blank + lookup lemmatizer (lowercased) + sentencizer"


def _register_components() -> None:
    from spacy.language import Language

    if "qualcode_lower_lemmas" in Language.factories:
        return

    @Language.component("qualcode_lower_lemmas")
    def lower_lemmas(doc):
        lemmatizer = _LOOKUP.get(doc.lang_)
        for token in doc:
            if token.text != token.lower_:
                lemma = lemmatizer.get(token.lower_) if lemmatizer is not None else None
                if isinstance(lemma, list):  # some tables (French) list several lemmas; spaCy takes the first
                    lemma = lemma[0] if lemma else None
                token.lemma_ = lemma or token.lower_
            else:
                token.lemma_ = token.lemma_.lower() if token.lemma_ else token.lower_
        return doc


_LOOKUP: dict = {}
# Blank pipelines built in this process, by language: a pipeline only reads the texts it is given, and building one
# loads its lemma table again (seconds for French), which long-lived callers (tests, scripts) paid at every command.
_BUILT: dict = {}


def build(language: str = "en", model: str | None = None):
    """The pipeline every qualcode process uses for suggestions; deterministic for a given language or model."""
    if not model and language in _BUILT:
        return _BUILT[language]
    import spacy

    _register_components()
    if model:
        try:
            nlp = spacy.load(model, exclude=["ner"])
        except OSError as e:
            raise NotFoundError(
                f"spaCy pipeline {model!r} is not installed; qualcode never downloads models at run time. "
                f"Install its package first, or leave out --model to use the built-in blank pipeline"
            ) from e
        if not nlp.has_pipe("parser") and not nlp.has_pipe("senter") and not nlp.has_pipe("sentencizer"):
            nlp.add_pipe("sentencizer")
        return nlp
    try:
        nlp = spacy.blank(language)
    except Exception as e:  # spaCy raises ImportError or its own error for unknown codes
        raise UsageError(f"spaCy has no language {language!r}: use an ISO code such as en, fr, es") from e
    try:
        lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        table = lemmatizer.lookups.get_table("lemma_lookup")
        _LOOKUP[nlp.lang] = table
        nlp.add_pipe("qualcode_lower_lemmas")
    except Exception:  # no lookup table for this language in spacy-lookups-data: match on lowercase forms only
        nlp = spacy.blank(language)
        _LOOKUP[nlp.lang] = None
        nlp.add_pipe("qualcode_lower_lemmas")
    nlp.add_pipe("sentencizer")
    _BUILT[language] = nlp
    return nlp
