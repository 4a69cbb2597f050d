"""Several processes coding one project at once: nothing lost, no "database is locked" reaching anyone.

Four writers at once, each as its own coder so every row it writes can be checked afterwards: two Python loops
calling the library (`qualcode.coding.codings.apply`, one transaction per coding, back to back), a shell loop running
`qualcode codings import` on its own CSV in chunks, and a coding session in line mode deciding turn after turn.

Besides nothing lost and nothing on stderr, the writers must take turns: SQLite's busy handler is no queue, and
without qualcode.db's pause after a burst of commits one library loop kept the write lock for its whole run while
the other waited (which, past the 60 s busy timeout, is "database is locked").
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import time

from qualcode.store import maintenance
from qualcode.store.db import open_project
from tests.conftest import CODEBOOK, CORPUS, ROOT, Cli, query

INTERVIEWS = ("INT-05", "INT-07", "INT-08", "INT-10", "INT-11", "INT-15", "INT-16", "INT-24")
CODES = ("Efficiency/Funding and timeliness", "Relevance/COVID-19 adaptation", "Impact/Changes for migrant workers")
PER_WRITER = 300

# Says it is ready (imported, project open), waits for the starting signal, then applies its plan one coding at a
# time, each its own transaction.
APPLIER = """
import json, pathlib, sys, time
from qualcode.coding import codings as coding
from qualcode.store.db import open_project

db = open_project(sys.argv[1])
coder, plan, go = sys.argv[2], json.loads(pathlib.Path(sys.argv[3]).read_text()), pathlib.Path(sys.argv[4])
(go.parent / f"{coder}.ready").touch()
while not go.exists():
    time.sleep(0.005)
for interview, turn, code in plan:
    r = coding.apply(db, interview, turn, [code], coder)
    assert r["added"] == 1, r
"""


def live(cli: Cli, coder: str) -> set[tuple]:
    """CODER's live codings as (interview, turn, code path), read back through `codings export`."""
    out = cli("codings", "export", "--coder", coder).stdout
    return {(r["interview"], int(r["turn"]), r["code"]) for r in csv.DictReader(out.splitlines())}


