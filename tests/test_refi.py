"""REFI-QDA: codebooks (.qdc) and projects (.qdpx) out and in, real MAXQDA and ATLAS.ti files, untrusted archives."""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
from functools import cache
from pathlib import Path

import pytest

from qualcode.refi import schemas
from tests.conftest import CORPUS, SAMPLES, Cli, dump, write
from tests.conftest import query as rows

REFI = SAMPLES / "refi"
MAXQDA = REFI / "maxqda-24.7_icls-themes.qdpx"
ATLAS = REFI / "atlasti-win-23.2_target-project.qdpx"
needs_refi_samples = pytest.mark.skipif(not MAXQDA.exists(), reason="../shared/samples/refi not present")
P = "{urn:QDA-XML:project:1.0}"

CODEBOOK = """\
codebook: Test codes
codes:
  - name: Relevance
    colour: steelblue
    definition: Whether the work fits what constituents need.
    include: Mentions of needs.
    exclude: Generic praise.
    examples: [They asked us for exactly this.]
    children:
      - name: Constituent needs
        patterns: [needs]
      - name: COVID adaptation
        include: Changes made because of the pandemic.
  - name: Efficiency
    codable: false
    children:
      - name: Delays
      - name: Funding
"""


@cache
def schema(name: str):
    from lxml import etree

    with schemas.path(name).open("rb") as f:
        return etree.XMLSchema(etree.parse(f))


def assert_valid(name: str, data: bytes) -> None:
    from lxml import etree

    s = schema(name)
    assert s.validate(etree.fromstring(data)), s.error_log


def flat(text: str) -> str:
    """Messages on stderr as one line: Rich wraps them at the terminal width."""
    return " ".join(text.split())


def coded_project(cli: Cli, tmp_path: Path) -> None:
    """Two interviews from the corpus, a small codebook, codings by two coders (one partial, with a memo), and a
    'no code' decision."""
    cli("import", CORPUS / "INT-01.md", CORPUS / "INT-02.md")
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    cli("apply", "INT-01", "1", "Relevance/Constituent needs", "--coder", "ana")
    cli("apply", "INT-01", "1", "Delays", "--coder", "ana", "--start", "5", "--end", "40", "--memo", "late funds")
    cli("apply", "INT-02", "3", "Funding", "COVID adaptation", "--coder", "bo")
    cli("codings", "import", write(tmp_path / "nocode.csv", "interview,turn,code,coder,memo\nINT-02,2,,bo,\n"))


def selections(qdpx: Path) -> set[tuple]:
    """(source GUID, start, end, code GUID, user GUID, selection GUID) for every coding in the archive, GUIDs upper
    case as qualcode stores them."""
    from lxml import etree

    root = etree.fromstring(zipfile.ZipFile(qdpx).read("project.qde"))
    return {
        (
            src.get("guid").upper(),
            int(sel.get("startPosition")),
            int(sel.get("endPosition")),
            coding.find(f"{P}CodeRef").get("targetGUID").upper(),
            coding.get("creatingUser").upper(),
            sel.get("guid").upper(),
        )
        for src in root.iter(f"{P}TextSource")
        for sel in src.iter(f"{P}PlainTextSelection")
        for coding in sel.iter(f"{P}Coding")
    }


# --- codebooks -------------------------------------------------------------------------------------------------------


def test_qdc_export_validates_and_reimports_to_the_same_tree(cli, db_path, tmp_path):
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    qdc = tmp_path / "codes.qdc"
    r = cli("codebook", "export", "--format", "qdc", "-o", qdc)
    assert f"wrote codebook to {qdc}" in flat(r.stderr)
    assert_valid("Codebook.xsd", qdc.read_bytes())
    text = qdc.read_text(encoding="utf-8")
    assert 'isCodable="false"' in text and 'color="#4682b4"' in text
    assert "Include: Mentions of needs.\n\nExclude: Generic praise." in text

    columns = "c.guid, c.name, p.guid, c.codable, c.colour, c.definition, c.include, c.exclude, c.examples"
    tree = f"SELECT {columns} FROM codes c LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.guid"
    other = Cli(tmp_path / "other.db")
    r = other("codebook", "import", qdc)
    assert r.stdout.startswith(f"Imported codebook 'codes' from {qdc}: 6 added, 0 renamed, 0 removed.")
    assert rows(other.db_path, tree) == rows(db_path, tree)

    # Back into the project it came from: the same codes, and what REFI cannot carry (patterns) is kept.
    r = cli("codebook", "import", qdc)
    assert "0 added, 0 renamed, 0 removed" in r.stdout
    assert rows(db_path, "SELECT patterns FROM codes WHERE name = 'Constituent needs'") == [
        ('{"en": [{"phrase": "needs", "weight": 0.6}]}',)
    ]


def test_qdc_import_accepts_real_world_quirks(cli, db_path, tmp_path):
    qdc = tmp_path / "quirks.qdc"
    qdc.write_bytes(
        b'<?xml version="1.0" encoding="utf-8"?>\r\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="X">\r\n'
        b"<Codes>\r\n"
        b'<Code guid="{a182cd3a-d83c-4d8c-bc80-26d9103ec6d6}" name="Themes" isCodable="false" color="#ff000080">\r\n'
        b'  <Code guid="2d2466f0-d77f-4f8c-bdf9-628966b6b74d" name="Yes/No" isCodable="true" color="#0F0"/>\r\n'
        b"</Code>\r\n</Codes>\r\n<Sets/>\r\n</CodeBook>\r\n"
    )
    r = cli("codebook", "import", qdc)
    assert "2 added" in r.stdout
    assert "code 'Themes': colour '#ff000080' has an alpha channel: stored as #ff0000" in flat(r.stderr)
    assert "code 'Yes/No': '/' separates levels in qualcode paths, stored as 'Yes\u2215No'" in flat(r.stderr)
    assert rows(db_path, "SELECT name, guid, codable, colour FROM codes ORDER BY id") == [
        ("Themes", "A182CD3A-D83C-4D8C-BC80-26D9103EC6D6", 0, "#ff0000"),
        ("Yes\u2215No", "2D2466F0-D77F-4F8C-BDF9-628966B6B74D", 1, "#00ff00"),
    ]


