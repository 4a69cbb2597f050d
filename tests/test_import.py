"""Importing the project's own front-matter format, the import rules, and bad input."""

from __future__ import annotations

import json

import pytest

from tests.conftest import dump, write
from tests.conftest import query as rows

FM = """---
interview: INT-07
title: Ministry of Labour, Nepal
date: 2021-02-15
language: en
attributes: {case_study: "Fair recruitment: Nepal–Jordan", mode: video call, region: Asia and the Pacific}
interviewers: [EV1]
participants:
  - id: P017
    speaker: Ms Sharma        # label used in the text; defaults to id
    gender: female
    stakeholder_group: Government
    organisation: Ministry of Labour
  - id: P018
    gender: M
    stakeholder_group: Government
---
EV1: Thank you for joining us.
Can you hear me?

Ms Sharma: Yes. The money came late: we were three people for four countries.

Ms Sharma: A second paragraph from the same speaker.
It continues here.

P018: I agree with her. Note: this colon is not a label.

EV1: Thanks.
"""


def test_front_matter_import_stores_turns_with_exact_offsets(cli, db_path, tmp_path):
    f = write(tmp_path / "in" / "int07.md", FM)
    r = cli("import", f, "--format", "json")
    [res] = json.loads(r.stdout)
    assert (res["interview"], res["format"], res["turns"], res["speakers"], res["status"]) == (
        "INT-07",
        "qualcode-md",
        4,
        3,
        "imported",
    )
    [(text,)] = rows(db_path, "SELECT text FROM interviews")
    turns = rows(
        db_path,
        "SELECT t.idx, s.label, t.start, t.end, t.text FROM turns t JOIN speakers s "
        "ON s.id = t.speaker_id ORDER BY idx",
    )
    assert [(i, lab) for i, lab, *_ in turns] == [(0, "EV1"), (1, "Ms Sharma"), (2, "P018"), (3, "EV1")]
    for _, _, start, end, ttext in turns:
        assert text[start:end] == ttext
    assert turns[0][4] == "Thank you for joining us.\nCan you hear me?"
    assert turns[1][4] == (
        "Yes. The money came late: we were three people for four countries.\n\n"
        "A second paragraph from the same speaker.\nIt continues here."
    )
    assert turns[2][4] == "I agree with her. Note: this colon is not a label."
    sents = rows(db_path, "SELECT s.start, s.end FROM sentences s JOIN turns t ON t.id = s.turn_id WHERE t.idx = 1")
    assert [text[a:b] for a, b in sents] == [
        "Yes.",
        "The money came late: we were three people for four countries.",
        "A second paragraph from the same speaker.",
        "It continues here.",
    ]
    people = rows(db_path, "SELECT id, name, gender FROM participants ORDER BY id")
    assert people == [("P017", "Ms Sharma", "woman"), ("P018", None, "man")]
    assert rows(
        db_path, "SELECT name, value FROM participant_attributes WHERE participant_id='P017' ORDER BY name"
    ) == [("organisation", "Ministry of Labour"), ("stakeholder_group", "Government")]
    assert rows(db_path, "SELECT interviewer_id FROM interview_interviewers") == [("EV1",)]
    assert rows(db_path, "SELECT date, title FROM interviews") == [("2021-02-15", "Ministry of Labour, Nepal")]


def test_participants_json_counts_come_from_the_data(cli, tmp_path):
    write(tmp_path / "a.md", FM)
    write(tmp_path / "b.md", FM.replace("INT-07", "INT-08").replace("P018", "P019").replace("gender: M", "gender: f"))
    cli("import", tmp_path / "a.md", tmp_path / "b.md")
    data = json.loads(cli("participants", "--format", "json").stdout)
    assert data == {"total": 3, "by_gender": {"woman": 2, "man": 1}}
    data = json.loads(cli("participants", "--by", "case_study", "--format", "json").stdout)
    assert data["by"] == {
        "attribute": "case_study",
        "rows": [{"value": "Fair recruitment: Nepal–Jordan", "total": 3, "by_gender": {"woman": 2, "man": 1}}],
    }
    r = cli("participants", "--by", "nonexistent", expect=1)
    assert "no attribute 'nonexistent'" in r.stderr


