"""Disagreements between two coders, and the review session that turns them into a consensus coder."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest

from tests.conftest import CORPUS, Cli, copy_db, write
from tests.session_helpers import CODEBOOK_YML, live, names, participant_turns, project, query, suggest


@pytest.fixture
def coded(cli, db_path, tmp_path):
    """ana and ben code five turns; they agree on turns[2] only.

    turns[0]: ana {Funding}, ben {Funding, Sustainability}; turns[1]: ana {Needs}, ben no code;
    turns[3]: ana no code, ben {Staffing}; turns[4]: ana {Needs} with a memo, ben {COVID} narrowed to sentence 1.
    """
    project(cli, tmp_path)
    turns = participant_turns(db_path)
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)
    suggest(db_path, turns[1], "Needs", 0.9)
    suggest(db_path, turns[2], "Funding and timeliness", 0.8)
    suggest(db_path, turns[3], "Staffing", 0.8)
    suggest(db_path, turns[4], "Needs", 0.8)
    cli("code", "--coder", "ana", input="a\na\na\nx\nm they asked for it\na\nq\n")
    cli("code", "--coder", "ben", input="c sust\n\nx\na\na\n1\nc covid\nk 1\n\nq\n")
    return turns


def originals(db_path):
    return query(db_path, "SELECT * FROM codings WHERE coder IN ('ana', 'ben') ORDER BY id")


def test_disagreements_lists_turns_that_differ(cli, db_path, coded):
    t = coded
    r = cli("disagreements", "--coders", "ana,ben", "--format", "json")
    data = json.loads(r.stdout)
    assert [(d["interview"], d["turn"]) for d in data] == [("INT-01", t[i]["idx"]) for i in (0, 1, 3, 4)]
    assert data[0]["ana_codes"] == ["Efficiency/Funding and timeliness"]
    assert data[0]["ben_codes"] == ["Efficiency/Funding and timeliness", "Sustainability"]
    assert data[1]["ben_codes"] == ["(no code)"] and data[2]["ana_codes"] == ["(no code)"]
    assert data[3]["ana_memo"] == "they asked for it" and data[3]["ben_memo"] is None
    assert data[0]["speaker"] == "Ayesha" and data[0]["text"] == t[0]["text"]
    r = cli("disagreements", "--coders", "ana,ben", "--code", "Efficiency", "--format", "csv")
    got = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(g["turn"], g["ana_codes"], g["ben_codes"]) for g in got] == [
        (str(t[3]["idx"]), "(no code)", "Efficiency/Staffing")
    ]
    r = cli("disagreements", "--coders", "ana,ben", "--format", "md")
    assert r.stdout.startswith("| interview | turn | speaker | text | ana_codes | ben_codes | ana_memo | ben_memo |")
    r = cli("disagreements", "--coders", "ana,ben", "--interview", "INT-02")
    assert "0 turns where ana and ben differ" in r.stdout


def test_disagreements_refuses_bad_coders(cli, coded):
    assert "two different coder names" in cli("disagreements", "--coders", "ana", expect=2).stderr
    assert "two different coder names" in cli("disagreements", "--coders", "ana,ana", expect=2).stderr
    r = cli("disagreements", "--coders", "ana,bob", expect=1)
    assert "no coder 'bob' in this project (coders: ana, ben)" in r.stderr


def test_review_keeps_either_version_both_or_neither(cli, db_path, coded):
    t = coded
    before = originals(db_path)
    r = cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    out = re.sub(r" {2,}", " ", r.stdout)
    assert "1 ana 2 ben" in out
    assert "■ Efficiency/Funding and timeliness ✓ ✓" in out and "■ Sustainability · ✓" in out
    assert "ana's memo: they asked for it" in out and "ben: no code" in out
    assert "consensus: 4 decisions this session (1 kept ana, 1 kept ben, 1 both, 1 neither)" in out
    assert names(db_path, "consensus", t[0]) == {"Funding and timeliness", "Sustainability"}
    assert names(db_path, "consensus", t[1]) == {"Needs"}
    assert names(db_path, "consensus", t[3]) == {"Staffing"}
    assert names(db_path, "consensus", t[4]) == {None}
    # They agreed there: nothing to review, and the agreement is carried over, with its own origin.
    assert names(db_path, "consensus", t[2]) == {"Funding and timeliness"}
    assert {(c[0], c[5]) for c in live(db_path, "consensus") if c[0] == t[2]["idx"]} == {(t[2]["idx"], "agreed")}
    assert {c[5] for c in live(db_path, "consensus") if c[0] != t[2]["idx"]} == {"review"}
    assert "carried over to consensus the 1 turns ana and ben agree on" in r.stderr
    assert "it has decided 5 of the 5 turns both decided (complete)" in r.stderr
    assert originals(db_path) == before


def test_a_turn_changed_after_the_review_makes_the_consensus_incomplete_until_reviewed_again(cli, db_path, coded):
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    assert json.loads(cli("export", "summary", "--format", "json").stdout)["consensus"]["complete"]
    # ben changes his mind on a settled turn, and undoes his coding of another: the consensus no longer rests on
    # what the two coded there.
    cli("apply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ben")
    batch = query(db_path, "SELECT max(batch_id) FROM live_codings WHERE coder = 'ben' AND turn_id = ?", [t[3]["id"]])
    cli("undo", "--coder", "ben", "--batch", str(batch[0][0]))
    refused = cli("export", "summary", expect=1)
    assert "INCOMPLETE" in refused.stderr and "changed by ana or ben since it was settled" in refused.stderr
    assert "not yet reviewed" not in refused.stderr  # a changed turn is said once, as changed
    matrix = json.loads(cli("export", "matrix", "--by", "gender", "--allow-incomplete", "--format", "json").stdout)
    assert "INCOMPLETE" in matrix["note"] and matrix["consensus"]["changed_since"] >= 2
    r = cli("review", "--coders", "ana,ben", input="1\nq\n")
    assert re.search(r"reopened \d+ turns ana or ben changed after consensus settled them", r.stderr)
    assert f"· turn {t[1]['idx']} ·" in r.stdout  # offered again, with ben's new coding
    assert names(db_path, "consensus", t[1]) == {"Needs"}


def test_changes_that_keep_old_times_still_reopen_the_consensus(cli, db_path, coded, tmp_path):
    """A merge brings a change made before the review; an undo revives a coding with its old time. Neither leaves a
    newer time on the turn, and both change what was settled."""
    t = coded
    cli("apply", "INT-01", str(t[0]["idx"]), "Sustainability", "--coder", "ana")
    cli("unapply", "INT-01", str(t[0]["idx"]), "Sustainability", "--coder", "ana")
    colleague = Cli(copy_db(db_path, tmp_path / "colleague.db"))
    colleague("apply", "INT-01", str(t[2]["idx"]), "Needs", "--coder", "ben")  # before the review, on an agreed turn
    cli("review", "--coders", "ana,ben", input="1\n1\n1\n1\nq\n")
    assert consensus_of(cli)["complete"]
    cli("merge", colleague.db_path)
    cli("undo", "--coder", "ana")  # ana's Sustainability on turns[0] is back: ana and ben agree there now
    status = consensus_of(cli)
    assert not status["complete"] and status["changed_since"] == 2, status


def test_a_coding_revived_after_the_review_reopens_the_turn_though_the_coders_still_disagree(cli, db_path, coded):
    """ana's undo brings back, after the review, a coding she had removed before it: what was settled on that turn
    no longer rests on what she codes, though she and ben still differ there."""
    t = coded
    cli("apply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ana")
    cli("unapply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ana")
    cli("review", "--coders", "ana,ben", input="1\n1\n1\n1\nq\n")
    assert consensus_of(cli)["complete"]
    cli("undo", "--coder", "ana")
    status = consensus_of(cli)
    assert not status["complete"] and status["changed_since"] == 1, status


def test_a_merge_after_the_review_of_changes_made_before_it_reopens_the_turns(cli, db_path, coded, tmp_path):
    """The colleague's changes keep their times, older than the review: they reached this project after it."""
    t = coded
    colleague = Cli(copy_db(db_path, tmp_path / "colleague.db"))
    colleague("apply", "INT-01", str(t[3]["idx"]), "Sustainability", "--coder", "ben")  # a disagreement, still
    colleague("apply", "INT-01", str(t[1]["idx"]), "COVID-19 adaptation", "--coder", "ana")
    cli("review", "--coders", "ana,ben", input="1\n1\n1\n1\nq\n")
    assert consensus_of(cli)["complete"]
    cli("merge", colleague.db_path)
    status = consensus_of(cli)
    assert not status["complete"] and status["changed_since"] == 2, status


