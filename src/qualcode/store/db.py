"""Opening a project file, and the transaction every write goes through."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from qualcode.errors import NotFoundError, QualcodeError
from qualcode.store.migrations import migrations

DEFAULT_DB = "qualcode.db"
BUSY_TIMEOUT_MS = 60_000
# SQLite's busy handler is not a queue: a waiting process retries every few to 100 ms, and a process that commits and
# begins again within microseconds (importing many files, a script applying codings in a loop) wins every time, so
# the other waits until the whole run is over, and past BUSY_TIMEOUT_MS sees "database is locked". So a writer that
# commits in a burst (within BURST_S of its previous commit) pauses LOCK_YIELD_S after each commit, which lets a
# waiting process in; a single write, or a person's decisions in a session, never pauses.
LOCK_YIELD_S = 0.001
BURST_S = 0.1


def now() -> str:
    """UTC timestamp with milliseconds, sortable as text."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def connect(path: str | Path) -> Database:
    """A connection with the settings every qualcode process uses.

    isolation_level=None hands transaction control to us: writes take the write lock up front with
    BEGIN IMMEDIATE, so a second process waits on the busy timeout instead of failing mid-way.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.OperationalError as e:
        raise QualcodeError(f"cannot open the project file ({e})", path=path) from e
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")  # the temporary tables hold row ids only; no temp files
        if str(path) != ":memory:":
            _require_project(conn, path)  # before WAL: even switching the journal mode writes to the file
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as e:  # a read-only copy (a backup is not WAL) can still be read
                if "readonly" not in str(e):
                    raise
            conn.execute("PRAGMA synchronous = NORMAL")
    except QualcodeError:
        conn.close()
        raise
    except sqlite3.DatabaseError as e:
        conn.close()
        if "readonly" in str(e):
            raise QualcodeError(
                f"cannot open the project: the file or its folder is read-only ({e}); check the permissions, or "
                "work on a copy",
                path=path,
            ) from e
        raise QualcodeError(f"not a qualcode project ({e})", path=path) from e
    return Database(conn, execute_plugins=False)


def _require_project(conn: sqlite3.Connection, path: str | Path) -> None:
    """An empty file becomes a project; an SQLite database of something else is never touched."""
    tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    if not tables:
        return
    if (
        "_sqlite_migrations" in tables
        and conn.execute("SELECT 1 FROM _sqlite_migrations WHERE migration_set = 'qualcode' LIMIT 1").fetchone()
    ):
        return
    shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
    raise QualcodeError(
        f"not a qualcode project: an SQLite database of something else (tables {shown}); it was left as it "
        "was: choose the project with --db FILE",
        path=path,
    )


def open_project(path: str | Path, *, create: bool = False, migrate: bool = True) -> Database:
    """Open (or with create=True, make) a project and bring its schema up to date."""
    p = Path(path)
    if str(path) != ":memory:" and p.is_dir():
        raise QualcodeError("is a folder, not a project file: name the file with --db FILE", path=p)
    if str(path) != ":memory:" and not p.exists():
        if not create:
            raise NotFoundError(
                f"no project at {p} (create one with 'qualcode --db {p} import TRANSCRIPTS', "
                "or choose another with --db / QUALCODE_DB)"
            )
        if p.parent and not p.parent.exists():
            raise NotFoundError(f"folder {p.parent} does not exist", path=p)
    db = connect(path)
    if migrate:
        apply_migrations(db)
        _track_new_turns(db)
    return db


def _track_new_turns(db: Database) -> None:
    """Turns this connection inserts are listed in a temporary table and indexed for search at commit, in one go.

    FTS5 writes its pending terms out at every savepoint, so a per-row trigger inside per-file savepoints made one
    index segment per imported file, and indexing cost more than the rest of the import (m008).
    """
    db.execute("CREATE TEMP TABLE IF NOT EXISTS turns_unindexed (id INTEGER PRIMARY KEY)")
    db.execute(
        """CREATE TEMP TRIGGER IF NOT EXISTS turns_to_index AFTER INSERT ON main.turns BEGIN
               INSERT INTO turns_unindexed (id) VALUES (new.id);
           END"""
    )
    db._qualcode_tracks_turns = True


def _index_new_turns(db: Database) -> None:
    if not getattr(db, "_qualcode_tracks_turns", False):
        return
    conn = db.conn
    if conn.execute("SELECT 1 FROM temp.turns_unindexed LIMIT 1").fetchone():
        # CROSS JOIN keeps the few new turns as the outer loop: left to itself, the planner scanned every turn of
        # the project at each commit, which made a large import quadratic.
        conn.execute(
            """INSERT INTO turns_fts (rowid, text)
               SELECT t.id, t.text FROM temp.turns_unindexed u CROSS JOIN main.turns t ON t.id = u.id"""
        )
        conn.execute("DELETE FROM temp.turns_unindexed")


def apply_migrations(db: Database) -> list[str]:
    """Apply pending migrations under the write lock, so two processes opening a new project don't race."""
    try:
        if not migrations.pending(db):
            return []
        with transaction(db):
            names = [m.name for m in migrations.pending(db)]
            migrations.apply(db)
        return names
    except sqlite3.DatabaseError as e:
        raise QualcodeError(f"cannot open project: {e}") from e


def migration_status(db: Database) -> dict:
    return {
        "applied": [{"name": m.name, "applied_at": m.applied_at} for m in migrations.applied(db)],
        "pending": [m.name for m in migrations.pending(db)],
    }


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """All-or-nothing: BEGIN IMMEDIATE at the outermost level, a savepoint when nested."""
    conn = db.conn
    if conn.in_transaction:
        name = f"qc_{secrets.token_hex(8)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        _index_new_turns(db)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
        committed, previous = time.monotonic(), getattr(db, "_qualcode_committed", None)
        db._qualcode_committed = committed
        if previous is not None and committed - previous < BURST_S:
            time.sleep(LOCK_YIELD_S)


def project_value(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM project WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def db_file(db: Database) -> str:
    """The file behind the connection ('' for an in-memory database)."""
    return db.conn.execute("PRAGMA database_list").fetchone()[2]


def resolve_db_path(value: str | None) -> Path:
    return Path(value or os.environ.get("QUALCODE_DB") or DEFAULT_DB)
