"""Codings: applying and removing codes, decisions per turn, batches, undo and history.

Every change belongs to a batch (one decision in a session, one apply, one bulk accept, one file import) so it can be
undone as a unit. Removal and undo are soft: rows get deleted_at, nothing is erased, the history stays.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.errors import ConflictError, NotFoundError, UsageError
from qualcode.store.batches import REMOVED_LIKE, TREE_KINDS, ensure_coder, new_batch
from qualcode.store.batches import retire as _retire
from qualcode.store.db import SQLITE_MAX_INT, fits_sqlite, now, transaction

ORIGINS = ("manual", "suggestion", "search", "imported", "review", "agreed", "merge", "refi")


@dataclass
class TurnRef:
    id: int
    interview_id: str
    idx: int
    start: int
    end: int
    text: str


def turn(db: Database, interview_id: str, idx: int) -> TurnRef:
    row = (
        db.execute(
            "SELECT id, interview_id, idx, start, end, text FROM turns WHERE interview_id = ? AND idx = ?",
            [interview_id, idx],
        ).fetchone()
        if fits_sqlite(idx)  # a number SQLite cannot hold names no turn (and would raise OverflowError)
        else None
    )
    if not row:
        if not db.execute("SELECT 1 FROM interviews WHERE id = ?", [interview_id]).fetchone():
            raise NotFoundError(f"no interview {interview_id!r}")
        n = db.execute("SELECT count(*) FROM turns WHERE interview_id = ?", [interview_id]).fetchone()[0]
        raise NotFoundError(f"interview {interview_id} has no turn {idx} (turns are numbered 0 to {n - 1})")
    return TurnRef(*row)


def turn_by_id(db: Database, turn_id: int) -> TurnRef:
    row = db.execute("SELECT id, interview_id, idx, start, end, text FROM turns WHERE id = ?", [turn_id]).fetchone()
    if not row:
        raise NotFoundError(f"no turn with id {turn_id}")
    return TurnRef(*row)


def span(t: TurnRef, start: int | None, end: int | None) -> tuple[int, int]:
    """Offsets relative to the turn text (as users see it) → offsets in the interview text."""
    a = 0 if start is None else start
    b = len(t.text) if end is None else end
    if not 0 <= a < b <= len(t.text):
        raise UsageError(
            f"--start/--end must satisfy 0 <= start < end <= {len(t.text)} (the length of turn {t.idx}'s text)"
        )
    return t.start + a, t.start + b


def insert_coding(
    db: Database,
    t: TurnRef,
    code_id: int | None,
    coder: str,
    a: int,
    b: int,
    *,
    memo: str | None,
    origin: str,
    batch_id: int,
    session_id: str | None,
    score: float | None = None,
    guid: str | None = None,
    created_at: str | None = None,
) -> int | None:
    """Insert one live coding unless the same one is already live; returns its id, or None if it existed.

    guid and created_at come from the file when a coding is imported (REFI-QDA keeps both); otherwise they are new.
    """
    assert origin in ORIGINS
    exists = db.execute(
        "SELECT id FROM live_codings WHERE turn_id = ? AND coder = ? AND code_id IS ? AND start = ? AND end = ?",
        [t.id, coder, code_id, a, b],
    ).fetchone()
    if exists:
        if memo:
            db.execute("UPDATE codings SET memo = ? WHERE id = ?", [memo, exists[0]])
        return None
    values = [t.interview_id, t.id, code_id, coder, a, b, memo, origin, session_id, batch_id, score]
    values += [created_at or now(), guid or str(uuid.uuid4()).upper(), a, b - a, t.interview_id, t.id]
    with transaction(db):  # a savepoint: a clash takes back this coding alone, and the caller decides what follows
        cur = db.execute(
            """INSERT INTO codings (interview_id, turn_id, code_id, coder, start, end, memo, origin, session_id,
               batch_id, suggestion_score, created_at, guid, quote, said_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                       (SELECT substr(text, ? + 1, ?) FROM interviews WHERE id = ?),
                       (SELECT coalesce(s.participant_id, s.interviewer_id) FROM turns u
                        JOIN speakers s ON s.id = u.speaker_id WHERE u.id = ?))""",
            values,
        )
        if code_id is not None:
            _refuse_clash(db, t, coder, cur.lastrowid)
    return cur.lastrowid


class ExclusiveClash(ConflictError):
    """Two options of one exclusive scale on one passage of one coder's coding."""