def test_a_colleagues_change_and_its_review_merged_together_leave_the_consensus_complete(cli, db_path, coded, tmp_path):
    """They arrive at once: the change is not after the settlement that already took it into account."""
    t = coded
    cli("review", "--coders", "ana,ben", "--as", "aa", input="1\n1\n1\n1\nq\n")  # "aa": merged before ana and ben
    colleague = Cli(copy_db(db_path, tmp_path / "colleague.db"))
    colleague("apply", "INT-01", str(t[3]["idx"]), "Sustainability", "--coder", "ben")
    colleague("review", "--coders", "ana,ben", "--as", "aa", input="2\nq\n")
    cli("merge", colleague.db_path)
    status = json.loads(cli("export", "summary", "--coder", "aa", "--allow-incomplete", "--format", "json").stdout)
    assert status["consensus"]["complete"], status["consensus"]


def test_a_change_of_the_code_tree_does_not_reopen_the_consensus(cli, db_path, coded):
    """code merge moves every coder's codings alike, the consensus's too: nothing to settle again."""
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    cli("code", "merge", "Sustainability", "Funding and timeliness")  # ben had both on turns[0]: one retired
    assert consensus_of(cli)["complete"]


def test_a_change_undone_since_or_a_code_added_and_removed_leaves_the_consensus_complete(cli, db_path, coded):
    """What was settled is compared with what the two code now, not with when they last touched the turn."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    cli("apply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ben")  # withdraws his "no code"
    cli("undo", "--coder", "ben")  # which comes back, with a new time
    cli("apply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    cli("unapply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    cli("unapply", "INT-01", str(t[3]["idx"]), "Staffing", "--coder", "ben")  # an edit back to the same codes
    cli("apply", "INT-01", str(t[3]["idx"]), "Staffing", "--coder", "ben")
    cli("apply", "INT-01", str(t[2]["idx"]), "Needs", "--coder", "ana")  # on the carried-over turn, and back
    cli("unapply", "INT-01", str(t[2]["idx"]), "Needs", "--coder", "ana")
    status = consensus_of(cli)
    assert status["complete"] and status["changed_since"] == 0, status
    r = cli("export", "summary", "--format", "json")  # refused when incomplete
    assert "since it was settled" not in r.stdout + r.stderr and "(complete)" in r.stdout
    r = cli("review", "--coders", "ana,ben", input="q\n")
    assert "reopened" not in r.stderr and "it has decided 5 of the 5 turns both decided (complete)" in r.stderr
    cli("check")  # the recorded bases are sound


def test_a_real_change_beside_an_undone_one_is_the_only_turn_reopened(cli, db_path, coded):
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    cli("apply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    cli("unapply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    cli("apply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ben")  # stays
    refused = cli("export", "summary", expect=1)
    assert "INCOMPLETE: 1 turn changed by ana or ben since it was settled" in refused.stderr
    r = cli("review", "--coders", "ana,ben", input="2\nq\n")
    assert "reopened 1 turns ana or ben changed after consensus settled them" in r.stderr
    assert f"· turn {t[1]['idx']} ·" in r.stdout and names(db_path, "consensus", t[1]) == {"Sustainability"}
    assert "(complete)" in r.stderr and consensus_of(cli)["complete"]


def test_a_span_edit_counts_as_a_change_and_an_edit_back_does_not(cli, db_path, coded):
    """The consensus copies each coder's spans: a narrowed coding changes what it would quote."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    turn = str(t[0]["idx"])
    cli("unapply", "INT-01", turn, "Funding and timeliness", "--coder", "ana")
    cli("apply", "INT-01", turn, "Funding and timeliness", "--coder", "ana", "--start", "0", "--end", "20")
    status = consensus_of(cli)
    assert not status["complete"] and status["changed_since"] == 1, status
    cli("unapply", "INT-01", turn, "Funding and timeliness", "--coder", "ana")
    cli("apply", "INT-01", turn, "Funding and timeliness", "--coder", "ana")  # the whole turn again
    assert consensus_of(cli)["complete"]


