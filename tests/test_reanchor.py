"""Re-importing an edited transcript with --replace: codings follow their quoted text, or are kept as orphaned."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from qualcode.ingest import reanchor
from tests.conftest import CORPUS, dump, write
from tests.conftest import query as rows

ORIGINAL = (CORPUS / "INT-01.md").read_text(encoding="utf-8")

CODEBOOK = """\
codebook: Re-anchoring test
codes:
  - name: Relevance
    children:
      - name: Data and statistics
  - name: Efficiency
    children:
      - name: Funding
  - name: Impact
"""

# Turn 9 (Ayesha on statistics) is coded whole, on its first sentence (0-20) and on a sentence that gets reworded
# (326-442); turn 17's Kuwait sentence (374-469) is rewritten beyond recognition; turn 19 is deleted, which merges
# the interviewer's turns 18 and 20; ben's "no code" decision on turn 3 sits before every edit.
CODINGS = """\
interview,turn,code,coder,memo,start,end
INT-01,9,Relevance/Data and statistics,ana,whole turn,,
INT-01,9,Relevance,ana,first sentence,0,20
INT-01,9,Efficiency,ana,reworded,326,442
INT-01,13,Efficiency,ana,unchanged,,
INT-01,17,Impact,ana,kuwait,374,469
INT-01,19,Impact,ana,deleted turn,,
INT-01,20,Efficiency/Funding,ana,merged turn,,
INT-01,23,Relevance,ana,later turn,,
INT-01,3,,ben,,,
"""

# (memo, turn index, start, end) in the original text; codings are numbered 1-9 in this order.
BEFORE = [
    ("whole turn", 9, 1637, 2581),
    ("first sentence", 9, 1637, 1657),
    ("reworded", 9, 1963, 2079),
    ("unchanged", 13, 2701, 3367),
    ("kuwait", 17, 4311, 4406),
    ("deleted turn", 19, 4483, 4796),
    ("merged turn", 20, 4803, 4876),
    ("later turn", 23, 5170, 5401),
    (None, 3, 683, 706),
]

INSERTED = "Ayesha: Sorry, one second, there is a courier at the door.\n\nEV2: No problem, take your time.\n\n"
OLD_SENTENCE = (
    "Their statisticians sat down with national statistics offices and got migration questions into labour force "
    "surveys."
)
NEW_SENTENCE = (
    "Their statisticians sat down with the national statistics offices and added migration questions to the labour "
    "force surveys."
)
KUWAIT = "A man put on a plane from Kuwait with three months' salary owed, did he ever get a dinar of it?"
DELETED = (
    "Ayesha: Not in a systematic way. A coalition of NGOs started logging cases in June and has a few thousand "
    "entries now, but it's whoever reaches them. The Network's own results framework doesn't go anywhere near that "
    "far down. Our indicators are about us: how many countries requested support, how many joint statements...\n\n"
)


def insert_turns(text: str) -> str:
    anchor = "what do you see of the ILO?\n\n"
    return text.replace(anchor, anchor + INSERTED, 1)


def reword(text: str) -> str:
    return text.replace(OLD_SENTENCE, NEW_SENTENCE)


def garble(text: str) -> str:
    return text.replace(KUWAIT, "Nobody has told me anything more since then.")


def delete_turn(text: str) -> str:
    # Turn 19 goes; the interviewer's turns 18 and 20 around it become one turn (the parser merges a speaker's
    # consecutive turns), so the second "EV2: " label goes too.
    return text.replace(DELETED, "").replace("follow that up?\n\nEV2: Sorry", "follow that up?\n\nSorry")


def codings(db_path):
    """(id, turn index or None, start, end, status) for every coding, and a check that quotes match the text."""
    out = rows(
        db_path,
        """SELECT c.id, t.idx, c.start, c.end, c.status,
                                  c.status = 'orphaned' OR c.quote = substr(i.text, c.start + 1, c.end - c.start)
                           FROM codings c JOIN interviews i ON i.id = c.interview_id
                           LEFT JOIN turns t ON t.id = c.turn_id ORDER BY c.id""",
    )
    assert all(ok for *_, ok in out), "a live coding's quote must be the text it covers"
    return [r[:5] for r in out]


def coded(cli, tmp_path, rows: str) -> Path:
    """INT-01 as first imported, the codebook, and ROWS (a codings CSV): the transcript's file, to edit."""
    f = write(tmp_path / "edited" / "INT-01.md", ORIGINAL)
    cli("import", f)
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    cli("codings", "import", write(tmp_path / "codings.csv", rows))
    return f


