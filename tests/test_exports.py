"""Exports (summary, matrix, segments, participants, qdpx) and --redact, checked against the shipped files.

The shipped project is built once for the module through the CLI. Expected figures are computed here from
codings/*.csv and the transcripts' front matter (tests/shipped.py), never from qualcode's own functions.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections import defaultdict

import pytest

from tests import shipped
from tests.conftest import CORPUS, write

CODER = "coder-a"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return shipped.build(tmp_path_factory, "exports")


def summary_json(project, *extra: str) -> dict:
    return json.loads(project("export", "summary", "--coder", CODER, "--format", "json", *extra).stdout)


@pytest.fixture(scope="module")
def summary(project) -> dict:
    return summary_json(project)


def entries(data: dict):
    for section in data["sections"]:
        yield section["criterion"]
        yield from section["codes"]


# --- summary ---------------------------------------------------------------------------------------------------


def test_summary_follows_the_codebook_tree(summary):
    criteria = [c["path"] for c in shipped.codebook() if c["depth"] == 0]
    assert [s["criterion"]["code"] for s in summary["sections"]] == criteria
    for section in summary["sections"]:
        name = section["criterion"]["code"]
        expected = [c["path"] for c in shipped.codebook() if c["criterion"] == name and c["depth"] > 0]
        children = [e["code"] for e in section["codes"] if e["code"] != name]
        assert children == expected
        assert all(e["level"] == "code" for e in section["codes"])


def test_summary_counts_equal_the_csv_and_front_matter(summary):
    rows = shipped.evidence(CODER)
    by_code, by_criterion = defaultdict(list), defaultdict(list)
    for r in rows:
        by_code[r["code"]].append(r)
        by_criterion[r["criterion"]].append(r)
    checked = 0
    for e in entries(summary):
        mine = by_criterion[e["code"]] if e["level"] == "criterion" else by_code[e["code"]]
        assert e["segments"] == len(mine), e["code"]
        assert e["interviews"] == len({r["interview"] for r in mine}), e["code"]
        assert e["participants"] == len({r["participant"] for r in mine}), e["code"]
        assert {g: n for g, n in e["by_gender"].items() if n} == shipped.people_by_gender(mine), e["code"]
        case = defaultdict(set)
        for r in mine:
            case[r["case_study"]].add(r["participant"])
        assert e["spread"].get("case_study", {}) == {k: len(v) for k, v in case.items()}, e["code"]
        checked += 1
    assert checked > 40
    # One code spelt out, as a reader would check it by hand.
    code = "Relevance/Relevance to migrant workers"
    mine = by_code[code]
    women = {r["participant"] for r in mine if r["gender"] == "woman"}
    men = {r["participant"] for r in mine if r["gender"] == "man"}
    entry = next(e for e in entries(summary) if e["code"] == code)
    assert entry["by_gender"] == {"woman": len(women), "man": len(men)} and women and men
    totals = summary["totals"]
    assert (totals["participants_in_project"], totals["interviews_in_project"]) == (108, 64)
    assert totals["participants_in_project_by_gender"] == {"woman": 65, "man": 43}
    assert totals["participants"] == len({r["participant"] for r in rows})


def test_quotes_come_from_the_codes_segments_spread_across_interviews_and_speakers(summary):
    rows = shipped.evidence(CODER)
    coded: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for r in rows:
        for key in (r["code"], r["criterion"]):
            coded[key][r["interview"], r["turn"]] = r
    with_quotes = 0
    for e in entries(summary):
        mine = (
            coded[e["code"]]
            if e["level"] == "criterion"
            else {k: r for k, r in coded[e["code"]].items() if r["code"] == e["code"]}
        )
        assert len(e["quotes"]) == min(3, len(mine)), e["code"]
        for q in e["quotes"]:
            source = mine[q["interview"], q["turn"]]
            assert q["text"] == " ".join(source["text"].split())
            assert (q["participant"], q["speaker"], q["gender"]) == (
                source["participant"],
                source["speaker"],
                source["gender"],
            )
        interviews = {r["interview"] for r in mine.values()}
        speakers = {r["participant"] for r in mine.values()}
        quoted = [q["interview"] for q in e["quotes"]]
        assert len(set(quoted)) == min(len(quoted), len(interviews)), e["code"]
        assert len({q["participant"] for q in e["quotes"]}) == min(len(quoted), len(speakers)), e["code"]
        with_quotes += bool(e["quotes"])
    assert with_quotes > 30


def test_quotes_are_chosen_the_same_way_every_time(project, summary):
    again = summary_json(project)
    assert [e["quotes"] for e in entries(again)] == [e["quotes"] for e in entries(summary)]
    fewer = summary_json(project, "--quotes", "1")
    assert all(len(e["quotes"]) <= 1 for e in entries(fewer))
    # The first quote is the same whatever the number asked for: round-robin starts at the same place.
    assert [e["quotes"][:1] for e in entries(fewer)] == [e["quotes"][:1] for e in entries(summary)]


def test_memos_are_listed_under_their_code(summary):
    memos = defaultdict(list)
    for r in shipped.evidence(CODER):
        if r["memo"]:
            memos[r["code"]].append((r["interview"], r["turn"], r["memo"]))
    for e in entries(summary):
        got = [(m["interview"], m["turn"], m["memo"]) for m in e["memos"]]
        assert sorted(got) == sorted(memos.get(e["code"], []) if e["level"] == "code" else []), e["code"]


def test_summary_markdown_reads_as_an_annex(project, summary):
    md = project("export", "summary", "--coder", CODER).stdout
    assert md.startswith("# Findings annex: theme summaries\n")
    headings = re.findall(r"^##+ (.+)$", md, re.M)
    assert headings[:2] == ["How to read this annex", "Overview"]
    criteria = [h for h in re.findall(r"^## \d+\. (.+)$", md, re.M)]
    assert criteria == [s["criterion"]["name"] for s in summary["sections"]]
    assert "### 1.1 Constituent needs and priorities" in md
    first = summary["sections"][0]["criterion"]["quotes"][0]
    assert f"> — {first['speaker']} ({first['participant']}), {first['gender']}" in md
    assert f"{first['interview']}, turn {first['turn']}" in md
    assert "65 women, 43 men interviewed" in md


def test_summary_csv_and_xlsx(project, summary, tmp_path):
    rows = list(csv.DictReader(io.StringIO(project("export", "summary", "--coder", CODER, "-f", "csv").stdout)))
    assert [r["code"] for r in rows] == [e["code"] for e in entries(summary)]
    relevance = rows[0]
    assert (
        relevance["level"] == "criterion"
        and int(relevance["participants"]) == summary["sections"][0]["criterion"]["participants"]
    )
    assert relevance["quote_1"].startswith(summary["sections"][0]["criterion"]["quotes"][0]["text"])
    from openpyxl import load_workbook

    out = tmp_path / "summary.xlsx"
    project("export", "summary", "--coder", CODER, "-f", "xlsx", "-o", out)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "Quotes", "Memos"]
    ws = wb["Summary"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    header = [c.value for c in ws[1]]
    assert header[:6] == ["number", "level", "code", "segments", "interviews", "participants"]
    assert ws["C2"].value == "Relevance" and ws["D2"].value == summary["sections"][0]["criterion"]["segments"]
    assert ws.column_dimensions["C"].width > 10
    quotes = wb["Quotes"]
    assert quotes.max_row - 1 == sum(len(e["quotes"]) for e in entries(summary))
    assert wb["Memos"].max_row - 1 == sum(len(e["memos"]) for e in entries(summary))


def test_xlsx_needs_a_file(project):
    r = project("export", "summary", "--coder", CODER, "-f", "xlsx", expect=2)
    assert "-o FILE" in r.stderr


def test_the_format_follows_the_output_files_suffix(project, tmp_path):
    from openpyxl import load_workbook

    by_gender = ("export", "matrix", "--coder", CODER, "--by", "gender", "--level", "criterion")
    project(*by_gender, "-o", tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").startswith("criterion,woman,man,total")
    project("export", "segments", "--coder", CODER, "-o", tmp_path / "s.xlsx")
    assert load_workbook(tmp_path / "s.xlsx").sheetnames
    project("export", "summary", "--coder", CODER, "-o", tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["format"] == "qualcode-summary/1"
    project("export", "participants", "-o", tmp_path / "p.notes")  # a suffix naming no format: the default (md)
    assert (tmp_path / "p.notes").read_text(encoding="utf-8").startswith("#")
    r = project(*by_gender, "-f", "csv", "-o", tmp_path / "x.xlsx", expect=2)
    assert "--format csv but x.xlsx ends in .xlsx" in r.stderr and not (tmp_path / "x.xlsx").exists()


# --- the coder ---------------------------------------------------------------------------------------------------


def test_two_coders_and_no_consensus_is_a_usage_error_naming_them(project):
    for command in (["export", "summary"], ["export", "matrix", "--by", "gender"], ["export", "segments"], ["report"]):
        r = project(*command, expect=2)
        assert "coder-a" in r.stderr and "coder-b" in r.stderr and "--coder" in r.stderr


SMALL_CODEBOOK = """\
codebook: Small
codes:
  - name: Relevance
    children:
      - name: Data
  - name: Impact
