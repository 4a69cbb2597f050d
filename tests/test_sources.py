"""Survey answers and documents beside the interviews: import, bad files, counts against their own base,
triangulation in the matrix, the audit and the report, and REFI-QDA export.

Expected figures come from the shipped files read by tests/shipped.py (csv and yaml, nothing of qualcode).
"""

from __future__ import annotations

import json
import zipfile

import pytest

from tests import shipped
from tests.conftest import CODEBOOK, CODINGS, CORPUS, Cli, copy_db, dump, write


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Cli:
    """The shipped interviews, surveys and documents with both coders' codings of each."""
    cli = Cli(tmp_path_factory.mktemp("sources") / "sources.db")
    cli("import", CORPUS, shipped.SURVEYS, shipped.DOCUMENTS)
    cli("codebook", "load", CODEBOOK)
    for coder in ("coder-a", "coder-b"):
        cli("codings", "import", CODINGS / f"{coder}.csv")
        cli("codings", "import", CODINGS / "evidence" / f"{coder}.csv")
    return cli


def test_respondents_are_counted_apart_from_the_people_interviewed(project):
    people = json.loads(project("participants", "--format", "json").stdout)
    assert people["total"] == 108 and people["by_gender"] == {"woman": 65, "man": 43}
    respondents = json.loads(project("participants", "--respondents", "--format", "json").stdout)
    genders = [g for s in shipped.surveys().values() for g in s["respondents"].values()]
    assert respondents["total"] == len(genders) == 115
    assert respondents["by_gender"] == {g: genders.count(g) for g in respondents["by_gender"]}
    listing = project("interviews").stdout
    assert "64 interviews, 2 surveys, 5 documents" in listing


def test_units_are_answers_and_paragraphs_as_the_files_hold_them(project):
    # Every answer with its respondent and question, every paragraph with its section; nothing else is a unit.
    for sid, survey in shipped.surveys().items():
        shown = json.loads(project("show", sid, "--format", "json").stdout)
        got = [(t["participant"], t["text"], t["context"]) for t in shown["turns"]]
        assert got == survey["units"], sid
    for did, paragraphs in shipped.documents().items():
        shown = json.loads(project("show", did, "--format", "json").stdout)
        assert [t["text"] for t in shown["turns"]] == paragraphs, did


def test_a_survey_sample_is_read_against_the_respondents_coded(project):
    """coder-a coded 40 of the 115 respondents: shares of respondents are of those 40, not of 115."""
    matrix = json.loads(
        project(
            "export", "matrix", "--coder", "coder-a", "--by", "gender", "--source", "survey", "--level",
            "criterion", "--format", "json",
        ).stdout
    )  # fmt: skip
    rows = [r for r in shipped.other_evidence("coder-a") if r["role"] == "respondent"]
    surveys = shipped.surveys()
    coded = {surveys[s]["units"][t][0] for s, t in shipped.other_decisions("coder-a") if s in surveys}
    genders = {rid: g for s in shipped.surveys().values() for rid, g in s["respondents"].items()}
    assert sum(matrix["base"].values()) == len(coded) == 40
    assert sum(matrix["study"].values()) == 115
    for row in matrix["rows"]:
        said = {r["participant"] for r in rows if r["criterion"] == row["code"]}
        assert row["cells"] == {g: sum(genders[p] == g for p in said) for g in matrix["columns"]}, row["code"]
    assert "Only survey answers count" in matrix["note"]


def test_by_source_sets_the_kinds_side_by_side(project):
    matrix = json.loads(
        project(
            "export", "matrix", "--coder", "coder-a", "--by", "source", "--count", "interviews", "--level",
            "criterion", "--format", "json",
        ).stdout
    )  # fmt: skip
    assert matrix["columns"] == ["interview", "survey", "document"]
    interviews = shipped.evidence("coder-a")
    others = shipped.other_evidence("coder-a")
    for row in matrix["rows"]:
        mine = [r for r in interviews if r["criterion"] == row["code"]]
        theirs = [r for r in others if r["criterion"] == row["code"]]
        assert row["cells"]["interview"] == len({r["interview"] for r in mine})
        assert row["cells"]["survey"] == len({r["interview"] for r in theirs if r["role"] == "respondent"})
        assert row["cells"]["document"] == len({r["interview"] for r in theirs if r["role"] == "document"})
    assert matrix["study"] == {"interview": 64, "survey": 2, "document": 5}
    # People of different kinds are never added up in one cell.
    r = project("export", "matrix", "--coder", "coder-a", "--by", "source", expect=2)
    assert "people are counted within one kind of source" in r.stderr


