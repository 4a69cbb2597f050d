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


def test_replace_corrects_a_person_of_that_interview_alone(cli, db_path, tmp_path):
    """A gender recorded wrongly is corrected by re-importing the fixed file; a person also in another interview is
    still one person, whose two records must agree."""
    f = write(tmp_path / "a.md", FM)
    cli("import", f)
    write(f, FM.replace("gender: female", "gender: man"))
    cli("import", f, "--replace")
    assert rows(db_path, "SELECT id, gender FROM participants") == [("P017", "man"), ("P018", "man")]
    write(tmp_path / "b.md", FM.replace("INT-07", "INT-09"))
    r = cli("import", tmp_path / "b.md", expect=1)
    assert "participant P017 has gender 'woman' here but 'man' in a.md" in r.stderr


def test_replace_with_a_corrected_id_leaves_no_second_person_in_the_study(cli, db_path, tmp_path):
    """The old id was left in no interview and still counted: 109 people interviewed for 108."""
    f = write(tmp_path / "a.md", FM)
    cli("import", f)
    write(f, FM.replace("P017", "P917"))
    cli("import", f, "--replace")
    assert rows(db_path, "SELECT id FROM participants ORDER BY id") == [("P018",), ("P917",)]
    assert json.loads(cli("participants", "--format", "json").stdout)["total"] == 2


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
    assert not db_path.exists()  # neither is imported (which one is right is unknown), so no new project either


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


# A label in a participants list that no turn uses made a phantom person (counted, say, as a woman) while the real
# speaker, whose label was mistyped, was counted as "gender not recorded".
SIDECAR_TEXT = "Interviewer: How was the programme?\nAmina: The money came late.\nInterviewer: Thanks.\n"
SIDECAR_YML = """interview: INT-01
interviewers: [Interviewer]
participants:
  - id: P01
    speaker: Aminah
    gender: female
"""


def test_a_sidecar_label_no_turn_uses_is_refused_and_nothing_is_stored(cli, db_path, tmp_path):
    cli("import", write(tmp_path / "ok.md", FM))
    before = dump(db_path)
    f = write(tmp_path / "in" / "int1.txt", SIDECAR_TEXT)
    yml = write(tmp_path / "in" / "int1.yml", SIDECAR_YML)
    r = cli("import", f, expect=1)
    assert (
        f"{yml}:5: speaker label 'Aminah' (participant P01) is not used in int1.txt; the labels used there are "
        "'Interviewer', 'Amina'"
    ) in " ".join(r.stderr.split())
    assert dump(db_path) == before
    write(yml, SIDECAR_YML.replace("Aminah", "Amina"))
    cli("import", f)
    data = json.loads(cli("participants", "--format", "json").stdout)
    assert data == {"total": 3, "by_gender": {"woman": 2, "man": 1}}  # P017, P018 and P01: no phantom, no unknown


def test_a_front_matter_participant_who_never_speaks_is_refused(cli, db_path, tmp_path):
    extra = FM.replace("  - id: P018\n", "  - id: P019\n    speaker: Mr Rai\n    gender: f\n  - id: P018\n")
    f = write(tmp_path / "a.md", extra)
    r = cli("import", f, expect=1)
    assert (
        f"{f}:15: speaker label 'Mr Rai' (participant P019) is not used in the text; the labels used there are "
        "'EV1', 'Ms Sharma', 'P018'"
    ) in " ".join(r.stderr.split())
    assert dump(db_path) == []  # nothing stored (and no project left behind)


def test_a_declared_interviewer_who_never_speaks_is_refused(cli, tmp_path):
    f = write(tmp_path / "in" / "int1.txt", SIDECAR_TEXT.replace("Interviewer:", "Interviewr:"))
    yml = write(tmp_path / "in" / "int1.yml", SIDECAR_YML.replace("Aminah", "Amina"))
    r = cli("import", f, "--interviewer", "Interviewr", expect=1)
    assert f"{yml}:2: speaker label 'Interviewer' (interviewer Interviewer) is not used in int1.txt" in r.stderr


