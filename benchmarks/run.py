"""qualcode at the shipped corpus (1×) and at N× (default 100×), against bare baselines. Not part of the test run.

    python benchmarks/run.py [--scale N | --quick] [--repeats R] [--keep DIR]

Every qualcode command runs as its own subprocess (`python -m qualcode --db ...`) and so does every baseline
(benchmarks/tasks.py), so wall time and peak memory (ru_maxrss from wait4) are each process's own. Each measurement
runs R times (default 3; once if a run takes longer than --once-over seconds) and is reported as a median. The table
is printed and written to benchmarks/results.md with the machine it ran on. See benchmarks/README.md for what each
row compares.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import pickle
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src"
CORPUS = ROOT / "transcripts"
CODEBOOK = ROOT / "codebooks" / "dac.yml"
CODINGS = ROOT / "codings"
CODERS = ("coder-a", "coder-b")
LONG = 600.0  # seconds: a run this long is not repeated (--once-over)
SESSION_STEPS = 300

sys.path.insert(0, str(SRC))

ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    "NO_COLOR": "1",
    "COLUMNS": "120",
    "TERM": "dumb",
}


# --- running and measuring subprocesses --------------------------------------------------------------------------


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process
    peak_mb: float  # ru_maxrss of the process
    stdout: str


class Spawner:
    """benchmarks/spawn.py, started while this process is small: it runs each command and reports on it alone."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "spawn.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
        )

    def __call__(self, args: list[str], out: Path, err: Path) -> dict:
        job = {"args": args, "env": ENV, "cwd": str(ROOT), "stdout": str(out), "stderr": str(err)}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


SPAWN: Spawner | None = None


def run(args: list[str], what: str) -> Run:
    """Run ARGS to the end; wall time and the peak resident memory of that one process (wait4's ru_maxrss)."""
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "out", Path(tmp) / "err"
        r = SPAWN(args, out, err)
        stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
    if r["returncode"] != 0:
        raise SystemExit(f"{what} failed ({r['returncode']}):\n{stderr[-3000:]}")
    return Run(r["wall"], r["cpu"], r["maxrss_kb"] / 1024, stdout)


def qualcode(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "qualcode", "--db", str(db), "--quiet", *args]


def task(name: str, folder: Path) -> list[str]:
    return [sys.executable, str(HERE / "tasks.py"), name, str(folder)]