@pytest.fixture
def project(cli, tmp_path, db_path):
    f = coded(cli, tmp_path, CODINGS)
    assert codings(db_path) == [(i, idx, a, b, "ok") for i, (_, idx, a, b) in enumerate(BEFORE, 1)]
    return f


def replace(cli, f, *edits, expect=0):
    text = ORIGINAL
    for edit in edits:
        text = edit(text)
    write(f, text)
    r = cli("import", f, "--replace", "--format", "json", expect=expect)
    return r, (json.loads(r.stdout)[0] if r.stdout.strip() else None)


def test_inserted_turns_shift_every_coding_exactly(cli, project, db_path):
    r, res = replace(cli, project, insert_turns)
    assert res["status"] == "replaced"
    assert res["reanchor"] == {
        "codings": 9,
        "exact": 9,
        "fuzzy": 0,
        "orphaned": 0,
        "suggestions_dropped": 0,
        "details": [],
    }
    assert r.stderr.strip() == "INT-01: 9 codings re-anchored (9 exact, 0 fuzzy), 0 orphaned"
    n = len(INSERTED)  # 94; two turns, so every later turn index grows by 2
    expected = [
        (i, idx + 2, a + n, b + n, "ok") if idx > 4 else (i, idx, a, b, "ok")
        for i, (_, idx, a, b) in enumerate(BEFORE, 1)
    ]
    assert codings(db_path) == expected
    assert expected[0] == (1, 11, 1731, 2675, "ok")
    turn_ids = rows(db_path, "SELECT id FROM turns WHERE interview_id = 'INT-01'")
    assert rows(db_path, "SELECT count(*) FROM codings WHERE turn_id NOT IN (SELECT id FROM turns)") == [(0,)]
    assert len(turn_ids) == 30


def test_reworded_sentence_inside_a_coded_turn(cli, project, db_path):
    _, res = replace(cli, project, reword)
    grow = len(NEW_SENTENCE) - len(OLD_SENTENCE)  # 8
    assert res["message"] == "INT-01: 9 codings re-anchored (7 exact, 2 fuzzy), 0 orphaned"
    assert res["reanchor"]["details"] == [
        {"coding": 1, "outcome": "fuzzy", "similarity": 0.991, "turn": 9},
        {"coding": 3, "outcome": "fuzzy", "similarity": 0.925, "turn": 9},
    ]
    assert codings(db_path) == [
        (1, 9, 1637, 2581 + grow, "ok"),  # the whole turn still, now 8 characters longer
        (2, 9, 1637, 1657, "ok"),  # "The statistics work." is unchanged: exact
        (3, 9, 1963, 1963 + len(NEW_SENTENCE), "ok"),  # exactly the reworded sentence
        (4, 13, 2701 + grow, 3367 + grow, "ok"),
        (5, 17, 4311 + grow, 4406 + grow, "ok"),
        (6, 19, 4483 + grow, 4796 + grow, "ok"),
        (7, 20, 4803 + grow, 4876 + grow, "ok"),
        (8, 23, 5170 + grow, 5401 + grow, "ok"),
        (9, 3, 683, 706, "ok"),
    ]
    assert rows(db_path, "SELECT quote FROM codings WHERE id = 3") == [(NEW_SENTENCE,)]


