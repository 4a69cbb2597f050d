"""Reading a YAML codebook into a validated spec: every mistake is an error naming the file and line."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.codebook.tree import DEFAULT_MIN_SCORE
from qualcode.errors import InputError
from qualcode.text import language, yamlfile

TOP_KEYS = {"codebook", "name", "version", "language", "min_score", "codes", "description"}
CODE_KEYS = {
    "key",
    "name",
    "colour",
    "color",
    "definition",
    "include",
    "exclude",
    "examples",
    "codable",
    "exclusive",
    "value",
    "threshold",
    "patterns",
    "children",
}
DEFAULT_WEIGHT = 0.6
# Codes nest at most this deep (a criterion is level 1). Evaluation codebooks use three or four levels; a deeper tree
# is a mistake or a hostile file, and every walk of the tree is recursive. REFI-QDA codebooks are held to it too.
MAX_DEPTH = 50


@dataclass
class CodeSpec:
    key: str
    name: str
    line: int
    colour: str | None = None
    definition: str | None = None
    include: str | None = None
    exclude: str | None = None
    examples: list[str] = field(default_factory=list)
    codable: bool = True
    exclusive: bool = False
    value: float | None = None
    threshold: float | None = None
    # language → [{"phrase": str} | {"tokens": [...]}, with "weight"]; a plain list is the codebook's language
    patterns: dict[str, list[dict]] = field(default_factory=dict)
    children: list[CodeSpec] = field(default_factory=list)
    guid: str | None = None  # a new code takes this GUID (REFI-QDA imports); stored codes keep theirs


@dataclass
class CodebookSpec:
    name: str
    version: str | None
    language: str
    min_score: float
    codes: list[CodeSpec]
    source: str

    def walk(self, codes: list[CodeSpec] | None = None, parent: str | None = None):
        """(path, parent_path, spec) in tree order."""
        for c in self.codes if codes is None else codes:
            path = f"{parent}/{c.name}" if parent else c.name
            yield path, parent, c
            yield from self.walk(c.children, path)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "code"


def _colour(value: Any, path: str, line: int) -> str:
    import webcolors

    text = str(value).strip()
    try:
        if text.startswith("#"):
            return webcolors.normalize_hex(text)
        return webcolors.name_to_hex(text)
    except ValueError:
        raise InputError(
            f"unknown colour {text!r}: use #rrggbb, #rgb or a CSS colour name such as steelblue", path=path, line=line
        ) from None


def _number(value: Any, what: str, path: str, line: int, *, unit: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{what} must be a number, got {value!r}", path=path, line=line)
    if unit and not 0 <= value <= 1:
        raise InputError(f"{what} must be between 0 and 1, got {value}", path=path, line=line)
    return float(value)


ALLOWED_TOKEN_ATTRS = {
    "ORTH",
    "TEXT",
    "LOWER",
    "LEMMA",
    "NORM",
    "SHAPE",
    "LENGTH",
    "OP",
    "IS_ALPHA",
    "IS_ASCII",
    "IS_DIGIT",
    "IS_LOWER",
    "IS_UPPER",
    "IS_TITLE",
    "IS_PUNCT",
    "IS_SPACE",
    "IS_BRACKET",
    "IS_QUOTE",
    "IS_STOP",
    "IS_CURRENCY",
    "LIKE_NUM",
    "LIKE_URL",
    "LIKE_EMAIL",
    "IS_SENT_START",
    "POS",
    "TAG",
    "DEP",
    "MORPH",
    "ENT_TYPE",
}


def _pattern(item: Any, code: str, path: str, line: int) -> dict:
    weight = DEFAULT_WEIGHT
    line = getattr(item, "line", None) or getattr(item[0] if isinstance(item, list) and item else None, "line", line)
    if isinstance(item, dict) and ("phrase" in item or "tokens" in item):
        extra = set(item) - {"phrase", "tokens", "weight"}
        if extra or ("phrase" in item) == ("tokens" in item):
            raise InputError(
                f"code {code!r}: a weighted pattern is {{phrase: ..., weight: ...}} or {{tokens: [...], weight: ...}}",
                path=path,
                line=getattr(item, "line", line),
            )
        if "weight" in item:
            weight = _number(item["weight"], f"code {code!r}: pattern weight", path, line, unit=True)
        item = item.get("phrase", item.get("tokens"))
    if isinstance(item, str):
        if not item.strip():
            raise InputError(f"code {code!r}: empty phrase pattern", path=path, line=line)
        return {"phrase": item.strip(), "weight": weight}
    if isinstance(item, list) and item and all(isinstance(t, dict) for t in item):
        from spacy.schemas import validate_token_pattern

        tokens = [{str(k).upper(): v for k, v in t.items()} for t in item]
        for t in tokens:
            for k, v in t.items():
                listed = v.get("IN", []) + v.get("NOT_IN", []) if isinstance(v, dict) else []
                odd = [
                    x
                    for x in (
                        [v] if k in ("LEMMA", "LOWER", "TEXT", "ORTH", "NORM") and not isinstance(v, dict) else listed
                    )
                    if not isinstance(x, str)
                ]
                if odd:
                    raise InputError(
                        f"code {code!r}: token pattern value {odd[0]!r} under {k} is not text; YAML reads unquoted "
                        "yes/no/on/off/true/false and numbers as other types, so quote them",
                        path=path,
                        line=line,
                    )
        bad = sorted({k for t in tokens for k in t} - ALLOWED_TOKEN_ATTRS)
        errors = validate_token_pattern(tokens)
        if bad or errors:
            detail = f"unknown attribute {bad[0]}" if bad else errors[0]
            raise InputError(f"code {code!r}: invalid token pattern ({detail})", path=path, line=line)
        detail = _compile_error(tokens)
        if detail:
            raise InputError(f"code {code!r}: invalid token pattern ({detail})", path=path, line=line)
        return {"tokens": tokens, "weight": weight}
    raise InputError(
        f"code {code!r}: a pattern is a phrase (text) or a token pattern (a list of {{ATTR: value}})",
        path=path,
        line=line,
    )


def _compile_error(tokens: list[dict]) -> str | None:
    """What spaCy's Matcher says about a pattern its schema lets through (a bad REGEX, an OP such as {2,1})."""
    from spacy.matcher import Matcher
    from spacy.vocab import Vocab

    try:
        Matcher(Vocab()).add("check", [tokens])
    except re.error as e:
        return f"bad regular expression: {e}"
    except Exception as e:  # spaCy raises ValueError, KeyError or TypeError depending on the mistake
        return str(e).strip() or type(e).__name__
    return None