def test_reimport_unchanged_is_a_noop_and_changed_needs_replace(cli, db_path, tmp_path):
    f = write(tmp_path / "a.md", FM)
    cli("import", f)
    before = dump(db_path)
    r = cli("import", f, "--format", "json")
    assert json.loads(r.stdout)[0]["status"] == "unchanged"
    assert dump(db_path) == before
    write(f, FM.replace("Thanks.", "Thank you very much."))
    r = cli("import", f, expect=1)
    assert "INT-07 already exists" in r.stderr and "--replace" in r.stderr
    assert dump(db_path) == before
    r = cli("import", f, "--replace", "--format", "json")
    assert json.loads(r.stdout)[0]["status"] == "replaced"
    assert rows(db_path, "SELECT text FROM turns WHERE idx = 3") == [("Thank you very much.",)]


def test_conflicting_participant_attributes_name_both_files(cli, db_path, tmp_path):
    write(tmp_path / "a.md", FM)
    cli("import", tmp_path / "a.md")
    before = dump(db_path)
    other = FM.replace("INT-07", "INT-09").replace("gender: female", "gender: man")
    write(tmp_path / "b.md", other)
    r = cli("import", tmp_path / "b.md", expect=1)
    assert "participant P017 has gender 'man' here but 'woman' in a.md" in r.stderr
    assert "b.md" in r.stderr
    assert dump(db_path) == before


def test_a_failed_file_leaves_no_trace_and_the_batch_goes_on(cli, db_path, tmp_path):
    write(tmp_path / "in" / "a.md", FM)
    write(tmp_path / "in" / "b.md", FM.replace("INT-07", "INT-10").replace("P018: I agree", "Mr X: I agree"))
    r = cli("import", tmp_path / "in", "--format", "json", expect=1)
    statuses = {x["file"].rsplit("/", 1)[1]: x["status"] for x in json.loads(r.stdout)}
    assert statuses == {"a.md": "imported", "b.md": "failed"}
    assert "b.md:26: unknown speaker label 'Mr X'" in r.stderr
    assert rows(db_path, "SELECT id FROM interviews") == [("INT-07",)]