def test_the_audit_can_keep_to_one_kind_of_source(project):
    both = set(shipped.other_decisions("coder-a")) & set(shipped.other_decisions("coder-b"))
    survey = json.loads(
        project("audit", "--coders", "coder-a,coder-b", "--source", "survey", "--format", "json").stdout
    )
    assert survey["scope"]["turns"] == sum(1 for s, _ in both if s.endswith("survey")) == 140
    assert survey["scope"]["text"].startswith("Scope: 140 units in 2 surveys")
    pooled = json.loads(project("audit", "--coders", "coder-a,coder-b", "--format", "json").stdout)
    assert pooled["scope"]["text"].startswith("Scope: 572 units in 16 interviews, 2 surveys and 2 documents")
    r = project("audit", "--coders", "coder-a,coder-b", "--source", "podcasts", expect=2)
    assert "no kind of source 'podcasts'" in r.stderr


def test_quotes_name_the_respondent_and_question_or_the_document_section(project):
    summary = project("export", "summary", "--coder", "coder-a").stdout
    assert "· survey staff-survey, answer " in summary and " to “" in summary
    assert "— document DOC-0" in summary or "document DOC-0" in summary
    assert "**By source:** Interviews:" in summary


def test_the_report_has_a_triangulation_chapter(project, tmp_path):
    project("report", "--coder", "coder-a", "-o", tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="triangulation"' in html and "Criteria by kind of source" in html
    assert 'data-figure="respondents">115<' in html and 'data-figure="documents">5<' in html
    said = {r["participant"] for r in shipped.other_evidence("coder-a") if r["criterion"] == "Relevance"}
    said.discard(None)
    assert '<th scope="row">Relevance</th>' in html
    row = html.split('<th scope="row">Relevance</th>', 2)[1].split("</tr>")[0]
    assert f"{len(said)} of 40" in row


def test_segments_of_a_document_have_no_speaker(project):
    rows = json.loads(project("export", "segments", "--coder", "coder-a", "--format", "json").stdout)["segments"]
    documents = [r for r in rows if r["role"] == "document"]
    assert documents and all(r["participant"] is None and r["gender"] is None for r in documents)


def test_check_finds_a_person_of_another_kind_than_the_sources_they_speak_in(project, tmp_path):
    """Respondents are counted apart from the people interviewed: a respondent stored as an interviewee (as an
    import once stored a survey's people) would be counted in the interviews' base."""
    import sqlite3

    assert "all checks passed" in project("check").stdout
    broken = Cli(copy_db(project.db_path, tmp_path / "broken.db"))
    with sqlite3.connect(broken.db_path) as conn:
        conn.execute("UPDATE participants SET kind = 'interviewee' WHERE id = 'staff-survey:S001'")
    found = {c["check"]: c for c in json.loads(broken("check", "--format", "json", expect=1).stdout)["checks"]}
    assert found["people"]["examples"] == [
        "participant staff-survey:S001 is stored as interviewee but speaks in survey staff-survey, whose speakers "
        "are stored as respondent"
    ]


def test_refi_export_carries_surveys_and_documents_and_they_come_back_as_such(project, tmp_path):
    """REFI-QDA has no surveys: each answer goes out as a selection its respondent's case points at, with its
    question; import-qdpx makes a survey of them again, its respondents counted as respondents."""
    project("export", "qdpx", tmp_path / "p.qdpx")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        xml = z.read("project.qde").decode("utf-8")
    for name in [*shipped.surveys(), *shipped.documents()]:
        assert f'name="{name}"' in xml
    back = Cli(tmp_path / "back.db")
    back("import-qdpx", tmp_path / "p.qdpx")
    kinds = {r["id"]: r["kind"] for r in json.loads(back("interviews", "--format", "json").stdout)}
    assert {k for k, v in kinds.items() if v == "survey"} == set(shipped.surveys())
    assert {k for k, v in kinds.items() if v == "document"} == set(shipped.documents())
    for sid, survey in shipped.surveys().items():
        shown = json.loads(back("show", sid, "--format", "json").stdout)
        assert [(t["participant"], t["text"], t["context"]) for t in shown["turns"]] == survey["units"], sid
    for who in ("participants", ("participants", "--respondents")):
        args = [who] if isinstance(who, str) else list(who)
        assert back(*args, "--format", "json").stdout == project(*args, "--format", "json").stdout
    by_source = ("export", "matrix", "--by", "source", "--coder", "coder-a", "--count", "interviews", "-f", "csv")
    assert back(*by_source).stdout == project(*by_source).stdout


# --- bad files: a clear message naming the file (and line), exit 1, nothing imported -------------------------


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("rid,gender,q1\nR1,woman,Good\nR2,man,Bad\nR1,man,Again\n", ["--id-column", "rid", "--question", "q1"],
         "bad.csv:4: respondent 'R1' appears twice (also on line 2)"),
        ("rid,gender,q1\nR1,woman,Good\n", ["--id-column", "nope", "--question", "q1"],
         "bad.csv:1: no column 'nope' in the header (columns: rid, gender, q1)"),
        ("rid,gender,q1\nR1,woman,Good\n", ["--id-column", "rid", "--question", "q9"],
         "bad.csv:1: no column 'q9' in the header"),
        ("rid,gender,q1\nR1,woman,Good\n", [], "bad.csv is a survey: name its respondent id column"),
        ("", ["--id-column", "rid", "--question", "q1"], "bad.csv: file is empty"),
    ],
)  # fmt: skip
def test_a_bad_survey_is_refused_and_nothing_changes(cli, db_path, tmp_path, content, args, message):
    cli("import", CORPUS / "INT-01.md")
    before = dump(db_path)
    r = cli("import", write(tmp_path / "bad.csv", content), *args, expect=1)
    assert message in r.stderr.replace("\n", " ")
    assert "Traceback" not in r.stderr and dump(db_path) == before


