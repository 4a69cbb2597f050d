"""The session, the review and the audit in a real pseudo-terminal (pexpect), read back as a screen (pyte), at the
sizes people use: 80×24 and 120×40, on the shipped corpus.

The project is built once per test session: the corpus, the DAC codebook and both coders' codings ("plain": nothing
suggested), and a copy with the pattern suggestions ("suggested").
"""

from __future__ import annotations

import collections
import os
import re
import signal
import sys
import time

import pexpect
import pyte
import pytest

from tests import shipped
from tests.conftest import CODEBOOK, CODINGS, CORPUS, Cli, copy_db

SIZES = [(80, 24), (120, 40)]
# A code row: its number, its check box, the code's colour mark and name, then its score (or what stands for one).
ROW = re.compile(r"^ ?(\d) \[(✓| )\] ■ \S.*? (\d\.\d\d|yours|added|·)(?: |$)")
EDIT_ROW = re.compile(r"^ ?(\d) \[(✓| )\] ■ \S")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


@pytest.fixture(scope="session")
def projects(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("terminal")
    plain = Cli(folder / "plain.db")
    plain("import", CORPUS)
    plain("codebook", "load", CODEBOOK)
    plain("codings", "import", CODINGS / "coder-a.csv")
    plain("codings", "import", CODINGS / "coder-b.csv")
    suggested = Cli(copy_db(plain.db_path, folder / "suggested.db"))
    suggested("suggest")
    return {"plain": plain.db_path, "suggested": suggested.db_path}


class Screen:
    """qualcode in a pseudo-terminal of COLUMNS × LINES, and what that terminal shows."""

    def __init__(self, args: list, columns: int, lines: int, *, sigint=signal.SIG_DFL):
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env.update(TERM="xterm-256color", NO_COLOR="1")
        self.raw = b""
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "qualcode", *map(str, args)],
            dimensions=(lines, columns),
            env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),  # what the session starts with, whoever runs us
        )

    def settle(self, until: str = "", timeout: float = 30) -> list[str]:
        """Read until something new arrived, the screen shows UNTIL and nothing more comes; the screen's lines.

        A screen is drawn in one write, so a short quiet spell after it means it is complete."""
        deadline = time.monotonic() + timeout
        fresh = False
        while time.monotonic() < deadline:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.1 if fresh else 1)
            except pexpect.TIMEOUT:
                if fresh and until in "\n".join(self.lines()):
                    break
                continue
            except pexpect.EOF:
                break
            fresh = True
            self.raw += data
            self.stream.feed(data)
        return self.lines()

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def key(self, key: str, until: str = "to go │") -> list[str]:
        self.child.send(key)
        return self.settle(until)

    def resize(self, columns: int, lines: int) -> list[str]:
        self.screen.resize(lines, columns)
        self.child.setwinsize(lines, columns)
        return self.settle("to go │")

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def code_rows(lines: list[str]) -> list[str]:
    return [line for line in lines if "■ " in line]


def assert_rows(lines: list[str], columns: int, *, numbered: int | None = None) -> list[re.Match]:
    """Every code row on the screen has its number, its check box and its score; the screen holds all of it."""
    rows = code_rows(lines)
    assert rows, "\n".join(lines)
    matches = [ROW.match(row) for row in rows]
    assert all(matches), "a code row without its number, box or score:\n" + "\n".join(lines)
    assert [int(m[1]) for m in matches] == list(range(1, len(rows) + 1))[: numbered or len(rows)]
    assert lines[0].startswith("INT-"), "the top of the screen scrolled away:\n" + "\n".join(lines)
    assert any("to go │" in line for line in lines)
    assert all(len(line) <= columns for line in lines)
    return matches


