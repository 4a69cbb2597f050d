"""A small coded project for the session tests: two shipped transcripts, an inline codebook, suggestion rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import CORPUS, query, write

CODEBOOK_YML = """\
codebook: Session test
min_score: 0.5
codes:
  - name: Relevance
    codable: false
    children:
      - name: Needs
      - name: COVID-19 adaptation
  - name: Efficiency
    children:
      - name: Funding and timeliness
      - name: Staffing
  - name: Impact
    threshold: 0.7
  - name: Sustainability
  - name: Rating
    codable: false
    exclusive: true
    children:
      - name: High
      - name: Low
"""


def project(cli, tmp_path: Path, interviews=("INT-01", "INT-02")) -> None:
    cli("import", *[CORPUS / f"{i}.md" for i in interviews])
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK_YML))


def participant_turns(db_path: Path) -> list[dict]:
    """Participant turns in document order: the default scope of a session."""
    keys = ["id", "interview", "idx", "start", "end", "text"]
    return [
        dict(zip(keys, r, strict=True))
        for r in query(
            db_path,
            """SELECT t.id, t.interview_id, t.idx, t.start, t.end, t.text FROM turns t
               JOIN speakers s ON s.id = t.speaker_id WHERE s.participant_id IS NOT NULL
               ORDER BY t.interview_id, t.idx""",
        )
    ]


def code_id(db_path: Path, name: str) -> int:
    return query(db_path, "SELECT id FROM codes WHERE name = ?", [name])[0][0]


def suggest(
    db_path: Path, turn: dict, code: str, score: float, words=(), *, source="pattern", unit="turn", probability=0.9
) -> None:
    """One suggestion row as the engine writes it: absolute offsets, evidence found in the turn text. PROBABILITY
    is the model's calibrated one (likely enough to be pre-checked unless a test says otherwise; None for pattern
    evidence alone)."""
    evidence = []
    for w in words:
        at = turn["text"].index(w)
        evidence.append({"start": turn["start"] + at, "end": turn["start"] + at + len(w), "text": w, "pattern": w})
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            """INSERT INTO suggestions (interview_id, turn_id, code_id, unit, start, end, score, pattern_score,
               model_score, probability, source, evidence, pattern_hash, model_version, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, 'h', NULL, '2026-01-01T00:00:00Z')""",
            [
                turn["interview"],
                turn["id"],
                code_id(db_path, code),
                unit,
                turn["start"],
                turn["end"],
                score,
                score,
                probability,
                source,
                json.dumps(evidence),
            ],
        )
    conn.close()


def live(db_path: Path, coder: str, turn: dict | None = None) -> list[tuple]:
    """(turn idx, code name or None, start, end, memo, origin) of a coder's live codings."""
    sql = """SELECT t.idx, k.name, c.start, c.end, c.memo, c.origin FROM codings c JOIN turns t ON t.id = c.turn_id
             LEFT JOIN codes k ON k.id = c.code_id WHERE c.coder = ? AND c.deleted_at IS NULL"""
    params: list = [coder]
    if turn:
        sql += " AND c.turn_id = ?"
        params.append(turn["id"])
    return query(db_path, sql + " ORDER BY t.interview_id, t.idx, k.name", params)


def names(db_path: Path, coder: str, turn: dict) -> set:
    return {r[1] for r in live(db_path, coder, turn)}


NATO = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet", "Kilo", "Lima"]


def many_codes(cli, db_path: Path, tmp_path: Path, interview: str, top: float, **kw) -> dict:
    """A flat codebook of the twelve NATO names, each suggested on the interview's first participant turn (scores
    from TOP down by 0.01, in that order; KW to `suggest`): more codes than the nine numbered ones. The turn."""
    cli("import", CORPUS / f"{interview}.md")
    codes = "".join(f"  - name: {n}\n" for n in NATO)
    cli("codebook", "load", write(tmp_path / "many.yml", f"codebook: Many\ncodes:\n{codes}"))
    turn = participant_turns(db_path)[0]
    for n, name in enumerate(NATO):
        suggest(db_path, turn, name, top - n / 100, **kw)
    return turn
