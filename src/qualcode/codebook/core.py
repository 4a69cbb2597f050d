"""Codebooks: validating the YAML file, storing it, and reading the code tree back.

The database holds the current codebook; loading a changed file updates codes in place by their stable key, so
renamed and moved codes keep every coding.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from qualcode.text import yamlfile
from qualcode.store.db import now, transaction
from qualcode.errors import ConflictError, InputError, NotFoundError, UsageError

TOP_KEYS = {"codebook", "name", "version", "language", "min_score", "codes", "description"}
CODE_KEYS = {
    "key", "name", "colour", "color", "definition", "include", "exclude", "examples", "codable", "exclusive",
    "value", "threshold", "patterns", "children",
}  # fmt: skip
DEFAULT_WEIGHT = 0.6
DEFAULT_MIN_SCORE = 0.5


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
    patterns: list[dict] = field(default_factory=list)  # {"phrase": str} | {"tokens": [...]}, with "weight"
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
            f"unknown colour {text!r}: use #rrggbb, #rgb or a CSS colour name such as steelblue",
            path=path,
            line=line,
        ) from None


def _number(value: Any, what: str, path: str, line: int, *, unit: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{what} must be a number, got {value!r}", path=path, line=line)
    if unit and not 0 <= value <= 1:
        raise InputError(f"{what} must be between 0 and 1, got {value}", path=path, line=line)
    return float(value)


ALLOWED_TOKEN_ATTRS = {
    "ORTH", "TEXT", "LOWER", "LEMMA", "NORM", "SHAPE", "LENGTH", "OP", "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER",
    "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_BRACKET", "IS_QUOTE", "IS_STOP", "IS_CURRENCY", "LIKE_NUM",
    "LIKE_URL", "LIKE_EMAIL", "IS_SENT_START", "POS", "TAG", "DEP", "MORPH", "ENT_TYPE",
}  # fmt: skip


def _pattern(item: Any, code: str, path: str, line: int) -> dict:
    weight = DEFAULT_WEIGHT
    line = getattr(item, "line", None) or getattr(
        item[0] if isinstance(item, list) and item else None, "line", line
    )
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
                odd = [x for x in ([v] if k in ("LEMMA", "LOWER", "TEXT", "ORTH", "NORM") and not isinstance(v, dict)
                                   else listed) if not isinstance(x, str)]  # fmt: skip
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
        raise InputError(
            f"not valid UTF-8 at byte {e.start}: save the codebook as UTF-8", path=path, line=line
        ) from e
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
        raise InputError(
            "codes: must be a non-empty list", path=src, line=data.line_of("codes") if codes else 1
        )
    min_score = data.get("min_score", DEFAULT_MIN_SCORE)
    spec = CodebookSpec(
        name=str(data.get("codebook") or data.get("name") or path.stem),
        version=yamlfile.scalar(data.get("version")),
        language=str(data.get("language") or "en"),
        min_score=_number(min_score, "min_score", src, data.line_of("min_score"), unit=True),
        codes=_codes(codes, None, src, data.line_of("codes")),
        source=src,
    )
    keys: dict[str, int] = {}
    for _, _, c in spec.walk():
        if c.key in keys:
            raise InputError(
                f"key {c.key!r} is used twice (also on line {keys[c.key]})", path=src, line=c.line
            )
        keys[c.key] = c.line
    return spec


def _codes(items: list, parent: CodeSpec | None, path: str, line: int) -> list[CodeSpec]:
    out: list[CodeSpec] = []
    names: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise InputError("each code is a mapping with at least name:", path=path, line=line)
        at = item.line
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
            raise InputError(
                f"code name {name!r} contains '/', which separates levels in paths", path=path, line=at
            )
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
            colour=_colour(colour, path, item.line_of("colour" if "colour" in item else "color"))
            if colour
            else None,
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
            code.threshold = _number(item["threshold"], f"code {name!r}: threshold", path, item.line_of("threshold"),
                                     unit=True)  # fmt: skip
        pats = item.get("patterns") or []
        if not isinstance(pats, list):
            raise InputError(
                f"code {name!r}: patterns: must be a list", path=path, line=item.line_of("patterns")
            )
        code.patterns = [_pattern(p, name, path, item.line_of("patterns")) for p in pats]
        children = item.get("children") or []
        if not isinstance(children, list):
            raise InputError(
                f"code {name!r}: children: must be a list", path=path, line=item.line_of("children")
            )
        code.children = _codes(children, code, path, item.line_of("children"))
        if code.exclusive and len(code.children) < 2:
            raise InputError(
                f"code {name!r} is exclusive but has fewer than two children", path=path, line=at
            )
        out.append(code)
    return out


def _text(value: Any) -> str | None:
    return str(value).strip() if value is not None and str(value).strip() else None


def _bool(value: Any, what: str, path: str, line: int) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{what} must be true or false, got {value!r}", path=path, line=line)
    return value


def pattern_hash(language: str, patterns: list[dict]) -> str:
    return hashlib.sha256(json.dumps([language, patterns], sort_keys=True).encode()).hexdigest()[:16]


def spec_hash(spec: CodebookSpec) -> str:
    rows = [(p, c.key, c.codable, c.exclusive, c.value, c.threshold, c.patterns) for p, _, c in spec.walk()]
    return hashlib.sha256(
        json.dumps([spec.language, spec.min_score, rows], sort_keys=True).encode()
    ).hexdigest()[:16]


# --- storing -------------------------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    codebook: str
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    codings_moved: int = 0
    codings_deleted: int = 0
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what an import had to adapt (REFI-QDA names, colours)


def load(db: Database, path: Path, *, move_to: str | None = None, delete_codings: bool = False) -> LoadReport:
    """Validate PATH and make it the project's codebook, in one transaction."""
    if move_to and delete_codings:
        raise UsageError("choose either --move-to or --delete-codings")
    from qualcode.text.nlp import lint

    spec = parse(path)
    warnings = lint(spec.language, [(p, c.patterns) for p, _, c in spec.walk()])
    with transaction(db):
        report = store(db, spec, move_to=move_to, delete_codings=delete_codings)
    report.warnings = warnings
    return report


