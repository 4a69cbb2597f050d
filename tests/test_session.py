"""The coding session driven through stdin, a whole script of keys at a time: the screen and the rows it leaves."""

from __future__ import annotations

import io
import os
import pty
import re
import signal
import subprocess
import sys
import termios
from types import SimpleNamespace

import pytest

from qualcode.coding import screens, session
from qualcode.coding.scope import scope
from qualcode.store.db import open_project
from tests.conftest import ROOT
from tests.session_helpers import code_id, live, names, participant_turns, project, query, suggest


@pytest.fixture
def turns(cli, db_path, tmp_path):
    project(cli, tmp_path)
    return participant_turns(db_path)


class Run:
    """A finished session: stdout with runs of spaces squashed (column widths vary), stderr."""

    def __init__(self, result):
        self.stdout = re.sub(r" {2,}", " ", result.stdout)
        self.stderr = result.stderr


def code(cli, script: str, *args: str, expect: int = 0) -> Run:
    return Run(cli("code", "--coder", "ana", *args, input=script, expect=expect))


def test_accept_takes_the_suggestions_above_their_threshold(cli, db_path, turns):
    t = turns[0]
    suggest(db_path, t, "Funding and timeliness", 0.8, ["bookshelf"])
    suggest(db_path, t, "Needs", 0.6, ["real room"], source="model")
    suggest(db_path, t, "Impact", 0.65)  # below Impact's own threshold of 0.7
    suggest(db_path, t, "Staffing", 0.3)  # below the codebook's min_score
    r = code(cli, "a\nq\n")
    screen = r.stdout
    assert f"INT-01 · UN Network on Migration secretariat · 2020-10-06 · turn {t['idx']} ·" in screen
    assert "Ayesha (P001 · woman · UN agency)" in screen
    assert "EV2: Hello, Ayesha?" in screen  # the turn before, for context
    assert "case_study: Global" in screen
    assert " 1 [✓] ■ Efficiency/Funding and timeliness 0.80 pattern “bookshelf”" in screen
    assert " 2 [✓] ■ Relevance/Needs" in screen and "0.60 model “real room”" in screen
    assert "Impact" not in screen.split("ana> a")[0].split("EV2:")[1] and "Staffing" not in screen
    n = len(turns)
    assert f"0 of {n} decided, {n} to go │ pre-checked 2 of 2 suggestions │ session: " in screen
    assert (
        f"ana: 1 decision this session (1 accepted), 0 skipped; 1 of {n} turns in scope decided, {n - 1} to go."
        in screen
    )
    got = query(
        db_path,
        """SELECT k.name, c.origin, c.suggestion_score, c.start, c.end, c.session_id, b.kind
                           FROM codings c JOIN codes k ON k.id = c.code_id JOIN batches b ON b.id = c.batch_id
                           WHERE c.coder = 'ana' ORDER BY k.name""",
    )
    assert [g[:5] for g in got] == [
        ("Funding and timeliness", "suggestion", 0.8, t["start"], t["end"]),
        ("Needs", "suggestion", 0.6, t["start"], t["end"]),
    ]
    assert got[0][5] and got[0][5] == got[1][5] and got[0][6] == "session"
    assert len(query(db_path, "SELECT id FROM batches WHERE kind = 'session'")) == 1  # one decision, one batch


def test_toggle_and_find_a_code_by_prefix(cli, db_path, turns):
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)
    suggest(db_path, turns[0], "Needs", 0.6)
    suggest(db_path, turns[1], "Needs", 0.9)
    r = code(cli, "2\n\nc sust\na\nq\n")
    assert " 2 [ ] ■ Relevance/Needs" in r.stdout  # the code list after the toggle
    assert "checked Sustainability as 2" in r.stdout
    assert live(db_path, "ana", turns[0]) == [
        (turns[0]["idx"], "Funding and timeliness", turns[0]["start"], turns[0]["end"], None, "suggestion")
    ]
    # A code the coder found is not a suggestion: the decision is manual, and carries the suggested score only.
    assert names(db_path, "ana", turns[1]) == {"Needs", "Sustainability"}
    assert {r[5] for r in live(db_path, "ana", turns[1])} == {"manual"}
    assert query(
        db_path,
        "SELECT k.name, c.suggestion_score FROM codings c JOIN codes k ON k.id = c.code_id "
        "WHERE c.turn_id = ? ORDER BY k.name",
        [turns[1]["id"]],
    ) == [("Needs", 0.9), ("Sustainability", None)]