@pytest.mark.parametrize(("columns", "lines"), SIZES)
def test_first_screen_with_nothing_suggested_numbers_the_likely_codes(projects, columns, lines):
    s = Screen(["--db", projects["plain"], "code", "--coder", "ana", "--interview", "INT-46"], columns, lines)
    try:
        screen = s.settle("to go │")
        rows = assert_rows(screen, columns)
        assert len(rows) == 9 and all(m[2] == " " for m in rows)  # the six criteria and the Assessment scale
        screen = s.key("1")
        assert assert_rows(screen, columns)[0][2] == "✓"  # the digit acts on the first screen
        screen = s.key("8")  # Assessment/Mixed, then Positive: one option of the scale stays checked
        screen = s.key("7")
        marks = [m[2] for m in assert_rows(screen, columns)]
        assert marks[6:9] == ["✓", " ", " "]
        for _ in range(4):
            screen = s.key("n")
            assert_rows(screen, columns)
    finally:
        s.close()


@pytest.mark.parametrize(("columns", "lines"), SIZES)
def test_every_screen_of_a_suggested_interview_shows_each_codes_number_box_and_score(projects, columns, lines):
    s = Screen(["--db", projects["suggested"], "code", "--coder", "ana", "--interview", "INT-07"], columns, lines)
    try:
        screen = s.settle("to go │")
        suggested = 0
        for _ in range(24):
            rows = assert_rows(screen, columns)
            suggested += any(m[3][0].isdigit() for m in rows)
            if "End of the scope" in "\n".join(screen):
                break
            screen = s.key("n")
        assert suggested >= 5  # screens with suggestions were among them
    finally:
        s.close()


def test_the_screen_is_redrawn_on_resize_and_the_terminal_restored_on_ctrl_c(projects):
    s = Screen(["--db", projects["suggested"], "code", "--coder", "ana", "--interview", "INT-07"], 120, 40)
    try:
        s.settle("to go │")
        for _ in range(17):  # to a turn with suggestions and long code names
            s.key("n")
        wide = s.lines()
        narrow = s.resize(80, 24)
        assert narrow != wide[:24]
        assert_rows(narrow, 80)
        assert_rows(s.resize(120, 40), 120)
        s.child.send("\x03")  # Ctrl-C
        s.settle("decisions this session")
        s.child.expect(pexpect.EOF)
        raw = s.raw.decode()
        assert raw.index("\x1b[?1049h") < raw.rindex("\x1b[?1049l") < raw.index("ana: 0 decisions this session")
    finally:
        s.close()
    assert s.child.exitstatus == 0


def test_ctrl_c_ends_the_session_even_when_started_with_sigint_ignored(projects):
    """A shell starts a background job with SIGINT ignored, and Python keeps that: the session used to wait for a
    key forever after Ctrl-C."""
    s = Screen(
        ["--db", projects["plain"], "code", "--coder", "ana", "--interview", "INT-10"], 80, 24, sigint=signal.SIG_IGN
    )
    try:
        s.settle("to go │")
        s.child.send("\x03")
        assert "decisions this session" in "\n".join(s.settle("decisions this session"))
        s.child.expect(pexpect.EOF)
    finally:
        s.close()
    assert s.child.exitstatus == 0


def test_esc_cancels_a_question(projects):
    s = Screen(["--db", projects["suggested"], "code", "--coder", "ana", "--interview", "INT-07"], 80, 24)
    try:
        s.settle("to go │")
        s.key("k", until="sentences to code")
        s.child.send("2")
        screen = s.key("\x1b", until="cancelled")  # a lone Esc acts after ESC_WAIT: no sequence followed it
        assert any(line.startswith("cancelled") for line in screen) and not any("sentence number" in x for x in screen)
        s.key("c", until="code name")
        s.child.send("fund")
        screen = s.key("\x1b", until="cancelled")
        assert any(line.startswith("cancelled") for line in screen)
        assert_rows(screen, 80)
    finally:
        s.close()