def store(
    db: Database, spec: CodebookSpec, *, move_to: str | None = None, delete_codings: bool = False
) -> LoadReport:
    report = LoadReport(codebook=spec.name)
    old_paths = paths(db)
    old = {r["key"]: r for r in db.query("SELECT * FROM codes")}
    new_keys = {c.key for _, _, c in spec.walk()}
    by_path = {v: k for k, v in old_paths.items()}
    # A code whose key is not in the new file but whose path is, is the same code (e.g. imported from .qdc).
    rekey = {}
    for p, _, c in spec.walk():
        if c.key not in old and p in by_path and by_path[p] not in new_keys:
            rekey[by_path[p]] = c.key
    for old_key, new_key in rekey.items():
        db.execute("UPDATE codes SET key = ? WHERE key = ?", [new_key, old_key])
        old[new_key] = old.pop(old_key)
        old_paths[new_key] = old_paths.pop(old_key)
    removed = [k for k in old if k not in new_keys]
    target_id = None
    if removed:
        used = {
            k: n
            for k in removed
            if (
                n := db.execute(
                    "SELECT count(*) FROM codings WHERE code_id = ? AND deleted_at IS NULL", [old[k]["id"]]
                ).fetchone()[0]
            )  # fmt: skip
        }
        if used and not (move_to or delete_codings):
            listing = ", ".join(f"{old_paths[k]} ({n} codings)" for k, n in used.items())
            raise ConflictError(
                f"the new codebook removes codes that have codings: {listing}; say where they go with "
                "--move-to CODE, or delete them with --delete-codings",
                path=spec.source,
            )
        if used and move_to:
            target_path = _match_new_path(spec, move_to)
            target_key = next(c.key for p, _, c in spec.walk() if p == target_path)
            if target_key in removed:
                raise UsageError(f"--move-to {move_to}: that code is being removed too")
            target_id = target_key  # resolved to an id once it is stored
    # Upsert in tree order so parents exist before children.
    ids: dict[str, int] = {}
    for position, (p, parent_path, c) in enumerate(spec.walk()):
        parent_key = (
            next((x.key for q, _, x in spec.walk() if q == parent_path), None) if parent_path else None
        )
        row = {
            "key": c.key, "name": c.name, "parent_id": ids.get(parent_key) if parent_key else None,
            "position": position, "colour": c.colour, "definition": c.definition, "include": c.include,
            "exclude": c.exclude, "examples": json.dumps(c.examples, ensure_ascii=False), "codable": int(c.codable),
            "exclusive": int(c.exclusive), "value": c.value, "threshold": c.threshold,
            "patterns": json.dumps(c.patterns, ensure_ascii=False),
            "pattern_hash": pattern_hash(spec.language, c.patterns),
        }  # fmt: skip
        if c.key in old:
            prev = old[c.key]
            ids[c.key] = prev["id"]
            # Park the name first: a swap of two siblings' names would otherwise trip the unique index.
            db.execute("UPDATE codes SET name = ? WHERE id = ?", [f"\x00{prev['id']}", prev["id"]])
            db["codes"].update(prev["id"], row)
            if prev["name"] != c.name:
                report.renamed.append((old_paths[c.key], p))
            elif old_paths[c.key] != p:
                report.moved.append((old_paths[c.key], p))
            elif any(str(prev[k]) != str(row[k]) for k in row if k not in ("position", "parent_id")):
                report.updated.append(p)
        else:
            row["guid"] = c.guid or str(uuid.uuid4()).upper()
            ids[c.key] = db["codes"].insert(row).last_pk
            report.added.append(p)
    for k in removed:
        code_id = old[k]["id"]
        n = db.execute(
            "SELECT count(*) FROM codings WHERE code_id = ? AND deleted_at IS NULL", [code_id]
        ).fetchone()[0]
        if n and target_id:
            report.codings_moved += _move_codings(db, code_id, ids[target_id])
        elif n and delete_codings:
            db.execute(
                "UPDATE codings SET deleted_at = ? WHERE code_id = ? AND deleted_at IS NULL", [now(), code_id]
            )
            report.codings_deleted += n
        # Deleted codings keep their history row but lose the code (the code row goes).
        db.execute("UPDATE codings SET code_id = NULL, memo = coalesce(memo, '') || ? WHERE code_id = ?",
                   [f" [code removed: {old_paths[k]}]", code_id])  # fmt: skip
        db.execute("DELETE FROM suggestions WHERE code_id = ?", [code_id])
        report.removed.append(old_paths[k])
    for k in removed:  # detach first: a removed parent may go before its removed children
        db.execute("UPDATE codes SET parent_id = NULL WHERE key = ?", [k])
    for k in removed:
        db.execute("DELETE FROM codes WHERE key = ?", [k])
    h = spec_hash(spec)
    prev = db.execute("SELECT hash FROM codebook WHERE id = 1").fetchone()
    report.unchanged = bool(prev and prev[0] == h and not (report.added or report.renamed or report.moved))
    db["codebook"].upsert(
        {"id": 1, "name": spec.name, "version": spec.version, "language": spec.language, "min_score": spec.min_score,
         "hash": h, "source_file": Path(spec.source).name, "loaded_at": now()},
        pk="id",
    )  # fmt: skip
    db["codebook_loads"].insert(
        {"source_file": spec.source, "hash": h, "loaded_at": now(), "report": json.dumps(report.__dict__)}
    )
    return report


