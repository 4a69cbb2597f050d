"""Which turns a session walks: the scope (interviews, a code's branch, undecided turns, all turns), in document
order or the least certain suggestions first, and the score floor that decides what counts as suggested."""

from __future__ import annotations

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree, require_settings
from qualcode.errors import UsageError
from qualcode.ingest import interviews

ORDERS = ("document", "uncertain")


def min_score(db: Database, override: float | None = None) -> float:
    """The score a suggestion needs when its code has no threshold of its own."""
    if override is not None:
        if not 0 <= override <= 1:
            raise UsageError(f"--min-score must be between 0 and 1, got {override}")
        return override
    return require_settings(db).min_score


def interview_clause(db: Database, ids: list[str] | tuple[str, ...], column: str) -> tuple[str, list]:
    """' AND column IN (...)' with its parameters; every id must exist, so a typo is an error, not an empty scope."""
    if not ids:
        return "", []
    for iid in ids:
        interviews.require(db, iid)
    return f" AND {column} IN ({', '.join('?' for _ in ids)})", list(ids)


def scope(
    db: Database,
    coder: str,
    *,
    interview_ids: list[str] | tuple[str, ...] = (),
    code: str | None = None,
    uncoded: bool = False,
    order: str = "document",
    score: float | None = None,
    all_turns: bool = False,
) -> list[int]:
    """The turn ids a session walks through, in the order it walks them.

    One query over turns (plus one over suggestions for --order uncertain): screens are then fetched by id, so
    the size of the project does not slow down moving from one turn to the next.
    """
    if order not in ORDERS:
        raise UsageError(f"--order must be one of {', '.join(ORDERS)}, got {order!r}")
    floor = min_score(db, score)
    sql = "SELECT t.id FROM turns t JOIN speakers s ON s.id = t.speaker_id WHERE 1=1"
    params: list = []
    if not all_turns:
        sql += " AND s.participant_id IS NOT NULL"
    where, more = interview_clause(db, interview_ids, "t.interview_id")
    sql += where
    params += more
    sub: list[int] = []
    if code:
        tree = CodeTree.load(db)
        sub = tree.subtree_ids(tree.resolve(code).id)
        marks = ", ".join("?" for _ in sub)
        sql += f""" AND (t.id IN (SELECT sg.turn_id FROM suggestions sg WHERE sg.code_id IN ({marks})
                                  AND sg.unit = 'turn' AND {tree.shown_sql(db, "sg", default=floor)})
                    OR t.id IN (SELECT turn_id FROM live_codings WHERE coder = ? AND code_id IN ({marks})))"""
        params += [*sub, coder, *sub]
    if uncoded:
        sql += " AND NOT EXISTS (SELECT 1 FROM live_codings k WHERE k.turn_id = t.id AND k.coder = ?)"
        params.append(coder)
    sql += " ORDER BY t.interview_id, t.idx"
    ids = [r[0] for r in db.execute(sql, params)]
    if order == "uncertain":
        ids = _by_uncertainty(db, ids, floor, sub)
    return ids


def _by_uncertainty(db: Database, ids: list[int], floor: float, sub: list[int]) -> list[int]:
    """Turns whose suggestion is closest to its threshold first; turns without suggestions last.

    Each code is its own yes/no decision, so a turn is as uncertain as its least certain code: a turn with one
    sure suggestion and one borderline one still needs a person. With --code, only that subtree counts.
    """
    CodeTree.load(db).shown_sql(db, "sg", default=floor)  # registers qualcode_threshold on the connection
    sql = """SELECT sg.turn_id, min(abs(sg.score - qualcode_threshold(sg.code_id))) FROM suggestions sg
             WHERE sg.unit = 'turn'"""
    params: list = []
    if sub:
        sql += f" AND sg.code_id IN ({', '.join('?' for _ in sub)})"
        params += sub
    distance = dict(db.execute(sql + " GROUP BY sg.turn_id", params).fetchall())
    position = {t: i for i, t in enumerate(ids)}
    return sorted(ids, key=lambda t: (t not in distance, distance.get(t, 0), position[t]))


def decided_turns(db: Database, coder: str) -> set[int]:
    """Turns where CODER has a live coding, "no code" included."""
    return {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT turn_id FROM live_codings WHERE coder = ? AND turn_id IS NOT NULL", [coder]
        )
    }