def test_at_80_columns_the_header_keeps_the_decided_mark_and_the_footer_the_precheck_count(projects):
    s = Screen(["--db", projects["suggested"], "code", "--coder", "ana", "--interview", "INT-07"], 80, 24)
    try:
        screen = s.settle("to go │")
        status = next(line for line in screen if "to go │" in line)
        assert re.search(r"to go │ pre-checked \d+ of \d+(?: suggestions?)? │", status), "\n".join(screen)
        turn = re.search(r" · turn (\d+) · \d+ turns", screen[0])[1]
        s.key("\r")
        screen = s.key("p")
        assert re.search(rf"^INT-07 · .* · turn {turn} · \d+ turns  ✓ decided ─", screen[0]), "\n".join(screen)
        assert_rows(screen, 80)
    finally:
        s.close()


@pytest.mark.parametrize(("columns", "lines"), SIZES)
def test_review_screens_keep_the_marks_and_the_edit_rows_their_numbers(projects, columns, lines):
    s = Screen(["--db", projects["plain"], "review", "--coders", "coder-a,coder-b"], columns, lines)
    try:
        screen = s.settle("to go │")
        for _ in range(6):
            assert screen[0].startswith("INT-") and any("to go │" in line for line in screen)
            heads = next(line for line in screen if "1 coder-a" in line)
            marks_at = heads.index("1 coder-a"), heads.index("2 coder-b")
            for row in code_rows(screen):
                assert row[marks_at[0]] in "✓·" and row[marks_at[1]] in "✓·", "\n".join(screen)
            screen = s.key("e")
            edit = screen[next(i for i, line in enumerate(screen) if line.startswith("editing the consensus")) :]
            numbered = [EDIT_ROW.match(line) for line in code_rows(edit)]
            assert numbered and all(numbered), "\n".join(screen)
            assert [int(m[1]) for m in numbered] == list(range(1, len(numbered) + 1))
            s.key("e")
            screen = s.key("n")
    finally:
        s.close()


def test_audit_at_80_columns_breaks_no_code_name(projects):
    s = Screen(["--db", projects["plain"], "audit", "--coders", "coder-a,coder-b"], 80, 24)
    s.settle("Bands are conventions")
    s.child.expect(pexpect.EOF)
    s.close()
    out = ANSI.sub("", s.raw.decode()).replace("\r\n", "\n")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    # The code column of every table: each line of it holds only whole words of code names, and read in order
    # (a wrapped name's lines joined) it holds every code's name.
    column = [line.strip("│").split("│")[0].strip() for line in lines if line.startswith("│")]
    words = {w for c in shipped.codebook() for w in c["name"].split()} | {"all", "codes"}
    for text in column:
        broken = [w for w in text.split() if w not in words and not re.fullmatch(r"\[\d+\]", w)]
        assert not broken, f"{broken} in {text!r}:\n{out}"
    joined = " ".join(column)
    for c in shipped.codebook():
        assert c["name"] in joined, f"{c['name']!r} is missing:\n{out}"
    assert out.count("Scope: 386 turns") == 1 and out.count("Bands are conventions") == 1
    assert len(lines) < 120  # one compact row per code, the notes once


def test_every_sentence_number_is_on_the_screen_when_choosing_sentences_at_80x24(projects):
    """k asks for sentence numbers: in a short window each sentence gets one line, cut with "…", rather than the
    last sentences being cut off with the numbers the coder is asked for."""
    from tests.conftest import query

    s = Screen(["--db", projects["plain"], "code", "--coder", "ana", "--interview", "INT-10"], 80, 24)
    try:
        s.settle("to go │")
        longest = 0
        for _ in range(7):  # every participant turn of INT-10; turn 3 has 11 sentences, more than 24 lines hold
            iid, idx = re.match(r"(INT-\d+) · .* · turn (\d+) ·", s.lines()[0]).groups()
            (n,) = query(
                projects["plain"],
                "SELECT count(*) FROM sentences s JOIN turns t ON t.id = s.turn_id WHERE t.interview_id = ? "
                "AND t.idx = ?",
                [iid, int(idx)],
            )[0]
            screen = s.key("k", until="sentences to code")
            codes_at = next(i for i, line in enumerate(screen) if "■ " in line or line.startswith("checked:"))
            numbered = [int(m[1]) for line in screen[1:codes_at] if (m := re.match(r"\s*(\d+) \S", line))]
            assert numbered == list(range(1, n + 1)), "\n".join(screen)
            longest = max(longest, n)
            assert all(len(line) <= 80 for line in screen)
            s.key("\x1b")
            s.key("s", until="│")
        assert longest >= 11
    finally:
        s.close()