def test_a_declared_participant_reached_through_the_speaker_map_speaks(cli, db_path, tmp_path):
    """The sidecar gives P01's gender by id and --speaker-map ties the label to it: P01 does speak."""
    f = write(tmp_path / "in" / "int1.txt", SIDECAR_TEXT)
    write(tmp_path / "in" / "int1.yml", SIDECAR_YML.replace("    speaker: Aminah\n", ""))
    cli("import", f, "--speaker-map", "Amina=P01")
    assert rows(db_path, "SELECT id, gender FROM participants") == [("P01", "woman")]


def test_a_speaker_map_or_interviewer_label_no_file_uses_is_said(cli, tmp_path):
    """A typo in --speaker-map leaves the real speaker "not recorded": the command says which label matched nothing."""
    f = write(tmp_path / "in" / "int1.txt", SIDECAR_TEXT)
    r = cli("import", f, "--speaker-map", "Mariah=P900", "--speaker-map", "amina=P01", "--interviewer", "Interviewr")
    assert "--speaker-map 'Mariah' matched no speaker in the files imported" in r.stderr
    assert "--interviewer 'Interviewr' matched no speaker" in r.stderr and "'amina'" not in r.stderr


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            "  - id: P017\n    speaker: Ms Sharma\n  - id: P018\n  - id: P017\n    speaker: Sharma\n",
            ":12: participant P017 is listed twice (first on line 9)",
        ),
        ("  - P017\n  - P018\n  - P017\n", ":11: participant P017 is listed twice (first on line 9)"),
        (
            "  - P017\n  - id: P018\n    speaker: P017\n",
            ":11: speaker label 'P017' is used by both P017 and P018 (first on line 9)",
        ),
    ],
    ids=["mappings", "ids", "label"],
)
def test_a_duplicate_in_a_participants_list_names_its_own_line(cli, tmp_path, entries, message):
    head, _, _ = FM.partition("participants:\n")
    f = write(tmp_path / "a.md", head + "participants:\n" + entries + "---\nP017: Hello.\n\nP018: Hi.\n")
    r = cli("import", f, expect=1)
    assert f"{f}{message}" in r.stderr


# A refused import into a project that did not exist must leave the folder as it was: no empty project file.
def docx_garbage(d):
    return [write(d / "a.docx", "PK\x03\x04garbage")], []


REFUSED_IN_A_NEW_PROJECT = {
    "survey-header-only": lambda d: (
        [write(d / "survey.csv", "id,answer\n")],
        ["--id-column", "id", "--question", "answer"],
    ),
    "broken-transcript": lambda d: ([write(d / "broken.md", "---\ninterview: X\n")], []),
    "docx": docx_garbage,
    "phantom": lambda d: ([write(d / "int1.txt", SIDECAR_TEXT), write(d / "int1.yml", SIDECAR_YML)][:1], []),
}


