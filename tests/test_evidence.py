"""Figures an evaluator can publish: a complete consensus, exclusive scales kept, codings that stay with their speaker.

Each test reproduces a case where qualcode gave a wrong figure or quote without a warning.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from qualcode.agreement import consensus, disagreements
from qualcode.agreement.review import ReviewSession
from qualcode.codebook.tree import CodeTree
from qualcode.store.db import open_project
from tests import shipped
from tests.conftest import CORPUS, Cli, dump, query, write
from tests.session_helpers import code_id, participant_turns, suggest
from tests.session_helpers import project as small_project

# --- 1. consensus is a complete coding --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> Cli:
    return shipped.build(tmp_path_factory, "consensus")


def _review_everything(path, policy: str) -> None:
    """Settle every disagreement as a reviewer pressing POLICY would ('b', else '1' where both cannot be kept)."""
    db = open_project(path)
    consensus.prepare(db, "consensus", "coder-a", "coder-b")
    found = disagreements.compare(db, "coder-a", "coder-b")
    sess = ReviewSession(db, "consensus", "coder-a", "coder-b", [d.turn_id for d in found])
    while sess.turn_id is not None:
        reply = sess.handle(policy)
        if reply.message and "cannot be kept" in reply.message:
            sess.handle("1")
    db.conn.close()


def _expected_consensus(policy: str) -> list[dict]:
    """The consensus the review above makes, recomputed from the coding files alone (tests/shipped.py)."""
    a, b = shipped.decisions("coder-a"), shipped.decisions("coder-b")
    scales = shipped.exclusive_scales()
    out = []
    for key in sorted(a.keys() & b.keys()):
        codes_a, codes_b = a[key], b[key]
        if codes_a == codes_b or policy == "1":
            chosen = codes_a
        else:
            both = codes_a | codes_b
            clash = any(len(both & options) > 1 for options in scales)
            chosen = codes_a if clash else both
        out += shipped.segments_of(key, chosen)
    return out


def test_a_reviewed_consensus_counts_every_turn_both_coders_decided(coded):
    _review_everything(coded.db_path, "b")
    expected = _expected_consensus("b")
    summary = json.loads(coded("export", "summary", "--coder", "consensus", "--format", "json").stdout)
    totals = summary["totals"]
    assert totals["segments"] == len(expected)
    assert totals["participants"] == len({s["participant"] for s in expected})
    assert totals["interviews"] == len({s["interview"] for s in expected}) == 16
    assert summary["consensus"]["complete"] and summary["consensus"]["both"] == 386
    assert "(complete)" in summary["method"][0]
    agreed = query(coded.db_path, "SELECT count(DISTINCT turn_id) FROM live_codings WHERE origin = 'agreed'")
    assert agreed == [(386 - summary["consensus"]["open_disagreements"] - _reviewed(coded.db_path),)]


def _reviewed(path) -> int:
    return query(
        path, "SELECT count(DISTINCT turn_id) FROM live_codings WHERE coder = 'consensus' AND origin = 'review'"
    )[0][0]


def test_an_unfinished_review_is_refused_or_marked_never_silent(cli, tmp_path):
    cli("import", CORPUS)
    cli("codebook", "load", shipped.CODEBOOK)
    for c in ("coder-a", "coder-b"):
        cli("codings", "import", shipped.CODINGS / f"{c}.csv")
    r = cli("review", "--coders", "coder-a,coder-b", input="1\n1\n1\n1\nq\n")
    assert "INCOMPLETE" in r.stderr and "disagreements not yet reviewed" in r.stderr
    refused = cli("export", "summary", expect=1)  # consensus is the default coder once it exists
    assert "INCOMPLETE" in refused.stderr and "--allow-incomplete" in refused.stderr
    cli("report", "-o", "r.html", expect=1)
    md = cli("export", "summary", "--allow-incomplete")
    assert "INCOMPLETE" in md.stdout.split("## How to read this annex")[1][:600]
    assert "INCOMPLETE" in md.stderr
    data = json.loads(cli("export", "summary", "--allow-incomplete", "--format", "json").stdout)
    assert data["consensus"]["complete"] is False and data["consensus"]["open_disagreements"] > 0
    # The agreed turns were carried over, so the incomplete consensus already covers far more than 4 turns.
    assert data["totals"]["interviews"] == 16
    html = cli("report", "--allow-incomplete").stdout
    assert 'class="warning"' in html and "INCOMPLETE" in html.split("</header>")[0]
    matrix = json.loads(cli("export", "matrix", "--by", "gender", "--allow-incomplete", "--format", "json").stdout)
    assert "INCOMPLETE" in matrix["note"]
    # What is read off the terminal says it too.
    for command in (["segments", "--code", "Relevance"], ["cooccurrence", "--level", "criterion"]):
        assert "INCOMPLETE" in cli(*command, "--coder", "consensus").stderr, command


# --- 2. exclusive scales ---------------------------------------------------------------------------------------


@pytest.fixture
def scale(cli, tmp_path, db_path):
    small_project(cli, tmp_path)
    return participant_turns(db_path)


def test_the_session_prechecks_only_the_best_option_of_a_scale(scale, db_path):
    from qualcode.coding.session import CodingSession

    suggest(db_path, scale[0], "High", 0.62)
    suggest(db_path, scale[0], "Low", 0.90)
    db = open_project(db_path)
    sess = CodingSession(db, "ana", [scale[0]["id"]])
    assert sess.checked == {code_id(db_path, "Low")}


def test_the_session_prechecks_only_what_is_likely_right_and_counts_it(scale, db_path):
    from qualcode.coding.session import CodingSession

    suggest(db_path, scale[0], "Needs", 0.95, probability=None)  # pattern evidence alone: no measured probability
    suggest(db_path, scale[0], "Staffing", 0.7, probability=0.79)
    suggest(db_path, scale[0], "Sustainability", 0.6, probability=0.8)
    suggest(db_path, scale[0], "High", 0.9, probability=0.85)
    suggest(db_path, scale[0], "Low", 0.8, probability=0.95)  # the best option of the scale by score is High
    db = open_project(db_path)
    sess = CodingSession(db, "ana", [scale[0]["id"]])
    assert {i.code.name for i in sess.items} == {"Needs", "Staffing", "Sustainability", "High", "Low"}
    assert sess.checked == {code_id(db_path, "Sustainability"), code_id(db_path, "High")}
    assert sess.precheck_note == "pre-checked 2 of 5 suggestions"


def test_accept_suggestions_keeps_the_best_option_only(cli, scale, db_path):
    suggest(db_path, scale[0], "High", 0.62)
    suggest(db_path, scale[0], "Low", 0.90)
    r = json.loads(cli("accept-suggestions", "--coder", "ana", "--min-score", "0.5", "--format", "json").stdout)
    assert r["lesser_options_left_out"] == 1
    assert query(db_path, "SELECT k.name FROM live_codings c JOIN codes k ON k.id = c.code_id") == [("Low",)]


def test_apply_refuses_a_second_option_of_a_scale(cli, scale, db_path):
    iid, idx = scale[0]["interview"], str(scale[0]["idx"])
    cli("apply", iid, idx, "Rating/High", "--coder", "ana")
    r = cli("apply", iid, idx, "Rating/Low", "--coder", "ana", expect=1)
    assert f"Rating is exclusive: {iid} turn {idx} already has Rating/High by ana" in r.stderr
    assert query(db_path, "SELECT count(*) FROM live_codings") == [(1,)]
    r = cli("apply", iid, idx, "Rating/High", "Rating/Low", "--coder", "bo", expect=1)
    assert query(db_path, "SELECT count(*) FROM live_codings WHERE coder = 'bo'") == [(0,)]


def test_codings_import_names_the_row_that_breaks_a_scale(cli, scale, tmp_path, db_path):
    t = scale[0]
    path = write(
        tmp_path / "c.csv",
        f"interview,turn,code,coder,memo\n{t['interview']},{t['idx']},Rating/High,ana,\n"
        f"{t['interview']},{t['idx']},Rating/Low,ana,\n",
    )
    r = cli("codings", "import", path, expect=1)
    assert f"c.csv:3: Rating is exclusive: {t['interview']} turn {t['idx']} already has Rating/High" in r.stderr
    assert query(db_path, "SELECT count(*) FROM codings") == [(0,)]


def test_merge_reports_a_decision_that_breaks_a_scale_and_takes_none_of_it(cli, scale, tmp_path, db_path):
    """Two different options here and there are a conflict of decisions (reported); a decision that itself holds
    two options (a project from before the rule) is reported too, and none of it is taken."""
    iid, idx = scale[0]["interview"], str(scale[0]["idx"])
    other = Cli(tmp_path / "other.db")
    small_project(other, tmp_path)
    other("apply", iid, idx, "Rating/High", "--coder", "ana")
    _legacy_second_option(tmp_path / "other.db", "Low")
    r = json.loads(cli("merge", tmp_path / "other.db", "--format", "json").stdout)
    clash = [c for c in r["conflicts"] if c["kind"] == "exclusive"]
    assert len(clash) == 1 and "one scale, one option" in clash[0]["there"]
    assert r["codings"]["conflicting"] == 2
    assert query(db_path, "SELECT count(*) FROM codings") == [(0,)]


def test_import_qdpx_lists_a_coding_that_breaks_a_scale(cli, scale, tmp_path, db_path):
    t = scale[0]
    cli("apply", t["interview"], str(t["idx"]), "Rating/High", "--coder", "ana")
    _legacy_second_option(db_path, "Low")
    cli("export", "qdpx", tmp_path / "two.qdpx")
    fresh = Cli(tmp_path / "fresh.db")
    # REFI-QDA cannot say a parent is exclusive: the receiving project knows it from its own codebook.
    fresh("codebook", "load", tmp_path / "codebook.yml")
    r = fresh("import-qdpx", tmp_path / "two.qdpx")
    assert "1 coding(s) not imported" in r.stderr and "Rating is exclusive" in r.stderr
    assert query(tmp_path / "fresh.db", "SELECT count(*) FROM live_codings WHERE code_id IS NOT NULL") == [(1,)]


def test_moving_a_code_under_a_scale_is_refused_when_it_would_break_it(cli, scale, db_path):
    iid, idx = scale[0]["interview"], str(scale[0]["idx"])
    cli("apply", iid, idx, "Rating/High", "Sustainability", "--coder", "ana")
    r = cli("code", "move", "Sustainability", "--parent", "Rating", expect=1)
    assert "would break an exclusive scale" in r.stderr and "Rating/Sustainability" in r.stderr
    assert query(db_path, "SELECT parent_id FROM codes WHERE name = 'Sustainability'") == [(None,)]


def test_merging_a_code_into_an_option_of_a_scale_is_refused_when_it_would_break_it(cli, scale, db_path):
    iid, idx = scale[0]["interview"], str(scale[0]["idx"])
    cli("apply", iid, idx, "Rating/High", "Sustainability", "--coder", "ana")
    before = dump(db_path)
    r = cli("code", "merge", "Sustainability", "Rating/Low", expect=1)
    assert "would break an exclusive scale" in r.stderr
    assert dump(db_path) == before


def test_check_lists_stored_clashes(cli, scale, db_path):
    t = scale[0]
    cli("apply", t["interview"], str(t["idx"]), "Rating/High", "--coder", "ana")
    assert "all checks passed" in cli("check").stdout
    _legacy_second_option(db_path, "Low")
    r = cli("check", "--format", "json", expect=1)
    found = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
    assert found["exclusive scales"]["problems"] == 1


def _legacy_second_option(db_path, name: str) -> None:
    """A second option beside the first, as a project from before the rule may hold it."""
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            """INSERT INTO codings (interview_id, turn_id, code_id, coder, start, end, quote, origin, created_at, guid)
               SELECT interview_id, turn_id, (SELECT id FROM codes WHERE name = ?), coder, start, end, quote,
                      'manual', created_at, ? FROM codings LIMIT 1""",
            [name, str(uuid.uuid4()).upper()],
        )


def test_one_per_scale_keeps_the_best_option_and_every_other_code():
    rows = [
        {"id": 1, "key": "r", "name": "Rating", "parent_id": None, "exclusive": 1, "guid": "g1"},
        {"id": 2, "key": "r.h", "name": "High", "parent_id": 1, "guid": "g2", "position": 1},
        {"id": 3, "key": "r.l", "name": "Low", "parent_id": 1, "guid": "g3", "position": 2},
        {"id": 4, "key": "s", "name": "Other", "parent_id": None, "guid": "g4"},
    ]
    tree = CodeTree.from_rows(rows)
    assert tree.one_per_scale({2: 0.6, 3: 0.9, 4: 0.1}) == {3: 0.9, 4: 0.1}
    assert tree.one_per_scale({2: 0.7, 3: 0.7}) == {2: 0.7}  # a tie goes to the first in tree order
    assert [(p.name, [o.name for o in opts]) for p, opts in tree.exclusive_conflicts([2, 3, 4])] == [
        ("Rating", ["High", "Low"])
    ]


# --- 3. re-anchoring never changes who said it ---------------------------------------------------------------

TWO_SPEAKERS = """---
interview: T-1
interviewers: [EV1]
participants:
- {{id: P800, speaker: Ana, gender: woman}}
- {{id: P801, speaker: Bo, gender: man}}
---

