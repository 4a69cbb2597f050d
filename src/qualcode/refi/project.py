"""REFI-QDA projects (.qdpx): the whole project out for MAXQDA, ATLAS.ti, NVivo or QualCoder, and such files in.

Export writes project.qde and one UTF-8 text per interview, exactly the stored text, so every coding's offsets
(code points, end exclusive) stand as they are. GUIDs come from the database, or are derived from a name or a stored
GUID, so exporting twice gives the same file.

Import reads the archive in memory (see archive.py), checks the whole file before writing (qde.py), then writes
everything in one transaction: sources become interviews whose text is the source text (turns are found in it, see
text.py), users become coders, cases become participants, selections become codings with origin 'refi'.
"""

from __future__ import annotations

import bisect
import hashlib
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from qualcode.codebook.store import store as store_codebook
from qualcode.codebook.tree import CodeTree
from qualcode.codebook.tree import settings as codebook_settings
from qualcode.coding.codings import TurnRef, _insert, new_batch
from qualcode.errors import ConflictError, InputError
from qualcode.export.redact import IDENTITY, Redactor
from qualcode.ingest import importer
from qualcode.ingest.participants import NOT_RECORDED, normalise_gender
from qualcode.ingest.transcripts import Metadata, Participant, Transcript, Turn
from qualcode.output.files import replacing
from qualcode.refi import qde, schemas, xml
from qualcode.refi import text as textmod
from qualcode.refi.archive import Archive
from qualcode.refi.codebook import add_codes, to_spec
from qualcode.refi.xml import NS_PROJECT
from qualcode.store.db import db_file, now, project_value, transaction
from qualcode.store.queries import require_coders

Redact = Redactor | Callable[[str], str]
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same project exports to the same bytes
QUOTE_NAME = 100  # characters of the quote shown as a selection's name
# GUIDs qualcode derives (variables; codings and notes from a coding's GUID) are the same in every export.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:qualcode:refi-qda")


# --- export ----------------------------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    path: str
    sources: int = 0
    codes: int = 0
    codings: int = 0
    users: int = 0
    cases: int = 0
    no_code: int = 0  # "no code" decisions: REFI-QDA cannot say "read, nothing applies"
    orphaned: int = 0  # codings that lost their place in an edited transcript


def export_qdpx(db: Database, path: Path, *, coder: str | None = None, redact: Redact | None = None) -> ExportReport:
    """Write the project as a REFI-QDA 1.0 .qdpx archive (only CODER's codings, if given).

    REDACT, when given, is applied to every text about participants that leaves the database: transcripts, quotes,
    memos, participant and interview ids (the source names), titles, attribute values and speaker labels. A
    Redactor's pseudonyms name participants and interviews; a plain function only rewrites the text.
    Transcripts are redacted piece by piece between coding boundaries, so offsets are recomputed exactly whatever the
    replacements' lengths; a name that straddles a boundary is seen in two pieces.
    """
    report = ExportReport(path=str(path))
    qde_text, members = _build(db, path.stem, report, coder=coder, redact=redact or IDENTITY)
    schemas.validate("Project.xsd", qde_text.encode())
    _write_zip(path, [("project.qde", qde_text.encode()), *members], project=db_file(db))
    return report


def _build(db: Database, name: str, report: ExportReport, *, coder: str | None, redact: Redact) -> tuple[str, list]:
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
            "origin": f"qualcode {__version__}",
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
    report.cases = _cases(db, root, variables, redact)
    notes: list[tuple[str, dict]] = []
    members = _sources(db, root, variables, users, coder, redact, derived, notes, report)
    if notes:
        el = xml.element(root, "Notes")
        for guid, c in notes:
            note = xml.element(
                el,
                "Note",
                {
                    "guid": guid,
                    "name": "Memo",
                    "creatingUser": users[c["coder"]],
                    "creationDateTime": xml.datetime_or_none(c["created_at"]),
                },
            )
            xml.element(note, "PlainTextContent", text=redact(c["memo"]))
    return xml.serialise(root), members