def parse(path: Path) -> CodebookSpec:
    """Read and validate a codebook file; every error names the file and line."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as e:
        raise InputError(f"cannot read codebook: {e.strerror or e}", path=path) from e
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"not valid UTF-8 at byte {e.start}: save the codebook as UTF-8", path=path, line=line) from e
    data = yamlfile.load(text, path)
    src = str(path)
    if not isinstance(data, dict):
        raise InputError("a codebook is a mapping with codebook: and codes:", path=src, line=1)
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(TOP_KEYS))})",
            path=src,
            line=data.line_of(unknown[0]),
        )
    codes = data.get("codes")
    if not isinstance(codes, list) or not codes:
        raise InputError("codes: must be a non-empty list", path=src, line=data.line_of("codes") if codes else 1)
    min_score = data.get("min_score", DEFAULT_MIN_SCORE)
    lang = _language(data.get("language"), src, data.line_of("language"))
    spec = CodebookSpec(
        name=str(data.get("codebook") or data.get("name") or path.stem),
        version=yamlfile.scalar(data.get("version")),
        language=lang,
        min_score=_number(min_score, "min_score", src, data.line_of("min_score"), unit=True),
        codes=_codes(codes, None, src, data.line_of("codes"), lang),
        source=src,
    )
    keys: dict[str, int] = {}
    for _, _, c in spec.walk():
        if c.key in keys:
            raise InputError(f"key {c.key!r} is used twice (also on line {keys[c.key]})", path=src, line=c.line)
        keys[c.key] = c.line
    return spec


def _codes(items: list, parent: CodeSpec | None, path: str, line: int, lang: str, depth: int = 1) -> list[CodeSpec]:
    out: list[CodeSpec] = []
    names: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise InputError("each code is a mapping with at least name:", path=path, line=line)
        at = item.line
        if depth > MAX_DEPTH:
            raise InputError(f"codes nested more than {MAX_DEPTH} levels deep: refused", path=path, line=at)
        unknown = sorted(set(map(str, item)) - CODE_KEYS)
        if unknown:
            raise InputError(
                f"unknown key {unknown[0]!r} in a code (allowed: {', '.join(sorted(CODE_KEYS - {'color'}))})",
                path=path,
                line=item.line_of(unknown[0]),
            )
        name = str(item.get("name") or "").strip()
        if not name:
            raise InputError("code without a name", path=path, line=at)
        if "/" in name:
            raise InputError(f"code name {name!r} contains '/', which separates levels in paths", path=path, line=at)
        folded = name.casefold()
        if folded in names:
            where = f"under {parent.name!r}" if parent else "at the top level"
            raise InputError(
                f"duplicate code name {name!r} {where} (first on line {names[folded]})", path=path, line=at
            )
        names[folded] = at
        key = str(item.get("key") or (f"{parent.key}.{slug(name)}" if parent else slug(name)))
        colour = item.get("colour", item.get("color"))
        code = CodeSpec(
            key=key,
            name=name,
            line=at,
            colour=_colour(colour, path, item.line_of("colour" if "colour" in item else "color")) if colour else None,
            definition=_text(item.get("definition")),
            include=_text(item.get("include")),
            exclude=_text(item.get("exclude")),
            examples=[str(x) for x in item.get("examples") or []],
            codable=_bool(item.get("codable", True), "codable", path, item.line_of("codable")),
            exclusive=_bool(item.get("exclusive", False), "exclusive", path, item.line_of("exclusive")),
        )
        if "value" in item:
            code.value = _number(item["value"], f"code {name!r}: value", path, item.line_of("value"))
        if "threshold" in item:
            code.threshold = _number(
                item["threshold"], f"code {name!r}: threshold", path, item.line_of("threshold"), unit=True
            )
        code.patterns = _patterns(item, name, path, lang)
        children = item.get("children") or []
        if not isinstance(children, list):
            raise InputError(f"code {name!r}: children: must be a list", path=path, line=item.line_of("children"))
        code.children = _codes(children, code, path, item.line_of("children"), lang, depth + 1)
        if code.exclusive and len(code.children) < 2:
            raise InputError(f"code {name!r} is exclusive but has fewer than two children", path=path, line=at)
        out.append(code)
    return out


def _language(value: Any, path: str, line: int) -> str:
    """The codebook's language: a code spaCy has a language class for (en, fr, es, ...)."""
    return language.require(value if value is not None and str(value).strip() else "en", path, line)


