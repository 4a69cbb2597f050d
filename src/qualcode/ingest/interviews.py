"""Reading interviews back: the list, and one transcript with its turns and speakers."""

from __future__ import annotations

from collections import defaultdict

from sqlite_utils import Database

from qualcode.errors import NotFoundError


def interview_attributes(db: Database) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for iid, name, value in db.execute("SELECT interview_id, name, value FROM interview_attributes ORDER BY rowid"):
        out[iid][name] = value
    return out


def listing(db: Database) -> list[dict]:
    """id, title, date, format, language, participants, turns, words, attributes; in id order."""
    attrs = interview_attributes(db)
    rows = db.execute(
        """SELECT i.id, i.title, i.date, i.format, i.source_file, i.kind, i.language, i.language_detected,
                  (SELECT count(*) FROM interview_participants p WHERE p.interview_id = i.id),
                  (SELECT count(*) FROM turns t WHERE t.interview_id = i.id),
                  (SELECT coalesce(sum(words), 0) FROM turns t WHERE t.interview_id = i.id)
           FROM interviews i ORDER BY i.id"""
    )
    return [
        {
            "id": r[0],
            "title": r[1],
            "date": r[2],
            "format": r[3],
            "source_file": r[4],
            "kind": r[5],
            "language": r[6] + ("*" if r[7] else ""),  # * detected from the text, not declared
            "participants": r[8],
            "turns": r[9],
            "words": r[10],
            "attributes": attrs.get(r[0], {}),
        }
        for r in rows
    ]


def require(db: Database, interview_id: str) -> dict:
    row = db.execute(
        "SELECT id, title, date, language, source_file, format, kind FROM interviews WHERE id = ?", [interview_id]
    ).fetchone()
    if not row:
        ids = [r[0] for r in db.execute("SELECT id FROM interviews ORDER BY id LIMIT 6")]
        hint = f" (for example {', '.join(ids)})" if ids else " (the project has no interviews yet)"
        raise NotFoundError(f"no interview {interview_id!r}{hint}")
    return dict(zip(["id", "title", "date", "language", "source_file", "format", "kind"], row, strict=True))


def speaker_info(db: Database, interview_id: str) -> dict[int, dict]:
    """speaker id → label, role, participant id, gender and participant attributes."""
    pattrs: dict[str, dict[str, str]] = defaultdict(dict)
    for pid, name, value in db.execute(
        """SELECT pa.participant_id, pa.name, pa.value FROM participant_attributes pa
           JOIN speakers s ON s.participant_id = pa.participant_id WHERE s.interview_id = ?""",
        [interview_id],
    ):
        pattrs[pid][name] = value
    out = {}
    for sid, label, pid, ivid, gender in db.execute(
        """SELECT s.id, s.label, s.participant_id, s.interviewer_id, p.gender FROM speakers s
           LEFT JOIN participants p ON p.id = s.participant_id WHERE s.interview_id = ?""",
        [interview_id],
    ):
        out[sid] = {
            "label": label,
            "role": "participant" if pid else "interviewer",
            "participant": pid,
            "interviewer": ivid,
            "gender": gender,
            "attributes": pattrs.get(pid, {}),
        }
    return out


def transcript(db: Database, interview_id: str) -> dict:
    """The interview with its attributes, people and every turn (index, speaker, offsets, times, text)."""
    info = require(db, interview_id)
    info["attributes"] = interview_attributes(db).get(interview_id, {})
    speakers = speaker_info(db, interview_id)
    info["speakers"] = list(speakers.values())
    info["turns"] = [
        {
            "turn": idx,
            "speaker": speakers[sid]["label"],
            "role": speakers[sid]["role"],
            "participant": speakers[sid]["participant"],
            "gender": speakers[sid]["gender"],
            "start": start,
            "end": end,
            "start_s": ss,
            "end_s": es,
            "page": page,
            "context": context,
            "text": text,
        }
        for idx, sid, start, end, ss, es, page, context, text in db.execute(
            """SELECT idx, speaker_id, start, end, start_s, end_s, page, context, text FROM turns
               WHERE interview_id = ? ORDER BY idx""",
            [interview_id],
        )
    ]
    return info
