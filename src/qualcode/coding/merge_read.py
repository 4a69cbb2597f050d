"""Reading the other project of a merge: opened read-only, checked to be a qualcode project of a compatible schema,
and read in one snapshot."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from qualcode.codebook.tree import CodeTree
from qualcode.errors import NotFoundError, QualcodeError
from qualcode.ingest import reanchor
from qualcode.store.batches import TREE_KINDS, basis
from qualcode.store.db import (
    BUSY_TIMEOUT_MS,
    VERSION_KEY,
    file_stamp,
    newer_project_message,
    read_only_uri,
    unknown_migrations,
)

TABLES = {"_sqlite_migrations", "interviews", "turns", "codes", "coders", "codings", "codebook"}
CODING_COLUMNS = (
    "id",
    "interview_id",
    "turn_id",
    "code_id",
    "coder",
    "start",
    "end",
    "quote",
    "memo",
    "origin",
    "status",
    "session_id",
    "suggestion_score",
    "created_at",
    "deleted_at",
    "guid",
)


@dataclass
class Other:
    interviews: dict[str, dict]
    turns: dict[str, list[reanchor.Turn]]  # interview id → turns in order
    codes: list[dict]  # tree order, with path
    codebook: dict | None
    coders: dict[str, dict]
    codings: list[dict]  # each with tree_retired: retired by a change of OTHER's code tree (store.batches.TREE_KINDS)
    consensus: dict[str, tuple[str, str]]  # a consensus coder → the two coders it settles
    bases: dict[str, dict]  # a consensus coder → what its decision on each turn was settled on (store.batches.basis)


def read_other(path: Path) -> Other:
    """Everything merge needs from OTHER, read in one snapshot without writing to it."""
    if not path.is_file():
        raise NotFoundError(f"no project at {path}")
    uri, closed = read_only_uri(path)  # immutable when nobody has it open: nothing is created beside it
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.DatabaseError as e:
        raise QualcodeError(f"cannot open: {e}", path=path) from e
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("BEGIN")  # one read snapshot, even while another process writes to OTHER
        _check_schema(conn, path)
        other = _read(conn)
        if closed and file_stamp(path) != closed:
            raise QualcodeError("it changed while it was read (someone opened it to work): merge again", path=path)
        return other
    except sqlite3.DatabaseError as e:
        if "unable to open" in str(e):
            # A WAL project needs its -shm file beside it, or a folder where SQLite may create one, to be read.
            raise QualcodeError(f"cannot open it read-only ({e})", path=path) from e
        raise QualcodeError(f"not a qualcode project ({e})", path=path) from e
    finally:
        conn.close()


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    applied = (
        [
            r[0]
            for r in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'qualcode' ORDER BY rowid")
        ]
        if "_sqlite_migrations" in tables
        else []
    )
    if not applied or not tables >= TABLES:
        raise QualcodeError("not a qualcode project", path=path)
    # An older project is read as it is (it cannot be migrated read-only): the tables merge reads are in every
    # version. A newer one may hold what this version cannot read correctly.
    if unknown_migrations(applied):
        made_by = conn.execute("SELECT value FROM project WHERE key = ?", [VERSION_KEY]).fetchone()
        raise QualcodeError(newer_project_message(applied, made_by[0] if made_by else None), path=path)


def _read(conn: sqlite3.Connection) -> Other:
    interviews = {r["id"]: dict(r) for r in conn.execute("SELECT id, text_hash, text FROM interviews")}
    turns = {iid: reanchor.turns(conn, iid) for iid in interviews}
    rows = [dict(r) for r in conn.execute("SELECT * FROM codes ORDER BY position, id")]
    cb = conn.execute("SELECT * FROM codebook").fetchone()
    for r in rows:  # a project older than patterns by language (m013) keeps one list, in its codebook's language
        if (r.get("patterns") or "").startswith("["):
            old = json.loads(r["patterns"])
            r["patterns"] = json.dumps({cb["language"] if cb else "en": old} if old else {})
    # Columns later migrations added (m013, m015): an older project is read as if they were empty.
    optional = ("translation", "revived_at")
    present = {c[1] for c in conn.execute("PRAGMA table_info(codings)")}
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    consensus = (
        {r[0]: (r[1], r[2]) for r in conn.execute("SELECT coder, coder_a, coder_b FROM consensus")}
        if "consensus" in tables
        else {}
    )
    # A project older than m017 recorded no bases: its consensus decisions come without them.
    bases = {c: basis(conn, c) for c in consensus} if "consensus_basis" in tables else {}
    columns = [*CODING_COLUMNS, *(c for c in optional if c in present)]
    # Retired by a codebook load or a code merge, not by a coder: merge takes none of it (see merge._decide).
    tree_retired = (
        f"deleted_batch_id IN (SELECT id FROM batches WHERE kind IN ({', '.join('?' * len(TREE_KINDS))}))"
        if "deleted_batch_id" in present and "batches" in tables
        else "0"
    )
    params = TREE_KINDS if tree_retired != "0" else ()
    return Other(
        interviews=interviews,
        turns=dict(turns),
        codes=_with_paths(rows),
        codebook=dict(cb) if cb else None,
        coders={r["name"]: dict(r) for r in conn.execute("SELECT name, guid, created_at FROM coders")},
        codings=[
            dict.fromkeys(optional) | dict(r) | {"tree_retired": bool(r["tree_retired"])}
            for r in conn.execute(
                f"SELECT {', '.join(columns)}, {tree_retired} AS tree_retired FROM codings ORDER BY id", params
            )
        ],
        consensus=consensus,
        bases=bases,
    )


def _with_paths(rows: list[dict]) -> list[dict]:
    """OTHER's code rows in tree order, each with its path (the key codes are matched by)."""
    tree = CodeTree.from_rows(rows)
    by_id = {r["id"]: r for r in rows}
    return [{**by_id[c.id], "path": c.path} for c in tree]