def test_down_and_up_scroll_a_turn_too_long_for_80x24(projects):
    """A turn longer than the window is cut with where the window is in it; ↓ ↑ and page down move it, the code
    rows stay, and the next turn starts at its top."""
    s = Screen(["--db", projects["plain"], "code", "--coder", "ana", "--interview", "INT-10"], 80, 24)
    where = re.compile(r"lines (\d+)–(\d+) of the turn's (\d+): ↓ ↑ scroll")

    def position(lines: list[str]) -> tuple[int, int, int]:
        found = next(where.search(line) for line in lines if where.search(line))
        return tuple(int(g) for g in found.groups())

    try:
        lines = s.settle("to go │")
        while not any(where.search(line) for line in lines):  # turn 3 of INT-10 is 18 lines at 80 columns
            lines = s.key("s", until="│")
        first, last, total = position(lines)
        assert first == 1 and total > last
        assert position(s.key("\x1b[B"))[0] == 2
        for _ in range(3):
            lines = s.key("\x1b[6~")
        assert position(lines)[1:] == (total, total)  # page down stops at the turn's last line
        assert_rows(lines, 80)
        assert position(s.key("\x1b[A"))[1] == total - 1
        lines = s.key("s", until="│")
        assert not any(where.search(line) for line in lines) or position(lines)[0] == 1
    finally:
        s.close()


SMALL = (60, 18)  # the smallest window the session promises to fit


def assert_fits(lines: list[str], columns: int) -> None:
    """The whole screen is in the window: the header first, the footer's status and keys last, nothing wider."""
    text = "\n".join(lines)
    shown = [line for line in lines if line.strip()]
    assert lines[0].startswith("INT-"), "the top of the screen scrolled away:\n" + text
    status = max(i for i, line in enumerate(shown) if "to go │" in line)
    assert len(shown) - status <= 4, "the footer is not last:\n" + text  # the counts may take a second line
    assert re.search(r"(?:^|· )q(?: quits)?$|^any key closes the help$", shown[-1]), (
        "the footer's keys are not last:\n" + text
    )
    assert all(len(line) <= columns for line in lines)


@pytest.mark.parametrize(("project", "interview"), [("plain", "INT-46"), ("suggested", "INT-07"), ("plain", "INT-10")])
def test_at_60x18_every_turn_and_its_help_fit_the_window(projects, project, interview):
    s = Screen(["--db", projects[project], "code", "--coder", "small", "--interview", interview], *SMALL)
    try:
        screen = s.settle("to go │")
        for _ in range(12):  # the first dozen turns: every kind of screen the interview has
            if "End of the scope" in "\n".join(screen):
                break
            assert_fits(screen, SMALL[0])
            assert code_rows(screen)
            helped = s.key("?")
            assert_fits(helped, SMALL[0])
            assert any(line.startswith("enter, a") for line in helped), "\n".join(helped)
            # The whole help, every key on it, and how to leave it: the turn gave it its room.
            assert any(line.startswith("q ") for line in helped), "\n".join(helped)
            assert not any(re.match(r"… \d+ more lines?", x) for x in helped), "\n".join(helped)
            assert_fits(s.key("\x1b"), SMALL[0])
            screen = s.key("x", until="│")  # "saved …: no code" on the next screen, a line more to fit
    finally:
        s.close()


def test_at_60x18_every_review_screen_fits_the_window(projects):
    s = Screen(["--db", projects["plain"], "review", "--coders", "coder-a,coder-b"], *SMALL)
    try:
        screen = s.settle("to go │")
        for _ in range(6):
            assert_fits(screen, SMALL[0])
            assert_fits(s.key("?"), SMALL[0])
            s.key("\x1b")
            assert_fits(s.key("e"), SMALL[0])
            s.key("e")
            screen = s.key("n")
    finally:
        s.close()