def test_passage_changed_beyond_recognition_is_kept_as_orphaned(cli, project, db_path):
    write(project, garble(ORIGINAL))
    r = cli("--quiet", "import", project, "--replace", "--format", "json")
    res = json.loads(r.stdout)[0]
    assert res["message"] == (
        "INT-01: 8 codings re-anchored (8 exact, 0 fuzzy), 1 orphaned (see 'qualcode codings orphans')"
    )
    # A warning, which --quiet does not silence: orphaned codings need someone to look at them.
    assert r.stderr.replace("\n", " ").startswith("warning: INT-01: 8 codings re-anchored")
    shrink = len(KUWAIT) - len("Nobody has told me anything more since then.")  # 51
    got = codings(db_path)
    assert got[4] == (5, None, 4311, 4406, "orphaned")  # turn gone, last offsets and quote kept
    assert got[5:8] == [
        (6, 19, 4483 - shrink, 4796 - shrink, "ok"),
        (7, 20, 4803 - shrink, 4876 - shrink, "ok"),
        (8, 23, 5170 - shrink, 5401 - shrink, "ok"),
    ]
    orphans = json.loads(cli("codings", "orphans", "--format", "json").stdout)
    assert orphans == [
        {
            "coding": 5,
            "interview": "INT-01",
            "coder": "ana",
            "code": "Impact",
            "quote": KUWAIT,
            "memo": "kuwait",
            "origin": "imported",
            "old_start": 4311,
            "old_end": 4406,
            "created_at": orphans[0]["created_at"],
        }
    ]
    seg = cli("segments", "--code", "Impact", "--format", "json")
    assert json.loads(seg.stdout)["orphaned"] == 1 and json.loads(seg.stdout)["segments"][0]["turn"] == 19
    assert "1 orphaned codings of these codes are not shown: see 'qualcode codings orphans'" in seg.stderr
    # Every figure that leaves it out says so: in the file and on stderr.
    left_out = "1 orphaned coding is left out"
    m = cli("export", "matrix", "--by", "gender", "--level", "criterion", "--coder", "ana", "--format", "json")
    assert left_out in json.loads(m.stdout)["note"] and left_out in m.stderr
    assert "INCOMPLETE CODING: ana has not decided" in json.loads(m.stdout)["note"]  # ana coded 9 of its turns
    assert left_out in cli("export", "summary", "--coder", "ana", "--format", "json").stderr
    html = cli("report", "--coder", "ana").stdout.split("</header>")[0]
    assert left_out in html and "INCOMPLETE CODING" in html
    assert "(1 orphaned)" in " ".join(cli("codebook", "show", "--coder", "ana").stdout.split())
    audit = cli("audit", "--coders", "ana,ben", "--format", "json")
    assert json.loads(audit.stdout)["left_out"].startswith("Left out of every figure: 1 orphaned coding")


def test_deleted_turn_orphans_its_codings_and_merged_turns_keep_theirs(cli, project, db_path):
    _, res = replace(cli, project, delete_turn)
    assert res["message"] == (
        "INT-01: 8 codings re-anchored (7 exact, 1 fuzzy), 1 orphaned (see 'qualcode codings orphans')"
    )
    gone = len(DELETED) + len("EV2: ")  # 328
    got = codings(db_path)
    assert got[5] == (6, None, 4483, 4796, "orphaned")
    # Old turn 20 ("Sorry, you froze. ...", 73 characters) is now the end of turn 18, which also holds "Is anybody
    # following that up?": a whole-turn coding covers the whole merged turn, 2·73 / (73 + 104) = 0.825 similar.
    merged = (
        "Is anybody following that up?\n\nSorry, you froze. You said how many joint statements and then I lost you."
    )
    assert got[6] == (7, 18, 4444, 4444 + len(merged), "ok")
    assert rows(db_path, "SELECT quote FROM codings WHERE id = 7") == [(merged,)]
    assert res["reanchor"]["details"][0] == {"coding": 7, "outcome": "fuzzy", "similarity": 0.825, "turn": 18}
    assert got[7] == (8, 21, 5170 - gone, 5401 - gone, "ok")
    assert got[:5] + got[8:] == [
        (i, idx, a, b, "ok") for i, (_, idx, a, b) in enumerate(BEFORE, 1) if i in (1, 2, 3, 4, 5, 9)
    ]


def test_all_edits_at_once(cli, project, db_path):
    r, res = replace(cli, project, insert_turns, reword, garble, delete_turn)
    assert res["message"] == (
        "INT-01: 7 codings re-anchored (4 exact, 3 fuzzy), 2 orphaned (see 'qualcode codings orphans')"
    )
    assert codings(db_path) == [
        (1, 11, 1731, 2683, "ok"),  # fuzzy: whole turn, reworded
        (2, 11, 1731, 1751, "ok"),  # exact: +94 for the inserted turns
        (3, 11, 2057, 2181, "ok"),  # fuzzy: the reworded sentence
        (4, 15, 2803, 3469, "ok"),  # exact: +94 +8
        (5, None, 4311, 4406, "orphaned"),
        (6, None, 4483, 4796, "orphaned"),
        (7, 20, 4495, 4599, "ok"),  # fuzzy: the merged turn
        (8, 23, 4893, 5124, "ok"),  # exact: +94 +8 -51 -328
        (9, 3, 683, 706, "ok"),
    ]
    assert [x["coding"] for x in json.loads(cli("codings", "orphans", "--format", "json").stdout)] == [5, 6]