"""


@pytest.fixture
def small(cli, tmp_path):
    cli("import", CORPUS / "INT-07.md", CORPUS / "INT-04.md")
    cli("codebook", "load", write(tmp_path / "small.yml", SMALL_CODEBOOK))
    return cli


def test_the_only_coder_is_the_default(small, tmp_path):
    small("codings", "import", write(tmp_path / "a.csv", "interview,turn,code,coder,memo\nINT-07,4,Impact,ana,\n"))
    data = json.loads(small("export", "summary", "-f", "json").stdout)
    assert data["coder"] == "ana" and data["totals"]["segments"] == 1


def test_consensus_is_the_default_among_several_coders(small, tmp_path):
    small(
        "codings",
        "import",
        write(
            tmp_path / "a.csv",
            "interview,turn,code,coder,memo\n"
            "INT-07,4,Impact,ana,\nINT-07,6,Impact,ben,\nINT-07,8,Relevance/Data,consensus,\n",
        ),
    )
    data = json.loads(small("export", "summary", "-f", "json").stdout)
    assert data["coder"] == "consensus"
    assert [e["code"] for e in data["sections"][0]["codes"]] == ["Relevance/Data"]
    assert data["sections"][0]["codes"][0]["segments"] == 1
    r = small("export", "summary", "--coder", "nobody", expect=1)
    assert "no coder 'nobody'" in r.stderr and "ana, ben, consensus" in r.stderr


def test_no_codings_yet(small):
    r = small("export", "summary", expect=1)
    assert "no codings yet" in r.stderr


# --- matrix ------------------------------------------------------------------------------------------------------


def matrix(project, *args: str) -> dict:
    return json.loads(project("export", "matrix", "--coder", CODER, "-f", "json", *args).stdout)


def test_matrix_by_gender_counts_distinct_participants_with_distinct_totals(project):
    data = matrix(project, "--by", "gender")
    rows = shipped.evidence(CODER)
    assert data["columns"] == ["woman", "man"]
    codable = [c["path"] for c in shipped.codebook() if c["codable"]]
    assert [r["code"] for r in data["rows"]] == codable
    for r in data["rows"]:
        mine = [x for x in rows if x["code"] == r["code"]]
        assert r["cells"] == {"woman": 0, "man": 0, **shipped.people_by_gender(mine)}
        assert r["total"] == len({x["participant"] for x in mine})
    totals = data["totals"]
    assert totals["cells"] == shipped.people_by_gender(rows)
    assert totals["total"] == len({x["participant"] for x in rows})
    # A total is the distinct count, not the sum: people raise several codes.
    assert totals["cells"]["woman"] < sum(r["cells"]["woman"] for r in data["rows"])
    # Cells are read against the participants of the interviews the coder decided; the study's are given too.
    assert data["base"] == shipped.base_by_gender(CODER) == {"woman": 23, "man": 15}
    assert data["study"] == {"woman": 65, "man": 43}
    assert "not sums" in data["note"]
    shares = matrix(project, "--by", "gender", "--percent", "base")
    for r in shares["rows"]:
        for g in ("woman", "man"):
            assert r["percent"][g] == round(100 * r["cells"][g] / data["base"][g], 1)


def test_matrix_by_case_study_counts_interviews_per_criterion(project):
    data = matrix(project, "--by", "case_study", "--count", "interviews", "--level", "criterion")
    rows = shipped.evidence(CODER)
    criteria = [c["path"] for c in shipped.codebook() if c["depth"] == 0]
    assert [r["code"] for r in data["rows"]] == criteria
    for r in data["rows"]:
        mine = [x for x in rows if x["criterion"] == r["code"]]
        got = {k: v for k, v in r["cells"].items() if v}
        per = defaultdict(set)
        for x in mine:
            per[x["case_study"]].add(x["interview"])
        assert got == {k: len(v) for k, v in per.items()}
        assert r["total"] == len({x["interview"] for x in mine})
    interviews, coded = defaultdict(int), defaultdict(int)
    decided = {k[0] for k in shipped.decisions(CODER)}
    for iid, t in shipped.transcripts().items():
        interviews[t["meta"]["attributes"]["case_study"]] += 1
        coded[t["meta"]["attributes"]["case_study"]] += iid in decided
    assert data["study"] == dict(interviews)
    assert data["base"] == {k: v for k, v in coded.items()}


def test_matrix_percentages_add_up_where_units_split(project):
    by_row = matrix(project, "--by", "gender", "--percent", "row", "--level", "criterion")
    for r in by_row["rows"]:
        if r["total"]:
            assert sum(r["percent"][v] for v in by_row["columns"]) == pytest.approx(100, abs=0.15)
            assert r["percent"]["total"] == 100
    assert "each row adds up to 100%" in by_row["note"]
    by_col = matrix(project, "--by", "case_study", "--count", "segments", "--percent", "column")
    for v in by_col["columns"]:
        if by_col["totals"]["cells"][v]:
            # Each share is rounded to 0.1, so the sum may be off by 0.05 per row.
            assert sum(r["percent"][v] for r in by_col["rows"]) == pytest.approx(100, abs=0.05 * len(by_col["rows"]))
    assert "each column adds up to 100%" in by_col["note"]
    people = matrix(project, "--by", "gender", "--percent", "column")
    assert sum(r["percent"]["woman"] for r in people["rows"]) > 100
    assert "more than 100%" in people["note"]


def test_matrix_table_csv_md_and_xlsx(project, tmp_path):
    table = project("export", "matrix", "--coder", CODER, "--by", "gender", "--level", "criterion").stdout
    assert "total (distinct)" in table and "participants in the study" in table and "not sums" in table
    csv_rows = list(
        csv.DictReader(
            io.StringIO(
                project(
                    "export", "matrix", "--coder", CODER, "--by", "gender", "--level", "criterion", "-f", "csv"
                ).stdout
            )
        )
    )
    assert [r["criterion"] for r in csv_rows][-3:] == [
        "total (distinct)",
        f"participants in the interviews {CODER} decided",
        "participants in the study",
    ]
    assert csv_rows[-2]["woman"] == "23" and csv_rows[-1]["woman"] == "65"
    md = project("export", "matrix", "--coder", CODER, "--by", "stakeholder_group", "-f", "md").stdout
    assert md.startswith("### Codes × stakeholder_group") and "| code |" in md
    from openpyxl import load_workbook

    out = tmp_path / "m.xlsx"
    project(
        "export",
        "matrix",
        "--coder",
        CODER,
        "--by",
        "gender",
        "--level",
        "criterion",
        "--percent",
        "row",
        "-f",
        "xlsx",
        "-o",
        out,
    )
    ws = load_workbook(out)["Matrix"]
    assert [c.value for c in ws[1]] == ["criterion", "woman", "man", "total"]
    assert ws["A2"].value == "Relevance" and ws["D2"].value == 100 and ws.freeze_panes == "A2"
    assert isinstance(ws["B2"].value, float)


def test_matrix_unknown_attribute(project):
    r = project("export", "matrix", "--coder", CODER, "--by", "shoe_size", expect=1)
    assert "no attribute 'shoe_size'" in r.stderr and "case_study" in r.stderr


# --- segments and participants ------------------------------------------------------------------------------------


def test_segments_export_one_row_per_coded_segment(project, tmp_path):
    text = project("export", "segments", "--coder", CODER).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = shipped.evidence(CODER)
    assert len(rows) == len(expected)  # no coding of an interviewer's turn in the shipped codings
    header = next(csv.reader(io.StringIO(text)))
    assert header[:15] == [
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
    assert (
        "interview.case_study" in header and "participant.stakeholder_group" in header and "participant.role" in header
    )
    got = {(r["interview"], int(r["turn"]), r["code"]) for r in rows}
    assert got == {(e["interview"], e["turn"], e["code"]) for e in expected}
    one = next(r for r in rows if (r["interview"], r["turn"]) == ("INT-07", "19"))
    source = next(e for e in expected if (e["interview"], e["turn"]) == ("INT-07", 19))
    assert one["text"] == source["text"] and one["start"] == "0" and int(one["end"]) == len(one["text"])
    assert (one["participant"], one["gender"], one["interview.case_study"]) == (
        source["participant"],
        "woman",
        "Ethiopia",
    )
    from openpyxl import load_workbook

    out = tmp_path / "s.xlsx"
    project("export", "segments", "--coder", CODER, "-f", "xlsx", "-o", out)
    ws = load_workbook(out)["Segments"]
    assert ws.max_row == len(rows) + 1 and [c.value for c in ws[1]] == header
    data = json.loads(project("export", "segments", "--coder", CODER, "-f", "json").stdout)
    assert data["segments"][0]["interview_attributes"]["case_study"]


def test_participants_export(project, tmp_path):
    people = shipped.participants()
    rows = list(csv.DictReader(io.StringIO(project("export", "participants", "-f", "csv").stdout)))
    assert len(rows) == len(people) == 108
    p = next(r for r in rows if r["id"] == "P001")
    assert (p["speaker"], p["gender"], p["interviews"], p["stakeholder_group"]) == (
        "Ayesha",
        "woman",
        "INT-01",
        "UN agency",
    )
    data = json.loads(project("export", "participants", "-f", "json").stdout)
    assert data["counts"]["total"] == 108 and data["counts"]["by_gender"] == {"woman": 65, "man": 43}
    groups = defaultdict(lambda: defaultdict(int))
    for person in people.values():
        groups[person["stakeholder_group"]][person["gender"]] += 1
    got = {r["value"]: dict(r["by_gender"]) for r in data["counts"]["by"]["stakeholder_group"]}
    assert got == {g: {"woman": c.get("woman", 0), "man": c.get("man", 0)} for g, c in groups.items()}
    md = project("export", "participants").stdout
    assert "### Participants by stakeholder group" in md and "### Participants (108)" in md
    # The shipped participants are named by their speaker labels: no second column repeating them.
    assert "| id | speaker | gender | interviews |" in md and "name" not in rows[0]
    from openpyxl import load_workbook

    out = tmp_path / "p.xlsx"
    project("export", "participants", "-f", "xlsx", "-o", out)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Participants", "By gender", "By stakeholder group", "By case study"]
    assert [c.value for c in wb["By gender"][2]] == ["all", 108, 65, 43]
    assert wb["Participants"].max_row == 109
    with_counts = json.loads(project("export", "participants", "--coder", CODER, "-f", "json").stdout)
    coded = defaultdict(int)
    for e in shipped.evidence(CODER):
        coded[e["participant"]] += 1
    assert {p["id"]: p["segments"] for p in with_counts["participants"] if p["segments"]} == dict(coded)


# --- redaction ---------------------------------------------------------------------------------------------------


def name_forms() -> list[tuple[str, int]]:
    """(form, regex flags): every label, any case; the words of a name after its title, or of a full name, as
    written. "Ben" alone is left out: it is a particle of "Ben Salah", which is checked whole."""
    forms = []
    for label in shipped.labels():
        forms.append((label, re.I))
        words = label.split()
        parts = words[1:] if words[0] in ("Mr", "Ms") else (words if len(words) > 1 else [])
        forms += [(p, 0) for p in {" ".join(parts), *parts} - {"Ben", ""}]
    return forms


def leaks(text: str, listed: tuple[str, ...] = ("Kathmandu", "Bangkok")) -> list[str]:
    """Participants' names and listed names (any case) left in TEXT, as whole words."""
    forms = name_forms() + [(n, re.I) for n in listed]
    found = set()
    for flags in (0, re.I):
        words = sorted((f for f, fl in forms if fl == flags), key=len, reverse=True)
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", flags)
        found |= {m.group(0) for m in pattern.finditer(text)}
    return sorted(found)


