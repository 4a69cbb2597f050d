"""The audit's results as tables: rows, columns and captions for the terminal, Markdown and CSV."""

from __future__ import annotations

import json

from qualcode.output import render

STAT_COLUMNS = {
    "percent_agreement": "agree",
    "positive_agreement": "pos. agree",
    "cohen_kappa": "Cohen κ",
    "krippendorff_alpha": "α",
    "fleiss_kappa": "Fleiss κ",
}
COMPACT = ["code", "units", "agree", "κ", "α", "band"]

SECTIONS = {
    "code": "Per code",
    "exclusive": "Exclusive parents, each one variable",
    "criterion": "Per criterion, whole branch pooled",
    "overall": "Overall, all codes pooled",
}


class Footnotes:
    """Reasons and notes, numbered once each, so a long explanation is printed once under the tables."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def ref(self, text: str) -> str:
        if text not in self.items:
            self.items.append(text)
        return f"[{self.items.index(text) + 1}]"


def stat_cell(name: str, stat: dict, notes: Footnotes, *, wide: bool = True) -> str:
    if stat["value"] is None:
        return f"{'undefined' if wide else 'n/a'} {notes.ref(stat['reason'])}"
    if name in ("percent_agreement", "positive_agreement"):
        return f"{stat['value']:.1%}"
    if not wide:
        return f"{stat['value']:.3f}"
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


def labelled(data: dict, level: str) -> list[tuple[dict | None, str]]:
    """The rows of one table with what its code column says: a code's own name, indented under its parent, so the
    column stays narrow and no name is broken for want of room. A parent without a row of its own (a folder) gets
    a line with its name (row None)."""
    out: list[tuple[dict | None, str]] = []
    seen: set[str] = set()
    for r in data["rows"]:
        if r["level"] != level:
            continue
        if r["code"] is None:
            out.append((r, "all codes"))
            continue
        parts = r["code"].split("/")
        for k in range(1, len(parts)):
            if (parent := "/".join(parts[:k])) not in seen:
                seen.add(parent)
                out.append((None, "  " * (k - 1) + parts[k - 1]))
        seen.add(r["code"])
        out.append((r, "  " * (len(parts) - 1) + parts[-1]))
    return out


def table_rows(data: dict, level: str, notes: Footnotes, *, wide: bool = False) -> list[dict]:
    rows: list[dict] = []
    kappa = "cohen_kappa" if len(data["coders"]) == 2 else "fleiss_kappa"
    for r, label in labelled(data, level):
        if r is None:
            rows.append({"code": label})
            continue
        indent = " " * (len(label) - len(label.lstrip()) + 2)
        parts = [(r, label)] + [
            ({**r, **p, "notes": []}, f"{indent}{p['interview']}") for p in r.get("interviews") or []
        ]
        for part, name in parts:
            refs = [notes.ref(n) for n in part["notes"]]
            stats = part["statistics"]
            if r["level"] == "exclusive" and stats["krippendorff_alpha"].get("metric", "nominal") != "nominal":
                refs.append(notes.ref(f"α of exclusive parents is {stats['krippendorff_alpha']['metric']} (--metric)"))
            out = {"code": " ".join([name, *refs]), "units": part["units"]}
            if wide:
                out.update(count_cells(part, data["coders"]))
                out.update({header: stat_cell(n, stats[n], notes) for n, header in STAT_COLUMNS.items()})
            else:
                alpha = stats["krippendorff_alpha"]
                out.update(
                    {
                        "agree": stat_cell("percent_agreement", stats["percent_agreement"], notes, wide=False),
                        "κ": stat_cell(kappa, stats[kappa], notes, wide=False),
                        "α": stat_cell("krippendorff_alpha", alpha, notes, wide=False),
                        # The first word is enough beside the value: the conventions are spelled out below.
                        "band": alpha["band"]["label"].split()[0] if alpha["band"] else "",
                    }
                )
            rows.append(out)
    return rows


def columns_for(data: dict, level: str, *, wide: bool = False) -> list[str]:
    if not wide:
        return COMPACT
    columns = ["code", "units"]
    if len(data["coders"]) == 2 and level != "exclusive":
        a, b = data["coders"]
        columns += ["both", f"{a} only", f"{b} only", "neither"]
    elif level != "exclusive":
        columns.append("applied")
    return columns + [*STAT_COLUMNS.values()]


def footer(data: dict, notes: Footnotes, *, wide: bool = False) -> list[str]:
    """What is said once under all the tables: scope, unit, the notes the tables refer to, the conventions."""
    lines = [data["scope"]["text"], data["scope"]["unit_text"], *([data["left_out"]] if data.get("left_out") else [])]
    if any(r["level"] == "overall" for r in data["rows"]):
        lines.append(data["overall"])
    lines += [f"[{i}] {text}" for i, text in enumerate(notes.items, start=1)]
    conv = data["conventions"]
    if not wide:
        kappa = "Cohen's κ" if len(data["coders"]) == 2 else "Fleiss' κ"
        lines.append(
            f"κ is {kappa}; band is α's. --wide adds the agreement counts, positive agreement, "
            + ("Fleiss' κ " if len(data["coders"]) == 2 else "")
            + "and each κ's band; --format csv or json gives every figure unrounded."
        )
    lines.append(
        f"Bands are conventions, not tests: α per {conv['krippendorff_alpha']['convention']} "
        f"({'; '.join(conv['krippendorff_alpha']['bands'])}); κ per {conv['kappa']['convention']} "
        f"({'; '.join(conv['kappa']['bands'])})."
    )
    return lines


def empty_text(data: dict) -> str | None:
    """What to say when the options select no row."""
    if data["rows"]:
        return None
    what = f"--code {data['code']} --level " if data["code"] else "--level "
    return f"{data['scope']['text']}\nNothing to report: {what}{data['level']} selects no row.\n"


def report(data: dict, *, wide: bool = False) -> tuple[list[dict], list[str]]:
    """Every table of the audit in order, as keyword arguments for render.emit, and the lines that follow them once.

    The compact tables (code, units, agreement, κ, α, band) fit 80 columns; WIDE adds the agreement counts, the
    other statistics with their bands, and each exclusive parent's coder × value table.
    """
    who = " and ".join(data["coders"]) if len(data["coders"]) == 2 else ", ".join(data["coders"])
    notes = Footnotes()
    tables = []
    for level, heading in SECTIONS.items():
        rows = table_rows(data, level, notes, wide=wide)
        if not rows:
            continue
        columns = columns_for(data, level, wide=wide)
        tables.append(
            dict(
                rows=rows,
                columns=columns,
                title=f"{heading} ({who}, by {data['unit']})",
                numeric=[c for c in columns[1:] if c not in ("band", "applied")],
            )
        )
        if level == "exclusive" and wide:
            tables += [values_table(r, data["coders"]) for r in data["rows"] if r["level"] == "exclusive"]
    return tables, footer(data, notes, wide=wide)


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
    """Every table with every figure (as --wide), the notes once at the end."""
    empty = empty_text(data)
    if empty:
        return empty
    tables, lines = report(data, wide=True)
    parts = [render.to_markdown(t["rows"], t["columns"], title=t.get("title")) for t in tables]
    return "\n".join(parts) + "\n" + "\n\n".join(lines) + "\n"


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