def test_replace_is_one_transaction(cli, project, db_path):
    # P001 is in another interview too; the new version gives them another gender: the participant check fails after
    # the codings were set aside.
    other = write(project.parent.parent / "other" / "INT-99.md", ORIGINAL.replace("INT-01", "INT-99"))
    cli("import", other)
    before = dump(db_path)
    r, _ = replace(cli, project, insert_turns, lambda t: t.replace("gender: woman", "gender: man", 1), expect=1)
    assert "participant P001 has gender 'man' here but 'woman' in" in r.stderr
    assert dump(db_path) == before


def test_suggestions_are_dropped_and_reported(cli, project, db_path):
    conn = sqlite3.connect(db_path)
    with conn:
        tid = conn.execute("SELECT id FROM turns WHERE idx = 9").fetchone()[0]
        conn.execute(
            """INSERT INTO suggestions (interview_id, turn_id, code_id, unit, start, end, score, source, evidence,
               pattern_hash, created_at)
               VALUES ('INT-01', ?, 1, 'turn', 1637, 2581, 0.9, 'pattern', '[]', 'h', 'now')""",
            [tid],
        )
        conn.execute("INSERT INTO scored_turns (turn_id, codebook_hash, scored_at) VALUES (?, 'h', 'now')", [tid])
    conn.close()
    r, res = replace(cli, project, insert_turns)
    assert r.stderr.strip() == (
        "INT-01: 9 codings re-anchored (9 exact, 0 fuzzy), 0 orphaned; 1 suggestion dropped (score the interview again)"
    )
    assert rows(db_path, "SELECT count(*) FROM suggestions") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM scored_turns") == [(0,)]


def test_retired_codings_follow_the_text_and_undo_still_works(cli, project, db_path):
    cli("unapply", "INT-01", "23", "Relevance", "--coder", "ana")
    [(unapply_batch,)] = rows(db_path, "SELECT max(id) FROM batches WHERE kind = 'unapply'")
    replace(cli, project, insert_turns)
    cli("undo", "--coder", "ana", "--batch", unapply_batch)
    assert rows(
        db_path,
        "SELECT t.idx, c.start, c.end, c.deleted_at FROM codings c JOIN turns t ON t.id = c.turn_id WHERE c.id = 8",
    ) == [(25, 5170 + 94, 5401 + 94, None)]
    [(import_batch,)] = rows(db_path, "SELECT batch_id FROM codings WHERE id = 1")
    cli("undo", "--coder", "ana", "--batch", import_batch)
    assert rows(db_path, "SELECT count(*) FROM codings WHERE coder = 'ana' AND deleted_at IS NULL") == [(0,)]


def test_orphans_come_back_when_their_text_does(cli, project, db_path):
    replace(cli, project, garble)
    r, res = replace(cli, project)  # the original text again
    assert res["message"] == "INT-01: 9 codings re-anchored (9 exact, 0 fuzzy), 0 orphaned"
    assert codings(db_path) == [(i, idx, a, b, "ok") for i, (_, idx, a, b) in enumerate(BEFORE, 1)]
    assert cli("codings", "orphans", "--format", "json").stdout.strip() == "[]"


def test_replace_without_codings_says_nothing_more(cli, tmp_path, db_path):
    f = write(tmp_path / "INT-01.md", ORIGINAL)
    cli("import", f)
    write(f, insert_turns(ORIGINAL))
    r = cli("import", f, "--replace", "--format", "json")
    res = json.loads(r.stdout)[0]
    assert (res["status"], res["message"], r.stderr) == ("replaced", "", "")
    assert rows(db_path, "SELECT count(*) FROM turns") == [(30,)]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("so they said the money came late: we were three people.", "the money came late: we were three people"),
        ("The money arrived late, we were three people!", "The money arrived late, we were three people"),
    ],
)
def test_best_span_finds_the_closest_wording(region, expected):
    ratio, a, b = reanchor._best_span("the money came late: we were three people", region)
    assert region[a:b] == expected and ratio >= reanchor.MIN_SIMILARITY


def test_similarity_threshold():
    quote = "the money came late: we were three people"
    assert reanchor.similarity(quote, "the funds came in two tranches, far too late") < reanchor.MIN_SIMILARITY
    assert reanchor.similarity(quote, "the money came late, we were three people") >= reanchor.MIN_SIMILARITY