def test_prefix_with_several_matches_lists_them_to_choose(cli, db_path, turns):
    r = code(cli, "c s\n2\n\nc zzz\nc\nfund\nc s\nx\n\nq\n")
    out = r.stdout
    assert "2 codes match 's'" in out
    assert "1 [ ] ■ Efficiency/Staffing" in out and "2 [ ] ■ Sustainability" in out
    assert "no codable code starts with 'zzz'" in out
    assert "code name (prefix; empty cancels): fund" in out  # c alone asks for the name on the next line
    assert "no code chosen" in out  # a non-number cancels the choice
    assert names(db_path, "ana", turns[0]) == {"Sustainability"}
    # The cancelled choice left Funding checked, and the empty line accepted it.
    assert names(db_path, "ana", turns[1]) == {"Funding and timeliness"}


def test_the_list_of_matches_shows_which_codes_are_checked(cli, db_path, turns):
    """c toggles: picking a checked code from the list unchecks it, and the list did not show which were checked."""
    suggest(db_path, turns[0], "Staffing", 0.8)  # pre-checked
    r = code(cli, "c s\n1\nq\n")
    listed = r.stdout.split("ana> c s")[1].split("2 codes match 's'")[0]
    assert "1 [✓] ■ Efficiency/Staffing (unchecks)\n" in listed and "2 [ ] ■ Sustainability \n" in listed, listed
    assert "unchecked Staffing (in Efficiency)" in r.stdout and live(db_path, "ana") == []


def test_folders_are_not_codable_and_exclusive_siblings_exclude_each_other(cli, db_path, turns):
    r = code(cli, "c relevance\nc high\nc low\n\nq\n")
    assert "no codable code starts with 'relevance'" not in r.stdout  # the word match finds its children
    assert names(db_path, "ana", turns[0]) == {"Low"}


def test_x_records_no_code_and_rejects_the_suggestions(cli, db_path, turns):
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)
    r = code(cli, "x\nq\n")
    assert live(db_path, "ana", turns[0]) == [
        (turns[0]["idx"], None, turns[0]["start"], turns[0]["end"], None, "manual")
    ]
    assert "(1 rejected)" in r.stdout


def test_memo_is_stored_with_the_decision(cli, db_path, turns):
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)
    r = code(cli, "m the money came late\n\nm\nnothing here\nx\nq\n")
    assert "memo: the money came late" in r.stdout
    assert {x[4] for x in live(db_path, "ana", turns[0])} == {"the money came late"}
    assert live(db_path, "ana", turns[1])[0][1:] == (None, turns[1]["start"], turns[1]["end"], "nothing here", "manual")


def test_k_narrows_the_coding_to_chosen_sentences(cli, db_path, turns):
    t = next(t for t in turns if len(query(db_path, "SELECT id FROM sentences WHERE turn_id = ?", [t["id"]])) >= 3)
    at = turns.index(t)
    suggest(db_path, t, "Funding and timeliness", 0.8)
    suggest(db_path, t, "Needs", 0.7)
    script = "n\n" * at + "k\n1 3\n\nq\n"
    r = code(cli, script)
    assert "sentences to code (1 3, 2-4; empty: whole turn): 1 3" in r.stdout
    assert "coding sentences 1, 3 only" in r.stdout
    sentences = query(db_path, "SELECT start, end FROM sentences WHERE turn_id = ? ORDER BY idx", [t["id"]])
    chosen = {sentences[0], sentences[2]}
    got = live(db_path, "ana", t)
    assert {(g[1], g[2], g[3]) for g in got} == {
        (c, a, b) for c in ("Funding and timeliness", "Needs") for a, b in chosen
    }
    text = query(db_path, "SELECT text FROM interviews WHERE id = ?", [t["interview"]])[0][0]
    first = text[sentences[0][0] : sentences[0][1]]
    assert f"1 {first[:40]}" in r.stdout  # k lists the sentences, numbered
    r = code(cli, "k 9\nk x\nq\n")
    assert "this turn has sentences 1 to" in r.stdout
    assert "'x' is not a sentence number" in r.stdout