@pytest.fixture(scope="module")
def redacting(project):
    project("redact", "add", "Kathmandu", "bangkok")
    yield project
    project("redact", "remove", "kathmandu")
    project("redact", "remove", "Bangkok")


def test_redact_list_commands(redacting):
    assert redacting("redact", "list").stdout.split("\n")[:2] == ["bangkok", "Kathmandu"]
    r = redacting("redact", "add", "KATHMANDU", "Manila")
    assert "already listed" in r.stderr
    redacting("redact", "remove", "manila")
    r = redacting("redact", "remove", "Atlantis", expect=1)
    assert "not on the redaction list" in r.stderr and "Kathmandu" in r.stderr


def test_plain_exports_do_hold_names(project):
    md = project("export", "summary", "--coder", CODER, "--quotes", "50").stdout
    found = leaks(md)  # without names to find, the redaction checks below would prove nothing
    assert "Kathmandu" in found and "Bangkok" in found and len(found) > 10


@pytest.mark.parametrize(
    "command",
    [
        ["export", "summary", "--coder", CODER, "--quotes", "50"],
        ["export", "summary", "--coder", CODER, "--quotes", "50", "-f", "json"],
        ["export", "summary", "--coder", CODER, "--quotes", "50", "-f", "csv"],
        ["export", "segments", "--coder", CODER],
        ["export", "segments", "--coder", CODER, "-f", "json"],
        ["export", "participants"],
        ["export", "participants", "-f", "json"],
        ["export", "matrix", "--coder", CODER, "--by", "gender", "-f", "json"],
        ["report", "--coder", CODER],
    ],
)
def test_redact_removes_every_name(redacting, command):
    text = redacting(*command, "--redact").stdout
    assert leaks(text) == []
    if command[1] in ("summary", "segments", "--coder"):
        assert re.search(r"\\?\[name\\?\]", text) and re.search(r"\bP0\d\d\b", text)


