"""`qualcode backup` (consistent while others write) and `qualcode check` (each kind of damage named)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qualcode.store.db import open_project
from tests.conftest import CORPUS, ROOT, Cli, copy_db, dump, write

CODEBOOK = """\
codebook: maintenance test
codes:
  - name: Efficiency
  - name: Impact
"""

CODINGS = """\
interview,turn,code,coder,memo,start,end
INT-05,1,,ana,,,
INT-05,5,Efficiency,ana,,,
INT-05,7,Impact,ana,fees,0,40
INT-05,9,Efficiency,ben,,,
"""

# A process that keeps coding: apply and unapply in turn, each its own transaction, until told to stop.
WRITER = """
import sys, pathlib
from qualcode.coding import codings as coding
from qualcode.store.db import open_project
db = open_project(sys.argv[1])
stop, ready = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
i = 0
while not stop.exists():
    turn = 1 + 2 * (i % 6)
    coding.apply(db, "INT-05", turn, ["Impact"], "writer")
    coding.unapply(db, "INT-05", turn, ["Impact"], "writer")
    i += 1
    if i == 3:
        ready.touch()
"""


def execute(db_path: Path, *statements: str) -> None:
    """Damage a project the way a bug or a hand edit could: straight SQL, foreign keys not enforced."""
    with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        for sql in statements:
            conn.execute(sql)


def count(db_path: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("coded") / "coded.db"
    cli = Cli(path)
    cli("import", CORPUS / "INT-05.md")
    cli("codebook", "load", write(path.parent / "codebook.yml", CODEBOOK))
    cli("codings", "import", write(path.parent / "codings.csv", CODINGS))
    return path


@pytest.fixture
def project(coded, tmp_path) -> Cli:
    """A fresh copy of the coded project for each test."""
    return Cli(copy_db(coded, tmp_path / "project.db"))


def checks(cli: Cli, db_path: Path | None = None, expect: int = 1) -> dict[str, dict]:
    r = Cli(db_path or cli.db_path)("check", "--format", "json", expect=expect)
    data = json.loads(r.stdout)
    assert data["ok"] == (expect == 0)
    return {c["check"]: c for c in data["checks"]}


# --- backup --------------------------------------------------------------------------------------------------------


def test_backup_is_a_complete_project_and_is_not_overwritten_without_force(project, tmp_path):
    out = tmp_path / "backups" / "copy.db"
    out.parent.mkdir()
    r = json.loads(project("backup", out, "--format", "json").stdout)
    assert r | {"integrity": "ok", "interviews": 1, "codes": 2, "coders": 2, "codings": 4} == r
    assert r["bytes"] == out.stat().st_size and not Path(f"{out}-wal").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["copy.db"]  # no temporary file left behind
    assert dump(out) == dump(project.db_path)
    checks(project, out, expect=0)

    project("apply", "INT-05", 3, "Impact", "--coder", "ana")
    before = dump(out)
    assert "already exists" in project("backup", out, expect=1).stderr
    assert dump(out) == before
    project("backup", out, "--force")
    assert count(out, "SELECT count(*) FROM codings WHERE deleted_at IS NULL") == 5

    assert "does not exist" in project("backup", tmp_path / "nowhere" / "x.db", expect=1).stderr
    assert "project file itself" in project("backup", project.db_path, "--force", expect=2).stderr


def test_backup_while_another_process_writes_is_consistent(project, tmp_path):
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(project.db_path), str(stop), str(ready)], env=env, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert writer.poll() is None, writer.stderr.read().decode()
            assert time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.05)
        batches = []
        for i in range(3):
            out = tmp_path / f"during-{i}.db"
            r = json.loads(project("backup", out, "--format", "json").stdout)
            assert r["integrity"] == "ok"
            open_project(out).conn.close()  # opens as a project: nothing pending, nothing to repair
            checks(project, out, expect=0)
            batches.append(count(out, "SELECT count(*) FROM batches WHERE coder = 'writer'"))
            time.sleep(0.2)
        assert writer.poll() is None, "the writer kept writing throughout"
    finally:
        stop.touch()
        _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err.decode()
    assert batches == sorted(batches) and batches[-1] > batches[0] > 0
    # Each backup is a moment of the project: every writer batch there is complete, never half-applied.
    for i in range(3):
        out = tmp_path / f"during-{i}.db"
        assert (
            count(
                out,
                "SELECT count(*) FROM batches b WHERE coder = 'writer' AND NOT EXISTS "
                "(SELECT 1 FROM codings c WHERE c.batch_id = b.id OR c.deleted_batch_id = b.id)",
            )
            == 0
        )


# --- check ---------------------------------------------------------------------------------------------------------


def test_a_sound_project_passes_every_check(project):
    r = project("check")
    assert "all checks passed" in r.stdout
    assert all(c["problems"] == 0 for c in checks(project, expect=0).values())


CODING = "(SELECT id FROM codings WHERE memo = 'fees')"
TURN = "(SELECT turn_id FROM codings WHERE memo = 'fees')"

DAMAGE = {
    "integrity": (
        [
            "PRAGMA writable_schema = ON",
            "UPDATE sqlite_master SET sql = replace(sql, '(coder, turn_id)', '(turn_id, coder)') "
            "WHERE name = 'idx_codings_coder'",
        ],
        {"integrity"},
        "missing from index idx_codings_coder",
    ),
    "foreign keys": ([f"UPDATE codings SET coder = 'ghost' WHERE id = {CODING}"], {"foreign keys"}, "codings row"),
    "orphaned": (
        [f"UPDATE codings SET status = 'orphaned', turn_id = NULL WHERE id = {CODING}"],
        {"orphaned codings"},
        "(INT-05, ana)",
    ),
    "code removed": (["DELETE FROM codes WHERE name = 'Impact'"], {"codes", "foreign keys"}, "is not in the codebook"),
    "code and no code": (
        [
            "INSERT INTO codings (interview_id, turn_id, code_id, coder, start, end, quote, origin, created_at, guid) "
            f"SELECT interview_id, turn_id, NULL, coder, start, end, quote, 'manual', created_at, 'g-1' FROM codings "
            f"WHERE id = {CODING}"
        ],
        {"decisions"},
        "both a code and 'no code'",
    ),
    # The removed turn's text is left in no turn, which the coverage check reports too.
    "turn removed": (
        [f"DELETE FROM turns WHERE id = {TURN}"],
        {"turns", "foreign keys", "text in turns"},
        "is missing",
    ),
    "quote": ([f"UPDATE codings SET quote = 'something else' WHERE id = {CODING}"], {"quotes"}, "something else"),
    "consensus basis": (  # ana is no consensus coder: her batch settled nothing
        [
            "INSERT INTO consensus_basis (batch_id, turn_id, coder, code_id, start, end) "
            f"SELECT batch_id, turn_id, coder, code_id, start, end FROM codings WHERE id = {CODING}"
        ],
        {"consensus bases"},
        "is not a consensus coder's decision (its coder: ana)",
    ),
    "coding outside its turn": (
        [f"UPDATE codings SET start = start - 40, quote = 'x' WHERE id = {CODING}"],
        {"coding spans", "quotes"},
        "is not inside turn",
    ),
    "turn text": (["UPDATE turns SET text = text || ' (edited)' WHERE idx = 3"], {"turn offsets"}, "INT-05 turn 3"),
    "sentence": (
        ["UPDATE sentences SET end = end + 5000 WHERE id = (SELECT min(id) FROM sentences)"],
        {"sentences"},
        "is not inside its turn",
    ),
    "language": (
        ["UPDATE interviews SET language = 'klingon' WHERE id = 'INT-05'", "UPDATE codes SET patterns = '[]'"],
        {"languages"},
        "INT-05 is in language 'klingon'",
    ),
    "search index": (
        ["INSERT INTO turns_fts(turns_fts, rowid, text) SELECT 'delete', id, text FROM turns WHERE idx = 5"],
        {"search index"},
        "out of step",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_check_names_each_kind_of_damage(project, damage):
    statements, expected, example = DAMAGE[damage]
    execute(project.db_path, *statements)
    found = checks(project)
    assert {name for name, c in found.items() if c["problems"]} == expected
    assert any(example in e for name in expected for e in found[name]["examples"])
    table = project("check", expect=1).stdout
    assert "checks found problems" in table