def test_undo_walks_back_across_screens(cli, db_path, turns):
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)
    r = code(cli, "a\nx\nc sust\n\nu\nu\nu\nu\nq\n")
    out = r.stdout
    back = ": your choice is back, change it and press enter"
    assert [ln for ln in out.splitlines() if ln.startswith("undid")] == [
        f"undid your decision on INT-01 turn {turns[2]['idx']}{back}",
        f"undid your decision on INT-01 turn {turns[1]['idx']}{back}",
        f"undid your decision on INT-01 turn {turns[0]['idx']}{back}",
    ]
    # The undone choice comes back as it was made: the code found with c is checked again (third of the likely codes
    # numbered on a screen with nothing suggested).
    assert " 3 [✓] ■ Sustainability added" in out.split("ana> u")[1]
    assert "nothing to undo in this session" in out
    # The cursor went back with each undo: the last screen is the first turn, pre-checked again.
    last = out.split("ana> u")[-2]
    assert f"· turn {turns[0]['idx']} ·" in last and " 1 [✓] ■ Efficiency/Funding and timeliness" in last
    assert live(db_path, "ana") == []
    assert query(db_path, "SELECT count(*) FROM codings WHERE coder = 'ana' AND deleted_at IS NOT NULL") == [(3,)]
    assert query(db_path, "SELECT count(*) FROM batches WHERE kind = 'session' AND undone_at IS NOT NULL") == [(3,)]
    assert f"ana: 0 decisions this session, 0 skipped; 0 of {len(turns)} turns in scope decided" in out


def test_skip_and_navigation_do_not_decide(cli, db_path, turns):
    r = code(cli, "s\nn\np\np\np\nx\nq\n")
    assert "this is the first turn in scope" in r.stdout
    assert live(db_path, "ana", turns[1]) == [] and live(db_path, "ana", turns[2]) == []
    # After p p from turns[2] the cursor is on turns[0]; x decides it and moves to the next open turn.
    assert names(db_path, "ana", turns[0]) == {None}
    assert r.stdout.splitlines()[-1].startswith("ana: 1 decision this session (1 rejected), 1 skipped;")


def test_quitting_and_running_again_resumes_at_the_first_undecided_turn(cli, db_path, turns):
    code(cli, "x\ns\nx\nq\n")
    r = code(cli, "q\n")
    first = r.stdout.split("ana> q")[0]
    assert f"· turn {turns[1]['idx']} ·" in first  # the skipped turn comes back first
    r = code(cli, "x\nq\n")
    assert f"· turn {turns[3]['idx']} ·" in r.stdout.split("ana> x")[1]
    assert f"3 of {len(turns)} turns in scope decided" in r.stdout


def test_end_of_input_quits_cleanly(cli, db_path, turns):
    r = code(cli, "x\n")
    assert r.stdout.splitlines()[-1].startswith("ana: 1 decision this session (1 rejected)")
    assert names(db_path, "ana", turns[0]) == {None}


def test_missing_coder_is_a_usage_error(cli, turns):
    r = cli("code", input="a\n", expect=2)
    assert "name the coder with --coder NAME or QUALCODE_CODER" in r.stderr


def test_coder_from_the_environment(cli, db_path, turns, monkeypatch):
    monkeypatch.setenv("QUALCODE_CODER", "bea")
    cli("code", input="x\n")
    assert names(db_path, "bea", turns[0]) == {None}


def test_code_subcommands_still_work(cli, db_path, turns):
    cli("code", "rename", "Staffing", "People")
    assert query(db_path, "SELECT name FROM codes WHERE key = 'efficiency.staffing'") == [("People",)]


def test_code_option_narrows_to_suggested_or_applied_turns(cli, db_path, turns):
    suggest(db_path, turns[4], "Staffing", 0.9)
    suggest(db_path, turns[5], "Funding and timeliness", 0.4)  # below the threshold: not in scope
    suggest(db_path, turns[6], "Needs", 0.9)  # another code
    cli("apply", turns[8]["interview"], turns[8]["idx"], "Funding and timeliness", "--coder", "ana")
    cli("apply", turns[9]["interview"], turns[9]["idx"], "Staffing", "--coder", "bea")  # someone else's
    db = open_project(db_path)
    assert scope(db, "ana", code="Efficiency") == [turns[4]["id"], turns[8]["id"]]
    assert scope(db, "ana", code="Efficiency", score=0.3) == [turns[4]["id"], turns[5]["id"], turns[8]["id"]]
    r = code(cli, "a\nq\n", "--code", "Efficiency")
    # turns[8] was decided before the session: the session starts at turns[4] and ends after it.
    assert f"· turn {turns[4]['idx']} ·" in r.stdout and "2 of 2 turns in scope decided, 0 to go" in r.stdout
    assert "End of the scope: all 2 turns decided." in r.stdout