def test_a_survey_sidecar_with_an_unknown_key_names_its_line(cli, db_path, tmp_path):
    write(tmp_path / "s.csv", "rid,q1\nR1,Fine\n")
    write(tmp_path / "s.yml", "survey: s\nid_column: rid\nquestions:\n  q1: How was it?\nquestoins: {}\n")
    cli("import", CORPUS / "INT-01.md")
    before = dump(db_path)
    r = cli("import", tmp_path / "s.csv", expect=1)
    assert "s.yml:5" in r.stderr and "questoins" in r.stderr
    assert dump(db_path) == before


def test_an_xlsx_survey_reads_as_its_csv_twin(cli, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in [["rid", "gender", "q1"], ["R1", "woman", "Useful  training"], ["R2", "man", None]]:
        sheet.append(row)
    book.save(tmp_path / "pulse.xlsx")
    cli("import", tmp_path / "pulse.xlsx", "--id-column", "rid", "--question", "q1", "--attribute", "gender")
    shown = json.loads(cli("show", "pulse", "--format", "json").stdout)
    assert [(t["participant"], t["text"]) for t in shown["turns"]] == [("pulse:R1", "Useful training")]
    respondents = json.loads(cli("participants", "--respondents", "--format", "json").stdout)
    assert respondents["total"] == 2 and respondents["by_gender"] == {"woman": 1, "man": 1}


def _pdf(path, pages: list[str], **encryption):
    from fpdf import FPDF

    pdf = FPDF()
    if encryption:
        pdf.set_encryption(**encryption)
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        if text:
            pdf.multi_cell(0, 8, text)
        else:
            pdf.rect(10, 10, 50, 50)  # a page with a drawing and no text, as a scan has
    pdf.output(str(path))
    return path


def test_a_pdf_keeps_its_pages_for_quotes(cli, tmp_path):
    pdf = _pdf(tmp_path / "EVAL-9.pdf", ["The project was relevant.\n\nOwnership was weak.", "Results were mixed."])
    cli("import", pdf)
    shown = json.loads(cli("show", "EVAL-9", "--format", "json").stdout)
    assert [(t["text"], t["page"]) for t in shown["turns"]] == [
        ("The project was relevant.", 1),
        ("Ownership was weak.", 1),
        ("Results were mixed.", 2),
    ]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("encrypted", "the PDF is encrypted: save an unprotected copy and import that"),
        ("scanned", "the PDF has no text layer on any of its 1 page(s) (a scanned document?)"),
        ("broken", "not a readable PDF"),
    ],
)
def test_a_pdf_that_cannot_be_read_is_refused_cleanly(cli, db_path, tmp_path, kind, message):
    cli("import", CORPUS / "INT-01.md")
    before = dump(db_path)
    path = tmp_path / "bad.pdf"
    if kind == "encrypted":
        _pdf(path, ["Secret"], owner_password="o", user_password="u")
    elif kind == "scanned":
        _pdf(path, [""])
    else:
        path.write_bytes(b"%PDF-1.4 truncated")
    r = cli("import", path, expect=1)
    assert f"bad.pdf: {message}" in r.stderr.replace("\n", " ")
    assert r.stderr.count("\n") <= 3 and "EOF marker" not in r.stderr  # pypdf's own log stays out
    assert dump(db_path) == before