def test_redacted_quotes_name_the_pseudonym(redacting):
    data = json.loads(redacting("export", "summary", "--coder", CODER, "-f", "json", "--redact").stdout)
    quotes = [q for e in entries(data) for q in e["quotes"]]
    assert all(q["speaker"] == q["participant"] and re.fullmatch(r"P\d{3}", q["participant"]) for q in quotes)
    plain = json.loads(redacting("export", "segments", "--coder", CODER, "-f", "json").stdout)["segments"]
    red = json.loads(redacting("export", "segments", "--coder", CODER, "-f", "json", "--redact").stdout)["segments"]
    changed = [(a["text"], b["text"]) for a, b in zip(plain, red, strict=True) if a["text"] != b["text"]]
    assert changed
    for before, after in changed:
        assert "[name]" in after or re.search(r"\bP\d{3}\b", after)
        assert leaks(after) == [] and leaks(before)


def test_qdpx_redact(redacting, tmp_path):
    out = tmp_path / "red.qdpx"
    redacting("export", "qdpx", out, "--redact")
    with zipfile.ZipFile(out) as z:
        text = "\n".join(z.read(n).decode() for n in z.namelist())
    # The codebook is the team's text, not participants' (its made-up examples mention Bangkok): not redacted.
    text = re.sub(r"<CodeBook>.*</CodeBook>", "", text, flags=re.S)
    assert leaks(text) == []
    assert "[name]" in text