def test_uncoded_and_interview_and_all_turns(cli, db_path, turns):
    cli("apply", "INT-01", turns[0]["idx"], "Needs", "--coder", "ana")
    db = open_project(db_path)
    assert scope(db, "ana", uncoded=True) == [t["id"] for t in turns[1:]]
    int02 = [t["id"] for t in turns if t["interview"] == "INT-02"]
    assert scope(db, "ana", interview_ids=["INT-02"]) == int02
    assert len(scope(db, "ana", all_turns=True)) == query(db_path, "SELECT count(*) FROM turns")[0][0]
    r = code(cli, "q\n", "--uncoded")
    assert f"· turn {turns[1]['idx']} ·" in r.stdout and f"0 of {len(turns) - 1} turns in scope decided" in r.stdout
    r = cli("code", "--coder", "ana", "--interview", "INT-99", input="q\n", expect=1)
    assert "no interview 'INT-99'" in r.stderr


def test_order_uncertain_puts_scores_near_the_threshold_first(cli, db_path, turns):
    suggest(db_path, turns[2], "Needs", 0.95)  # sure: 0.45 from the threshold
    suggest(db_path, turns[5], "Needs", 0.52)  # unsure: 0.02
    suggest(db_path, turns[3], "Funding and timeliness", 0.3)  # below, 0.2 away
    suggest(db_path, turns[3], "Impact", 0.98)  # the least certain code counts, not the best one
    suggest(db_path, turns[7], "Impact", 0.75)  # Impact's own threshold is 0.7: 0.05
    db = open_project(db_path)
    order = scope(db, "ana", order="uncertain")
    assert order[:4] == [turns[5]["id"], turns[7]["id"], turns[3]["id"], turns[2]["id"]]
    assert order[4:] == [t["id"] for t in turns if t["id"] not in order[:4]]  # the rest in document order
    r = code(cli, "x\nq\n", "--order", "uncertain")
    assert f"· turn {turns[5]['idx']} ·" in r.stdout.split("ana> x")[0]
    assert f"· turn {turns[7]['idx']} ·" in r.stdout.split("ana> x")[1]


def test_revisiting_a_decided_turn_shows_it_and_keeps_its_codings(cli, db_path, turns):
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)
    suggest(db_path, turns[0], "Needs", 0.8)
    code(cli, "2\nk 1\nm first\n\nq\n")
    before = query(db_path, "SELECT id, code_id, start, end, memo FROM codings WHERE deleted_at IS NULL")
    r = code(cli, "p\n\nq\n")
    screen = r.stdout.split("ana> p")[1]
    assert "✓ decided" in screen and " 2 [ ] ■ Efficiency/Funding and timeliness" in screen
    assert "only sentence 1 (k changes it)" in screen and "memo: first" in screen
    assert query(db_path, "SELECT id, code_id, start, end, memo FROM codings WHERE deleted_at IS NULL") == before


def test_help_and_unknown_keys(cli, turns):
    r = code(cli, "?\nzz\nq\n")
    assert "undo this session's last decision" in r.stdout
    assert "unknown key 'zz' (? shows the keys)" in r.stdout


def test_min_score_option(cli, db_path, turns):
    suggest(db_path, turns[0], "Needs", 0.4)
    r = code(cli, "a\nq\n", "--min-score", "0.3")
    assert " 1 [✓] ■ Relevance/Needs" in r.stdout
    assert names(db_path, "ana", turns[0]) == {"Needs"}
    r = code(cli, "q\n", "--min-score", "2", expect=2)
    assert "--min-score must be between 0 and 1" in r.stderr


