"""Real peers read what qualcode writes, and qualcode reads what they write: pyqdpx 0.1.8 and Taguette 1.5.2.

The peers run in their own virtual environment, made once from the package index with a Python >= 3.12 (pyqdpx needs
it) and kept in ~/.cache/qualcode-tests/ (or $QUALCODE_PEERS_VENV); the scripts they run are in tests/peers/. Without
such a Python (set QUALCODE_PEER_PYTHON to one) or without the package index, these tests are skipped and say why.
Run them alone with `.venv/bin/python -m pytest -m slow tests/test_peers.py`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests import shipped
from tests.conftest import CODEBOOK, ROOT, Cli, write
from tests.conftest import query as rows
from tests.test_refi import CODEBOOK as SMALL_CODEBOOK
from tests.test_refi import EMOJI

pytestmark = pytest.mark.slow

PEERS = ROOT / "tests" / "peers"
# setuptools: Taguette 1.5.2's opentelemetry-api imports pkg_resources, which newer setuptools no longer has.
REQUIREMENTS = ["pyqdpx==0.1.8", "taguette==1.5.2", "setuptools<75"]


def _python() -> str | None:
    """A Python >= 3.12: $QUALCODE_PEER_PYTHON, one on PATH, or one pyenv installed."""
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = [os.environ.get("QUALCODE_PEER_PYTHON")]
    found += [shutil.which(f"python3.{minor}") for minor in range(20, 11, -1)]
    found += sorted(glob.glob(f"{pyenv}/versions/3.1[2-9]*/bin/python3"), reverse=True)
    for candidate in filter(None, found):
        try:
            p = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if p.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture(scope="session")
def peers() -> Path:
    """The peers' interpreter, in a virtual environment made on first use and kept."""
    base = _python()
    if base is None:
        pytest.skip("no Python >= 3.12 found for pyqdpx 0.1.8: set QUALCODE_PEER_PYTHON to one")
    version = subprocess.run([base, "-c", "import sys; print(sys.version)"], capture_output=True, text=True).stdout
    key = hashlib.sha256("\n".join([version, *REQUIREMENTS]).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qualcode-tests"
    venv = Path(os.environ.get("QUALCODE_PEERS_VENV") or cache / f"peers-{key}")
    python = venv / "bin" / "python"
    done = venv / ".complete"
    if not done.exists():
        shutil.rmtree(venv, ignore_errors=True)
        steps = [[base, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", *REQUIREMENTS]]
        for step in steps:
            try:
                p = subprocess.run(step, capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired:
                pytest.skip(f"installing {', '.join(REQUIREMENTS)} took over 15 minutes")
            if p.returncode != 0:
                last = (p.stderr.strip().splitlines() or ["no message"])[-1]
                pytest.skip(f"could not install {', '.join(REQUIREMENTS)} from the package index: {last}")
        done.write_text(sys.version)
    return python


def run(peers: Path, script: str, *args, cwd: Path) -> subprocess.CompletedProcess:
    p = subprocess.run(
        [str(peers), str(PEERS / script), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert p.returncode == 0, p.stderr
    return p


def code_guids(db: Path) -> dict[str, str]:
    """Code path → GUID, the path built from the parents in SQL."""
    return dict(
        rows(
            db,
            """WITH RECURSIVE t(id, path, guid) AS (
                   SELECT id, name, guid FROM codes WHERE parent_id IS NULL
                   UNION ALL SELECT c.id, t.path || '/' || c.name, c.guid FROM codes c JOIN t ON c.parent_id = t.id)
               SELECT path, guid FROM t""",
        )
    )


def read_with_pyqdpx(peers: Path, qdpx: Path) -> tuple[dict, str]:
    out = qdpx.with_suffix(".json")
    p = run(peers, "read_qdpx.py", qdpx, out, cwd=qdpx.parent)
    data = json.loads(out.read_text(encoding="utf-8"))
    for s in data["selections"]:
        # pyqdpx counts UTF-16 code units by putting a zero-width space after each character beyond the BMP.
        s["text"] = s["text"].replace("\u200b", "")
    return data, p.stdout


# --- pyqdpx ----------------------------------------------------------------------------------------------------------


def test_pyqdpx_reads_every_user_code_source_and_selection(peers, tmp_path_factory):
    project = shipped.build(tmp_path_factory, "peers")
    folder = project.db_path.parent
    qdpx = folder / "study.qdpx"
    project("export", "qdpx", qdpx, "--offsets", "utf16")
    data, warnings = read_with_pyqdpx(peers, qdpx)

    db = project.db_path
    assert "\u200b" not in "".join(t for (t,) in rows(db, "SELECT text FROM interviews"))
    assert data["users"] == ["coder-a", "coder-b"]
    assert data["codes"] == sorted(c["path"] for c in shipped.codebook()) and len(data["codes"]) == 36
    assert data["sources"] == sorted(i for (i,) in rows(db, "SELECT id FROM interviews")) and len(data["sources"]) == 64
    expected = Counter()
    for coder in data["users"]:
        segments = json.loads(project("export", "segments", "--coder", coder, "--format", "json").stdout)["segments"]
        expected.update((s["interview"], s["code"], s["coder"], s["text"]) for s in segments)
    read = Counter((s["source"], s["code"], s["user"], s["text"]) for s in data["selections"])
    assert read == expected
    assert len(data["selections"]) == 1519
    assert Counter(s["user"] for s in data["selections"]) == {"coder-a": 766, "coder-b": 753}
    # The "no code" decisions are selections without a coding: pyqdpx passes over them, one warning each.
    [(no_code,)] = rows(db, "SELECT count(*) FROM live_codings WHERE code_id IS NULL")
    assert warnings.count("Missing Coding tag") == no_code == 173
    assert "Invalid GUID" not in warnings


def test_pyqdpx_reads_an_emoji_transcript_exported_for_it_at_the_right_places(peers, cli, db_path, tmp_path):
    cli("import", write(tmp_path / "emo.md", EMOJI))
    cli("codebook", "load", write(tmp_path / "codebook.yml", SMALL_CODEBOOK))
    [(turn,)] = rows(db_path, "SELECT text FROM turns WHERE idx = 1")
    start = turn.index("contracts")
    cli(
        "apply",
        "INT-EMO",
        "1",
        "Delays",
        "--coder",
        "ana",
        "--start",
        start,
        "--end",
        start + len("contracts \U0001f4dd"),
    )
    cli("apply", "INT-EMO", "1", "Funding", "--coder", "ana")
    cli("apply", "INT-EMO", "0", "Funding", "--coder", "ana")
    quotes = Counter(q for (q,) in rows(db_path, "SELECT quote FROM codings"))

    cli("export", "qdpx", tmp_path / "nvivo.qdpx", "--offsets", "utf16")
    data, _ = read_with_pyqdpx(peers, tmp_path / "nvivo.qdpx")
    assert Counter(s["text"] for s in data["selections"]) == quotes

    # Code points, the standard's default, are what pyqdpx misreads after an emoji: why --offsets utf16 exists.
    cli("export", "qdpx", tmp_path / "points.qdpx")
    data, _ = read_with_pyqdpx(peers, tmp_path / "points.qdpx")
    assert sum(s["text"] not in quotes for s in data["selections"]) == 2


# --- Taguette --------------------------------------------------------------------------------------------------------


def test_taguette_reads_qualcodes_csv_codebook_with_its_paths(peers, cli, db_path, tmp_path):
    cli("codebook", "load", CODEBOOK)
    cli("codebook", "export", "--format", "csv", "-o", tmp_path / "dac.csv")
    run(peers, "taguette_codebook.py", "read", tmp_path / "dac.csv", tmp_path / "tags.json", cwd=tmp_path)
    tags = json.loads((tmp_path / "tags.json").read_text(encoding="utf-8"))
    assert [t["path"] for t in tags] == [c["path"] for c in shipped.codebook()] and len(tags) == 36
    relevance = next(t for t in tags if t["path"] == "Relevance")
    [(definition,)] = rows(db_path, "SELECT definition FROM codes WHERE name = 'Relevance'")
    assert relevance["description"].startswith(definition.strip())


def test_qualcode_reads_taguettes_csv_and_qdc_as_the_tree(peers, cli, db_path, tmp_path):
    """Taguette's exports of the DAC codebook's tags (named by path, as Taguette users write a tree) come back as the
    DAC tree: every code at its path, with its definition from the CSV, its GUID from the .qdc."""
    cli("codebook", "load", CODEBOOK)
    tree = "SELECT c.name, p.name, c.definition FROM codes c LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.id"
    dac = rows(db_path, tree)
    tags = [
        {"path": c["path"], "description": (c["definition"] or "").strip()}
        for c in shipped.codebook()
        if c["codable"] or c["depth"] > 0  # Taguette has no folders: a folder is only a level in its children's paths
    ]
    write(tmp_path / "tags.json", json.dumps(tags))
    run(
        peers,
        "taguette_codebook.py",
        "write",
        tmp_path / "tags.json",
        tmp_path / "t.csv",
        tmp_path / "t.qdc",
        cwd=tmp_path,
    )
    assert (tmp_path / "t.csv").read_bytes().startswith(b"tag,description,number of highlights,number of documents\r\n")

    from_csv = Cli(tmp_path / "csv.db")
    r = from_csv("codebook", "import", tmp_path / "t.csv")
    assert "36 added" in r.stdout
    folders = [c["path"] for c in shipped.codebook() if not c["codable"] and c["depth"] == 0]
    assert f"a folder made for a level no tag names: {', '.join(folders)}" in " ".join(r.stderr.split())
    assert [(n, p) for n, p, _ in rows(from_csv.db_path, tree)] == [(n, p) for n, p, _ in dac]
    paths = [c["path"] for c in shipped.codebook()]
    assert [d for *_, d in rows(from_csv.db_path, tree)] == [
        None if path in folders else (d or "").strip() or None for path, (*_, d) in zip(paths, dac, strict=True)
    ]
    assert rows(from_csv.db_path, "SELECT name FROM codes WHERE codable = 0 ORDER BY id") == [(f,) for f in folders]

    from_qdc = Cli(tmp_path / "qdc.db")
    r = from_qdc("codebook", "import", tmp_path / "t.qdc", "--paths")
    assert "36 added" in r.stdout and "code names read as paths" in r.stderr
    assert [(n, p) for n, p, _ in rows(from_qdc.db_path, tree)] == [(n, p) for n, p, _ in dac]
    from lxml import etree

    taguette_guids = {c.get("name"): c.get("guid") for c in etree.parse(str(tmp_path / "t.qdc")).iter("{*}Code")}
    stored = code_guids(from_qdc.db_path)
    assert {p: stored[p] for p in taguette_guids} == taguette_guids
