"""Code × attribute matrices: how many segments, participants or interviews each code reaches per attribute value.

Counting distinct participants gives the gender-disaggregated view (MAXQDA's "count once per document", NVivo's
"cases coded"). A segment's value is its speaker's own attribute, else its interview's (as in retrieval), so a person
interviewed in two case studies counts under each where they were coded. Totals are distinct counts, never sums.
"""

from __future__ import annotations

from collections import defaultdict

from sqlite_utils import Database

from qualcode.errors import UsageError
from qualcode.export import segments as coded
from qualcode.export.redact import redactor
from qualcode.ingest.participants import NOT_RECORDED, attribute_names, participant_values
from qualcode.store.queries import PERSON_KIND, source_kind

FORMAT = "qualcode-matrix/1"
COUNTS = ("segments", "participants", "interviews")
PERCENTS = ("row", "column", "base")
LEVELS = ("code", "criterion")
TOTAL = "total"
UNIT_WORDS = {
    "segments": "coded segments",
    "participants": "distinct participants",
    "interviews": "distinct interviews",
}


def matrix(
    db: Database,
    by: str,
    *,
    coder: str | None = None,
    count: str = "participants",
    percent: str | None = None,
    level: str = "code",
    redact: bool = False,
    allow_incomplete: bool = False,
    source: str = "interview",
) -> dict:
    """CODER's codes (or criteria) × the values of BY, counting COUNT; optional row or column percentages.

    People are counted within one kind of SOURCE (the people interviewed, or survey respondents), each against its
    own base; BY source sets the kinds of source side by side (segments or sources: triangulation)."""
    if count not in COUNTS:
        raise UsageError(f"--count must be one of {', '.join(COUNTS)}")
    if percent is not None and percent not in PERCENTS:
        raise UsageError(f"--percent must be one of {', '.join(PERCENTS)}")
    if level not in LEVELS:
        raise UsageError(f"--level must be one of {', '.join(LEVELS)}")
    attribute = coded.check_attribute(db, by)
    if attribute == coded.SOURCE and count == "participants":
        raise UsageError("--by source counts segments or sources (--count segments|interviews): people are counted "
                         "within one kind of source, with --source")  # fmt: skip
    data = coded.select(db, coder, allow_incomplete=allow_incomplete)
    return build(db, data, attribute, count=count, percent=percent, level=level, redact=redactor(db, redact),
                 source=None if attribute == coded.SOURCE else source_kind(source))  # fmt: skip


def unit(segment: dict, count: str):
    return {"segments": segment["coding"], "participants": segment["participant"], "interviews": segment["interview"]}[
        count
    ]


def build(
    db: Database,
    data: dict,
    attribute: str,
    *,
    count: str = "participants",
    percent: str | None = None,
    level: str = "code",
    redact=None,
    source: str | None = "interview",
) -> dict:
    """The matrix from already loaded segments (the report reuses them), over one kind of SOURCE (None: every kind)."""
    redact = redact or (lambda s: s)
    if level == "code":
        labels = [(c.path, c.depth) for c in data["tree"] if c.codable]
    else:
        labels = [(c.path, 0) for c in data["tree"].roots()]
    cells: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for s in data["segments"]:
        if s["role"] in coded.EVIDENCE and (source is None or s["source_kind"] == source):
            row = s["code"] if level == "code" else s["criterion"]
            cells[row][coded.value(s, attribute)].add(unit(s, count))
    decided = coded.decided_sources(db, data["coder"])
    people = coded.decided_people(db, data["coder"])
    base_units = study_base(db, attribute, count, within=decided, people=people, source=source)
    study_units = study_base(db, attribute, count, source=source)
    base, base_total = _counts(base_units)
    study, study_total = _counts(study_units)
    columns = coded.value_order(attribute, {v for r in cells.values() for v in r} | set(study or {}))
    rows = []
    for label, depth in labels:
        by_value = cells.get(label, {})
        units = set().union(*by_value.values()) if by_value else set()
        rows.append(_row(label, depth, {v: len(by_value.get(v, ())) for v in columns}, len(units)))
    col_units = {v: set().union(*(cells[r].get(v, set()) for r in cells)) for v in columns}
    every = set().union(*col_units.values()) if col_units else set()
    totals = _row(TOTAL, 0, {v: len(col_units[v]) for v in columns}, len(every))
    for r in [*rows, totals]:
        r["percent"] = _percent(r, totals, columns, percent, base, base_total)

    def relabel(r: dict) -> dict:
        # Attribute values can hold names (an organisation, a village): --redact reaches them too.
        return {
            **r,
            "cells": {redact(k): n for k, n in r["cells"].items()},
            "percent": {redact(k): p for k, p in r["percent"].items()} if r["percent"] else None,
        }

    return {
        "format": FORMAT,
        "coder": data["coder"],
        "by": attribute,
        "count": count,
        "source": source,
        "level": level,
        "percent": percent,
        "columns": [redact(v) for v in columns],
        "rows": [relabel(r) for r in rows],
        "totals": relabel(totals),
        # What a cell is read against: the participants (or interviews) of the interviews the coder decided, and
        # of the whole study.
        "base": {redact(v): base.get(v, 0) for v in columns} if base is not None else None,
        "study": {redact(v): study.get(v, 0) for v in columns} if study is not None else None,
        # Distinct, never the sum of the columns: a person interviewed in two case studies is in both columns once
        # and in the total once.
        "base_total": base_total,
        "decided_by": data["base"]["decided_by"],  # whose decisions set the base: the coder's, or a consensus's pair
        "study_total": study_total,
        "interviewer_segments": data["interviewer_segments"],
        "consensus": data.get("consensus"),
        "note": " ".join(
            [
                *([data["consensus"]["description"]] if data.get("consensus") else []),
                *(c for c in coded.caveats(data) if not data.get("consensus") or c != data["consensus"]["description"]),
                note(attribute, count, percent, level, sums_equal(rows, totals, columns), source),
            ]
        ),
        "caveats": coded.caveats(data),
    }