def test_two_coders_at_once_lose_nothing(db_path, tmp_path, cli):
    project(cli, tmp_path, interviews=("INT-01", "INT-02", "INT-03"))
    turns = participant_turns(db_path)
    for t in turns[::2]:
        suggest(db_path, t, "Needs", 0.8)
    n = min(len(turns), 60)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    scripts = {"A": "a\n" * n + "u\na\n", "B": "x\n" * n}
    procs = {}
    for coder, script in scripts.items():
        (tmp_path / f"{coder}.keys").write_text(script)
        # Both read their keys from files, so they run side by side rather than one after the other.
        with open(tmp_path / f"{coder}.keys") as keys:
            procs[coder] = subprocess.Popen(
                [sys.executable, "-m", "qualcode", "--db", str(db_path), "code", "--coder", coder],
                stdin=keys,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                text=True,
            )
    for p in procs.values():
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "locked" not in err and "Error" not in err
    a = query(
        db_path, "SELECT turn_id, count(*) FROM codings WHERE coder = 'A' AND deleted_at IS NULL GROUP BY turn_id"
    )
    b = query(db_path, "SELECT DISTINCT turn_id FROM codings WHERE coder = 'B' AND deleted_at IS NULL")
    assert [r[0] for r in a] == [t["id"] for t in turns[:n]]
    assert [r[0] for r in b] == [t["id"] for t in turns[:n]]
    assert query(db_path, "SELECT count(DISTINCT session_id) FROM batches WHERE kind = 'session'") == [(2,)]
    needs = code_id(db_path, "Needs")
    assert query(
        db_path, "SELECT count(*) FROM codings WHERE coder = 'A' AND deleted_at IS NULL AND code_id = ?", [needs]
    ) == [(len(turns[:n:2]),)]


def test_a_short_turn_before_brings_the_one_before_it(cli, db_path, turns):
    t = next(t for t in turns if t["interview"] == "INT-01" and t["idx"] == 7)  # after EV2's "Fights over commas?"
    at = turns.index(t)
    r = code(cli, "n\n" * at + "x\nq\n")
    screen = r.stdout.split("ana> n")[-1].split("ana> x")[0]
    assert "Ayesha: …" in screen and "in the fights over commas.\nEV2: Fights over commas?" in screen
    assert "saved INT-01 turn 7: no code" in r.stdout


def test_search_prefers_names_over_parent_paths():
    def code(name, path, key, codable=True):
        return SimpleNamespace(name=name, path=path, key=key, codable=codable)

    codes = [
        code("Coherence", "Coherence", "coherence"),
        code("UN partnerships", "Coherence/UN partnerships", "coherence.un"),
        code("COVID-19", "Relevance/COVID-19", "relevance.covid"),
        code("Relevance", "Relevance", "relevance", codable=False),
    ]
    assert [c.name for c in screens.search(codes, "co")] == ["Coherence", "COVID-19"]
    assert [c.name for c in screens.search(codes, "coherence/")] == ["Coherence"]  # exact path wins
    assert [c.name for c in screens.search(codes, "coherence/u")] == ["UN partnerships"]
    assert [c.name for c in screens.search(codes, "partner")] == ["UN partnerships"]  # a word of the name
    assert screens.search(codes, "relev") == [codes[2]]  # the folder is not codable; its child is found by path


def test_keys_typed_faster_than_the_screen_count_once_each():
    from rich.console import Console

    from qualcode.cli._keys import RESIZE, Terminal

    master, slave = pty.openpty()
    with Terminal(Console(file=io.StringIO()), fd=slave) as term:
        got = []
        for chunk in (b"nnp", b"\x1b[C\x1b[D", b"\r", b"\x1b", "é".encode()):
            os.write(master, chunk)
            got.append(term.key())
            while term.queue:
                got.append(term.key())
        signal.raise_signal(signal.SIGWINCH)  # a resize wakes the wait for a key
        got.append(term.key())
    os.close(master)
    os.close(slave)
    assert got == ["n", "n", "p", "\x1b[C", "\x1b[D", "\n", "\x1b", "é", RESIZE]


def test_an_escape_sequence_split_across_reads_is_one_key():
    """QA s26-d #4: over a slow ssh link page down came as Esc, then "[6~" 0.3 s later: the 6 checked code 6. The
    reader waits a little for the rest of a sequence after Esc; a lone Esc is still Esc."""
    import threading
    import time

    from rich.console import Console

    from qualcode.cli._keys import Terminal

    master, slave = pty.openpty()
    with Terminal(Console(file=io.StringIO()), fd=slave) as term:
        got = []
        for first, rest in ((b"\x1b", b"[6~"), (b"\x1b[5", b"~"), (b"\x1b", b"OB"), (b"\x1b", None)):
            os.write(master, first)
            if rest:
                threading.Timer(0.3, os.write, (master, rest)).start()
            started = time.monotonic()
            got.append(term.key())
            assert not term.queue and time.monotonic() - started < 2
    os.close(master)
    os.close(slave)
    assert got == ["\x1b[6~", "\x1b[5~", "\x1bOB", "\x1b"]