def _variables(db: Database, root, derived) -> dict[str, str]:
    """Variable name → GUID: gender, every participant and interview attribute, and each person's speaker label."""
    names = {
        r[0] for r in db.execute("SELECT name FROM participant_attributes UNION SELECT name FROM interview_attributes")
    }
    names.discard("gender")
    if _labels(db):
        names.add(qde.SPEAKER_VARIABLE)
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


def _cases(db: Database, root, variables: dict[str, str], redact: Redact) -> int:
    people = list(db.execute("SELECT id, gender, guid FROM participants ORDER BY id"))
    if not people:
        return 0
    attrs = defaultdict(dict)
    for pid, n, v in db.execute("SELECT participant_id, name, value FROM participant_attributes ORDER BY name"):
        attrs[pid][n] = v
    sources = defaultdict(list)
    for pid, guid in db.execute("""SELECT ip.participant_id, i.guid FROM interview_participants ip
                                   JOIN interviews i ON i.id = ip.interview_id ORDER BY i.id"""):
        sources[pid].append(guid)
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
    return len(people)


def _sources(db: Database, root, variables, users, coder, redact, derived, notes, report) -> list:
    sql = """SELECT c.guid, c.interview_id, c.start, c.end, c.quote, c.memo, c.created_at, c.coder, c.status,
                    k.guid AS code FROM live_codings c LEFT JOIN codes k ON k.id = c.code_id
             WHERE 1""" + (" AND c.coder = ?" if coder else "")
    codings = defaultdict(list)
    for c in db.query(sql + " ORDER BY c.interview_id, c.start, c.end, c.id", [coder] if coder else []):
        if c["code"] is None:
            report.no_code += 1
        elif c["status"] != "ok":
            report.orphaned += 1
        else:
            codings[c["interview_id"]].append(c)
    attrs = defaultdict(dict)
    for iid, n, v in db.execute("SELECT interview_id, name, value FROM interview_attributes ORDER BY name"):
        attrs[iid][n] = v
    members = []
    interviews = list(db.query("SELECT id, title, text, guid, imported_at FROM interviews ORDER BY id"))
    el = xml.element(root, "Sources") if interviews else None
    for i in interviews:
        text, at = _redacted(i["text"], codings[i["id"]], redact)
        members.append((f"sources/{i['guid']}.txt", text.encode("utf-8")))
        src = xml.element(
            el,
            "TextSource",
            {
                "guid": i["guid"],
                "name": redact(getattr(redact, "interview", str)(i["id"])),
                "plainTextPath": f"internal://{i['guid']}.txt",
                "creationDateTime": xml.datetime_or_none(i["imported_at"]),
            },
        )
        if i["title"]:
            xml.element(src, "Description", text=redact(i["title"]))
        for c in codings[i["id"]]:
            quote = " ".join(redact(c["quote"]).split())
            sel = xml.element(
                src,
                "PlainTextSelection",
                {
                    "guid": c["guid"],
                    "name": quote if len(quote) <= QUOTE_NAME else quote[: QUOTE_NAME - 1] + "…",
                    "startPosition": at[c["start"]],
                    "endPosition": at[c["end"]],
                    "creatingUser": users[c["coder"]],
                    "creationDateTime": xml.datetime_or_none(c["created_at"]),
                },
            )
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
                notes.append((derived("note", c["guid"]), c))
                xml.element(sel, "NoteRef", {"targetGUID": notes[-1][0]})
            report.codings += 1
        for n, v in attrs[i["id"]].items():
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
    with replacing(path, project=project) as tmp, zipfile.ZipFile(tmp or path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)


