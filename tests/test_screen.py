"""The session screen at real sizes, drawn in-process: it degrades by width and height, never by meaning."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from qualcode.cli._screen import View, draw, tail
from qualcode.coding.session import CodingSession
from qualcode.store.db import open_project
from tests.conftest import CORPUS, write
from tests.session_helpers import many_codes, participant_turns, suggest

LONG = """\
codebook: Long names
codes:
  - name: Effectiveness
    children:
      - name: Information, services and skills for migrants
      - name: Targets, outputs and results monitoring
  - name: Impact
    children:
      - name: Evidence, attribution and timing of impact
"""
ROW = re.compile(r"^ ?(\d) \[(✓| )\] ■ (.+?) +(\d\.\d\d|yours|added|·)(?: |$)")


@pytest.fixture
def sess(cli, db_path, tmp_path):
    cli("import", CORPUS / "INT-07.md")
    cli("codebook", "load", write(tmp_path / "long.yml", LONG))
    turns = participant_turns(db_path)
    long_turn = max(turns, key=lambda t: len(t["text"]))
    words = long_turn["text"].split()
    for score, code in enumerate(
        [
            "Information, services and skills for migrants",
            "Targets, outputs and results monitoring",
            "Evidence, attribution and timing of impact",
            "Effectiveness",
            "Impact",
        ]
    ):
        suggest(db_path, long_turn, code, 0.95 - score / 100, words[score * 3 : score * 3 + 3])
    db = open_project(db_path)
    return CodingSession(db, "ana", [long_turn["id"]])


def screen(sess, width: int, height: int | None = None, view: View | None = None) -> list[str]:
    console = Console(file=io.StringIO(), width=width, height=height or 1000, color_system=None)
    console.print(draw(sess, console, view or View(), height))
    return [line.rstrip() for line in console.file.getvalue().splitlines()]


@pytest.mark.parametrize("width", [50, 80, 100, 120, 160])
def test_every_numbered_code_keeps_its_number_box_and_score_at_any_width(sess, width):
    lines = screen(sess, width)
    rows = [m for line in lines if (m := ROW.match(line))]
    assert [int(m[1]) for m in rows] == [1, 2, 3, 4, 5]
    assert all(m[2] == "✓" and m[4].startswith("0.9") for m in rows)
    assert all(len(line) <= width for line in lines)
    names = [m[3] for m in rows]
    if width >= 80:  # the longest path fits: no name is shortened
        assert "Effectiveness/Information, services and skills for migrants" in names
    else:
        assert any(n.endswith("…") for n in names)


def test_the_matched_words_move_to_their_own_line_before_a_name_is_cut(sess):
    wide = screen(sess, 160)
    row = next(line for line in wide if ROW.match(line) and "Information" in line)
    assert "pattern" in row and "“" in row  # source and words beside the code
    narrow = screen(sess, 80)
    at = next(i for i, line in enumerate(narrow) if ROW.match(line) and "Information" in line)
    assert "“" not in narrow[at] and "pattern" not in narrow[at]
    assert narrow[at + 1].strip().startswith("“")  # the words, on the line below


@pytest.mark.parametrize(("width", "height"), [(80, 23), (120, 39), (80, 15)])
def test_the_screen_fits_the_window_and_keeps_every_code_row(sess, width, height):
    full = screen(sess, width)
    lines = screen(sess, width, height)
    assert len(lines) <= height and (len(full) > height or lines == full)
    assert [int(m[1]) for line in lines if (m := ROW.match(line))] == [1, 2, 3, 4, 5]
    assert lines[0].startswith("INT-07 · ") and re.search(r" · turn \d+ · \d+ turns ─", lines[0])
    assert any("to go │ pre-checked 5 of 5 suggestions │ session:" in line for line in lines[-3:])
    if height < 20:
        assert any(re.search(r"lines 1–\d+ of the turn's \d+: ↓ ↑ scroll", line) for line in lines)


def test_a_turn_too_long_for_the_window_scrolls_to_its_last_line(sess):
    last_word = sess.ctx.turn.text.split()[-1]
    view = View()
    for _ in range(60):  # far more presses of ↓ than the turn has lines: the view stops at its end
        view.scroll += 1
        lines = screen(sess, 80, 15, view)
        assert len(lines) <= 15 and [int(m[1]) for line in lines if (m := ROW.match(line))] == [1, 2, 3, 4, 5]
        where = next(re.search(r"lines (\d+)–(\d+) of the turn's (\d+)", line) for line in lines if "↓ ↑" in line)
    assert where[2] == where[3] and int(where[1]) > 1  # the last line reached
    at = next(i for i, line in enumerate(lines) if "↓ ↑" in line)
    assert last_word in lines[at - 1]
    view.scroll -= 1  # one press of ↑ after the end moves at once: the view was kept in range
    back = screen(sess, 80, 15, view)
    moved = next(re.search(r"lines (\d+)–", line) for line in back if "↓ ↑" in line)
    assert int(moved[1]) == int(where[1]) - 1


def test_the_turn_before_is_cut_at_a_word():
    text = "Sometimes the money came late, and sometimes it did not come at all."
    for width in range(20, len(text)):
        cut = tail(text, width)
        assert cut.startswith("…") and len(cut) <= width
        kept = cut[1:]
        assert text.endswith(kept) and text[-len(kept) - 1] == " "  # it starts with a whole word
    assert tail("short", 12) == "short"


@pytest.mark.parametrize("view", [View(show="help"), View(show="help", message="a message")])
def test_at_60x18_the_whole_help_fits_and_says_how_to_leave(sess, view):
    """The help was cut above the footer ("… 4 more lines") and could not be scrolled: the descriptions are short
    enough for 60 columns, the turn gives the help its room, and the last line says how to leave."""
    lines = screen(sess, 60, 17, view)  # the window's last line is the prompt's
    text = "\n".join(lines)
    assert len(lines) <= 17 and all(len(line) <= 60 for line in lines), text
    assert lines[0].startswith("INT-07 · ") and re.search(r" · turn \d+ · \d+ turns", lines[0])
    assert lines[1].startswith("enter, a ") and any(line.startswith("q ") for line in lines), text
    assert not any(re.match(r"… \d+ more lines?", line) for line in lines), text
    assert any("to go │" in line for line in lines[-3:]) and lines[-1] == "any key closes the help", text


@pytest.mark.parametrize("width", [50, 60])
def test_unchecked_rows_give_way_and_a_checked_row_never_does(sess, width):
    """Below 60x18 the last-resort cut took the lines above the footer, checked code rows among them: enter then
    accepted codes the coder could not see. The turn gives way first, then the unchecked rows (a line says how many),
    then the screen says the window is too small, and the session refuses to save until they fit."""
    for item in sess.items[3:]:
        sess.checked.discard(item.code.id)  # 1-3 checked, 4 and 5 not
    seen = set()
    for height in range(4, 30):
        view = View()
        lines = screen(sess, width, height, view)
        text = "\n".join(lines)
        assert len(lines) <= height and lines[0].startswith("INT-07 · "), text
        rows = {int(m[1]): m[2] for line in lines if (m := ROW.match(line))}
        if "too small to show the checked codes" in " ".join(lines):
            assert not rows and view.blind, text
            seen.add("too small")
            sess.blind = view.blind  # as the keyboard loop does before each key
            assert "not saved: the window is too small" in sess.handle("").message
            assert sess.handle("a").message.startswith("not saved") and not sess.decided
            sess.blind = False
            continue
        assert {1: "✓", 2: "✓", 3: "✓"}.items() <= rows.items(), text
        assert not any(re.match(r"… \d+ more lines?", line) for line in lines), text
        # What is hidden is said a line each, then on one line, then not at all, before a checked row gives way.
        merged = [line for line in lines if re.match(r"… the turn.* hidden(: enlarge the window)?$", line)]
        if merged:
            seen.add("one line")
            assert not any(line.startswith(("  + ", "… turn hidden")) for line in lines), text
        if len(rows) < 5 and not merged:
            if f"+ {5 - len(rows)} unchecked codes hidden: enlarge the window" in text:
                seen.add("unchecked hidden")
            else:
                assert height < 10 and not any("hidden" in line for line in lines), text
                seen.add("none said")
        if re.search(r"^… turn hidden \(\d+ lines\): enlarge the window", text, re.M):
            assert not any("Tewodros" in line for line in lines), text
            seen.add("turn hidden")
        if merged and len(rows) < 5:
            assert merged[0].startswith(f"… the turn and {5 - len(rows)} unchecked codes hidden"), text
    assert seen == {"too small", "unchecked hidden", "turn hidden", "one line", "none said"}


def test_the_line_of_codes_past_the_ninth_is_whole_at_60_columns(cli, db_path, tmp_path):
    """It sat in the code-name column, which at 60 columns cut it to "+ 3 more (c…"."""
    turn = many_codes(cli, db_path, tmp_path, "INT-07", 0.9, probability=0.5)  # none pre-checked: none numbered past 9
    sess = CodingSession(open_project(db_path), "ana", [turn["id"]])
    sess.checked.add(sess.items[0].code.id)  # with nothing checked, the line says so instead (see below)
    lines = screen(sess, 60, 18)
    assert any(line.strip() == "+ 3 more (c finds any code)" for line in lines), "\n".join(lines)


@pytest.mark.parametrize("height", [12, 8])
@pytest.mark.parametrize("fixture", ["sess", "crowded"])
def test_with_nothing_checked_enter_saves_no_code_only_where_the_screen_says_so(request, fixture, height):
    """QA s26-d #1: at 60x12 (and 60x8) with every suggestion unchecked, the screen showed some rows and "+ N
    unchecked codes hidden", and enter saved "no code": a decision the coder could not see. Now either every offered
    row is drawn, or a line that never gives way says nothing is checked, or the window is too small."""
    sess = request.getfixturevalue(fixture)  # five codes, or twelve
    for item in sess.items:
        sess.checked.discard(item.code.id)
    view = View()
    lines = screen(sess, 60, height, view)
    text = "\n".join(lines)
    rows = [m for line in lines if (m := ROW.match(line))]
    assert len(lines) <= height and all(len(line) <= 60 for line in lines), text
    if not view.blind and len(rows) < len(sess.items):
        hidden = len(sess.items) - len(rows)
        assert f"nothing checked ({len(sess.items)} codes offered, {hidden} hidden)" in text, text
    sess.blind = view.blind  # as the keyboard loop does before each key
    reply = sess.handle("")
    assert reply.message.startswith("not saved" if view.blind else "saved INT-07 turn"), (reply, text)


@pytest.fixture
def crowded(cli, db_path, tmp_path):
    """Twelve codes suggested on INT-07's first participant turn, every one pre-checked."""
    cli("import", CORPUS / "INT-07.md")
    codebook = "codebook: Many\ncodes:\n" + "".join(f"  - name: {n}\n" for n in NATO)
    cli("codebook", "load", write(tmp_path / "many.yml", codebook))
    turn = participant_turns(db_path)[0]
    for n, code in enumerate(NATO):
        suggest(db_path, turn, code, 0.99 - n / 100)
    return CodingSession(open_project(db_path), "ana", [turn["id"]])


