"""Where two coders differ: turns both decided (codes or "no code") whose sets of codes are not the same.

Spans are not compared here: two coders who chose the same codes for a turn agree on it, whichever sentences they
narrowed to. Character-level agreement is the agreement module's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.coding.scope import interview_clause
from qualcode.errors import UsageError
from qualcode.store.queries import require_coders

Coding = tuple[int | None, int, int, str | None]  # code id (None = "no code"), start, end, memo


@dataclass
class Disagreement:
    turn_id: int
    interview_id: str
    idx: int
    codings: dict[str, list[Coding]] = field(default_factory=dict)

    def codes(self, coder: str) -> set[int]:
        return {c[0] for c in self.codings.get(coder, []) if c[0] is not None}

    def memos(self, coder: str) -> list[str]:
        out: list[str] = []
        for c in self.codings.get(coder, []):
            if c[3] and c[3] not in out:
                out.append(c[3])
        return out


def coders_pair(db: Database, coders: list[str]) -> tuple[str, str]:
    """Two distinct coders who exist; the error lists the ones that do."""
    if len(coders) != 2 or coders[0] == coders[1]:
        raise UsageError("--coders takes two different coder names, e.g. --coders ana,ben")
    require_coders(db, coders)
    return coders[0], coders[1]


def compare(
    db: Database, a: str, b: str, *, code: str | None = None, interview_ids: list[str] | tuple[str, ...] = ()
) -> list[Disagreement]:
    """Every turn where A and B differ (on CODE's subtree, if given), in document order."""
    tree = CodeTree.load(db)
    sub = set(tree.subtree_ids(tree.resolve(code).id)) if code else None
    return [d for d in both_decided(db, a, b, interview_ids=interview_ids) if differ(d, a, b, sub)]


def differ(d: Disagreement, a: str, b: str, sub: set[int] | None = None) -> bool:
    """The rule: two coders differ on a turn when their sets of codes there (within SUB) are not the same."""
    sa, sb = d.codes(a), d.codes(b)
    if sub is not None:
        sa, sb = sa & sub, sb & sub
    return sa != sb


def both_decided(
    db: Database, a: str, b: str, *, interview_ids: list[str] | tuple[str, ...] = ()
) -> list[Disagreement]:
    """Every turn both A and B decided, with each one's codings, in document order."""
    where, params = interview_clause(db, interview_ids, "c.interview_id")
    turns: dict[int, Disagreement] = {}
    for turn_id, iid, idx, coder, code_id, start, end, memo in db.execute(
        f"""SELECT c.turn_id, t.interview_id, t.idx, c.coder, c.code_id, c.start, c.end, c.memo
            FROM live_codings c JOIN turns t ON t.id = c.turn_id
            WHERE c.coder IN (?, ?){where} ORDER BY c.id""",
        [a, b, *params],
    ):
        d = turns.setdefault(turn_id, Disagreement(turn_id, iid, idx))
        d.codings.setdefault(coder, []).append((code_id, start, end, memo))
    out = [d for d in turns.values() if a in d.codings and b in d.codings]
    return sorted(out, key=lambda d: (d.interview_id, d.idx))


def listing(
    db: Database, a: str, b: str, *, code: str | None = None, interview_ids: list[str] | tuple[str, ...] = ()
) -> list[dict]:
    """compare() as rows for a table: interview, turn, speaker, text, each coder's code paths and memos."""
    found = compare(db, a, b, code=code, interview_ids=interview_ids)
    paths = {c.id: c.path for c in CodeTree.load(db)}
    detail: dict[int, tuple[str, str]] = {}
    ids = [d.turn_id for d in found]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for tid, label, text in db.execute(
            f"""SELECT t.id, s.label, t.text FROM turns t JOIN speakers s ON s.id = t.speaker_id
                WHERE t.id IN ({", ".join("?" for _ in chunk)})""",
            chunk,
        ):
            detail[tid] = (label, text)

    def codes(d: Disagreement, coder: str) -> list[str]:
        return sorted(paths[c] for c in d.codes(coder)) or ["(no code)"]

    return [
        {
            "interview": d.interview_id,
            "turn": d.idx,
            "speaker": detail[d.turn_id][0],
            "text": detail[d.turn_id][1],
            f"{a}_codes": codes(d, a),
            f"{b}_codes": codes(d, b),
            f"{a}_memo": " | ".join(d.memos(a)) or None,
            f"{b}_memo": " | ".join(d.memos(b)) or None,
        }
        for d in found
    ]