# --- import ----------------------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    file: str
    origin: str = ""
    sources: int = 0
    sources_present: int = 0  # same GUID and text already in the project
    codes: int = 0  # codes in the file
    codes_added: int = 0
    codings: int = 0
    codings_present: int = 0
    users: int = 0
    cases: int = 0
    converted: int = 0  # selections whose UTF-16 offsets were converted to code points
    notes: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)  # interviews whose text has no speaker labels


def import_qdpx(db: Database, path: Path) -> ImportReport:
    """Import a REFI-QDA project into this one (new or not), in one transaction. The file is checked first.

    GUIDs are compared as qualcode stores them, upper case: every GUID read from a file is normalised so.
    """
    with Archive(path) as archive:
        project = qde.read(archive, path)
    report = ImportReport(
        file=str(path),
        origin=project.origin,
        users=len(project.users),
        codes=sum(1 for _ in _walk(project.codes)),
        converted=project.converted,
        notes=list(project.notes),
    )
    if project.empty:
        report.notes.append(f"{project.empty} empty selection(s) left out")
    with transaction(db):
        code_ids = _codes(db, project, path, report)
        coders = _users(db, project)
        people = _people(db, project, path, report)
        batches: dict[str, int] = {}
        for source in project.sources:
            _source(db, project, source, path, code_ids, coders, people, batches, report)
    if report.unlabelled:
        report.notes.append(
            f"{len(report.unlabelled)} source(s) have no speaker labels, so each paragraph is a turn of one speaker "
            f"'Speaker' (participant '<interview>:Speaker', gender not recorded): {', '.join(report.unlabelled)}"
        )
    return report


def _walk(codes):
    for c in codes:
        yield from c.walk()


def _codes(db: Database, project: qde.Project, path: Path, report: ImportReport) -> dict[str, int]:
    """File code GUID → code id. A project without a codebook takes the file's; one with a codebook keeps it."""
    used = {c.code: (s, sel) for s in project.sources for sel in s.selections for c in sel.codings}
    in_file = dict(_walk(project.codes))
    by_guid = {c.guid: p for p, c in in_file.items()}
    stored = CodeTree.load(db).by_guid()
    for guid, (s, sel) in used.items():
        if guid not in by_guid and guid not in stored:
            raise InputError(
                f"a <Coding> in <PlainTextSelection guid={sel.guid!r}> of source {s.name!r} refers to "
                f"code {guid}, which is not in the file's <CodeBook>",
                path=path,
            )
    if codebook_settings(db) is None:
        if project.codes:
            load = store_codebook(db, to_spec(db, project.codes, name=project.name, source=str(path)))
            report.codes_added = len(load.added)
        return {g: c.id for g, c in CodeTree.load(db).by_guid().items()}
    by_path = {c.path.casefold(): c for c in stored.values()}
    ids = {g: c.id for g, c in stored.items()}
    unknown = []
    for p, c in in_file.items():
        row = stored.get(c.guid) or by_path.get(p.casefold())
        if row:
            ids[c.guid] = row.id
        else:
            unknown.append(p)
    blocking = sorted(by_guid[g] for g in used if g not in ids)
    if blocking:
        raise ConflictError(
            f"codes with codings in the file are not in the project's codebook: {', '.join(blocking)}; add them "
            "to the codebook first (codebook load or codebook import), then import again",
            path=path,
        )
    if unknown:
        report.notes.append(
            f"{len(unknown)} code(s) in the file are not in the project's codebook and no coding "
            f"uses them; not imported: {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}"
        )
    return ids


def _users(db: Database, project: qde.Project) -> dict[str, str]:
    """User GUID → coder name. A known GUID is that coder; a known name is that person; else a new coder."""
    out = {}
    for guid, name in project.users:
        row = db.execute("SELECT name FROM coders WHERE guid = ?", [guid]).fetchone()
        if not row and not db.execute("SELECT 1 FROM coders WHERE name = ?", [name]).fetchone():
            db.execute("INSERT INTO coders (name, guid, created_at) VALUES (?, ?, ?)", [name, guid, now()])
        out[guid] = row[0] if row else name
    return out


