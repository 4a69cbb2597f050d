"""REFI-QDA codebooks: the code tree as a Codebook 1.0 (.qdc) file, and such a file as the project's codebook.

REFI carries a code's GUID, name, colour, whether it can be applied, its children and one Description. qualcode's
definition, include, exclude and examples go into that Description as readable paragraphs, which are split back
apart on import; patterns, weights and thresholds have no place in REFI, so an imported code that is already in the
project (same GUID) keeps its own. Some tools (Taguette) write a flat list whose names are paths: `nest` makes the
tree of them, when asked (`import_qdc(paths=True)`, and always for CSV codebooks, csvbook.py).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from qualcode.codebook.parse import CodebookSpec, CodeSpec, slug
from qualcode.codebook.store import LoadReport, store
from qualcode.codebook.tree import DEFAULT_MIN_SCORE, Code, CodeTree, require_settings, settings
from qualcode.errors import InputError, UsageError
from qualcode.refi import schemas, xml
from qualcode.refi.xml import NS_CODEBOOK
from qualcode.store.db import transaction

MAX_BYTES = 20 * 1024 * 1024
# GUIDs qualcode makes for codes a file gives none (CSV tags, levels of a path no code names) come from their paths.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:qualcode:refi-qda:codes")
_DESCRIPTION = re.compile(
    r"^(?P<definition>.*?)(?:\n\nInclude: (?P<include>.*?))?(?:\n\nExclude: (?P<exclude>.*?))?"
    r"(?:\n\nExamples:\n(?P<examples>(?:- [^\n]*(?:\n|$))+))?$",
    re.S,
)


@dataclass
class RefiCode:
    guid: str
    name: str
    codable: bool | None  # None: the file cannot say (a CSV tag): a stored code keeps its own, a new one is codable
    colour: str | None  # None: a stored code keeps its own
    description: str | None
    children: list[RefiCode] = field(default_factory=list)

    def walk(self, parent: str | None = None):
        """(path, code) for this code and its descendants, in tree order."""
        path = f"{parent}/{self.name}" if parent else self.name
        yield path, self
        for c in self.children:
            yield from c.walk(path)


# --- writing ---------------------------------------------------------------------------------------------------------


def description(code: Code) -> str | None:
    """Definition, include, exclude and examples as the one readable text REFI has room for."""
    parts = [code.definition] if code.definition else []
    if code.include:
        parts.append(f"Include: {code.include}")
    if code.exclude:
        parts.append(f"Exclude: {code.exclude}")
    if code.examples:
        parts.append("Examples:\n" + "\n".join(f"- {' '.join(e.split())}" for e in code.examples))
    text = "\n\n".join(parts)
    return text if text.strip() else None


def add_codes(parent: ET.Element, db: Database) -> int:
    """Nested <Code> elements for the whole tree under PARENT (a <Codes> element); returns how many."""
    tree = CodeTree.load(db)

    def add(under: ET.Element, parent_id: int | None) -> None:
        for c in tree.children(parent_id):
            colour = c.colour if c.colour and xml.RGB.match(c.colour) else None
            el = xml.element(
                under,
                "Code",
                {"guid": c.guid, "name": c.name, "isCodable": "true" if c.codable else "false", "color": colour},
            )
            text = description(c)
            if text:
                xml.element(el, "Description", text=text)
            add(el, c.id)

    add(parent, None)
    return len(tree)


def to_qdc(db: Database) -> str:
    """The current codebook as a REFI-QDA Codebook 1.0 document."""
    from qualcode import __version__

    require_settings(db)
    root = xml.element(None, "CodeBook", {"xmlns": NS_CODEBOOK, "origin": f"qualcode {__version__}"})
    add_codes(xml.element(root, "Codes"), db)
    text = xml.serialise(root)
    schemas.validate("Codebook.xsd", text.encode())
    return text


# --- reading ---------------------------------------------------------------------------------------------------------


def read_codes(codes: ET.Element | None, *, path: str | Path, notes: list[str], paths: bool = False) -> list[RefiCode]:
    """The <Code> tree under a <Codes> element. Names are made usable as qualcode paths, or with PATHS keep their '/'
    for `nest`; problems are InputErrors."""
    seen: dict[str, str] = {}
    slashed: list[str] = []

    def read(parent: ET.Element, parent_name: str | None) -> list[RefiCode]:
        out: list[RefiCode] = []
        siblings: dict[str, str] = {}
        for el in xml.kids(parent, "Code"):
            name = " ".join((el.get("name") or "").split())
            what = f"<Code name={name!r}>" if name else "a <Code> without a name"
            guid = xml.guid(el.get("guid"), what, path=path)
            if not name:
                raise InputError(f"<Code guid={guid!r}> has no name", path=path)
            if guid in seen:
                raise InputError(f"GUID {guid} is used by two codes: {seen[guid]!r} and {name!r}", path=path)
            seen[guid] = name
            if "/" in name and not paths:
                # "/" separates levels in qualcode paths; the division slash looks the same and keeps paths exact.
                fixed = name.replace("/", "\u2215")
                notes.append(f"code {name!r}: '/' separates levels in qualcode paths, stored as {fixed!r}")
                slashed.append(name)
                name = fixed
            folded = name.casefold()
            if folded in siblings:
                where = f"under {parent_name!r}" if parent_name else "at the top level"
                raise InputError(f"two codes named {name!r} {where} (GUIDs {siblings[folded]} and {guid})", path=path)
            siblings[folded] = guid
            colour, note = xml.colour(el.get("color"))
            if note:
                notes.append(f"code {name!r}: {note}")
            out.append(
                RefiCode(
                    guid=guid,
                    name=name,
                    codable=xml.boolean(el.get("isCodable"), default=True),
                    colour=colour,
                    description=xml.kid_text(el, "Description"),
                    children=read(el, name),
                )
            )
        return out

    out = read(codes, None) if codes is not None else []
    if slashed:
        notes.append(
            f"{len(slashed)} code name(s) contain '/': each kept as one name; --paths reads them as levels "
            "('A/B' is B under A), as Taguette writes its tags"
        )
    return out


def nest(codes: list[RefiCode], folder: Callable[[str], RefiCode], *, path: str | Path) -> tuple[list, list[str]]:
    """(the tree, the folders made): codes whose names are paths ("A/B"), at any level, become B under A. A level no
    code names is a folder FOLDER makes from its path. Names are compared without case, as qualcode's paths are."""
    listed: dict[tuple[str, ...], tuple[RefiCode, list[str]]] = {}
    for c in codes:
        parts = [p.strip() for p in c.name.split("/")]
        if not all(parts):
            raise InputError(f"code {c.name!r} has an empty level in its path", path=path)
        key = tuple(p.casefold() for p in parts)
        if key in listed:
            raise InputError(f"two codes are named {'/'.join(parts)!r}", path=path)
        c.name = parts[-1]
        listed[key] = (c, parts)
    nodes = {k: c for k, (c, _) in listed.items()}
    top: list[RefiCode] = []
    made: list[str] = []

    def attach(key: tuple[str, ...], parts: list[str]) -> None:
        (top if len(key) == 1 else node(key[:-1], parts[:-1]).children).append(nodes[key])

    def node(key: tuple[str, ...], parts: list[str]) -> RefiCode:
        if key not in nodes:
            nodes[key] = folder("/".join(parts))
            made.append("/".join(parts))
            attach(key, parts)
        return nodes[key]

    for key, (c, parts) in listed.items():
        attach(key, parts)
        c.children, deeper = nest(c.children, lambda p, base="/".join(parts): folder(f"{base}/{p}"), path=path)
        made.extend(f"{'/'.join(parts)}/{p}" for p in deeper)
    return top, made


