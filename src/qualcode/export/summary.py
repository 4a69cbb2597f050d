"""Theme summaries: for each criterion (its branch pooled) and each code, how much was coded, by whom, and quotes.

`summary(db, ...)` returns one JSON-ready dict; summary_formats.py turns it into Markdown, CSV rows or sheets.

Counting, stated once here and in every output:
- segments: codings of the code (for a criterion, of any code in its branch), anchored in participants' turns;
- interviews: interviews with at least one such segment;
- participants: distinct people who said a coded segment, split by gender (one person counts once however often
  they were coded, and in two interviews is still one person);
- spread over case studies and stakeholder groups: distinct participants per value, the value being the segment's
  (the speaker's own attribute wins over the interview's), so a person coded in two case studies counts under each.
Codings of interviewers' turns are not evidence from participants: they are counted in the totals' note only.

Quotes are chosen deterministically; see `choose_quotes`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import median

from sqlite_utils import Database

from qualcode.codebook.tree import Code
from qualcode.codebook.tree import settings as codebook_settings
from qualcode.errors import UsageError
from qualcode.export import segments as coded
from qualcode.export.redact import Redactor, redactor
from qualcode.ingest.participants import counts as participant_counts

FORMAT = "qualcode-summary/1"
SPREAD = (coded.CASE_STUDY, coded.STAKEHOLDER)
QUOTE_MIN, QUOTE_MAX = 120, 400  # bounds on the preferred quote length, in characters


def summary(
    db: Database, *, coder: str | None = None, quotes: int = 3, redact: bool = False, allow_incomplete: bool = False
) -> dict:
    """The findings annex for CODER (see coded.choose_coder): per criterion and per code, in tree order."""
    if quotes < 0:
        raise UsageError("--quotes must be 0 or more")
    data = coded.select(db, coder, allow_incomplete=allow_incomplete)
    coder = data["coder"]
    r = redactor(db, redact)
    return build(db, data, quotes, r)


def build(db: Database, data: dict, quotes: int, r: Redactor) -> dict:
    """The summary from already loaded segments (the report reuses them)."""
    people = participant_counts(db)
    genders = list(people["by_gender"])
    of = data["base"]["participants"]["by_gender"]
    evidence = [s for s in data["segments"] if s["role"] in coded.EVIDENCE]
    segs = [s for s in evidence if s["role"] == "participant"]
    known = _known_attributes(db)
    spread = [a for a in SPREAD if a in known]
    by_code: dict[int, list[dict]] = defaultdict(list)
    by_criterion: dict[str, list[dict]] = defaultdict(list)
    for s in evidence:
        by_code[s["code_id"]].append(s)
        by_criterion[s["criterion"]].append(s)
    base = data["base"]
    sections = []
    tree = data["tree"]
    for root in tree.roots():
        entries = []
        for c in tree:
            if c.criterion_id != root.id or (c.id == root.id and not by_code[c.id]):
                continue
            entries.append(entry("code", c, by_code[c.id], genders, spread, quotes, r, base=base, memos=True))
        sections.append(
            {
                "criterion": entry("criterion", root, by_criterion[root.name], genders, spread, quotes, r, base=base),
                "codes": entries,
            }
        )
    interviews_total = db.execute("SELECT count(*) FROM interviews WHERE kind = 'interview'").fetchone()[0]
    pooled = _stats(segs, genders, [], of, r)
    sources = by_source(evidence, base)
    settings = codebook_settings(db)
    caveats = coded.caveats(data)
    how = method(data["coder"], quotes, r.enabled, data.get("consensus"), data["base"])
    return {
        "format": FORMAT,
        "codebook": {"name": settings and settings.name, "version": settings and settings.version},
        "coder": data["coder"],
        "redacted": r.enabled,
        "quotes_per_code": quotes,
        "genders": genders,
        "spread": {"unit": "participants", "attributes": spread},
        "totals": {
            "segments": pooled["segments"],
            "by_source": sources,
            "interviews": pooled["interviews"],
            "interviews_in_project": interviews_total,
            "participants": pooled["participants"],
            "by_gender": pooled["by_gender"],
            "rates": pooled["rates"],
            "participants_in_project": people["total"],
            "participants_in_project_by_gender": people["by_gender"],
            "interviewer_segments": data["interviewer_segments"],
            "orphaned": data["orphaned"],
            "unknown_code": data.get("unknown_code", 0),
        },
        "caveats": caveats,
        "base": data["base"],
        "consensus": data.get("consensus"),
        # How to read the figures, every caveat included: each format (Markdown, the workbook's notes, the report)
        # renders this one list, so none can leave a caveat out.
        "method": how + [c for c in caveats if c not in how],
        "sections": sections,
    }


def method(
    coder: str, quotes: int, redacted: bool, consensus: dict | None = None, base: dict | None = None
) -> list[str]:
    lines = [consensus["description"]] if consensus else []
    if base:
        people, decided_by = base["participants"], base["decided_by"]
        lines.append(
            f"Shares of people are of those who took part in the {counted(base['sources']['interview'], 'interview')} "
            f"{decided_by} decided: {counted(people['total'], 'participant')} "
            f"({gender_split(people['by_gender'])}); "
            '"12 of 23 women" counts the women of those interviews who were coded, not the whole study.'
        )
        if base["sources"]["survey"]:
            who = base["respondents"]
            lines.append(
                f"Shares of respondents are of the {counted(who['total'], 'respondent')} "
                f"({gender_split(who['by_gender'])}) {decided_by} decided at least one answer of, in "
                f"{counted(base['sources']['survey'], 'survey')}: a survey is often coded for a sample of its "
                "respondents. They are counted apart from the people interviewed."
            )
        if line := coded.incomplete_coding(coder, base):
            lines.append(line)
    lines += [
        f"Codings by {coder}. A segment is one coding of one code on one passage; a criterion pools every code in "
        "its branch. Evidence is what participants said in interviews, survey respondents' answers and documents' "
        "paragraphs, shown side by side by source; interviewers' turns never count. A code's counts of segments and "
        "participants are its interview evidence; survey and document evidence is given beside it.",
        "Participants are distinct people, split by gender: a person coded many times, or in two interviews, "
        "counts once. Case studies and stakeholder groups count distinct participants per value.",
    ]
    if quotes:
        lines.append(
            f"Up to {quotes} quotes per code, chosen deterministically to spread across interviews (most coded "
            "first) and speakers (no one quoted twice while others remain), preferring passages of middling length."
        )
    if redacted:
        lines.append("Pseudonymised: participants appear by study id; names in quotes are replaced.")
    return lines


def _known_attributes(db: Database) -> set[str]:
    from qualcode.ingest.participants import attribute_names

    known = attribute_names(db)
    return {*known["participant"], *known["interview"]}


def _stats(segs: list[dict], genders: list[str], spread: list[str], of: dict[str, int], r: Redactor) -> dict:
    people = {s["participant"]: s["gender"] for s in segs}
    by_gender = {g: 0 for g in genders}
    for g in people.values():
        by_gender[g] = by_gender.get(g, 0) + 1
    out = {
        "segments": len(segs),
        "interviews": len({s["interview"] for s in segs}),
        "participants": len(people),
        "by_gender": by_gender,
        # n of the OF people of that gender in the interviews the coder decided: the denominator is stated
        "rates": {
            g: {"n": n, "of": of.get(g, 0), "share": n / of[g] if of.get(g) else None} for g, n in by_gender.items()
        },
        "spread": {},
    }
    for attr in spread:
        groups: dict[str, set[str]] = defaultdict(set)
        for s in segs:
            groups[r(coded.value(s, attr))].add(s["participant"])
        out["spread"][attr] = {v: len(groups[v]) for v in coded.value_order(attr, groups)}
    return out


def entry(
    level: str,
    code: Code,
    segs: list[dict],
    genders: list[str],
    spread: list[str],
    quotes: int,
    r: Redactor,
    *,
    base: dict,
    memos: bool = False,
) -> dict:
    """One criterion or code: its evidence from people interviewed (counts, shares, spread), and by source."""
    people = [s for s in segs if s["role"] == "participant"]
    stats = _stats(people, genders, spread, base["participants"]["by_gender"], r)
    picked = choose_quotes(people, quotes)
    for role in ("respondent", "document"):  # one voice of each other kind of evidence, where there is one
        picked += choose_quotes([s for s in segs if s["role"] == role], min(quotes, 1))
    return {
        "level": level,
        "code": code.path,
        "name": code.name,
        "key": code.key,
        "depth": 0 if level == "criterion" else code.depth,
        "codable": code.codable,
        "colour": code.colour,
        "definition": code.definition,
        **stats,
        "by_source": by_source(segs, base),
        "quotes": [quote(s, r) for s in picked],
        "memos": [
            {"interview": r.interview(s["interview"]), "turn": s["turn"], "memo": r(s["memo"])}
            for s in segs
            if s.get("memo")
        ]
        if memos
        else [],
    }


def by_source(segs: list[dict], base: dict) -> dict:
    """Evidence side by side by kind of source: units and sources, and the people of each kind against their own
    denominator (participants of the interviews decided; respondents of the surveys decided). Triangulation."""
    out = {}
    for kind, role in (("interview", "participant"), ("survey", "respondent"), ("document", "document")):
        mine = [s for s in segs if s["role"] == role]
        if not mine and not base["sources"][kind]:
            continue
        item = {"segments": len(mine), "sources": len({s["interview"] for s in mine}), "of": base["sources"][kind]}
        if role != "document":
            people = {s["participant"]: s["gender"] for s in mine}
            of = base["participants" if role == "participant" else "respondents"]
            counts: dict[str, int] = defaultdict(int)
            for g in people.values():
                counts[g] += 1
            item["people"] = len(people)
            item["people_of"] = of["total"]
            item["rates"] = {
                g: {"n": counts.get(g, 0), "of": n, "share": counts.get(g, 0) / n if n else None}
                for g, n in of["by_gender"].items()
            }
        out[kind] = item
    return out


def quote(s: dict, r: Redactor) -> dict:
    return {
        "role": s["role"],
        "page": s.get("page"),
        "context": s.get("context"),
        "interview": r.interview(s["interview"]),
        "turn": s["turn"],
        "speaker": r.speaker(s["speaker"], s["participant"]),
        "participant": r.participant(s["participant"]),
        "gender": s["gender"],
        "stakeholder_group": r(s["stakeholder_group"]),
        "case_study": r(s["interview_attributes"].get(coded.CASE_STUDY)),
        "code": s["code"],
        "start": s["start"],
        "end": s["end"],
        "text": r(" ".join(s["text"].split())),
        "language": s["language"],
        "in": s["quoted_in"],  # the language's name when it is not the working language, else None
        "translation": r(" ".join(s["translation"].split())) if s.get("translation") else None,
    }


def choose_quotes(segs: list[dict], n: int) -> list[dict]:
    """Up to N passages that show the range of what was said, the same every time for the same codings.

    Passages are taken round-robin over interviews, the interviews with most coded passages first (ties by id), so
    N quotes come from N interviews when that many exist. Within an interview the passage is the one whose length is
    closest to the code's median passage length (kept between QUOTE_MIN and QUOTE_MAX characters, so a quote is
    neither a fragment nor a page), from a speaker not yet quoted; a speaker is quoted twice only once every
    remaining passage is from someone already quoted. The same passage coded twice (a criterion pooling two child
    codes) is one candidate.
    """
    if n <= 0:
        return []
    unique: dict[tuple, dict] = {}
    for s in segs:
        if s["text"].strip():
            unique.setdefault((s["interview"], s["turn"], s["start"], s["end"]), s)
    if not unique:
        return []
    target = min(max(median(len(s["text"].strip()) for s in unique.values()), QUOTE_MIN), QUOTE_MAX)
    queues: dict[str, list[dict]] = defaultdict(list)
    for s in unique.values():
        queues[s["interview"]].append(s)
    for q in queues.values():
        q.sort(key=lambda s: (abs(len(s["text"].strip()) - target), s["turn"], s["start"]))
    order = sorted(queues, key=lambda i: (-len(queues[i]), i))
    chosen: list[dict] = []
    quoted: set[str] = set()
    while len(chosen) < n and any(queues.values()):
        picked = False
        for iid in order:
            if len(chosen) == n:
                break
            pick = next((s for s in queues[iid] if s["participant"] not in quoted), None)
            if pick is not None:
                queues[iid].remove(pick)
                chosen.append(pick)
                quoted.add(pick["participant"])
                picked = True
        if not picked:
            quoted.clear()  # everyone left has been quoted: allow a second quote each, still spread by interview
    return chosen


def gender_split(by_gender: dict[str, int]) -> str:
    """'12 women, 8 men' (other recorded values as written)."""
    words = {"woman": ("woman", "women"), "man": ("man", "men")}
    parts = []
    for g, n in by_gender.items():
        one, many = words.get(g, (g, g))
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def rate_split(rates: dict[str, dict]) -> str:
    """'12 of 23 women (52%), 8 of 15 men (53%)': each group against its own denominator."""
    words = {"woman": ("woman", "women"), "man": ("man", "men")}
    parts = []
    for g, r in rates.items():
        if not r["of"] and not r["n"]:
            continue
        share = f" ({r['share']:.0%})" if r["share"] is not None else ""
        one, many = words.get(g, (g, g))
        parts.append(f"{r['n']} of {r['of']} {one if r['of'] == 1 else many}{share}")
    return ", ".join(parts)


def counted(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def spread_text(values: Counter | dict[str, int]) -> str:
    return " · ".join(f"{v} {n}" for v, n in values.items()) or "none"