NATO = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet", "Kilo", "Lima"]
ANY_ROW = re.compile(r"^ ?(\d| ) \[(✓| )\] ■ (\w+) ")


def test_no_checked_code_is_out_of_sight_and_enter_waits_for_a_window_that_shows_them(tmp_path):
    """One long turn, twelve suggestions, ten pre-checked (three past the ninth, unnumbered): at 60x18 every checked
    row is on the screen (the unchecked ones and the turn gave way); at 50x12 they cannot all be, so the screen says
    so and no key saves (or unchecks) anything; in a larger window fewer are checked, and then 50x12 shows them."""
    from tests.conftest import query, write
    from tests.session_helpers import participant_turns, suggest

    said = " ".join(
        f"In year {n} the fund paid the agencies late and the workers waited for months." for n in range(30)
    )
    transcript = write(
        tmp_path / "INT-90.md",
        "---\ninterview: INT-90\ntitle: One long answer\nlanguage: en\ninterviewers:\n- EV1\nparticipants:\n"
        f"- id: P900\n  speaker: Ana Long\n---\n\nEV1: Tell me everything.\n\nAna Long: {said}\n",
    )
    codebook = "codebook: Many\nmin_score: 0.3\ncodes:\n" + "".join(f"  - name: {n}\n" for n in NATO)
    cli = Cli(tmp_path / "long.db")
    cli("import", transcript)
    cli("codebook", "load", write(tmp_path / "many.yml", codebook))
    (turn,) = participant_turns(cli.db_path)
    for n, code in enumerate(NATO):  # in this order on the screen; Bravo and Echo not pre-checked
        suggest(cli.db_path, turn, code, 0.99 - n / 100, probability=0.5 if code in ("Bravo", "Echo") else 0.9)
    checked = [c for c in NATO if c not in ("Bravo", "Echo")]

    def rows(lines: list[str]) -> dict[str, str]:
        return {m[3]: m[2] for line in lines if (m := ANY_ROW.match(line))}

    s = Screen(["--db", cli.db_path, "code", "--coder", "ana"], *SMALL)
    try:
        screen = s.settle("to go │")
        assert_fits(screen, SMALL[0])
        assert {c: "✓" for c in checked}.items() <= rows(screen).items(), "\n".join(screen)
        assert any("+ 2 unchecked codes hidden: enlarge the window" in line for line in screen), "\n".join(screen)
        s.key("?")
        s.key("a")  # the help covers the codes: any key closes it and accepts nothing
        screen = s.key("?")
        screen = s.key("\r")
        assert rows(screen) and query(cli.db_path, "SELECT count(*) FROM codings") == [(0,)], "\n".join(screen)
        screen = s.resize(50, 12)
        assert_fits(screen, 50)
        assert not rows(screen) and "too small to show the checked codes" in " ".join(screen), "\n".join(screen)
        screen = s.key("\r")
        assert any(line.startswith("not saved: the window is too small") for line in screen), "\n".join(screen)
        assert query(cli.db_path, "SELECT count(*) FROM codings") == [(0,)]
        screen = s.key("1")  # nor does a digit change what cannot be seen
        assert any(line.startswith("not saved: the window is too small") for line in screen), "\n".join(screen)
        screen = s.resize(*SMALL)  # where the checked codes are seen, the digits act
        assert {c: "✓" for c in checked}.items() <= rows(screen).items(), "\n".join(screen)
        for digit in "1346789":  # unchecks the numbered ones: Juliet, Kilo and Lima stay checked
            s.key(digit)
        screen = s.resize(50, 12)
        assert_fits(screen, 50)
        assert {c for c, box in rows(screen).items() if box == "✓"} == {"Juliet", "Kilo", "Lima"}, "\n".join(screen)
        s.key("\r", until="End of the scope")
    finally:
        s.close()
    saved = query(cli.db_path, "SELECT k.name FROM codings c JOIN codes k ON k.id = c.code_id ORDER BY k.name")
    assert saved == [("Juliet",), ("Kilo",), ("Lima",)]