NATO = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet", "Kilo", "Lima"]
ANY_ROW = re.compile(r"^ ?(\d| ) \[(✓| )\] ■ (\w+) ")


def test_at_60x18_a_long_message_gives_way_before_the_screen_is_refused(crowded):
    """The "saved …" line of the turn before took three lines: the twelve checked codes then did not fit, and the
    screen said "too small" (enter saving nothing) until Esc cleared the message."""
    assert len(screen(crowded, 60, 17)) <= 17  # without the message, every checked code fits
    message = "saved INT-07 turn 3: " + "; ".join(f"Criterion/{n}" for n in NATO)
    view = View(message=message)
    lines = screen(crowded, 60, 17, view)
    text = "\n".join(lines)
    assert len(lines) <= 17 and not view.blind and "too small" not in text, text
    assert [m[3] for line in lines if (m := ANY_ROW.match(line))] == NATO, text
    assert all(len(line) <= 60 for line in lines)
    said = [line for line in lines if line.startswith("saved INT-07 turn 3")]
    assert not said or said[0].endswith("…"), text  # on one line, cut, or gone


def test_at_60x18_a_crowded_review_turn_gives_up_its_memos_before_it_is_refused(cli, db_path):
    """Eleven codes between two coders, a memo each: at 60x19 the turn was hidden and every code shown, at 60x18
    the screen was refused while both memos still held two lines. The memos give way (a line says so) first."""
    from qualcode.agreement.review import ReviewSession
    from tests.conftest import CODEBOOK

    a = [
        "Constituent needs and priorities",
        "Relevance to migrant workers",
        "COVID-19 adaptation",
        "Internal synergies and silos",
        "Targets, outputs and results monitoring",
        "Funding and timeliness",
    ]
    b = [
        "Laws, policies and enforcement",
        "Information, services and skills for migrants",
        "Value for money",
        "Changes for migrant workers",
        "Funding and timeliness",
        "Mixed",
    ]
    cli("import", CORPUS / "INT-07.md")
    cli("codebook", "load", CODEBOOK)
    turn = participant_turns(db_path)[0]
    cli("apply", "INT-07", turn["idx"], *a, "--coder", "ana", "--memo", "paid late, and the workers waited for months")
    cli("apply", "INT-07", turn["idx"], *b, "--coder", "ben", "--memo", "laws are there but enforcement lags")
    sess = ReviewSession(open_project(db_path), "cons", "ana", "ben", [turn["id"]])
    full = screen(sess, 60)
    assert "  ana's memo: paid late, and the workers waited for months" in full
    view = View()
    lines = screen(sess, 60, 17, view)
    text = "\n".join(lines)
    assert len(lines) <= 17 and not view.blind and "too small" not in text, text
    assert len([line for line in lines if line.startswith("■ ")]) == 11, text
    assert "  2 memos hidden: enlarge the window" in lines, text
    assert lines[-2].startswith("0 of 1 decided")


