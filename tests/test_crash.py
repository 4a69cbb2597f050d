"""Crash safety: `qualcode import` and `qualcode suggest` killed with SIGKILL at random moments.

Each run is `python -m qualcode ...` in its own process. A `sitecustomize` put in front of it on PYTHONPATH
wraps `qualcode.store.db.transaction` so the process notes, in a log the test reads as it goes, the time each
transaction begins and ends (writes that survive SIGKILL, as they go to the kernel at once). The log lets a kill
land at a chosen moment of the writing phase, and tells afterwards whether it landed inside a transaction. The
hook also shrinks SQLite's page cache to 8 pages, so a transaction spills pages into the WAL before it commits and
a kill leaves uncommitted frames for recovery to throw away (counted from the WAL file before anything reopens it).

Each seed picks a transaction of an uninterrupted reference run and an offset after it begins: "anywhere" spreads
the kill over the whole gap until the next one begins (mostly between transactions for suggest, which scores
before it writes), "inside" keeps it within half the shortest transaction of the reference run. After every kill:
SQLite's integrity
check and `qualcode check` are clean, nothing is half there (every interview, or every scored turn, is exactly
what the uninterrupted run made), and running the same command again finishes the work and says so.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qualcode.store import maintenance
from qualcode.store.db import open_project
from tests.conftest import CODEBOOK, CORPUS, ROOT, Cli, copy_db, query

HOOK = """
import contextlib, os, time