def printed(db, args: list, columns: int, *, raw: bool = False) -> str:
    """All that a command writes to a terminal COLUMNS wide, escape sequences removed (unless RAW)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", NO_COLOR="1")
    child = pexpect.spawn(
        sys.executable, ["-m", "qualcode", "--db", str(db), *map(str, args)], dimensions=(24, columns), env=env
    )
    try:
        out = child.read().decode()
    finally:
        child.close()
    return out if raw else ANSI.sub("", out).replace("\r\n", "\n")


# A whole number as printed (386, 0.914, 96.9%): a cut one ("38") is another number, so counting them finds it.
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*%?(?![\w.,]?\w)")


def tokens(out: str) -> set[str]:
    """The words of an output, box drawing and the punctuation around words left out."""
    return {w.strip("(),;:.\"'") for w in re.split(r"[\s│┃┏┓┗┛┡┩┳┻╇╈━─┌┐└┘┬┴┼├┤]+", out)} - {""}


# The tables QA found cut at 80 or 120 columns: a study base of 28 shown as "2", audit counts shortened, a code path
# or an interview's title broken inside a word. The default audit is there to stay a table at 80 columns.
TABLES = [
    ["export", "matrix", "--by", "case_study", "--coder", "coder-a"],
    ["export", "matrix", "--by", "gender", "--coder", "coder-a"],
    ["audit", "--coders", "coder-a,coder-b", "--wide", "--level", "criterion"],
    ["audit", "--coders", "coder-a,coder-b"],
    ["interviews"],
    ["segments", "--code", "Efficiency", "--coder", "coder-a"],
    ["disagreements", "--coders", "coder-a,coder-b", "--interview", "INT-05"],
    ["search", "recruitment fees"],
]


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("args", TABLES, ids=lambda a: "-".join(a[:2]))
def test_a_table_on_a_narrow_terminal_cuts_no_number_and_breaks_no_word(projects, args, columns):
    """Whatever the width, every number of the table is on the screen whole, and every word is: text wraps at
    spaces, and a table that cannot fit so is shown one row per block."""
    piped = Cli(projects["plain"])(*args).stdout  # in a pipe: whole cells, one row per line
    out = printed(projects["plain"], args, columns)
    assert max(len(line) for line in out.splitlines()) <= columns, out
    missing = collections.Counter(NUMBER.findall(piped)) - collections.Counter(NUMBER.findall(out))
    assert not missing, f"numbers cut or lost at {columns} columns: {sorted(missing)}\n{out}"
    broken = tokens(out) - tokens(piped)
    assert not broken, f"words broken at {columns} columns: {sorted(broken)[:20]}\n{out}"
    assert tokens(piped) <= tokens(out)


# Each sequence, and what the terminal must not see of it: an OSC runs until its terminator, so its opening is enough.
HOSTILE = {
    "\x1b]0;pwned\x07": "\x1b]",
    "\x1b[2J": "\x1b[2J",  # clears the screen
    "\x1b[H": "\x1b[H",  # moves the cursor
    "\x9b31m": "\x9b",  # a C1 control sequence introducer
    "\x1b[31m": "\x1b[31m",  # a colour (NO_COLOR is set: qualcode itself writes none)
}


def test_escape_sequences_in_a_transcript_never_reach_the_terminal(tmp_path):
    """A transcript's text may hold anything; on a terminal its control characters are shown, not obeyed."""
    from tests.conftest import CODEBOOK, write

    source = (CORPUS / "INT-10.md").read_text(encoding="utf-8")
    evil = "Without " + "".join(HOSTILE) + " hesitation,"
    path = write(tmp_path / "INT-10.md", source.replace("Without hesitation,", evil, 1))
    cli = Cli(tmp_path / "evil.db")
    cli("import", path)
    cli("codebook", "load", CODEBOOK)
    cli("apply", "INT-10", "3", "Impact", "--coder", "ana")
    exports = (["export", "segments", "--coder", "ana"], ["report", "--coder", "ana"])
    for args in (["show", "INT-10"], ["segments", "--code", "Impact"], ["search", "Without hesitation"], *exports):
        raw = printed(cli.db_path, args, 120, raw=True).encode()
        for sequence, seen in HOSTILE.items():
            assert seen.encode() not in raw, f"{' '.join(args)} let {sequence!r} through"
        assert b"pwned" in raw  # shown, not dropped
    # The coding session draws its own escape sequences: the transcript's must not be among them.
    s = Screen(["--db", cli.db_path, "code", "--coder", "bo", "--interview", "INT-10"], 120, 40)
    try:
        s.settle("to go │")
        for _ in range(14):
            if b"pwned" in s.raw:
                break
            s.key("n")
        assert b"pwned" in s.raw, s.lines()
        assert b"\x1b]0;pwned" not in s.raw and b"\x9b31m" not in s.raw
    finally:
        s.close()