def _refuse_clash(db: Database, t: TurnRef, coder: str, coding_id: int) -> None:
    """The exclusive rule (the view exclusive_clashes), checked on the coding just written."""
    hit = db.execute(
        "SELECT 1 FROM exclusive_clashes WHERE turn_id = ? AND coder = ? AND ? IN (coding_id, other_id)",
        [t.id, coder, coding_id],
    ).fetchone()
    if hit:
        tree = CodeTree.load(db)
        c = next(
            c
            for c in tree.stored_clashes(db, turn_id=t.id, coder=coder)
            if coding_id in (c["coding_id"], c["other_id"])
        )
        mine, theirs = (c["code"], c["other"]) if coding_id == c["coding_id"] else (c["other"], c["code"])
        raise ExclusiveClash(
            f"{c['parent']} is exclusive: {t.interview_id} turn {t.idx} already has {theirs} by {coder}, so {mine} "
            "cannot be added beside it; remove the other first (qualcode unapply)"
        )


def add_codes(
    db: Database,
    t: TurnRef,
    code_ids: list[int],
    coder: str,
    *,
    a: int,
    b: int,
    memo: str | None,
    origin: str,
    batch_id: int,
    session_id: str | None = None,
    scores: dict[int, float] | None = None,
) -> int:
    """Apply codes to a span; a "no code" decision on that turn by that coder is withdrawn. Returns rows added."""
    _retire(db, "turn_id = ? AND coder = ? AND code_id IS NULL", [t.id, coder], batch_id)
    added = 0
    for cid in code_ids:
        if (
            insert_coding(
                db,
                t,
                cid,
                coder,
                a,
                b,
                memo=memo,
                origin=origin,
                batch_id=batch_id,
                session_id=session_id,
                score=(scores or {}).get(cid),
            )
            is not None
        ):
            added += 1
    return added


def decide(
    db: Database,
    t: TurnRef,
    coder: str,
    code_ids: list[int],
    *,
    memo: str | None = None,
    origin: str = "manual",
    session_id: str | None = None,
    spans: list[tuple[int, int]] | None = None,
    scores: dict[int, float] | None = None,
    kind: str = "session",
    pairs: list[tuple[int, int, int]] | None = None,
) -> int:
    """One decision on a turn: this coder's codings there become exactly CODE_IDS (or "no code"). One batch.

    Codings that stay the same are left alone, so re-confirming a turn does not churn the history.
    PAIRS, when given, is the exact set of (code id, start, end) instead of CODE_IDS × SPANS: a review copies
    each coder's spans as they are, and a revisited turn keeps each code's own spans.
    """
    ranges = spans or [(t.start, t.end)]
    if pairs is not None:
        desired = set(pairs) or {(None, t.start, t.end)}
    else:
        desired = {(cid, a, b) for a, b in ranges for cid in code_ids} or {(None, t.start, t.end)}
    with transaction(db):
        ensure_coder(db, coder)
        batch = new_batch(db, coder, kind, session_id=session_id, description=f"{t.interview_id} turn {t.idx}")
        live = {
            (code_id, a, b): (cid, old_memo)
            for cid, code_id, a, b, old_memo in db.execute(
                "SELECT id, code_id, start, end, memo FROM live_codings WHERE turn_id = ? AND coder = ?", [t.id, coder]
            ).fetchall()
        }
        keep = set()
        for k, (cid, old_memo) in live.items():
            if k in desired and (memo is None or memo == old_memo):
                keep.add(k)
            else:
                _retire(db, "id = ?", [cid], batch)
        for code_id, a, b in sorted(desired - keep, key=lambda x: (x[1], x[0] or 0)):
            insert_coding(
                db,
                t,
                code_id,
                coder,
                a,
                b,
                memo=memo,
                origin=origin,
                batch_id=batch,
                session_id=session_id,
                score=(scores or {}).get(code_id),
            )
    return batch


