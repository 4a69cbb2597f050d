"""Importing transcript files into a project: one transaction per file, a result per file."""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from qualcode.errors import ConflictError, InputError, QualcodeError, UsageError
from qualcode.ingest import reanchor
from qualcode.ingest.files import collect_files, sidecar_of, skipped_readmes
from qualcode.ingest.participants import NOT_RECORDED, normalise_gender
from qualcode.ingest.transcripts import Transcript, Turn, metadata, parse_file, source
from qualcode.ingest.transcripts.labels import INTERVIEWER, key
from qualcode.store.db import now, transaction
from qualcode.store.queries import PERSON_KIND
from qualcode.text import language, yamlfile

WORD = re.compile(r"\w+(?:['’]\w+)*")
ASCII_WORD = re.compile(rb"\w+(?:'\w+)*")  # the same words in ASCII text: a bytes pattern is a quarter faster


def words(text: str) -> int:
    if text.isascii():
        return ASCII_WORD.subn(b"", text.encode())[1]
    return WORD.subn("", text)[1]


@dataclass
class ImportOptions:
    encoding: str | None = None
    replace: bool = False
    speaker_map: dict[str, str] = field(default_factory=dict)  # label → participant id
    interviewers: list[str] = field(default_factory=list)  # labels to treat as interviewers
    max_bytes: int = source.MAX_BYTES
    document: bool = False  # read .txt/.md/.docx without speakers as documents
    survey: object = None  # survey.Spec: which columns of a .csv/.xlsx are the id, the questions, the attributes


@dataclass
class ImportResult:
    file: str
    interview: str | None = None
    format: str | None = None
    turns: int = 0
    speakers: int = 0
    status: str = "imported"  # imported | replaced | unchanged | failed | skipped (a read-me named among files)
    message: str = ""
    notes: list[str] = field(default_factory=list)
    reanchor: reanchor.Report | None = None  # set when a replaced interview had codings or suggestions
    labels: set[str] = field(default_factory=set)  # the speaker labels the file uses, as key() folds them

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def parse_speaker_map(values: str | list[str] | None) -> dict[str, str]:
    """'Ms Sharma=P017, Interviewer 1=EV1' → {label: id}. Several maps (the option given twice) are merged; a label
    mapped to two different ids is a usage error, never silently decided by the last one."""
    out: dict[str, str] = {}
    for text in [values] if isinstance(values, str) else values or []:
        for item in filter(None, (p.strip() for p in text.split(","))):
            label, sep, target = item.partition("=")
            label, target = label.strip(), target.strip()
            if not sep or not label or not target:
                raise UsageError(f"--speaker-map expects LABEL=ID pairs separated by commas, got {item!r}")
            if out.get(label, target) != target:
                raise UsageError(f"--speaker-map maps {label!r} twice, to {out[label]!r} and to {target!r}: choose one")
            out[label] = target
    return out


def unmatched_labels(options: ImportOptions, results: list[ImportResult]) -> list[str]:
    """The --speaker-map and --interviewer labels no file of this import uses: a typo there leaves the real speaker
    a participant with gender "not recorded", so the command says so."""
    used = set().union(*(r.labels for r in results)) if results else set()
    out = [f"--speaker-map {label!r}" for label in options.speaker_map if key(label) not in used]
    return out + [f"--interviewer {label!r}" for label in options.interviewers if key(label) not in used]