def test_redact_matches_whole_words_and_participant_ids_holding_names(cli, tmp_path):
    # Plain text without metadata: the speaker becomes participant "INT-90:Tamsin", an id that names her.
    cli(
        "import",
        write(
            tmp_path / "INT-90.txt",
            "EV9: Hello Tamsin, and thanks. Did Mr Okoro come?\n\n"
            "Tamsin: Yes. Tamsinova came too, and TAMSIN is me. Okoro's team met in Tema.\n",
        ),
    )
    cli("codebook", "load", write(tmp_path / "cb.yml", SMALL_CODEBOOK))
    cli("codings", "import", write(tmp_path / "c.csv", "interview,turn,code,coder,memo\nINT-90,1,Impact,ana,Tema\n"))
    cli("redact", "add", "okoro", "Tema")
    seg = json.loads(cli("export", "segments", "-f", "json", "--redact").stdout)["segments"][0]
    assert seg["participant"] == seg["speaker"] == "ANON-001"
    assert seg["text"] == "Yes. Tamsinova came too, and ANON-001 is me. [name]'s team met in [name]."
    assert seg["memo"] == "[name]"


def test_participants_export_has_a_name_column_when_a_name_says_more_than_the_label(cli, tmp_path):
    text = (CORPUS / "INT-07.md").read_text(encoding="utf-8")
    cli(
        "import",
        write(tmp_path / "INT-07.md", text.replace("  speaker: Mahlet\n", "  speaker: Mahlet\n  name: Mahlet T.\n")),
    )
    rows = list(csv.DictReader(io.StringIO(cli("export", "participants", "-f", "csv").stdout)))
    assert {r["speaker"]: r["name"] for r in rows} == {
        "Mahlet": "Mahlet T.",
        "Rahel": "Rahel",
        "Tewodros": "Tewodros",
        "Tigist": "Tigist",
    }