def test_at_60x18_the_list_of_choices_gets_the_room_of_the_turn(cli, db_path, tmp_path):
    """c with a dozen matches: the turn kept its lines and the last choices were cut off ("… 5 more lines"), with
    them the numbers the coder is asked for. While choosing, the turn gives way to the list."""
    children = "".join(f"      - name: Fund for the reintegration of returnees in region {n}\n" for n in range(12))
    cli("import", CORPUS / "INT-07.md")
    cli(
        "codebook",
        "load",
        write(tmp_path / "funds.yml", f"codebook: Funds\ncodes:\n  - name: Funding\n    children:\n{children}"),
    )
    turn = max(participant_turns(db_path), key=lambda t: len(t["text"]))
    sess = CodingSession(open_project(db_path), "ana", [turn["id"]])
    reply = sess.handle("c fund")
    assert reply.show == "choices" and len(sess.choices) == 9
    lines = screen(sess, 60, 17, View(show="choices", message=reply.message))
    text = "\n".join(lines)
    assert len(lines) <= 17 and all(len(line) <= 60 for line in lines), text
    assert [int(m[1]) for line in lines if (m := re.match(r"^(\d) \[ \] ■ (Funding|…/Fund|Fund)", line))] == list(
        range(1, 10)
    ), text
    assert not any(re.match(r"… \d+ more lines?", line) for line in lines), text
    assert all(f"region {n}" in text for n in range(8)), text  # what tells the choices apart is on the screen
    assert lines[0].startswith("INT-07 · ") and lines[-1] == "? shows the keys · q quits", text