def test_four_writers_at_once_lose_nothing(tmp_path):
    db = tmp_path / "shared.db"
    cli = Cli(db)
    cli("import", *(CORPUS / f"{i}.md" for i in INTERVIEWS))
    cli("codebook", "load", CODEBOOK)
    turns = query(db, "SELECT interview_id, idx FROM turns ORDER BY interview_id, idx")
    pairs = [(iid, idx, code) for iid, idx in turns for code in CODES]
    assert len(pairs) >= 2 * PER_WRITER
    plans = {"lib-a": pairs[:PER_WRITER], "lib-b": pairs[-PER_WRITER:], "csv-c": pairs[PER_WRITER // 2 :][:PER_WRITER]}
    participant = query(
        db,
        """SELECT t.interview_id, t.idx FROM turns t JOIN speakers s ON s.id = t.speaker_id
                              WHERE s.participant_id IS NOT NULL ORDER BY t.interview_id, t.idx""",
    )

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    go = tmp_path / "go"
    procs: dict[str, subprocess.Popen] = {}
    for coder in ("lib-a", "lib-b"):
        plan = tmp_path / f"{coder}.json"
        plan.write_text(json.dumps(plans[coder]))
        procs[coder] = subprocess.Popen(
            [sys.executable, "-c", APPLIER, str(db), coder, str(plan), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    chunks = []
    for n in range(0, PER_WRITER, 50):
        chunk = tmp_path / f"csv-c-{n // 50}.csv"
        with open(chunk, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["interview", "turn", "code", "coder", "memo"])
            w.writerows([iid, idx, code, "csv-c", ""] for iid, idx, code in plans["csv-c"][n : n + 50])
        chunks.append(str(chunk))
    qualcode = f'"{sys.executable}" -m qualcode --db "{db}" -q'
    loop = f'for f in {" ".join(chunks)}; do {qualcode} codings import "$f" || exit 1; done'
    keys = tmp_path / "ses-d.keys"
    keys.write_text("x\n" * len(participant) + "q\n")
    start = time.monotonic()
    procs["csv-c"] = subprocess.Popen(
        ["sh", "-c", loop], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with open(keys) as stdin:
        procs["ses-d"] = subprocess.Popen(
            [sys.executable, "-m", "qualcode", "--db", str(db), "-q", "code", "--coder", "ses-d"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
    # The library loops start once they are ready and both command-line writers have written: all four are then
    # writing at once (a loop still importing when the others began would start late, whatever the locking does).
    while len(query(db, "SELECT DISTINCT coder FROM batches WHERE coder IN ('csv-c', 'ses-d')")) < 2 or not all(
        (tmp_path / f"{c}.ready").exists() for c in ("lib-a", "lib-b")
    ):
        assert all(procs[c].poll() is None for c in ("csv-c", "ses-d")), "a writer ended before it wrote"
        assert time.monotonic() - start < 120, "the command-line writers did not start"
        time.sleep(0.01)
    go.touch()
    ends = {}
    for coder, p in procs.items():
        _, err = p.communicate(timeout=300)
        ends[coder] = time.monotonic() - start
        assert p.returncode == 0, f"{coder}: {err}"
        assert err == "", f"{coder} wrote to stderr: {err}"

    for coder in ("lib-a", "lib-b", "csv-c"):
        assert live(cli, coder) == set(plans[coder]), coder
    decided = query(
        db,
        """SELECT c.interview_id, t.idx, c.code_id FROM codings c JOIN turns t ON t.id = c.turn_id
                          WHERE c.coder = 'ses-d' AND c.deleted_at IS NULL ORDER BY 1, 2""",
    )
    assert decided == [(iid, idx, None) for iid, idx in participant]
    assert query(db, "SELECT coder, count(*) FROM batches GROUP BY coder ORDER BY coder") == [
        ("csv-c", len(chunks)),
        ("lib-a", PER_WRITER),
        ("lib-b", PER_WRITER),
        ("ses-d", len(participant)),
    ]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    project = open_project(db)
    try:
        assert {c["check"]: c["examples"] for c in maintenance.check(project) if c["problems"]} == {}
    finally:
        project.conn.close()
    # The writers really wrote at the same time: each one's batches fall between the first and last of every other.
    order = [c for (c,) in query(db, "SELECT coder FROM batches ORDER BY id")]
    spans = {c: (order.index(c), len(order) - 1 - order[::-1].index(c)) for c in procs}
    for a, (a0, a1) in spans.items():
        for b, (b0, b1) in spans.items():
            assert a == b or (a0 < b1 and b0 < a1), f"{a} and {b} did not overlap: {spans}"
    # And took turns while both library loops ran: with SQLite's own busy handler alone one of them committed
    # 40 to 90 times in a row while the other waited.
    both = order[max(spans["lib-a"][0], spans["lib-b"][0]) : min(spans["lib-a"][1], spans["lib-b"][1]) + 1]
    longest = max(len(list(run)) for _, run in itertools.groupby(both))
    assert longest <= 30, f"a writer committed {longest} times in a row while the others waited"
    switches = sum(x != y for x, y in itertools.pairwise(order))
    longest = {}  # the longest pause between one writer's consecutive batches: mostly waiting for the lock
    for coder in procs:
        times = [
            dt.datetime.fromisoformat(t[:-1])
            for (t,) in query(db, "SELECT created_at FROM batches WHERE coder = ? ORDER BY id", [coder])
        ]
        longest[coder] = max((b - a).total_seconds() for a, b in itertools.pairwise(times))
    print(
        f"\nfinished after (s): {', '.join(f'{c} {t:.1f}' for c, t in ends.items())}; {switches} changes of "
        f"coder in {len(order)} batches; longest pause (s): "
        f"{', '.join(f'{c} {t:.2f}' for c, t in longest.items())}"
    )