def test_matrix_names_folder_parents_above_their_children(project):
    """A parent that cannot be coded (a folder, an exclusive scale) has no counts, but its name heads its children:
    without it "Assessment/Positive" read as a child of the code printed before it."""
    table = project("export", "matrix", "--coder", CODER, "--by", "gender").stdout.splitlines()
    for folder, child in (("Cross-cutting themes", "  Gender"), ("Assessment", "  Positive")):
        at = next(i for i, line in enumerate(table) if line.rstrip() == folder)
        assert table[at + 1].startswith(child), table[at : at + 2]
    md = project("export", "matrix", "--coder", CODER, "--by", "gender", "-f", "md").stdout.splitlines()
    at = md.index("| Assessment |  |  |  |")
    assert md[at + 1].startswith("|   Positive | ")


def test_codings_on_interviewers_turns_are_said_to_be_left_out_in_every_export(project, tmp_path):
    """The annex said so in one line; its JSON, the matrix's note and the report did not."""
    from tests.conftest import Cli, copy_db, query

    cli = Cli(copy_db(project.db_path, tmp_path / "iv.db"))
    iid, idx = query(
        cli.db_path,
        """SELECT t.interview_id, t.idx FROM turns t JOIN speakers s ON s.id = t.speaker_id
           WHERE s.interviewer_id IS NOT NULL ORDER BY t.id LIMIT 1""",
    )[0]
    cli("apply", iid, str(idx), "Impact", "--coder", CODER)
    said = "1 segment coded on interviewers' turns is left out"
    assert any(said in c for c in summary_json(cli)["caveats"])
    matrix = json.loads(cli("export", "matrix", "--coder", CODER, "--by", "gender", "--format", "json").stdout)
    assert said in matrix["note"]
    cli("report", "--coder", CODER, "-o", tmp_path / "r.html")
    assert said in html.unescape((tmp_path / "r.html").read_text(encoding="utf-8"))