def test_a_docx_or_text_file_is_a_document_with_document(cli, tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Findings on relevance.")
    d.add_paragraph("")
    d.add_paragraph("Findings on sustainability.")
    d.save(tmp_path / "NOTE-1.docx")
    cli("import", tmp_path / "NOTE-1.docx", "--document")
    shown = json.loads(cli("show", "NOTE-1", "--format", "json").stdout)
    assert [t["text"] for t in shown["turns"]] == ["Findings on relevance.", "Findings on sustainability."]
    assert {t["speaker"] for t in shown["turns"]} == {"document"}
    people = json.loads(cli("participants", "--format", "json").stdout)
    assert people["total"] == 0  # a document is no one


def test_a_text_document_without_blank_lines_has_a_unit_per_line(cli, tmp_path):
    """A Word document saved as text has one paragraph per line and no blank line: each line is a unit (and a
    heading line names the section of those after it), not the whole document as one."""
    write(
        tmp_path / "NOTE-2.txt", "# Findings\nThe fees came down.\nNobody knew the hotline.\n# Next steps\nKeep it.\n"
    )
    cli("import", tmp_path / "NOTE-2.txt", "--document")
    shown = json.loads(cli("show", "NOTE-2", "--format", "json").stdout)
    assert [t["text"] for t in shown["turns"]] == ["The fees came down.", "Nobody knew the hotline.", "Keep it."]


def test_a_folder_spreadsheet_is_a_survey_only_with_its_sidecar(cli, tmp_path):
    # A study folder also holds coding files and other tables: walking it must not take them for surveys.
    write(tmp_path / "study" / "codings" / "coder-f.csv", "interview,turn,code,coder,memo\nINT-01,1,,coder-f,\n")
    write(tmp_path / "study" / "pulse.csv", "rid,q1\nR1,Fine\n")
    write(tmp_path / "study" / "pulse.yml", "survey: pulse\nid_column: rid\nquestions:\n  q1: How was it?\n")
    (tmp_path / "study" / "INT-01.md").write_bytes((CORPUS / "INT-01.md").read_bytes())
    r = cli("import", tmp_path / "study")
    assert "2 imported" in r.stdout and "coder-f" not in r.stdout
    assert "1 interview, 1 survey" in cli("interviews").stdout


def test_source_narrows_the_commands_that_take_interviews(project):
    """--source keeps any interview-scoped command to one kind of source, alone or within --interview."""
    kinds = {r["id"]: r["kind"] for r in json.loads(project("interviews", "--format", "json").stdout)}

    def ids(*args: str) -> set[str]:
        data = json.loads(project(*args, "--format", "json").stdout)
        rows = data if isinstance(data, list) else data.get("segments", data.get("hits"))
        return {r["interview"] for r in rows}

    for source, kind in (("survey", "survey"), ("documents", "document"), ("interviews", "interview")):
        found = ids("segments", "--code", "Relevance", "--coder", "coder-a", "--source", source)
        assert found and {kinds[i] for i in found} == {kind}
        differ = ids("disagreements", "--coders", "coder-a,coder-b", "--source", source)
        assert differ and {kinds[i] for i in differ} == {kind}
    assert {kinds[i] for i in ids("search", "recruitment", "--source", "documents")} == {"document"}
    r = project("segments", "--code", "Relevance", "--interview", "INT-05", "--source", "survey", expect=1)
    assert "no source of kind survey among the interviews given" in r.stderr
    r = project("segments", "--code", "Relevance", "--source", "letters", expect=2)
    assert "no kind of source 'letters'" in r.stderr


def test_the_session_shows_an_answers_question_and_a_paragraphs_section(project):
    """The turn before a survey answer is another respondent's answer: the screen shows the question instead; a
    document paragraph shows its section, and no gender."""
    survey = project("code", "--coder", "coder-z", "--source", "survey", input="q\n").stdout
    question = shipped.surveys()["constituents-survey"]["units"][0][2]
    assert f"question: {question}" in survey
    doc = project("code", "--coder", "coder-z", "--source", "documents", input="q\n").stdout
    assert "section: " in doc and "not recorded" not in doc