def _unseen_ancestors(path: str, seen: set[str]) -> list[tuple[int, str]]:
    """(depth, path) of PATH's ancestors not in SEEN, outermost first; they are added to SEEN."""
    parts = path.split("/")
    out = []
    for depth in range(len(parts) - 1):
        ancestor = "/".join(parts[: depth + 1])
        if ancestor not in seen:
            seen.add(ancestor)
            out.append((depth, ancestor))
    return out


def _row(label: str, depth: int, cells: dict[str, int], total: int) -> dict:
    return {"code": label, "depth": depth, "cells": cells, "total": total}


def _counts(units: dict[str, set] | None) -> tuple[dict[str, int] | None, int | None]:
    """Per value, how many units; and how many distinct units over all values."""
    if units is None:
        return None, None
    return {v: len(s) for v, s in units.items()}, len(set().union(*units.values()))


def _percent(
    r: dict, totals: dict, columns: list[str], percent: str | None, base: dict | None, base_total: int | None
) -> dict | None:
    if percent is None:
        return None

    def share(n: int, d: int) -> float | None:
        return round(100 * n / d, 1) if d else None

    if percent == "base":
        if base is None:
            raise UsageError("--percent base needs --count participants or interviews: segments have no base")
        out = {v: share(r["cells"][v], base.get(v, 0)) for v in columns}
        out[TOTAL] = share(r["total"], base_total or 0)
        return out
    if percent == "row":
        out = {v: share(r["cells"][v], r["total"]) for v in columns}
        out[TOTAL] = share(r["total"], r["total"])
    else:
        out = {v: share(r["cells"][v], totals["cells"][v]) for v in columns}
        out[TOTAL] = share(r["total"], totals["total"])
    return out


def sums_equal(rows: list[dict], totals: dict, columns: list[str]) -> dict[str, bool]:
    """Whether the cells add up to the totals: per row (each unit has one value) and per column (one code each)."""
    rows_ok = all(sum(r["cells"].values()) == r["total"] for r in [*rows, totals])
    cols_ok = all(sum(r["cells"][v] for r in rows) == totals["cells"][v] for v in columns)
    return {"rows": rows_ok, "columns": cols_ok}


def study_base(
    db: Database,
    attribute: str,
    count: str,
    *,
    within: list[str] | None = None,
    people: set[str] | None = None,
    source: str | None = "interview",
) -> dict[str, set] | None:
    """Which participants (or sources) there are per value, in the study or WITHIN those sources and among those
    PEOPLE: what a cell can be read against. Only sources of kind SOURCE count (None: every kind), and only their
    own people: the people interviewed for interviews, respondents for surveys."""
    if count == "segments":
        return None
    sources = {
        iid: kind
        for iid, kind in db.execute("SELECT id, kind FROM interviews")
        if (source is None or kind == source) and (within is None or iid in within)
    }
    groups: dict[str, set] = defaultdict(set)
    if attribute == coded.SOURCE:
        for iid, kind in sources.items():
            groups[kind].add(iid)
    elif attribute == coded.LANGUAGE and count != "participants":
        for iid, language in db.execute("SELECT id, language FROM interviews"):
            if iid in sources:
                groups[language].add(iid)
    elif count == "participants":
        values = participant_values(db, attribute)
        marks = ", ".join("?" * len(sources))
        for (pid,) in db.execute(
            f"""SELECT DISTINCT ip.participant_id FROM interview_participants ip
                JOIN participants p ON p.id = ip.participant_id
                WHERE p.kind = ? AND ip.interview_id IN ({marks})""",
            [PERSON_KIND.get(source, "interviewee"), *sources],
        ):
            if people is not None and pid not in people:
                continue
            for v in values.get(pid) or {NOT_RECORDED}:
                groups[v].add(pid)
    elif attribute == "gender" or attribute in attribute_names(db)["participant"]:
        people = participant_values(db, attribute)
        for iid, pid in db.execute("SELECT interview_id, participant_id FROM interview_participants"):
            if iid in sources:
                for v in people.get(pid) or {NOT_RECORDED}:
                    groups[v].add(iid)
    else:
        from qualcode.ingest.interviews import interview_attributes

        iattrs = interview_attributes(db)
        for iid in sources:
            groups[iattrs.get(iid, {}).get(attribute) or NOT_RECORDED].add(iid)
    return dict(groups)