def _coder(db: Database, project: qde.Project, coders: dict[str, str], user: str | None) -> str:
    guid = user or project.creator or (project.users[0][0] if len(project.users) == 1 else None)
    if guid is None:
        name = "unknown"
    elif guid in coders:
        return coders[guid]
    else:
        name = guid  # a user the file does not list: known only by its GUID
    exists = db.execute("SELECT 1 FROM coders WHERE name = ?", [name]).fetchone()
    if not exists:
        db.execute(
            "INSERT INTO coders (name, guid, created_at) VALUES (?, ?, ?)",
            [name, guid if guid and not _guid_used(db, guid) else str(uuid.uuid4()).upper(), now()],
        )
    if guid:
        coders[guid] = name
    return name


def _guid_used(db: Database, guid: str) -> bool:
    return db.execute("SELECT 1 FROM coders WHERE guid = ?", [guid]).fetchone() is not None


@dataclass
class _Person:
    guid: str
    gender: str
    attributes: dict[str, str]
    labels: list[str]


def _people(db: Database, project: qde.Project, path: Path, report: ImportReport) -> dict[str, _Person]:
    """Named cases become participants (id = case name); an unnamed case with one source describes that source."""
    people: dict[str, _Person] = {}
    sources = {s.guid: s for s in project.sources}
    for case in project.cases:
        values = {k: v for k, v in case.values.items() if v}
        if case.name is None:
            if len(case.sources) == 1:
                sources[case.sources[0]].attributes.update(values)
            else:
                report.notes.append(f"a case without a name (GUID {case.guid}) was not imported")
            continue
        if case.name in people:
            raise InputError(f"two cases are named {case.name!r}", path=path)
        gender = next((v for k, v in values.items() if k.casefold() == "gender"), None)
        labels = values.pop(qde.SPEAKER_VARIABLE, "")
        attrs = {k: v for k, v in values.items() if k.casefold() != "gender"}
        people[case.name] = _Person(
            case.guid, normalise_gender(gender), attrs, [x.strip() for x in labels.split(" | ") if x.strip()]
        )
    plan = importer.Plan(
        {}, {pid: {"name": None, "gender": p.gender, "attributes": p.attributes} for pid, p in people.items()}, {}, []
    )
    importer.check_participants(db, plan, "", path)
    for pid, p in people.items():
        if not db.execute("SELECT 1 FROM participants WHERE id = ?", [pid]).fetchone():
            taken = db.execute("SELECT 1 FROM participants WHERE guid = ?", [p.guid]).fetchone()
            db.execute(
                "INSERT INTO participants (id, gender, guid) VALUES (?, ?, ?)",
                [pid, p.gender, str(uuid.uuid4()).upper() if taken else p.guid],
            )
        elif p.gender != NOT_RECORDED:
            db.execute("UPDATE participants SET gender = ? WHERE id = ?", [p.gender, pid])
        db["participant_attributes"].upsert_all(
            [{"participant_id": pid, "name": k, "value": v} for k, v in p.attributes.items()],
            pk=("participant_id", "name"),
        )
    report.cases = len(people)
    return people


