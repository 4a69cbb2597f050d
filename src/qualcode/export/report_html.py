"""The report as one self-contained HTML file: inline CSS, inline SVG, no script, no font or file from elsewhere.

It is written to be read on screen and printed to PDF: each chapter starts a new page, figures and quotes are not
split across pages, and colours are kept (print-color-adjust). Headings, table headers with scope, captions, the
document <title> and labelled SVG charts keep it accessible.
"""

from __future__ import annotations

from html import escape

from qualcode.export import charts
from qualcode.export.summary import counted, gender_split, rate_split
from qualcode.export.summary_formats import SOURCE_WORDS, attribution, source_line

CSS = """
:root { --ink: #1a1a1a; --muted: #5b6470; --rule: #d0d5dc; --band: #f3f5f8; --accent: #0b4f8a; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans",
  sans-serif; color: var(--ink); line-height: 1.45; font-size: 15px; }
body { margin: 0 auto; max-width: 60rem; padding: 2rem 1.5rem 4rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .4rem; color: var(--accent); }
h2 { font-size: 1.45rem; border-bottom: 2px solid var(--accent); padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { font-size: 1.15rem; margin: 1.6rem 0 .4rem; }
h4 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
p.meta, .note, figcaption, caption { color: var(--muted); font-size: .88rem; }
p.warning { border-left: 4px solid #b45309; background: #fef3c7; padding: .5rem .75rem; font-weight: 600; }
caption { text-align: left; caption-side: top; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .6rem; text-align: left; vertical-align: top; }
thead th { background: var(--band); border-bottom: 2px solid #9aa5b1; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td, tr.total th { font-weight: 600; border-top: 2px solid #9aa5b1; }
dl.figures { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
dl.figures div { background: var(--band); border-left: 4px solid var(--accent); padding: .5rem .9rem; min-width: 9rem; }
dl.figures dt { font-size: .8rem; color: var(--muted); }
dl.figures dd { margin: 0; font-size: 1.5rem; font-weight: 650; }
figure { margin: 1rem 0 1.6rem; }
figure svg { display: block; max-width: 100%; height: auto; }
ul.codebook { list-style: none; padding-left: 0; }
ul.codebook ul { list-style: none; padding-left: 1.4rem; }
ul.codebook li { margin: .35rem 0; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .4rem;
  vertical-align: baseline; border: 1px solid rgba(0,0,0,.25); }
.definition { display: block; color: #333; font-size: .88rem; margin-left: 1.25rem; }
.tag { font-size: .75rem; color: var(--muted); border: 1px solid var(--rule); border-radius: 3px; padding: 0 .3rem; }
blockquote { margin: .6rem 0 .9rem; padding: .5rem .9rem; background: var(--band); border-left: 4px solid #9aa5b1; }
blockquote p { margin: 0 0 .3rem; }
blockquote footer { font-size: .82rem; color: var(--muted); }
.spread { font-size: .88rem; margin: .2rem 0; }
.memos { font-size: .85rem; color: #333; }
.theme { border-top: 1px solid var(--rule); margin-top: 1.2rem; }
nav.toc ol { padding-left: 1.2rem; }
a { color: var(--accent); }
@page { size: A4; margin: 16mm 14mm 18mm; }
@media print {
  html { font-size: 11pt; }
  body { max-width: none; padding: 0; }
  section.chapter { break-before: page; }
  h2, h3, h4 { break-after: avoid; }
  figure, blockquote, table, dl.figures, tr, .code-entry > p { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


def e(text: object) -> str:
    return escape("" if text is None else str(text), quote=True)


def _gender_word(g: str, plural: bool = True) -> str:
    return {"woman": "Women" if plural else "Woman", "man": "Men" if plural else "Man"}.get(g, g[:1].upper() + g[1:])


def to_html(data: dict) -> str:
    chapters = [
        ("overview", "Study overview", _overview(data)),
        ("codebook", "Codebook", _codebook(data)),
        ("frequencies", "Code frequencies by gender", _frequencies(data)),
    ]
    if data["heatmap"]:
        chapters.append(("case-studies", "Codes by case study", _heatmap(data)))
    if set(data["summary"]["totals"]["by_source"]) - {"interview"}:
        chapters.append(("triangulation", "Evidence by source", _triangulation(data)))
    chapters.append(("agreement", "Coding consistency", _agreement(data)))
    chapters.append(("themes", "Theme summaries", _themes(data)))
    toc = "".join(f'<li><a href="#{cid}">{e(name)}</a></li>' for cid, name, _ in chapters)
    body = "".join(
        f'<section id="{cid}" class="chapter" aria-labelledby="{cid}-h"><h2 id="{cid}-h">{i}. '
        f"{e(name)}</h2>{html}</section>"
        for i, (cid, name, html) in enumerate(chapters, 1)
    )
    cb = data["codebook"]
    meta = [
        f"Codebook: {cb['name']}" + (f" (version {cb['version']})" if cb["version"] else ""),
        f"Codings by {data['coder']}",
    ]
    if data["redacted"]:
        meta.append("Pseudonymised: participants appear by study id")
    agreed = data["summary"].get("consensus")
    if agreed:  # an incomplete consensus is said where nobody can miss it
        style = "note" if agreed["complete"] else "warning"
        head_note = f'<p class="{style}" role="note">{e(agreed["description"])}</p>'
    else:
        head_note = ""
    for caveat in data["summary"].get("caveats", []):  # undecided turns, codings left out: where nobody misses them
        if not agreed or caveat != agreed["description"]:
            head_note += f'<p class="warning" role="note">{e(caveat)}</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="qualcode">\n<title>{e(data["title"])}</title>\n<style>{CSS}</style>\n'
        f'</head>\n<body>\n<header><h1>{e(data["title"])}</h1><p class="meta">{" · ".join(e(m) for m in meta)}</p>'
        f'{head_note}</header>\n<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>\n'
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _count_table(caption: str, head: str, rows: list[dict], genders: list[str], total: dict) -> str:
    th = "".join(f'<th scope="col" class="n">{e(_gender_word(g))}</th>' for g in genders)
    out = [
        f'<table><caption>{e(caption)}</caption><thead><tr><th scope="col">{e(head)}</th>'
        f'<th scope="col" class="n">Participants</th>{th}</tr></thead><tbody>'
    ]
    for r in rows:
        cells = "".join(f'<td class="n">{r["by_gender"].get(g, 0)}</td>' for g in genders)
        out.append(f'<tr><th scope="row">{e(r["value"])}</th><td class="n">{r["total"]}</td>{cells}</tr>')
    cells = "".join(f'<td class="n">{total["by_gender"].get(g, 0)}</td>' for g in genders)
    out.append(
        f'<tr class="total"><th scope="row">All participants</th><td class="n">{total["total"]}</td>{cells}</tr>'
    )
    out.append("</tbody></table>")
    return "".join(out)


def _overview(data: dict) -> str:
    o = data["overview"]
    genders = list(o["by_gender"])
    figures = [("Interviews", "interviews", o["interviews"]), ("Participants", "participants", o["participants"])]
    figures += [(_gender_word(g), f"participants-{g.replace(' ', '-')}", n) for g, n in o["by_gender"].items()]
    figures += [
        ("Interviews coded", "interviews-coded", o["interviews_coded"]),
        ("Participants coded", "participants-coded", o["participants_coded"]),
        ("Coded segments", "segments", o["segments"]),
    ]
    if o["surveys"]:
        figures += [("Surveys", "surveys", o["surveys"]), ("Respondents", "respondents", o["respondents"])]
    if o["documents"]:
        figures.append(("Documents", "documents", o["documents"]))
    out = ['<dl class="figures">']
    out += [f'<div><dt>{e(label)}</dt><dd data-figure="{e(key)}">{n:,}</dd></div>' for label, key, n in figures]
    out.append("</dl>")
    base = data["summary"]["base"]["participants"]
    out.append(
        f"<p>The study interviewed {counted(o['participants'], 'participant')} "
        f"({e(gender_split(o['by_gender']))}) in {counted(o['interviews'], 'interview')}. "
        f"{e(data['coder'])} coded {o['interviews_coded']} of the interviews, in which "
        f"{counted(base['total'], 'participant')} took part ({e(gender_split(base['by_gender']))}): "
        f"{counted(o['segments'], 'coded segment')} from {counted(o['participants_coded'], 'participant')} "
        f"({e(rate_split(data['summary']['totals']['rates']))}). Participants are distinct people throughout: "
        "someone interviewed twice counts once; shares are of the participants in the interviews coded.</p>"
    )
    if len(o["languages"]) > 1:
        held = ", ".join(f"{name} {n}" for name, n in o["languages"].items())
        out.append(
            f'<p data-figure="languages">Interviews by language: {e(held)}. Quotes are given as spoken, marked '
            "with their language, with the coder's translation where one was recorded.</p>"
        )
    total = {"total": o["participants"], "by_gender": o["by_gender"]}
    for attr, caption, head in (
        ("stakeholder_group", "Participants by stakeholder group and gender", "Stakeholder group"),
        (
            "case_study",
            "Participants by case study and gender. A person interviewed in two "
            "case studies counts in each, so the rows can add up to more than the total.",
            "Case study",
        ),
    ):
        if o["by"].get(attr):
            out.append(_count_table(caption, head, o["by"][attr], genders, total))
    return "".join(out)


def _codebook(data: dict) -> str:
    codes = data["codebook"]["codes"]
    out = [
        f"<p>{counted(sum(c['codable'] for c in codes), 'code')} in "
        f"{counted(sum(c['depth'] == 0 for c in codes), 'top-level criterion', 'top-level criteria')}, "
        "in the order used throughout the report.</p>",
        '<ul class="codebook">',
    ]
    depth = 0
    for i, c in enumerate(codes):
        while depth < c["depth"]:
            out.append("<ul>")
            depth += 1
        while depth > c["depth"]:
            out.append("</ul></li>")
            depth -= 1
        tags = (' <span class="tag">folder</span>' if not c["codable"] else "") + (
            ' <span class="tag">exclusive: one child at most</span>' if c["exclusive"] else ""
        )
        swatch = (
            f'<span class="swatch" style="background:{e(c["colour"])}" aria-hidden="true"></span>'
            if c["colour"]
            else ""
        )
        name = f"<strong>{e(c['name'])}</strong>" if c["depth"] == 0 else e(c["name"])
        definition = f'<span class="definition">{e(c["definition"])}</span>' if c["definition"] else ""
        out.append(f"<li>{swatch}{name}{tags}{definition}")
        has_children = i + 1 < len(codes) and codes[i + 1]["depth"] > c["depth"]
        if not has_children:
            out.append("</li>")
    while depth > 0:
        out.append("</ul></li>")
        depth -= 1
    out.append("</ul>")
    return "".join(out)


def _frequencies(data: dict) -> str:
    out = [
        "<p>For each criterion, how many distinct participants raised each code, by gender. A participant counts "
        "once per code however often they were coded; a criterion's own codings (where coders applied the "
        "criterion rather than one of its codes) are a row of their own.</p>"
    ]
    colours = charts.series_colours(data["frequencies"][0]["genders"] if data["frequencies"] else [])
    for i, block in enumerate(data["frequencies"], 1):
        genders = block["genders"]
        series = [_gender_word(g) for g in genders]
        values = [[row["by_gender"][g] for g in genders] for row in block["codes"]]
        title = f"{block['criterion']}: participants coded, by gender"
        of = data["summary"]["base"]["participants"]["by_gender"]
        desc = "; ".join(
            f"{row['label']}: "
            + ", ".join(f"{row['by_gender'][g]} of {of.get(g, 0)} {_gender_word(g).lower()}" for g in genders)
            for row in block["codes"]
        )
        svg = charts.grouped_bars(
            f"bars-{i}",
            [row["label"] for row in block["codes"]],
            series,
            values,
            title=title,
            desc=desc,
            colours={_gender_word(g): colours[g] for g in genders},
        )
        out.append(f"<h3>{e(block['criterion'])}</h3>")
        out.append(
            f'<figure class="bars" data-criterion="{e(block["criterion"])}">{svg}'
            f"<figcaption>Figure 1.{i}. {e(title)} (distinct participants, of the "
            f"{e(gender_split(of))} in the interviews coded).</figcaption></figure>"
        )
    return "".join(out)


def _heatmap(data: dict) -> str:
    h = data["heatmap"]
    rows: list[tuple[str, bool]] = []
    values: list[list[int] | None] = []
    current = None
    for r in h["rows"]:
        if r["criterion"] != current:
            current = r["criterion"]
            rows.append((current, True))
            values.append(None)
        label = r["name"] if r["depth"] else f"{r['name']} (criterion itself)"
        rows.append((label, False))
        values.append(r["cells"])
    title = "Codes by case study: participants coded"
    desc = (
        f"Distinct participants coded with each code in each of {len(h['columns'])} case studies; darker cells "
        "mean more participants."
    )
    svg = charts.heatmap("heatmap-case-study", rows, h["columns"], values, title=title, desc=desc)
    base = "; ".join(f"{v} {n}" for v, n in (h["base"] or {}).items())
    study = "; ".join(f"{v} {n}" for v, n in (h["study"] or {}).items())
    # The note goes under the figure: above it, it would push the tall figure onto the next page in print.
    return (
        f'<figure class="heatmap">{svg}<figcaption>Figure 2. {e(title)}. Participants per case study in the '
        f"interviews coded: {e(base)} (in the whole study: {e(study)}). {e(h['note'])}</figcaption></figure>"
    )


def _triangulation(data: dict) -> str:
    """Criteria × kinds of source: each kind's people (or documents) against its own base, so that a finding heard
    in interviews can be read beside what the surveys and documents say."""
    totals = data["summary"]["totals"]["by_source"]
    kinds = list(totals)

    def cell(item: dict | None, kind: str) -> str:
        if "people_of" in totals[kind]:
            n, of = (item or {}).get("people", 0), totals[kind]["people_of"]
        else:
            n, of = (item or {}).get("sources", 0), totals[kind]["of"]
        share = f" ({n / of:.0%})" if of else ""
        return f'<td class="n">{n} of {of}{share}</td>'

    def unit(kind: str) -> str:
        return {"interview": "participants", "survey": "respondents"}.get(kind, SOURCE_WORDS[kind][1] + "s")

    head = "".join(f'<th scope="col" class="n">{e(SOURCE_WORDS[k][0])} ({e(unit(k))})</th>' for k in kinds)
    out = [
        "<p>Each criterion's evidence by kind of source, each read against its own base: the participants of the "
        "interviews coded, the respondents of the surveys coded, the documents coded. A criterion raised in every "
        "kind of source is corroborated; one raised in a single kind is a lead to check.</p>",
        f"<table><caption>Criteria by kind of source ({e(data['coder'])})</caption><thead><tr>"
        f'<th scope="col">Criterion</th>{head}</tr></thead><tbody>',
    ]
    for section in data["summary"]["sections"]:
        c = section["criterion"]
        cells = "".join(cell(c["by_source"].get(k), k) for k in kinds)
        out.append(f'<tr><th scope="row">{e(c["name"])}</th>{cells}</tr>')
    out.append("</tbody></table>")
    out.append(f'<p class="note">All codes: {e(source_line(totals))}.</p>')
    return "".join(out)


def _stat(value: float | None, band: str | None, reason: str | None) -> str:
    if value is None:
        return f'<td class="n" title="{e(reason)}">undefined</td>'
    return f'<td class="n">{value:.2f}</td><td>{e(band or "")}</td>'


def _agreement(data: dict) -> str:
    a = data["agreement"]
    if not a:
        return (
            "<p>No agreement figures: they need two coders (other than the consensus) who have both decided the "
            "same turns. Double-code a sample of interviews and run <code>qualcode audit</code>.</p>"
        )
    conv = a["conventions"]
    out = [
        f"<p>{e(a['scope'])} {e(a['unit'])}</p>",
        f"<table><caption>Agreement between {e(' and '.join(a['coders']))} per criterion (each branch pooled) "
        f'and overall</caption><thead><tr><th scope="col">Criterion</th><th scope="col" class="n">Turns</th>'
        f'<th scope="col" class="n">Agreement</th><th scope="col" class="n">{e(a["kappa"])}</th>'
        '<th scope="col">Band</th><th scope="col" class="n">Krippendorff\'s α</th><th scope="col">Band</th>'
        "</tr></thead><tbody>",
    ]
    for r in a["rows"]:
        cls = ' class="total"' if r["level"] == "overall" else ""
        pa = "–" if r["percent_agreement"] is None else f"{r['percent_agreement']:.1%}"
        kappa = _stat(r["kappa"], r["kappa_band"], r["kappa_reason"])
        alpha = _stat(r["alpha"], r["alpha_band"], r["alpha_reason"])
        kappa += "<td></td>" if r["kappa"] is None else ""
        alpha += "<td></td>" if r["alpha"] is None else ""
        out.append(
            f'<tr{cls}><th scope="row">{e(r["criterion"])}</th><td class="n">{r["units"]:,}</td>'
            f'<td class="n">{pa}</td>{kappa}{alpha}</tr>'
        )
    out.append("</tbody></table>")
    out.append(
        f'<p class="note">{e(a["overall"])} {e(conv["note"])} α: {e(conv["krippendorff_alpha"]["convention"])} '
        f"({e('; '.join(conv['krippendorff_alpha']['bands']))}). κ: {e(conv['kappa']['convention'])} "
        f"({e('; '.join(conv['kappa']['bands']))}). See docs/audit.md for the definitions.</p>"
    )
    return "".join(out)


def _quote(q: dict, show_code: bool) -> str:
    code = f" · {e(q['code'])}" if show_code else ""
    # lang lets a screen reader and the browser's hyphenation read the quote in the language it was spoken in
    said = f'<p lang="{e(q["language"])}">' if q.get("in") else "<p>"
    translation = f'<p class="translation">{e(q["translation"])}</p>' if q.get("translation") else ""
    return f"<blockquote>{said}{e(q['text'])}</p>{translation}<footer>— {e(attribution(q))}{code}</footer></blockquote>"


def _entry(entry: dict, number: str, heading: str) -> str:
    criterion = entry["level"] == "criterion"
    own = number.endswith(".0")
    name = entry["name"] + (" (coded at the criterion itself)" if own else "")
    out = [f'<div class="code-entry"><{heading}>{e(number)} {e(name)}</{heading}>']
    if entry["definition"] and not own:
        out.append(f'<p class="definition-text"><em>Definition.</em> {e(" ".join(entry["definition"].split()))}</p>')
    if not entry["segments"]:
        out.append("<p>Not coded.</p></div>")
        return "".join(out)
    lead = "All codes in this criterion: " if criterion else ""
    out.append(
        f"<p>{lead}{counted(entry['segments'], 'coded segment')} from {counted(entry['interviews'], 'interview')},"
        f" said by {counted(entry['participants'], 'participant')} ({e(gender_split(entry['by_gender']))}).</p>"
    )
    labels = {"case_study": "Case studies", "stakeholder_group": "Stakeholder groups"}
    for attr, values in entry["spread"].items():
        text = " · ".join(f"{v} {n}" for v, n in values.items())
        out.append(f'<p class="spread"><strong>{e(labels.get(attr, attr))}</strong> (participants): {e(text)}</p>')
    if set(entry["by_source"]) - {"interview"}:
        out.append(f'<p class="spread"><strong>By source</strong>: {e(source_line(entry["by_source"]))}</p>')
    out += [_quote(q, criterion) for q in entry["quotes"]]
    if entry["memos"]:
        items = "".join(
            f"<li>{e(m['interview'])}, turn {m['turn']}: {e(' '.join(m['memo'].split()))}</li>" for m in entry["memos"]
        )
        out.append(f'<div class="memos"><strong>Coders\' memos</strong><ul>{items}</ul></div>')
    out.append("</div>")
    return "".join(out)


def _themes(data: dict) -> str:
    s = data["summary"]
    out = ['<ul class="note">' + "".join(f"<li>{e(line)}</li>" for line in s["method"]) + "</ul>"]
    for i, section in enumerate(s["sections"], 1):
        out.append(f'<article class="theme" aria-label="{e(section["criterion"]["name"])}">')
        out.append(_entry(section["criterion"], f"{i}.", "h3"))
        n = 0
        for entry in section["codes"]:
            if entry["code"] == section["criterion"]["code"]:
                number = f"{i}.0"
            else:
                n += 1
                number = f"{i}.{n}"
            out.append(_entry(entry, number, "h4"))
        out.append("</article>")
    return "".join(out)
