"""`qualcode history` and `qualcode undo`: the audit trail of codings, batch by batch."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import CORPUS, query, write

CB = """\
codebook: History test
codes:
  - name: Relevance
  - name: Efficiency
"""


@pytest.fixture
def project(cli, tmp_path):
    cli("import", CORPUS / "INT-01.md")
    cli("codebook", "load", write(tmp_path / "cb.yml", CB))
    return cli


def history(cli, *extra) -> dict[int, dict]:
    return {r["batch"]: r for r in json.loads(cli("history", "--format", "json", *extra).stdout)}


def figures(h: dict[int, dict]) -> dict[int, tuple]:
    return {b: (r["kind"], r["added"], r["removed"]) for b, r in h.items()}


def test_history_keeps_what_each_batch_did_after_an_undo(project):
    cli = project
    cli("apply", "INT-01", "3", "Relevance", "Efficiency", "--coder", "ana")
    cli("unapply", "INT-01", "3", "Efficiency", "--coder", "ana")
    before = figures(history(cli))
    assert list(before.values()) == [("unapply", 0, 1), ("apply", 2, 0)]
    [unapply, apply] = before

    r = cli("undo", "--coder", "ana")  # the unapply: Efficiency comes back
    assert "undid batch" in r.stderr and "0 removed, 1 restored" in r.stderr
    after = figures(history(cli))
    assert after[unapply] == ("unapply", 0, 1) and after[apply] == ("apply", 2, 0)  # a record, not live state
    [undo] = set(after) - set(before)
    assert after[undo] == ("undo", 1, 0)  # what the undo restored and retired

    cli("undo", "--coder", "ana", "--batch", apply)  # retires both codings, the restored one included
    final = figures(history(cli))
    assert final[apply] == ("apply", 2, 0) and final[unapply] == ("unapply", 0, 1) and final[undo] == ("undo", 1, 0)
    [undo_apply] = set(final) - set(after)
    assert final[undo_apply] == ("undo", 0, 2)
    assert query(cli.db_path, "SELECT count(*) FROM live_codings") == [(0,)]


def test_a_project_from_before_recorded_figures_gets_them_and_marks_what_was_lost(project):
    cli = project
    cli("apply", "INT-01", "3", "Relevance", "--coder", "ana")
    cli("unapply", "INT-01", "3", "Relevance", "--coder", "ana")
    cli("undo", "--coder", "ana")
    cli("apply", "INT-01", "5", "Efficiency", "--coder", "ana")
    [apply5, undo, unapply, apply3] = history(cli)
    conn = sqlite3.connect(cli.db_path)
    # Back to m013's shape: figures computed from the rows, no columns, no triggers (nor m015's, which count).
    for name in ("codings_batch_added", "codings_batch_removed", "codings_batch_revived"):
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("ALTER TABLE codings DROP COLUMN revived_at")
    conn.execute("ALTER TABLE codings DROP COLUMN revived_batch_id")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name IN ('m015_revival_time', 'm016_arrivals_already_retired')")
    conn.execute("ALTER TABLE batches DROP COLUMN added")
    conn.execute("ALTER TABLE batches DROP COLUMN removed")
    conn.execute("ALTER TABLE batches DROP COLUMN coders")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm014_batch_figures'")
    conn.commit()
    conn.close()
    h = figures(history(cli))  # opening the project migrates it
    # The undo cleared what the unapply had removed, and never recorded what it restored: unknown, not 0.
    assert h == {
        apply5: ("apply", 1, 0),
        undo: ("undo", None, 0),
        unapply: ("unapply", 0, None),
        apply3: ("apply", 1, 0),
    }
    assert "not recorded" in cli("history").stdout
    cli("unapply", "INT-01", "5", "Efficiency", "--coder", "ana")
    assert list(figures(history(cli, "--limit", "1")).values()) == [("unapply", 0, 1)]  # recorded from now on


def test_undo_never_brings_back_a_coding_of_a_removed_code_as_a_no_code_decision(project, db_path, tmp_path):
    cli = project
    cli("apply", "INT-01", "3", "Efficiency", "--coder", "x")
    cli("unapply", "INT-01", "3", "Efficiency", "--coder", "x")
    cli("codebook", "load", write(tmp_path / "cb2.yml", CB.replace("  - name: Efficiency\n", "")))
    r = cli("undo", "--coder", "x")
    assert "1 of its codings cannot come back: their code was removed" in r.stderr
    assert query(db_path, "SELECT count(*) FROM live_codings WHERE coder = 'x'") == [(0,)]