def test_an_undone_review_decision_takes_its_basis_with_it(cli, db_path, coded):
    """The live decision is the first review's again: what it was settled on is what counts, not the undone one's."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    cli("apply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ben")
    cli("review", "--coders", "ana,ben", input="2\nq\n")  # reopened, settled on ben's new version
    assert consensus_of(cli)["complete"]
    cli("undo", "--coder", "consensus")  # the second decision
    cli("undo", "--coder", "consensus")  # the reopening: the first decision is live again
    assert names(db_path, "consensus", t[1]) == {"Needs"}
    status = consensus_of(cli)
    assert not status["complete"] and status["changed_since"] == 1, status


def test_a_decision_from_before_bases_were_recorded_keeps_the_time_rule(cli, db_path, coded):
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    conn = sqlite3.connect(db_path)  # back to m016's shape: the decisions were made by an older qualcode
    conn.execute("DROP TABLE consensus_basis")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm017_consensus_basis'")
    conn.commit()
    conn.close()
    assert consensus_of(cli)["complete"]  # opening the project migrates it
    cli("apply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    cli("unapply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    status = consensus_of(cli)  # nothing says what it was settled on: in doubt, INCOMPLETE
    assert not status["complete"] and status["changed_since"] == 1, status
    cli("review", "--coders", "ana,ben", input="b\nq\n")  # settled again, now with its basis
    cli("apply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    cli("unapply", "INT-01", str(t[0]["idx"]), "Impact", "--coder", "ana")
    assert consensus_of(cli)["complete"]


def test_a_codebook_load_that_moves_codings_keeps_the_consensus_complete(cli, db_path, coded, tmp_path):
    """--move-to moves every coder's codings alike, and what the consensus was settled on with them."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")  # turns[3]: kept ben's Staffing
    book = write(tmp_path / "moved.yml", CODEBOOK_YML.replace("      - name: Staffing\n", ""))
    cli("codebook", "load", book, "--move-to", "Impact")
    assert names(db_path, "ben", t[3]) == names(db_path, "consensus", t[3]) == {"Impact"}
    assert consensus_of(cli)["complete"]
    cli("unapply", "INT-01", str(t[3]["idx"]), "Impact", "--coder", "ben")  # and back: still what was settled
    cli("apply", "INT-01", str(t[3]["idx"]), "Impact", "--coder", "ben")
    assert consensus_of(cli)["complete"]
    # Sustainability goes with its codings: ben's and the consensus's on turns[0] alike.
    fewer = CODEBOOK_YML.replace("      - name: Staffing\n", "").replace("  - name: Sustainability\n", "")
    cli("codebook", "load", write(tmp_path / "fewer.yml", fewer), "--delete-codings")
    assert names(db_path, "ben", t[0]) == names(db_path, "consensus", t[0]) == {"Funding and timeliness"}
    assert consensus_of(cli)["complete"]
    cli("check")