# --- real files ------------------------------------------------------------------------------------------------------


@needs_refi_samples
def test_maxqda_project_imports_with_its_nested_codes_and_sources(cli, db_path, tmp_path):
    r = cli("import-qdpx", MAXQDA)
    assert r.stdout.splitlines()[0] == (
        f"Imported {MAXQDA} (MAXQDA 24 (Release 24.7.0)): 10 sources, 307 codes, 0 codings, 1 user, 0 cases."
    )
    assert "2 sets not imported: qualcode has no sets" in flat(r.stderr)
    assert "10 source(s) imported as documents" in flat(r.stderr)
    # Counted in project.qde: 18 top-level codes with 289 children, all codable, each with a colour.
    assert rows(db_path, "SELECT count(*), sum(parent_id IS NULL), sum(codable), count(colour) FROM codes") == [
        (307, 18, 307, 307)
    ]
    assert rows(db_path, "SELECT name, colour FROM codes WHERE guid = 'C6C1BE73-B4F4-4C2D-91F1-90B73BFC5C25'") == [
        ("THEME - Affinity Spaces (Gee)", "#ef8256")
    ]
    assert rows(db_path, "SELECT name, guid FROM coders") == [("johnb", "F3EA8DA1-BB99-411F-8ED4-011170237B6C")]
    archive = zipfile.ZipFile(MAXQDA)
    stored = dict(rows(db_path, "SELECT guid, text FROM interviews"))
    assert len(stored) == 10
    for guid, text in stored.items():
        assert text.encode() == archive.read(f"sources/{guid}.txt")
    [(iid, turns)] = rows(
        db_path,
        "SELECT i.id, count(*) FROM interviews i JOIN turns t ON t.interview_id = i.id "
        "WHERE i.guid = 'C5E4C960-5296-4FDE-8C63-DEABA4E17F92' GROUP BY i.id",
    )
    assert (iid, turns) == ("ICLS 2024 3-10", 21)  # one turn per paragraph: "Abstract:" is not a speaker
    for start, end, text in rows(db_path, "SELECT start, end, text FROM turns WHERE interview_id = ?", [iid]):
        assert stored["C5E4C960-5296-4FDE-8C63-DEABA4E17F92"][start:end] == text


@needs_refi_samples
def test_atlasti_project_imports_users_and_codes(cli, db_path):
    r = cli("import-qdpx", ATLAS)
    assert r.stdout.splitlines()[0] == (
        f"Imported {ATLAS} (ATLAS.ti for Windows 23.2.3.27778): 0 sources, 3 codes, 0 codings, 2 users, 0 cases."
    )
    assert rows(db_path, "SELECT name, guid FROM coders ORDER BY name") == [
        ("ATLAS.ti", "C32A2BD5-537F-4838-8B17-DF9EFBAFDF4B"),
        ("Enric Llagostera", "088B08AC-D5CD-4ADB-8B71-B4F3459C177F"),
    ]
    paths = [c["path"] for c in json.loads(cli("codebook", "show", "--format", "json").stdout)["codes"][0]["children"]]
    assert paths == ["Commits/2022-05-10T02:05:59Z 19e4dce", "Commits/2022-02-11T10:39:25Z cdbfd92"]


@needs_refi_samples
def test_maxqda_project_exports_again_valid_with_the_same_sources(cli, tmp_path):
    cli("import-qdpx", MAXQDA)
    out = tmp_path / "again.qdpx"
    cli("export", "qdpx", out)
    archive = zipfile.ZipFile(out)
    assert_valid("Project.xsd", archive.read("project.qde"))
    original = zipfile.ZipFile(MAXQDA)
    # MAXQDA names its members by upper-case GUIDs; qualcode writes GUIDs lower case.
    assert sorted(archive.namelist()) == sorted(n.lower() for n in original.namelist())
    for name in original.namelist():
        if name.startswith("sources/"):
            assert archive.read(name.lower()) == original.read(name)


# --- export and round trip -------------------------------------------------------------------------------------------