def _source(
    db: Database,
    project: qde.Project,
    source: qde.Source,
    path: Path,
    code_ids: dict[str, int],
    coders: dict[str, str],
    people: dict[str, _Person],
    batches: dict[str, int],
    report: ImportReport,
) -> None:
    row = db.execute("SELECT id, text FROM interviews WHERE guid = ?", [source.guid]).fetchone()
    if row:
        if row[1] != source.text:
            raise ConflictError(
                f"source {source.name!r} (GUID {source.guid}) is already in the project as "
                f"interview {row[0]}, with a different text",
                path=path,
            )
        iid = row[0]
        report.sources_present += 1
        regions = None
    elif not source.text.strip():
        report.notes.append(f"source {source.name!r} has no text: not imported")
        return
    else:
        iid, regions = _new_interview(db, project, source, path, people, report)
    turns = [
        TurnRef(*r)
        for r in db.execute(
            "SELECT id, interview_id, idx, start, end, text FROM turns WHERE interview_id = ? ORDER BY idx", [iid]
        )
    ]
    regions = regions or [t.start for t in turns]
    for sel in source.selections:
        if not turns:
            raise InputError(f"source {source.name!r} has selections but interview {iid} has no turns", path=path)
        i = max(0, bisect.bisect_right(regions, sel.start) - 1)
        for c in sel.codings:
            if db.execute("SELECT 1 FROM codings WHERE guid = ?", [c.guid]).fetchone():
                report.codings_present += 1
                continue
            coder = _coder(db, project, coders, c.user)
            if coder not in batches:
                batches[coder] = new_batch(db, coder, "import", description=f"import-qdpx {path.name}")
            added = _insert(
                db,
                turns[i],
                code_ids[c.code],
                coder,
                sel.start,
                sel.end,
                memo=c.memo,
                origin="refi",
                batch_id=batches[coder],
                session_id=None,
                guid=c.guid,
                created_at=c.created,
            )
            if added is None:
                report.codings_present += 1
            else:
                report.codings += 1


def _new_interview(
    db: Database, project: qde.Project, source: qde.Source, path: Path, people: dict[str, _Person], report: ImportReport
) -> tuple[str, list[int]]:
    iid, n = source.name, 2
    while db.execute("SELECT 1 FROM interviews WHERE id = ?", [iid]).fetchone():
        iid, n = f"{source.name}-{n}", n + 1
    if iid != source.name:
        report.notes.append(f"source {source.name!r} is interview {iid} (the id was taken)")
    segments, notes = textmod.segments(source.text)
    report.notes.extend(f"{iid}: {note}" for note in notes)
    cast = [pid for pid, p in people.items() if source.guid in _case_sources(project, p.guid)]
    meta = Metadata(
        participants=[
            Participant(id=pid, speaker=label, gender=people[pid].gender, attributes=people[pid].attributes)
            for pid in cast
            for label in [pid, *people[pid].labels]
        ]
    )
    options = importer.ImportOptions()
    if len(cast) == 1 and {s.label for s in segments} == {"Speaker"}:
        options.speaker_map = {"Speaker": cast[0]}  # unlabelled text and one person: that person speaks
    turns = [Turn(label=s.label, text=source.text[s.start : s.end]) for s in segments]
    transcript = Transcript(path=str(path), format="refi", turns=turns, meta=meta)
    plan = importer.plan_speakers(transcript, iid, options)
    if not options.speaker_map and {s.label for s in segments} == {"Speaker"}:
        report.unlabelled.append(iid)
    else:
        report.notes.extend(f"{iid}: {note}" for note in plan.notes)
    importer.check_participants(db, plan, iid, path)
    db.execute(
        """INSERT INTO interviews (id, title, language, source_file, format, source_hash, text_hash, text,
           imported_at, guid) VALUES (?, ?, 'en', ?, 'refi', ?, ?, ?, ?, ?)""",
        [
            iid,
            source.description,
            path.name,
            hashlib.sha256(source.raw).hexdigest(),
            hashlib.sha256(source.text.encode()).hexdigest(),
            source.text,
            now(),
            source.guid,
        ],
    )
    db["interview_attributes"].insert_all(
        [{"interview_id": iid, "name": k, "value": v} for k, v in source.attributes.items()]
    )
    speaker_ids = importer.insert_people(db, plan, iid)
    importer.insert_turns(db, iid, "en", turns, [(s.start, s.end) for s in segments], speaker_ids)
    report.sources += 1
    return iid, [s.region for s in segments]


def _case_sources(project: qde.Project, guid: str) -> list[str]:
    return next((c.sources for c in project.cases if c.guid == guid), [])