def test_the_terminal_is_put_back_however_the_session_ends(monkeypatch):
    from rich.console import Console

    monkeypatch.setenv("TERM", "xterm")  # Rich writes no control codes to a dumb terminal

    from qualcode.cli._keys import Terminal

    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    console = Console(file=io.StringIO(), force_terminal=True)
    with pytest.raises(RuntimeError), Terminal(console, fd=slave):
        assert not termios.tcgetattr(slave)[3] & termios.ICANON  # one key at a time
        raise RuntimeError("a crash")
    assert termios.tcgetattr(slave) == before
    out = console.file.getvalue()
    assert out.index("\x1b[?1049h") < out.index("\x1b[?1049l")  # the alternate screen, left again
    assert signal.getsignal(signal.SIGWINCH) in (signal.SIG_DFL, None) and signal.set_wakeup_fd(-1) == -1
    os.close(master)
    os.close(slave)


def test_esc_cancels_a_question(cli, db_path, turns):
    r = code(cli, "k\n\x1b\nm\n\x1b\nc\n\x1b\nq\n")
    assert r.stdout.count("cancelled") == 3 and "is not a sentence number" not in r.stdout
    assert live(db_path, "ana") == []


def test_digits_work_on_a_screen_with_nothing_suggested(cli, db_path, turns):
    # Nothing is suggested: the criteria (top-level codes, and the options of the top-level exclusive scale) are
    # numbered, so 1-9 work from the first screen. 4 then 5: the exclusive Rating keeps one option.
    r = code(cli, "1\n4\n5\na\nq\n")
    first = r.stdout.split("ana> 1")[0]
    assert "nothing suggested: 1-9 check a likely code" in first
    for n, path in enumerate(["Efficiency", "Impact", "Sustainability", "Rating/High", "Rating/Low"], 1):
        assert f" {n} [ ] ■ {path} ·" in first
    assert " 4 [ ] ■ Rating/High" in r.stdout.split("ana> 5")[1] and " 5 [✓] ■ Rating/Low" in r.stdout
    assert names(db_path, "ana", turns[0]) == {"Efficiency", "Low"}
    # The next session numbers the coder's own most used codes first.
    r = code(cli, "q\n")
    assert " 1 [ ] ■ Efficiency ·" in r.stdout and " 2 [ ] ■ Rating/Low ·" in r.stdout
    assert " 3 [ ] ■ Impact ·" in r.stdout and " 5 [ ] ■ Rating/High ·" in r.stdout


def test_of_a_scales_suggested_options_the_best_scored_is_pre_checked(cli, db_path, turns):
    suggest(db_path, turns[0], "High", 0.8)
    suggest(db_path, turns[0], "Low", 0.6)
    r = code(cli, "a\nq\n")
    assert " 1 [✓] ■ Rating/High 0.80" in r.stdout and " 2 [ ] ■ Rating/Low 0.60" in r.stdout
    assert names(db_path, "ana", turns[0]) == {"High"}


def test_an_empty_line_after_the_help_decides_nothing(cli, db_path, turns):
    """`?` then enter accepted the pre-checked codes: the coder asked for help, not for a decision. The empty line
    closes the help and shows the screen again; the next one accepts."""
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)  # pre-checked
    r = code(cli, "?\n\nq\n")
    assert live(db_path, "ana") == [] and "saved INT-01" not in r.stdout
    after = r.stdout.split("undo this session's last decision")[-1]
    assert " 1 [✓] ■ Efficiency/Funding and timeliness" in after  # the screen again, the code still checked
    code(cli, "?\n\n\nq\n")
    assert names(db_path, "ana", turns[0]) == {"Funding and timeliness"}  # the next empty line accepts


def test_the_help_of_code_says_an_empty_line_after_the_help_decides_nothing(cli):
    out = " ".join(cli("code", "--help").stdout.split())
    assert "an empty line accepts, except right after `?`: then it closes the help" in out, out


