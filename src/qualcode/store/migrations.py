"""The whole schema history of a qualcode project, readable top to bottom.

Each function runs once per project, inside a transaction, and is recorded in ``_sqlite_migrations``.
Never edit a migration that has shipped: add a new one. ``docs/schema.md`` is generated from these
(``python -m cogapp -r docs/schema.md``) and a test fails when it is stale.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("qualcode")


@migrations()
def m001_project(db: Database) -> None:
    """The project itself: a random id (the namespace of its REFI-QDA GUIDs) and its creation time."""
    # Key/value facts about the project itself (its id for REFI GUIDs, creation time).
    db.execute("""
        CREATE TABLE project (
            key TEXT PRIMARY KEY,
            value TEXT
        )""")
    db.execute("INSERT INTO project (key, value) VALUES ('id', lower(hex(randomblob(16))))")
    db.execute("INSERT INTO project (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")


@migrations()
def m002_interviews(db: Database) -> None:
    """Interviews with their normalised text, participants (study-wide ids), interviewers, speakers (the label in
    the text resolved to one person), turns and sentences as offsets into the text, and full-text search over turns.
    """
    # text is the normalised transcript (LF, no BOM); every offset below indexes into it, in code points.
    # source_hash detects an unchanged file; text_hash matches interviews across projects (merge).
    db.execute("""
        CREATE TABLE interviews (
            id TEXT PRIMARY KEY,
            title TEXT,
            date TEXT,
            language TEXT NOT NULL DEFAULT 'en',
            source_file TEXT NOT NULL,
            format TEXT NOT NULL,
            source_hash TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            text TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            guid TEXT NOT NULL UNIQUE
        )""")
    db.execute("""
        CREATE TABLE interview_attributes (
            interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT,
            PRIMARY KEY (interview_id, name)
        )""")
    # A participant is a person, study-wide: one id in two interviews is one person.
    db.execute("""
        CREATE TABLE participants (
            id TEXT PRIMARY KEY,
            name TEXT,
            gender TEXT NOT NULL DEFAULT 'not recorded',
            guid TEXT NOT NULL UNIQUE
        )""")
    db.execute("""
        CREATE TABLE participant_attributes (
            participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT,
            PRIMARY KEY (participant_id, name)
        )""")
    db.execute("""
        CREATE TABLE interviewers (
            id TEXT PRIMARY KEY,
            name TEXT
        )""")
    db.execute("""
        CREATE TABLE interview_participants (
            interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            participant_id TEXT NOT NULL REFERENCES participants(id),
            PRIMARY KEY (interview_id, participant_id)
        )""")
    db.execute("""
        CREATE TABLE interview_interviewers (
            interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            interviewer_id TEXT NOT NULL REFERENCES interviewers(id),
            PRIMARY KEY (interview_id, interviewer_id)
        )""")
    # The label used in the text, resolved to exactly one participant or interviewer.
    db.execute("""
        CREATE TABLE speakers (
            id INTEGER PRIMARY KEY,
            interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            label TEXT NOT NULL,
            participant_id TEXT REFERENCES participants(id),
            interviewer_id TEXT REFERENCES interviewers(id),
            UNIQUE (interview_id, label),
            CHECK ((participant_id IS NULL) != (interviewer_id IS NULL))
        )""")
    db.execute("""
        CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            speaker_id INTEGER NOT NULL REFERENCES speakers(id),
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            start_s REAL,
            end_s REAL,
            text TEXT NOT NULL,
            words INTEGER NOT NULL,
            UNIQUE (interview_id, idx),
            CHECK (end >= start)
        )""")
    db.execute("""
        CREATE TABLE sentences (
            id INTEGER PRIMARY KEY,
            turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            UNIQUE (turn_id, idx)
        )""")
    db.execute("CREATE INDEX idx_turns_speaker ON turns(speaker_id)")
    db.execute("CREATE INDEX idx_speakers_participant ON speakers(participant_id)")
    db.execute("CREATE INDEX idx_interview_participants_p ON interview_participants(participant_id)")
    db.execute("CREATE INDEX idx_interviews_text_hash ON interviews(text_hash)")
    # Full-text search over turns, kept in step by triggers.
    db.execute("""
        CREATE VIRTUAL TABLE turns_fts USING fts5(
            text, content='turns', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
        )""")
    db.execute("""
        CREATE TRIGGER turns_ai AFTER INSERT ON turns BEGIN
            INSERT INTO turns_fts(rowid, text) VALUES (new.id, new.text);
        END""")
    db.execute("""
        CREATE TRIGGER turns_ad AFTER DELETE ON turns BEGIN
            INSERT INTO turns_fts(turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END""")
    db.execute("""
        CREATE TRIGGER turns_au AFTER UPDATE OF text ON turns BEGIN
            INSERT INTO turns_fts(turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO turns_fts(rowid, text) VALUES (new.id, new.text);
        END""")


@migrations()
def m003_codebook(db: Database) -> None:
    """The codebook: settings, a record of every load, and the code tree (stable keys, patterns, colours)."""
    # One codebook per project; each load is kept in codebook_loads for the record.
    db.execute("""
        CREATE TABLE codebook (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            version TEXT,
            language TEXT NOT NULL DEFAULT 'en',
            min_score REAL NOT NULL DEFAULT 0.5,
            hash TEXT NOT NULL,
            source_file TEXT,
            loaded_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE codebook_loads (
            id INTEGER PRIMARY KEY,
            source_file TEXT,
            hash TEXT NOT NULL,
            loaded_at TEXT NOT NULL,
            report TEXT
        )""")
    # key is the stable identity (renames keep it); patterns is JSON; pattern_hash marks stale suggestions.
    db.execute("""
        CREATE TABLE codes (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            parent_id INTEGER REFERENCES codes(id),
            position INTEGER NOT NULL DEFAULT 0,
            colour TEXT,
            definition TEXT,
            include TEXT,
            exclude TEXT,
            examples TEXT,
            codable INTEGER NOT NULL DEFAULT 1,
            exclusive INTEGER NOT NULL DEFAULT 0,
            value REAL,
            threshold REAL,
            patterns TEXT NOT NULL DEFAULT '[]',
            pattern_hash TEXT NOT NULL DEFAULT '',
            guid TEXT NOT NULL UNIQUE
        )""")
    db.execute("CREATE UNIQUE INDEX idx_codes_sibling_name ON codes(IFNULL(parent_id, 0), name)")


@migrations()
def m004_coding(db: Database) -> None:
    """Coders, batches (the unit of undo) and codings: spans of a turn with a code, or "no code"; soft-deleted,
    never erased."""
    db.execute("""
        CREATE TABLE coders (
            name TEXT PRIMARY KEY,
            guid TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        )""")
    # A batch is one undoable unit: one decision in a session, one apply, one bulk accept, one import.
    db.execute("""
        CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            coder TEXT REFERENCES coders(name),
            kind TEXT NOT NULL,
            session_id TEXT,
            description TEXT,
            created_at TEXT NOT NULL,
            undone_at TEXT
        )""")
    # code_id NULL records the decision "no code" for the turn: decided, nothing applies.
    # quote is the text at coding time, kept so a coding can be re-anchored on an edited transcript.
    # Removal and undo are soft: deleted_at/deleted_batch_id keep the history.
    db.execute("""
        CREATE TABLE codings (
            id INTEGER PRIMARY KEY,
            interview_id TEXT NOT NULL REFERENCES interviews(id),
            turn_id INTEGER REFERENCES turns(id),
            code_id INTEGER REFERENCES codes(id),
            coder TEXT NOT NULL REFERENCES coders(name),
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            quote TEXT NOT NULL,
            memo TEXT,
            origin TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'ok',
            session_id TEXT,
            batch_id INTEGER REFERENCES batches(id),
            suggestion_score REAL,
            created_at TEXT NOT NULL,
            deleted_at TEXT,
            deleted_batch_id INTEGER REFERENCES batches(id),
            guid TEXT NOT NULL UNIQUE,
            CHECK (end >= start),
            CHECK (origin IN ('manual', 'suggestion', 'search', 'imported', 'review', 'merge', 'refi')),
            CHECK (status IN ('ok', 'orphaned'))
        )""")
    db.execute("""
        CREATE UNIQUE INDEX idx_codings_live ON codings(turn_id, coder, IFNULL(code_id, 0), start, end)
        WHERE deleted_at IS NULL""")
    db.execute("CREATE INDEX idx_codings_coder ON codings(coder, turn_id)")
    db.execute("CREATE INDEX idx_codings_code ON codings(code_id)")
    db.execute("CREATE INDEX idx_codings_batch ON codings(batch_id)")
    db.execute("CREATE INDEX idx_codings_interview ON codings(interview_id)")


@migrations()
def m005_suggestions(db: Database) -> None:
    """Suggestions with score, source and evidence; which turns were scored with which codebook and model; trained
    text classifiers."""
    # One row per scored (span, code) pair at or above the storage floor; evidence is JSON.
    db.execute("""
        CREATE TABLE suggestions (
            id INTEGER PRIMARY KEY,
            interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            code_id INTEGER NOT NULL REFERENCES codes(id) ON DELETE CASCADE,
            unit TEXT NOT NULL CHECK (unit IN ('turn', 'sentence')),
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            score REAL NOT NULL,
            pattern_score REAL,
            model_score REAL,
            source TEXT NOT NULL CHECK (source IN ('pattern', 'model', 'combined')),
            evidence TEXT NOT NULL DEFAULT '[]',
            pattern_hash TEXT NOT NULL,
            model_version TEXT,
            created_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX idx_suggestions_turn ON suggestions(turn_id, code_id)")
    db.execute("CREATE INDEX idx_suggestions_code ON suggestions(code_id, score)")
    # Which turns were scored with which codebook and model: the staleness record.
    db.execute("""
        CREATE TABLE scored_turns (
            turn_id INTEGER PRIMARY KEY REFERENCES turns(id) ON DELETE CASCADE,
            codebook_hash TEXT NOT NULL,
            model_version TEXT,
            scored_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            version TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            coder TEXT,
            labels TEXT NOT NULL,
            data_hash TEXT NOT NULL,
            spacy_version TEXT NOT NULL,
            trained_at TEXT NOT NULL,
            examples INTEGER NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            config TEXT NOT NULL,
            blob BLOB NOT NULL
        )""")


@migrations()
def m006_redactions(db: Database) -> None:
    """Names replaced by "[name]" in --redact exports."""
    # Names that become "[name]" inside quotes of --redact exports.
    db.execute("""
        CREATE TABLE redactions (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            added_at TEXT NOT NULL
        )""")


@migrations()
def m007_session_lookups(db: Database) -> None:
    """Indexes for the coding session's per-turn lookups and for undo."""
    # A coder's live codings of a turn: the session's "decided?" test, each screen's codes, and decide's lookups.
    # Without it SQLite answers "code_id IS NULL" from idx_codings_code, reading every "no code" row in the project.
    db.execute("CREATE INDEX idx_codings_coder_live ON codings(coder, turn_id, code_id) WHERE deleted_at IS NULL")
    # Undo revives what a batch retired; the session's u should not read the whole codings table to find it.
    db.execute("CREATE INDEX idx_codings_deleted_batch ON codings(deleted_batch_id) WHERE deleted_batch_id IS NOT NULL")


@migrations()
def m008_search_index_at_commit(db: Database) -> None:
    """Turns are indexed for search when their transaction commits, in one statement, not by a trigger per row."""
    # FTS5 flushes its pending terms at every savepoint: with a per-row trigger and a savepoint per imported file,
    # every file wrote an index segment of its own, and indexing cost more than the rest of the import. Each
    # connection now lists the turns it inserts in a temporary table and indexes them before COMMIT (db.py); the
    # delete and update triggers stay, since they are rare and must see the old text.
    db.execute("DROP TRIGGER IF EXISTS turns_ai")


@migrations()
def m009_live_codings(db: Database) -> None:
    """The one definition of a live coding: not retired by undo, removal or review."""
    # Every query that reads current codings reads this view; writes go to `codings` itself.
    db.execute("CREATE VIEW live_codings AS SELECT * FROM codings WHERE deleted_at IS NULL")


@migrations()
def m010_consensus_and_exclusive_scales(db: Database) -> None:
    """Consensus codings know whose coding they settle; codings carried over from agreeing coders have their own
    origin; an orphaned coding remembers who said its text; stored codings that break an exclusive scale are one
    view away."""
    # A consensus coder (review --as) settles the disagreements of two coders and carries over what they agreed on;
    # whether it is complete is computed from the live codings of all three.
    db.execute("""
        CREATE TABLE consensus (
            coder TEXT PRIMARY KEY REFERENCES coders(name),
            coder_a TEXT NOT NULL REFERENCES coders(name),
            coder_b TEXT NOT NULL REFERENCES coders(name),
            created_at TEXT NOT NULL,
            CHECK (coder != coder_a AND coder != coder_b AND coder_a != coder_b)
        )""")
    # SQLite cannot change a CHECK in place: the table is rebuilt with the 'agreed' origin and said_by (the speaker
    # of the coded text, a participant or interviewer id, kept when the coding is orphaned so re-anchoring never
    # moves it to another person). Nothing references codings, and the view on it is made again.
    db.execute("DROP VIEW live_codings")
    db.execute("""
        CREATE TABLE codings_new (
            id INTEGER PRIMARY KEY,
            interview_id TEXT NOT NULL REFERENCES interviews(id),
            turn_id INTEGER REFERENCES turns(id),
            code_id INTEGER REFERENCES codes(id),
            coder TEXT NOT NULL REFERENCES coders(name),
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            quote TEXT NOT NULL,
            memo TEXT,
            origin TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'ok',
            session_id TEXT,
            batch_id INTEGER REFERENCES batches(id),
            suggestion_score REAL,
            created_at TEXT NOT NULL,
            deleted_at TEXT,
            deleted_batch_id INTEGER REFERENCES batches(id),
            guid TEXT NOT NULL UNIQUE,
            said_by TEXT,
            CHECK (end >= start),
            CHECK (origin IN ('manual', 'suggestion', 'search', 'imported', 'review', 'agreed', 'merge', 'refi')),
            CHECK (status IN ('ok', 'orphaned'))
        )""")
    columns = ", ".join(
        r[1] for r in db.execute("PRAGMA table_info(codings)").fetchall()
    )  # every column of the old table, in its order
    db.execute(f"INSERT INTO codings_new ({columns}) SELECT {columns} FROM codings")
    db.execute("""
        UPDATE codings_new SET said_by = (
            SELECT coalesce(s.participant_id, s.interviewer_id) FROM turns t JOIN speakers s ON s.id = t.speaker_id
            WHERE t.id = codings_new.turn_id)
        WHERE turn_id IS NOT NULL""")
    db.execute("DROP TABLE codings")
    db.execute("ALTER TABLE codings_new RENAME TO codings")
    db.execute("""
        CREATE UNIQUE INDEX idx_codings_live ON codings(turn_id, coder, IFNULL(code_id, 0), start, end)
        WHERE deleted_at IS NULL""")
    db.execute("CREATE INDEX idx_codings_coder ON codings(coder, turn_id)")
    db.execute("CREATE INDEX idx_codings_code ON codings(code_id)")
    db.execute("CREATE INDEX idx_codings_batch ON codings(batch_id)")
    db.execute("CREATE INDEX idx_codings_interview ON codings(interview_id)")
    db.execute("CREATE INDEX idx_codings_coder_live ON codings(coder, turn_id, code_id) WHERE deleted_at IS NULL")
    db.execute("CREATE INDEX idx_codings_deleted_batch ON codings(deleted_batch_id) WHERE deleted_batch_id IS NOT NULL")
    db.execute("CREATE VIEW live_codings AS SELECT * FROM codings WHERE deleted_at IS NULL")
    # The exclusive rule on stored codings: two live codings of one coder, on overlapping spans of one turn, with two
    # different children of one exclusive parent. Writers check it after each write; `qualcode check` lists it.
    db.execute("""
        CREATE VIEW exclusive_clashes AS
        SELECT a.id AS coding_id, b.id AS other_id, a.interview_id, a.turn_id, a.coder, ca.parent_id,
               a.code_id, b.code_id AS other_code_id
        FROM live_codings a
        JOIN live_codings b ON b.turn_id = a.turn_id AND b.coder = a.coder AND b.id > a.id
             AND b.start < a.end AND a.start < b.end
        JOIN codes ca ON ca.id = a.code_id
        JOIN codes cb ON cb.id = b.code_id AND cb.parent_id = ca.parent_id AND cb.id != ca.id
        JOIN codes p ON p.id = ca.parent_id AND p.exclusive = 1""")


@migrations()
def m011_kinds_of_evidence(db: Database) -> None:
    """Interviews, survey answers and documents side by side: each source has a kind, each speaker a kind of person
    (someone interviewed, a survey respondent, or a document's own text), and units keep their page and context."""
    # "Participants" in every count are the people interviewed; respondents and documents are counted apart, each
    # against its own denominator.
    db.execute(
        "ALTER TABLE interviews ADD COLUMN kind TEXT NOT NULL DEFAULT 'interview' "
        "CHECK (kind IN ('interview', 'survey', 'document'))"
    )
    db.execute(
        "ALTER TABLE participants ADD COLUMN kind TEXT NOT NULL DEFAULT 'interviewee' "
        "CHECK (kind IN ('interviewee', 'respondent', 'document'))"
    )
    db.execute("ALTER TABLE turns ADD COLUMN page INTEGER")  # a document paragraph's page, for quotes
    # What a unit answers or sits under: a survey answer's question, a document paragraph's section heading.
    db.execute("ALTER TABLE turns ADD COLUMN context TEXT")


@migrations()
def m012_suggestion_probability(db: Database) -> None:
    """A suggestion's calibrated probability of being right, measured by cross-validation when its model was
    trained (NULL for pattern evidence alone): the session pre-checks a suggestion only when it is high."""
    db.execute("ALTER TABLE suggestions ADD COLUMN probability REAL")


@migrations()
def m013_languages(db: Database) -> None:
    """Interviews in several languages, one codebook: a code's patterns keyed by language, whether an interview's
    language was declared or detected, and a coder's translation of what they coded, for quotes in another language."""
    import hashlib
    import json

    # Patterns were one list in the codebook's language; they become {language: [...]}. The hash is recomputed as
    # the codebook loader now computes it, so reloading the same file reports no change.
    row = db.execute("SELECT language FROM codebook LIMIT 1").fetchone()
    language = row[0] if row else "en"
    for code_id, patterns in db.execute("SELECT id, patterns FROM codes").fetchall():
        old = json.loads(patterns) if patterns else []
        if isinstance(old, dict):
            continue
        new = {language: old} if old else {}
        digest = hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest()[:16]
        db.execute("UPDATE codes SET patterns = ?, pattern_hash = ? WHERE id = ?", [json.dumps(new), digest, code_id])
    db.execute("ALTER TABLE interviews ADD COLUMN language_detected INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE codings ADD COLUMN translation TEXT")


@migrations()
def m014_batch_figures(db: Database) -> None:
    """What each batch added and removed, recorded as it happens (an undo no longer rewrites the history); the
    coders a change of the code tree (a code merge, a codebook load) touched."""
    # The figures were counted from the codings at each reading, and undo clears deleted_batch_id on what it revives:
    # the undone batch then showed "removed 0", and the undo, whose revived rows keep their own batch, "added 0".
    db.execute("ALTER TABLE batches ADD COLUMN added INTEGER DEFAULT 0")
    db.execute("ALTER TABLE batches ADD COLUMN removed INTEGER DEFAULT 0")
    db.execute("ALTER TABLE batches ADD COLUMN coders TEXT")  # JSON list, for batches of no one coder
    # What can still be counted is; what an undo erased is NULL ("not recorded"), never a wrong 0.
    db.execute("""
        UPDATE batches SET
            added = CASE WHEN kind = 'undo' THEN NULL
                         ELSE (SELECT count(*) FROM codings c WHERE c.batch_id = batches.id) END,
            removed = CASE WHEN undone_at IS NOT NULL THEN NULL
                           ELSE (SELECT count(*) FROM codings c WHERE c.deleted_batch_id = batches.id) END""")
    # Every writer of codings is counted, whichever package it is in. Reviving (deleted_batch_id back to NULL) does
    # not count: undo records what it restored on its own batch. A migration that rebuilds `codings` drops these
    # triggers and must make them again.
    db.execute("""
        CREATE TRIGGER codings_batch_added AFTER INSERT ON codings WHEN NEW.batch_id IS NOT NULL BEGIN
            UPDATE batches SET added = added + 1 WHERE id = NEW.batch_id;
        END""")
    db.execute("""
        CREATE TRIGGER codings_batch_removed AFTER UPDATE OF deleted_batch_id ON codings
        WHEN NEW.deleted_batch_id IS NOT NULL AND NEW.deleted_batch_id IS NOT OLD.deleted_batch_id BEGIN
            UPDATE batches SET removed = removed + 1 WHERE id = NEW.deleted_batch_id;
        END""")


@migrations()
def m015_revival_time(db: Database) -> None:
    """codings.revived_at and revived_batch_id: when, and in which batch (an undo, a merge), a retired coding was
    last brought back. Merge lets the latest change to a coding win (made, removed or revived), and a revival left
    no time of its own (undo clears deleted_at and deleted_batch_id); undoing the batch that revived a coding retires
    it again (undoing a merge or an undo left what it had revived live)."""
    # NULL: never revived, or revived before this was recorded (the coding then dates from created_at).
    db.execute("ALTER TABLE codings ADD COLUMN revived_at TEXT")
    # No REFERENCES: SQLite cannot drop a column a foreign key names, and batches are never deleted.
    db.execute("ALTER TABLE codings ADD COLUMN revived_batch_id INTEGER")
    # A revival is counted as the reviving batch's addition (an undo's, a merge's), as m014 counts the rest.
    db.execute("""
        CREATE TRIGGER codings_batch_revived AFTER UPDATE OF revived_batch_id ON codings
        WHEN NEW.revived_batch_id IS NOT NULL AND NEW.revived_batch_id IS NOT OLD.revived_batch_id BEGIN
            UPDATE batches SET added = added + 1 WHERE id = NEW.revived_batch_id;
        END""")


@migrations()
def m016_arrivals_already_retired(db: Database) -> None:
    """A coding a merge brings already retired (the colleague made and removed it) is history, not an addition: the
    merge's batch counted it as added. From now on only live arrivals are counted."""
    db.execute("DROP TRIGGER codings_batch_added")
    db.execute("""
        CREATE TRIGGER codings_batch_added AFTER INSERT ON codings
        WHEN NEW.batch_id IS NOT NULL AND NEW.deleted_at IS NULL BEGIN
            UPDATE batches SET added = added + 1 WHERE id = NEW.batch_id;
        END""")


@migrations()
def m017_consensus_basis(db: Database) -> None:
    """What a consensus decision was settled on: A's and B's live codings on the turn when the consensus decided it
    (a review's save, a carry-over), so that "changed since" compares them with what A and B code now. Decisions made
    before this have none, and keep the rule by times."""
    # One row per coding of A or B (code_id NULL: their "no code"), keyed by the consensus's batch that decided the
    # turn: an undone batch's basis no longer counts. Merge carries it where it can (coding/merge.py), a change of the
    # code tree moves the rows as it moves the codings (codebook/store.py), and a replaced transcript's unchanged turns
    # keep theirs (ingest/reanchor.py).
    db.execute("""
        CREATE TABLE consensus_basis (
            batch_id INTEGER NOT NULL REFERENCES batches(id),
            turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            coder TEXT NOT NULL REFERENCES coders(name),
            code_id INTEGER REFERENCES codes(id),
            start INTEGER NOT NULL,
            end INTEGER NOT NULL
        )""")
    db.execute(
        "CREATE UNIQUE INDEX idx_consensus_basis "
        "ON consensus_basis(turn_id, batch_id, coder, IFNULL(code_id, 0), start, end)"
    )
    db.execute("CREATE INDEX idx_consensus_basis_code ON consensus_basis(code_id)")


@migrations()
def m018_consensus_unsettled(db: Database) -> None:
    """A consensus decision a merge brought without what it was settled on, because that could not be said in this
    project's terms (the turn's text differs here, a code of it is not here): the turn reads as changed since it was
    settled until a review here settles it again. Judged by times instead, a change made here before the colleague's
    review would pass for one the colleague had seen."""
    db.execute("""
        CREATE TABLE consensus_unsettled (
            batch_id INTEGER NOT NULL REFERENCES batches(id),
            turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            PRIMARY KEY (batch_id, turn_id)
        )""")
