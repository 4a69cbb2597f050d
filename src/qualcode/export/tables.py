"""Flat exports for spreadsheets and statistics software: every coded segment, and the participant list with counts."""

from __future__ import annotations

from collections import defaultdict

from sqlite_utils import Database

from qualcode.export import segments as coded
from qualcode.export.redact import Redactor, redactor
from qualcode.ingest.participants import attribute_names, counts, listing

SEGMENT_COLUMNS = [
    "code",
    "criterion",
    "coder",
    "interview",
    "turn",
    "start",
    "end",
    "speaker",
    "role",
    "participant",
    "gender",
    "text",
    "language",
    "translation",
    "memo",
]
PARTICIPANT_COLUMNS = ["id", "speaker", "name", "gender", "interviews"]
BREAKDOWNS = (coded.STAKEHOLDER, coded.CASE_STUDY)


def segments(db: Database, *, coder: str | None = None, redact: bool = False, allow_incomplete: bool = False) -> dict:
    """One row per coded segment of CODER, in criterion then transcript order.

    start and end are offsets within the turn (code points, end exclusive). Attribute columns are named
    interview.NAME and participant.NAME, one per attribute in the project, so the two levels never collide.
    """
    data = coded.select(db, coder, allow_incomplete=allow_incomplete)
    coder = data["coder"]
    r = redactor(db, redact)
    known = attribute_names(db)
    columns = [
        *SEGMENT_COLUMNS,
        *(f"interview.{n}" for n in known["interview"]),
        *(f"participant.{n}" for n in known["participant"]),
    ]
    rows = []
    for s in data["segments"]:
        person = s["role"] != "document"  # a document's paragraph has no speaker, so no participant or gender
        row = {
            "code": s["code"],
            "criterion": s["criterion"],
            "coder": s["coder"],
            "interview": r.interview(s["interview"]),
            "turn": s["turn"],
            "start": s["start"],
            "end": s["end"],
            "speaker": r.speaker(s["speaker"], s["participant"]) if person else None,
            "role": s["role"],
            "participant": r.participant(s["participant"]) if person else None,
            "gender": s["gender"] if person else None,
            "text": r(s["text"]),
            "language": s["language"],
            "translation": r(s["translation"]) if s.get("translation") else None,
            "memo": r(s["memo"]),
            "interview_attributes": {k: r(v) for k, v in s["interview_attributes"].items()},
            "participant_attributes": {k: r(v) for k, v in s["participant_attributes"].items()},
        }
        rows.append(row)
    return {
        "coder": coder,
        "consensus": data["consensus"],
        "redacted": r.enabled,
        "columns": columns,
        "segments": rows,
        "orphaned": data["orphaned"],
        # Codings on interviewers' turns are rows here (role interviewer), not left out: that caveat does not apply.
        "caveats": coded.caveats({**data, "interviewer_segments": 0}),
    }


def flat(row: dict) -> dict:
    """A segment row with one column per attribute, for CSV and spreadsheets."""
    out = {k: v for k, v in row.items() if not k.endswith("_attributes")}
    out.update({f"interview.{k}": v for k, v in row["interview_attributes"].items()})
    out.update({f"participant.{k}": v for k, v in row["participant_attributes"].items()})
    return out


def _labels(db: Database) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for pid, label in db.execute(
        "SELECT DISTINCT participant_id, label FROM speakers WHERE participant_id IS NOT NULL ORDER BY label"
    ):
        out[pid].append(label)
    return out


def participants(
    db: Database, *, coder: str | None = None, redact: bool = False, allow_incomplete: bool = False
) -> dict:
    """The participant list and gender-disaggregated counts overall, by stakeholder group and by case study.

    With CODER, each participant also has the number of segments that coder coded in their turns.
    """
    r: Redactor = redactor(db, redact)
    coded_by = None
    if coder:
        coded_by = defaultdict(int)
        for s in coded.select(db, coder, allow_incomplete=allow_incomplete)["segments"]:
            if s["participant"]:
                coded_by[s["participant"]] += 1
    labels = _labels(db)
    known = attribute_names(db)
    people = []
    found = listing(db)
    # A name is most often the speaker label itself (the importer falls back to it): a second column saying the
    # same is noise. Redacted, both are the study id.
    named = not r.enabled and any(p["name"] and p["name"] not in labels.get(p["id"], []) for p in found)
    for p in found:
        pid = p["id"]
        row = {
            "id": r.participant(pid),
            "speaker": r.participant(pid) if r.enabled else " | ".join(labels.get(pid, [])),
            **({"name": p["name"]} if named else {}),
            "gender": p["gender"],
            "interviews": [r.interview(i) for i in p["interviews"]],
            "attributes": {k: r(v) for k, v in p["attributes"].items()},
        }
        if coded_by is not None:
            row["segments"] = coded_by.get(pid, 0)
        people.append(row)
    people.sort(key=lambda row: row["id"])
    breakdowns = {}
    names = {*known["participant"], *known["interview"]}
    for attr in BREAKDOWNS:
        if attr in names:
            by = counts(db, attr)["by"]
            breakdowns[attr] = [{**row, "value": r(row["value"])} for row in by["rows"]]
    overall = counts(db)
    columns = [c for c in PARTICIPANT_COLUMNS if named or c != "name"]
    columns += [*(["segments"] if coded_by is not None else []), *known["participant"]]
    return {
        "coder": coder,
        "redacted": r.enabled,
        "columns": columns,
        "participants": people,
        "counts": {"total": overall["total"], "by_gender": overall["by_gender"], "by": breakdowns},
    }


def participant_rows(data: dict) -> list[dict]:
    return [{**{k: v for k, v in p.items() if k != "attributes"}, **p["attributes"]} for p in data["participants"]]


def count_rows(data: dict, attr: str | None) -> tuple[list[dict], list[str]]:
    """Gender-disaggregated counts: overall (ATTR None) or one row per value of ATTR, with an 'all' row."""
    c = data["counts"]
    genders = list(c["by_gender"])
    label = attr or "participants"
    rows = [{label: row["value"], "total": row["total"], **row["by_gender"]} for row in c["by"].get(attr, [])]
    rows.append({label: "all", "total": c["total"], **c["by_gender"]})
    return rows, [label, "total", *genders]
