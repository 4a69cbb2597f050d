"""Coders, batches (the unit of history and undo), retiring codings in one, which pair a consensus coder is of and
what its decisions were settled on (their basis: read and recorded here, since merge carries it too).

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


# What a merged decision was settled on could not be said here (m018): the turn reads as changed until reviewed.
UNSETTLED = "unsettled"


def basis(db, coder: str, *, before: int | None = None) -> dict[int, set[tuple] | str | None]:
    """What CODER's decision on each turn was last settled on: {turn id: {(coder, code id, start, end)}} of A's and
    B's codings then; UNSETTLED where a merge brought the decision without it; None where it is not known (judged
    by times). DB is a project or a plain connection (merge reads another project's with it); BEFORE, only batches
    older than that one.

    The last settlement is the newest batch of CODER's, not undone, that recorded a basis on the turn (a review's
    save, a carry-over) or brought CODER's codings on it from another project (a merge, which carries the basis
    when it can, and says so when it cannot). A coding CODER makes by hand afterwards (`apply`, a session) settles
    nothing: it is no review of what A and B changed, so the review's basis still holds. An undone batch's basis
    never counts."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    unsettled = (  # a project older than m018 has none
        """UNION SELECT u.turn_id, u.batch_id FROM consensus_unsettled u
           JOIN batches k ON k.id = u.batch_id AND k.coder = :c AND k.undone_at IS NULL"""
        if "consensus_unsettled" in tables
        else ""
    )
    marked = (
        "EXISTS (SELECT 1 FROM consensus_unsettled u WHERE u.turn_id = l.turn_id AND u.batch_id = l.batch_id)"
        if unsettled
        else "0"
    )
    out: dict[int, set[tuple] | str | None] = {}
    for turn_id, is_unsettled, who, code_id, start, end in db.execute(
        f"""WITH events AS (
               SELECT s.turn_id, s.batch_id FROM consensus_basis s
               JOIN batches k ON k.id = s.batch_id AND k.coder = :c AND k.undone_at IS NULL
               {unsettled}
               UNION
               SELECT o.turn_id, k.id FROM codings o
               JOIN batches k ON k.id IN (o.batch_id, o.deleted_batch_id, o.revived_batch_id)
               WHERE o.coder = :c AND o.turn_id IS NOT NULL AND k.kind = 'merge' AND k.undone_at IS NULL)
           SELECT l.turn_id, {marked}, s.coder, s.code_id, s.start, s.end
           FROM (SELECT turn_id, max(batch_id) AS batch_id FROM events WHERE batch_id < :before GROUP BY turn_id) l
           LEFT JOIN consensus_basis s ON s.turn_id = l.turn_id AND s.batch_id = l.batch_id""",
        {"c": coder, "before": before if before is not None else 2**63 - 1},
    ):
        if is_unsettled:
            out[turn_id] = UNSETTLED
        elif who is None:
            out[turn_id] = None
        else:
            out.setdefault(turn_id, set()).add((who, code_id, start, end))  # type: ignore[union-attr]
    return out


def record_unsettled(db: Database, batch_id: int, turn_id: int) -> None:
    """Record that the decision BATCH_ID brought on a turn comes without what it was settled on (see UNSETTLED)."""
    db.execute("INSERT OR IGNORE INTO consensus_unsettled (batch_id, turn_id) VALUES (?, ?)", [batch_id, turn_id])


def record_basis(db: Database, batch_id: int, turn_id: int, versions: dict[str, list[tuple]]) -> None:
    """Record with the decision BATCH_ID on a turn what it was settled on: each coder's codings there, as (code id,
    start, end, ...) rows ("no code" included). In the caller's transaction, the one that writes the decision."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO consensus_basis (batch_id, turn_id, coder, code_id, start, end) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(batch_id, turn_id, who, *row[:3]) for who, rows in versions.items() for row in rows],
    )


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