def apply(
    db: Database,
    interview_id: str,
    idx: int,
    code_names: list[str],
    coder: str,
    *,
    start: int | None = None,
    end: int | None = None,
    memo: str | None = None,
) -> dict:
    """Scriptable coding: add CODE_NAMES to a turn (or part of it). One batch."""
    if not code_names:
        raise UsageError("name at least one code")
    with transaction(db):  # the coder too: an apply that fails must not leave a new coder behind
        coder = ensure_coder(db, coder)
        t = turn(db, interview_id, idx)
        tree = CodeTree.load(db)
        ids = [tree.resolve(n, codable=True).id for n in code_names]
        a, b = span(t, start, end)
        batch = new_batch(db, coder, "apply", description=f"{interview_id} turn {idx}: {', '.join(code_names)}")
        added = add_codes(db, t, ids, coder, a=a, b=b, memo=memo, origin="manual", batch_id=batch)
    return {"batch": batch, "added": added, "already": len(ids) - added}


def unapply(
    db: Database,
    interview_id: str,
    idx: int,
    code_names: list[str],
    coder: str,
    *,
    start: int | None = None,
    end: int | None = None,
) -> dict:
    """Remove codes from a turn (all of this coder's spans of them, or exactly --start/--end). Soft, undoable."""
    with transaction(db):
        t = turn(db, interview_id, idx)
        tree = CodeTree.load(db)
        ids = [tree.resolve(n).id for n in code_names]
        batch = new_batch(db, coder, "unapply", description=f"{interview_id} turn {idx}: {', '.join(code_names)}")
        removed = 0
        for cid in ids:
            if start is None and end is None:
                removed += _retire(db, "turn_id = ? AND coder = ? AND code_id = ?", [t.id, coder, cid], batch)
            else:
                a, b = span(t, start, end)
                removed += _retire(
                    db,
                    "turn_id = ? AND coder = ? AND code_id = ? AND start = ? AND end = ?",
                    [t.id, coder, cid, a, b],
                    batch,
                )
        if not removed:
            raise NotFoundError(f"{coder} has no such coding on {interview_id} turn {idx}")
    return {"batch": batch, "removed": removed}


def translate(
    db: Database,
    interview_id: str,
    idx: int,
    text: str | None,
    coder: str,
    *,
    start: int | None = None,
    end: int | None = None,
) -> dict:
    """Set (or with TEXT None, clear) the coder's translation of what they coded in a turn: every live coding of
    CODER on the turn, or only those on exactly --start/--end. Exports print it beside the quote, which stays as
    spoken; no machine translation is made."""
    if text is not None and not text.strip():
        raise UsageError("the translation is empty: give its text, or --clear to remove one")
    with transaction(db):
        t = turn(db, interview_id, idx)
        where, params = "turn_id = ? AND coder = ? AND code_id IS NOT NULL", [t.id, coder]
        if start is not None or end is not None:
            a, b = span(t, start, end)
            where += " AND start = ? AND end = ?"
            params += [a, b]
        changed = db.execute(
            f"UPDATE codings SET translation = ? WHERE deleted_at IS NULL AND {where}",
            [" ".join(text.split()) if text else None, *params],
        ).rowcount
        if not changed:
            raise NotFoundError(f"{coder} has no coding on {interview_id} turn {idx} to translate")
    return {"codings": changed, "cleared": text is None}


