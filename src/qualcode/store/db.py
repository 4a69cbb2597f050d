"""Opening a project file, and the transaction every write goes through.

What makes a file a qualcode project, and what is refused:

- qualcode marks its projects in the SQLite header with `PRAGMA application_id = APPLICATION_ID` ("QCOD"): a new
  project at its first write, a project made before the mark at the first write after it is opened. A file with
  any other application id is refused, and so is a database without the mark that holds anything (tables, views,
  triggers) other than a qualcode project's schema; an empty file becomes a project.
- A project whose applied migrations include names this version does not know was made by a newer qualcode: every
  command that opens it to work refuses it, naming the version that made it (the `qualcode_version` project value
  each version records when it migrates a project) and the unknown migrations. Only `db status` and `backup`,
  which never write to it, open it. Writing with an older version could damage what the newer one stored.
- A project this process cannot write (its file, or its folder where a WAL project keeps its -wal and -shm files,
  lacks write permission, or the file system is read-only: a colleague's share, an archive, a mounted backup) is
  opened read-only, creating nothing beside it. Commands that only read work; the first write is refused with
  `read_only_error`, and so is a project that needs migrating (upgrading needs write access).
- SQLite integers are 64-bit: `SQLITE_MIN_INT` to `SQLITE_MAX_INT`. Numbers from the user are checked against that
  range before they reach a query (`fits_sqlite`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import random
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from qualcode.errors import NotFoundError, QualcodeError
from qualcode.store.migrations import migrations

DEFAULT_DB = "qualcode.db"
APPLICATION_ID = 0x51434F44  # "QCOD": PRAGMA application_id, at offset 68 of the file header
SQLITE_MIN_INT, SQLITE_MAX_INT = -(2**63), 2**63 - 1
BUSY_TIMEOUT_MS = 60_000
# SQLite's busy handler is not a queue: a waiting process retries after sleeps that grow to 100 ms, and a process
# that commits and begins again within microseconds (importing many files, a script applying codings in a loop) wins
# nearly every time, so the others wait for most of its run, and past BUSY_TIMEOUT_MS see "database is locked". So a
# writer that commits in a burst (within BURST_S of its previous commit) pauses LOCK_YIELD_S after each commit, and a
# process waiting for the write lock asks again every WRITE_POLL_S (randomised, so waiters do not ask in step) instead
# of sleeping in SQLite's growing steps: whoever waits is there when the lock is free. A single write, or a person's
# decisions in a session, never pauses.
LOCK_YIELD_S = 0.001
BURST_S = 0.1
WRITE_POLL_S = (0.0002, 0.001)


def now() -> str:
    """UTC timestamp with milliseconds, sortable as text."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def connect(path: str | Path, *, read_only: str | None = None) -> Database:
    """A connection with the settings every qualcode process uses; with READ_ONLY (why the project cannot be
    written, from `read_only_reason`) one that reads it and changes nothing, beside it either (`read_only_uri`).

    isolation_level=None hands transaction control to us: writes take the write lock up front with
    BEGIN IMMEDIATE, so a second process waits on the busy timeout instead of failing mid-way.
    """
    try:
        target, stamp = read_only_uri(Path(path)) if read_only else (str(path), None)
        conn = sqlite3.connect(target, uri=bool(read_only), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.OperationalError as e:
        raise QualcodeError(f"cannot open the project file ({e})", path=path) from e
    unmarked = False
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")  # the temporary tables hold row ids only; no temp files
        if str(path) != ":memory:":
            unmarked = _require_project(conn, path)  # before WAL: even switching the journal mode writes to the file
        if str(path) != ":memory:" and not read_only:
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
        if read_only and ("readonly" in str(e) or "unable to open" in str(e)):
            # In use (its -wal and -shm are there) in a folder this process cannot write, SQLite may still need to
            # write beside it to read it.
            raise QualcodeError(
                f"cannot read the project: it is read-only ({read_only}) and SQLite could not read it as it is ({e}); "
                "if someone was writing to it just then, run the command again; otherwise work on a copy",
                path=path,
            ) from e
        if "readonly" in str(e):
            raise QualcodeError(
                f"cannot open the project: the file or its folder is read-only ({e}); check the permissions, or "
                "work on a copy",
                path=path,
            ) from e
        if "disk I/O" in str(e) or "full" in str(e):
            raise QualcodeError(
                f"cannot open the project: the disk refused ({e}); is it full? The project was not changed", path=path
            ) from e
        raise QualcodeError(f"not a qualcode project ({e})", path=path) from e
    db = Database(conn, execute_plugins=False)
    db._qualcode_unmarked = unmarked  # the application id is set by the first write transaction
    db._qualcode_read_only = (str(path), read_only, stamp) if read_only else None
    return db


def read_only_reason(path: Path) -> str | None:
    """Why this process cannot write the project at PATH, or None when it can. SQLite writes a project through
    files it creates beside it (a WAL project's -wal and -shm, a rollback journal), so its folder must be writable
    too. os.access answers for this process's permissions, a read-only file system included."""
    path = path.resolve()  # through a link, SQLite writes beside the file it points to
    folder = path.parent
    if os.access(path, os.W_OK) and os.access(folder, os.W_OK):
        return None
    with contextlib.suppress(OSError):
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "its file system is mounted read-only"
    return "the file cannot be written" if not os.access(path, os.W_OK) else "its folder cannot be written"


def read_only_error(path: str | Path, reason: str) -> QualcodeError:
    """The one refusal of a command that would change a read-only project (raised before anything is written)."""
    return QualcodeError(
        f"the project is read-only ({reason}): this command would change it, so it was refused and nothing changed; "
        "work on a copy, or ask for write access",
        path=path,
    )


def read_only_uri(path: Path) -> tuple[str, tuple | None]:
    """How to read a project without writing to it or beside it, and the file's stamp when that reading takes no
    lock (then `confirm_unchanged` compares it after the read).

    Opened with mode=ro alone, a WAL project makes SQLite create its -wal and -shm files beside it, unable to
    remove them when it closes (and unable to read at all in a folder it cannot write). So a WAL project that no
    process has open (neither file beside it) is opened immutable, which takes no lock and creates nothing: a
    process that opens it meanwhile writes to a -wal file of its own and changes the project file only at a
    checkpoint, which the stamp catches. A project in use, or in rollback mode, is opened with mode=ro, under
    SQLite's locks and with the files that are there. (merge_read.py reads the other project of a merge so.)"""
    path = path.resolve()  # SQLite keeps -wal and -shm beside the file a link points to, not beside the link
    with open(path, "rb") as f:
        header = f.read(20)
    in_use = any(Path(f"{path}{side}").exists() for side in ("-wal", "-shm"))
    # Bytes 18 and 19 of the header are 2 in a WAL database.
    closed_wal = len(header) == 20 and header[18:20] == b"\x02\x02" and not in_use
    stamp = file_stamp(path) if closed_wal else None
    return path.as_uri() + ("?mode=ro&immutable=1" if closed_wal else "?mode=ro"), stamp


def file_stamp(path: Path) -> tuple:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def confirm_unchanged(db: Database) -> None:
    """Raise when a project read without a lock (immutable) was changed while it was read: another process with
    write access checkpointed into it, and what was read may mix two states of it."""
    path, _, stamp = getattr(db, "_qualcode_read_only", None) or (None, None, None)
    if stamp is None:
        return
    try:
        same = file_stamp(Path(path)) == stamp
    except OSError:
        same = False
    if not same:
        raise QualcodeError(
            "it changed while it was read (a process with write access wrote to it): what this command showed or "
            "wrote may mix two states of it; run it again",
            path=path,
        )


def _require_project(conn: sqlite3.Connection, path: str | Path) -> bool:
    """An empty file becomes a project; an SQLite database of something else is never touched. True when the file
    is to be a project but does not carry qualcode's application id yet."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    left = "; it was left as it was: choose the project with --db FILE"
    if app_id == APPLICATION_ID:
        return False
    if app_id:
        raise QualcodeError(
            f"not a qualcode project: an SQLite database of another application (application_id {app_id:#010x}, "
            f"qualcode's is {APPLICATION_ID:#010x}){left}",
            path=path,
        )
    objects: dict[str, list[str]] = {}
    for kind, name in conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"):
        objects.setdefault(kind, []).append(name)
    if not objects:
        return True
    if (
        "_sqlite_migrations" in objects.get("table", [])
        and conn.execute("SELECT 1 FROM _sqlite_migrations WHERE migration_set = 'qualcode' LIMIT 1").fetchone()
    ):
        return True
    shown = "; ".join(
        f"{kind}s " + ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        for kind, names in sorted(objects.items(), key=lambda kv: (kv[0] != "table", kv[0]))
    )
    raise QualcodeError(f"not a qualcode project: an SQLite database of something else ({shown}){left}", path=path)


@functools.cache
def known_migrations() -> tuple[str, ...]:
    """The migrations this version of qualcode has, in order (all of them are pending on an empty database)."""
    empty = Database(memory=True)
    try:
        return tuple(m.name for m in migrations.pending(empty))
    finally:
        empty.close()


def unknown_migrations(applied: list[str]) -> list[str]:
    """Applied migrations this version does not know: the project was made or upgraded by a newer qualcode."""
    known = set(known_migrations())
    return [name for name in applied if name not in known]


def newer_project_message(applied: list[str], made_by: str | None) -> str:
    from qualcode import __version__

    newer = unknown_migrations(applied)
    version = f" ({made_by})" if made_by and made_by != __version__ else ""
    return (
        f"made by a newer qualcode{version}: migration{'s' if len(newer) > 1 else ''} {', '.join(newer)} "
        f"unknown to this one ({__version__}); refused, so that nothing the newer version stored is damaged: "
        "upgrade qualcode to work on it"
    )


def _refuse_newer(db: Database, path: str | Path) -> None:
    applied = [m.name for m in migrations.applied(db)]
    if unknown_migrations(applied):
        made_by = project_value(db, VERSION_KEY) if db["project"].exists() else None
        raise QualcodeError(newer_project_message(applied, made_by), path=path)


def open_project(path: str | Path, *, create: bool = False, migrate: bool = True, writes: bool = False) -> Database:
    """Open (or with create=True, make) a project and bring its schema up to date. A project this process cannot
    write is opened read-only (see the top of this module); writes=True (and create=True) says the command is
    sure to change it, so a read-only one is refused at once rather than after a session or a training run."""
    p = Path(path)
    if str(path) != ":memory:" and p.is_dir():
        raise QualcodeError("is a folder, not a project file: name the file with --db FILE", path=p)
    if str(path) != ":memory:" and p.exists() and not p.is_file():
        raise QualcodeError(
            "not a regular file (a device, a pipe or a socket), so not a project: name the file with --db FILE", path=p
        )
    if str(path) != ":memory:" and not p.exists():
        if not create:
            raise NotFoundError(
                f"no project at {p} (create one with 'qualcode --db {p} import TRANSCRIPTS', "
                "or choose another with --db / QUALCODE_DB)"
            )
        if p.parent and not p.parent.exists():
            raise NotFoundError(f"folder {p.parent} does not exist", path=p)
        if not os.access(p.parent, os.W_OK):
            raise QualcodeError("cannot make a project there: its folder cannot be written", path=p)
    read_only = None if str(path) == ":memory:" or not p.exists() else read_only_reason(p)
    if read_only and (create or writes):
        raise read_only_error(path, read_only)
    db = connect(path, read_only=read_only)
    if migrate:
        try:
            _refuse_newer(db, path)
            if read_only:
                _refuse_pending(db, path, read_only)
        except BaseException:
            db.close()
            raise
        if not read_only:
            apply_migrations(db, path=path)
            _track_new_turns(db)
    return db


def _refuse_pending(db: Database, path: str | Path, read_only: str) -> None:
    """A read-only project with pending migrations cannot be upgraded, and reading it as it is would run this
    version's queries against an older schema."""
    from qualcode import __version__

    if not migrations.pending(db):
        return
    if not migrations.applied(db):
        raise QualcodeError(
            f"an empty file, not a project yet, and read-only ({read_only}): it cannot become one", path=path
        )
    made_by = project_value(db, VERSION_KEY) if db["project"].exists() else None
    # A development build of one version can add a migration: then the versions are the same and the schema older.
    by = f" ({made_by})" if made_by and made_by != __version__ else ""
    lacks = ", ".join(m.name for m in migrations.pending(db))
    raise QualcodeError(
        f"made by an older qualcode{by} than this one ({__version__}): it lacks {lacks} and needs upgrading, which "
        f"needs write access: work on a copy (the project is read-only: {read_only})",
        path=path,
    )


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


def apply_migrations(db: Database, *, path: str | Path | None = None) -> list[str]:
    """Apply pending migrations under the write lock, so two processes opening a new project don't race; the
    version that applied them is recorded (it names the version when an older qualcode refuses the project)."""
    from qualcode import __version__

    try:
        if not migrations.pending(db):
            return []
        with transaction(db):
            names = [m.name for m in migrations.pending(db)]
            migrations.apply(db)
            set_project_value(db, VERSION_KEY, __version__)
        return names
    except sqlite3.DatabaseError as e:
        raise QualcodeError(f"cannot open project: {e}", path=path) from e


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
    if read_only := getattr(db, "_qualcode_read_only", None):
        raise read_only_error(read_only[0], read_only[1])
    _begin_immediate(conn)
    try:
        if getattr(db, "_qualcode_unmarked", False):
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        yield db
        _index_new_turns(db)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
        db._qualcode_unmarked = False
        committed, previous = time.monotonic(), getattr(db, "_qualcode_committed", None)
        db._qualcode_committed = committed
        if previous is not None and committed - previous < BURST_S:
            time.sleep(LOCK_YIELD_S)


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock by asking often (see WRITE_POLL_S), for up to BUSY_TIMEOUT_MS."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(*WRITE_POLL_S))
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


VERSION_KEY = "qualcode_version"  # project value: the qualcode version that last applied migrations


def project_value(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM project WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_project_value(db: Database, key: str, value: str) -> None:
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO project (key, value) VALUES (?, ?)", [key, value])


def peek_project_value(path: str | Path, key: str) -> str | None:
    """A project value read without opening the file for work (read-only, nothing changed); None for any file that
    is not a readable qualcode project. Read as read_only_uri reads, so a file that is only looked at (and refused) is
    left exactly as it was, nothing created beside it (removing what a plain read-only look creates could pull a
    -wal file from under a process that opened the project meanwhile)."""
    try:
        uri, _ = read_only_uri(Path(path).resolve())
        conn = sqlite3.connect(uri, uri=True)
    except (OSError, sqlite3.Error):
        return None
    try:
        row = conn.execute("SELECT value FROM project WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()


BOOKKEEPING = {"_sqlite_migrations", "project"}  # what a new project holds before anything is put in it


def remove_if_blank(path: str | Path) -> bool:
    """Remove the project at PATH, with its -wal, -shm and -journal files, if it holds nothing but a new project's
    bookkeeping: so a command that created it and then refused its input leaves the folder as it was. Any row of
    material (another process may have filled it meanwhile), or a file that cannot be checked, keeps it."""
    p = Path(path)
    if str(path) == ":memory:" or not p.is_file() or p.is_symlink():
        return False
    try:
        conn = sqlite3.connect(p.resolve().as_uri() + "?mode=rw", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = [
            name
            for _, name, kind, *_ in conn.execute("PRAGMA main.table_list")  # shadow tables (FTS) are its own
            if kind == "table" and not name.startswith("sqlite_") and name not in BOOKKEEPING
        ]
        if any(conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() for name in tables):
            return False
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{p}{suffix}").unlink(missing_ok=True)
    return True


def fits_sqlite(n: int) -> bool:
    """Whether N can be stored or compared in SQLite (a 64-bit integer)."""
    return SQLITE_MIN_INT <= n <= SQLITE_MAX_INT


def db_file(db: Database) -> str:
    """The file behind the connection ('' for an in-memory database)."""
    return db.conn.execute("PRAGMA database_list").fetchone()[2]


def resolve_db_path(value: str | None) -> Path:
    return Path(value or os.environ.get("QUALCODE_DB") or DEFAULT_DB)
