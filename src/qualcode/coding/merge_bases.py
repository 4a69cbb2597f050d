"""What a consensus decision was settled on (its basis, store.batches.basis), carried by merge with the decision."""

from __future__ import annotations

from collections import defaultdict

from sqlite_utils import Database

from qualcode.coding.merge_place import Placed
from qualcode.coding.merge_read import Other
from qualcode.store.batches import UNSETTLED, basis, record_basis, record_unsettled


def carry_bases(
    db: Database, other: Other, batches: dict[str, int], code_map: dict[int, int | None], placed: list[Placed]
) -> None:
    """What a consensus decision was settled on comes with it: on each turn where this merge brought a consensus
    coder's codings (its batch made, retired or revived them), the basis OTHER has for that decision, in this
    project's codes and offsets, when the decision here is OTHER's, from one turn of OTHER with the same text,
    and every code maps. A conflict that kept this project's decision keeps what it was settled on here. Else the
    decision is recorded as unsettled (it reads as changed until a review here settles it): judged by times, a
    change made here before the colleague's review would pass for one the colleague saw. Where OTHER itself
    knows no basis (an older decision), the turn is judged by times, as there."""
    others = {t.id: t for turns in other.turns.values() for t in turns}
    for coder, bases in sorted(other.bases.items()):
        batch = batches.get(coder)
        if batch is None:
            continue
        local = basis(db, coder, before=batch)  # as it was here before this merge
        came_from: dict[int, set] = defaultdict(set)  # a turn here → the turns of OTHER its codings came from
        turns = {}
        for p in placed:
            if p.turn and p.row["coder"] == coder:
                came_from[p.turn.id].add(p.row["turn_id"])
                turns[p.turn.id] = p.turn
        decided: dict[int, set] = defaultdict(set)  # a turn of OTHER → the consensus's live codings there
        for c in other.codings:
            if c["coder"] == coder and c["deleted_at"] is None:
                decided[c["turn_id"]].add((coder, c["code_id"], c["start"], c["end"]))
        for (turn_id,) in db.execute(
            """SELECT DISTINCT turn_id FROM codings WHERE coder = ? AND turn_id IS NOT NULL
               AND ? IN (batch_id, deleted_batch_id, revived_batch_id) ORDER BY turn_id""",
            [coder, batch],
        ).fetchall():
            sources = came_from[turn_id]
            mine = {
                (coder, *r)
                for r in db.execute(
                    "SELECT code_id, start, end FROM live_codings WHERE coder = ? AND turn_id = ?", [coder, turn_id]
                )
            }
            if not mine or all(bases.get(s) is None for s in sources):
                continue
            there = next(iter(sources)) if len(sources) == 1 else None
            here, there_turn = turns.get(turn_id), others.get(there)
            settled_on = theirs = None
            if here and there_turn and here.text == there_turn.text and isinstance(bases.get(there), set):
                shift = here.start - there_turn.start  # the same text at another place in the interview
                settled_on = _mapped(code_map, bases[there], shift)
                theirs = _mapped(code_map, decided[there], shift)
            if settled_on is not None and theirs == mine:
                record_basis(db, batch, turn_id, _versions(settled_on))
            elif theirs is not None and theirs != mine:
                # A conflict kept this project's decision: a basis is only ever that of the decision it is
                # recorded with, and this one's is what it was settled on here (by times, if nothing says).
                if isinstance(settled_here := local.get(turn_id), set):
                    record_basis(db, batch, turn_id, _versions(settled_here))
                elif settled_here == UNSETTLED:
                    record_unsettled(db, batch, turn_id)
            else:
                record_unsettled(db, batch, turn_id)


def _versions(rows: set[tuple]) -> dict[str, list[tuple]]:
    """(coder, code id, start, end) rows as record_basis takes them: each coder's (code id, start, end)."""
    out: dict[str, list[tuple]] = defaultdict(list)
    for who, *row in rows:
        out[who].append(tuple(row))
    return out


def _mapped(code_map: dict[int, int | None], rows: set[tuple], shift: int) -> set[tuple] | None:
    """OTHER's (coder, code id, start, end) rows in this project's codes and offsets; None when a code has no
    counterpart here."""
    out = set()
    for who, code, a, b in rows:
        mine = code_map.get(code) if code is not None else None
        if code is not None and mine is None:
            return None
        out.add((who, mine, a + shift, b + shift))
    return out