_log = os.environ.get("QUALCODE_TX_LOG")
if _log:
    from qualcode.store import db as _db

    _fd = os.open(_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    _inner = _db.transaction

    def _mark(event):
        os.write(_fd, f"{time.monotonic():.6f} {event}\\n".encode())

    @contextlib.contextmanager
    def transaction(database):
        outer = not database.conn.in_transaction
        if outer:
            _mark("begin")
        try:
            with _inner(database) as d:
                yield d
                if outer:  # the COMMIT comes next: killed from here until "commit", it may or may not have landed
                    _mark("committing")
        except BaseException:
            if outer:
                _mark("rollback")
            raise
        if outer:
            _mark("commit")

    _db.transaction = transaction

    # A page cache of a few pages: SQLite then spills a transaction's pages into the WAL before it commits, so a
    # kill leaves uncommitted frames there that recovery must discard (with the default 2 MB cache it rarely does).
    _connect = _db.connect

    def connect(path, **options):
        database = _connect(path, **options)
        database.conn.execute("PRAGMA cache_size = 8")
        return database

    _db.connect = connect
"""

STRAYS = """SELECT id FROM participants WHERE id NOT IN (SELECT participant_id FROM interview_participants)
            UNION ALL SELECT id FROM interviewers WHERE id NOT IN (SELECT interviewer_id FROM interview_interviewers)"""
IMPORT_SEEDS = [(101, "inside"), (102, "anywhere"), (103, "inside")]
SUGGEST_SEEDS = [(201, "inside"), (202, "anywhere"), (203, "inside")]


@pytest.fixture(scope="module")
def hook(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hook")
    (folder / "sitecustomize.py").write_text(HOOK)
    return folder


def spawn(hook: Path, db: Path, log: Path, *args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{ROOT / 'src'}", "QUALCODE_TX_LOG": str(log)}
    return subprocess.Popen(
        [sys.executable, "-m", "qualcode", "--db", str(db), "-q", *map(str, args)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def events(log: Path) -> list[tuple[float, str]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().split("\n")[:-1]:  # complete lines only: the last may be being written
        t, _, what = line.partition(" ")
        out.append((float(t), what))
    return out


def uninterrupted(hook: Path, db: Path, log: Path, *args) -> dict:
    """Run to the end; the transactions' timing (count, gap between begins, shortest) for choosing kills."""
    proc = spawn(hook, db, log, *args)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    ev = events(log)
    ev = [(t, e) for t, e in ev if e != "committing"]
    begins = [t for t, e in ev if e == "begin"]
    ends = [t for t, e in ev if e != "begin"]
    assert len(begins) == len(ends) and all(e == "commit" for _, e in ev if e != "begin")
    return {
        "transactions": len(begins),
        "gap": statistics.median(b - a for a, b in itertools.pairwise(begins)),
        "shortest": min(e - b for b, e in zip(begins, ends, strict=True)),
    }


def uncommitted_frames(db: Path) -> int:
    """Pages the killed process wrote to the WAL after its last commit: what recovery must throw away."""
    wal = db.with_name(db.name + "-wal")
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < 32:
        return 0
    page, salts = int.from_bytes(data[8:12], "big"), data[16:24]
    pending, pos = 0, 32
    # Frames of the current WAL cycle (their salts match the header); a commit frame has a non-zero size field.
    while pos + 24 + page <= len(data) and data[pos + 8 : pos + 16] == salts:
        committed = int.from_bytes(data[pos + 4 : pos + 8], "big")
        pending = 0 if committed else pending + 1
        pos += 24 + page
    return pending


def kill(proc: subprocess.Popen, db: Path, log: Path, rng: random.Random, mode: str, timing: dict) -> dict:
    """SIGKILL PROC at the seeded moment: OFFSET seconds after its TARGET-th transaction began."""
    target = rng.randint(1, timing["transactions"])
    span = timing["gap"] if mode == "anywhere" else 0.5 * timing["shortest"]
    offset = rng.uniform(0, span)
    deadline = time.monotonic() + 300
    at = None
    while at is None:
        begins = [t for t, e in events(log) if e == "begin"]
        if len(begins) >= target:
            at = begins[target - 1] + offset
        elif proc.poll() is not None or time.monotonic() > deadline:
            break
        else:
            time.sleep(0.0005)
    if at is not None:
        time.sleep(max(0.0, at - time.monotonic()))
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    ev = events(log)
    return {
        "target": target,
        "offset_ms": round(offset * 1000, 1),
        "killed": not finished,
        "committed": sum(e == "commit" for _, e in ev),
        "mid_transaction": not finished and bool(ev) and ev[-1][1] == "begin",
        # Killed between COMMIT's start and its "commit" mark: SQLite may have made it durable or not.
        "in_commit": not finished and bool(ev) and ev[-1][1] == "committing",
        "wal_frames_discarded": uncommitted_frames(db),
    }


def sound(db: Path) -> None:
    """SQLite's integrity check, and every check of `qualcode check` (foreign keys, offsets, search index...)."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    project = open_project(db)
    try:
        problems = {c["check"]: c["examples"] for c in maintenance.check(project) if c["problems"]}
    finally:
        project.conn.close()
    assert problems == {}


TURNS = """SELECT t.idx, s.label, t.start, t.end, t.start_s, t.end_s, t.text, t.words
           FROM turns t JOIN speakers s ON s.id = t.speaker_id WHERE t.interview_id = ? ORDER BY t.idx"""
PER_INTERVIEW = [
    """SELECT t.idx, s.idx, s.start, s.end FROM sentences s JOIN turns t ON t.id = s.turn_id
       WHERE t.interview_id = ? ORDER BY t.idx, s.idx""",
    "SELECT label, participant_id, interviewer_id FROM speakers WHERE interview_id = ? ORDER BY label",
    "SELECT name, value FROM interview_attributes WHERE interview_id = ? ORDER BY name",
    "SELECT participant_id FROM interview_participants WHERE interview_id = ? ORDER BY 1",
    "SELECT interviewer_id FROM interview_interviewers WHERE interview_id = ? ORDER BY 1",
]


def interviews(db: Path) -> dict[str, tuple]:
    """Everything stored for each interview, without row ids, GUIDs and times: equal means identically imported."""
    if not db.exists() or not query(db, "SELECT 1 FROM sqlite_master WHERE name = 'interviews'"):
        return {}
    out = {}
    rows = query(
        db,
        "SELECT id, title, date, language, source_file, format, source_hash, text_hash, text "
        "FROM interviews ORDER BY id",
    )
    for iid, *row in rows:
        text, turns = row[-1], query(db, TURNS, [iid])
        assert turns, f"{iid} has no turns"
        assert all(text[a:b] == t for _, _, a, b, _, _, t, _ in turns), f"{iid}: turn offsets miss its text"
        out[iid] = (tuple(row), tuple(turns), *(tuple(query(db, sql, [iid])) for sql in PER_INTERVIEW))
    return out


SCORED = "SELECT t.interview_id, t.idx FROM scored_turns st JOIN turns t ON t.id = st.turn_id"
SUGGESTIONS = """SELECT t.interview_id, t.idx, k.key, s.unit, s.start, s.end, s.score, s.pattern_score, s.model_score,
                        s.source, s.evidence, s.pattern_hash, s.model_version
                 FROM suggestions s JOIN turns t ON t.id = s.turn_id JOIN codes k ON k.id = s.code_id
                 ORDER BY t.interview_id, t.idx, k.key, s.unit, s.start"""


def suggestions(db: Path) -> dict[tuple, list[tuple]]:
    """(interview, turn) → its suggestions without row ids and times, for every turn marked scored."""
    out: dict[tuple, list[tuple]] = {(iid, idx): [] for iid, idx in query(db, SCORED)}
    for iid, idx, *row in query(db, SUGGESTIONS):
        assert (iid, idx) in out, f"{iid} turn {idx} has suggestions but is not marked scored: half a batch"
        out[(iid, idx)].append(tuple(row))
    return out


def report(what: str, rows: list[dict]) -> None:
    landed = sum(r["mid_transaction"] for r in rows)
    print(f"\n{what}: {len(rows)} kills, {landed} inside a transaction")  # shown with -s or -rP
    for r in rows:
        print("  " + ", ".join(f"{k}={v}" for k, v in r.items()))


@pytest.fixture(scope="module")
def imported(hook, tmp_path_factory) -> tuple[Path, dict]:
    """The shipped corpus imported without interruption, and that run's transaction timing."""
    folder = tmp_path_factory.mktemp("reference")
    db = folder / "imported.db"
    timing = uninterrupted(hook, db, folder / "import.log", "import", CORPUS)
    return db, timing


def test_import_killed_at_random_moments_leaves_whole_interviews_and_resumes(hook, imported, tmp_path):
    reference_db, timing = imported
    reference = interviews(reference_db)
    # The schema, then the files in groups of about importer.GROUP_CHARS characters (several groups, so kills land
    # between groups and inside them).
    assert len(reference) == 64 and 3 <= timing["transactions"] < 65
    rows = []
    for seed, mode in IMPORT_SEEDS:
        db, log = tmp_path / f"import-{seed}.db", tmp_path / f"import-{seed}.log"
        outcome = kill(spawn(hook, db, log, "import", CORPUS), db, log, random.Random(seed), mode, timing)
        present = interviews(db)
        if present or db.exists():
            sound(db)
        assert {iid: present[iid] for iid in present} == {iid: reference[iid] for iid in present}
        if present:  # nobody left over from an interview that did not make it
            assert query(db, STRAYS) == []
        r = Cli(db)("import", CORPUS, "--format", "json")
        status = {x["interview"]: x["status"] for x in json.loads(r.stdout)}
        assert {iid for iid, s in status.items() if s == "unchanged"} == set(present)
        assert {iid for iid, s in status.items() if s == "imported"} == set(reference) - set(present)
        sound(db)
        assert interviews(db) == reference
        rows.append({"seed": seed, "mode": mode, **outcome, "interviews_before_rerun": len(present)})
    report("import", rows)
    assert all(r["killed"] for r in rows)
    assert any(r["mid_transaction"] for r in rows)


def test_suggest_killed_at_random_moments_keeps_whole_batches_and_resumes(hook, imported, tmp_path):
    """One project, killed once per seed: each run after the first resumes the work the last one left (so a crash
    while catching up after a crash is covered too); then an uninterrupted run finishes it."""
    base = copy_db(imported[0], tmp_path / "base.db")
    Cli(base)("codebook", "load", CODEBOOK)
    reference_db = copy_db(base, tmp_path / "reference.db")
    timing = uninterrupted(hook, reference_db, tmp_path / "reference.log", "suggest")
    reference = suggestions(reference_db)
    turns = len(reference)
    batches = -(-turns // 128)  # one transaction per batch of 128 turns
    assert turns > 1000 and timing["transactions"] == batches
    db = copy_db(base, tmp_path / "suggest.db")
    rows, scored = [], {}
    for seed, mode in SUGGEST_SEEDS:
        log = tmp_path / f"suggest-{seed}.log"
        left = dict(timing, transactions=-(-(turns - len(scored)) // 128))
        outcome = kill(spawn(hook, db, log, "suggest"), db, log, random.Random(seed), mode, left)
        sound(db)
        before, scored = scored, suggestions(db)
        # Every scored turn is whole, with all its suggestions; what earlier runs stored is kept, not scored again.
        assert scored == {k: reference[k] for k in scored}
        assert {k: scored[k] for k in before} == before
        landed = {outcome["committed"] + k for k in ((0, 1) if outcome["in_commit"] else (0,))}
        assert len(scored) in {min(len(before) + n * 128, turns) for n in landed}
        rows.append({"seed": seed, "mode": mode, **outcome, "turns_scored": len(scored)})
    r = Cli(db)("suggest", "--format", "json")
    again = json.loads(r.stdout)
    assert (again["turns scored"], again["already up to date"]) == (turns - len(scored), len(scored))
    sound(db)
    assert suggestions(db) == reference
    report("suggest", rows)
    assert all(r["killed"] for r in rows)
    assert any(r["mid_transaction"] for r in rows)
