"""A REFI-QDA project (.qdpx) in: from MAXQDA, ATLAS.ti, NVivo, QualCoder, or qualcode itself.

Import reads the archive in memory (see archive.py), checks the whole file before writing (qde.py), then writes
everything in one transaction: sources become interviews whose text is the source text (units are found in it, see
text.py), users become coders, cases become participants, selections become codings with origin 'refi', and the
selections qualcode marks as "no code" decisions (qde.NO_CODE) become such decisions again.
"""

from __future__ import annotations

import bisect
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from qualcode.codebook.store import store as store_codebook
from qualcode.codebook.tree import CodeTree
from qualcode.codebook.tree import settings as codebook_settings
from qualcode.coding.codings import ExclusiveClash, TurnRef, insert_coding, new_batch
from qualcode.errors import ConflictError, InputError
from qualcode.ingest import importer
from qualcode.ingest.participants import NOT_RECORDED, normalise_gender
from qualcode.ingest.transcripts import EXTENSIONS, Metadata, Participant, Transcript, Turn
from qualcode.refi import qde
from qualcode.refi import text as textmod
from qualcode.refi.archive import Archive
from qualcode.refi.codebook import to_spec
from qualcode.store.db import now, transaction
from qualcode.store.queries import PERSON_KIND
from qualcode.text import language

# Peers name a source after its file ("interview.txt"): the extension is no part of the interview's id.
DOCUMENT_EXTENSIONS = {*EXTENSIONS, ".doc", ".odt", ".rtf", ".pdf", ".htm", ".html"}


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
    no_code: int = 0  # "no code" decisions
    users: int = 0
    cases: int = 0
    converted: int = 0  # selections whose UTF-16 offsets were converted to code points
    notes: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # sources imported as documents (no speaker labels used)
    split: int = 0  # selections across two units (speakers' turns), stored as one coding per unit
    not_imported: list[str] = field(default_factory=list)  # codings refused, each with the reason


def import_qdpx(db: Database, path: Path, *, speakers: bool = False) -> ImportReport:
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
            _source(db, project, source, path, code_ids, coders, people, batches, report, speakers)
    if report.documents:
        report.notes.append(
            f"{len(report.documents)} source(s) imported as documents, their paragraphs the units, of no recorded "
            f"speaker (--speakers reads 'Name:' lines as speakers): {', '.join(report.documents)}"
        )
    if report.split:
        report.notes.append(f"{report.split} selection(s) ran across two units: stored as one coding per unit")
    return report


def _walk(codes):
    for c in codes:
        yield from c.walk()


def _codes(db: Database, project: qde.Project, path: Path, report: ImportReport) -> dict[str, int]:
    """File code GUID → code id. A project without a codebook takes the file's; one with a codebook keeps it."""
    used = {c.code: (s, sel) for s in project.sources for sel in s.selections for c in sel.codings if c.code}
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
            # REFI-QDA's <Code> has a name, a colour and a description, nothing more: a codebook taken from a file
            # has no patterns, thresholds or exclusive scales, and the audit's exclusive-parent rows depend on them.
            report.notes.append(
                "the codebook was taken from the file: REFI-QDA carries no patterns, thresholds or exclusive "
                "scales, so it has none; `codebook load` of the .yml codebook adds them (codes matched by GUID)"
            )
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
    infer: bool,
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
    elif not source.text.strip():
        report.notes.append(f"source {source.name!r} has no text: not imported")
        return
    else:
        iid = _new_interview(db, project, source, path, people, report, infer)
    turns = [
        TurnRef(*r)
        for r in db.execute(
            "SELECT id, interview_id, idx, start, end, text FROM turns WHERE interview_id = ? ORDER BY idx", [iid]
        )
    ]
    starts = [t.start for t in turns]
    found = []
    for sel in source.selections:
        pieces = _pieces(turns, starts, sel.start, sel.end)
        if not pieces:
            report.not_imported.append(
                f"selection {sel.guid} of {source.name!r} ({sel.start}-{sel.end}) covers only a speaker label or "
                "white space"
            )
            continue
        if len(pieces) > 1:
            report.split += 1
        found.extend((c, pieces) for c in sel.codings)
    # Codings before "no code" decisions: a turn its coder gave a code is not also "no code".
    for c, pieces in sorted(found, key=lambda f: f[0].code is None):
        if db.execute("SELECT 1 FROM codings WHERE guid = ?", [c.guid]).fetchone():
            report.codings_present += 1
            continue
        coder = _coder(db, project, coders, c.user)
        if coder not in batches:
            batches[coder] = new_batch(db, coder, "import", description=f"import-qdpx {path.name}")
        for n, (t, a, b) in enumerate(pieces):
            if c.code is None and _has_codes(db, t, coder):
                report.not_imported.append(f"'no code' decision {c.guid}: {coder} gave turn {t.idx} a code")
                continue
            # A selection across two speakers' turns is one coding per turn: each keeps who said it.
            guid = c.guid if n == 0 else str(uuid.uuid5(uuid.UUID(c.guid.strip("{}")), f"part {n}")).upper()
            try:
                added = insert_coding(
                    db,
                    t,
                    code_ids[c.code] if c.code else None,
                    coder,
                    a,
                    b,
                    memo=c.memo,
                    origin="refi",
                    batch_id=batches[coder],
                    session_id=None,
                    guid=guid,
                    created_at=c.created,
                )
            except ExclusiveClash as e:  # the file's coding is listed, never stored beside the option kept
                report.not_imported.append(f"coding {c.guid}: {e}")
                continue
            if added is None:
                report.codings_present += 1
            elif c.code is None:
                report.no_code += 1
            else:
                report.codings += 1