def test_replace_when_the_only_codings_are_retired(cli, tmp_path, db_path):
    # Retired codings still reference their turn; replacing used to fail on that foreign key.
    f = write(tmp_path / "INT-01.md", ORIGINAL)
    cli("import", f)
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    cli("apply", "INT-01", "9", "Impact", "--coder", "ana")
    cli("unapply", "INT-01", "9", "Impact", "--coder", "ana")
    write(f, insert_turns(ORIGINAL))
    r = cli("import", f, "--replace", "--format", "json")
    assert (json.loads(r.stdout)[0]["status"], json.loads(r.stdout)[0]["message"]) == ("replaced", "")
    assert rows(
        db_path, "SELECT t.idx, c.start, c.deleted_at IS NOT NULL FROM codings c JOIN turns t ON t.id = c.turn_id"
    ) == [(11, 1637 + len(INSERTED), 1)]


# ana and ben agree on turns 9 (whole) and 23 (its first 20 characters): carried over; they differ on turn 13, which
# the review settles on ana's version. A one-word edit of turn 19, coded by no one, moves turn 23 by two characters.
AGREEING = """\
interview,turn,code,coder,memo,start,end
INT-01,9,Relevance,ana,,,
INT-01,9,Relevance,ben,,,
INT-01,13,Efficiency,ana,,,
INT-01,13,Impact,ben,,,
INT-01,23,Relevance/Data and statistics,ana,,0,20
INT-01,23,Relevance/Data and statistics,ben,,0,20
"""


def edit_turn_19(text: str) -> str:
    return text.replace("Not in a systematic way.", "Not in any systematic way.", 1)


def edit_turn_13(text: str) -> str:
    return text.replace("The products. Guides,", "The outputs. Guides,", 1)


@pytest.fixture
def settled(cli, tmp_path, db_path):
    """A complete consensus of ana and ben; ana then applies a code on settled turns and undoes it (no change)."""
    f = coded(cli, tmp_path, AGREEING)
    cli("review", "--coders", "ana,ben", input="1\nq\n")
    for turn in ("9", "13"):
        cli("apply", "INT-01", turn, "Impact", "--coder", "ana")
        cli("undo", "--coder", "ana")
    assert consensus_of(cli)["complete"]
    return f


def consensus_of(cli) -> dict:
    return json.loads(cli("export", "summary", "--allow-incomplete", "--format", "json").stdout)["consensus"]


def bases(db_path):
    """(turn index, coder, start, end) of every basis row, each checked against that coder's live codings there."""
    out = rows(
        db_path,
        """SELECT t.idx, s.coder, s.start, s.end, EXISTS (SELECT 1 FROM live_codings l WHERE l.turn_id = s.turn_id
                  AND l.coder = s.coder AND l.code_id IS s.code_id AND l.start = s.start AND l.end = s.end)
           FROM consensus_basis s JOIN turns t ON t.id = s.turn_id ORDER BY t.idx, s.coder""",
    )
    assert all(ok for *_, ok in out), "a basis row of an unchanged turn must be the coding it was settled on"
    return [r[:4] for r in out]


def test_replacing_another_turn_keeps_what_the_consensus_was_settled_on(cli, settled, db_path):
    """Editing turn 19 changes nothing any coder decided: the consensus stays complete (it read "INCOMPLETE: 1 turn
    changed by ana or ben since it was settled", the undone change on turn 13 judged by times)."""
    before = bases(db_path)
    _, res = replace(cli, settled, edit_turn_19)
    assert res["reanchor"]["exact"] == 9 and res["reanchor"]["fuzzy"] == 0
    status = consensus_of(cli)
    assert status["complete"] and status["changed_since"] == 0, status
    assert bases(db_path) == [(i, who, a + 2 * (i > 19), b + 2 * (i > 19)) for i, who, a, b in before]
    assert [r[0] for r in before] == [9, 9, 13, 13, 23, 23]
    r = cli("review", "--coders", "ana,ben", input="q\n")
    assert "reopened" not in r.stderr and "(complete)" in r.stderr
    cli("check")


def test_replacing_a_settled_turns_own_text_judges_that_turn_by_times(cli, settled, db_path):
    """Turn 13's text changed: what it was settled on is dropped, and the undone change on it counts again (in doubt,
    INCOMPLETE); turns 9 and 23 keep theirs, so the undone change on turn 9 still counts for nothing."""
    replace(cli, settled, edit_turn_13, edit_turn_19)
    status = consensus_of(cli)
    assert not status["complete"] and status["changed_since"] == 1, status
    assert [r[0] for r in bases(db_path)] == [9, 9, 23, 23]
    cli("check")
    r = cli("review", "--coders", "ana,ben", input="1\nq\n")  # settled again, with a basis
    assert "reopened 1 turns" in r.stderr and "(complete)" in r.stderr
    assert [r[0] for r in bases(db_path)] == [9, 9, 13, 13, 23, 23]
