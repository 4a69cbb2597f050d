"""The command line as a shell sees it: global options anywhere, data (not a screen) in a pipe, stderr as documented."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from qualcode.cli import app
from tests.conftest import CODEBOOK, CORPUS, Cli, query, write


def test_db_and_quiet_work_after_the_command_name_too(tmp_path):
    runner = CliRunner()
    project = tmp_path / "after.db"
    r = runner.invoke(app, ["import", str(CORPUS / "INT-07.md"), "--db", str(project), "-q"])
    assert r.exit_code == 0, r.output
    assert query(project, "SELECT id FROM interviews") == [("INT-07",)]
    r = runner.invoke(app, ["codebook", "load", str(CODEBOOK), "--db", str(project)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["participants", "--format", "json", "--db", str(project)])
    assert r.exit_code == 0 and '"total": 4' in r.stdout, r.output
    # Before the command name as well, and the later one wins.
    r = runner.invoke(app, ["--db", str(tmp_path / "none.db"), "interviews", "--db", str(project), "-f", "csv"])
    assert r.exit_code == 0 and "INT-07" in r.stdout, r.output
    # -q after the command silences the messages it would print on stderr.
    quiet = ["code", "--coder", "ana", "--code", "Impact", "--db", str(project)]
    r = runner.invoke(app, quiet)
    assert r.exit_code == 0 and "no turns match" in r.stderr, r.output
    r = runner.invoke(app, [*quiet, "-q"])
    assert r.exit_code == 0 and r.stderr == "", r.output
    r = runner.invoke(app, ["audit", "--coders", "a,b", "--db"])
    assert r.exit_code == 2 and "'--db' requires an argument" in r.stderr


def run(*args, db, env=None, **kw) -> subprocess.CompletedProcess:
    """qualcode in a process of its own, stdout and stderr pipes (not terminals), 80 columns as a shell has."""
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "TERM")}
    environ.update({"COLUMNS": "80", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "qualcode", "--db", str(db), *map(str, args)],
        capture_output=True,
        text=True,
        env=environ,
        **kw,
    )


def test_show_in_a_pipe_reproduces_every_turn_exactly(tmp_path):
    db = tmp_path / "p.db"
    assert run("import", CORPUS / "INT-07.md", CORPUS / "INT-10.md", db=db).returncode == 0
    for interview in ("INT-07", "INT-10"):  # INT-10 has a turn of two paragraphs
        r = run("show", interview, db=db)
        assert r.returncode == 0, r.stderr
        turns = query(
            db,
            """SELECT t.idx, s.label, t.text FROM turns t JOIN speakers s ON s.id = t.speaker_id
               WHERE t.interview_id = ? ORDER BY t.idx""",
            [interview],
        )
        for idx, label, text in turns:
            assert f"\n[{idx}] {label}\n{text}\n" in r.stdout
        assert not [line for line in r.stdout.splitlines() if line != line.rstrip()]  # no padding either
    # The longest line is a whole turn, far past 80 columns.
    assert max(len(line) for line in r.stdout.splitlines()) > 200


def test_a_table_in_a_pipe_is_plain_columns_with_whole_cells(tmp_path):
    db = tmp_path / "p.db"
    run("import", *(CORPUS / f"INT-{n:02}.md" for n in range(1, 11)), db=db)
    r = run("participants", "--by", "stakeholder_group", db=db)
    lines = r.stdout.splitlines()
    header = next(line for line in lines if line.startswith("stakeholder_group"))
    assert header.split() == ["stakeholder_group", "total", "woman", "man"]
    assert any(line.split("  ")[0] == "Employers' organisation" for line in lines)
    assert not any(c in r.stdout for c in "│┃┏┡")
    r = run("interviews", db=db)
    rows = [line for line in r.stdout.splitlines() if line.startswith("INT-")]
    assert len(rows) == 10  # one line per interview, every attribute on it
    assert all("case_study=" in row and "mode=" in row for row in rows)


def test_stderr_in_a_file_gets_messages_but_no_progress(tmp_path):
    db = tmp_path / "p.db"
    r = run("import", *(CORPUS / f"INT-{n:02}.md" for n in range(1, 6)), db=db)
    assert r.returncode == 0 and r.stderr == ""  # no progress bar
    run("codebook", "load", CODEBOOK, db=db)
    r = run("export", "participants", "-o", tmp_path / "p.md", db=db)
    assert r.stderr == f"wrote the participants to {tmp_path / 'p.md'}\n"
    r = run("export", "participants", "-o", tmp_path / "p.md", "-q", db=db)
    assert r.returncode == 0 and r.stderr == ""


def test_counts_of_one_are_singular_and_titles_say_what_they_count(cli, tmp_path):
    cli("import", CORPUS / "INT-07.md")
    cli("codebook", "load", CODEBOOK)
    cli("apply", "INT-07", "3", "Efficiency/Value for money", "--coder", "ana")
    tree = cli("codebook", "show").stdout
    assert "codings: all coders pooled" in tree.splitlines()[0]
    assert "Value for money  1 coding, 0 suggestions" in tree
    r = cli("code", "merge", "Efficiency/Value for money", "Efficiency/Funding and timeliness")
    assert "1 coding moved; 0 child codes moved" in r.stderr
    r = cli("segments", "--code", "Efficiency/Funding and timeliness")
    assert "1 segment coded Efficiency/Funding and timeliness" in r.stdout
    r = cli("participants", "--by", "stakeholder_group")
    assert r.stdout.startswith("Participants by stakeholder group and gender\n")


def test_a_table_in_a_pipe_has_one_line_per_row_whatever_the_cells_hold(tmp_path):
    """A turn of two paragraphs and the speaker's two-line cell stay on their row's line in a pipe; CSV keeps them."""
    db = tmp_path / "p.db"
    setup = Cli(db)  # in this process: only the outputs checked need a pipe of their own
    setup("import", CORPUS / "INT-10.md")  # turn 3 is two paragraphs
    setup("codebook", "load", CODEBOOK)
    setup("apply", "INT-10", "3", "Impact", "--coder", "ana", "--memo", "first line\nsecond line")
    setup("apply", "INT-10", "1", "Impact", "--coder", "ana")
    setup("apply", "INT-10", "3", "Relevance", "--coder", "ben")
    setup("apply", "INT-10", "1", "Relevance", "--coder", "ben")
    (text,) = query(db, "SELECT text FROM turns WHERE interview_id = 'INT-10' AND idx = 3")[0]
    assert "\n" in text
    flat = " ".join(text.split())
    for args in (
        ["segments", "--code", "Impact"],
        ["search", "hesitation OR cooperated"],
        ["disagreements", "--coders", "ana,ben"],
    ):
        r = run(*args, db=db)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        body = lines[2 : lines.index("")]  # header, rule, the rows, a blank line, the caption
        assert len(body) == 2 and all("INT-10" in line.split() for line in body), r.stdout
        if args[0] != "search":  # a search shows a snippet of the turn
            assert any(flat in line for line in body), r.stdout
    r = run("segments", "--code", "Impact", "--format", "csv", db=db)
    assert text.replace("\n", "\r\n") in r.stdout or text in r.stdout  # CSV keeps the text as stored
    assert "first line\nsecond line" in r.stdout


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_reader_that_goes_away_ends_the_command_quietly_with_the_status_of_sigpipe(tmp_path, unbuffered):
    """`qualcode ... | head -1`: the same quiet exit 141 (128 + SIGPIPE, as git and cat give) whether the command
    prints to stdout or writes `-o /dev/stdout`, and whether Python's stdout is buffered or not."""
    db = tmp_path / "p.db"
    codes = "".join(
        f"  - name: Code number {i:04} with a long name\n    definition: What code {i} means.\n" for i in range(1500)
    )
    Cli(db)("codebook", "load", write(tmp_path / "big.yml", f"codebook: big\ncodes:\n{codes}"))
    qualcode = " ".join(shlex.quote(str(a)) for a in [sys.executable, "-m", "qualcode", "--db", db])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"PYTHONUNBUFFERED": unbuffered}
    for args in ("codebook export", "codebook export -o /dev/stdout", "codebook show"):  # each far past a pipe's 64 KiB
        line = f"{{ {qualcode} {args} 2> err; echo $? > status; }} | head -1"
        r = subprocess.run(["sh", "-c", line], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
        assert r.stdout.count("\n") == 1, args
        said = (tmp_path / "err").read_text()
        assert (tmp_path / "status").read_text() == "141\n" and said == "", (args, said)


@pytest.mark.parametrize("args", ["--help", "--version", "import --help"])
def test_help_and_version_to_a_reader_that_went_away_end_with_the_status_of_sigpipe(tmp_path, args):
    """Top-level `--help` and `--version` print while Click parses the options, before any command runs: Click's own
    answer to a closed pipe there is exit 1, where every command answers 141."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        r = subprocess.run([sys.executable, "-m", "qualcode", *args.split()], stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert r.returncode == 141 and r.stderr == b""