def undo(db: Database, coder: str, batch_id: int | None = None) -> dict:
    """Reverse a batch (default: the coder's latest one not yet undone). Soft: rows are retired or revived."""
    with transaction(db):
        if batch_id is None:
            row = db.execute(
                "SELECT id FROM batches WHERE coder = ? AND undone_at IS NULL AND kind != 'undo' ORDER BY id DESC "
                "LIMIT 1",
                [coder],
            ).fetchone()
            if not row:
                raise NotFoundError(f"{coder} has nothing to undo")
            batch_id = row[0]
        if not fits_sqlite(batch_id):
            raise NotFoundError(f"no batch {batch_id} (see 'qualcode history')")
        row = db.execute("SELECT coder, kind, undone_at FROM batches WHERE id = ?", [batch_id]).fetchone()
        if not row:
            raise NotFoundError(f"no batch {batch_id} (see 'qualcode history')")
        if row[1] in TREE_KINDS:
            raise UsageError(
                f"batch {batch_id} ({row[1]}) changed the code tree: the code its codings had is gone, so it cannot "
                "be undone (the history keeps what it did)"
            )
        if row[0] != coder:
            raise UsageError(f"batch {batch_id} belongs to {row[0]}, not {coder}")
        if row[2]:
            raise UsageError(f"batch {batch_id} was already undone at {row[2]}")
        _refuse_mixing(db, coder, batch_id)
        undo_batch = new_batch(db, coder, "undo", description=f"undo batch {batch_id}")
        retired = _retire(db, "batch_id = ? OR revived_batch_id = ?", [batch_id, batch_id], undo_batch)
        revived = 0
        # A coding whose code was removed since has no code left: revived, it would read as a "no code" decision.
        lost = db.execute(
            "SELECT count(*) FROM codings WHERE deleted_batch_id = ? AND code_id IS NULL AND memo LIKE ?",
            [batch_id, REMOVED_LIKE],
        ).fetchone()[0]
        revived_at = now()  # a revival is an event of its own: merge weighs it against the other project's removal
        for (cid,) in db.execute(
            "SELECT id FROM codings WHERE deleted_batch_id = ? AND NOT (code_id IS NULL AND coalesce(memo, '') LIKE ?)",
            [batch_id, REMOVED_LIKE],
        ).fetchall():
            try:
                db.execute(
                    "UPDATE codings SET deleted_at = NULL, deleted_batch_id = NULL, revived_at = ?, "
                    "revived_batch_id = ? WHERE id = ?",
                    [revived_at, undo_batch, cid],
                )
                revived += 1
            except Exception:  # an identical coding is live again meanwhile; keep that one
                continue
        db.execute("UPDATE batches SET undone_at = ? WHERE id = ?", [revived_at, batch_id])
    return {"batch": batch_id, "kind": row[1], "removed": retired, "restored": revived, "lost": lost}


def _refuse_mixing(db: Database, coder: str, batch_id: int) -> None:
    """A batch whose turns the coder decided again since cannot be undone alone: what it retired would come back
    beside the later decision, a mix of two decisions that is neither (a reopened turn settled again, then the
    reopening undone). The later batch is undone first, or neither."""
    tree = ", ".join("?" * len(TREE_KINDS))
    later = db.execute(
        f"""SELECT k.id, t.interview_id, t.idx FROM codings o
            JOIN batches k ON k.id IN (o.batch_id, o.deleted_batch_id, o.revived_batch_id)
            JOIN turns t ON t.id = o.turn_id
            WHERE o.coder = ? AND k.id > ? AND k.undone_at IS NULL AND k.kind NOT IN ('undo', {tree})
              AND o.turn_id IN (SELECT turn_id FROM codings WHERE ? IN (batch_id, deleted_batch_id, revived_batch_id))
            ORDER BY k.id DESC, t.interview_id, t.idx LIMIT 1""",
        [coder, batch_id, *TREE_KINDS, batch_id],
    ).fetchone()
    if later:
        raise ConflictError(
            f"batch {batch_id} cannot be undone: batch {later[0]} changed {later[1]} turn {later[2]} since, and the "
            f"two would mix; undo batch {later[0]} first (qualcode undo --coder {coder} --batch {later[0]})"
        )


def history(db: Database, coder: str | None = None, since: str | None = None, limit: int | None = None) -> list[dict]:
    """Batches newest first with what each added and removed."""
    if since:
        try:
            dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--since expects a date such as 2026-11-01, got {since!r}") from None
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    # added/removed are what the batch did when it ran (counted then, see m014), NULL where an older project had
    # already lost them; coders are the affected coders of a change to the code tree, else the batch's coder.
    sql = """SELECT b.id, b.created_at, b.coder, b.kind, b.description, b.session_id, b.undone_at, b.added,
                    b.removed, b.coders
             FROM batches b WHERE 1=1"""
    params: list = []
    if coder:
        sql += " AND (b.coder = ? OR EXISTS (SELECT 1 FROM json_each(b.coders) WHERE value = ?))"
        params += [coder, coder]
    if since:
        sql += " AND b.created_at >= ?"
        params.append(since)
    sql += " ORDER BY b.id DESC"
    if limit:
        sql += f" LIMIT {min(int(limit), SQLITE_MAX_INT)}"
    keys = ["batch", "time", "coder", "kind", "description", "session", "undone_at", "added", "removed"]
    return [
        dict(zip(keys, r[:-1], strict=True), coders=json.loads(r[-1]) if r[-1] else [r[2]] if r[2] else [])
        for r in db.execute(sql, params)
    ]