def test_a_replaced_transcript_keeps_the_bases_of_its_unchanged_turns(cli, db_path, coded, tmp_path):
    """Its turns are made again and the codings placed on them; an unchanged turn keeps what it was settled on."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    source = (CORPUS / "INT-01.md").read_text(encoding="utf-8")
    last = [x for x in t if x["interview"] == "INT-01"][-1]["text"]  # a turn no one coded, edited
    assert source.count(last) == 1
    bases = "SELECT batch_id, coder, code_id, start, end FROM consensus_basis ORDER BY 1, 2, 3, 4"
    before = query(db_path, bases)
    cli("import", "--replace", write(tmp_path / "INT-01.md", source.replace(last, "Nothing more to add.")))
    assert query(db_path, bases) == before and before
    assert consensus_of(cli)["complete"]
    cli("check")


def consensus_of(cli) -> dict:
    return json.loads(cli("export", "summary", "--allow-incomplete", "--format", "json").stdout)["consensus"]


def test_review_copies_spans_and_resumes(cli, db_path, coded):
    t = coded
    cli("review", "--coders", "ana,ben", "--as", "team", input="s\ns\ns\n2\n")
    sentence = query(db_path, "SELECT start, end FROM sentences WHERE turn_id = ? AND idx = 0", [t[4]["id"]])[0]
    assert live(db_path, "team", t[4]) == [(t[4]["idx"], "COVID-19 adaptation", *sentence, None, "review")]
    r = cli("review", "--coders", "ana,ben", "--as", "team", input="n\nn\nn\nq\n")
    assert "ben coded only sentence 1" in r.stdout.split("team> n")[3]  # turns[4], shown with what ben narrowed
    r = cli("review", "--coders", "ana,ben", "--as", "team", input="1\nq\n")
    first = r.stdout.split("team> 1")[0]
    assert f"· turn {t[0]['idx']} ·" in first  # the skipped ones come back, the decided one does not
    assert names(db_path, "team", t[0]) == {"Funding and timeliness"}
    assert "2 of 4 turns in scope decided" in r.stdout


def test_review_edit_toggles_and_adds_codes(cli, db_path, coded):
    t = coded
    r = cli("review", "--coders", "ana,ben", input="e\n1\n2\nc covid\n\nq\n")
    assert "editing the consensus:" in r.stdout
    assert names(db_path, "consensus", t[0]) == {"Sustainability", "COVID-19 adaptation"}
    assert "1 edited" in r.stdout


def test_review_undo_and_memo(cli, db_path, coded):
    t = coded
    r = cli("review", "--coders", "ana,ben", input="m agreed in the meeting\n0\n1\nu\nu\n2\nq\n")
    assert "undid your decision on INT-01 turn" in r.stdout
    assert live(db_path, "consensus", t[0]) == [
        (t[0]["idx"], "Funding and timeliness", t[0]["start"], t[0]["end"], None, "review"),
        (t[0]["idx"], "Sustainability", t[0]["start"], t[0]["end"], None, "review"),
    ]
    assert live(db_path, "consensus", t[1]) == []
    assert query(db_path, "SELECT count(*) FROM codings WHERE coder = 'consensus' AND deleted_at IS NOT NULL") == [(2,)]


def test_review_memo_is_saved_with_the_consensus(cli, db_path, coded):
    t = coded
    cli("review", "--coders", "ana,ben", input="m agreed in the meeting\n0\nq\n")
    assert live(db_path, "consensus", t[0])[0][4] == "agreed in the meeting"


def test_review_refusals(cli, coded):
    assert (
        "the consensus must be a coder other than"
        in cli("review", "--coders", "ana,ben", "--as", "ana", input="q\n", expect=2).stderr
    )
    r = cli("review", "--coders", "ana,ben", "--interview", "INT-02", input="q\n")
    assert "nothing to review" in r.stderr
    r = cli("review", "--coders", "ana,ben", input="zz\n\nq\n")
    assert "unknown key 'zz': choose 1, 2, b, 0 or e" in r.stdout, r.stderr


def test_a_coding_the_consensus_adds_by_hand_does_not_settle_what_a_coder_changed(cli, db_path, coded):
    """`apply --coder consensus` after A changed a settled turn is no review of A's change: the review's record of
    what it was settled on still holds, and the turn stays changed (it read "complete" by the newer time)."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    turn = str(t[0]["idx"])
    cli("unapply", "INT-01", turn, "Funding and timeliness", "--coder", "ana")
    assert consensus_of(cli)["changed_since"] == 1
    cli("apply", "INT-01", turn, "Impact", "--coder", "consensus")
    status = consensus_of(cli)
    assert not status["complete"] and status["changed_since"] == 1, status
    cli("apply", "INT-01", turn, "Funding and timeliness", "--coder", "ana")  # ana's change, taken back
    assert consensus_of(cli)["complete"]