def import_paths(db: Database, paths: list[Path], options: ImportOptions | None = None) -> Iterator[ImportResult]:
    """Import every transcript under PATHS; yields one result per file as it goes (for progress bars), first those
    skipped (a read-me named among other files)."""
    options = options or ImportOptions()
    for p in skipped_readmes(paths):
        message = f"skipped {p}: a folder's read-me, not an interview; name it alone to import it"
        yield ImportResult(file=str(p), status="skipped", message=message)
    # Two files claiming one interview id are both refused, rather than whichever sorts first being imported. A first
    # pass reads every file for its id only and keeps nothing else, so memory stays that of one file at a time.
    files = collect_files(paths, tables=options.survey is not None)
    claims: dict[str, list[str]] = defaultdict(list)
    for f in files:
        iid = peek_interview_id(f, options)
        if iid is not None:
            claims[iid].append(str(f))
    group = contextlib.ExitStack()
    pending = 0
    # A large import rewrites the same index pages over and over: a bigger page cache and fewer WAL checkpoints
    # for its duration took a tenth off importing 6,400 transcripts. Restored after, so other commands keep
    # SQLite's defaults (and their memory).
    settings = {k: db.conn.execute(f"PRAGMA {k}").fetchone()[0] for k in BULK_PRAGMAS}
    for k, v in BULK_PRAGMAS.items():
        db.conn.execute(f"PRAGMA {k} = {v}")
    try:
        for f in files:
            # Files are committed in groups of about GROUP_CHARS characters of text, each file a savepoint inside: a
            # failed file still leaves no trace, but the full-text index gets one segment per group instead of one per
            # file. By size rather than time, so the same files always commit in the same groups.
            if not db.conn.in_transaction:
                group.enter_context(transaction(db))
                pending = 0
            result = ImportResult(file=str(f))
            try:
                p = prepare(f, options, result)
                if len(claims[p.iid]) > 1:
                    others = ", ".join(x for x in claims[p.iid] if x != str(p.path))
                    raise ConflictError(
                        f"duplicate interview id {p.iid}: also in {others} in this import; none of the files "
                        "claiming it is imported",
                        path=p.path,
                    )
                store(db, p, options, result)
                pending += sum(len(t.text) for t in p.transcript.turns)
            except QualcodeError as e:
                result.status, result.message = "failed", str(e)
            except sqlite3.Error:
                raise  # the project itself failed (disk full, locked): no later file would fare better
            except Exception as e:  # a file that fails for any reason fails alone: the batch goes on
                result.status = "failed"
                result.message = (
                    f"{f}: could not be imported ({type(e).__name__}: {e}); nothing of it was stored. This is a "
                    "qualcode bug: please report it with the file"
                )
            if pending >= GROUP_CHARS:
                group.close()  # commit
            yield result
    finally:
        group.close()
        for k, v in settings.items():
            db.conn.execute(f"PRAGMA {k} = {v}")


GROUP_CHARS = 250_000  # about 40,000 words: a fraction of a second, so other writers never wait long
BULK_PRAGMAS = {"cache_size": -32_000, "wal_autocheckpoint": 10_000}  # 32 MB of cache; 40 MB of WAL between checkpoints
INTERVIEW_LINE = re.compile(r"""^interview:[ \t]*(["']?)([\w.\-]+)\1[ \t]*(?:#.*)?$""", re.M)


def peek_interview_id(path: Path, options: ImportOptions) -> str | None:
    """The interview id a file will claim, cheaply: front matter or sidecar YAML only, else the file name.

    None when the file cannot be read; the import reports why when it reaches the file.
    """
    try:
        if path.suffix.lower() != ".docx":
            text = source.read_text(path, options.encoding, max_bytes=options.max_bytes)
            raw, _, _ = metadata.split_front_matter(text)
            if raw:
                # Most front matter says `interview: ID` on a line of its own; parse the YAML only when it does not.
                simple = INTERVIEW_LINE.search(raw)
                if simple and len(INTERVIEW_LINE.findall(raw)) == 1:
                    return simple.group(2)
                data = yamlfile.load(raw, path, line_offset=1)
                if isinstance(data, dict) and data.get("interview") not in (None, ""):
                    return yamlfile.scalar(data["interview"])
                return None if raw is not None else path.name.split(".")[0]
        sidecar = sidecar_of(path)
        if sidecar:
            data = yamlfile.load(source.decode(_read_sidecar(sidecar), sidecar, options.encoding), sidecar)
            if isinstance(data, dict) and data.get("interview") not in (None, ""):
                return yamlfile.scalar(data["interview"])
    except QualcodeError:
        return None
    return path.name.split(".")[0]