def folder_for(db: Database) -> Callable[[str], RefiCode]:
    """Makes the code for a level of a path no code names: the project's code at that path, else a new folder."""
    stored = {c.path.casefold(): c for c in CodeTree.load(db)}

    def make(code_path: str) -> RefiCode:
        old = stored.get(code_path.casefold())
        guid = old.guid if old else str(uuid.uuid5(NAMESPACE, code_path.casefold())).upper()
        return RefiCode(guid, code_path.rpartition("/")[2], None if old else False, None, None)

    return make


def nested_note(made: list[str], names: str, one: str) -> str:
    """What `nest` did, in words: NAMES were read as paths, and the folders made for levels no ONE names."""
    note = f"{names} read as paths ('A/B' is B under A)"
    if made:
        note += f"; a folder made for a level no {one} names: {', '.join(made[:5])}{' …' if len(made) > 5 else ''}"
    return note


def split_description(text: str | None) -> tuple[str | None, str | None, str | None, list[str]]:
    """(definition, include, exclude, examples) from a Description; foreign ones are all definition."""
    if not text or not text.strip():
        return None, None, None, []
    # The leading blank line lets a Description that opens with "Include:" (no definition) match like the others.
    m = _DESCRIPTION.match("\n\n" + text.replace("\r\n", "\n").strip())
    assert m  # every part is optional, so the pattern always matches
    examples = [line[2:].strip() for line in (m.group("examples") or "").splitlines() if line.strip()]
    return (
        (m.group("definition") or "").strip() or None,
        (m.group("include") or "").strip() or None,
        (m.group("exclude") or "").strip() or None,
        examples,
    )


