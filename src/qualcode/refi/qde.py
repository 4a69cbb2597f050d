"""Reading a REFI-QDA project (project.qde and its sources) into plain data, checking every reference.

Nothing here touches the database: a file that is broken, refers to things it does not contain, or has offsets
outside its texts fails before the import writes anything.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import InputError
from qualcode.refi import text as textmod
from qualcode.refi import xml
from qualcode.refi.archive import Archive
from qualcode.refi.codebook import RefiCode, read_codes

SPEAKER_VARIABLE = "speaker label"  # written by qualcode: the label a case's person has in the transcripts
LANGUAGE_VARIABLE = "language"  # written by qualcode on every source: its language code (en, fr, es)
KIND_VARIABLE = "kind"  # written by qualcode on a survey ("survey"): its answers are selections its respondents own
# A "no code" decision (a coder read the passage and no code applies) is a selection without a coding whose note is a
# member of a set named "No code: CODER"; the note's first paragraph says so, the rest is the decision's memo.
NO_CODE = "No code"
OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


@dataclass
class Coding:
    guid: str  # the coding's GUID in qualcode: the selection's when it carries one coding, else the Coding's
    code: str | None  # None: a "no code" decision
    user: str | None
    created: str | None
    memo: str | None


@dataclass
class Selection:
    guid: str
    start: int  # code points in the normalised text
    end: int
    codings: list[Coding]


@dataclass
class Unit:
    """A selection with no coding: qualcode writes one per survey answer, its respondent's case pointing at it
    (SelectionRef) and its question as the description."""

    guid: str
    start: int
    end: int
    description: str | None


@dataclass
class Source:
    guid: str
    name: str
    description: str | None
    text: str
    raw: bytes
    selections: list[Selection]
    attributes: dict[str, str]
    units: list[Unit] = field(default_factory=list)


@dataclass
class Case:
    guid: str
    name: str | None
    values: dict[str, str]
    sources: list[str]
    selections: list[str] = field(default_factory=list)  # units (or coded selections) that are this case's


@dataclass
class Project:
    name: str
    origin: str
    creator: str | None  # the project's creatingUserGUID: who made codings that name no user
    users: list[tuple[str, str]]  # (guid, name)
    codes: list[RefiCode]
    cases: list[Case]
    sources: list[Source]
    notes: list[str] = field(default_factory=list)
    converted: int = 0  # selections whose offsets were UTF-16 code units, converted to code points
    empty: int = 0  # zero-length selections left out


def read(archive: Archive, path: Path) -> Project:
    member = archive.find("project.qde")
    if member is None:
        raise InputError("no project.qde in the archive", path=path)
    root = xml.parse(archive.read(member), path=f"{path}:project.qde", root="Project")
    where = f"{path}:project.qde"
    project = Project(
        name=root.get("name") or path.stem,
        origin=root.get("origin") or "",
        creator=xml.optional_guid(root.get("creatingUserGUID")),
        users=[],
        codes=[],
        cases=[],
        sources=[],
    )
    users = xml.kid(root, "Users")
    for el in xml.kids(users, "User") if users is not None else []:
        guid = xml.guid(el.get("guid"), "a <User>", path=where)
        project.users.append((guid, (el.get("name") or "").strip() or guid))
    codebook = xml.kid(root, "CodeBook")
    project.codes = read_codes(
        xml.kid(codebook, "Codes") if codebook is not None else None, path=where, notes=project.notes
    )
    variables = _variables(root, where)
    notes = _notes(root, archive, where)
    links = _links(root, notes)
    decisions, other_sets = _no_code(root, notes, where)
    sources = xml.kid(root, "Sources")
    skipped: Counter = Counter()
    others: set[str] = set()
    for el in list(sources) if sources is not None else []:
        kind = xml.local(el.tag) if isinstance(el.tag, str) else ""
        if kind == "TextSource":
            source = _source(el, project, archive, variables, notes, links, decisions, where)
            if any(s.guid == source.guid for s in project.sources):
                raise InputError(f"two sources have the GUID {source.guid}", path=where)
            project.sources.append(source)
        elif kind in OTHER_SOURCES:
            skipped[kind] += 1
            others.add(xml.guid(el.get("guid"), f"<{kind} name={el.get('name')!r}>", path=where))
    seen: dict[str, str] = {}
    for source in project.sources:
        for sel in source.selections:
            for c in sel.codings:
                if c.guid in seen:
                    raise InputError(
                        f"GUID {c.guid} is used twice, in {seen[c.guid]} and in source {source.name!r}", path=where
                    )
                seen[c.guid] = f"source {source.name!r}"
    if skipped:
        listing = ", ".join(f"{n} {k}" for k, n in sorted(skipped.items()))
        project.notes.append(f"skipped {listing}: qualcode imports text sources only")
    known = {s.guid for s in project.sources}
    parts = {u.guid for s in project.sources for u in [*s.units, *s.selections]}
    cases = xml.kid(root, "Cases")
    for el in xml.kids(cases, "Case") if cases is not None else []:
        project.cases.append(_case(el, variables, known, others, parts, where))
    if other_sets:
        project.notes.append(f"{other_sets} sets not imported: qualcode has no sets")
    return project


def _no_code(root: ET.Element, notes: dict[str, str], where: str) -> tuple[set[str], int]:
    """(GUIDs of the notes that mark "no code" decisions, how many other sets there are). Each marking note's text
    becomes what follows its first paragraph, the decision's memo."""
    marks: set[str] = set()
    others = 0
    sets = xml.kid(root, "Sets")
    for el in xml.kids(sets, "Set") if sets is not None else []:
        if not (el.get("name") or "").strip().casefold().startswith(f"{NO_CODE.casefold()}:"):
            others += 1
            continue
        for ref in xml.kids(el, "MemberNote"):
            guid = xml.guid(ref.get("targetGUID"), f"a <MemberNote> in <Set name={el.get('name')!r}>", path=where)
            if guid in notes:
                marks.add(guid)
    for guid in marks:
        notes[guid] = notes[guid].partition("\n\n")[2].strip()
    return marks, others


