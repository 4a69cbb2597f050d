"""The theme summary as a findings annex in Markdown, as one CSV row per code, and as workbook sheets."""

from __future__ import annotations

from qualcode.export.summary import counted, gender_split, rate_split, spread_text
from qualcode.output.xlsx import Sheet

SPREAD_LABEL = {"case_study": "Case studies", "stakeholder_group": "Stakeholder groups"}


def _gender_header(g: str) -> str:
    return {"woman": "Women", "man": "Men"}.get(g, g[:1].upper() + g[1:])


def _numbering(data: dict):
    """(number, entry) for each criterion and code: 1, 1.1, 1.2 … (a parent's own codings are 1.0)."""
    for i, section in enumerate(data["sections"], 1):
        yield f"{i}", section["criterion"]
        n = 0
        for e in section["codes"]:
            if e["code"] == section["criterion"]["code"]:
                yield f"{i}.0", e
            else:
                n += 1
                yield f"{i}.{n}", e


def attribution(q: dict) -> str:
    """'Ayesha (P001), woman, UN agency · INT-01, turn 9' — or 'P001, woman, …' when pseudonymised; a survey answer
    names its respondent and question, a document its page or section."""
    said_in = f" · in {q['in']}" if q.get("in") else ""
    if q.get("role") == "document":
        where = f"p. {q['page']}" if q.get("page") else (f"section “{q['context']}”" if q.get("context") else "")
        return f"document {q['interview']}" + (f", {where}" if where else "") + f", paragraph {q['turn']}{said_in}"
    who = q["speaker"] if q["speaker"] == q["participant"] else f"{q['speaker']} ({q['participant']})"
    about = ", ".join(x for x in (who, q["gender"], q["stakeholder_group"]) if x)
    if q.get("role") == "respondent":
        return f"{about} · survey {q['interview']}, answer {q['turn']} to “{q['context']}”{said_in}"
    return f"{about} · {q['interview']}, turn {q['turn']}{said_in}"


def _md_text(text: str) -> str:
    # Transcripts say "[laughs]" and may hold * or _; escaping keeps Markdown from turning them into links or emphasis.
    out = text
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


def headline(e: dict) -> str:
    if not e["segments"]:
        return "Not coded."
    return (
        f"{counted(e['segments'], 'coded segment')} from {counted(e['interviews'], 'interview')}, said by "
        f"{counted(e['participants'], 'participant')} ({rate_split(e['rates'])})."
    )


def source_line(by_source: dict) -> str:
    """'Interviews: 40 segments from 12 of 16 interviews, 20 of 38 participants; Survey answers: …' — triangulation."""
    parts = []
    for kind, item in by_source.items():
        what, source = SOURCE_WORDS[kind]
        text = f"{what}: {counted(item['segments'], 'coded segment')} from {item['sources']} of "
        text += counted(item["of"], source)
        if "people" in item:
            who = "participant" if kind == "interview" else "respondent"
            text += f", {item['people']} of {counted(item['people_of'], who)} ({rate_split(item['rates'])})"
        parts.append(text)
    return "; ".join(parts)


SOURCE_WORDS = {
    "interview": ("Interviews", "interview"),
    "survey": ("Survey answers", "survey"),
    "document": ("Documents", "document"),
}


def to_markdown(data: dict, *, title: str | None = None) -> str:
    t = data["totals"]
    cb = data["codebook"]
    book = f"{cb['name']}" + (f" (version {cb['version']})" if cb.get("version") else "")
    lines = [f"# {title or 'Findings annex: theme summaries'}", ""]
    lines += [
        f"**Codebook:** {_md_text(book)}  ",
        f"**Coder:** {_md_text(data['coder'])}  ",
        f"**Evidence:** {counted(t['segments'], 'coded segment')} from {t['interviews']} of "
        f"{counted(t['interviews_in_project'], 'interview')}, said by {t['participants']} of the "
        f"{counted(t['participants_in_project'], 'participant')} interviewed "
        f"({gender_split(t['by_gender'])} coded; {gender_split(t['participants_in_project_by_gender'])} "
        "interviewed).",
        *([f"**By source:** {source_line(t['by_source'])}."] if set(t["by_source"]) - {"interview"} else []),
        "",
        "## How to read this annex",
        "",
    ]
    lines += [f"- {line}" for line in data["method"]]
    genders = data["genders"]
    lines += [
        "",
        "## Overview",
        "",
        "| | Criterion | Segments | Interviews | Participants | "
        + " | ".join(_gender_header(g) for g in genders)
        + " |",
        "|---|---|---:|---:|---:|" + "---:|" * len(genders),
    ]
    for i, section in enumerate(data["sections"], 1):
        c = section["criterion"]
        lines.append(
            f"| {i} | {_md_text(c['name'])} | {c['segments']} | {c['interviews']} | {c['participants']} | "
            + " | ".join(str(c["by_gender"].get(g, 0)) for g in genders)
            + " |"
        )
    lines += ["", "Participants are distinct people: a criterion's count is not the sum of its codes' counts.", ""]
    for number, e in _numbering(data):
        lines += _entry_md(number, e, data)
    return "\n".join(lines).rstrip() + "\n"