def note(attribute: str, count: str, percent: str | None, level: str, sums: dict[str, bool], source: str | None) -> str:
    whose = {
        None: "Interviews, survey answers and documents count side by side; interviewers' turns do not.",
        "interview": "Only interviews count, and only participants' turns.",
        "survey": "Only survey answers count; a participant is a respondent.",
        "document": "Only documents count.",
    }[source]
    unit = UNIT_WORDS[count] if source == "interview" or count != "interviews" else "distinct sources"
    parts = [
        f"Cells count {unit} coded by the code, by {attribute} (the speaker's own value, else the source's). {whose}"
    ]
    if count == "segments":
        parts.append("Each segment has one code and one value, so totals are also the sums of their cells.")
    else:
        why = []
        if not sums["columns"]:
            why.append("one coded with several codes counts once in a column total")
        if not sums["rows"]:
            why.append(f"one under several {attribute} values counts once in a row total")
        parts.append(
            f"Totals are distinct {count} too, not sums of the cells" + (f": {'; '.join(why)}." if why else ".")
        )
    if percent == "row":
        parts.append(
            "Percentages are shares of the row total; "
            + (
                "each row adds up to 100%."
                if sums["rows"]
                else "rows can add up to more than 100% because a unit can fall under several values."
            )
        )
    elif percent == "column":
        parts.append(
            "Percentages are shares of the column total; "
            + (
                "each column adds up to 100%."
                if sums["columns"]
                else "columns add up to more than 100% because a unit can be coded with several codes."
            )
        )
    if level == "code":
        parts.append("A parent code's row counts codings of the parent itself; --level criterion pools each branch.")
    return " ".join(parts)


def display(data: dict, *, numbers_only: bool = False, indent: bool = True) -> tuple[list[dict], list[str]]:
    """Rows for a table, CSV or Markdown: counts, or with --percent 'p% (n)' (or just p with NUMBERS_ONLY)."""
    columns = [*data["columns"], TOTAL]
    head = "criterion" if data["level"] == "criterion" else "code"
    out = []
    seen: set[str] = set()
    for r in [*data["rows"], data["totals"]]:
        total_row = r is data["totals"]
        name = r["code"]
        if indent and data["level"] == "code" and not total_row:
            # A folder (a parent that cannot be coded, such as "Assessment") has no row of its own: its name is
            # printed above its first child, with empty cells, so the children are not read as the previous code's.
            out += [{head: "  " * depth + folder.rsplit("/", 1)[-1]} | dict.fromkeys(columns, "")
                    for depth, folder in _unseen_ancestors(r["code"], seen)]  # fmt: skip
            seen.add(r["code"])
            name = "  " * r["depth"] + r["code"].rsplit("/", 1)[-1]
        row = {head: f"{name} (distinct)" if total_row and data["count"] != "segments" else name}
        for v in columns:
            n = r["total"] if v == TOTAL else r["cells"][v]
            if data["percent"]:
                p = r["percent"][v]
                row[v] = p if numbers_only else ("–" if p is None else f"{p:.1f}% ({n})")
            else:
                row[v] = n
        out.append(row)
    if data["base"] is not None:
        source = data["source"]
        sources = {"interview": "interviews", "survey": "surveys", "document": "documents"}.get(source, "sources")
        people = {"survey": "respondents", "document": "documents"}.get(source, "participants")
        what = people if data["count"] == "participants" else sources
        out.append(
            {
                head: f"{what} in the {sources} {data['decided_by']} decided",
                **{v: data["base"].get(v, 0) for v in data["columns"]},
                TOTAL: data["base_total"],
            }
        )
        out.append(
            {
                head: f"{what} in the study",
                **{v: data["study"].get(v, 0) for v in data["columns"]},
                TOTAL: data["study_total"],
            }
        )
    return out, [head, *columns]