def _variables(root: ET.Element, where: str) -> dict[str, str]:
    out = {}
    variables = xml.kid(root, "Variables")
    for el in xml.kids(variables, "Variable") if variables is not None else []:
        name = (el.get("name") or "").strip()
        out[xml.guid(el.get("guid"), f"<Variable name={name!r}>", path=where)] = name
    return out


def _notes(root: ET.Element, archive: Archive, where: str) -> dict[str, str]:
    """Note GUID → its text (inline PlainTextContent, or a text file inside the archive)."""
    out = {}
    notes = xml.kid(root, "Notes")
    for el in xml.kids(notes, "Note") if notes is not None else []:
        guid = xml.guid(el.get("guid"), f"<Note name={el.get('name')!r}>", path=where)
        content = xml.kid_text(el, "PlainTextContent")
        if content is None and el.get("plainTextPath"):
            member = _member(el.get("plainTextPath"), archive)
            content = _decode(archive.read(member), member, where) if member else None
        out[guid] = (content or xml.kid_text(el, "Description") or "").strip()
    return out


def _links(root: ET.Element, notes: dict[str, str]) -> dict[str, list[str]]:
    """Selection GUID → texts of notes linked to it (NVivo links annotations instead of using NoteRef)."""
    out: dict[str, list[str]] = {}
    links = xml.kid(root, "Links")
    for el in xml.kids(links, "Link") if links is not None else []:
        a, b = xml.optional_guid(el.get("originGUID")), xml.optional_guid(el.get("targetGUID"))
        if a in notes and b and b not in notes:
            out.setdefault(b, []).append(notes[a])
        elif b in notes and a and a not in notes:
            out.setdefault(a, []).append(notes[b])
    return out


def _member(ref: str | None, archive: Archive) -> str | None:
    """The archive member an internal:// path names; sources live under sources/ (any case), some tools omit it."""
    if not ref or not ref.startswith("internal://"):
        return None
    name = ref[len("internal://") :].lstrip("/")
    return archive.find(f"sources/{name}") or archive.find(name)