def _match_new_path(spec: CodebookSpec, name: str) -> str:
    options = [p for p, _, _ in spec.walk()]
    for p in options:
        if p.casefold() == name.casefold():
            return p
    matches = [p for p in options if p.rsplit("/", 1)[-1].casefold() == name.casefold()]
    if len(matches) == 1:
        return matches[0]
    raise NotFoundError(f"--move-to {name}: no such code in the new codebook")


def _move_codings(db: Database, from_id: int, to_id: int) -> int:
    """Re-point live codings; where the target already codes the same span for that coder, retire the duplicate."""
    n = 0
    rows = db.execute(
        "SELECT id, turn_id, coder, start, end FROM codings WHERE code_id = ? AND deleted_at IS NULL",
        [from_id],
    ).fetchall()
    for cid, turn_id, coder, start, end in rows:
        dup = db.execute(
            """SELECT 1 FROM codings WHERE code_id = ? AND turn_id IS ? AND coder = ? AND start = ? AND end = ?
               AND deleted_at IS NULL""",
            [to_id, turn_id, coder, start, end],
        ).fetchone()
        if dup:
            db.execute("UPDATE codings SET deleted_at = ? WHERE id = ?", [now(), cid])
        else:
            db.execute("UPDATE codings SET code_id = ? WHERE id = ?", [to_id, cid])
        n += 1
    return n