def to_spec(db: Database, codes: list[RefiCode], *, name: str, source: str) -> CodebookSpec:
    """A CodebookSpec for codebook.store: stored codes (same GUID) keep their key and what REFI cannot carry."""
    stored = CodeTree.load(db).by_guid()
    reserved = {stored[g].key for _, c in _walk(codes) if (g := c.guid) in stored}
    used: set[str] = set(reserved)

    def key_for(code: RefiCode, parent_key: str | None) -> str:
        if code.guid in stored:
            return stored[code.guid].key
        base = f"{parent_key}.{slug(code.name)}" if parent_key else slug(code.name)
        key, n = base, 2
        while key in used:
            key, n = f"{base}-{n}", n + 1
        used.add(key)
        return key

    def spec(code: RefiCode, parent_key: str | None) -> CodeSpec:
        definition, include, exclude, examples = split_description(code.description)
        key = key_for(code, parent_key)
        old = stored.get(code.guid)
        out = CodeSpec(
            key=key,
            name=code.name,
            line=0,
            colour=code.colour or (old.colour if old else None),
            definition=definition,
            include=include,
            exclude=exclude,
            examples=examples,
            codable=code.codable if code.codable is not None else (old.codable if old else True),
            guid=code.guid,
        )
        out.children = [spec(c, key) for c in code.children]
        if old:
            out.patterns, out.value, out.threshold = dict(old.patterns), old.value, old.threshold
            out.exclusive = old.exclusive and len(out.children) >= 2
            out.examples = out.examples or list(old.examples)
        return out

    current = settings(db)
    return CodebookSpec(
        name=current.name if current else name,
        version=current.version if current else None,
        language=current.language if current else "en",
        min_score=current.min_score if current else DEFAULT_MIN_SCORE,
        codes=[spec(c, None) for c in codes],
        source=source,
    )


def _walk(codes: list[RefiCode]):
    for c in codes:
        yield from c.walk()


def import_qdc(
    db: Database, path: Path, *, move_to: str | None = None, delete_codings: bool = False, paths: bool = False
) -> LoadReport:
    """Make a REFI-QDA Codebook (.qdc) the project's codebook, like `codebook load` does with YAML. One transaction.

    With PATHS, '/' in a code's name separates levels (Taguette's flat list of tags): "A/B" is B under A."""
    data = read_file(path, move_to=move_to, delete_codings=delete_codings)
    root = xml.parse(data, path=path, root="CodeBook")
    notes: list[str] = []
    codes = read_codes(xml.kid(root, "Codes"), path=path, notes=notes, paths=paths)
    if not codes:
        raise InputError("the codebook has no codes", path=path)
    if paths:
        codes, made = nest(codes, folder_for(db), path=path)
        notes.append(nested_note(made, "code names", "code"))
    return store_codes(db, codes, path, notes, move_to=move_to, delete_codings=delete_codings)


def read_file(path: Path, *, move_to: str | None, delete_codings: bool) -> bytes:
    """A codebook file's bytes, once the options are known to agree."""
    if move_to and delete_codings:
        raise UsageError("choose either --move-to or --delete-codings")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"codebook file is over {MAX_BYTES // 1_048_576} MB", path=path)
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", path=path) from e


def store_codes(
    db: Database, codes: list[RefiCode], path: Path, notes: list[str], *, move_to: str | None, delete_codings: bool
) -> LoadReport:
    with transaction(db):
        report = store(
            db, to_spec(db, codes, name=path.stem, source=str(path)), move_to=move_to, delete_codings=delete_codings
        )
    report.notes = notes
    return report