@pytest.mark.parametrize("make", REFUSED_IN_A_NEW_PROJECT.values(), ids=REFUSED_IN_A_NEW_PROJECT)
def test_a_refused_import_into_a_new_project_leaves_no_project_file(tmp_path, make):
    from tests.conftest import Cli

    inputs = tmp_path / "in"
    files, options = make(inputs)
    before = sorted(p.name for p in tmp_path.iterdir())
    Cli(tmp_path / "new.db")("import", *files, *options, expect=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_refused_qdpx_import_into_a_new_project_leaves_no_project_file(tmp_path):
    from tests.conftest import Cli
    from tests.test_refi import qdpx

    bad = qdpx(tmp_path / "in.qdpx", None)
    before = sorted(p.name for p in tmp_path.iterdir())
    r = Cli(tmp_path / "new.db")("import-qdpx", bad, expect=1)
    assert "Error:" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_refused_import_keeps_a_project_that_existed_and_one_it_filled(tmp_path):
    from qualcode.store.db import open_project
    from tests.conftest import Cli

    open_project(tmp_path / "blank.db", create=True).conn.close()  # an existing project, still empty
    broken = write(tmp_path / "in" / "broken.md", "---\ninterview: X\n")
    Cli(tmp_path / "blank.db")("import", broken, expect=1)
    assert (tmp_path / "blank.db").is_file()
    # In a new project, one file imported and one refused: the import was not refused, the project stays.
    ok = write(tmp_path / "in" / "ok.md", FM)
    new = Cli(tmp_path / "new.db")
    new("import", ok, broken, expect=1)
    assert rows(tmp_path / "new.db", "SELECT id FROM interviews") == [("INT-07",)]


# Interviewers' turns are in no figure: a speaker made one by their label alone ("Host", "Q", "I") is said to be.
def test_an_interviewer_guessed_from_the_label_is_said_once_per_label(cli, db_path, tmp_path):
    text = "Host: Welcome.\n\nAmina: Hello.\n\nHost: And then?\n\nAmina: It rained.\n\nQ: Anything else?\n"
    r = cli("import", write(tmp_path / "int1.txt", text))
    stderr = " ".join(r.stderr.split())
    assert (
        "int1.txt: speaker 'Host' taken as an interviewer from the label (their turns are in no figure); "
        "--speaker-map 'Host=ID' makes them a participant"
    ) in stderr
    assert "int1.txt: speaker 'Q' taken as an interviewer from the label" in stderr
    assert stderr.count("taken as an interviewer") == 2  # one per label, not one per turn
    assert rows(db_path, "SELECT interviewer_id FROM interview_interviewers ORDER BY 1") == [("Host",), ("Q",)]
    # What the note advises does what it says.
    f = write(tmp_path / "int2.txt", text.replace("Q:", "Host:"))
    r = cli("import", f, "--speaker-map", "Host=P9")
    assert "taken as an interviewer" not in r.stderr
    assert rows(db_path, "SELECT participant_id FROM speakers WHERE label = 'Host' AND interview_id = 'int2'") == [
        ("P9",)
    ]


def test_a_declared_interviewer_is_no_guess(cli, tmp_path):
    r = cli("import", write(tmp_path / "a.md", FM), "--format", "json")  # EV1 is declared in the front matter
    assert not any("taken as an interviewer" in n for n in json.loads(r.stdout)[0]["notes"])
    f = write(tmp_path / "in" / "int1.txt", SIDECAR_TEXT)
    write(tmp_path / "in" / "int1.yml", SIDECAR_YML.replace("Aminah", "Amina"))  # interviewers: [Interviewer]
    assert "taken as an interviewer" not in cli("import", f).stderr
    g = write(tmp_path / "int2.txt", SIDECAR_TEXT.replace("Interviewer:", "Host:"))
    assert "taken as an interviewer" not in cli("import", g, "--interviewer", "host").stderr


# `qualcode import transcripts/*.md`: the shell names the folder's README.md among the transcripts.
def test_a_readme_named_among_other_files_is_skipped_and_said(cli, db_path, tmp_path):
    a = write(tmp_path / "transcripts" / "a.md", FM)
    readme = write(tmp_path / "transcripts" / "ReadMe.md", "# The study\n\nSixty-four interviews.\n")
    r = cli("import", a, readme)
    stderr = " ".join(r.stderr.split())
    assert f"skipped {readme}: a folder's read-me, not an interview; name it alone to import it" in stderr
    assert "1 imported, 1 skipped" in r.stdout
    assert rows(db_path, "SELECT id FROM interviews") == [("INT-07",)]
    results = json.loads(cli("import", a, readme, "--format", "json").stdout)
    assert [(x["file"], x["status"]) for x in results] == [(str(readme), "skipped"), (str(a), "unchanged")]
    # Named alone, it is what the user asked for.
    [res] = json.loads(cli("import", readme, "--format", "json").stdout)
    assert (res["interview"], res["status"]) == ("ReadMe", "imported")