def _decode(data: bytes, member: str, where: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{member} is not valid UTF-8 (byte {e.start})", path=where) from None
    if "\x00" in text:  # as for a transcript (ingest/transcripts/source.py): text with NUL is binary, refused whole
        raise InputError(f"{member} holds a NUL character at {text.index(chr(0))}: binary, not text", path=where)
    return text


def _memo(el: ET.Element, notes: dict[str, str], links: dict[str, list[str]], what: str, where: str) -> list[str]:
    texts = [t.strip()] if (t := xml.kid_text(el, "Description")) else []
    for ref in xml.kids(el, "NoteRef"):
        target = xml.guid(ref.get("targetGUID"), f"a <NoteRef> in {what}", path=where)
        if target not in notes:
            raise InputError(f"{what} has a NoteRef to {target}, which is not among the file's <Notes>", path=where)
        texts.append(notes[target])
    guid = xml.optional_guid(el.get("guid"))
    return [t for t in texts + links.get(guid or "", []) if t]


def _source(
    el: ET.Element,
    project: Project,
    archive: Archive,
    variables: dict[str, str],
    notes: dict[str, str],
    links: dict[str, list[str]],
    decisions: set[str],
    where: str,
) -> Source:
    name = (el.get("name") or "").strip()
    guid = xml.guid(el.get("guid"), f"<TextSource name={name!r}>", path=where)
    what = f"<TextSource name={name or guid!r}>"
    inline = xml.kid(el, "PlainTextContent")
    if inline is not None:
        raw = (inline.text or "").encode()
    else:
        ref = el.get("plainTextPath")
        member = _member(ref, archive)
        if member is None:
            shown = (
                f"its text {ref!r} is not in the archive"
                if ref
                else "it has neither plainTextPath nor PlainTextContent"
            )
            raise InputError(f"{what}: {shown}", path=where)
        raw = archive.read(member)
    decoded = _decode(raw, f"the text of {what}", where)
    found = []
    for s in xml.kids(el, "PlainTextSelection"):
        sguid = xml.guid(s.get("guid"), f"a <PlainTextSelection> in {what}", path=where)
        sel_what = f"<PlainTextSelection guid={sguid!r}> in {what}"
        try:
            a, b = int(s.get("startPosition", "")), int(s.get("endPosition", ""))
        except ValueError:
            raise InputError(f"{sel_what}: startPosition and endPosition must be whole numbers", path=where) from None
        found.append((s, sguid, sel_what, a, b))
    positions = _code_points(decoded, {p for *_, a, b in found for p in (a, b)}, project.origin)
    if positions:
        moved = sum(1 for *_, a, b in found if positions[a] != a or positions[b] != b)
        project.converted += moved
        why = project.origin if textmod.counts_utf16(project.origin) else "they only fit the text that way"
        project.notes.append(
            f"{name or guid!r}: offsets of {moved} selection(s) converted from UTF-16 code units to code points ({why})"
        )
    else:
        positions = {p: p for *_, a, b in found for p in (a, b)}
    if xml.kids(el, "Coding"):
        # A coding on the source itself covers all of it; its ends are code points whatever the selections use.
        found.append((el, guid, f"the source-wide coding of {what}", None, None))
    text, mapped = textmod.normalise(decoded, {*positions.values(), 0, len(decoded)})
    selections, units = [], []
    for s, sguid, sel_what, a0, b0 in found:
        a, b = (0, len(decoded)) if a0 is None else (positions[a0], positions[b0])
        if not 0 <= a <= b <= len(decoded):
            raise InputError(
                f"{sel_what}: startPosition {a0} and endPosition {b0} do not fit its text ({len(decoded)} characters)",
                path=where,
            )
        start, end = mapped[a][0], mapped[b][1]
        memo = _memo(s, notes, links, sel_what, where) if s is not el else []
        codings = []
        refs = xml.kids(s, "Coding")
        for c in refs:
            cguid = xml.guid(c.get("guid"), f"a <Coding> in {sel_what}", path=where)
            code_ref = xml.kid(c, "CodeRef")
            if code_ref is None:
                raise InputError(f"<Coding guid={cguid!r}> in {sel_what} has no CodeRef", path=where)
            code = xml.guid(code_ref.get("targetGUID"), f"the CodeRef of <Coding guid={cguid!r}>", path=where)
            user = xml.optional_guid(c.get("creatingUser")) or xml.optional_guid(s.get("creatingUser"))
            created = xml.datetime_or_none(c.get("creationDateTime")) or xml.datetime_or_none(s.get("creationDateTime"))
            texts = memo + _memo(c, notes, links, f"<Coding guid={cguid!r}>", where)
            codings.append(
                Coding(
                    guid=sguid if len(refs) == 1 and s is not el else cguid,
                    code=code,
                    user=user,
                    created=created,
                    memo="\n\n".join(texts) or None,
                )
            )
        marked = any(xml.optional_guid(r.get("targetGUID")) in decisions for r in xml.kids(s, "NoteRef"))
        if not refs and s is not el and marked:
            codings.append(
                Coding(
                    guid=sguid,
                    code=None,
                    user=xml.optional_guid(s.get("creatingUser")),
                    created=xml.datetime_or_none(s.get("creationDateTime")),
                    memo="\n\n".join(memo) or None,
                )
            )
        if end <= start:
            project.empty += 1
            continue
        if codings:
            selections.append(Selection(sguid, start, end, codings))
        elif s is not el:
            units.append(Unit(sguid, start, end, xml.kid_text(s, "Description")))
    attributes = {}
    for v in xml.kids(el, "VariableValue"):
        name_, value = _variable_value(v, variables, what, where)
        attributes[name_] = value
    return Source(
        guid=guid,
        name=name or guid,
        description=xml.kid_text(el, "Description"),
        text=text,
        raw=raw,
        selections=selections,
        attributes=attributes,
        units=units,
    )


def _code_points(text: str, positions: set[int], origin: str) -> dict[int, int] | None:
    """Position → code point, when the positions are UTF-16 code units; None when they are code points already.

    NVivo counts UTF-16 code units, which differ from code points after any emoji or other character beyond the
    Basic Multilingual Plane. Other tools' files are read the same way when their offsets only fit the text as
    UTF-16 (an end past the text's length in code points). Offsets that would split a surrogate pair are not UTF-16.
    """
    if not positions or len(text) == textmod.utf16_length(text):
        return None
    beyond = len(text) < max(positions) <= textmod.utf16_length(text)
    if not (textmod.counts_utf16(origin) or beyond):
        return None
    converted = textmod.utf16_to_code_points(text, positions)
    return converted if converted and any(converted[p] != p for p in positions) else None


def _variable_value(el: ET.Element, variables: dict[str, str], what: str, where: str) -> tuple[str, str]:
    ref = xml.kid(el, "VariableRef")
    target = xml.guid(ref.get("targetGUID") if ref is not None else None, f"a <VariableRef> in {what}", path=where)
    if target not in variables:
        raise InputError(
            f"{what} has a value for variable {target}, which is not among the file's <Variables>", path=where
        )
    value = ""
    for kind in ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue"):
        child = xml.kid(el, kind)
        if child is not None:
            value = (child.text or "").strip()
    return variables[target], value


def _case(
    el: ET.Element, variables: dict[str, str], known: set[str], others: set[str], parts: set[str], where: str
) -> Case:
    name = " ".join((el.get("name") or "").split()) or None
    guid = xml.guid(el.get("guid"), f"<Case name={name!r}>", path=where)
    what = f"<Case name={name or guid!r}>"
    values = dict(_variable_value(v, variables, what, where) for v in xml.kids(el, "VariableValue"))
    sources = []
    for ref in xml.kids(el, "SourceRef"):
        target = xml.guid(ref.get("targetGUID"), f"a <SourceRef> in {what}", path=where)
        if target in known:
            sources.append(target)
        elif target not in others:
            raise InputError(f"{what} has a SourceRef to {target}, which is not among the file's <Sources>", path=where)
    # A selection of a source qualcode does not read (a picture, a PDF) is passed over like the source itself.
    selections = [
        target
        for ref in xml.kids(el, "SelectionRef")
        if (target := xml.guid(ref.get("targetGUID"), f"a <SelectionRef> in {what}", path=where)) in parts
    ]
    return Case(guid=guid, name=name, values=values, sources=sources, selections=selections)