# --- caveats: every format of every export says what its figures rest on -----------------------------------------


@pytest.fixture(scope="module")
def caveated(project, tmp_path_factory):
    """The shipped project with each caveat at once: a consensus with 2 of its disagreements reviewed (the rest open,
    so undecided turns), a coding of the consensus orphaned by an edited transcript, and one on an interviewer's
    turn."""
    from tests.conftest import Cli, copy_db, query

    folder = tmp_path_factory.mktemp("caveated")
    cli = Cli(copy_db(project.db_path, folder / "caveated.db"))
    cli("review", "--coders", "coder-a,coder-b", input="1\n1\nq\n")
    iid, text = query(
        cli.db_path,
        """SELECT t.interview_id, t.text FROM live_codings c JOIN turns t ON t.id = c.turn_id
           WHERE c.coder = 'consensus' AND c.origin = 'agreed' AND c.code_id IS NOT NULL
             AND instr(t.text, char(10)) = 0 AND length(t.text) > 80
           GROUP BY t.id HAVING count(*) = 1 ORDER BY t.id LIMIT 1""",
    )[0]
    source = (CORPUS / f"{iid}.md").read_text(encoding="utf-8")
    assert source.count(text) == 1
    cli("import", "--replace", write(folder / f"{iid}.md", source.replace(text, "Nothing more to add, thank you.")))
    orphaned = query(cli.db_path, "SELECT count(*) FROM live_codings WHERE coder = 'consensus' AND turn_id IS NULL")
    assert orphaned[0][0] == 1
    iid, idx = query(
        cli.db_path,
        """SELECT t.interview_id, t.idx FROM turns t JOIN speakers s ON s.id = t.speaker_id
           WHERE s.interviewer_id IS NOT NULL ORDER BY t.id LIMIT 1""",
    )[0]
    cli("apply", iid, str(idx), "Impact", "--coder", "consensus")
    return cli