@pytest.mark.parametrize("width", [60, 80])
def test_the_sessions_counts_are_whole_at_80_columns(sess, width):
    """ "… │ session: accepted 12 · rejected 0 · ski…": the footer's line was cut at the window's width. Zero counts
    and words give way, then the parts take a line each; no count is cut."""
    sess.counts.update(accepted=12, skipped=3)
    lines = screen(sess, width, 23)
    at = next(i for i, line in enumerate(lines) if "to go │" in line)
    status = " ".join(lines[at:-1])
    assert "…" not in status and "0 of 1 decided, 1 to go │ pre-checked 5 of 5" in status, "\n".join(lines)
    assert "session: accepted 12 · skipped 3" in status and all(len(line) <= width for line in lines)
    if width == 80:
        assert lines[at] == "0 of 1 decided, 1 to go │ pre-checked 5 of 5 │ session: accepted 12 · skipped 3"


BLOCKED = ["", "a", "x", "1", "s", "n", "p", "u", "c fund", "m late", "k 1", "0", "2", "b", "e"]


def assert_nothing_saves(sess, lines: list[str], view: View) -> None:
    """What the keyboard loop does on a screen that says the window is too small: no key but q, ? and esc acts."""
    text = " ".join(lines)
    assert view.blind and "too small" in text and "nothing can be saved" in text, text
    sess.blind = view.blind  # as the keyboard loop does before each key
    turn, checked = sess.turn_id, set(sess.checked)
    for key in BLOCKED:
        reply = sess.handle(key)
        assert reply.message.startswith("not saved: the window is too small"), (key, reply)
        assert sess.turn_id == turn and sess.checked == checked and not sess.decided and not sess.done, key
    assert sess.handle("?").show == "help" and sess.handle("q").quit


