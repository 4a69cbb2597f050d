"""`qualcode merge`: coders' own projects brought together, safely and repeatably."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.coding import merge as merge_module
from qualcode.errors import QualcodeError
from qualcode.store.db import open_project
from tests.conftest import CODEBOOK, CODINGS, CORPUS, ROOT, Cli, copy_db, dump, query, write

# The interviews the shipped coding files cover.
CODED = sorted({line.split(",")[0] for line in (CODINGS / "coder-a.csv").read_text().splitlines()[1:]})

SMALL = """\
codebook: merge test
codes:
  - name: Relevance
    children:
      - name: Needs
  - name: Efficiency
  - name: Effectiveness
  - name: Impact
"""


def live(db_path: Path) -> set[tuple]:
    """(interview, turn, code path or None, span in the turn or None for the whole turn, coder) of live codings."""
    out = query(
        db_path,
        """
        WITH RECURSIVE p(id, path) AS (SELECT id, name FROM codes WHERE parent_id IS NULL
            UNION ALL SELECT c.id, p.path || '/' || c.name FROM codes c JOIN p ON c.parent_id = p.id)
        SELECT c.interview_id, t.idx, p.path, c.start - t.start, c.end - t.start, t.end - t.start, c.coder
        FROM codings c JOIN turns t ON t.id = c.turn_id LEFT JOIN p ON p.id = c.code_id
        WHERE c.deleted_at IS NULL""",
    )
    return {(iid, idx, code, None if (a, b) == (0, n) else (a, b), who) for iid, idx, code, a, b, n, who in out}


def decisions(db_path: Path) -> set[tuple]:
    """(turn, code path) of every live coding: enough where one coder codes whole turns of one interview."""
    return {(turn, code) for _, turn, code, *_ in live(db_path)}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def times(db_path: Path) -> set[tuple]:
    """(GUID, made, removed, revived while live) of every coding: what merge weighs one project's change by."""
    sql = "SELECT guid, created_at, deleted_at, CASE WHEN deleted_at IS NULL THEN revived_at END FROM codings"
    return set(query(db_path, sql))


def merge(cli: Cli, other: Path, *args: str, expect: int = 0) -> dict:
    r = cli("merge", other, *args, "--format", "json", expect=expect)
    data = json.loads(r.stdout)
    data["stderr"] = r.stderr
    return data