BAD = [
    ("empty.md", b"", "empty.md: file is empty"),
    ("blank.txt", b"  \n\n", "blank.txt: file is empty"),
    ("binary.txt", b"\x00\x01\x02PK\x03\x04", "binary.txt: binary file"),
    ("latin1.md", "EV1: caf\xe9\n".encode("latin-1"), "latin1.md:1: not valid utf-8 at byte 8 (line 1)"),
    ("noclose.md", b"---\ninterview: X\n", "noclose.md:1: front matter opened with '---' but never closed"),
    ("yaml.md", b"---\ninterview: [unclosed\n---\nA: b\n", "yaml.md:2: invalid YAML"),
    ("noid.md", b"---\ntitle: x\nparticipants: [A]\n---\nA: hi\n", "noid.md:1: front matter has no 'interview:' id"),
    (
        "unknownkey.md",
        b"---\ninterview: X\nparticipant: [A]\n---\nA: hi\n",
        "unknownkey.md:3: unknown key 'participant'",
    ),
    (
        "nolabel.md",
        b"---\ninterview: X\nparticipants: [A]\n---\nhello there\n",
        "nolabel.md:5: text before the first speaker",
    ),
    ("noturns.md", b"---\ninterview: X\nparticipants: [A]\n---\n\n", "noturns.md:5: no speaker turns"),
    ("notes.odt", b"PK\x03\x04", "notes.odt: unknown extension '.odt'"),
    ("notes.pdf", b"%PDF-1.4", "notes.pdf: not a readable PDF"),
    (
        "dupspeaker.md",
        b"---\ninterview: X\nparticipants: [{id: A}, {id: B, speaker: A}]\n---\nA: hi\n",
        "speaker label 'A' is used by both A and B",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_reported_and_changes_nothing(cli, db_path, tmp_path, name, content, message):
    write(tmp_path / "ok.md", FM)
    cli("import", tmp_path / "ok.md")
    before = dump(db_path)
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    bad.write_bytes(content)
    r = cli("import", bad, expect=1)
    assert message in r.stderr
    assert "Traceback" not in r.output
    assert dump(db_path) == before


def test_encoding_option_and_bom_crlf_are_accepted(cli, db_path, tmp_path):
    latin = tmp_path / "latin.md"
    latin.write_bytes(FM.replace("Thanks.", "Merci, café.").encode("cp1252"))
    cli("import", latin, "--encoding", "cp1252")
    assert rows(db_path, "SELECT text FROM turns WHERE idx = 3") == [("Merci, café.",)]
    bom = tmp_path / "bom.md"
    bom.write_bytes(b"\xef\xbb\xbf" + FM.replace("INT-07", "INT-11").replace("\n", "\r\n").encode())
    cli("import", bom)
    [(text,)] = rows(db_path, "SELECT text FROM interviews WHERE id = 'INT-11'")
    assert "\r" not in text and "\ufeff" not in text
    for start, end, ttext in rows(db_path, "SELECT start, end, text FROM turns WHERE interview_id = 'INT-11'"):
        assert text[start:end] == ttext


def test_duplicate_ids_in_one_batch(cli, db_path, tmp_path):
    write(tmp_path / "in" / "a.md", FM)
    write(tmp_path / "in" / "b.md", FM.replace("Thanks.", "Bye."))
    r = cli("import", tmp_path / "in", expect=1)
    assert "duplicate interview id INT-07: also in" in r.stderr and "a.md in this import" in r.stderr
    assert rows(db_path, "SELECT count(*) FROM interviews") == [(0,)]  # neither: which one is right is unknown


def test_too_large_file_is_refused(cli, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"A: " + b"word " * 600_000)
    r = cli("import", big, "--max-size", "1", expect=1)
    assert "big.txt: file is 2.9 MB; transcripts over 1 MB are refused" in r.stderr


def test_usage_errors_exit_2(cli, tmp_path):
    r = cli("import", tmp_path / "missing", expect=1)  # bad input, not usage: the README's exit code 1
    assert f"{tmp_path / 'missing'}: no such file or folder" in r.stderr
    r = cli("import", tmp_path, "--speaker-map", "nonsense", expect=2)
    assert "--speaker-map expects LABEL=ID" in r.stderr


def test_reading_commands_need_a_project(cli):
    r = cli("participants", expect=1)
    assert "no project at" in r.stderr


def test_interviews_and_show(cli, tmp_path):
    cli("import", write(tmp_path / "a.md", FM))
    data = json.loads(cli("interviews", "--format", "json").stdout)
    assert data[0]["id"] == "INT-07" and data[0]["participants"] == 2 and data[0]["turns"] == 4
    assert data[0]["words"] == 43
    assert data[0]["attributes"]["case_study"] == "Fair recruitment: Nepal–Jordan"
    out = cli("show", "INT-07").stdout
    assert "[1] Ms Sharma" in out and "Ms Sharma = P017 (woman, Ministry of Labour, Government)" in out
    r = cli("show", "INT-99", expect=1)
    assert "no interview 'INT-99' (for example INT-07)" in r.stderr


def test_db_status_lists_migrations(cli, tmp_path):
    cli("import", write(tmp_path / "a.md", FM))
    data = json.loads(cli("db", "status", "--format", "json").stdout)
    assert data["pending"] == []
    assert [m["name"] for m in data["applied"]][:2] == ["m001_project", "m002_interviews"]