def test_export_qdpx_is_valid_exact_stable_and_round_trips(cli, db_path, tmp_path):
    coded_project(cli, tmp_path)
    first = tmp_path / "one" / "study.qdpx"
    first.parent.mkdir()
    r = cli("export", "qdpx", first)
    assert f"wrote {first}: 2 sources, 6 codes, 4 codings, 2 users, 2 cases" in flat(r.stderr)
    assert "wrote 1 'no code' decision as selections without a code, in a set per coder" in flat(r.stderr)
    archive = zipfile.ZipFile(first)
    qde = archive.read("project.qde")
    assert_valid("Project.xsd", qde)

    # Each source is the stored text, byte for byte: UTF-8, LF, no BOM.
    for guid, text in rows(db_path, "SELECT guid, text FROM interviews"):
        data = archive.read(f"sources/{guid.lower()}.txt")
        assert data == text.encode("utf-8") and not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    # Offsets are the stored ones, selection GUIDs are the codings' GUIDs, memos are notes.
    stored = rows(
        db_path,
        """SELECT i.guid, c.start, c.end, k.guid, d.guid, c.guid FROM codings c
                              JOIN interviews i ON i.id = c.interview_id JOIN codes k ON k.id = c.code_id
                              JOIN coders d ON d.name = c.coder WHERE c.deleted_at IS NULL""",
    )
    assert selections(first) == set(stored) and len(stored) == 4
    assert b"<PlainTextContent>late funds</PlainTextContent>" in qde

    # The same project exports to the same bytes.
    second = tmp_path / "two" / "study.qdpx"
    second.parent.mkdir()
    cli("export", "qdpx", second)
    assert second.read_bytes() == first.read_bytes()

    # Into a new project and out again: the same codings, GUIDs included, and the same turns and people.
    other = Cli(tmp_path / "other.db")
    r = other("import-qdpx", first)
    assert r.stdout.splitlines()[:2] == [
        f"Imported {first} (qualcode 0.1.0): 2 sources, 6 codes, 4 codings, 2 users, 2 cases.",
        "  1 'no code' decision(s)",
    ]
    # What REFI-QDA cannot carry is said, with the way to get it back: the .yml codebook loads onto the same codes.
    assert "REFI-QDA carries no patterns, thresholds or exclusive scales" in flat(r.stdout + r.stderr)
    loaded = other("codebook", "load", tmp_path / "codebook.yml").stdout
    assert "updated" in loaded and "added" not in loaded
    again = tmp_path / "again.qdpx"
    other("export", "qdpx", again)
    assert selections(again) == selections(first)
    same = [
        "SELECT interview_id, idx, start, end, text FROM turns ORDER BY 1, 2",
        "SELECT interview_id, label, participant_id, interviewer_id FROM speakers ORDER BY 1, 2",
        "SELECT id, name, gender, guid FROM participants ORDER BY 1",
        "SELECT * FROM participant_attributes ORDER BY 1, 2",
        "SELECT * FROM interview_attributes ORDER BY 1, 2",
        "SELECT interview_id, turn_id, start, end, quote, memo, coder, guid, code_id IS NULL FROM codings "
        "ORDER BY guid",
    ]
    for sql in same:
        assert rows(other.db_path, sql) == rows(db_path, sql), sql
    assert rows(other.db_path, "SELECT DISTINCT origin FROM codings") == [("refi",)]
    assert json.loads(other("participants", "--format", "json").stdout) == json.loads(
        cli("participants", "--format", "json").stdout
    )

    # Into the project it came from: everything is already there, nothing changes.
    before = dump(db_path)
    r = cli("import-qdpx", first)
    assert "0 sources, 6 codes, 0 codings" in r.stdout
    assert "2 sources were already in the project" in r.stdout and "5 codings were already in the project" in r.stdout
    assert dump(db_path) == before


def test_export_for_one_coder_and_unknown_coder(cli, tmp_path):
    coded_project(cli, tmp_path)
    out = tmp_path / "ana.qdpx"
    r = cli("export", "qdpx", out, "--coder", "ana")
    assert f"wrote {out}: 2 sources, 6 codes, 2 codings, 1 user, 2 cases" in flat(r.stderr)
    assert "'no code'" not in flat(r.stderr)
    r = cli("export", "qdpx", tmp_path / "x.qdpx", "--coder", "zoe", expect=1)
    assert "Error: no coder 'zoe' in this project (coders: ana, bo)" in flat(r.stderr)
    assert not (tmp_path / "x.qdpx").exists()


def test_redaction_hook_keeps_offsets_exact(cli, db_path, tmp_path):
    from qualcode.refi.export import export_qdpx
    from qualcode.store.db import open_project

    coded_project(cli, tmp_path)
    out = tmp_path / "redacted.qdpx"
    export_qdpx(open_project(db_path), out, redact=lambda s: s.replace("Ayesha", "[name]").replace("ILO", "[org]"))
    archive = zipfile.ZipFile(out)
    quotes = {guid: q for guid, q in rows(db_path, "SELECT guid, quote FROM codings")}
    for source, start, end, *_, guid in selections(out):
        text = archive.read(f"sources/{source.lower()}.txt").decode()
        assert "Ayesha" not in text
        assert text[start:end] == quotes[guid].replace("Ayesha", "[name]").replace("ILO", "[org]")


# --- NVivo offsets and text normalisation ----------------------------------------------------------------------------

CODE_GUID = "6D46672A-4D2F-4FFB-B3BA-4040D807B32C"
USER_GUID = "94C0156E-B0AE-458D-B684-DA2C9A844164"
SOURCE_GUID = "DFF2968B-0F78-4070-9136-E259A107D977"


def qde(sources: str = "", *, origin: str = "Test", codes: str | None = None, extra: str = "") -> str:
    codes = codes if codes is not None else f'<Code guid="{CODE_GUID}" name="Joy" isCodable="true"/>'
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="t" origin="{origin}">'
        f'<Users><User guid="{USER_GUID}" name="nora"/></Users><CodeBook><Codes>{codes}</Codes></CodeBook>'
        f"<Sources>{sources}</Sources>{extra}</Project>"
    )


def source(start: int, end: int, *, coding: str | None = None, extra: str = "") -> str:
    coding = coding if coding is not None else f'<CodeRef targetGUID="{CODE_GUID}"/>'
    return (
        f'<TextSource guid="{SOURCE_GUID}" name="Interview A" plainTextPath="internal://{SOURCE_GUID.lower()}.txt">'
        f'<PlainTextSelection guid="11111111-2222-3333-4444-555555555555" startPosition="{start}" endPosition="{end}" '
        f'creatingUser="{USER_GUID}" creationDateTime="2024-05-01T10:00:00Z">'
        f'<Coding guid="66666666-7777-8888-9999-000000000000" creatingUser="{USER_GUID}">{coding}</Coding>{extra}'
        "</PlainTextSelection></TextSource>"
    )