def test_on_a_screen_too_small_for_the_checked_codes_no_key_saves_anything(sess):
    """The guard refused only a save with codes in it: x (or enter with nothing checked) saved "no code" on a screen
    that said the window was too small for what would be saved."""
    view = View()
    lines = screen(sess, 60, 6, view)
    assert_nothing_saves(sess, lines, view)


def ana_no_code_ben_staffing(cli, db_path, tmp_path):
    """A review of one turn where ana said "no code" and ben gave Staffing."""
    from qualcode.agreement.review import ReviewSession
    from tests.session_helpers import project

    project(cli, tmp_path)
    turn = participant_turns(db_path)[0]
    suggest(db_path, turn, "Staffing", 0.8)
    cli("code", "--coder", "ana", input="x\nq\n")
    cli("code", "--coder", "ben", input="a\nq\n")
    return ReviewSession(open_project(db_path), "cons", "ana", "ben", [turn["id"]])


def test_on_a_review_screen_too_small_for_the_coders_codes_no_key_saves_anything(cli, db_path, tmp_path):
    """Review at 60x7, ana said "no code", ben gave a code: 1 kept ana's "no code" and 0 saved "neither"."""
    from tests.session_helpers import live

    sess = ana_no_code_ben_staffing(cli, db_path, tmp_path)
    view = View()
    lines = screen(sess, 60, 5, view)
    assert_nothing_saves(sess, lines, view)
    assert live(db_path, "cons") == []


def test_the_lines_saying_what_is_hidden_give_way_before_a_checked_row(tmp_path, sess):
    """At 60x18, twelve checked codes of fifteen were refused ("too small") while "… turn hidden" and "+ 3 unchecked
    codes hidden" kept their lines; so were two checked codes at 60x8. Those lines merge into one, then go."""
    for item in sess.items[2:]:
        sess.checked.discard(item.code.id)  # 1 and 2 checked
    view = View()
    lines = screen(sess, 60, 7, view)  # a 60x8 window: its last line is the prompt's
    text = "\n".join(lines)
    assert not view.blind and len(lines) <= 7, text
    assert {int(m[1]): m[2] for line in lines if (m := ROW.match(line))} == {1: "✓", 2: "✓"}, text

    from tests.conftest import Cli

    names = [*NATO, "Mike", "November", "Oscar"]
    other = Cli(tmp_path / "many.db")
    other("import", CORPUS / "INT-07.md")
    codebook = "codebook: Many\ncodes:\n" + "".join(f"  - name: {n}\n" for n in names)
    other("codebook", "load", write(tmp_path / "many.yml", codebook))
    turn = participant_turns(other.db_path)[0]
    for n, code in enumerate(names):  # the last three are not pre-checked
        suggest(other.db_path, turn, code, 0.99 - n / 100, probability=0.9 if code in NATO else 0.5)
    many = CodingSession(open_project(other.db_path), "ana", [turn["id"]])
    view = View()
    lines = screen(many, 60, 17, view)
    text = "\n".join(lines)
    assert not view.blind and len(lines) <= 17, text
    assert {m[3] for line in lines if (m := ANY_ROW.match(line)) and m[2] == "✓"} == set(NATO), text
    assert lines[0].startswith("INT-07 · ") and lines[-1] == "? shows the keys · q quits", text