def test_c_unchecks_a_checked_code_past_the_ninth(cli, db_path, tmp_path):
    """Twelve suggestions, all pre-checked: the last three have no number, and only x (which records "no code")
    took one of them off. c finds any code: on a checked one it unchecks it."""
    from tests.session_helpers import NATO, many_codes

    turn = many_codes(cli, db_path, tmp_path, "INT-01", 0.99)
    r = code(cli, "?\n\nc lima\nc lima\nc kilo\nc kilo\nc kilo\na\nq\n")
    assert "find a code by name: checks it; again, unchecks" in r.stdout.split("ana> ?")[1]  # the help says how
    assert "\nunchecked Lima\n" in r.stdout and "\nunchecked Kilo\n" in r.stdout
    assert "\nchecked Kilo (unnumbered: more than 9 codes here; c unchecks it)" in r.stdout
    assert names(db_path, "ana", turn) == set(NATO) - {"Lima"}


def test_line_mode_prints_each_note_on_a_line_of_its_own(cli, db_path, turns):
    """After a digit, line mode printed the codes' notes with console.print(*parts): the sentences coded and the memo
    came out on one line, as if one note."""
    suggest(db_path, turns[0], "Funding and timeliness", 0.8)
    suggest(db_path, turns[0], "Needs", 0.8)
    code(cli, "k 1\nm first\n\nq\n")
    out = cli("code", "--coder", "ana", input="p\n2\nq\n").stdout
    after = out.split("ana> 2")[1]
    assert re.search(r"^ *only sentence 1 \(k changes it\) *$", after, re.M), after
    assert re.search(r"^ *memo: first *$", after, re.M), after


def test_line_mode_at_80_columns_shows_the_sessions_counts_whole(cli, db_path, turns):
    """Keys piped in, the screen on an 80-column terminal: the footer's counts were cut ("… · skipped …")."""
    from rich.console import Console

    from qualcode.cli._keys import lines

    suggest(db_path, turns[0], "Needs", 0.8)
    sess = session.CodingSession(open_project(db_path), "ana", [t["id"] for t in turns])
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    stdin = sys.stdin
    try:
        sys.stdin = io.StringIO("s\nq\n")
        lines(sess, console)
    finally:
        sys.stdin = stdin
    n = len(turns)
    status = [line.rstrip() for line in console.file.getvalue().splitlines() if "to go │" in line]
    assert status[0] == f"0 of {n} decided, {n} to go │ pre-checked 1 of 1 suggestion │ session: nothing yet"
    assert status[1] == f"0 of {n} decided, {n} to go │ pre-checked 0 of 0 suggestions │ session: skipped 1"


def test_c_and_the_name_of_a_checked_code_asks_before_unchecking_it(cli, db_path, turns):
    """QA s26-d #2: c and the name of a code already checked unchecked it at once (in a small window out of sight):
    the coder meant "check". Now it says the code is checked and unchecks only on c and that name again; a digit or
    another turn forgets the question. From the list c shows, "(unchecks)" stands beside it: that pick unchecks."""
    suggest(db_path, turns[0], "Staffing", 0.8)  # pre-checked
    r = code(cli, "c staff\n1\n1\nc staff\nc staff\n\nq\n")  # a digit in between: the second c asks again
    asked = "Efficiency/Staffing is checked already: c staff again unchecks it"
    assert r.stdout.count(asked) == 2 and r.stdout.count("\nunchecked Staffing (in Efficiency)\n") == 1, r.stdout
    first = r.stdout.split(asked)[0].split("ana> c staff")[1]
    assert "1 [✓] ■ Efficiency/Staffing" in first, first  # still checked after the first c
    assert live(db_path, "ana", turns[0]) == [
        (turns[0]["idx"], None, turns[0]["start"], turns[0]["end"], None, "manual")
    ]


@pytest.mark.parametrize("key", ["n", "s"])
def test_leaving_a_turn_without_a_decision_says_the_memo_noted_there_is_not_saved(cli, db_path, turns, key):
    """ "memo noted: it is saved with your decision on this turn", and n (or s) then left it without a word."""
    t = turns[0]
    r = code(cli, f"m late funds\n{key}\nq\n")
    said = r.stdout.split(f"ana> {key}")[1]
    assert f"the memo noted on INT-01 turn {t['idx']} was not saved: no decision" in said
    assert query(db_path, "SELECT count(*) FROM codings") == [(0,)]
    r = code(cli, "m late funds\na\nn\nq\n")  # saved with the decision: nothing to say on leaving
    assert "was not saved" not in r.stdout
