"""The evaluation report's content: study overview, codebook, code frequencies by gender, codes by case study,
coding consistency and the theme summaries, as one JSON-ready dict. report_html.py turns it into the HTML file.

Every figure comes from the same loaded segments as the exports (coded.load), so the report and `export summary` /
`export matrix` always agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from qualcode.agreement.consensus import consensus_coders
from qualcode.codebook.tree import Code, require_settings
from qualcode.errors import NotFoundError
from qualcode.export import matrix, summary
from qualcode.export import segments as coded
from qualcode.export.redact import redactor
from qualcode.ingest.participants import counts as participant_counts
from qualcode.store.queries import coders as project_coders
from qualcode.text import language

FORMAT = "qualcode-report/1"


def report(
    db: Database,
    *,
    coder: str | None = None,
    redact: bool = False,
    allow_incomplete: bool = False,
    title: str | None = None,
    quotes: int = 3,
) -> dict:
    """Everything the HTML report shows, for CODER (see coded.choose_coder)."""
    data = coded.select(db, coder, allow_incomplete=allow_incomplete)
    coder = data["coder"]
    r = redactor(db, redact)
    settings = require_settings(db)
    people = participant_counts(db)
    by = {}
    for attr in (coded.STAKEHOLDER, coded.CASE_STUDY):
        try:
            by[attr] = participant_counts(db, attr)["by"]["rows"]
        except NotFoundError:
            by[attr] = None
    for rows in by.values():
        for row in rows or []:
            row["value"] = r(row["value"])
    annex = summary.build(db, data, quotes, r)
    kinds = dict(db.execute("SELECT kind, count(*) FROM interviews GROUP BY kind").fetchall())
    languages = db.execute(
        "SELECT language, count(*) FROM interviews WHERE kind = 'interview' GROUP BY language ORDER BY 2 DESC, 1"
    ).fetchall()
    respondents = participant_counts(db, kind="respondent")["total"]
    return {
        "format": FORMAT,
        "title": title or f"{settings.name}: qualitative findings",
        "coder": coder,
        "redacted": r.enabled,
        "codebook": {"name": settings.name, "version": settings.version, "codes": _codebook(data["tree"])},
        "overview": {
            "interviews": kinds.get("interview", 0),
            "surveys": kinds.get("survey", 0),
            "respondents": respondents,
            "documents": kinds.get("document", 0),
            "languages": {language.name(code): n for code, n in languages},  # interviews by the language held in
            "interviews_coded": annex["totals"]["interviews"],
            "participants": people["total"],
            "by_gender": people["by_gender"],
            "participants_coded": annex["totals"]["participants"],
            "coded_by_gender": annex["totals"]["by_gender"],
            "segments": annex["totals"]["segments"],
            "by": by,
        },
        "frequencies": frequencies(data, list(people["by_gender"])),
        "heatmap": _heatmap(db, data, r),
        "agreement": agreement(db),
        "summary": annex,
    }


def _codebook(codes: Iterable[Code]) -> list[dict]:
    return [
        {
            "path": c.path,
            "name": c.name,
            "depth": c.depth,
            "colour": c.colour,
            "definition": " ".join((c.definition or "").split()) or None,
            "codable": c.codable,
            "exclusive": c.exclusive,
        }
        for c in codes
    ]


def frequencies(data: dict, genders: list[str]) -> list[dict]:
    """Per criterion, each codable code's distinct participants by gender (a criterion's own codings as a row)."""
    people: dict[str, dict[str, set[str]]] = {}
    for s in data["segments"]:
        if s["role"] == "participant":
            people.setdefault(s["code"], {}).setdefault(s["gender"], set()).add(s["participant"])
    out = []
    for root in data["tree"].roots():
        rows = []
        for c in data["tree"]:
            if c.criterion_id != root.id or not c.codable:
                continue
            # Below the first level the path within the criterion keeps two children of different parents apart.
            own = c.id == root.id
            label = f"{c.name} (criterion itself)" if own else c.path.split("/", 1)[1].replace("/", " › ")
            got = people.get(c.path, {})
            rows.append({"code": c.path, "label": label, "by_gender": {g: len(got.get(g, ())) for g in genders}})
        if rows:
            out.append({"criterion": root.name, "genders": genders, "codes": rows})
    return out


def _heatmap(db: Database, data: dict, r) -> dict | None:
    """Codes × case study, distinct participants (None when the project has no case_study attribute)."""
    try:
        attribute = coded.check_attribute(db, coded.CASE_STUDY)
    except NotFoundError:
        return None
    m = matrix.build(db, data, attribute, count="participants", level="code", redact=r)
    criteria = {c.path: c.criterion for c in data["tree"]}
    rows = []
    for row in m["rows"]:
        rows.append(
            {
                "code": row["code"],
                "criterion": criteria[row["code"]],
                "name": row["code"].rsplit("/", 1)[-1],
                "depth": row["depth"],
                "cells": [row["cells"][v] for v in m["columns"]],
            }
        )
    return {
        "attribute": attribute,
        "columns": m["columns"],
        "rows": rows,
        "base": m["base"],
        "study": m["study"],
        "note": m["note"],
    }


def agreement(db: Database) -> dict | None:
    """Per-criterion and overall agreement between the original coders, when two or more decided common turns.

    A consensus coder (named "consensus", or whose codings all come from review) copies the others' decisions, so
    including it would inflate agreement.
    """
    from qualcode.agreement.audit import audit

    original = {r[0] for r in db.execute("SELECT DISTINCT coder FROM codings WHERE origin != 'review'")}
    reviewed = set(consensus_coders(db))
    coders = [c for c in project_coders(db, with_codings=True) if c != coded.CONSENSUS and c in original - reviewed]
    # Only coders who share a turn with another take part: naming one who shares none would claim a check of
    # their coding that never happened.
    marks = ", ".join("?" * len(coders))
    sharing = {
        r[0]
        for r in db.execute(
            f"""SELECT DISTINCT coder FROM live_codings WHERE coder IN ({marks}) AND turn_id IN (
                    SELECT turn_id FROM live_codings WHERE coder IN ({marks}) AND turn_id IS NOT NULL
                    GROUP BY turn_id HAVING count(DISTINCT coder) >= 2)""",
            [*coders, *coders],
        )
    }
    coders = [c for c in coders if c in sharing]
    if len(coders) < 2:
        return None
    data = audit(db, coders, unit="turn", level="all")
    if not data["scope"]["turns"]:
        return None
    kappa = "cohen_kappa" if len(coders) == 2 else "fleiss_kappa"
    rows = []
    for row in data["rows"]:
        if row["level"] not in ("criterion", "overall"):
            continue
        stats = row["statistics"]
        rows.append(
            {
                "criterion": row["code"] or "All codes (overall)",
                "level": row["level"],
                "units": row["units"],
                "percent_agreement": stats["percent_agreement"]["value"],
                "kappa": stats[kappa]["value"],
                "kappa_band": (stats[kappa]["band"] or {}).get("label"),
                "kappa_reason": stats[kappa]["reason"],
                "alpha": stats["krippendorff_alpha"]["value"],
                "alpha_band": (stats["krippendorff_alpha"]["band"] or {}).get("label"),
                "alpha_reason": stats["krippendorff_alpha"]["reason"],
            }
        )
    return {
        "coders": coders,
        "kappa": "Cohen's κ" if kappa == "cohen_kappa" else "Fleiss' κ",
        "scope": data["scope"]["text"],
        "unit": data["scope"]["unit_text"],
        "overall": data["overall"],
        "conventions": data["conventions"],
        "rows": rows,
    }
