"""Languages: which codes qualcode accepts, their names, and the language of a text nobody declared.

A language is an ISO 639-1 code spaCy has a language class for (en, fr, es, pt...): it decides the pipeline a text is
tokenised and lemmatised with and which of a code's patterns it is matched against. When a transcript declares none,
py3langid (a compact, offline n-gram classifier shipped with its model) guesses among the languages spaCy knows, and
the import says it guessed and how sure it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from qualcode.errors import InputError

# Below this the guess is reported as a guess the user should check; the default language is used instead.
CONFIDENT = 0.9


@cache
def known(code: str) -> bool:
    from spacy.util import get_lang_class

    try:
        get_lang_class(code)
    except Exception:  # spaCy raises ImportError or its own error for a code it does not know
        return False
    return True


@cache
def name(code: str) -> str:
    """The language's English name ("fr" → "French"), the code itself when spaCy has no name for it."""
    from spacy.util import get_lang_class

    try:
        cls = get_lang_class(code)
    except Exception:
        return code
    return getattr(cls, "lang_name", None) or {"en": "English", "fr": "French", "es": "Spanish"}.get(code, code)


def require(value: object, path: str | None = None, line: int | None = None) -> str:
    """VALUE as a language code, or an InputError naming the file and line."""
    code = str(value).strip().lower() if value is not None else ""
    if not code or not known(code):
        raise InputError(
            f"unknown language {value!r}: use an ISO 639-1 code spaCy knows, such as en, fr, es or pt",
            path=path,
            line=line,
        )
    return code


@dataclass(frozen=True)
class Guess:
    language: str
    confidence: float  # 0-1

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages([code for code in ident.nb_classes if known(code)])
    return ident


def detect(text: str) -> Guess | None:
    """The language of TEXT among those spaCy knows, or None for a text too short to tell (under 20 letters)."""
    sample = text[:20_000]
    if sum(ch.isalpha() for ch in sample) < 20:
        return None
    code, probability = _identifier().classify(sample)
    return Guess(str(code), float(probability))