EV1: How was the funding?

Ana: {ana}

EV1: And you?

Bo: I agree. The money came late, every single year.
"""


def test_a_coding_is_orphaned_rather_than_moved_to_another_speaker(cli, tmp_path, db_path):
    path = write(tmp_path / "T-1.md", TWO_SPEAKERS.format(ana="The money came late, every single year."))
    cli("import", path)
    cli("codebook", "load", write(tmp_path / "cb.yml", "codebook: t\ncodes:\n  - name: Efficiency\n"))
    cli("apply", "T-1", "1", "Efficiency", "--coder", "ana")
    assert query(db_path, "SELECT said_by FROM codings") == [("P800",)]
    write(path, TWO_SPEAKERS.format(ana="We had no problem with the funding."))
    r = cli("import", "--replace", path)
    assert "0 codings re-anchored (0 exact, 0 fuzzy), 1 orphaned" in r.stderr.replace("\n", " ")
    assert query(db_path, "SELECT turn_id, status, said_by FROM codings") == [(None, "orphaned", "P800")]
    matrix = json.loads(cli("export", "matrix", "--by", "gender", "--format", "json").stdout)
    assert matrix["totals"]["total"] == 0
    # Ana says it again: the orphan comes back to her, never to Bo.
    write(path, TWO_SPEAKERS.format(ana="Well. The money came late, every single year."))
    cli("import", "--replace", path)
    assert query(
        db_path,
        "SELECT s.participant_id FROM codings c JOIN turns t ON t.id = c.turn_id "
        "JOIN speakers s ON s.id = t.speaker_id",
    ) == [("P800",)]


# --- 4. a REFI-QDA source keeps all its text, and its codings their units -----------------------------------------


def _comment_list() -> tuple[str, list[tuple[int, int]]]:
    """A source like a real NVivo export of public comments: hundreds of lines, a few opening with 'Word:'."""
    lines = [f"I waited {i} hours at the clinic and nobody told us anything about the second dose." for i in range(300)]
    lines[200] = "Dr. Fauci: says the opposite of what our minister said last week."
    lines[240] = "Magyarul: kérem, írjanak magyarul is."
    lines[260] = "2025.02.11. Botka István: a fake account, report it."
    text = "\n".join(lines) + "\n"
    spans = []
    for i in (3, 50, 120, 199, 201, 250):
        a = text.index(lines[i])
        spans.append((a + 2, a + 30))
    a = text.index(lines[10])  # a selection across two lines (paragraphs), as a coder drags over a thread
    spans.append((a + 5, text.index(lines[11]) + 12))
    return text, spans


def test_a_refi_source_keeps_every_character_and_every_coding_in_its_unit(cli, tmp_path, db_path):
    from tests.test_refi import CODE_GUID, SOURCE_GUID, USER_GUID, qde, qdpx

    text, spans = _comment_list()
    selections = "".join(
        f'<PlainTextSelection guid="{uuid.UUID(int=n + 1)}" startPosition="{a}" endPosition="{b}" '
        f'creatingUser="{USER_GUID}"><Coding guid="{uuid.UUID(int=1000 + n)}" creatingUser="{USER_GUID}">'
        f'<CodeRef targetGUID="{CODE_GUID}"/></Coding></PlainTextSelection>'
        for n, (a, b) in enumerate(spans)
    )
    src = (
        f'<TextSource guid="{SOURCE_GUID}" name="comments" plainTextPath="internal://{SOURCE_GUID.lower()}.txt">'
        f"{selections}</TextSource>"
    )
    f = qdpx(tmp_path / "nvivo.qdpx", qde(src, origin="NVivo 12"), {f"Sources/{SOURCE_GUID}.txt": text.encode()})
    r = cli("import-qdpx", f)
    assert "1 source(s) imported as documents" in r.stderr.replace("\n", " ")
    assert f"{len(spans)} codings" in r.stdout
    # No invented participants: the comments' "Word:" openings are not speakers, and the text is no person's.
    assert query(db_path, "SELECT count(*) FROM participants WHERE kind = 'interviewee'") == [(0,)]
    assert query(db_path, "SELECT kind FROM interviews") == [("document",)]
    coded = query(
        db_path,
        """SELECT c.start, c.end, c.quote, t.start, t.end, i.text FROM codings c JOIN turns t ON t.id = c.turn_id
           JOIN interviews i ON i.id = c.interview_id ORDER BY c.start""",
    )
    assert [(a, b) for a, b, *_ in coded] == sorted(spans)
    for a, b, quote, ta, tb, stored in coded:
        assert ta <= a <= b <= tb and stored[a:b] == quote
    assert "all checks passed" in cli("check").stdout
    # Asked for, labels are read as speakers only when most of the text opens with them: here they do not.
    fresh = Cli(tmp_path / "fresh.db")
    r = fresh("import-qdpx", f, "--speakers")
    assert query(tmp_path / "fresh.db", "SELECT count(*) FROM participants WHERE kind = 'interviewee'") == [(0,)]
    assert "no speaker labels were used" in r.stderr


def test_a_file_that_fails_fails_alone(cli, tmp_path, db_path):
    folder = tmp_path / "in"
    good = "---\ninterview: {id}\nparticipants: [P1]\n---\n\nP1: hello\n"
    write(folder / "a.md", good.format(id="A"))
    write(folder / "b.md", good.format(id="B").replace("participants:", "date: 2026-02-30\nparticipants:"))
    write(folder / "c.md", good.format(id="C"))
    r = cli("import", folder, expect=1)
    assert "b.md:3: invalid value: day is out of range for month" in r.stderr
    assert query(db_path, "SELECT id FROM interviews ORDER BY id") == [("A",), ("C",)]


# --- 8. counts of people state their denominator -----------------------------------------------------------------


def test_shares_of_people_are_of_the_interviews_the_coder_decided(coded):
    md = coded("export", "summary", "--coder", "coder-a").stdout
    base = shipped.base_by_gender("coder-a")
    assert base == {"woman": 23, "man": 15}
    assert "in the 16 interviews coder-a decided: 38 participants (23 women, 15 men)" in " ".join(md.split())
    rows = shipped.evidence("coder-a")
    for criterion in ("Relevance", "Efficiency"):
        mine = [r for r in rows if r["criterion"] == criterion]
        women = len({r["participant"] for r in mine if r["gender"] == "woman"})
        men = len({r["participant"] for r in mine if r["gender"] == "man"})
        expected = f"{women} of 23 women ({women / 23:.0%}), {men} of 15 men ({men / 15:.0%})"
        section = md.split(f". {criterion}\n")[1].split("\n## ")[0]
        assert expected in " ".join(section.split()), criterion
    html = coded("report", "--coder", "coder-a").stdout
    assert "of the 23 women, 15 men in the interviews coded" in " ".join(html.split())