@pytest.mark.parametrize(
    "command",
    [
        ["code", "--coder", "ana", "-i", "INT-46"],
        ["review", "--coders", "coder-a,coder-b", "--as", "c", "-i", "INT-05"],
    ],
)
def test_a_session_refuses_to_run_blind_with_stdout_redirected_from_a_terminal(projects, tmp_path, command):
    """Keys from the terminal, the screen into a file: the user would record decisions they cannot see."""
    from tests.conftest import dump

    db = copy_db(projects["plain"], tmp_path / "blind.db")
    before = dump(db)
    out = tmp_path / "out.txt"
    args = " ".join(map(str, [sys.executable, "-m", "qualcode", "--db", db, *command]))
    child = pexpect.spawn(
        "/bin/sh", ["-c", f"{args} > {out}"], dimensions=(24, 80), env={**os.environ, "NO_COLOR": "1"}
    )
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    said = child.before.decode()
    assert child.exitstatus == 2, said
    assert "terminal" in said and "pipe" in said and "stdin" in said, said
    assert out.read_text() == "" and dump(db) == before  # nothing drawn, nothing carried over or decided


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_restore_the_terminal_and_keep_what_was_decided(projects, tmp_path, signum):
    import termios

    from tests.conftest import query

    db = copy_db(projects["plain"], tmp_path / "killed.db")
    s = Screen(["--db", db, "code", "--coder", "kim", "--interview", "INT-46"], 80, 24)
    try:
        s.settle("to go │")
        s.key("1")
        s.key("\r")  # one decision, stored at once
        assert "1 of 6 decided" in "\n".join(s.key("3"))  # and a code checked, not yet accepted
        s.child.kill(signum)
        s.settle("decisions this session")
        lflag = termios.tcgetattr(s.child.child_fd)[3]
        s.child.expect(pexpect.EOF)
        raw = s.raw.decode()
        assert raw.index("\x1b[?1049h") < raw.rindex("\x1b[?1049l"), raw[-300:]  # out of the alternate screen
        assert raw.rindex("\x1b[?1049l") < raw.index("kim: 1 decision this session")
        assert lflag & termios.ICANON and lflag & termios.ECHO  # out of cbreak mode: typing echoes again
    finally:
        s.close()
    assert s.child.exitstatus == 128 + signum
    assert query(db, "SELECT count(DISTINCT turn_id) FROM live_codings WHERE coder = 'kim'") == [(1,)]