@pytest.mark.parametrize("width", range(40, 121, 4))
def test_the_footer_breaks_only_between_whole_counts(width):
    """At 60x18 a review's counts wrapped inside a count ("both 1 · neither" / "1 · edited 1"), and at 80x24 a lone
    "·" ended a line: the counts go to the next line whole, and no line starts or ends with a separator."""
    from types import SimpleNamespace

    from qualcode.cli._screen import status

    outcomes = ("kept coder-a", "kept coder-b", "both", "neither", "edited", "skipped")
    counts = dict(zip(outcomes, (12, 3, 1, 1, 1, 0), strict=True))
    sess = SimpleNamespace(outcomes=outcomes, counts=counts, decided={1, 2}, turn_ids=list(range(34)), remaining=32)
    lines = status(sess, width).plain.split("\n")
    assert all(len(line) <= width for line in lines), lines
    assert not any(line.strip()[:1] in "·│" or line.strip()[-1:] in "·│" for line in lines), lines
    for outcome, n in counts.items():
        assert not n or any(f"{outcome} {n}" in line for line in lines), (outcome, lines)
    assert any("2 of 34 decided, 32 to go" in line for line in lines), lines


def test_on_a_screen_too_small_the_footer_stays_last_and_a_long_message_is_cut(sess):
    message = "saved INT-07 turn 3: " + "; ".join(f"Criterion/{n}" for n in NATO)
    for height in range(4, 9):
        view = View(message=message)
        lines = screen(sess, 60, height, view)
        text = "\n".join(lines)
        assert view.blind and len(lines) <= height and lines[0].startswith("INT-07 · "), text
        assert lines[-1] == "? shows the keys · q quits", text
        assert len([line for line in lines if line.startswith(("saved", "Criterion", "Golf"))]) <= 1, text


def test_what_c_unchecked_is_said_at_any_height(crowded):
    """QA s26-d #2: in a small window c's "unchecked …" gave way to the rows and the turn, so the coder did not see
    that c (meant as "check") had unchecked a code. The message is cut to a line, never dropped."""
    crowded.handle("c lima")  # checked already: this only asks
    reply = crowded.handle("c lima")
    assert reply.message == "unchecked Lima" and reply.keep, reply
    for height in range(17, 5, -1):
        view = View(message=reply.message, keep=reply.keep)
        lines = screen(crowded, 60, height, view)
        text = "\n".join(lines)
        assert len(lines) <= height and any(line.startswith("unchecked Lima") for line in lines), (height, text)


@pytest.mark.parametrize("height", [6, 8])
def test_the_too_small_screen_says_whole_at_60_columns_which_keys_work(sess, height):
    """QA s26-d #6: "not saved: the window is too small; enlarge it (? and q wor…": cut, and Esc not named."""
    view = View()
    screen(sess, 60, 6, view)
    sess.blind = view.blind
    reply = sess.handle("")
    view = View(message=reply.message)
    lines = screen(sess, 60, height, view)
    text = "\n".join(lines)
    assert view.blind and any(line.startswith("not saved: the window is too small") for line in lines), text
    said = next(line for line in lines if line.startswith("not saved"))
    assert "…" not in said and "esc" in said.lower() and " q " in said, text


def test_the_review_edit_says_c_finds_a_code_as_it_also_unchecks(cli, db_path, tmp_path):
    """QA s26-d #10: the edit's footer and message said "c add(s) a code", while c on a checked code unchecks it."""
    sess = ana_no_code_ben_staffing(cli, db_path, tmp_path)
    reply = sess.handle("e")
    lines = screen(sess, 80, 40, View(message=reply.message))
    text = "\n".join(lines)
    assert sess.editing and "c finds a code" in reply.message and "c code" in lines[-1], text
    assert "add a code" not in text and "adds a code" not in text, text