def _entry_md(number: str, e: dict, data: dict) -> list[str]:
    criterion = e["level"] == "criterion"
    name = e["name"] + (" (coded at the criterion itself)" if number.endswith(".0") else "")
    lines = [f"## {number}. {_md_text(name)}" if criterion else f"### {number} {_md_text(name)}", ""]
    if e["definition"] and not number.endswith(".0"):
        lines += [f"*Definition.* {_md_text(' '.join(e['definition'].split()))}", ""]
    lead = "**All codes in this criterion:** " if criterion else ""
    lines += [lead + headline(e), ""]
    if set(e["by_source"]) - {"interview"}:
        lines += ["**By source:** " + source_line(e["by_source"]), ""]
    if e["segments"]:
        for attr, values in e["spread"].items():
            label = SPREAD_LABEL.get(attr, attr)
            lines += [f"**{label}** (participants): {_md_text(spread_text(values))}  "]
        if e["spread"]:
            lines.append("")
    if e["quotes"]:
        lines += ["**Quotes**", ""]
        for q in e["quotes"]:
            lines += [f"> {_md_text(q['text'])}", ">"]
            if q.get("translation"):
                lines += [f"> *Translation:* {_md_text(q['translation'])}", ">"]
            lines += [f"> — {_md_text(attribution(q))}" + (f" · *{_md_text(q['code'])}*" if criterion else ""), ""]
    if e["memos"]:
        lines += ["**Memos**", ""]
        lines += [f"- {m['interview']}, turn {m['turn']}: {_md_text(' '.join(m['memo'].split()))}" for m in e["memos"]]
        lines.append("")
    return lines


def rows(data: dict) -> tuple[list[dict], list[str]]:
    """One row per criterion and code, with the quotes and memos as text columns."""
    genders = data["genders"]
    spread = data["spread"]["attributes"]
    n = data["quotes_per_code"]
    columns = [
        "number",
        "level",
        "code",
        "segments",
        "interviews",
        "participants",
        *[f"participants_{g}{part}" for g in genders for part in ("", "_of", "_share")],
        *[f"{a}_participants" for a in spread],
        *[f"quote_{i}" for i in range(1, n + 1)],
        "memos",
    ]
    out = []
    for number, e in _numbering(data):
        row = {
            "number": number,
            "level": e["level"],
            "code": e["code"],
            "segments": e["segments"],
            "interviews": e["interviews"],
            "participants": e["participants"],
        }
        for g in genders:
            rate = e["rates"].get(g, {"n": 0, "of": 0, "share": None})
            share = None if rate["share"] is None else round(rate["share"], 4)
            row.update(
                {f"participants_{g}": rate["n"], f"participants_{g}_of": rate["of"], f"participants_{g}_share": share}
            )
        row.update(
            {f"{a}_participants": "; ".join(f"{v}: {k}" for v, k in e["spread"].get(a, {}).items()) for a in spread}
        )
        for i, q in enumerate(e["quotes"], 1):
            translated = f" [translation: {q['translation']}]" if q.get("translation") else ""
            row[f"quote_{i}"] = f"{q['text']}{translated} — {attribution(q)}"
        row["memos"] = "\n".join(f"{m['interview']} turn {m['turn']}: {m['memo']}" for m in e["memos"])
        out.append(row)
    return out, columns


def sheets(data: dict) -> list[Sheet]:
    table, columns = rows(data)
    summary_cols = [c for c in columns if not c.startswith("quote_") and c != "memos"]
    quote_cols = [
        "number",
        "code",
        "quote",
        "interview",
        "turn",
        "speaker",
        "participant",
        "gender",
        "stakeholder_group",
        "case_study",
        "coded as",
        "text",
    ]
    quotes, memos = [], []
    for number, e in _numbering(data):
        for i, q in enumerate(e["quotes"], 1):
            quotes.append(
                [
                    number,
                    e["code"],
                    i,
                    q["interview"],
                    q["turn"],
                    q["speaker"],
                    q["participant"],
                    q["gender"],
                    q["stakeholder_group"],
                    q["case_study"],
                    q["code"],
                    q["text"],
                ]
            )
        for m in e["memos"]:
            memos.append([number, e["code"], m["interview"], m["turn"], m["memo"]])
    return [
        Sheet("Summary", summary_cols, [[r.get(c) for c in summary_cols] for r in table], notes=data["method"]),
        Sheet("Quotes", quote_cols, quotes),
        Sheet("Memos", ["number", "code", "interview", "turn", "memo"], memos),
    ]