def qdpx(path: Path, project: str | bytes | None, members: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        if project is not None:
            z.writestr("project.qde", project)
        for name, data in (members or {}).items():
            z.writestr(name, data)
    return path


def test_nvivo_utf16_offsets_are_converted_to_code_points(cli, db_path, tmp_path):
    text = "Interviewer: How was it? \U0001f600\U0001f600\n\nRespondent: I was so happy that day.\n"
    start = text.index("so happy")
    utf16 = start + 2  # two emoji before the span, each two UTF-16 code units
    f = qdpx(
        tmp_path / "nvivo.qdpx",
        qde(source(utf16, utf16 + len("so happy")), origin="NVivo 14"),
        {f"Sources/{SOURCE_GUID}.txt": text.encode()},
    )
    r = cli("import-qdpx", f, "--speakers")
    assert "1 source, 1 code, 1 coding, 1 user, 0 cases." in r.stdout
    assert "  converted the offsets of 1 selection from UTF-16 code units to code points" in r.stdout
    assert "'Interview A': offsets of 1 selection(s) converted from UTF-16 code units to code points (NVivo 14)" in (
        flat(r.stderr)
    )
    assert rows(db_path, "SELECT start, end, quote, coder, origin, created_at FROM codings") == [
        (start, start + 8, "so happy", "nora", "refi", "2024-05-01T10:00:00Z")
    ]
    # A labelled transcript keeps its labels in the text and becomes speaker turns; the coding is in turn 1.
    assert rows(db_path, "SELECT t.idx, s.label, t.text FROM turns t JOIN speakers s ON s.id = t.speaker_id") == [
        (0, "Interviewer", "How was it? \U0001f600\U0001f600"),
        (1, "Respondent", "I was so happy that day."),
    ]
    assert rows(db_path, "SELECT t.idx FROM codings c JOIN turns t ON t.id = c.turn_id") == [(1,)]


def test_crlf_and_decomposed_text_is_normalised_and_offsets_follow(cli, db_path, tmp_path):
    raw = "Cafe\u0301 talk.\r\nThe coded words.\r\n"
    start = raw.index("coded")
    f = qdpx(
        tmp_path / "crlf.qdpx",
        qde(source(start, start + len("coded words"))),
        {f"sources/{SOURCE_GUID}.txt": b"\xef\xbb\xbf" + raw.encode()},
    )
    cli("import-qdpx", f)
    [(text,)] = rows(db_path, "SELECT text FROM interviews")
    assert text == "Caf\u00e9 talk.\nThe coded words.\n"
    assert rows(db_path, "SELECT quote FROM codings") == [("coded words",)]


# --- untrusted and broken files --------------------------------------------------------------------------------------

FM = """---
interview: INT-07
participants: [{id: P017, speaker: Ms Sharma, gender: female}]
interviewers: [EV1]
---
EV1: Thank you for joining us.

Ms Sharma: The money came late.
"""
TEXT = {f"sources/{SOURCE_GUID}.txt": b"Respondent: I was so happy that day.\n"}
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&secret;"/>
"""
BAD = [
    (
        "zip-slip",
        lambda p: qdpx(p, qde(), {"../evil.txt": b"x"}),
        "archive member '../evil.txt' points outside the archive (zip-slip): refused",
    ),
    (
        "absolute",
        lambda p: qdpx(p, qde(), {"/etc/evil.txt": b"x"}),
        "archive member '/etc/evil.txt' points outside the archive (zip-slip): refused",
    ),
    (
        "ratio",
        lambda p: qdpx(p, qde(), {"sources/big.txt": b"\0" * (2 * 1024 * 1024)}),
        "zip bomb: 'sources/big.txt' unpacks to 2 MB from",
    ),
    ("xxe", lambda p: qdpx(p, XXE), "project.qde: XML with a DTD or entities is refused (XXE)"),
    ("no-qde", lambda p: qdpx(p, None, TEXT), "no project.qde in the archive"),
    ("not-zip", lambda p: write(p, "hello"), "not a REFI-QDA project: a .qdpx file is a zip archive"),
    ("not-xml", lambda p: qdpx(p, "<Project"), "project.qde:1: not well-formed XML"),
    (
        "dangling-coderef",
        lambda p: qdpx(
            p, qde(source(14, 22, coding='<CodeRef targetGUID="AAAAAAAA-0000-0000-0000-000000000000"/>')), TEXT
        ),
        "a <Coding> in <PlainTextSelection guid='11111111-2222-3333-4444-555555555555'> of source 'Interview A' refers "
        "to code AAAAAAAA-0000-0000-0000-000000000000, which is not in the file's <CodeBook>",
    ),
    (
        "missing-text",
        lambda p: qdpx(p, qde(source(14, 22))),
        f"<TextSource name='Interview A'>: its text 'internal://{SOURCE_GUID.lower()}.txt' is not in the archive",
    ),
    (
        "out-of-range",
        lambda p: qdpx(p, qde(source(14, 999)), TEXT),
        "<PlainTextSelection guid='11111111-2222-3333-4444-555555555555'> in <TextSource name='Interview A'>: "
        "startPosition 14 and endPosition 999 do not fit its text (37 characters)",
    ),
    (
        "dangling-noteref",
        lambda p: qdpx(
            p, qde(source(14, 22, extra='<NoteRef targetGUID="BBBBBBBB-0000-0000-0000-000000000000"/>')), TEXT
        ),
        "has a NoteRef to BBBBBBBB-0000-0000-0000-000000000000, which is not among the file's <Notes>",
    ),
    (
        "bad-guid",
        lambda p: qdpx(p, qde(codes='<Code guid="nope" name="Joy" isCodable="true"/>')),
        "<Code name='Joy'> has guid 'nope', which is not a GUID",
    ),
]


@pytest.mark.parametrize(("name", "make", "message"), BAD, ids=[b[0] for b in BAD])
def test_untrusted_or_broken_archives_are_refused_and_change_nothing(cli, db_path, tmp_path, name, make, message):
    cli("import", write(tmp_path / "int07.md", FM))
    before = dump(db_path)
    f = make(tmp_path / f"{name}.qdpx")
    r = cli("import-qdpx", f, expect=1)
    assert message in flat(r.stderr)
    assert r.stderr.startswith(f"Error: {f}")
    assert "Traceback" not in r.output
    assert dump(db_path) == before


def test_zip_bomb_over_the_total_limit(cli, db_path, tmp_path, monkeypatch):
    from qualcode.refi import archive

    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 1024 * 1024)
    cli("import", write(tmp_path / "int07.md", FM))
    before = dump(db_path)
    f = qdpx(
        tmp_path / "bomb.qdpx", qde(), {"sources/a.txt": b"a" * (600 * 1024), "sources/b.txt": b"b" * (600 * 1024)}
    )
    r = cli("import-qdpx", f, expect=1)
    assert f"Error: {f}: zip bomb: the archive unpacks to more than the 1 MB limit" in flat(r.stderr)
    assert dump(db_path) == before


def test_codings_of_codes_missing_from_the_codebook_are_refused(cli, db_path, tmp_path):
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    before = dump(db_path)
    f = qdpx(tmp_path / "joy.qdpx", qde(source(14, 22)), TEXT)
    r = cli("import-qdpx", f, expect=1)
    assert (
        f"Error: {f}: codes with codings in the file are not in the project's codebook: Joy; add them to the "
        "codebook first (codebook load or codebook import), then import again"
    ) in flat(r.stderr)
    assert dump(db_path) == before


def test_a_project_with_a_codebook_keeps_it_and_matches_codes_by_path(cli, db_path, tmp_path):
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    codes = (
        '<Code guid="0B5836CE-544A-4ABD-A249-BD23DB7BC0F0" name="relevance" isCodable="true">'
        f'<Code guid="{CODE_GUID}" name="Constituent Needs" isCodable="true"/></Code>'
        '<Code guid="2FFA2C89-0C2A-4182-BB30-1F786A73E4A7" name="Unused" isCodable="true"/>'
    )
    f = qdpx(tmp_path / "paths.qdpx", qde(source(18, 26), codes=codes), TEXT)
    r = cli("import-qdpx", f)
    assert "1 source, 3 codes, 1 coding, 1 user, 0 cases." in r.stdout
    assert "1 code(s) in the file are not in the project's codebook and no coding uses them; not imported: Unused" in (
        flat(r.stderr)
    )
    assert rows(db_path, "SELECT k.key, c.quote FROM codings c JOIN codes k ON k.id = c.code_id") == [
        ("relevance.constituent-needs", "so happy")
    ]
    assert rows(db_path, "SELECT count(*) FROM codes") == [(6,)]


# --- what peers need (issue 18) --------------------------------------------------------------------------------------

GUID_TEXT = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def test_guids_are_written_lower_case_and_read_in_any_case(cli, db_path, tmp_path):
    coded_project(cli, tmp_path)
    out = tmp_path / "study.qdpx"
    cli("export", "qdpx", out)
    archive = zipfile.ZipFile(out)
    qde_text = archive.read("project.qde").decode()
    guids = GUID_TEXT.findall(qde_text)
    assert len(guids) > 20 and all(g == g.lower() for g in guids)
    assert all(name == name.lower() for name in archive.namelist())
    # Stored upper case, as before: the file's lower case is only how it is written.
    [(guid,)] = rows(db_path, "SELECT guid FROM interviews WHERE id = 'INT-01'")
    assert guid == guid.upper() and f'guid="{guid.lower()}"' in qde_text
    qdc = tmp_path / "codes.qdc"
    cli("codebook", "export", "--format", "qdc", "-o", qdc)
    assert all(g == g.lower() for g in GUID_TEXT.findall(qdc.read_text()))

    # Read back in any case: the upper-case file imports to the same project as the lower-case one.
    upper = qdpx(
        tmp_path / "upper.qdpx",
        GUID_TEXT.sub(lambda m: m.group(0).upper(), qde_text),
        {
            n.upper() if n.startswith("sources/") else n: archive.read(n)
            for n in archive.namelist()
            if n != "project.qde"
        },
    )
    a, b = Cli(tmp_path / "a.db"), Cli(tmp_path / "b.db")
    a("import-qdpx", out)
    b("import-qdpx", upper)
    for sql in ("SELECT guid, id, text FROM interviews ORDER BY 1", "SELECT guid, start, end FROM codings ORDER BY 1"):
        assert rows(a.db_path, sql) == rows(b.db_path, sql) and rows(a.db_path, sql)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_qdpx_is_written_with_the_users_normal_permissions(cli, tmp_path, umask):
    coded_project(cli, tmp_path)
    old = os.umask(umask)
    try:
        cli("export", "qdpx", tmp_path / "study.qdpx")
        cli("export", "segments", "--coder", "ana", "-o", tmp_path / "segments.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "study.qdpx").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "segments.csv").stat().st_mode) == 0o666 & ~umask


def no_code_sets(qdpx_path: Path) -> dict[str, list]:
    """Set name → [(selection start, end, its note's text)] for qualcode's "no code" sets."""
    from lxml import etree

    root = etree.fromstring(zipfile.ZipFile(qdpx_path).read("project.qde"))
    notes = {n.get("guid"): n.findtext(f"{P}PlainTextContent") for n in root.iter(f"{P}Note")}
    by_note = {
        ref.get("targetGUID"): sel
        for sel in root.iter(f"{P}PlainTextSelection")
        for ref in sel.findall(f"{P}NoteRef")
        if sel.find(f"{P}Coding") is None
    }
    out = {}
    for s in root.iter(f"{P}Set"):
        members = [m.get("targetGUID") for m in s.findall(f"{P}MemberNote")]
        out[s.get("name")] = [
            (int(by_note[g].get("startPosition")), int(by_note[g].get("endPosition")), notes[g]) for g in members
        ]
    return out


def test_no_code_decisions_travel_as_a_set_per_coder_and_come_back(cli, db_path, tmp_path):
    coded_project(cli, tmp_path)
    cli("codings", "import", write(tmp_path / "more.csv", "interview,turn,code,coder,memo\nINT-01,3,,ana,read twice\n"))
    out = tmp_path / "study.qdpx"
    r = cli("export", "qdpx", out)
    assert "wrote 2 'no code' decisions as selections without a code, in a set per coder" in flat(r.stderr)
    assert_valid("Project.xsd", zipfile.ZipFile(out).read("project.qde"))
    turn = {(i, idx): (a, b) for i, idx, a, b in rows(db_path, "SELECT interview_id, idx, start, end FROM turns")}
    assert no_code_sets(out) == {
        "No code: ana": [
            (*turn["INT-01", 3], "No code: ana read this passage and decided that no code applies.\n\nread twice")
        ],
        "No code: bo": [(*turn["INT-02", 2], "No code: bo read this passage and decided that no code applies.")],
    }

    # Read back as "no code" decisions, with their GUIDs, times and memos; the set is not reported as skipped.
    other = Cli(tmp_path / "other.db")
    r = other("import-qdpx", out)
    assert "  2 'no code' decision(s)" in r.stdout and "sets not imported" not in r.stderr
    decisions = (
        "SELECT c.interview_id, t.idx, c.coder, c.start, c.end, c.memo, c.guid, c.created_at FROM live_codings c "
        "JOIN turns t ON t.id = c.turn_id WHERE c.code_id IS NULL ORDER BY 1, 2"
    )
    assert rows(other.db_path, decisions) == rows(db_path, decisions) and len(rows(db_path, decisions)) == 2
    assert rows(other.db_path, "SELECT count(*) FROM live_codings WHERE code_id IS NOT NULL") == [(4,)]

    # Exported for one coder, only that coder's set.
    cli("export", "qdpx", tmp_path / "bo.qdpx", "--coder", "bo")
    assert list(no_code_sets(tmp_path / "bo.qdpx")) == ["No code: bo"]


def test_a_no_code_selection_on_a_turn_its_coder_coded_is_not_imported(cli, db_path, tmp_path):
    coded_project(cli, tmp_path)
    out = tmp_path / "study.qdpx"
    cli("export", "qdpx", out)
    cli("export", "qdpx", tmp_path / "ana.qdpx", "--coder", "ana")
    other = Cli(tmp_path / "other.db")
    other("import-qdpx", tmp_path / "ana.qdpx")  # the same interviews (GUIDs), without bo's decision
    other("apply", "INT-02", "2", "Delays", "--coder", "bo")
    r = other("import-qdpx", out)
    [(guid,)] = rows(db_path, "SELECT guid FROM codings WHERE code_id IS NULL")
    assert f"'no code' decision {guid}: bo gave turn 2 a code" in flat(r.stderr)
    assert rows(other.db_path, "SELECT count(*) FROM live_codings WHERE code_id IS NULL") == [(0,)]


EMOJI = """---
interview: INT-EMO
participants: [{id: P1, speaker: Ana, gender: woman}]
interviewers: [EV]
---
EV: How was the training? \U0001f642

Ana: It was great \U0001f44d\U0001f3fd, really. We learned about contracts \U0001f4dd and wages.
"""


def utf16_text(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


def test_an_emoji_transcript_exported_for_nvivo_reads_back_at_the_right_places(cli, db_path, tmp_path):
    cli("import", write(tmp_path / "emo.md", EMOJI))
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    [(turn,)] = rows(db_path, "SELECT text FROM turns WHERE idx = 1")
    start = turn.index("contracts")
    cli(
        "apply",
        "INT-EMO",
        "1",
        "Delays",
        "--coder",
        "ana",
        "--start",
        start,
        "--end",
        start + len("contracts \U0001f4dd"),
    )
    cli("apply", "INT-EMO", "1", "Funding", "--coder", "ana")
    cli("apply", "INT-EMO", "0", "Funding", "--coder", "ana", "--start", 0, "--end", 3)
    quotes = {q for (q,) in rows(db_path, "SELECT quote FROM codings")}
    assert "contracts \U0001f4dd" in quotes

    nvivo = tmp_path / "nvivo.qdpx"
    r = cli("export", "qdpx", nvivo, "--offsets", "utf16")
    assert "3 codings" in r.stderr
    archive = zipfile.ZipFile(nvivo)
    assert b'origin="qualcode 0.1.0 (offsets in UTF-16 code units)"' in archive.read("project.qde")
    found = set()
    for source, start_, end_, *_ in selections(nvivo):
        text = archive.read(f"sources/{source.lower()}.txt").decode()
        found.add(utf16_text(text, start_, end_))
    assert found == quotes  # counted in UTF-16 code units, each selection covers its quote

    # The default stays code points, which shift after the emoji when counted as UTF-16.
    points = tmp_path / "points.qdpx"
    cli("export", "qdpx", points)
    assert {
        text[a:b]
        for text in [archive.read(n).decode() for n in archive.namelist() if n.startswith("sources/")]
        for _, a, b, *_ in selections(points)
    } == quotes
    assert selections(points) != selections(nvivo)

    # Back into qualcode: the same characters, the same offsets, whichever way it was written.
    for f in (nvivo, points):
        other = Cli(tmp_path / f"{f.stem}.db")
        other("import-qdpx", f)
        sql = "SELECT guid, start, end, quote FROM codings ORDER BY guid"
        assert rows(other.db_path, sql) == rows(db_path, sql)


def test_nvivo_offsets_survive_import_and_export_for_nvivo(cli, db_path, tmp_path):
    text = "Interviewer: How was it? \U0001f600\U0001f600\n\nRespondent: I was so happy \U0001f600 that day.\n"
    a = text.index("so happy") + 2  # two emoji before: NVivo counts each as two UTF-16 code units
    b = a + len("so happy \U0001f600") + 1
    original = qdpx(
        tmp_path / "nvivo.qdpx", qde(source(a, b), origin="NVivo 14"), {f"Sources/{SOURCE_GUID}.txt": text.encode()}
    )
    cli("import-qdpx", original, "--speakers")
    assert rows(db_path, "SELECT quote FROM codings") == [("so happy \U0001f600",)]
    out = tmp_path / "again.qdpx"
    cli("export", "qdpx", out, "--offsets", "utf16")
    [(_, start, end, *_)] = selections(out)
    assert (start, end) == (a, b)


def test_interview_ids_leave_out_the_file_extension_of_a_peers_source_name(cli, db_path, tmp_path):
    guids = ["A1111111-0000-0000-0000-000000000001", "A1111111-0000-0000-0000-000000000002"]
    guids += ["A1111111-0000-0000-0000-000000000003", "A1111111-0000-0000-0000-000000000004"]
    names = ["interview.txt", "interview.DOCX", "Dr. Smith", "notes.v2"]
    sources = "".join(
        f'<TextSource guid="{g}" name="{n}" plainTextPath="internal://{g}.txt"/>'
        for g, n in zip(guids, names, strict=True)
    )
    f = qdpx(
        tmp_path / "qc.qdpx", qde(sources, origin="qc 1.7.8"), {f"sources/{g}.txt": b"Some text.\n" for g in guids}
    )
    r = cli("import-qdpx", f)
    assert rows(db_path, "SELECT id FROM interviews ORDER BY guid") == [
        ("interview",),
        ("interview-2",),
        ("Dr. Smith",),
        ("notes.v2",),
    ]
    assert "source 'interview.DOCX' is interview interview-2 (the id was taken)" in flat(r.stderr)


# --- Taguette's codebook shapes: CSV both ways, a flat .qdc of path-like names ---------------------------------------

TREE = (
    "SELECT c.name, p.name, c.codable, c.definition, c.include, c.exclude, c.examples FROM codes c "
    "LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.id"
)
# Taguette 1.5.2's own CSV export (taguette/export.py codebook_csv): csv.writer's CRLF, its header, one row per tag
# whose name is its path.
TAGUETTE_CSV = (
    "tag,description,number of highlights,number of documents\r\n"
    "Relevance/Constituent needs,What constituents asked for,12,3\r\n"
    "Relevance/COVID adaptation,,2,1\r\n"
    "Efficiency,Time and money,0,0\r\n"
    "Efficiency/Delays,,5,2\r\n"
)
# Taguette 1.5.2's .qdc (taguette/export.py codebook_xml): a flat list, names that are paths, each GUID upper case
# and derived from the path (uuid5 in Taguette's namespace).
TAGUETTE_QDC = (
    '<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Taguette 1.5.2">'
    "<Codes>"
    '<Code guid="A91C1820-840B-5C66-8662-C44FCFA4A023" name="Relevance/Constituent needs" isCodable="true"/>'
    '<Code guid="4FAA444B-B673-5868-9FA8-954AA1AFB4CA" name="Relevance/COVID adaptation" isCodable="true"/>'
    '<Code guid="DD7A2AA6-803E-5614-963E-F692B5BD7EBD" name="Efficiency" isCodable="true"/>'
    '<Code guid="C1D80AD5-8E33-5A53-B3CD-A61668ADD635" name="Efficiency/Delays" isCodable="true"/>'
    "</Codes><Sets/></CodeBook>"
)


def test_codebook_csv_export_is_taguettes_shape(cli, tmp_path):
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    r = cli("codebook", "export", "--format", "csv")
    assert r.stdout == (
        "tag,description\n"
        'Relevance,"Whether the work fits what constituents need.\n\nInclude: Mentions of needs.\n\n'
        'Exclude: Generic praise.\n\nExamples:\n- They asked us for exactly this."\n'
        "Relevance/Constituent needs,\n"
        "Relevance/COVID adaptation,Include: Changes made because of the pandemic.\n"
        "Efficiency,\n"
        "Efficiency/Delays,\n"
        "Efficiency/Funding,\n"
    )


def test_codebook_csv_round_trips_with_the_hierarchy(cli, db_path, tmp_path):
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    csv_file = tmp_path / "codes.csv"
    cli("codebook", "export", "--format", "csv", "-o", csv_file)

    # Into a new project: the same tree, definitions split back apart. CSV has no column for a folder.
    other = Cli(tmp_path / "other.db")
    r = other("codebook", "import", csv_file)
    assert r.stdout.startswith(f"Imported codebook 'codes' from {csv_file}: 6 added, 0 renamed, 0 removed.")
    expected = [(*row[:2], 1, *row[3:]) for row in rows(db_path, TREE)]
    assert rows(other.db_path, TREE) == expected

    # Into the project it came from: nothing changes, and what CSV cannot carry (folders, colours, patterns) stays.
    before = rows(db_path, "SELECT guid, key, name, codable, colour, patterns FROM codes ORDER BY id")
    r = cli("codebook", "import", csv_file)
    assert "0 added, 0 renamed, 0 removed" in r.stdout
    assert rows(db_path, "SELECT guid, key, name, codable, colour, patterns FROM codes ORDER BY id") == before


def test_taguettes_csv_imports_as_a_tree(cli, db_path, tmp_path):
    f = tmp_path / "taguette.csv"
    f.write_bytes(TAGUETTE_CSV.encode())
    r = cli("codebook", "import", f)
    assert "5 added" in r.stdout
    assert "tags read as paths ('A/B' is B under A); a folder made for a level no tag names: Relevance" in flat(
        r.stderr
    )
    assert rows(
        db_path,
        "SELECT c.name, p.name, c.codable, c.definition FROM codes c "
        "LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.id",
    ) == [
        ("Relevance", None, 0, None),
        ("Constituent needs", "Relevance", 1, "What constituents asked for"),
        ("COVID adaptation", "Relevance", 1, None),
        ("Efficiency", None, 1, "Time and money"),
        ("Delays", "Efficiency", 1, None),
    ]


def test_taguettes_flat_qdc_becomes_a_tree_with_paths(cli, db_path, tmp_path):
    qdc = write(tmp_path / "taguette.qdc", TAGUETTE_QDC)
    r = cli("codebook", "import", qdc, "--paths")
    assert "5 added" in r.stdout
    assert "code names read as paths ('A/B' is B under A); a folder made for a level no code names: Relevance" in (
        flat(r.stderr)
    )
    assert rows(
        db_path,
        "SELECT c.name, p.name, c.codable, c.guid FROM codes c LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.id",
    )[1:] == [
        ("Constituent needs", "Relevance", 1, "A91C1820-840B-5C66-8662-C44FCFA4A023"),
        ("COVID adaptation", "Relevance", 1, "4FAA444B-B673-5868-9FA8-954AA1AFB4CA"),
        ("Efficiency", None, 1, "DD7A2AA6-803E-5614-963E-F692B5BD7EBD"),
        ("Delays", "Efficiency", 1, "C1D80AD5-8E33-5A53-B3CD-A61668ADD635"),
    ]

    # Without --paths the names stay whole, and the report says how to read them as levels.
    other = Cli(tmp_path / "other.db")
    r = other("codebook", "import", qdc)
    assert rows(other.db_path, "SELECT count(*), count(parent_id) FROM codes") == [(4, 0)]
    assert "3 code name(s) contain '/': each kept as one name; --paths reads them as levels" in flat(r.stderr)


def test_a_source_written_one_entry_per_line_has_its_lines_as_units(cli, db_path, tmp_path):
    """No blank line anywhere: each line is a unit (a list of comments), not the whole text; a selection across two
    lines joins them, so the coding lies inside one unit."""
    guid = "B2222222-0000-0000-0000-000000000001"
    text = "The fees came down.\nNobody told us about the hotline.\nThe training was good.\n"
    second = text.index("Nobody")
    sources = (
        f'<TextSource guid="{guid}" name="comments" plainTextPath="internal://{guid}.txt">'
        f'<PlainTextSelection guid="B2222222-0000-0000-0000-0000000000A1" startPosition="{second}" '
        f'endPosition="{text.index("good")}"><Coding guid="B2222222-0000-0000-0000-0000000000C1">'
        f'<CodeRef targetGUID="{CODE_GUID}"/></Coding></PlainTextSelection></TextSource>'
    )
    cli("import-qdpx", qdpx(tmp_path / "c.qdpx", qde(sources), {f"sources/{guid}.txt": text.encode()}))
    turns = [t for (t,) in rows(db_path, "SELECT text FROM turns ORDER BY idx")]
    assert turns == ["The fees came down.", "Nobody told us about the hotline.\nThe training was good."]


def survey_project(coded: tuple[int, int]) -> tuple[str, bytes]:
    """A survey as qualcode writes one: two answers, each a selection its respondent's case points at, with its
    question as description; one coding at CODED."""
    text = "Fees came down.\n\nThe hotline was unknown.\n"
    a, b = (0, text.index(".") + 1), (text.index("The"), text.index("unknown.") + len("unknown."))
    kind, language = "A3333333-0000-0000-0000-000000000001", "A3333333-0000-0000-0000-000000000002"
    answers = ["A3333333-0000-0000-0000-0000000000A1", "A3333333-0000-0000-0000-0000000000A2"]
    units = "".join(
        f'<PlainTextSelection guid="{g}" name="answer" startPosition="{s}" endPosition="{e}">'
        f"<Description>{q}</Description></PlainTextSelection>"
        for g, (s, e), q in zip(answers, (a, b), ("What changed?", "What was missing?"), strict=True)
    )
    coding = (
        f'<PlainTextSelection guid="A3333333-0000-0000-0000-0000000000C1" startPosition="{coded[0]}" '
        f'endPosition="{coded[1]}"><Coding guid="A3333333-0000-0000-0000-0000000000C2">'
        f'<CodeRef targetGUID="{CODE_GUID}"/></Coding></PlainTextSelection>'
    )
    value = '<VariableValue><VariableRef targetGUID="{}"/><TextValue>{}</TextValue></VariableValue>'
    cases = "".join(
        f'<Case guid="A3333333-0000-0000-0000-0000000000B{n}" name="pulse:R{n}">'
        f'<SourceRef targetGUID="{SOURCE_GUID}"/><SelectionRef targetGUID="{g}"/></Case>'
        for n, g in enumerate(answers, 1)
    )
    project = (
        '<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="t" origin="qualcode">'
        f'<Users><User guid="{USER_GUID}" name="nora"/></Users>'
        f'<CodeBook><Codes><Code guid="{CODE_GUID}" name="Joy" isCodable="true"/></Codes></CodeBook>'
        f'<Variables><Variable guid="{kind}" name="kind" typeOfVariable="Text"/>'
        f'<Variable guid="{language}" name="language" typeOfVariable="Text"/></Variables><Cases>{cases}</Cases>'
        f'<Sources><TextSource guid="{SOURCE_GUID}" name="pulse" plainTextPath="internal://s.txt">{units}{coding}'
        f"{value.format(kind, 'survey')}{value.format(language, 'en')}</TextSource></Sources></Project>"
    )
    return project, text.encode()


def test_a_survey_comes_back_with_its_answers_respondents_and_questions(cli, db_path, tmp_path):
    project, text = survey_project((0, 4))
    cli("import-qdpx", qdpx(tmp_path / "s.qdpx", project, {"s.txt": text}))
    got = rows(
        db_path, "SELECT t.text, s.participant_id, t.context FROM turns t JOIN speakers s ON s.id = t.speaker_id"
    )
    assert got == [("Fees came down.", "pulse:R1", "What changed?"), ("The hotline was unknown.", "pulse:R2",
                                                                         "What was missing?")]  # fmt: skip
    assert rows(db_path, "SELECT kind FROM interviews") == [("survey",)]
    assert rows(db_path, "SELECT DISTINCT kind FROM participants WHERE id LIKE 'pulse:R%'") == [("respondent",)]
    assert not rows(db_path, "SELECT * FROM interview_attributes WHERE name = 'kind'")


def test_a_coding_across_two_answers_makes_it_no_survey_and_nothing_is_lost(cli, db_path, tmp_path):
    project, text = survey_project((0, 30))  # from the first answer into the second
    cli("import-qdpx", qdpx(tmp_path / "s.qdpx", project, {"s.txt": text}))
    assert rows(db_path, "SELECT kind FROM interviews") != [("survey",)]
    assert rows(db_path, "SELECT count(*) FROM codings WHERE code_id IS NOT NULL") == [(1,)]
