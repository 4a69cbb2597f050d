"""Looking after the project file: a consistent backup while others work, and a check of what the project holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path

from sqlite_utils import Database

from qualcode.errors import QualcodeError, UsageError
from qualcode.store.batches import REMOVED_LIKE
from qualcode.store.db import confirm_unchanged

EXAMPLES = 5  # problems shown per check; the count is always complete


# --- backup --------------------------------------------------------------------------------------------------------


def backup(db: Database, dest: Path, *, replacing: Callable[[Path], ContextManager[Path | None]]) -> dict:
    """Copy the project into DEST with SQLite's online backup API: a consistent snapshot even while other processes
    write, since the copy is made in one step under one read transaction (WAL lets the writers go on meanwhile).

    REPLACING(DEST) is how the file is written (`qualcode.output.files.replacing`, which this layer cannot import):
    under a temporary name beside DEST, renamed over it when complete, never over the project itself."""
    with replacing(dest) as tmp:
        if tmp is None:
            raise UsageError(f"{dest} is not a regular file; name the backup file")
        try:
            target = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.conn.backup(target)
                # One self-contained file (no -wal beside it) that can be copied or mailed as it is.
                target.execute("PRAGMA journal_mode = DELETE")
                integrity = target.execute("PRAGMA integrity_check").fetchone()[0]
                counts = _counts(target)
                confirm_unchanged(db)  # read without a lock (a read-only project): a mixed copy is never kept
            finally:
                target.close()
        except sqlite3.Error as e:
            raise QualcodeError(f"backup failed: {e}", path=dest) from e
    return {"file": str(dest), "bytes": dest.stat().st_size, "integrity": integrity, **counts}


def _counts(conn: sqlite3.Connection) -> dict:
    queries = {
        "interviews": "SELECT count(*) FROM interviews",
        "turns": "SELECT count(*) FROM turns",
        "codes": "SELECT count(*) FROM codes",
        "coders": "SELECT count(*) FROM coders",
        "codings": "SELECT count(*) FROM live_codings",
        "retired codings": "SELECT count(*) FROM codings WHERE deleted_at IS NOT NULL",
    }
    return {k: conn.execute(q).fetchone()[0] for k, q in queries.items()}


# --- check ---------------------------------------------------------------------------------------------------------


def check(db: Database) -> list[dict]:
    """Every check in order, each as {check, what, problems, examples}. Reads only."""
    texts = dict(db.execute("SELECT id, text FROM interviews").fetchall())
    out = []
    for name, what, fn in _CHECKS:
        try:
            found = fn(db, texts)
        except sqlite3.DatabaseError as e:
            found = [str(e)]
        out.append({"check": name, "what": what, "problems": len(found), "examples": found[:EXAMPLES]})
    return out


def _integrity(db: Database, texts: dict) -> list[str]:
    rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows


def _foreign_keys(db: Database, texts: dict) -> list[str]:
    return [
        f"{table} row {rowid} refers to a missing {parent} row"
        for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check")
    ]


def _orphaned(db: Database, texts: dict) -> list[str]:
    rows = db.execute(
        """SELECT id, interview_id, coder, quote FROM live_codings WHERE status = 'orphaned'
           ORDER BY interview_id, id"""
    )
    return [f"coding {cid} ({iid}, {coder}): {_short(quote)!r}" for cid, iid, coder, quote in rows]


def _code_missing(db: Database, texts: dict) -> list[str]:
    rows = db.execute(
        """SELECT c.id, c.interview_id, c.coder, c.code_id FROM live_codings c
           WHERE c.code_id IS NOT NULL AND c.code_id NOT IN (SELECT id FROM codes)
           ORDER BY c.id"""
    )
    out = [f"coding {cid} ({iid}, {coder}): code id {code} is not in the codebook" for cid, iid, coder, code in rows]
    # A coding whose code was removed keeps a mark in its memo; live, it would read as a "no code" decision.
    lost = db.execute(
        """SELECT id, interview_id, coder FROM live_codings
           WHERE code_id IS NULL AND memo LIKE ? ORDER BY id""",
        [REMOVED_LIKE],
    )
    return out + [f"coding {cid} ({iid}, {coder}): its code was removed, yet it is live" for cid, iid, coder in lost]


def _no_code_alone(db: Database, texts: dict) -> list[str]:
    """ "No code" is a decision that nothing applies: a turn cannot also hold a code from the same coder."""
    rows = db.execute(
        """SELECT n.turn_id, n.interview_id, n.coder FROM live_codings n
           WHERE n.code_id IS NULL AND n.turn_id IS NOT NULL AND EXISTS (SELECT 1 FROM live_codings c
               WHERE c.turn_id = n.turn_id AND c.coder = n.coder AND c.code_id IS NOT NULL)
           GROUP BY n.turn_id, n.coder ORDER BY n.interview_id, n.turn_id"""
    )
    return [f"{iid} turn id {tid} ({coder}): both a code and 'no code'" for tid, iid, coder in rows]


def _turn_missing(db: Database, texts: dict) -> list[str]:
    # An anchored ('ok') coding needs its turn, in its own interview; orphaned ones are the check above.
    rows = db.execute(
        """SELECT c.id, c.interview_id, c.coder, c.turn_id, t.interview_id FROM live_codings c
           LEFT JOIN turns t ON t.id = c.turn_id
           WHERE c.status = 'ok' AND (t.id IS NULL OR t.interview_id != c.interview_id)
           ORDER BY c.id"""
    )
    out = []
    for cid, iid, coder, turn_id, turn_interview in rows:
        why = (
            "has no turn"
            if turn_id is None
            else f"turn {turn_id} is missing"
            if turn_interview is None
            else f"turn {turn_id} belongs to {turn_interview}"
        )
        out.append(f"coding {cid} ({iid}, {coder}): {why}")
    return out


def _quotes(db: Database, texts: dict) -> list[str]:
    # Retired codings too: undo revives them, and they must come back on the right words.
    out = []
    for cid, iid, a, b, quote in db.execute(
        "SELECT id, interview_id, start, end, quote FROM codings WHERE turn_id IS NOT NULL ORDER BY id"
    ):
        text = texts.get(iid)
        if text is not None and text[a:b] != quote:
            out.append(f"coding {cid} ({iid} {a}-{b}): quote {_short(quote)!r}, text {_short(text[a:b])!r}")
    return out


def _spans(db: Database, texts: dict) -> list[str]:
    """An anchored coding lies inside its turn: the offsets a quote, an export and a REFI selection rely on."""
    rows = db.execute(
        """SELECT c.id, c.interview_id, c.coder, t.idx, c.start, c.end, t.start, t.end FROM live_codings c
           JOIN turns t ON t.id = c.turn_id
           WHERE c.status = 'ok' AND NOT (t.start <= c.start AND c.start <= c.end AND c.end <= t.end)
           ORDER BY c.interview_id, t.idx, c.id"""
    )
    return [
        f"coding {cid} ({iid}, {coder}) at {a}-{b} is not inside turn {idx} ({ta}-{tb})"
        for cid, iid, coder, idx, a, b, ta, tb in rows
    ]


def _consensus_basis(db: Database, texts: dict) -> list[str]:
    """What a consensus decision was settled on (m017) is compared with the codings of the consensus's own two
    coders on that turn: a row of a batch that is not the consensus coder's, of a third coder, or outside its turn
    would make the turn read as changed for ever."""
    rows = db.execute(
        """SELECT s.batch_id, t.interview_id, t.idx, s.coder, k.coder, n.coder, s.start, s.end, t.start, t.end
           FROM consensus_basis s JOIN turns t ON t.id = s.turn_id JOIN batches k ON k.id = s.batch_id
           LEFT JOIN consensus n ON n.coder = k.coder
           WHERE n.coder IS NULL OR s.coder NOT IN (n.coder_a, n.coder_b)
              OR NOT (t.start <= s.start AND s.start <= s.end AND s.end <= t.end)
           ORDER BY t.interview_id, t.idx, s.batch_id"""
    )
    out = []
    for batch, iid, idx, coder, owner, consensus, a, b, ta, tb in rows:
        where = f"basis of batch {batch} on {iid} turn {idx}"
        if consensus is None:
            out.append(f"{where}: the batch is not a consensus coder's decision (its coder: {owner or 'none'})")
        elif not (ta <= a <= b <= tb):
            out.append(f"{where}: {coder}'s coding at {a}-{b} is not inside the turn ({ta}-{tb})")
        else:
            out.append(f"{where}: {coder} is not one of the two coders {consensus} is the consensus of")
    return out


def _exclusive(db: Database, texts: dict) -> list[str]:
    rows = db.execute(
        """SELECT x.interview_id, t.idx, x.coder, p.name, a.name, b.name FROM exclusive_clashes x
           JOIN turns t ON t.id = x.turn_id JOIN codes p ON p.id = x.parent_id JOIN codes a ON a.id = x.code_id
           JOIN codes b ON b.id = x.other_code_id ORDER BY x.interview_id, t.idx, x.coder"""
    )
    return [
        f"{iid} turn {idx}, {coder}: {parent} is exclusive but has {a} and {b} on one passage (remove one with "
        "qualcode unapply)"
        for iid, idx, coder, parent, a, b in rows
    ]


def _coverage(db: Database, texts: dict) -> list[str]:
    """Every character of an interview's text outside white space is in a turn, or is the speaker label that opens
    the turn after it: text that is in no turn is never shown, searched, scored or exported."""
    out = []
    turns: dict[str, list] = {}
    for iid, a, b, label in db.execute(
        """SELECT t.interview_id, t.start, t.end, s.label FROM turns t JOIN speakers s ON s.id = t.speaker_id
           ORDER BY t.interview_id, t.start"""
    ):
        turns.setdefault(iid, []).append((a, b, label))
    for iid, text in texts.items():
        pos = 0
        for a, b, label in [*turns.get(iid, []), (len(text), len(text), None)]:
            gap = text[pos:a].strip()
            if gap and not (
                label and "\n" not in gap and label.casefold() in gap.casefold() and len(gap) <= len(label) + 40
            ):
                out.append(f"{iid}: {len(gap)} characters at {pos}-{a} belong to no turn: {_short(gap)!r}")
            pos = max(pos, b)
    return out


def _turn_offsets(db: Database, texts: dict) -> list[str]:
    out = []
    for iid, idx, a, b, text in db.execute(
        "SELECT interview_id, idx, start, end, text FROM turns ORDER BY interview_id, idx"
    ):
        stored = texts.get(iid)
        if stored is not None and stored[a:b] != text:
            out.append(f"{iid} turn {idx} ({a}-{b}): turn {_short(text)!r}, interview {_short(stored[a:b])!r}")
    return out


def _sentences(db: Database, texts: dict) -> list[str]:
    rows = db.execute(
        """SELECT t.interview_id, t.idx, s.idx, s.start, s.end, t.start, t.end FROM sentences s
           JOIN turns t ON t.id = s.turn_id
           WHERE s.start < t.start OR s.end > t.end OR s.start >= s.end ORDER BY t.interview_id, t.idx, s.idx"""
    )
    return [
        f"{iid} turn {tidx} sentence {sidx} ({a}-{b}) is not inside its turn ({ta}-{tb})"
        for iid, tidx, sidx, a, b, ta, tb in rows
    ]


def _search_index(db: Database, texts: dict) -> list[str]:
    # FTS5's check is an INSERT; rank 1 also compares the index with the turns. It runs inside a savepoint that is
    # rolled back, so the check never commits anything. A project that cannot be written (a read-only file or
    # folder) refuses any INSERT, so it is checked in a copy in memory instead.
    try:
        return _fts_check(db.conn)
    except sqlite3.DatabaseError as e:
        if not _read_only(e):
            raise
    copy = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.conn.backup(copy)
        return _fts_check(copy)
    finally:
        copy.close()


def _fts_check(conn: sqlite3.Connection) -> list[str]:
    conn.execute("SAVEPOINT qc_check")
    try:
        conn.execute("INSERT INTO turns_fts(turns_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as e:
        if _read_only(e):
            raise
        return [
            f"the search index is out of step with the turns ({e}); rebuild it with "
            "\"INSERT INTO turns_fts(turns_fts) VALUES ('rebuild')\""
        ]
    finally:
        conn.execute("ROLLBACK TO qc_check")
        conn.execute("RELEASE qc_check")
    return []


def _read_only(e: sqlite3.DatabaseError) -> bool:
    return (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_READONLY


def _languages(db: Database, texts: dict) -> list[str]:
    # Suggestions build a pipeline per language and pick each code's patterns by the turn's language: a language
    # spaCy does not know would stop every run, and patterns not keyed by language would never match.
    import json

    from qualcode.text.language import known

    out = [
        f"{iid} is in language {lang!r}, which spaCy does not know"
        for iid, lang in db.execute("SELECT id, language FROM interviews")
        if not known(lang)
    ]
    for key, patterns in db.execute("SELECT key, patterns FROM codes"):
        stored = json.loads(patterns or "{}")
        if not isinstance(stored, dict):
            out.append(f"code {key}: patterns are not keyed by language")
            continue
        out += [
            f"code {key}: patterns in language {lang!r}, which spaCy does not know"
            for lang in stored
            if not known(lang)
        ]
    return out


def _people_kinds(db: Database, texts: dict) -> list[str]:
    # Each kind of source is counted against its own people: respondents apart from the people interviewed, a
    # document's voice never. A person speaking in a source of another kind would be counted in the wrong base.
    from qualcode.store.queries import PERSON_KIND

    rows = db.execute(
        """SELECT DISTINCT p.id, p.kind, i.kind, i.id FROM speakers s JOIN participants p ON p.id = s.participant_id
           JOIN interviews i ON i.id = s.interview_id ORDER BY p.id, i.id"""
    )
    return [
        f"participant {pid} is stored as {kind} but speaks in {source_kind} {iid}, whose speakers are stored as "
        f"{PERSON_KIND[source_kind]}"
        for pid, kind, source_kind, iid in rows
        if PERSON_KIND.get(source_kind, kind) != kind
    ]


def _short(text: str | None, n: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


_CHECKS: list[tuple[str, str, Callable[[Database, dict], list[str]]]] = [
    ("integrity", "SQLite's integrity_check: pages, records and indexes", _integrity),
    ("foreign keys", "rows that point at rows which do not exist", _foreign_keys),
    ("orphaned codings", "live codings not found again in an edited transcript", _orphaned),
    ("codes", "live codings whose code left the codebook", _code_missing),
    ("decisions", "a turn a coder gave both a code and 'no code'", _no_code_alone),
    ("turns", "live codings whose turn is missing", _turn_missing),
    ("quotes", "codings whose quote is not the text at their offsets", _quotes),
    ("coding spans", "live codings that do not lie inside their turn", _spans),
    (
        "consensus bases",
        "what each consensus decision was settled on: its consensus's two coders, in the turn",
        _consensus_basis,
    ),
    ("exclusive scales", "two options of one exclusive parent on one passage of one coder", _exclusive),
    ("text in turns", "interview text outside every turn (not a speaker label)", _coverage),
    ("turn offsets", "turns whose text is not the interview text at their offsets", _turn_offsets),
    ("sentences", "sentences outside their turn", _sentences),
    ("search index", "the full-text index in step with the turns", _search_index),
    ("languages", "sources and patterns in languages spaCy knows, patterns keyed by language", _languages),
    (
        "people",
        "each person of the kind of the sources they speak in (interviewee, respondent, document)",
        _people_kinds,
    ),
]
