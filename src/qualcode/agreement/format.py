"""The audit's results as tables: rows, columns and captions for the terminal, Markdown and CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator

from qualcode.output import render

STAT_COLUMNS = {
    "percent_agreement": "agree",
    "positive_agreement": "pos. agree",
    "cohen_kappa": "Cohen κ",
    "krippendorff_alpha": "α",
    "fleiss_kappa": "Fleiss κ",
}

SECTIONS = {
    "code": "Per code",
    "exclusive": "Exclusive parents, each as one variable whose values are its children",
    "criterion": "Per criterion: the whole branch pooled",
    "overall": "Overall: all codes pooled",
}


class Footnotes:
    """Reasons and notes, numbered once each, so a long explanation is printed once under its table."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def ref(self, text: str) -> int:
        if text not in self.items:
            self.items.append(text)
        return self.items.index(text) + 1


def stat_cell(name: str, stat: dict, notes: Footnotes | None) -> str:
    if stat["value"] is None:
        return f"undefined [{notes.ref(stat['reason'])}]" if notes else f"undefined: {stat['reason']}"
    if name in ("percent_agreement", "positive_agreement"):
        return f"{stat['value']:.1%}"
    label = f" {stat['band']['label']}" if stat["band"] else ""
    metric = f" ({stat['metric']})" if stat.get("metric", "nominal") != "nominal" else ""
    return f"{stat['value']:.3f}{metric}{label}"


def count_cells(r: dict, coders: list[str]) -> dict:
    counts = r["counts"]
    if counts["table"] == "2x2":
        a, b = coders
        return {
            "both": counts["both"],
            f"{a} only": counts["a_only"],
            f"{b} only": counts["b_only"],
            "neither": counts["neither"],
        }
    if r["level"] == "exclusive":
        return {}  # shown in its own coder × value table
    return {
        "applied": "; ".join(
            f"{coder} {by_value.get('1', 0)} of {sum(by_value.values())}"
            for coder, by_value in counts["coders"].items()
        )
    }


def table_rows(data: dict, level: str, notes: Footnotes | None) -> list[dict]:
    rows = []
    for r in data["rows"]:
        if r["level"] != level:
            continue
        parts = [(r, r["code"] or "all codes")]
        parts += [
            ({**r, **p, "notes": []}, f"{r['code'] or 'all codes'} · {p['interview']}")
            for p in r.get("interviews") or []
        ]
        for part, label in parts:
            out = {"level": level, "code": label, "units": part["units"], **count_cells(part, data["coders"])}
            for name, header in STAT_COLUMNS.items():
                out[header] = stat_cell(name, part["statistics"][name], notes)
            out["notes"] = " ".join(f"[{notes.ref(n)}]" for n in part["notes"]) if notes else " | ".join(part["notes"])
            rows.append(out)
    return rows


def columns_for(data: dict, level: str) -> list[str]:
    columns = ["code", "units"]
    if len(data["coders"]) == 2 and level != "exclusive":
        a, b = data["coders"]
        columns += ["both", f"{a} only", f"{b} only", "neither"]
    elif level != "exclusive":
        columns.append("applied")
    return columns + [*STAT_COLUMNS.values(), "notes"]


def caption(data: dict, level: str, notes: Footnotes) -> str:
    lines = [data["scope"]["text"], data["scope"]["unit_text"]]
    if level == "overall":
        lines.append(data["overall"])
    lines += [f"[{i}] {text}" for i, text in enumerate(notes.items, start=1)]
    conv = data["conventions"]
    lines.append(
        f"Bands are conventions, not tests: α per {conv['krippendorff_alpha']['convention']} "
        f"({'; '.join(conv['krippendorff_alpha']['bands'])}); κ per {conv['kappa']['convention']} "
        f"({'; '.join(conv['kappa']['bands'])})."
    )
    return "\n".join(lines)


def empty_text(data: dict) -> str | None:
    """What to say when the options select no row."""
    if data["rows"]:
        return None
    what = f"--code {data['code']} --level " if data["code"] else "--level "
    return f"{data['scope']['text']}\nNothing to report: {what}{data['level']} selects no row.\n"


def tables(data: dict) -> Iterator[dict]:
    """Every table of the audit in order, as keyword arguments for render.emit."""
    who = " and ".join(data["coders"]) if len(data["coders"]) == 2 else ", ".join(data["coders"])
    for level, heading in SECTIONS.items():
        notes = Footnotes()
        rows = table_rows(data, level, notes)
        if not rows:
            continue
        columns = columns_for(data, level)
        yield dict(
            rows=rows,
            columns=columns,
            caption=caption(data, level, notes),
            title=f"{heading} ({who}, by {data['unit']})",
            numeric=columns[1 : columns.index("agree") + 2],
        )
        if level == "exclusive":
            for r in data["rows"]:
                if r["level"] == "exclusive":
                    yield values_table(r, data["coders"])


def values_table(r: dict, coders: list[str]) -> dict:
    """Two coders: A's value against B's. More: how often each coder gave each value."""
    counts = r["counts"]
    if "confusion" in counts:
        a, b = coders
        corner = f"{a} \\ {b}"
        rows = [{corner: value, **by_b} for value, by_b in counts["confusion"].items()]
        return dict(
            rows=rows,
            columns=[corner, *counts["values"]],
            numeric=tuple(counts["values"]),
            title=f"{r['code']}: {a} (rows) against {b} (columns)",
        )
    rows = [
        {"coder": coder, **by_value, "missing": counts["missing"][coder]}
        for coder, by_value in counts["coders"].items()
    ]
    return dict(
        rows=rows,
        columns=["coder", *counts["values"], "missing"],
        numeric=(*counts["values"], "missing"),
        title=f"{r['code']}: values given by each coder",
    )


def to_markdown(data: dict) -> str:
    empty = empty_text(data)
    if empty:
        return empty
    return "\n".join(
        render.to_markdown(t["rows"], t["columns"], title=t.get("title"), caption=t.get("caption"))
        for t in tables(data)
    )


def to_csv(data: dict) -> str:
    """One row per code, criterion, exclusive parent, overall (and interview), with raw numbers: a statistic is
    a value, its band and the reason it is undefined; level, unit and scope are on every row for spreadsheets."""
    rows = []
    for r in data["rows"]:
        for part in [r, *({**r, **p, "notes": []} for p in r.get("interviews") or [])]:
            out = {
                "level": r["level"],
                "code": r["code"] or "",
                "interview": part.get("interview", ""),
                "units": part["units"],
            }
            counts = part["counts"]
            if counts["table"] == "2x2":
                out.update({k: counts[k] for k in ("both", "a_only", "b_only", "neither")})
            else:
                out["values"] = json.dumps(
                    {"coders": counts["coders"], "missing": counts["missing"]}, ensure_ascii=False
                )
            for name, stat in part["statistics"].items():
                out[name] = stat["value"]
                out[f"{name}_band"] = stat["band"]["label"] if stat["band"] else ""
                out[f"{name}_reason"] = stat["reason"] or ""
            out.update(
                alpha_metric=part["statistics"]["krippendorff_alpha"]["metric"],
                notes=" | ".join(part["notes"]),
                unit=data["unit"],
                scope=data["scope"]["text"],
            )
            rows.append(out)
    stats = [f"{name}{suffix}" for name in STAT_COLUMNS for suffix in ("", "_band", "_reason")]
    columns = [
        "level",
        "code",
        "interview",
        "units",
        "both",
        "a_only",
        "b_only",
        "neither",
        "values",
        *stats,
        "alpha_metric",
        "notes",
        "unit",
        "scope",
    ]
    return render.to_csv(rows, columns)