def _has_codes(db: Database, t: TurnRef, coder: str) -> bool:
    sql = "SELECT 1 FROM live_codings WHERE turn_id = ? AND coder = ? AND code_id IS NOT NULL"
    return db.execute(sql, [t.id, coder]).fetchone() is not None


def _pieces(turns: list[TurnRef], starts: list[int], a: int, b: int) -> list[tuple[TurnRef, int, int]]:
    """The parts of [a, b) that fall in turns, each clipped to its turn."""
    i = max(0, bisect.bisect_right(starts, a) - 1)
    out = []
    while i < len(turns) and turns[i].start < b:
        t = turns[i]
        lo, hi = max(a, t.start), min(b, t.end)
        if lo < hi or (a == b and t.start <= a <= t.end):
            out.append((t, lo, max(lo, hi)))
        i += 1
    return out


def _new_interview(
    db: Database,
    project: qde.Project,
    source: qde.Source,
    path: Path,
    people: dict[str, _Person],
    report: ImportReport,
    infer: bool,
) -> str:
    base = _interview_id(source.name, project.origin)
    iid, n = base, 2
    while db.execute("SELECT 1 FROM interviews WHERE id = ?", [iid]).fetchone():
        iid, n = f"{base}-{n}", n + 1
    if iid != base:
        report.notes.append(f"source {source.name!r} is interview {iid} (the id was taken)")
    cast = [pid for pid, p in people.items() if source.guid in _case_sources(project, p.guid)]
    answers = _answers(source, project, people, cast) if source.attributes.get(qde.KIND_VARIABLE) == "survey" else []
    if answers:
        segments = [textmod.Segment((people[pid].labels or [pid])[0], u.start, u.end) for pid, u in answers]
    else:
        declared = [label for pid in cast for label in people[pid].labels]
        segments, notes = textmod.segments(
            source.text, [(s.start, s.end) for s in source.selections], declared=declared, infer=infer
        )
        report.notes.extend(f"{iid}: {note}" for note in notes)
    attributes = {k: v for k, v in source.attributes.items() if not (answers and k == qde.KIND_VARIABLE)}
    declared_language = attributes.pop(qde.LANGUAGE_VARIABLE, None)
    meta = Metadata(
        participants=[
            Participant(id=pid, speaker=label, gender=people[pid].gender, attributes=people[pid].attributes)
            for pid in cast
            for label in [pid, *people[pid].labels]
        ],
        # qualcode writes each source's language as a variable; a peer's value that is no language code (a
        # MAXQDA variable "language" holding "English") stays an attribute, and the text tells the language.
        language=declared_language if declared_language and language.known(declared_language) else None,
    )
    if declared_language and meta.language is None:
        attributes[qde.LANGUAGE_VARIABLE] = declared_language
    options = importer.ImportOptions()
    unattributed = {s.label for s in segments} == {textmod.NOT_RECORDED}
    if len(cast) == 1 and unattributed:
        options.speaker_map = {textmod.NOT_RECORDED: cast[0]}  # unlabelled text and one person: that person speaks
    kind = "survey" if answers else "document" if unattributed and len(cast) != 1 else "interview"
    contexts = [u.description for _, u in answers] or [None] * len(segments)
    turns = [
        Turn(label=s.label, text=source.text[s.start : s.end], context=context)
        for s, context in zip(segments, contexts, strict=True)
    ]
    # A document's kind is set on its rows below; its speakers are planned as an interview's.
    transcript = Transcript(
        path=str(path), format="refi", turns=turns, meta=meta, kind=kind if answers else "interview"
    )
    said: list[str] = []
    importer.settle_language(transcript, said, f"it with a source variable {qde.LANGUAGE_VARIABLE!r} (en, fr, es…)")
    report.notes.extend(f"{iid}: {note}" for note in said)
    plan = importer.plan_speakers(transcript, iid, options)
    if kind == "document":
        report.documents.append(iid)
    elif kind == "survey":
        n = len({pid for pid, _ in answers})
        report.notes.append(f"{iid}: a survey, {len(answers)} answers of {n} respondents")
    else:
        report.notes.extend(f"{iid}: {note}" for note in plan.notes if textmod.NOT_RECORDED not in note)
    importer.check_participants(db, plan, iid, path)
    db.execute(
        """INSERT INTO interviews (id, title, language, language_detected, source_file, format, source_hash,
           text_hash, text, imported_at, guid, kind) VALUES (?, ?, ?, ?, ?, 'refi', ?, ?, ?, ?, ?, ?)""",
        [
            iid,
            source.description,
            meta.language,
            int(meta.language_detected),
            path.name,
            hashlib.sha256(source.raw).hexdigest(),
            hashlib.sha256(source.text.encode()).hexdigest(),
            source.text,
            now(),
            source.guid,
            kind,
        ],
    )
    db["interview_attributes"].insert_all([{"interview_id": iid, "name": k, "value": v} for k, v in attributes.items()])
    speaker_ids = importer.insert_people(db, plan, iid)
    # Text no label attributes is the source's own, not a person's: it is never counted among participants.
    db.execute("UPDATE participants SET kind = 'document' WHERE id = ?", [f"{iid}:{textmod.NOT_RECORDED}"])
    # A survey's people are its respondents, counted apart from the people interviewed (their cases made them
    # participants before any source was read).
    respondents = sorted({pid for pid, _ in answers})
    db.conn.executemany(
        "UPDATE participants SET kind = ? WHERE id = ?", [(PERSON_KIND["survey"], pid) for pid in respondents]
    )
    importer.insert_turns(db, iid, meta.language, turns, [(s.start, s.end) for s in segments], speaker_ids)
    report.sources += 1
    return iid


