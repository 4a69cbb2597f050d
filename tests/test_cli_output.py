"""The command line as a shell sees it: global options anywhere, data (not a screen) in a pipe, stderr as documented."""

from __future__ import annotations

from typer.testing import CliRunner

from qualcode.cli import app
from tests.conftest import CODEBOOK, CORPUS, query


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
