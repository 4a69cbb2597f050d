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


# English names of the languages spaCy has a class for (spaCy itself names none); a code not here is shown as is.
NAMES = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "az": "Azerbaijani", "bg": "Bulgarian", "bn": "Bengali",
    "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish",
    "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "hy": "Armenian",
    "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese", "kn": "Kannada", "ko": "Korean",
    "ky": "Kyrgyz", "lb": "Luxembourgish", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian",
    "ml": "Malayalam", "mr": "Marathi", "ms": "Malay", "nb": "Norwegian Bokmål", "ne": "Nepali", "nl": "Dutch",
    "nn": "Norwegian Nynorsk", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "ti": "Tigrinya", "tl": "Tagalog",
    "tn": "Tswana", "tr": "Turkish", "tt": "Tatar", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "yo": "Yoruba", "zh": "Chinese",
}  # fmt: skip


@cache
def known(code: str) -> bool:
    """Whether spaCy has a language class for CODE. Asked without importing it: importing a language compiles its
    tokenizer exceptions (seconds for French), and the answer is needed on every import and codebook load."""
    import importlib.util
    import re

    from spacy.util import registry

    if not re.fullmatch(r"[a-z]{2,3}", code):
        return False
    if code in registry.languages.get_all():
        return True
    spec = importlib.util.find_spec(f"spacy.lang.{code}")
    return spec is not None and spec.submodule_search_locations is not None  # a language is a package


def name(code: str) -> str:
    """The language's English name ("fr" → "French"), the code itself when it has none here."""
    return NAMES.get(code, code)


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