def _answers(
    source: qde.Source, project: qde.Project, people: dict[str, _Person], cast: list[str]
) -> list[tuple[str, qde.Unit]]:
    """A survey as qualcode writes it: each answer a selection its respondent's case points at (SelectionRef), in
    text order. Empty when they are not that: answers that overlap, or a coding that lies in no answer."""
    cases = {c.guid: c for c in project.cases}
    owner = {guid: pid for pid in cast if (case := cases.get(people[pid].guid)) for guid in case.selections}
    answers = sorted(((owner[u.guid], u) for u in source.units if u.guid in owner), key=lambda a: a[1].start)
    starts, ends = [u.start for _, u in answers], [u.end for _, u in answers]
    if any(b > a for b, a in zip(ends, starts[1:], strict=False)):
        return []

    def inside(s: qde.Selection) -> bool:
        k = bisect.bisect_right(starts, s.start) - 1  # the last answer starting at or before the selection
        return k >= 0 and s.end <= ends[k]

    return answers if all(inside(s) for s in source.selections) else []


def _interview_id(name: str, origin: str) -> str:
    """NAME without a document's file extension; qualcode's own sources are named by their ids, kept as they are."""
    stem, dot, ext = name.rpartition(".")
    if origin.startswith("qualcode") or not (dot and stem.strip()) or f".{ext.casefold()}" not in DOCUMENT_EXTENSIONS:
        return name
    return stem.strip()


def _case_sources(project: qde.Project, guid: str) -> list[str]:
    return next((c.sources for c in project.cases if c.guid == guid), [])