def _patterns(item, name: str, path: str, default: str) -> dict[str, list[dict]]:
    """A code's patterns by language: a list is in the codebook's language, a mapping names each language."""
    pats = item.get("patterns") or []
    line = item.line_of("patterns")
    if isinstance(pats, list):
        return {default: [_pattern(p, name, path, line) for p in pats]} if pats else {}
    if not isinstance(pats, dict):
        raise InputError(
            f"code {name!r}: patterns: must be a list, or a mapping of languages to lists (fr: [...])",
            path=path,
            line=line,
        )
    out = {}
    for lang, entries in pats.items():
        at = pats.line_of(lang) if hasattr(pats, "line_of") else line
        code = language.require(lang, path, at)
        if not isinstance(entries, list):
            raise InputError(f"code {name!r}: patterns: {lang}: must be a list", path=path, line=at)
        if entries:
            out[code] = [_pattern(p, name, path, at) for p in entries]
    return out


def _text(value: Any) -> str | None:
    return str(value).strip() if value is not None and str(value).strip() else None


def _bool(value: Any, what: str, path: str, line: int) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{what} must be true or false, got {value!r}", path=path, line=line)
    return value


def pattern_hash(patterns: dict[str, list[dict]]) -> str:
    """What a code's patterns are, in every language: suggestions made with other patterns are stale."""
    return hashlib.sha256(json.dumps(patterns, sort_keys=True).encode()).hexdigest()[:16]


def spec_hash(spec: CodebookSpec) -> str:
    rows = [(p, c.key, c.codable, c.exclusive, c.value, c.threshold, c.patterns) for p, _, c in spec.walk()]
    return hashlib.sha256(json.dumps([spec.language, spec.min_score, rows], sort_keys=True).encode()).hexdigest()[:16]