def accounted(report: dict, other: Path) -> bool:
    """Every coding of OTHER lands in exactly one bucket of the report."""
    return sum(report["codings"].values()) == query(other, "SELECT count(*) FROM codings")[0][0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The coded interviews and the shipped codebook, built once: each test starts from copies of it."""
    path = tmp_path_factory.mktemp("corpus") / "base.db"
    cli = Cli(path)
    cli("import", *(CORPUS / f"{iid}.md" for iid in CODED))
    cli("codebook", "load", CODEBOOK)
    return path


@pytest.fixture(scope="module")
def small_base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("small") / "base.db"
    cli = Cli(path)
    cli("import", CORPUS / "INT-05.md")
    cli("codebook", "load", write(path.parent / "codebook.yml", SMALL))
    return path


@pytest.fixture
def small(small_base, tmp_path):
    """Three copies of a one-interview project: here (the test's project), and two coders' laptops."""
    return tuple(Cli(copy_db(small_base, tmp_path / f"{name}.db")) for name in ("here", "ana", "ben"))


# --- the team workflow -------------------------------------------------------------------------------------------


def test_two_coders_merged_give_the_same_audit_as_one_project(corpus, tmp_path):
    # coder-a's project is built from the shipped files on its own; the others are copies of one project.
    a = Cli(tmp_path / "a.db")
    a("import", *(CORPUS / f"{iid}.md" for iid in CODED))
    a("codebook", "load", CODEBOOK)
    b, both, team = (Cli(copy_db(corpus, tmp_path / f"{n}.db")) for n in ("b", "both", "team"))

    def coder_a(cli):
        cli("codings", "import", CODINGS / "coder-a.csv")
        cli("apply", "INT-05", 1, "Relevance", "--coder", "coder-a", "--start", 0, "--end", 20, "--memo", "x")
        cli("apply", "INT-07", 2, "Efficiency", "--coder", "coder-a")
        cli("undo", "--coder", "coder-a")  # history: a retired coding

    def coder_b(cli):
        cli("codings", "import", CODINGS / "coder-b.csv")
        cli("unapply", "INT-05", 5, "Assessment/Positive", "--coder", "coder-b")

    coder_a(a), coder_b(b), coder_a(both), coder_b(both)
    # The commands above ran in this process: their connections close when collected, and the last one to close
    # checkpoints its WAL into the file, changing its bytes. Collect now, so only the merge could change them later.
    gc.collect()
    before = {p: (dump(p), sha(p)) for p in (a.db_path, b.db_path)}

    ra = merge(team, a.db_path)
    assert [i["matched"] for i in ra["interviews"]] == ["hash"] * len(CODED)
    live_a = query(a.db_path, "SELECT count(*) FROM codings WHERE deleted_at IS NULL")[0][0]
    assert ra["codings"]["added"] == live_a
    assert ra["codings"]["history"] == 2  # the undone apply and the "no code" it had replaced
    assert ra["conflicts"] == [] and accounted(ra, a.db_path)
    assert ra["coders"] == [{"coder": "coder-a", "created": True, "added": live_a}]
    rb = merge(team, b.db_path)
    assert rb["codings"]["history"] == 1 and rb["conflicts"] == [] and accounted(rb, b.db_path)

    audit = ["audit", "--coders", "coder-a,coder-b", "--format", "json"]
    assert json.loads(team(*audit).stdout) == json.loads(both(*audit).stdout)
    assert team("codings", "export").stdout == both("codings", "export").stdout
    # The coder keeps their identity, and the codings their GUIDs, times and memos.
    assert query(team.db_path, "SELECT guid FROM coders WHERE name = 'coder-a'") == query(
        a.db_path, "SELECT guid FROM coders WHERE name = 'coder-a'"
    )
    fields = "SELECT guid, created_at, memo, origin, deleted_at FROM codings WHERE coder = 'coder-a' ORDER BY 1"
    assert query(team.db_path, fields) == query(a.db_path, fields)

    # Merging again changes nothing; the coders' projects were never touched.
    snapshot = dump(team.db_path)
    again = merge(team, a.db_path)
    merge(team, b.db_path)
    assert dump(team.db_path) == snapshot
    assert again["codings"]["already"] == query(a.db_path, "SELECT count(*) FROM codings")[0][0]
    assert {p: (dump(p), sha(p)) for p in (a.db_path, b.db_path)} == before


def test_the_same_coder_deciding_a_turn_differently_is_a_conflict(small):
    here, ana, _ = small
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    here("apply", "INT-05", 7, "Relevance/Needs", "--coder", "ana", "--memo", "fees")
    ana("apply", "INT-05", 5, "Effectiveness", "--coder", "ana")  # conflict
    ana("apply", "INT-05", 7, "Relevance/Needs", "--coder", "ana")  # the same decision, made twice
    ana("apply", "INT-05", 9, "Impact", "--coder", "ana")  # not decided here: taken
    ana("apply", "INT-05", 5, "Impact", "--coder", "ben")  # another coder: taken
    r = merge(here, ana.db_path)
    assert r["conflicts"] == [
        {
            "interview": "INT-05",
            "turn": 5,
            "coder": "ana",
            "kind": "decision",
            "here": "Efficiency",
            "there": "Effectiveness",
        }
    ]
    assert r["codings"] | {"already": 1, "added": 2, "conflicting": 1} == r["codings"]
    assert live(here.db_path) == {
        ("INT-05", 5, "Efficiency", None, "ana"),
        ("INT-05", 7, "Relevance/Needs", None, "ana"),
        ("INT-05", 9, "Impact", None, "ana"),
        ("INT-05", 5, "Impact", None, "ben"),
    }
    table = here("merge", ana.db_path).stdout
    assert "Conflicts: this project's version was kept" in table and "Effectiveness" in table


def test_copies_take_the_newer_decision_and_undo_takes_a_merge_back(small, tmp_path):
    here, _, _ = small
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    here("apply", "INT-05", 7, "Impact", "--coder", "ana")
    laptop = Cli(copy_db(here.db_path, tmp_path / "laptop.db"))  # the same codings, the same GUIDs
    laptop("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    laptop("apply", "INT-05", 5, "Effectiveness", "--coder", "ana")
    laptop("apply", "INT-05", 9, "Impact", "--coder", "ana")

    r = merge(here, laptop.db_path)  # the laptop is ahead on turn 5: its decision is taken, removal included
    assert r["conflicts"] == [] and r["removed"] == 1
    assert r["codings"] | {"added": 2, "already": 2} == r["codings"]
    assert decisions(here.db_path) == {(5, "Effectiveness"), (7, "Impact"), (9, "Impact")}

    here("unapply", "INT-05", 7, "Impact", "--coder", "ana")  # now this project is ahead on turn 7
    snapshot = dump(here.db_path)
    r = merge(here, laptop.db_path)
    assert r["conflicts"] == [] and dump(here.db_path) == snapshot

    history = json.loads(here("history", "--coder", "ana", "--format", "json").stdout)
    [batch] = [b["batch"] for b in history if b["kind"] == "merge"]
    here("undo", "--coder", "ana", "--batch", batch)
    assert decisions(here.db_path) == {(5, "Efficiency")}
    # Undoing the merge is the latest change to those codings (a revival and removals): merging again keeps it.
    r = merge(here, laptop.db_path)
    assert r["conflicts"] == [] and r["removed"] == 0
    assert r["codings"]["added"] == 0 and decisions(here.db_path) == {(5, "Efficiency")}


def test_a_consensus_comes_with_the_coders_it_settles(small, tmp_path):
    """Merged without its pair, a consensus would no longer say when the two coders changed what it settled."""
    here, laptop, _ = small
    laptop("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    laptop("apply", "INT-05", 5, "Impact", "--coder", "ben")
    laptop("review", "--coders", "ana,ben", "--as", "team", input="1\nq\n")
    laptop("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    laptop("apply", "INT-05", 5, "Impact", "--coder", "ana")  # ana now agrees with ben, not with what team settled
    merge(here, laptop.db_path)
    assert query(here.db_path, "SELECT coder, coder_a, coder_b FROM consensus") == [("team", "ana", "ben")]
    refused = here("export", "summary", "--coder", "team", expect=1)
    assert "INCOMPLETE" in refused.stderr and "changed by ana or ben" in refused.stderr
    other = Cli(copy_db(laptop.db_path, tmp_path / "other.db"))
    here2 = Cli(copy_db(small[2].db_path, tmp_path / "here2.db"))
    here2("apply", "INT-05", 7, "Impact", "--coder", "cleo")
    here2("apply", "INT-05", 7, "Impact", "--coder", "dan")
    here2("review", "--coders", "cleo,dan", "--as", "team", input="q\n")
    snapshot = dump(here2.db_path)
    r = here2("merge", other.db_path, expect=1)
    assert "team is the consensus of ana and ben in other.db but of cleo and dan here" in r.stderr
    assert dump(here2.db_path) == snapshot


def a_consensus_and_a_backup(here: Cli, tmp_path: Path) -> Cli:
    """A complete consensus (team, of ana and ben: turn 5 settled on ben's version, turn 7 carried over), and a
    colleague's backup of it."""
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    for code in ("Efficiency", "Impact", "Effectiveness"):
        here("apply", "INT-05", 5, code, "--coder", "ben")
    for coder in ("ana", "ben"):
        here("apply", "INT-05", 7, "Impact", "--coder", coder)
    here("review", "--coders", "ana,ben", "--as", "team", input="2\nq\n")
    assert consensus(here)["complete"]
    colleague = Cli(tmp_path / "colleague.db")
    here("backup", colleague.db_path)
    return colleague


def settled_again(colleague: Cli) -> None:
    """The colleague: ben drops a code on turn 5, and a review settles the turn again (on ben's version)."""
    colleague("unapply", "INT-05", 5, "Effectiveness", "--coder", "ben")
    r = colleague("review", "--coders", "ana,ben", "--as", "team", input="2\nq\n")
    assert "reopened 1 turns" in r.stderr and consensus(colleague)["complete"]


def consensus(cli: Cli) -> dict:
    r = cli("export", "summary", "--coder", "team", "--allow-incomplete", "--format", "json")
    return json.loads(r.stdout)["consensus"]


def test_a_merged_review_is_judged_by_what_it_was_settled_on(small, tmp_path):
    """The colleague settled turn 5 without ana's new code, which no reviewer has seen: still to be reviewed."""
    here = small[0]
    colleague = a_consensus_and_a_backup(here, tmp_path)
    here("apply", "INT-05", 5, "Relevance", "--coder", "ana")  # after the backup, before the colleague's review
    status = consensus(here)
    assert not status["complete"] and status["changed_since"] == 1, status
    settled_again(colleague)
    merge(here, colleague.db_path)
    assert live(here.db_path) >= {("INT-05", 5, "Impact", None, "team"), ("INT-05", 5, "Relevance", None, "ana")}
    status = consensus(here)
    assert not status["complete"] and status["changed_since"] == 1, status
    snapshot = dump(here.db_path)
    merge(here, colleague.db_path)
    assert dump(here.db_path) == snapshot


def test_a_merged_review_of_what_is_coded_here_leaves_the_consensus_complete(small, tmp_path):
    """The colleague's review is exact here: a change ana undoes afterwards is no change."""
    here = small[0]
    colleague = a_consensus_and_a_backup(here, tmp_path)
    settled_again(colleague)
    merge(here, colleague.db_path)
    assert consensus(here)["complete"]
    here("apply", "INT-05", 5, "Relevance", "--coder", "ana")
    here("unapply", "INT-05", 5, "Relevance", "--coder", "ana")
    assert consensus(here)["complete"]


def test_a_review_merged_from_before_bases_were_recorded_is_judged_by_times(small, tmp_path):
    here = small[0]
    colleague = a_consensus_and_a_backup(here, tmp_path)
    settled_again(colleague)
    conn = sqlite3.connect(colleague.db_path)  # back to m016's shape: made by an older qualcode
    conn.execute("DROP TABLE consensus_basis")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm017_consensus_basis'")
    conn.commit()
    conn.close()
    merge(here, colleague.db_path)
    assert consensus(here)["complete"]
    here("apply", "INT-05", 5, "Relevance", "--coder", "ana")
    here("unapply", "INT-05", 5, "Relevance", "--coder", "ana")
    status = consensus(here)  # nothing says what it was settled on: in doubt, INCOMPLETE
    assert not status["complete"] and status["changed_since"] == 1, status


def reworded_turn_7(tmp_path) -> Cli:
    """A colleague's project whose INT-05 has turn 7 reworded (which moves the turns after it), with the small
    codebook and no codings yet."""
    original = (CORPUS / "INT-05.md").read_text(encoding="utf-8")
    edited = original.replace(
        "That part was really useful, ma'am, I will say it.", "That part was truly useful, ma'am, I must say."
    )
    colleague = Cli(tmp_path / "colleague.db")
    colleague("import", write(tmp_path / "edited" / "INT-05.md", edited))
    colleague("codebook", "load", write(tmp_path / "codebook.yml", SMALL))
    return colleague


def test_a_merged_review_follows_its_turn_to_another_place_and_not_to_another_text(small, tmp_path):
    """Turn 7 is reworded in the colleague's transcript, which moves turn 9: its basis moves with it; turn 7's
    decision was settled on words this project does not have, and reads as changed until a review here settles it
    (judged by times, a change made here before the colleague's review passed for one the colleague saw)."""
    here = small[0]
    colleague = reworded_turn_7(tmp_path)
    colleague("apply", "INT-05", 7, "Effectiveness", "--coder", "ana")
    colleague("apply", "INT-05", 7, "Impact", "--coder", "ben")
    colleague("apply", "INT-05", 9, "Impact", "--coder", "ana")
    colleague("apply", "INT-05", 9, "Impact", "--coder", "ben", "--start", 0, "--end", 10)  # "Sometimes."
    colleague("review", "--coders", "ana,ben", "--as", "team", input="1\nq\n")  # turn 9 is carried over
    merge(here, colleague.db_path)
    assert live(here.db_path) >= {("INT-05", 9, "Impact", None, "team"), ("INT-05", 7, "Effectiveness", None, "team")}
    status = consensus(here)
    assert not status["complete"] and status["changed_since"] == 1, status  # turn 7
    here("apply", "INT-05", 9, "Relevance", "--coder", "ana")
    here("unapply", "INT-05", 9, "Relevance", "--coder", "ana")
    assert consensus(here)["changed_since"] == 1  # what turn 9 was settled on is what they code
    r = here("review", "--coders", "ana,ben", "--as", "team", input="1\nq\n")
    assert "reopened 1 turns" in r.stderr and consensus(here)["complete"]
    assert query(here.db_path, "SELECT count(*) FROM consensus_unsettled") == [(1,)]
    here("check")


def test_a_colleagues_review_of_another_text_does_not_hide_a_change_made_here_before_it(small, tmp_path):
    """QA: the colleague's transcript differs on the turn; ben's change here came before the colleague's review,
    whose time then hid it ("complete", a code in the consensus no coder here has)."""
    here = small[0]
    colleague = reworded_turn_7(tmp_path)
    colleague("apply", "INT-05", 7, "Effectiveness", "--coder", "ana")
    colleague("apply", "INT-05", 7, "Effectiveness", "--coder", "ben")
    colleague("review", "--coders", "ana,ben", "--as", "team", input="q\n")  # carried over: settled
    merge(here, colleague.db_path)
    here("review", "--coders", "ana,ben", "--as", "team", input="q\n")  # reviewed here too
    assert consensus(here)["complete"]
    here("apply", "INT-05", 7, "Impact", "--coder", "ben")  # here, first
    colleague("apply", "INT-05", 7, "Relevance", "--coder", "ben")  # there, later, and reviewed there
    colleague("review", "--coders", "ana,ben", "--as", "team", input="2\nq\n")
    merge(here, colleague.db_path)
    status = consensus(here)
    assert not status["complete"] and status["changed_since"] == 1, status


def test_two_copies_merged_both_ways_end_up_the_same(small, tmp_path):
    here, _, _ = small
    here("apply", "INT-05", 1, "Efficiency", "--coder", "ana")
    here("apply", "INT-05", 3, "Efficiency", "--coder", "ana")
    a, b = (Cli(copy_db(here.db_path, tmp_path / f"{n}.db")) for n in ("a", "b"))
    a("unapply", "INT-05", 1, "Efficiency", "--coder", "ana")
    a("apply", "INT-05", 1, "Impact", "--coder", "ana")
    a("apply", "INT-05", 5, "Impact", "--coder", "ana")
    b("apply", "INT-05", 1, "Impact", "--coder", "ben")
    b("apply", "INT-05", 7, "Efficiency", "--coder", "ana")
    reports = [merge(a, b.db_path), merge(b, a.db_path), merge(a, b.db_path), merge(b, a.db_path)]
    assert all(r["conflicts"] == [] for r in reports)
    assert [r["codings"]["added"] + r["removed"] for r in reports] == [2, 3, 0, 0]
    assert live(a.db_path) == live(b.db_path)
    assert decisions(a.db_path) == {(1, "Impact"), (3, "Efficiency"), (5, "Impact"), (7, "Efficiency")}


def test_the_latest_event_on_a_coding_wins_a_revival_by_undo_included(small, tmp_path):
    """For one coding, the latest of made, removed and revived (by undo) in either project wins, whichever project
    is merged into which; merging again changes nothing."""
    here, _, _ = small
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    here("apply", "INT-05", 7, "Impact", "--coder", "ana")
    laptop = Cli(copy_db(here.db_path, tmp_path / "laptop.db"))
    here("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    laptop("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    here("undo", "--coder", "ana")  # turn 5 revived here, after the laptop removed it: the revival is the latest
    laptop("unapply", "INT-05", 7, "Impact", "--coder", "ana")
    laptop("undo", "--coder", "ana")
    here("unapply", "INT-05", 7, "Impact", "--coder", "ana")  # turn 7 removed here, after the laptop revived it
    expected = {("INT-05", 5, "Efficiency", None, "ana")}

    r = merge(here, laptop.db_path)
    assert r["conflicts"] == [] and r["removed"] == 0 and live(here.db_path) == expected
    r = merge(laptop, here.db_path)
    assert r["conflicts"] == [] and r["removed"] == 1 and r["codings"]["added"] == 1
    assert live(laptop.db_path) == expected
    snapshots = dump(here.db_path), dump(laptop.db_path)
    merge(here, laptop.db_path), merge(laptop, here.db_path)
    assert (dump(here.db_path), dump(laptop.db_path)) == snapshots


def test_undoing_a_merge_or_an_undo_retires_what_it_revived(small, tmp_path):
    here, _, _ = small
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    laptop = Cli(copy_db(here.db_path, tmp_path / "laptop.db"))
    laptop("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    here("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    here("undo", "--coder", "ana")  # revived here, after the laptop's removal
    assert live(here.db_path) == {("INT-05", 5, "Efficiency", None, "ana")}
    merge(laptop, here.db_path)
    assert live(laptop.db_path) == live(here.db_path)
    assert query(laptop.db_path, "SELECT added, removed FROM batches WHERE kind = 'merge'") == [(1, 0)]  # history
    laptop("undo", "--coder", "ana")  # the merge, which revived the coding on the laptop
    assert live(laptop.db_path) == set()
    undo = query(here.db_path, "SELECT max(id) FROM batches WHERE kind = 'undo'")[0][0]
    here("undo", "--coder", "ana", "--batch", str(undo))  # the undo that revived it here
    assert live(here.db_path) == set()


def test_a_coding_made_and_removed_at_the_same_moment_is_settled_the_same_way_both_ways(small, tmp_path):
    here, _, _ = small
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    copies = [Cli(copy_db(here.db_path, tmp_path / f"{n}.db")) for n in ("a", "b", "c", "d")]
    for cli in copies[1::2]:  # b and d removed it at the very moment it was made
        cli("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
        with contextlib.closing(sqlite3.connect(cli.db_path)) as conn, conn:
            conn.execute("UPDATE codings SET deleted_at = created_at")
    a, b, c, d = copies
    merge(a, b.db_path), merge(d, c.db_path)  # the removed copy into the live one, and the other way round
    assert live(a.db_path) == live(d.db_path) == set()


def merged_in_every_order(copies: dict[str, Cli], tmp_path: Path) -> dict[str, tuple]:
    """A fresh copy of each project with the other two merged into it, in either order: its live codings and times."""
    out = {}
    for target, *others in itertools.permutations(copies):
        cli = Cli(copy_db(copies[target].db_path, tmp_path / f"{target}-{''.join(others)}.db"))
        for name in others:
            merge(cli, copies[name].db_path)
        out[" <- ".join((target, *others))] = live(cli.db_path), times(cli.db_path)
    return out


def test_a_coding_live_in_both_takes_the_later_revival_so_merges_in_any_order_end_alike(small, tmp_path):
    """Merging brings the latest time of a coding's state even where the state is the same in both projects: else a
    copy that had the coding live when it merged a revival would later lose it to an earlier removal."""
    here, _, _ = small
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    a, b, c = (Cli(copy_db(here.db_path, tmp_path / f"{n}.db")) for n in "abc")
    b("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")  # removed at t1
    a("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    a("undo", "--coder", "ana")  # revived at t2 > t1: the latest event
    expected = {("INT-05", 5, "Efficiency", None, "ana")}
    outcomes = merged_in_every_order({"a": a, "b": b, "c": c}, tmp_path)
    assert {k: held for k, (held, _) in outcomes.items()} == dict.fromkeys(outcomes, expected)
    assert {k: t for k, (_, t) in outcomes.items()} == dict.fromkeys(outcomes, times(a.db_path))

    merge(a, b.db_path)  # QA's order: c takes a's revival while the coding is live in both, then b's removal
    batches = query(c.db_path, "SELECT * FROM batches")
    r = merge(c, a.db_path)
    assert r["codings"]["added"] == r["removed"] == 0 and r["conflicts"] == []
    assert query(c.db_path, "SELECT * FROM batches") == batches  # nothing a coder sees changed: no history entry
    merge(c, b.db_path)
    assert live(c.db_path) == live(a.db_path) == expected and times(c.db_path) == times(a.db_path)
    snapshot = dump(c.db_path)
    merge(c, a.db_path), merge(c, b.db_path)
    assert dump(c.db_path) == snapshot


def test_a_coding_removed_in_both_takes_the_later_removal_so_merges_in_any_order_end_alike(small, tmp_path):
    here, _, _ = small
    here("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    a, b = (Cli(copy_db(here.db_path, tmp_path / f"{n}.db")) for n in "ab")
    a("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")  # removed at t1
    b("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")
    b("undo", "--coder", "ana")  # revived at t3
    c = Cli(copy_db(b.db_path, tmp_path / "c.db"))  # a copy taken while it was live
    b("unapply", "INT-05", 5, "Efficiency", "--coder", "ana")  # removed at t4: the latest event
    outcomes = merged_in_every_order({"a": a, "b": b, "c": c}, tmp_path)
    assert {k: held for k, (held, _) in outcomes.items()} == dict.fromkeys(outcomes, set())
    assert {k: t for k, (_, t) in outcomes.items()} == dict.fromkeys(outcomes, times(b.db_path))


def test_codes_unknown_here_are_skipped_then_created_with_add_codes(small, tmp_path):
    here, ana, _ = small
    grown = SMALL + "  - name: Surprises\n    children:\n      - name: Unexpected effects\n"
    ana("codebook", "load", write(tmp_path / "grown.yml", grown))
    ana("apply", "INT-05", 5, "Efficiency", "Surprises/Unexpected effects", "--coder", "ana")
    ana("apply", "INT-05", 7, "Efficiency", "--coder", "ana")
    ana("apply", "INT-05", 9, "Surprises", "--coder", "ana")
    ana("unapply", "INT-05", 9, "Surprises", "--coder", "ana")  # history on an unknown code

    r = merge(here, ana.db_path)
    assert r["codes_unknown"] == [
        {"code": "Surprises", "codings": 0},
        {"code": "Surprises/Unexpected effects", "codings": 1},
    ]
    assert r["codes_created"] == [] and "--add-codes" in r["stderr"]
    # Turn 5's decision is taken whole or not at all.
    assert r["codings"] | {"unknown_code": 3, "added": 1} == r["codings"]
    assert {t for _, t, *_ in live(here.db_path)} == {7}

    r = merge(here, ana.db_path, "--add-codes")
    assert r["codes_created"] == ["Surprises", "Surprises/Unexpected effects"]
    assert r["codings"] | {"added": 2, "already": 1, "history": 1} == r["codings"]
    assert live(here.db_path) == live(ana.db_path)
    # The history counts what arrived live: the coding that came already retired is not an addition.
    assert query(here.db_path, "SELECT added FROM batches WHERE kind = 'merge' ORDER BY id DESC LIMIT 1") == [(2,)]
    assert query(
        here.db_path,
        """SELECT c.key, p.key FROM codes c JOIN codes p ON p.id = c.parent_id
                                 WHERE c.name = 'Unexpected effects'""",
    ) == [("surprises.unexpected-effects", "surprises")]
    assert "└── ■ Surprises  0 codings" in here("codebook", "show").stdout


def test_an_edited_transcript_is_matched_by_id_and_codings_follow_their_quotes(small, small_base, tmp_path):
    here, _, _ = small
    original = (CORPUS / "INT-05.md").read_text(encoding="utf-8")
    edited = original.replace(
        "That part was really useful, ma'am, I will say it.", "That part was truly useful, ma'am, I must say."
    )
    edited += (
        "\nEV3: One more thing before you go?\n\nMaricel Lim: The consulate hotline in Admiralty never "
        "picked up when we rang at night about a runaway worker.\n"
    )
    ana = Cli(tmp_path / "ana-edited.db")
    ana("import", write(tmp_path / "edited" / "INT-05.md", edited))
    ana("codebook", "load", write(tmp_path / "codebook.yml", SMALL))
    last = query(ana.db_path, "SELECT max(idx) FROM turns")[0][0]
    ana("apply", "INT-05", 7, "Effectiveness", "--coder", "ana")  # the reworded turn, whole
    ana("apply", "INT-05", 9, "Impact", "--coder", "ana", "--start", 0, "--end", 10)  # "Sometimes."
    ana("apply", "INT-05", last, "Efficiency", "--coder", "ana", "--memo", "hotline")  # not in this version

    r = merge(here, ana.db_path)
    [entry] = r["interviews"]
    assert entry | {"matched": "id", "exact": 1, "fuzzy": 1, "orphaned": 1} == entry
    assert "INT-05: the text differs" in r["stderr"]
    assert r["codings"] | {"added": 2, "orphaned": 1} == r["codings"]
    expected = {("INT-05", 7, "Effectiveness", None, "ana"), ("INT-05", 9, "Impact", (0, 10), "ana")}
    assert live(here.db_path) == expected
    orphans = json.loads(here("codings", "orphans", "--format", "json").stdout)
    assert [(o["code"], o["memo"]) for o in orphans] == [("Efficiency", "hotline")]
    assert "hotline in Admiralty" in orphans[0]["quote"]
    snapshot = dump(here.db_path)
    merge(here, ana.db_path)
    assert dump(here.db_path) == snapshot


def test_memos_fill_gaps_and_differences_are_reported(small):
    here, ana, _ = small
    here(
        "codings",
        "import",
        write(Path("a.csv"), "interview,turn,code,coder,memo\nINT-05,5,Efficiency,ana,\nINT-05,7,Impact,ana,mine\n"),
    )
    ana(
        "codings",
        "import",
        write(
            Path("b.csv"), "interview,turn,code,coder,memo\nINT-05,5,Efficiency,ana,late\nINT-05,7,Impact,ana,theirs\n"
        ),
    )
    r = merge(here, ana.db_path)
    assert r["memos_added"] == 1
    [conflict] = r["conflicts"]
    assert conflict == {
        "interview": "INT-05",
        "turn": 7,
        "coder": "ana",
        "kind": "memo",
        "here": "mine",
        "there": "theirs",
    }
    assert query(here.db_path, "SELECT memo FROM codings ORDER BY start") == [("late",), ("mine",)]


def test_dry_run_reports_the_same_and_writes_nothing(small):
    here, ana, ben = small
    ana("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    ana("apply", "INT-05", 7, "Impact", "--coder", "ana")
    snapshot = dump(here.db_path)
    dry = merge(here, ana.db_path, "--dry-run")
    assert dump(here.db_path) == snapshot
    assert "Dry run" in here("merge", ana.db_path, "--dry-run").stdout
    real = merge(here, ana.db_path)
    assert dry | {"dry_run": False, "stderr": ""} == real | {"stderr": ""}
    assert real["codings"]["added"] == 2


def test_a_failure_leaves_the_project_unchanged(small, monkeypatch):
    here, ana, _ = small
    for turn in (1, 3, 5):
        ana("apply", "INT-05", turn, "Efficiency", "--coder", "ana")
    snapshot = dump(here.db_path)
    calls = []

    def fail_on_the_third(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise QualcodeError("disk full")
        return original(self, *args)

    original = merge_module._Merge._insert
    monkeypatch.setattr(merge_module._Merge, "_insert", fail_on_the_third)
    db = open_project(here.db_path)
    with pytest.raises(QualcodeError, match="disk full"):
        merge_module.merge(db, ana.db_path)
    db.conn.close()
    assert len(calls) == 3 and dump(here.db_path) == snapshot


def test_projects_that_cannot_be_merged_are_refused(small, tmp_path):
    here, ana, _ = small
    snapshot = dump(here.db_path)
    text = write(tmp_path / "notes.db", "not a database at all, just words " * 200)
    r = here("merge", text, expect=1)
    assert "not a qualcode project" in r.stderr
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    assert "not a qualcode project" in here("merge", other, expect=1).stderr
    future = copy_db(ana.db_path, tmp_path / "future.db")
    with contextlib.closing(sqlite3.connect(future)) as conn, conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('qualcode', 'm999_future', '2031-01-01')"
        )
    assert "newer qualcode" in here("merge", future, expect=1).stderr
    assert "no project" in here("merge", tmp_path / "missing.db", expect=1).stderr
    assert "into itself" in here("merge", here.db_path, expect=2).stderr
    assert dump(here.db_path) == snapshot


def test_other_is_only_read_and_nothing_is_left_beside_it(small, tmp_path):
    """A colleague's project as qualcode leaves it (WAL, no -wal or -shm while closed), in their folder; then
    read-only, in a read-only folder, for a user who cannot write either (OTHER on a shared drive)."""
    from tests.test_bad_input import unprivileged

    here, ana, _ = small
    ana("apply", "INT-05", 5, "Efficiency", "--coder", "ana")
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    other = copy_db(ana.db_path, laptop / "ana.db")
    with contextlib.closing(sqlite3.connect(other)) as conn:
        assert conn.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    before = sha(other)
    assert merge(here, other, "--dry-run")["codings"]["added"] == 1
    assert [p.name for p in laptop.iterdir()] == ["ana.db"] and sha(other) == before
    other.chmod(0o444)
    laptop.chmod(0o555)
    try:
        r = subprocess.run(
            [*unprivileged(laptop), sys.executable, "-m", "qualcode", "--db", here.db_path, "merge", other],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            timeout=120,
        )
    finally:
        laptop.chmod(0o755)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in laptop.iterdir()] == ["ana.db"] and sha(other) == before
    assert ("INT-05", 5, "Efficiency", None, "ana") in live(here.db_path)


# --- a change of the other project's codebook ----------------------------------------------------------------------

WITHOUT_EFFICIENCY = SMALL.replace("  - name: Efficiency\n", "")


def per_coder(cli: Cli, code: str) -> dict[str, int]:
    """Live codings of CODE per coder: the figures a summary counts."""
    sql = "SELECT coder, count(*) FROM live_codings l JOIN codes c ON c.id = l.code_id WHERE c.name = ? GROUP BY coder"
    return dict(query(cli.db_path, sql, [code]))


def a_settled_consensus(here: Cli) -> None:
    """ana and ben code turn 5 with Efficiency and Impact and turn 7 with Efficiency; team settles both."""
    for coder in ("ana", "ben"):
        here("apply", "INT-05", 5, "Efficiency", "Impact", "--coder", coder)
        here("apply", "INT-05", 7, "Efficiency", "--coder", coder)
    here("review", "--coders", "ana,ben", "--as", "team", input="q\n")
    assert consensus(here)["complete"]


def test_a_codebook_change_in_the_other_project_is_not_half_applied(small, tmp_path):
    """QA: the copy removed Efficiency --move-to Impact. Its moved codings stayed on Efficiency here, but the ones it
    retired as duplicates were retired here: counts dropped, a settled consensus read INCOMPLETE, nothing said."""
    here = small[0]
    a_settled_consensus(here)
    copy = Cli(tmp_path / "copy.db")
    here("backup", copy.db_path)
    copy("codebook", "load", write(tmp_path / "without.yml", WITHOUT_EFFICIENCY), "--move-to", "Impact")
    before = {code: per_coder(here, code) for code in ("Efficiency", "Impact")}
    status = consensus(here)

    r = merge(here, copy.db_path)
    assert {code: per_coder(here, code) for code in ("Efficiency", "Impact")} == before
    assert consensus(here) == status and status["complete"]
    assert r["removed"] == 0 and r["conflicts"] == []
    assert accounted(r, copy.db_path)
    # 3 coders moved turn 7's Efficiency to Impact, and retired turn 5's (Impact was already there).
    said = "6 codings in copy.db were moved or retired by a change of its codebook, which merge does not apply"
    assert said in r["stderr"] and "qualcode codebook load" in r["stderr"] and "--move-to" in r["stderr"]
    snapshot = dump(here.db_path)
    merge(here, copy.db_path)
    assert dump(here.db_path) == snapshot


def test_a_codebook_change_here_is_not_undone_by_merging_a_copy_without_it(small, tmp_path):
    """The reverse: what this project's codebook change moved or retired, a copy from before it brings back not."""
    here = small[0]
    a_settled_consensus(here)
    copy = Cli(tmp_path / "copy.db")
    here("backup", copy.db_path)
    copy("apply", "INT-05", 9, "Impact", "--coder", "cleo")  # news from the copy still arrive
    here("codebook", "load", write(tmp_path / "without.yml", WITHOUT_EFFICIENCY), "--move-to", "Impact")
    before, status = live(here.db_path), consensus(here)
    assert status["complete"]

    merge(here, copy.db_path)
    assert live(here.db_path) == before | {("INT-05", 9, "Impact", None, "cleo")}
    assert consensus(here) == status
    r = merge(here, copy.db_path, "--add-codes")  # the code comes back when asked, its codings do not
    assert r["codes_created"] == ["Efficiency"] and r["removed"] == 0
    assert live(here.db_path) == before | {("INT-05", 9, "Impact", None, "cleo")}
    assert consensus(here) == status


def test_a_code_merge_in_the_other_project_is_not_half_applied(small, tmp_path):
    here = small[0]
    a_settled_consensus(here)
    copy = Cli(tmp_path / "copy.db")
    here("backup", copy.db_path)
    copy("code", "merge", "Efficiency", "Impact")
    before = {code: per_coder(here, code) for code in ("Efficiency", "Impact")}
    status = consensus(here)

    r = merge(here, copy.db_path)
    assert {code: per_coder(here, code) for code in ("Efficiency", "Impact")} == before
    assert consensus(here) == status and r["removed"] == 0 and r["conflicts"] == []
    assert "6 codings in copy.db were moved or retired by a change of its codebook" in r["stderr"]

    # And the reverse: the copy from before the code merge brings none of Efficiency back here.
    back = Cli(tmp_path / "back.db")
    here("backup", back.db_path)
    here("code", "merge", "Efficiency", "Impact")
    after, status = live(here.db_path), consensus(here)
    merge(here, copy.db_path.parent / "back.db")
    assert live(here.db_path) == after and consensus(here) == status
