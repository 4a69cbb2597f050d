"""Participants: gender normalisation and gender-disaggregated counts of distinct people."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlite_utils import Database

from qualcode.errors import NotFoundError

NOT_RECORDED = "not recorded"
_GENDER = {
    "woman": "woman",
    "women": "woman",
    "female": "woman",
    "f": "woman",
    "w": "woman",
    "girl": "woman",
    "man": "man",
    "men": "man",
    "male": "man",
    "m": "man",
    "boy": "man",
}
GENDER_ORDER = ["woman", "man"]


def normalise_gender(value: str | None) -> str:
    """woman/female/f → woman, man/male/m → man, other values kept as written, missing → 'not recorded'."""
    if value is None or not str(value).strip():
        return NOT_RECORDED
    text = str(value).strip()
    return _GENDER.get(text.casefold(), text)


def gender_order(values) -> list[str]:
    rest = sorted(v for v in set(values) if v not in GENDER_ORDER and v != NOT_RECORDED)
    return [g for g in GENDER_ORDER if g in values] + rest + ([NOT_RECORDED] if NOT_RECORDED in values else [])


def attribute_names(db: Database) -> dict[str, list[str]]:
    """Attribute names known in the project, by level."""
    return {
        "participant": [r[0] for r in db.execute("SELECT DISTINCT name FROM participant_attributes ORDER BY name")],
        "interview": [r[0] for r in db.execute("SELECT DISTINCT name FROM interview_attributes ORDER BY name")],
    }


def participant_values(db: Database, attribute: str) -> dict[str, set[str]]:
    """participant id → the values of ATTRIBUTE that apply to them.

    A participant attribute has one value per person. An interview attribute applies to that interview's participants,
    so a person interviewed in two case studies counts once under each.
    """
    if attribute == "gender":
        return {pid: {g} for pid, g in db.execute("SELECT id, gender FROM participants")}
    out: dict[str, set[str]] = defaultdict(set)
    if attribute == "language":  # the language of the interviews a person took part in
        for pid, value in db.execute(
            """SELECT ip.participant_id, i.language FROM interview_participants ip
               JOIN interviews i ON i.id = ip.interview_id"""
        ):
            out[pid].add(value)
        return out
    rows = list(db.execute("SELECT participant_id, value FROM participant_attributes WHERE name = ?", [attribute]))
    if rows:
        for pid, value in rows:
            out[pid].add(value)
        return out
    rows = list(
        db.execute(
            """SELECT ip.participant_id, ia.value FROM interview_participants ip
               JOIN interview_attributes ia ON ia.interview_id = ip.interview_id AND ia.name = ?""",
            [attribute],
        )
    )
    if not rows:
        known = attribute_names(db)
        names = sorted({"gender", "language", *known["participant"], *known["interview"]})
        raise NotFoundError(f"no attribute {attribute!r} in this project (known: {', '.join(names) or 'none'})")
    for pid, value in rows:
        out[pid].add(value)
    return out


def counts(
    db: Database, by: str | None = None, *, kind: str = "interviewee", only: Collection[str] | None = None
) -> dict:
    """{"total", "by_gender", ["by": {"attribute", "rows": [{"value", "total", "by_gender"}]}]}, from the data.

    Distinct people of KIND (the people interviewed, by default: respondents and documents are counted apart), or
    of those the ONLY ids name: the one way qualcode counts people, for the study and for any denominator.
    """
    genders = dict(db.execute("SELECT id, gender FROM participants WHERE kind = ?", [kind]).fetchall())
    if only is not None:
        genders = {pid: g for pid, g in genders.items() if pid in only}
    order = gender_order(genders.values())
    result: dict = {"total": len(genders), "by_gender": {g: 0 for g in order}}
    for g in genders.values():
        result["by_gender"][g] += 1
    if by:
        groups: dict[str, set[str]] = defaultdict(set)
        values = participant_values(db, by)
        for pid in genders:
            for v in values.get(pid) or {NOT_RECORDED}:
                groups[v].add(pid)
        rows = []
        for value in sorted(groups, key=lambda v: (v == NOT_RECORDED, v.casefold())):
            members = groups[value]
            by_gender = {g: sum(1 for p in members if genders[p] == g) for g in order}
            rows.append({"value": value, "total": len(members), "by_gender": by_gender})
        result["by"] = {"attribute": by, "rows": rows}
    return result


def listing(db: Database, kind: str = "interviewee") -> list[dict]:
    """Every person of KIND (the people interviewed, by default) with gender, attributes and their sources."""
    attrs: dict[str, dict[str, str]] = defaultdict(dict)
    for pid, name, value in db.execute("SELECT participant_id, name, value FROM participant_attributes"):
        attrs[pid][name] = value
    interviews: dict[str, list[str]] = defaultdict(list)
    for iid, pid in db.execute("SELECT interview_id, participant_id FROM interview_participants ORDER BY interview_id"):
        interviews[pid].append(iid)
    return [
        {"id": pid, "name": name, "gender": gender, "interviews": interviews[pid], "attributes": attrs[pid]}
        for pid, name, gender in db.execute(
            "SELECT id, name, gender FROM participants WHERE kind = ? ORDER BY id", [kind]
        )
    ]