CAVEATS = {
    "consensus": "disagreements not yet reviewed (run qualcode review --coders coder-a,coder-b --as consensus)",
    "undecided": "INCOMPLETE CODING: consensus has not decided",
    "orphaned": "1 orphaned coding is left out: no longer anchored in the edited transcripts",
    "interviewer": "1 segment coded on interviewers' turns is left out",
}
EVERY_FORMAT = [
    ("export", "summary", "-f", "md"),
    ("export", "summary", "-f", "csv"),
    ("export", "summary", "-f", "json"),
    ("export", "summary", "-o", "out.xlsx"),
    ("export", "matrix", "--by", "gender"),
    ("export", "matrix", "--by", "gender", "-f", "csv"),
    ("export", "matrix", "--by", "gender", "-f", "md"),
    ("export", "matrix", "--by", "gender", "-f", "json"),
    ("export", "matrix", "--by", "gender", "-o", "out.xlsx"),
    ("export", "matrix", "--by", "gender", "--percent", "base", "-f", "csv"),
    ("export", "matrix", "--by", "case_study", "--percent", "column", "--level", "criterion", "-f", "md"),
    ("export", "matrix", "--by", "gender", "--percent", "row", "-o", "out.xlsx"),
    ("export", "segments", "-f", "csv"),
    ("export", "segments", "-f", "json"),
    ("export", "segments", "-o", "out.xlsx"),
    ("report", "-o", "out.html"),
]


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("command", EVERY_FORMAT, ids=" ".join)
def test_every_format_of_every_export_carries_every_caveat(caveated, command, tmp_path):
    """The xlsx summary said neither that orphaned codings nor that codings on interviewers' turns are left out; the
    segments' JSON and xlsx said nothing at all, and the summary's CSV did not warn of the interviewer's turn. CSV
    has no place for a note: its caveats are on stderr (docs/exports.md)."""
    import openpyxl

    args = [str(tmp_path / a) if a.startswith("out.") else a for a in command]
    r = caveated(*args, "--coder", "consensus", "--allow-incomplete")
    out = tmp_path / next((a for a in command if a.startswith("out.")), "none")
    if "csv" in command:
        text = r.stderr
    elif out.suffix == ".xlsx":
        book = openpyxl.load_workbook(out)
        text = "\n".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c)
    elif out.suffix == ".html":
        text = html.unescape(out.read_text(encoding="utf-8"))
    elif "json" in command:
        text = "\n".join(_strings(json.loads(r.stdout)))
    else:
        text = r.stdout
    text = " ".join(text.split())
    expected = dict(CAVEATS)
    if "segments" in command:
        del expected["interviewer"]  # the segments keep them, with role interviewer: nothing is left out
    missing = [name for name, said in expected.items() if said not in text]
    assert not missing, f"{' '.join(command)} does not say: {missing}"
    if "segments" in command:
        assert "interviewers' turns" not in text


@pytest.mark.parametrize(
    "command",
    [("report", "-o", "out.html"), ("export", "summary", "-o", "out.xlsx"), ("export", "segments", "-f", "json")],
    ids=" ".join,
)
def test_every_caveat_of_an_export_is_also_on_stderr_even_when_quiet(caveated, command, tmp_path):
    """A script that keeps only the file still sees, on stderr, what its figures rest on: the report said neither
    that codings on interviewers' turns nor (with the segments) that orphaned ones are left out there."""
    args = [str(tmp_path / a) if a.startswith("out.") else a for a in command]
    r = caveated("--quiet", *args, "--coder", "consensus", "--allow-incomplete")
    said = " ".join(r.stderr.split())
    expected = {k: v for k, v in CAVEATS.items() if not ("segments" in command and k == "interviewer")}
    assert not [name for name, text in expected.items() if text not in said], said