def test_one_turn_decided_by_one_coder_only_is_said_in_the_singular(cli, db_path, coded):
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    cli("apply", "INT-01", str(coded[5]["idx"]), "Impact", "--coder", "ana")  # a turn ben never decided
    described = consensus_of(cli)["description"]
    assert "1 turn decided by only one of them is in no consensus" in described, described


def test_undoing_a_reopening_after_the_turn_was_settled_again_is_refused(cli, db_path, coded):
    """Undoing the reopening alone brought the first decision back beside the second: the consensus held codes
    neither decision chose, and read complete."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    cli("apply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ben")
    cli("review", "--coders", "ana,ben", input="2\nq\n")  # reopened, then settled on ben's new version
    reopen, settled = query(
        db_path, "SELECT id FROM batches WHERE coder = 'consensus' AND kind IN ('reopen', 'review') ORDER BY id DESC"
    )[:2][::-1]
    before = originals(db_path), live(db_path, "consensus", t[1])
    r = cli("undo", "--coder", "consensus", "--batch", str(reopen[0]), expect=1)
    assert f"batch {reopen[0]} cannot be undone: batch {settled[0]} changed INT-01 turn {t[1]['idx']}" in r.stderr
    assert (originals(db_path), live(db_path, "consensus", t[1])) == before
    cli("undo", "--coder", "consensus", "--batch", str(settled[0]))  # the later one first, then it can
    cli("undo", "--coder", "consensus", "--batch", str(reopen[0]))
    assert names(db_path, "consensus", t[1]) == {"Needs"}


def test_a_reopened_turn_not_yet_settled_again_is_counted_once(cli, db_path, coded):
    """Reopened, the turn is an open disagreement; it was also counted as changed since it was settled."""
    t = coded
    cli("review", "--coders", "ana,ben", input="b\n1\n2\n0\nq\n")
    cli("apply", "INT-01", str(t[1]["idx"]), "Sustainability", "--coder", "ben")
    r = cli("review", "--coders", "ana,ben", input="q\n")
    assert "reopened 1 turns" in r.stderr
    status = consensus_of(cli)
    assert (status["open_disagreements"], status["changed_since"], status["decided"]) == (1, 0, 4), status


def test_review_as_a_coder_with_codings_of_their_own_is_refused(cli, db_path, coded):
    """`--as` a coder who coded: the review took their codings for changes, retired them and carried over on top."""
    cli("apply", "INT-01", str(coded[0]["idx"]), "Impact", "--coder", "cy")
    before = query(db_path, "SELECT * FROM codings ORDER BY id")
    r = cli("review", "--coders", "ana,ben", "--as", "cy", input="q\n", expect=1)
    assert "--as cy: cy has codings of their own" in r.stderr
    assert query(db_path, "SELECT * FROM codings ORDER BY id") == before
    assert query(db_path, "SELECT count(*) FROM consensus") == [(0,)]


def test_an_export_without_coder_says_why_an_emptied_consensus_is_not_chosen(cli, db_path, coded):
    """Every consensus batch undone: the default export named two coders and no consensus, though one is recorded."""
    cli("review", "--coders", "ana,ben", input="b\nq\n")
    while query(db_path, "SELECT count(*) FROM live_codings WHERE coder = 'consensus'")[0][0]:
        cli("undo", "--coder", "consensus")
    r = cli("export", "summary", expect=2)
    assert "no single consensus with codings (consensus, the consensus of ana and ben, has none)" in r.stderr
