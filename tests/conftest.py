"""Shared fixtures: every test runs in its own folder with its own project file; output width is pinned."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.output import render

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "samples"
CORPUS = ROOT / "transcripts"
CODEBOOK = ROOT / "codebooks" / "dac.yml"
CODINGS = ROOT / "codings"

needs_samples = pytest.mark.skipif(not (SAMPLES / "transcripts").is_dir(), reason="../shared/samples not present")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test touches a real project or depends on the caller's environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUALCODE_DB", str(tmp_path / "test.db"))
    monkeypatch.delenv("QUALCODE_CODER", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    # Rich fixes a console's width from COLUMNS when the console is made, and qualcode makes its two once per
    # process: one made by an earlier test or a module's fixture (another environment) would set this test's width.
    render._CONSOLES.clear()
    yield tmp_path


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "test.db"


class Cli:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, expect: int | None = 0):
        result = self.runner.invoke(app, ["--db", str(self.db_path), *map(str, args)], input=input)
        if expect is not None and result.exit_code != expect:
            raise AssertionError(
                f"qualcode {' '.join(map(str, args))} exited {result.exit_code}, expected {expect}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}"
            )
        return result


@pytest.fixture
def cli(db_path) -> Cli:
    return Cli(db_path)


def query(path: Path, sql: str, params=()) -> list[tuple]:
    """Rows from a project file, read the way an outside tool would (a connection of its own)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def dump(path: Path) -> list[str]:
    """Everything the project holds, as SQL: equal dumps mean an unchanged database."""
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def copy_db(src: Path, dst: Path) -> Path:
    """A consistent copy of a project file by SQLite's backup API, whatever is still in the source's WAL file."""
    with contextlib.closing(sqlite3.connect(src)) as a, contextlib.closing(sqlite3.connect(dst)) as b:
        a.backup(b)
    return dst


# The suite runs on two workers, each taking whole files (`--dist loadfile`); files are handed out in collection
# order, so a long file collected last ran alone at the end. The longest files go first.
LONGEST_FIRST = (
    "test_terminal.py",
    "test_suggest.py",
    "test_crash.py",
    "test_install.py",
    "test_concurrency.py",
    "test_demo.py",
    "test_languages.py",
    "test_hardening.py",
    "test_bad_input.py",
    "test_recount.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's own order is kept
