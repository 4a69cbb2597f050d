"""Where OTHER's codings land in this project, for merge: each interview of OTHER is matched to one here, and each
coding placed on a turn here, or orphaned.

Interviews: by text_hash (the normalised text), so the same transcript imported under another id still matches;
then by id, with a warning, when the texts differ. The same text: a coding keeps its offsets. Texts that differ: it
is placed by its quote with reanchor's rules (exact occurrence nearest the expected place, else a similar span, else
orphaned).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass

from sqlite_utils import Database

from qualcode.coding.merge_read import Other
from qualcode.ingest import reanchor


@dataclass
class Placed:
    row: dict  # OTHER's coding
    interview: str  # here
    turn: reanchor.Turn | None  # here; None: orphaned
    start: int
    end: int
    code: int | None  # here; None for "no code"
    unknown: bool = False  # its code has no counterpart here

    @property
    def guid(self) -> str:
        return self.row["guid"]

    @property
    def live(self) -> bool:
        return self.row["deleted_at"] is None

    @property
    def key(self) -> tuple:
        return self.code, self.start, self.end


def place(
    db: Database, other: Other, code_map: dict[int, int | None], name: str
) -> tuple[list[Placed], list[dict], list[str]]:
    """Every coding of OTHER placed here (CODE_MAP: OTHER's code id → the code here, None when unknown here); how
    each interview of OTHER matched (one dict each); and the warnings for interviews whose texts differ. NAME: how
    OTHER is called in a warning."""
    here = dict(db.execute("SELECT id, text_hash FROM interviews").fetchall())
    by_hash: dict[str, list[str]] = defaultdict(list)
    for iid, h in sorted(here.items()):
        by_hash[h].append(iid)
    by_interview: dict[str, list[dict]] = defaultdict(list)
    for c in other.codings:
        by_interview[c["interview_id"]].append(c)
    placed: list[Placed] = []
    interviews: list[dict] = []
    warnings: list[str] = []
    for oid, o in sorted(other.interviews.items()):
        rows = by_interview.get(oid, [])
        same = by_hash.get(o["text_hash"], [])
        target = (oid if oid in same else same[0]) if same else (oid if oid in here else None)
        how = "hash" if same else "id" if target else None
        entry = {"interview": oid, "here": target, "matched": how, "codings": len(rows)}
        interviews.append(entry)
        if target is None:
            continue
        turns = reanchor.turns(db, target)
        if how == "hash":
            spots = _by_offsets(rows, turns)
        else:
            text = db.execute("SELECT text FROM interviews WHERE id = ?", [target]).fetchone()[0]
            spots = _by_quotes(other, o, rows, text, turns, entry)
            warnings.append(
                f"{oid}: the text differs from {name}'s; its {sum(entry[k] for k in _METHODS)} live codings were "
                f"placed by their quotes ({entry['exact']} exact, {entry['fuzzy']} fuzzy, {entry['orphaned']} "
                "orphaned)"
            )
        for c in rows:
            t, a, b = spots[c["id"]]
            code = code_map.get(c["code_id"]) if c["code_id"] is not None else None
            placed.append(Placed(c, target, t, a, b, code, c["code_id"] is not None and code is None))
    return placed, interviews, warnings


_METHODS = ("exact", "fuzzy", "orphaned")


def _by_quotes(
    other: Other, o: dict, rows: list[dict], text: str, turns: list[reanchor.Turn], entry: dict
) -> dict[int, tuple]:
    """The texts differ: place each coding by its quote, as a re-import with --replace would; ENTRY counts how."""
    old_turns = other.turns.get(o["id"], [])
    pos = {t.id: i for i, t in enumerate(old_turns)}
    codings = [
        reanchor.Coding(
            c["id"],
            pos.get(c["turn_id"]),
            c["coder"],
            c["code_id"],
            c["start"],
            c["end"],
            c["quote"],
            c["deleted_at"] is None,
            c.get("said_by"),
        )
        for c in rows
    ]
    out = {}
    counts = dict.fromkeys(_METHODS, 0)
    for c, p in reanchor.place(o["text"], old_turns, text, turns, codings):
        if p is None:
            out[c.id] = (None, c.start, c.end)
        elif c.code_id is None:  # "no code" is a decision on the whole turn
            out[c.id] = (p.turn, p.turn.start, p.turn.end)
        else:
            out[c.id] = (p.turn, p.start, p.end)
        if c.live:
            counts["orphaned" if p is None else p.method] += 1
    entry.update(counts)
    return out


def _by_offsets(rows: list[dict], turns: list[reanchor.Turn]) -> dict[int, tuple]:
    """The text is the same: a coding keeps its offsets, in the turn here that holds them."""
    starts = [t.start for t in turns]
    out = {}
    for c in rows:
        a, b = c["start"], c["end"]
        i = bisect.bisect_right(starts, a) - 1
        inside = c["turn_id"] is not None and i >= 0 and b <= turns[i].end
        out[c["id"]] = (turns[i] if inside else None, a, b)
    return out
