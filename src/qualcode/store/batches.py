"""Coders, batches (the unit of history and undo), retiring codings in one, and which pair a consensus coder is of.

Here, below every package that changes codings, so that changes to the code tree (codebook/) record their batch
the same way coding/ does. What a batch added and removed is counted by the triggers of m014 as it happens, so the
history is a record that later undos cannot rewrite.
"""

from __future__ import annotations

import json
import uuid

from sqlite_utils import Database

from qualcode.errors import UsageError
from qualcode.store.db import now

# Batches that change the code tree as well as codings (a code removed, merged away): they are no one coder's
# (coder NULL, the affected coders in `coders`), and undo refuses them, since the code their codings had is gone.
TREE_KINDS = ("codebook-load", "code-merge")
# The mark a coding keeps in its memo when its code is removed (the code row goes, code_id becomes NULL): without it
# the coding would read as a "no code" decision, so undo never revives such a coding and `check` reports a live one.
REMOVED = " [code removed: {}]"
REMOVED_LIKE = "%" + REMOVED.format("%")


def ensure_coder(db: Database, name: str) -> str:
    name = name.strip()
    if not name:
        raise UsageError("coder name is empty")
    db.execute(
        "INSERT OR IGNORE INTO coders (name, guid, created_at) VALUES (?, ?, ?)",
        [name, str(uuid.uuid4()).upper(), now()],
    )
    return name


def consensus_pair(db: Database, coder: str, a: str, b: str) -> tuple[str, str] | None:
    """Record CODER as the consensus of A and B: a coder is the consensus of one pair only. The other pair CODER
    already stands for, when it does (nothing recorded then); None when CODER is now, or already was, A and B's."""
    row = db.execute("SELECT coder_a, coder_b FROM consensus WHERE coder = ?", [coder]).fetchone()
    if row is None:
        for name in (coder, a, b):
            ensure_coder(db, name)
        db.execute(
            "INSERT INTO consensus (coder, coder_a, coder_b, created_at) VALUES (?, ?, ?, ?)", [coder, a, b, now()]
        )
        return None
    return None if set(row) == {a, b} else (row[0], row[1])


def new_batch(
    db: Database,
    coder: str | None,
    kind: str,
    *,
    session_id: str | None = None,
    description: str | None = None,
    coders: list[str] | None = None,
) -> int:
    """A batch of one coder's changes, or with CODERS (and no coder) a change of the code tree touching theirs."""
    if coder:
        ensure_coder(db, coder)
    cur = db.execute(
        "INSERT INTO batches (coder, kind, session_id, description, created_at, coders) VALUES (?, ?, ?, ?, ?, ?)",
        [coder, kind, session_id, description, now(), json.dumps(sorted(coders)) if coders else None],
    )
    return cur.lastrowid


def retire(db: Database, where: str, params: list, batch_id: int) -> int:
    """Retire the live codings matching WHERE in BATCH_ID (soft: undo revives them); returns how many."""
    cur = db.execute(
        f"UPDATE codings SET deleted_at = ?, deleted_batch_id = ? WHERE id IN (SELECT id FROM live_codings WHERE "
        f"{where})",
        [now(), batch_id, *params],
    )
    return cur.rowcount