def _read_sidecar(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the metadata file: {e.strerror or e}", path=path) from e


@dataclass
class Prepared:
    """A file read, checked and planned, ready to be stored in one transaction."""

    path: Path
    transcript: Transcript
    iid: str
    plan: Plan
    source_hash: str


def prepare(path: Path, options: ImportOptions, result: ImportResult) -> Prepared:
    """Everything before the transaction: parse, metadata, speakers. Writes nothing."""
    transcript = parse_file(
        path, encoding=options.encoding, max_bytes=options.max_bytes, document=options.document, survey=options.survey
    )
    digest = hashlib.sha256(source.read_bytes(path, max_bytes=options.max_bytes))
    # Documents and surveys read their own metadata; a transcript may have it beside it.
    sidecar = sidecar_of(path) if transcript.format != "qualcode-md" and transcript.kind == "interview" else None
    if sidecar:
        data = _read_sidecar(sidecar)
        text = source.decode(data, sidecar, options.encoding) if data.strip() else ""
        transcript.meta = metadata.parse(yamlfile.load(text, sidecar), sidecar)
        digest.update(data)
        transcript.notes.append(f"metadata from {sidecar.name}")
    digest.update(repr((sorted(options.speaker_map.items()), sorted(options.interviewers))).encode())
    iid = transcript.meta.interview or path.name.split(".")[0]
    result.interview, result.format = iid, transcript.format
    result.notes.extend(transcript.notes)
    plan = plan_speakers(transcript, iid, options)
    result.labels = {key(turn.label) for turn in transcript.turns}
    declared_in = sidecar or (path if transcript.format == "qualcode-md" else None)
    if declared_in:
        check_declared_speak(transcript, plan, declared_in)
    result.notes.extend(plan.notes)
    result.turns, result.speakers = len(transcript.turns), len(plan.speakers)
    settle_language(transcript, result.notes)
    sentence_splitter(transcript.meta.language)  # loads spaCy now, not while holding the write lock
    return Prepared(path, transcript, iid, plan, digest.hexdigest())


def store(db: Database, p: Prepared, options: ImportOptions, result: ImportResult) -> None:
    """Store a prepared file in one transaction: nothing of it is written unless all of it is."""
    path, transcript, iid, plan, source_hash = p.path, p.transcript, p.iid, p.plan, p.source_hash
    with transaction(db):
        existing = db.execute("SELECT source_hash, source_file FROM interviews WHERE id = ?", [iid]).fetchone()
        if existing and existing[0] == source_hash:
            result.status, result.message = "unchanged", "already imported, file unchanged"
            return
        if existing:
            if not options.replace:
                raise ConflictError(
                    f"interview {iid} already exists (from {existing[1]}) with different content; "
                    "use --replace to import the new version",
                    path=path,
                )
            aside = reanchor.set_aside(db, iid)
            _clear_interview(db, iid)
            result.status = "replaced"
        check_participants(db, plan, iid, path)
        _insert(db, transcript, plan, iid, path, source_hash, replace=bool(existing))
        if existing:
            _drop_strays(db)
            report = reanchor.restore(db, aside)
            result.reanchor = report
            if report.codings or report.suggestions_dropped:
                result.message = report.summary(iid)


@dataclass
class Plan:
    speakers: dict[str, tuple[str, str]]  # label → ("participant"|"interviewer", id)
    participants: dict[str, dict]  # id → {name, gender, attributes, optional guid}
    interviewers: dict[str, str | None]  # id → name
    notes: list[str]


def plan_speakers(t: Transcript, iid: str, options: ImportOptions) -> Plan:
    """Resolve every label used in the text to a participant or an interviewer."""
    meta = t.meta
    plan = Plan({}, {}, {}, [])
    by_key: dict[str, tuple[str, str]] = {}
    kind = PERSON_KIND[t.kind]
    for p in meta.participants:
        by_key[key(p.speaker)] = ("participant", p.id)
        plan.participants[p.id] = {
            "name": p.name or (p.speaker if p.speaker != p.id else None),
            "gender": normalise_gender(p.gender),
            "attributes": p.attributes,
            "kind": kind,
        }
    for i in meta.interviewers:
        by_key[key(i.speaker)] = ("interviewer", i.id)
        plan.interviewers[i.id] = i.name
    forced = {key(x) for x in options.interviewers}
    mapped = {key(k): v for k, v in options.speaker_map.items()}
    for label in dict.fromkeys(turn.label for turn in t.turns):
        k = key(label)
        if k in mapped:
            target = mapped[k]
            if target in plan.interviewers or k in forced:
                plan.speakers[label] = ("interviewer", target)
                plan.interviewers.setdefault(target, None)
            else:
                plan.speakers[label] = ("participant", target)
                plan.participants.setdefault(target, {"name": label, "gender": NOT_RECORDED, "attributes": {}})
        elif k in by_key:
            plan.speakers[label] = by_key[k]
        elif k in forced or INTERVIEWER.match(label.strip()):
            plan.speakers[label] = ("interviewer", label)
            plan.interviewers.setdefault(label, None)
            # A guess from the label takes a speaker out of every figure, so it is said (import-qdpx has no map).
            if k not in forced:
                remedy = f"; --speaker-map '{label}=ID' makes them a participant" if t.format != "refi" else ""
                plan.notes.append(
                    f"speaker {label!r} taken as an interviewer from the label (their turns are in no figure){remedy}"
                )
        else:
            pid = f"{iid}:{label}"
            plan.speakers[label] = ("participant", pid)
            plan.participants.setdefault(pid, {"name": label, "gender": NOT_RECORDED, "attributes": {}})
            plan.notes.append(f"speaker {label!r} has no metadata: participant {pid}, gender not recorded")
    return plan


def check_declared_speak(t: Transcript, plan: Plan, declared_in: Path) -> None:
    """Every person a sidecar or front matter lists must speak. A listed label no turn uses (a typo) would be stored
    as a person who is counted in every figure by gender, while the real speaker is counted as "not recorded"."""
    speaking = set(plan.speakers.values())  # --speaker-map may give a listed id a label of the text's
    for role, people in (("interviewer", t.meta.interviewers), ("participant", t.meta.participants)):
        for person in people:
            if (role, person.id) in speaking:
                continue
            used = ", ".join(repr(label) for label in plan.speakers)
            where = "the text" if Path(t.path) == declared_in else Path(t.path).name
            raise InputError(
                f"speaker label {person.speaker!r} ({role} {person.id}) is not used in {where}; the labels used there "
                f"are {used}: correct the label, or leave out a person who does not speak",
                path=declared_in,
                line=person.line,
            )


def _clear_interview(db: Database, iid: str) -> None:
    """Remove what the new version replaces. The interview row stays: codings reference it, and it keeps its guid."""
    db.execute("DELETE FROM suggestions WHERE interview_id = ?", [iid])
    db.execute("DELETE FROM scored_turns WHERE turn_id IN (SELECT id FROM turns WHERE interview_id = ?)", [iid])
    # Sentences and consensus bases go with their turns (ON DELETE CASCADE); reanchor.set_aside detached the codings
    # and remembered the bases, which reanchor.restore puts back on the turns that are unchanged.
    db.execute("DELETE FROM turns WHERE interview_id = ?", [iid])
    for table in ("speakers", "interview_attributes", "interview_participants", "interview_interviewers"):
        db.execute(f"DELETE FROM {table} WHERE interview_id = ?", [iid])


def _drop_strays(db: Database) -> None:
    """People the replaced version named and the new one does not (a corrected id), in no other interview: kept, they
    were counted in the study's totals as someone interviewed."""
    db.execute(
        """DELETE FROM participants WHERE id NOT IN (SELECT participant_id FROM interview_participants)
           AND id NOT IN (SELECT participant_id FROM speakers WHERE participant_id IS NOT NULL)"""
    )
    db.execute(
        """DELETE FROM interviewers WHERE id NOT IN (SELECT interviewer_id FROM interview_interviewers)
           AND id NOT IN (SELECT interviewer_id FROM speakers WHERE interviewer_id IS NOT NULL)"""
    )


def _elsewhere(db: Database, pid: str, iid: str) -> bool:
    """Whether PID takes part in an interview other than IID."""
    return bool(
        db.execute(
            "SELECT 1 FROM interview_participants WHERE participant_id = ? AND interview_id != ? LIMIT 1", [pid, iid]
        ).fetchone()
    )


def check_participants(db: Database, plan: Plan, iid: str, path: Path) -> None:
    """One id is one person study-wide: the same attribute with two values is an error naming both files."""
    for pid, person in plan.participants.items():
        row = db.execute("SELECT gender FROM participants WHERE id = ?", [pid]).fetchone()
        if not row or not _elsewhere(db, pid, iid):
            continue  # a person of this interview alone (a replaced version corrects them) takes the new values
        stored = dict(
            db.execute("SELECT name, value FROM participant_attributes WHERE participant_id = ?", [pid]).fetchall()
        )
        stored["gender"] = row[0]
        new = dict(person["attributes"], gender=person["gender"])
        for name, value in new.items():
            old = stored.get(name)
            if old is None or value is None or old == value or NOT_RECORDED in (old, value):
                continue
            other = db.execute(
                """SELECT i.source_file FROM interview_participants ip JOIN interviews i ON i.id = ip.interview_id
                   WHERE ip.participant_id = ? AND i.id != ? ORDER BY i.imported_at LIMIT 1""",
                [pid, iid],
            ).fetchone()
            raise ConflictError(
                f"participant {pid} has {name} {value!r} here but {old!r} in {other[0] if other else 'the project'}",
                path=path,
            )


_SPLITTERS: dict = {}


def settle_language(t: Transcript, notes: list[str], declare: str = "language: in its front matter or sidecar") -> None:
    """A source that declares no language gets the one its text is in, and NOTES say it was guessed and where
    DECLARE would say it instead."""
    meta = t.meta
    if meta.language:
        return
    guess = language.detect(" ".join(turn.text for turn in t.turns[:400]))
    if guess is not None and guess.confident:
        meta.language, meta.language_detected = guess.language, True
        notes.append(
            f"language {guess.language}, detected from the text ({guess.confidence:.0%} sure); declare {declare} "
            "to be sure"
        )
        return
    meta.language = "en"
    if guess is not None:
        notes.append(
            f"language not declared and not clear from the text (likeliest {guess.language}, "
            f"{guess.confidence:.0%}): read as en; declare {declare}"
        )


def sentence_splitter(language: str):
    """The sentence splitter for a language, made once per process (loading spaCy takes a second)."""
    if language not in _SPLITTERS:
        from qualcode.text.sentences import SentenceSplitter

        _SPLITTERS[language] = SentenceSplitter(language)
    return _SPLITTERS[language]


def _insert(
    db: Database, t: Transcript, plan: Plan, iid: str, path: Path, source_hash: str, *, replace: bool = False
) -> None:
    pieces, spans, pos = [], [], 0
    for turn in t.turns:
        head = f"{turn.label}: " if t.kind == "interview" else ""  # answers and paragraphs are stored as they are
        start = pos + len(head)
        pieces.append(head + turn.text)
        spans.append((start, start + len(turn.text)))
        pos = start + len(turn.text) + 2
    text = "\n\n".join(pieces) + "\n"
    meta = t.meta
    values = [
        meta.title,
        meta.date,
        meta.language or "en",
        int(meta.language_detected),
        path.name,
        t.format,
        source_hash,
        hashlib.sha256(text.encode()).hexdigest(),
        text,
        now(),
    ]
    if replace:
        db.execute(
            """UPDATE interviews SET title = ?, date = ?, language = ?, language_detected = ?, source_file = ?,
               format = ?, source_hash = ?, text_hash = ?, text = ?, imported_at = ?, kind = ? WHERE id = ?""",
            [*values, t.kind, iid],
        )
    else:
        db.execute(
            """INSERT INTO interviews (title, date, language, language_detected, source_file, format, source_hash,
               text_hash, text, imported_at, kind, id, guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [*values, t.kind, iid, str(uuid.uuid4()).upper()],
        )
    db.conn.executemany(
        "INSERT INTO interview_attributes (interview_id, name, value) VALUES (?, ?, ?)",
        [(iid, k, v) for k, v in meta.attributes.items()],
    )
    speaker_ids = insert_people(db, plan, iid)
    insert_turns(db, iid, meta.language or "en", t.turns, spans, speaker_ids)


def insert_people(db: Database, plan: Plan, iid: str) -> dict[str, int]:
    """Participants, interviewers and speakers of one interview; returns label → speaker id.

    A person given a "guid" in the plan keeps it (REFI cases); others get a new one.
    """
    for pid, person in plan.participants.items():
        if db.execute("SELECT 1 FROM participants WHERE id = ?", [pid]).fetchone() and not _elsewhere(db, pid, iid):
            # Only this interview's (re-imported) version speaks for them: what it says replaces what was stored.
            db.execute(
                "UPDATE participants SET gender = ?, name = ? WHERE id = ?", [person["gender"], person["name"], pid]
            )
            db.execute("DELETE FROM participant_attributes WHERE participant_id = ?", [pid])
        elif db.execute("SELECT 1 FROM participants WHERE id = ?", [pid]).fetchone():
            if person["gender"] != NOT_RECORDED:
                db.execute("UPDATE participants SET gender = ? WHERE id = ?", [person["gender"], pid])
            if person["name"]:
                db.execute("UPDATE participants SET name = coalesce(name, ?) WHERE id = ?", [person["name"], pid])
        else:
            db.execute(
                "INSERT INTO participants (id, name, gender, guid, kind) VALUES (?, ?, ?, ?, ?)",
                [
                    pid,
                    person["name"],
                    person["gender"],
                    person.get("guid") or str(uuid.uuid4()).upper(),
                    person.get("kind", "interviewee"),
                ],
            )
        db.conn.executemany(
            """INSERT INTO participant_attributes (participant_id, name, value) VALUES (?, ?, ?)
               ON CONFLICT (participant_id, name) DO UPDATE SET value = excluded.value""",
            [(pid, k, v) for k, v in person["attributes"].items()],
        )
        db.execute("INSERT OR IGNORE INTO interview_participants VALUES (?, ?)", [iid, pid])
    for ivid, name in plan.interviewers.items():
        db.execute("INSERT OR IGNORE INTO interviewers (id, name) VALUES (?, ?)", [ivid, name])
        if name:
            db.execute("UPDATE interviewers SET name = ? WHERE id = ?", [name, ivid])
        db.execute("INSERT OR IGNORE INTO interview_interviewers VALUES (?, ?)", [iid, ivid])
    speaker_ids = {}
    for label, (kind, ref) in plan.speakers.items():
        cur = db.execute(
            "INSERT INTO speakers (interview_id, label, participant_id, interviewer_id) VALUES (?, ?, ?, ?)",
            [iid, label, ref if kind == "participant" else None, ref if kind == "interviewer" else None],
        )
        speaker_ids[label] = cur.lastrowid
    return speaker_ids


def insert_turns(
    db: Database, iid: str, language: str, turns: list[Turn], spans: list[tuple[int, int]], speaker_ids: dict[str, int]
) -> None:
    """Turns at SPANS (offsets into the interview text, which holds each turn's text there) and their sentences.

    One executemany for the turns and one for the sentences: a statement per row cost as much as splitting them.
    """
    nlp = sentence_splitter(language)
    db.conn.executemany(
        """INSERT INTO turns (interview_id, idx, speaker_id, start, end, start_s, end_s, text, words, page, context)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                iid,
                idx,
                speaker_ids[turn.label],
                start,
                end,
                turn.start_s,
                turn.end_s,
                turn.text,
                words(turn.text),
                turn.page,
                turn.context,
            )
            for idx, (turn, (start, end)) in enumerate(zip(turns, spans, strict=True))
        ],
    )
    ids = [r[0] for r in db.execute("SELECT id FROM turns WHERE interview_id = ? ORDER BY idx", [iid])]
    texts = [turn.text for turn in turns]
    rows = [
        (turn_id, n, start + a, start + b)
        for turn_id, (start, _), sentences in zip(ids, spans, nlp.spans(texts), strict=True)
        for n, (a, b) in enumerate(sentences)
    ]
    db.conn.executemany("INSERT INTO sentences (turn_id, idx, start, end) VALUES (?, ?, ?, ?)", rows)