@pytest.mark.parametrize(
    "command",
    [["code", "--coder", "pick", "--interview", "INT-10"], ["review", "--coders", "coder-a,coder-b", "--as", "pick"]],
)
def test_the_enter_typed_after_picking_from_a_list_of_codes_saves_nothing(projects, tmp_path, command):
    """c, "Cross", enter, 5, enter: the list took one key, so the enter typed after the 5 (as after the name)
    accepted the turn. The number is a line, like the name: typed, then enter."""
    from tests.conftest import query

    db = copy_db(projects["plain"], tmp_path / "pick.db")
    s = Screen(["--db", db, *command], 80, 24)
    try:
        s.settle("to go │")
        s.key("n" if command[0] == "code" else "e")
        saved = query(db, "SELECT count(*) FROM codings")  # a review has carried the agreed turns over
        s.key("c", until="code name")
        s.child.send("Cross")
        screen = s.key("\r", until="number")
        assert screen[-1].startswith("number, then enter"), "\n".join(screen)
        s.key("5", until="cancels): 5")
        screen = s.key("\r", until="checked Cross-cutting themes/")
        text = "\n".join(screen)
        assert any(line.startswith("checked Cross-cutting themes/") for line in screen), text
        assert "saved" not in text and query(db, "SELECT count(*) FROM codings") == saved, text
    finally:
        s.close()


def test_while_choosing_sentences_in_a_short_window_the_arrows_scroll_them_and_the_prompt_fits(projects):
    """k in a short window: the sentences were cut with "↓ ↑ scroll", but the arrows did nothing while the prompt
    was up, and at 60 columns the prompt itself was cut."""
    s = Screen(["--db", projects["plain"], "code", "--coder", "ana", "--interview", "INT-10"], 60, 12)
    where = re.compile(r"lines (\d+)–(\d+) of the turn's (\d+)")
    try:
        s.settle("to go │")
        s.key("n", until="│")  # turn 3: eleven sentences
        screen = s.key("k", until="sentences to code")
        prompt = [line for line in screen if line.strip()][-1]
        assert prompt.startswith("sentences to code") and prompt.endswith("whole turn):"), "\n".join(screen)
        first = next(where.search(line) for line in screen if where.search(line))
        assert first[1] == "1", "\n".join(screen)
        screen = s.key("\x1b[B", until="of the turn's")
        moved = next(where.search(line) for line in screen if where.search(line))
        prompt = [line for line in screen if line.strip()][-1]
        assert moved[1] == "2" and prompt.startswith("sentences to code"), "\n".join(screen)
        assert screen[0].startswith("INT-10 · "), "\n".join(screen)
        s.child.send("1")
        screen = s.key("\r", until="only sentence 1")
        assert any(line.strip() == "only sentence 1 (k changes it)" for line in screen), "\n".join(screen)
    finally:
        s.close()


@pytest.mark.parametrize(
    ("key", "typed", "said"),
    [
        ("m", "quote is about tripartism", "memo: quote is about"),
        ("c", "Gender", "checked Cross-cutting themes/Gender"),
    ],
)
def test_what_is_typed_at_a_prompt_survives_a_window_too_small(projects, tmp_path, key, typed, said):
    """QA s26-d #3: a memo typed at m (or a name at c) was thrown away when the window shrank to too small before
    enter: the guard refused the line. A memo is not a save, so it is kept; a code's name waits, typed, until the
    window shows the codes again."""
    from tests.conftest import query

    db = copy_db(projects["suggested"], tmp_path / "typed.db")
    s = Screen(["--db", db, "code", "--coder", "qa", "--interview", "INT-10"], 80, 24)
    try:
        s.settle("to go │")
        s.key("n")
        for digit in "12345":  # five codes checked: at 60x8 they cannot all be shown
            s.key(digit)
        s.key(key, until="memo" if key == "m" else "code name")
        s.child.send(typed)
        s.settle(typed)
        screen = s.resize(60, 8)
        assert "too small" in " ".join(screen), "\n".join(screen)
        screen = s.key("\r", until="")
        screen = s.resize(80, 24)
        if key == "c":
            screen = s.key("\r", until=said)
        assert said in "\n".join(screen), "\n".join(screen)
        assert query(db, "SELECT count(*) FROM codings WHERE coder = 'qa'") == [(0,)]
    finally:
        s.close()