# --- reading -------------------------------------------------------------------------------------------------------


def paths(db: Database) -> dict[str, str]:
    """code key → full path ("Relevance/COVID-19 adaptation")."""
    rows = {r[0]: r for r in db.execute("SELECT id, key, name, parent_id FROM codes")}
    out = {}
    for cid, key, name, _ in rows.values():
        parts, cur = [name], rows[cid][3]
        while cur is not None:
            parts.append(rows[cur][2])
            cur = rows[cur][3]
        out[key] = "/".join(reversed(parts))
    return out


def codes(db: Database) -> list[dict]:
    """Every code in tree order with path, depth, criterion (its top-level ancestor) and parsed patterns."""
    rows = tree([dict(r) for r in db.query("SELECT * FROM codes ORDER BY position, id")])
    for r in rows:
        r["patterns"] = json.loads(r["patterns"])
        r["examples"] = json.loads(r["examples"] or "[]")
        r["codable"], r["exclusive"] = bool(r["codable"]), bool(r["exclusive"])
    return rows


def tree(rows: list[dict]) -> list[dict]:
    """Code rows (any project's) in tree order, each with its path, depth and criterion (top-level name)."""
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        parts, cur = [r["name"]], r
        while cur["parent_id"] is not None:
            cur = by_id[cur["parent_id"]]
            parts.append(cur["name"])
        r["path"] = "/".join(reversed(parts))
        r["depth"] = len(parts) - 1
        r["criterion"] = parts[-1]
    return _tree_order(rows)


def _tree_order(rows: list[dict]) -> list[dict]:
    children: dict[int | None, list[dict]] = {}
    for r in rows:
        children.setdefault(r["parent_id"], []).append(r)
    out: list[dict] = []

    def walk(parent):
        for r in children.get(parent, []):
            out.append(r)
            walk(r["id"])

    walk(None)
    return out


def settings(db: Database) -> dict | None:
    row = db.execute(
        "SELECT name, version, language, min_score, hash, source_file, loaded_at FROM codebook"
    ).fetchone()
    keys = ["name", "version", "language", "min_score", "hash", "source_file", "loaded_at"]
    return dict(zip(keys, row, strict=True)) if row else None


def require_codebook(db: Database) -> dict:
    s = settings(db)
    if not s:
        raise NotFoundError(
            "the project has no codebook yet: load one with 'qualcode codebook load FILE.yml'"
        )
    return s


def resolve(db: Database, name: str, *, codable: bool | None = None) -> dict:
    """A code by full path, key, or unambiguous name (case-insensitive); errors suggest close matches."""
    all_codes = codes(db)
    if not all_codes:
        require_codebook(db)
    text = name.strip().strip("/").casefold()
    hits = [c for c in all_codes if c["path"].casefold() == text or c["key"].casefold() == text]
    if not hits:
        hits = [c for c in all_codes if c["name"].casefold() == text]
    if len(hits) > 1:
        raise UsageError(
            f"code name {name!r} is ambiguous: {', '.join(c['path'] for c in hits)}; give the full path"
        )
    if not hits:
        candidates = dict.fromkeys([c["path"] for c in all_codes] + [c["name"] for c in all_codes])
        close = difflib.get_close_matches(name, list(candidates), 3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise NotFoundError(f"no code {name!r} in the codebook{hint}")
    code = hits[0]
    if codable and not code["codable"]:
        raise UsageError(f"code {code['path']!r} is a folder (codable: false) and cannot be applied")
    return code


def subtree_ids(db: Database, code_id: int) -> list[int]:
    rows = db.execute(
        """WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT c.id FROM codes c JOIN sub ON c.parent_id = sub.id)
           SELECT id FROM sub""",
        [code_id],
    ).fetchall()
    return [r[0] for r in rows]