@dataclass
class Measured:
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return statistics.median(r.peak_mb for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def spread(self) -> str:
        walls = [r.wall for r in self.runs]
        where = f"{min(walls):.2f}–{max(walls):.2f} s, n={len(walls)}" if len(walls) > 1 else "n=1"
        return f"{self.wall:.2f} s ({where}; CPU {self.cpu:.2f} s)"


def measure(m: dict[str, Measured], specs: list[tuple], repeats: int) -> None:
    """Round-robin over SPECS (key, command maker, reset or None) until each has REPEATS runs, or one of LONG.

    A qualcode command and its baseline alternate, so a burst of load from other jobs falls on both.
    """
    for _ in range(repeats):
        for key, make, before in specs:
            done = m.setdefault(key, Measured()).runs
            if len(done) >= repeats or (done and done[-1].wall >= LONG):
                continue
            if before:
                before()
            done.append(run(make(), key))
            print(f"    {key}: {done[-1].wall:.2f} s, {done[-1].peak_mb:.0f} MB", file=sys.stderr, flush=True)


def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL project (the online backup API), replacing DST."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    with b:
        a.backup(b)
    a.close()
    b.close()


# --- the corpus and codings at scale N ----------------------------------------------------------------------------


def build_corpus(scale: int, folder: Path) -> dict[str, str]:
    """Transcripts for SCALE: the shipped files at 1×, else SCALE copies with new interview and participant ids.

    Returns old interview id → the copies' ids joined by spaces (for replicating codings).
    """
    folder.mkdir(parents=True)
    ids: dict[str, list[str]] = {}
    for f in sorted(CORPUS.glob("INT-*.md")):
        text = f.read_text(encoding="utf-8")
        iid = re.search(r"^interview: (\S+)$", text, re.M).group(1)
        if scale == 1:
            shutil.copy(f, folder / f.name)
            ids[iid] = [iid]
            continue
        for k in range(scale):
            new = f"{iid}-{k:03d}"
            copy = re.sub(r"^interview: \S+$", f"interview: {new}", text, count=1, flags=re.M)
            copy = re.sub(r"^- id: (P\d+)$", rf"- id: \1-{k:03d}", copy, flags=re.M)
            (folder / f"{new}.md").write_text(copy, encoding="utf-8")
            ids.setdefault(iid, []).append(new)
    return ids


def build_codings(ids: dict[str, list[str]], folder: Path) -> list[Path]:
    """Each shipped coder's CSV, every row repeated once per copy of its interview."""
    out = []
    for coder in CODERS:
        src = CODINGS / f"{coder}.csv"
        with open(src, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames
        dst = folder / f"{coder}.csv"
        with open(dst, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
            w.writeheader()
            for copy in range(len(next(iter(ids.values())))):
                for r in rows:
                    w.writerow({**r, "interview": ids[r["interview"]][copy]})
        out.append(dst)
    return out


# --- inputs for the baselines, read from a project before anything is timed ---------------------------------------


def words(db: Path, participants_only: bool) -> int:
    sql = "SELECT sum(t.words) FROM turns t JOIN speakers s ON s.id = t.speaker_id"
    if participants_only:
        sql += " WHERE s.participant_id IS NOT NULL"
    with sqlite3.connect(db) as c:
        return c.execute(sql).fetchone()[0]


def prepare_import_baselines(db: Path, folder: Path) -> None:
    c = sqlite3.connect(db)
    c.row_factory = sqlite3.Row
    # Each turn with its interview's language: qualcode tokenises it with that language's tokenizer (to find its
    # sentences), so the floor does too; an English tokenizer over French text would be less work than the job.
    turns = c.execute(
        "SELECT t.text, i.language FROM turns t JOIN interviews i ON i.id = t.interview_id ORDER BY t.id"
    ).fetchall()
    spec = {"texts": [r[0] for r in turns], "languages": [r[1] for r in turns]}
    (folder / "turn_texts.json").write_text(json.dumps(spec), encoding="utf-8")
    rows = {
        "interviews": [
            dict(r)
            for r in c.execute(
                "SELECT id, title, date, language, source_file, format, source_hash, text_hash, text, imported_at, "
                "guid "
                "FROM interviews"
            )
        ],
        "turns": [
            dict(r)
            for r in c.execute(
                "SELECT id, interview_id, idx, speaker_id, start, end, start_s, end_s, text, words FROM turns"
            )
        ],
        "sentences": [dict(r) for r in c.execute("SELECT id, turn_id, idx, start, end FROM sentences")],
    }
    c.close()
    with open(folder / "rows.pickle", "wb") as f:
        pickle.dump(rows, f)


def prepare_suggest_baselines(db: Path, folder: Path) -> None:
    from qualcode.codebook.tree import require_settings
    from qualcode.store.db import open_project

    project = open_project(db)
    from qualcode.suggest.classifier import LANGUAGE_SQL, PREVIOUS_SQL

    rows = project.execute(
        f"SELECT t.text, {PREVIOUS_SQL}, {LANGUAGE_SQL} FROM turns t JOIN speakers s ON s.id = t.speaker_id "
        "WHERE s.participant_id IS NOT NULL ORDER BY t.id"
    ).fetchall()
    spec = {
        "language": require_settings(project).language,
        "codes": [dict(r) for r in project.query("SELECT * FROM codes ORDER BY position, id")],
        "texts": [r[0] for r in rows],
        "previous": [r[1] or "" for r in rows],
        "languages": [r[2] for r in rows],  # each turn is read with its interview's language, as qualcode does
    }
    (folder / "suggest_input.json").write_text(json.dumps(spec), encoding="utf-8")
    project.conn.close()


def export_model(db: Path, folder: Path) -> None:
    with sqlite3.connect(db) as c:
        (blob,) = c.execute("SELECT blob FROM models WHERE active = 1").fetchone()
    (folder / "model.bin").write_bytes(blob)


def copy_model(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a:
        a.row_factory = sqlite3.Row
        row = dict(a.execute("SELECT * FROM models WHERE active = 1").fetchone())
    row.pop("id")
    c = sqlite3.connect(dst)
    with c:
        c.execute("UPDATE models SET active = 0")
        c.execute(f"INSERT INTO models ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    c.close()


def prepare_alpha(db: Path, folder: Path) -> dict[str, str]:
    """The reliability matrices of the default turn audit, built from the codings with plain SQL and numpy.

    One per codable code, per top-level criterion (its subtree pooled), per exclusive parent (its children as
    nominal categories, "A+B" for several, "(none)" for none) and overall (every code's matrix side by side).
    Returns matrix key → the audit row it stands for, "level:code path".
    """
    import numpy as np

    from qualcode.codebook.tree import CodeTree
    from qualcode.store.db import open_project

    project = open_project(db)
    codes = [
        {
            "id": c.id,
            "parent_id": c.parent_id,
            "path": c.path,
            "codable": c.codable,
            "exclusive": c.exclusive,
            "value": c.value,
            "name": c.name,
        }
        for c in CodeTree.load(project)
    ]
    live: dict[tuple[str, int], set[int | None]] = {}
    for coder, turn, code in project.execute(
        f"SELECT coder, turn_id, code_id FROM live_codings WHERE coder IN ({', '.join('?' * len(CODERS))})",
        list(CODERS),
    ):
        live.setdefault((coder, turn), set()).add(code)
    project.conn.close()
    turns = sorted(
        {t for (_, t) in live} & {t for (c, t) in live if c == CODERS[1]} & {t for (c, t) in live if c == CODERS[0]}
    )
    children: dict[int | None, list[dict]] = {}
    for c in codes:
        children.setdefault(c["parent_id"], []).append(c)

    def subtree(c: dict) -> set[int]:
        out = {c["id"]}
        for k in children.get(c["id"], []):
            out |= subtree(k)
        return out

    def binary(ids: set[int]) -> np.ndarray:
        return np.array([[float(bool(live[coder, t] & ids)) for t in turns] for coder in CODERS])

    matrices, names = {}, {}
    codable = [c for c in codes if c["codable"]]
    for c in codable:
        matrices[f"m{len(matrices)}"] = binary({c["id"]})
        names[f"m{len(names)}"] = f"code:{c['path']}"
    for c in codes:
        if c["exclusive"]:
            kids = [(k["name"], subtree(k)) for k in children.get(c["id"], [])]
            labels = [
                ["+".join(n for n, ids in kids if live[coder, t] & ids) or "(none)" for t in turns] for coder in CODERS
            ]
            index = {v: float(i) for i, v in enumerate(dict.fromkeys(v for row in labels for v in row))}
            matrices[f"m{len(matrices)}"] = np.array([[index[v] for v in row] for row in labels])
            names[f"m{len(names)}"] = f"exclusive:{c['path']}"
    for c in children.get(None, []):
        matrices[f"m{len(matrices)}"] = binary(subtree(c))
        names[f"m{len(names)}"] = f"criterion:{c['path']}"
    matrices[f"m{len(matrices)}"] = np.concatenate([binary({c["id"]}) for c in codable], axis=1)
    names[f"m{len(names)}"] = "overall:"
    np.savez(folder / "matrices.npz", **matrices)
    (folder / "matrix_names.json").write_text(json.dumps(names), encoding="utf-8")
    return names


def audit_alphas(audit_json: str) -> dict[str, float | None]:
    data = json.loads(audit_json)
    return {f"{r['level']}:{r['code'] or ''}": r["statistics"]["krippendorff_alpha"]["value"] for r in data["rows"]}


# --- one scale ---------------------------------------------------------------------------------------------------


@dataclass
class Scale:
    n: int
    words_all: int = 0  # words in every turn (what import handles)
    words_scored: int = 0  # words in participants' turns (what suggest scores)
    m: dict[str, Measured] = field(default_factory=dict)
    setup: dict[str, float] = field(default_factory=dict)
    session: dict = field(default_factory=dict)
    alpha_check: str = ""


def bench_scale(n: int, base: Path, repeats: int, model_from: Path | None) -> Scale:
    print(f"== {n}× ==", file=sys.stderr, flush=True)
    s = Scale(n)
    d = base / f"x{n}"
    corpus = d / "transcripts"
    ids = build_corpus(n, corpus)
    db, db_model, fresh = d / "patterns.db", d / "model.db", d / "imported.db"

    def reset(path: Path):
        return lambda: [Path(f"{path}{x}").unlink(missing_ok=True) for x in ("", "-wal", "-shm")]

    # import: each run into a new project; the first one gives the baselines their input
    imp = ("import", lambda: qualcode(db, "import", str(corpus)), reset(db))
    measure(s.m, [imp], 1)
    s.words_all = words(db, participants_only=False)
    prepare_import_baselines(db, d)
    measure(
        s.m,
        [("tokenizer", lambda: task("tokenizer", d), None), ("sqlite_bulk", lambda: task("sqlite_bulk", d), None), imp],
        repeats,
    )

    s.setup["codebook load"] = run(qualcode(db, "codebook", "load", str(CODEBOOK)), "codebook load").wall
    copy_db(db, fresh)
    s.words_scored = words(db, participants_only=True)
    prepare_suggest_baselines(db, d)

    # suggest, patterns only: each run on a copy of the imported project
    measure(
        s.m,
        [
            ("suggest", lambda: qualcode(db, "suggest", "--no-model"), lambda: copy_db(fresh, db)),
            ("pipeline", lambda: task("pipeline", d), None),
            ("blank_pipeline", lambda: task("blank_pipeline", d), None),
        ],
        repeats,
    )

    # codings for the audit, the exports and the session
    files = [CODINGS / f"{c}.csv" for c in CODERS] if n == 1 else build_codings(ids, d)
    for f in files:
        s.setup[f"codings import {f.stem}"] = run(qualcode(db, "codings", "import", str(f)), "codings import").wall

    # suggest with a model trained on the shipped coder-a.csv (at 1×; the same model is copied to N×)
    if model_from is None:
        copy_db(fresh, db_model)
        run(qualcode(db_model, "codings", "import", str(CODINGS / "coder-a.csv")), "codings import")
        s.setup["train --coder coder-a"] = run(qualcode(db_model, "train", "--coder", "coder-a"), "train").wall
        model_from = d / "model-trained.db"
        copy_db(db_model, model_from)
    export_model(model_from, d)
    model_start = d / "model-start.db"
    copy_db(fresh, model_start)
    copy_model(model_from, model_start)
    measure(
        s.m,
        [
            ("suggest_model", lambda: qualcode(db_model, "suggest"), lambda: copy_db(model_start, db_model)),
            ("pipeline_model", lambda: task("pipeline_model", d), None),
        ],
        repeats,
    )

    # audit against the package's α on the same matrices
    audit_args = ["audit", "--coders", ",".join(CODERS)]
    names = prepare_alpha(db, d)
    measure(
        s.m, [("audit", lambda: qualcode(db, *audit_args), None), ("alpha", lambda: task("alpha", d), None)], repeats
    )
    ours = audit_alphas(run(qualcode(db, *audit_args, "--format", "json"), "audit json").stdout)
    theirs = json.loads(s.m["alpha"].runs[-1].stdout)
    worst = max(abs((ours[k] or 0) - v) for k, v in theirs.items())
    kinds = ", ".join(sorted({k.split(":")[0] for k in names.values()}))
    s.alpha_check = f"{len(theirs)} matrices ({kinds}); largest |α(audit) − α(package)| = {worst:.1e}"
    if worst > 1e-9:
        raise SystemExit(f"audit and the krippendorff package disagree on α by {worst}")

    measure(
        s.m,
        [
            (
                "summary",
                lambda: qualcode(db, "export", "summary", "--coder", CODERS[0], "-o", str(d / "summary.md")),
                None,
            ),
            ("report", lambda: qualcode(db, "report", "--coder", CODERS[0], "-o", str(d / "report.html")), None),
        ],
        repeats,
    )

    # the coding session, last: its decisions add a coder
    (d / "session.json").write_text(json.dumps({"db": str(db), "coder": "bench", "steps": SESSION_STEPS}))
    r = run(task("session", d), "session")
    s.session = json.loads(r.stdout)
    return s


# --- the table ---------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def rows(one: Scale, big: Scale, help_runs: list[float]) -> list[list[str]]:
    def wps(s: Scale, key: str, words: int) -> float:
        return words / s.m[key].wall

    def ratio_row(name, key, base_key, words_attr, target, what_base, base_label):
        a, b = wps(one, key, getattr(one, words_attr)), wps(big, key, getattr(big, words_attr))
        base = wps(big, base_key, getattr(big, words_attr))
        r = b / base
        return [
            name,
            f"{a:,.0f} w/s ({one.m[key].wall:.1f} s)",
            f"{b:,.0f} w/s ({big.m[key].wall:.1f} s)",
            f"{base_label}: {base:,.0f} w/s ({big.m[base_key].wall:.1f} s)",
            f"{r:.2f}×",
            f"≥ {target}×",
            "pass" if r >= target else "FAIL",
        ]

    help_s = statistics.median(help_runs)
    out = [
        [
            "`qualcode --help` (wall, median of 20)",
            f"{help_s * 1000:.0f} ms",
            "same",
            "—",
            "—",
            "≤ 250 ms",
            "pass" if help_s <= 0.25 else "FAIL",
        ]
    ]
    out.append(ratio_row("import", "import", "tokenizer", "words_all", 0.3, "", "spaCy tokenizer"))
    base = wps(big, "sqlite_bulk", big.words_all)
    out.append(
        [
            "import vs sqlite-utils insert_all",
            "",
            "",
            f"insert_all: {base:,.0f} w/s ({big.m['sqlite_bulk'].wall:.1f} s)",
            f"{wps(big, 'import', big.words_all) / base:.2f}×",
            "(second baseline)",
            "—",
        ]
    )
    out.append(
        ratio_row("suggest, patterns only", "suggest", "pipeline", "words_scored", 0.7, "", "build+patterns pipe")
    )
    out.append(
        ratio_row(
            "suggest, patterns only, vs the bare pipeline",
            "suggest",
            "blank_pipeline",
            "words_scored",
            0.3,
            "",
            "blank+lemmatizer+sentencizer pipe",
        )
    )
    out.append(
        ratio_row(
            "suggest, with the trained model",
            "suggest_model",
            "pipeline_model",
            "words_scored",
            0.7,
            "",
            "pipe+patterns+model",
        )
    )
    a, b, base = one.m["audit"].wall, big.m["audit"].wall, big.m["alpha"].wall
    out.append(
        [
            "audit --coders coder-a,coder-b",
            f"{a:.2f} s",
            f"{b:.2f} s",
            f"krippendorff α: {base:.2f} s",
            f"{b / base:.2f}×",
            "≤ 2×",
            "pass" if b / base <= 2 else "FAIL",
        ]
    )
    for key, name in (("summary", "export summary"), ("report", "report -o")):
        out.append([name, f"{one.m[key].wall:.2f} s", f"{big.m[key].wall:.2f} s", "none (times only)", "—", "—", "—"])
    for step in ("n", "a"):
        for q, label in ((0.5, "median"), (0.95, "p95")):
            v1, vN = pct(one.session[step], q) * 1000, pct(big.session[step], q) * 1000
            out.append(
                [
                    f"session `{step}` latency, {label}",
                    f"{v1:.1f} ms",
                    f"{vN:.1f} ms",
                    "—",
                    "—",
                    "≤ 50 ms",
                    "pass" if vN <= 50 else "FAIL",
                ]
            )
    for key, name in (
        ("import", "import"),
        ("suggest", "suggest, patterns"),
        ("suggest_model", "suggest, model"),
        ("audit", "audit"),
    ):
        a, b = one.m[key].peak_mb, big.m[key].peak_mb
        out.append(
            [
                f"peak memory: {name}",
                f"{a:.0f} MB",
                f"{b:.0f} MB",
                "—",
                f"{b / a:.2f}×",
                "≤ 2×",
                "pass" if b / a <= 2 else "FAIL",
            ]
        )
    return out


HEADER = ["measurement", "1×", "{n}×", "baseline ({n}×)", "ratio", "target", "result"]


def markdown(table: list[list[str]], n: int) -> str:
    head = [h.format(n=n) for h in HEADER]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in table]
    return "\n".join(lines) + "\n"


def machine() -> str:
    import spacy

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem = next(
        (
            int(ln.split()[1]) // 1024 // 1024
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        ),
        0,
    )
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem} GiB, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, spaCy {spacy.__version__}, SQLite {sqlite3.sqlite_version}; "
        f"load average at the start {load[0]:.2f}"
    )


def details(one: Scale, big: Scale) -> str:
    pairs = (
        ("import", "tokenizer"),
        ("suggest", "pipeline"),
        ("suggest", "blank_pipeline"),
        ("suggest_model", "pipeline_model"),
        ("audit", "alpha"),
    )
    lines = [
        f"- the same ratios on CPU time (user + system) instead of wall time, {big.n}×: "
        + "; ".join(
            f"{a} / {b} {big.m[b].cpu / big.m[a].cpu:.2f}×"
            if a != "audit"
            else f"audit / α {big.m[a].cpu / big.m[b].cpu:.2f}×"
            for a, b in pairs
        )
    ]
    for s in (one, big):
        lines.append(
            f"- {s.n}×: {s.words_all:,} words in all turns (import), {s.words_scored:,} in participants' "
            f"turns (suggest); session scope {s.session['scope']:,} turns, opened in "
            f"{s.session['start'] * 1000:.0f} ms"
        )
        lines.append("  - wall (spread; CPU): " + "; ".join(f"{k} {m.spread}" for k, m in s.m.items()))
        lines.append("  - setup (not targets): " + "; ".join(f"{k} {v:.1f} s" for k, v in s.setup.items()))
        lines.append(f"  - α check: {s.alpha_check}")
    return "\n".join(lines) + "\n"


def main() -> None:
    global SPAWN, LONG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=100, help="corpus multiple to compare with 1× (default 100)")
    ap.add_argument("--quick", action="store_true", help="scale 10, for a fast check")
    ap.add_argument("--repeats", type=int, default=3, help="runs per measurement (default 3)")
    ap.add_argument(
        "--once-over", type=float, default=LONG, help=f"run only once what takes longer (default {LONG:.0f} s)"
    )
    ap.add_argument("--keep", type=Path, help="build and keep the projects in this folder")
    ap.add_argument("--no-write", action="store_true", help="print the table only; leave results.md alone")
    args = ap.parse_args()
    LONG = args.once_over
    scale = 10 if args.quick else args.scale
    if scale < 2:
        ap.error("--scale must be at least 2")
    SPAWN = Spawner()
    started = dt.datetime.now().astimezone()
    about = machine()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        base = Path(tempfile.mkdtemp(prefix="qualcode-bench-", dir=args.keep))
    else:
        base = Path(tempfile.mkdtemp(prefix="qualcode-bench-"))
    try:
        console = shutil.which("qualcode", path=str(Path(sys.executable).parent))
        help_cmd = [console, "--help"] if console else [sys.executable, "-m", "qualcode", "--help"]
        help_runs = [run(help_cmd, "qualcode --help").wall for _ in range(max(10, args.repeats))]
        one = bench_scale(1, base, args.repeats, None)
        big = bench_scale(scale, base, args.repeats, base / "x1" / "model-trained.db")
        help_runs += [run(help_cmd, "qualcode --help").wall for _ in range(max(10, args.repeats))]
    finally:
        SPAWN.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    table = rows(one, big, help_runs)
    text = markdown(table, scale)
    print(text)
    print(details(one, big))
    if not args.no_write:
        took = (dt.datetime.now().astimezone() - started).total_seconds() / 60
        (HERE / "results.md").write_text(
            f"# Benchmark results\n\n{started:%Y-%m-%d %H:%M %Z}, `python benchmarks/run.py --scale {scale}"
            f" --repeats {args.repeats}` ({took:.0f} min).\n\nMachine: {about}.\n\n{text}\n{details(one, big)}",
            encoding="utf-8",
        )
    if args.keep:
        print(f"projects kept in {base}", file=sys.stderr)


if __name__ == "__main__":
    main()
