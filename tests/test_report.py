"""The HTML report: self-contained, charts that match the data, figures equal to the shipped files, printable.

The shipped project is built once for the module through the CLI. The HTML is parsed with lxml.html; expected
figures come from codings/*.csv and the transcripts' front matter (tests/shipped.py). The Chromium check at the
end renders the report to PDF and PNG and is skipped where Chromium is not installed (CI).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict

import lxml.html
import pytest

from qualcode.export import charts
from tests import shipped
from tests.conftest import CORPUS, ROOT, write

CODER = "coder-a"
URL_ATTRIBUTES = ("src", "href", "xlink:href", "action", "data", "poster", "srcset", "formaction", "background")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return shipped.build(tmp_path_factory, "report")


@pytest.fixture(scope="module")
def html(project, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("html") / "report.html"
    project("report", "--coder", CODER, "-o", out)
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(html):
    return lxml.html.fromstring(html)


def figure(doc, key: str) -> int:
    (dd,) = doc.xpath(f'//dd[@data-figure="{key}"]')
    return int(dd.text_content().replace(",", ""))


def test_nothing_is_loaded_from_elsewhere(doc, html):
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        assert el.tag not in ("script", "link", "img", "iframe", "object", "embed", "base"), el.tag
        for name in URL_ATTRIBUTES:
            value = el.get(name)
            assert value is None or value.startswith("#"), (el.tag, name, value)
    css = "".join(doc.xpath("//style/text()"))
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)


def test_overview_figures_equal_the_shipped_files(doc):
    people = shipped.participants()
    women = sum(p["gender"] == "woman" for p in people.values())
    men = sum(p["gender"] == "man" for p in people.values())
    assert (len(people), women, men) == (108, 65, 43)
    assert figure(doc, "participants") == len(people)
    assert figure(doc, "participants-woman") == women
    assert figure(doc, "participants-man") == men
    assert figure(doc, "interviews") == len(shipped.transcripts()) == 64
    rows = shipped.evidence(CODER)
    assert figure(doc, "interviews-coded") == len({r["interview"] for r in rows})
    assert figure(doc, "participants-coded") == len({r["participant"] for r in rows})
    assert figure(doc, "segments") == len(rows)
    text = doc.xpath('//section[@id="overview"]')[0].text_content()
    assert "108 participants (65 women, 43 men) in 64 interviews" in " ".join(text.split())


def table_rows(table) -> dict[str, list[str]]:
    out = {}
    for tr in table.xpath(".//tbody/tr"):
        out[tr.xpath("./th")[0].text_content()] = [td.text_content() for td in tr.xpath("./td")]
    return out


def test_overview_tables_by_stakeholder_group_and_case_study(doc):
    tables = doc.xpath('//section[@id="overview"]//table')
    assert len(tables) == 2
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cases: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for pid, p in shipped.participants().items():
        groups[p["stakeholder_group"]][p["gender"]] += 1
        for attrs in p["interviews"].values():
            cases[attrs["case_study"]][p["gender"]].add(pid)
    by_group = table_rows(tables[0])
    assert by_group.pop("All participants") == ["108", "65", "43"]
    assert by_group == {g: [str(c["woman"] + c["man"]), str(c["woman"]), str(c["man"])] for g, c in groups.items()}
    by_case = table_rows(tables[1])
    by_case.pop("All participants")
    assert by_case == {
        k: [str(len(c["woman"]) + len(c["man"])), str(len(c["woman"])), str(len(c["man"]))] for k, c in cases.items()
    }


def test_a_bar_chart_per_criterion_with_a_bar_per_code_and_gender(doc):
    rows = shipped.evidence(CODER)
    criteria = [c["path"] for c in shipped.codebook() if c["depth"] == 0 and shipped.codable_in(c["path"])]
    figures = doc.xpath('//section[@id="frequencies"]//figure[@class="bars"]')
    assert [f.get("data-criterion") for f in figures] == criteria
    for fig in figures:
        codes = shipped.codable_in(fig.get("data-criterion"))
        (svg,) = fig.xpath(".//svg")
        bars = svg.xpath('.//rect[@class="bar"]')
        assert len(bars) == 2 * len(codes)
        expected = []
        for code in codes:
            mine = [r for r in rows if r["code"] == code]
            expected += [len({r["participant"] for r in mine if r["gender"] == g}) for g in ("woman", "man")]
        assert [int(b.get("data-value")) for b in bars] == expected
        assert [b.get("data-series") for b in bars] == ["Women", "Men"] * len(codes)
        widths = [float(b.get("width")) for b in bars]
        top = max(expected)
        assert all(w == 0 for w, v in zip(widths, expected, strict=True) if v == 0)
        assert widths[expected.index(top)] == max(widths) > 0


def test_heat_map_of_codes_by_case_study(doc):
    (svg,) = doc.xpath('//section[@id="case-studies"]//svg')
    cases = sorted({t["meta"]["attributes"]["case_study"] for t in shipped.transcripts().values()}, key=str.casefold)
    codes = [c["path"] for c in shipped.codebook() if c["codable"]]
    cells = svg.xpath('.//rect[@class="cell"]')
    assert len(cells) == len(codes) * len(cases) == 34 * 9
    rows = shipped.evidence(CODER)
    expected = []
    for code in codes:
        for case in cases:
            expected.append(len({r["participant"] for r in rows if r["code"] == code and r["case_study"] == case}))
    assert [int(c.get("data-value")) for c in cells] == expected


def test_charts_are_labelled_images(doc):
    svgs = doc.xpath("//svg")
    assert len(svgs) == 9
    for svg in svgs:
        assert svg.get("role") == "img"
        title, desc = svg.get("aria-labelledby").split()
        assert svg.xpath(f'./title[@id="{title}"]')[0].text_content()
        assert svg.xpath(f'./desc[@id="{desc}"]')[0].text_content()
        assert all(r.xpath("./title") for r in svg.xpath(".//rect[@class]"))


def test_document_structure_is_accessible(doc):
    assert doc.get("lang") == "en"
    assert doc.xpath("//head/title")[0].text_content() == doc.xpath("//h1")[0].text_content()
    assert [h.text_content() for h in doc.xpath("//main/section/h2")] == [
        "1. Study overview",
        "2. Codebook",
        "3. Code frequencies by gender",
        "4. Codes by case study",
        "5. Coding consistency",
        "6. Theme summaries",
    ]
    for table in doc.xpath("//table"):
        assert table.xpath("./caption")
        assert all(th.get("scope") in ("col", "row") for th in table.xpath(".//th"))


def test_print_css(doc):
    css = "".join(doc.xpath("//style/text()"))
    assert "print-color-adjust: exact" in css and "-webkit-print-color-adjust: exact" in css
    assert "@page" in css and "@media print" in css
    assert re.search(r"section\.chapter\s*\{\s*break-before:\s*page", css)
    assert re.search(r"figure,[^{]*\{\s*break-inside:\s*avoid", css)


def test_codebook_tree_with_definitions(doc):
    items = doc.xpath('//section[@id="codebook"]//li')
    assert len(items) == len(shipped.codebook())
    first = shipped.codebook()[1]
    assert " ".join(first["definition"].split()) in doc.xpath('//section[@id="codebook"]')[0].text_content()
    nested = doc.xpath('//section[@id="codebook"]/ul/li[1]/ul/li')
    assert [li.xpath("./text()")[0] for li in nested] == [
        c["name"] for c in shipped.codebook() if c["criterion"] == "Relevance" and c["depth"] == 1
    ]


def test_agreement_shows_the_audit_per_criterion(project, doc):
    audit = json.loads(project("audit", "--coders", "coder-a,coder-b", "--level", "all", "--format", "json").stdout)
    rows = table_rows(doc.xpath('//section[@id="agreement"]//table')[0])
    expected = {r["code"] or "All codes (overall)": r for r in audit["rows"] if r["level"] in ("criterion", "overall")}
    assert list(rows) == list(expected)
    for name, cells in rows.items():
        stats = expected[name]["statistics"]
        kappa, alpha = stats["cohen_kappa"], stats["krippendorff_alpha"]
        assert cells[0] == f"{expected[name]['units']:,}"
        assert cells[2:6] == [
            f"{kappa['value']:.2f}",
            kappa["band"]["label"],
            f"{alpha['value']:.2f}",
            alpha["band"]["label"],
        ]
    text = doc.xpath('//section[@id="agreement"]')[0].text_content()
    assert "Landis" in text and "Krippendorff" in text and audit["scope"]["text"] in text


def test_theme_summaries_carry_the_quotes(project, doc):
    data = json.loads(project("export", "summary", "--coder", CODER, "-f", "json").stdout)
    quotes = [q for s in data["sections"] for e in [s["criterion"], *s["codes"]] for q in e["quotes"]]
    shown = doc.xpath('//section[@id="themes"]//blockquote/p')
    assert [p.text_content() for p in shown] == [q["text"] for q in quotes]
    assert len(doc.xpath('//section[@id="themes"]//article')) == len(data["sections"])


def test_report_for_one_coder_says_why_there_is_no_agreement(cli, tmp_path):
    cli("import", CORPUS / "INT-07.md")
    cli("codebook", "load", write(tmp_path / "cb.yml", "codebook: Small\ncodes:\n  - name: Impact\n"))
    cli("codings", "import", write(tmp_path / "c.csv", "interview,turn,code,coder,memo\nINT-07,4,Impact,ana,\n"))
    html = cli("report", "--title", "Small <study> & co").stdout
    doc = lxml.html.fromstring(html)
    assert doc.xpath("//head/title")[0].text_content() == "Small <study> & co"
    assert "No agreement figures" in doc.xpath('//section[@id="agreement"]')[0].text_content()
    assert len(doc.xpath('//rect[@class="bar"]')) == 2


def test_agreement_names_only_coders_who_share_turns(cli, tmp_path):
    """A third coder on turns nobody else decided, and a consensus under another name: neither is in the line."""
    cli("import", CORPUS / "INT-07.md", CORPUS / "INT-08.md")
    cli("codebook", "load", write(tmp_path / "cb.yml", "codebook: Small\ncodes:\n  - name: Impact\n  - name: Other\n"))
    rows = ["INT-07,4,Impact,ana,", "INT-07,4,Impact,ben,", "INT-07,5,Other,ana,", "INT-07,5,Impact,ben,"]
    rows += ["INT-08,3,Impact,cleo,"]
    cli("codings", "import", write(tmp_path / "c.csv", "interview,turn,code,coder,memo\n" + "\n".join(rows) + "\n"))
    cli("review", "--coders", "ana,ben", "--as", "team", input="1\nq\n")
    doc = lxml.html.fromstring(cli("report", "--coder", "ana").stdout)
    caption = doc.xpath('//section[@id="agreement"]//table/caption')[0].text_content()
    assert caption.startswith("Agreement between ana and ben per criterion"), caption


# --- charts.py ---------------------------------------------------------------------------------------------------


def test_charts_escape_text_and_stay_well_formed_xml():
    svg = charts.grouped_bars(
        "c<1>",
        ['Data & "stats" <b>', "x"],
        ["Women", "Men & others"],
        [[3, 0], [1, 7]],
        title="T & <t>",
        desc='D "quoted"',
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "T & <t>"
    assert len(root.findall(f".//{ns}rect[@class='bar']")) == 4
    labels = ["".join(t.itertext()) for t in root.iter(f"{ns}text")]
    assert 'Data & "stats" <b>' in labels and "Men & others" in labels
    heat = charts.heatmap(
        "h", [("Crit & co", True), ("<code>", False)], ["A&B", "C"], [None, [0, 5]], title="H", desc="d"
    )
    root = ET.fromstring(heat)
    cells = root.findall(f".//{ns}rect[@class='cell']")
    assert [c.get("data-value") for c in cells] == ["0", "5"]
    assert cells[1].find(f"{ns}title").text == "<code>, C: 5 participants"


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (20, 20), (51, 100)])
def test_axis_ends_on_a_round_number(value, top):
    assert charts.nice_max(value) == top


def test_long_labels_wrap_to_two_lines():
    assert charts.wrap("Added value of tripartism and the ILO mandate") == [
        "Added value of tripartism and the",
        "ILO mandate",
    ]
    assert charts.wrap("word " * 30)[-1].endswith("…")


# --- headless Chromium (skipped where it is not installed) --------------------------------------------------------


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_renders_the_report_to_pdf_and_png(project, tmp_path):
    out = tmp_path / "report.html"
    project("report", "--coder", CODER, "-o", out)
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "check_report.sh"), str(out), str(tmp_path)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    pdf, png = (tmp_path / "report.pdf").read_bytes(), (tmp_path / "report.png").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 100_000
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "108" in text and "6. Theme summaries" in text and "Figure 2." in text


@pytest.mark.parametrize(("top", "step"), [(1, 1), (5, 1), (10, 2), (20, 5), (50, 10), (100, 20), (200, 50)])
def test_axis_ticks_are_whole_numbers(top, step):
    assert charts.tick_step(top) == step
