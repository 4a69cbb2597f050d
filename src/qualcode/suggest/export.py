"""Suggestions written out, one row per suggestion, as a coder would see them."""

from __future__ import annotations

import csv
import io
import json

from sqlite_utils import Database

from qualcode.codebook.tree import CodeTree
from qualcode.output.formulas import escape

COLUMNS = ["interview", "turn", "unit", "start", "end", "code", "score", "source", "evidence", "probability"]


def rows(db: Database, *, everything: bool = False, min_score: float | None = None):
    """Shown suggestions (score at or above the code's threshold, or else MIN_SCORE, else the codebook's min_score),
    or every stored pair; offsets relative to the turn."""
    tree = CodeTree.load(db, require=True)
    sql = """SELECT s.interview_id, t.idx, s.unit, s.start - t.start, s.end - t.start, s.code_id, s.score, s.source,
                    s.evidence, t.start, s.probability
             FROM suggestions s JOIN turns t ON t.id = s.turn_id JOIN codes c ON c.id = s.code_id"""
    if not everything:
        sql += " WHERE " + tree.shown_sql(db, "s", default=min_score)
    sql += " ORDER BY s.interview_id, t.idx, s.unit DESC, s.start, c.position"
    for iid, idx, unit, a, b, code_id, score, source, evidence, offset, probability in db.execute(sql):
        ev = [dict(e, start=e["start"] - offset, end=e["end"] - offset) for e in json.loads(evidence)]
        yield {
            "interview": iid,
            "turn": idx,
            "unit": unit,
            "start": a,
            "end": b,
            "code": tree[code_id].path,
            "score": score,
            "source": source,
            "evidence": ev,
            "probability": probability,
        }


def export(db: Database, fmt: str = "jsonl", *, everything: bool = False, min_score: float | None = None) -> str:
    if fmt == "jsonl":
        return "".join(
            json.dumps(r, ensure_ascii=False) + "\n" for r in rows(db, everything=everything, min_score=min_score)
        )
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")  # cells that would be formulas are written as text (output.formulas)
    w.writerow(COLUMNS)
    for r in rows(db, everything=everything, min_score=min_score):
        evidence = "; ".join(f"{e['text']} [{e['start']}:{e['end']}] ({e['pattern']})" for e in r["evidence"])
        cells = [
            r["interview"],
            r["turn"],
            r["unit"],
            r["start"],
            r["end"],
            r["code"],
            r["score"],
            r["source"],
            evidence,
            "" if r["probability"] is None else r["probability"],
        ]
        w.writerow([escape(str(c)) for c in cells])
    return buf.getvalue()
