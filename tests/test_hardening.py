"""The second round of hardening (issue 13), beside the bad-input catalogue: what a catalogue case cannot show.

A write that fails keeps the previous file whole; output files get the user's permissions; the demo replaces only
its own project; --redact reaches interview ids, titles, attribute values and memos, in NFC and in capitals; CSV
cells are never formulas; a turn over spaCy's max_length is scored; options given twice merge; a project knows it
is one. Each test failed before the change it covers.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import shlex
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CODEBOOK, CODINGS, CORPUS, ROOT, Cli, copy_db, query, write

INTERVIEWS = ("INT-05", "INT-07")
CB = """codebook: test
codes:
  - name: A
    patterns: ["recruitment fee"]
  - name: B
"""


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> Path:
    """Two interviews, the DAC codebook and coder-a's codings of them; each test works on a copy."""
    folder = tmp_path_factory.mktemp("coded")
    cli = Cli(folder / "coded.db")
    cli("import", *(CORPUS / f"{i}.md" for i in INTERVIEWS))
    cli("codebook", "load", CODEBOOK)
    with open(CODINGS / "coder-a.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["interview"] in INTERVIEWS]
    out = folder / "coder-a.csv"
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    cli("codings", "import", out)
    return cli.db_path


@pytest.fixture
def project(coded, db_path) -> Cli:
    copy_db(coded, db_path)
    return Cli(db_path)


# --- 2. a failed write destroys nothing ------------------------------------------------------------------------------

WRITES = {
    "summary-md": (["export", "summary", "--coder", "coder-a", "-o"], "annex.md"),
    "summary-xlsx": (["export", "summary", "--coder", "coder-a", "--format", "xlsx", "-o"], "annex.xlsx"),
    "report": (["report", "--coder", "coder-a", "-o"], "report.html"),
    "codings": (["codings", "export", "-o"], "codings.csv"),
    "qdpx": (["export", "qdpx"], "study.qdpx"),
    "backup": (["backup", "--force"], "copy.db"),
}


def disk_full_after(monkeypatch, how: str, n: int = 1000) -> None:
    """The disk fills up: after N bytes of a write (a partial file), or when the file is flushed to disk."""
    enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if how == "write":
        real = os.write

        def write(fd, data):
            if len(data) > n:
                real(fd, bytes(data[:n]))
                raise enospc
            return real(fd, data)

        monkeypatch.setattr(os, "write", write)
    else:

        def fsync(fd):
            raise enospc

        monkeypatch.setattr(os, "fsync", fsync)


# zipfile and SQLite write through their own file objects, so for them the disk fills up at the flush
FAILURES = [
    (name, how) for name in WRITES for how in ("write", "fsync") if how == "fsync" or name not in ("qdpx", "backup")
]


@pytest.mark.parametrize(("name", "how"), FAILURES)
def test_a_full_disk_leaves_the_previous_file_whole_and_no_partial_file(project, tmp_path, monkeypatch, name, how):
    args, filename = WRITES[name]
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / filename
    previous = b"the previous version, which must survive\n" * 50
    out.write_bytes(previous)
    with monkeypatch.context() as m:
        disk_full_after(m, how)
        r = project(*args, out, expect=1)
    assert f"Error: cannot write {out}: No space left on device ({out} as it was before is unchanged)" in r.stderr
    assert "Traceback" not in r.output
    assert out.read_bytes() == previous
    assert sorted(p.name for p in folder.iterdir()) == [filename]  # no temporary file left behind


def test_a_full_disk_on_a_real_filesystem(project, tmp_path):
    """The same on a small tmpfs, where the kernel itself says ENOSPC (needs the right to mount; skipped without)."""
    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", folder], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        annex = folder / "annex.md"
        annex.write_text("the previous annex\n")
        with contextlib.suppress(OSError):
            (folder / "filler").write_bytes(b"x" * 256 * 1024)  # fills the rest of the disk
        r = project("export", "summary", "--coder", "coder-a", "-o", annex, expect=1)
        assert f"Error: cannot write {annex}: No space left on device" in r.stderr
        assert annex.read_text() == "the previous annex\n"
        assert sorted(p.name for p in folder.iterdir()) == ["annex.md", "filler"]
    finally:
        subprocess.run(["umount", folder], check=True)


# --- 1. output files: never the project, the user's permissions, links followed --------------------------------------


def test_output_files_get_the_users_permissions_and_a_replaced_file_keeps_its_own(project, tmp_path):
    old = os.umask(0o022)
    try:
        project("export", "qdpx", tmp_path / "study.qdpx")
        project("export", "summary", "--coder", "coder-a", "-o", tmp_path / "annex.md")
        kept = write(tmp_path / "private.csv", "old\n")
        kept.chmod(0o600)
        project("codings", "export", "-o", kept)
    finally:
        os.umask(old)
    assert (tmp_path / "study.qdpx").stat().st_mode & 0o777 == 0o644  # mkstemp alone made it 0600
    assert (tmp_path / "annex.md").stat().st_mode & 0o777 == 0o644
    assert kept.stat().st_mode & 0o777 == 0o600 and kept.read_text().startswith("interview,turn")


def test_a_link_is_followed_and_a_device_is_written_in_place(project, tmp_path):
    real = write(tmp_path / "real" / "annex.md", "old\n")
    link = tmp_path / "annex.md"
    link.symlink_to(real)
    project("export", "summary", "--coder", "coder-a", "-o", link)
    assert link.is_symlink() and real.read_text().startswith("# ")
    project("export", "summary", "--coder", "coder-a", "-o", "/dev/null")


# --- 3. the demo replaces only its own project ------------------------------------------------------------------------


def test_the_demo_replaces_a_project_it_made_and_no_other(tmp_path):
    from qualcode.demo import DEMO_MARK, PROJECT, fresh_project
    from qualcode.errors import ConflictError
    from qualcode.store.db import project_value

    folder = tmp_path / "demo"
    db = fresh_project(folder)
    db.execute("CREATE TABLE leftover (x)")  # what a run leaves, which the next one must not see
    db.close()
    db = fresh_project(folder)
    assert project_value(db, DEMO_MARK[0]) == DEMO_MARK[1]
    assert "leftover" not in db.table_names()
    db.close()
    mine = tmp_path / "mine"
    mine.mkdir()
    copy_db(folder / PROJECT, mine / PROJECT)
    with contextlib.closing(sqlite3.connect(mine / PROJECT)) as conn, conn:
        conn.execute("DELETE FROM project WHERE key = ?", [DEMO_MARK[0]])
    before = (mine / PROJECT).read_bytes()
    with pytest.raises(ConflictError, match="not a project 'qualcode demo' made"):
        fresh_project(mine)
    assert (mine / PROJECT).read_bytes() == before
    assert [p.name for p in mine.iterdir()] == [PROJECT]  # no -wal or -shm left beside it by the look


# --- 4, 5. redaction reaches every name, in NFC and in capitals -------------------------------------------------------

TRANSCRIPT = """Interviewer: Thank you for joining us.

Ms Novak: The recruitment fees in Kraków were high. NOVAK is my name on the forms.

Interviewer: And then?

Ms Novak: =HYPERLINK("http://evil.example", "click") was in the message.
"""
SIDECAR = """title: Interview with Maria Lopez in Kraków
attributes:
  case_study: Kraków
interviewers: [Interviewer]
participants:
  - id: P1
    speaker: Ms Novak
    name: Jana Novak
    gender: woman
"""
DECOMPOSED = "Krako\u0301w"  # as a macOS keyboard types it; imported text is NFC: "Kraków"
LEAKS = ("maria lopez", "lopez", "kraków", DECOMPOSED, "novak")


@pytest.fixture
def named(cli, tmp_path) -> Cli:
    """An interview whose id comes from its file name ("Maria Lopez"), with a place and a surname to redact."""
    write(tmp_path / "in" / "Maria Lopez.txt", TRANSCRIPT)
    write(tmp_path / "in" / "Maria Lopez.yml", SIDECAR)
    cli("import", tmp_path / "in" / "Maria Lopez.txt")
    cli("codebook", "load", write(tmp_path / "cb.yml", CB))
    cli("apply", "Maria Lopez", 1, "A", "--coder", "ana", "--memo", f"ask NOVAK again about {DECOMPOSED}")
    cli("apply", "Maria Lopez", 3, "B", "--coder", "ana", "--memo", "=1+1")
    r = cli("redact", "add", "Maria Lopez", DECOMPOSED)
    assert "added Kraków" in r.stderr  # stored in NFC
    assert "is already listed" in cli("redact", "add", "KRAKÓW").stderr
    return cli


def exports(cli: Cli, folder: Path) -> dict[str, str]:
    """Every --redact export of the project, as text."""
    folder.mkdir()
    out = {}
    for name, args in {
        "summary.md": ["export", "summary"],
        "summary.json": ["export", "summary", "--format", "json"],
        "summary.csv": ["export", "summary", "--format", "csv"],
        "segments.csv": ["export", "segments"],
        "segments.json": ["export", "segments", "--format", "json"],
        "participants.md": ["export", "participants"],
        "matrix.csv": ["export", "matrix", "--by", "case_study", "--format", "csv"],
        "report.html": ["report"],
    }.items():
        cli(*args, "--redact", "-o", folder / name)
        out[name] = (folder / name).read_text(encoding="utf-8")
    cli("export", "qdpx", folder / "study.qdpx", "--redact")
    with zipfile.ZipFile(folder / "study.qdpx") as z:
        for member in z.namelist():
            out[f"study.qdpx:{member}"] = z.read(member).decode("utf-8")
    return out


def test_redaction_reaches_interview_ids_titles_attributes_and_memos(named, tmp_path):
    for name, text in exports(named, tmp_path / "out").items():
        found = [x for x in LEAKS if x in text.casefold()]
        assert not found, f"{name} still names {found}:\n{text[:3000]}"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    quotes = [q for s in summary["sections"] for e in [s["criterion"], *s["codes"]] for q in e["quotes"]]
    assert {q["interview"] for q in quotes} == {"INTERVIEW-001"}  # one pseudonym, the same everywhere
    segments = json.loads((tmp_path / "out" / "segments.json").read_text())["segments"]
    assert {s["interview"] for s in segments} == {"INTERVIEW-001"}
    assert any("[name]" in (s["memo"] or "") for s in segments)


def test_without_redact_the_names_stay(named, tmp_path):
    named("export", "segments", "--coder", "ana", "--format", "json", "-o", tmp_path / "s.json")
    text = (tmp_path / "s.json").read_text()
    assert "Maria Lopez" in text and "NOVAK" in text


# --- 6. CSV cells are never formulas ----------------------------------------------------------------------------------


def test_csv_cells_that_would_be_formulas_are_written_as_text(named, tmp_path):
    named("export", "segments", "--coder", "ana", "-o", tmp_path / "segments.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "segments.csv").read_text())))
    texts = {r["text"] for r in rows}
    assert '\'=HYPERLINK("http://evil.example", "click") was in the message.' in texts
    assert "'=1+1" in {r["memo"] for r in rows}
    # codings export marks it too, and codings import takes the mark off: the round trip stays exact
    exported = named("codings", "export").stdout
    assert "'=1+1" in exported
    named("codings", "import", write(tmp_path / "again.csv", exported.replace(",ana,", ",ben,")))
    assert query(named.db_path, "SELECT memo FROM codings WHERE coder = 'ben' AND memo LIKE '%1+1'") == [("=1+1",)]


def test_codebook_csv_and_xlsx_headers_are_never_formulas(cli, tmp_path):
    """A code's name or description, and an attribute value that heads an xlsx column, are text too."""
    write(tmp_path / "in" / "x.txt", TRANSCRIPT)
    write(tmp_path / "in" / "x.yml", SIDECAR.replace("case_study: Kraków", "case_study: \"=cmd|' /C calc'!A0\""))
    cli("import", tmp_path / "in" / "x.txt")
    cli("codebook", "load", write(tmp_path / "cb.yml", CB.replace("name: B", 'name: "=Evil"\n    definition: "=def"')))
    cli("apply", "x", 1, "A", "--coder", "ana")
    book = cli("codebook", "export", "--format", "csv").stdout
    assert "'=Evil,'=def" in book.splitlines()
    cli("codebook", "import", write(tmp_path / "again.csv", book))  # and read back as it was
    assert query(cli.db_path, "SELECT name, definition FROM codes WHERE name LIKE '%Evil'") == [("=Evil", "=def")]
    import openpyxl

    out = tmp_path / "m.xlsx"
    cli("export", "matrix", "--by", "case_study", "--coder", "ana", "--format", "xlsx", "-o", out)
    ws = openpyxl.load_workbook(out).worksheets[0]
    header = [c for c in ws[1] if c.value == "=cmd|' /C calc'!A0"]
    assert header and all(c.data_type == "s" for c in header)


def test_numbers_stay_numbers_and_every_formula_start_is_escaped():
    from qualcode.output.formulas import escape, unescape
    from qualcode.output.render import to_csv

    text = to_csv(
        [{"a": -0.25, "b": "-0.25", "c": "-1e-05", "d": "+3", "e": "@SUM(A1)", "f": "-2+3", "g": "\tx", "h": "'=x"}],
        list("abcdefgh"),
    )
    assert text.splitlines()[1] == "-0.250,-0.25,-1e-05,+3,'@SUM(A1),'-2+3,'\tx,''=x"
    for value in ("=x", "'=x", "''-y", "'plain", "-0.5", "+", "\r=x"):
        assert unescape(escape(value)) == value


# --- 7. a turn over spaCy's max_length is scored ---------------------------------------------------------------------


def test_a_turn_of_a_million_characters_is_scored(cli, db_path, tmp_path):
    sentence = "The recruitment fee was paid twice. "
    long = (sentence * (1_000_001 // len(sentence) + 1))[:1_000_000].rstrip()
    long += "x" * (1_000_001 - len(long))
    text = "---\ninterview: LONG\ninterviewers: [EV1]\nparticipants:\n  - id: P1\n    speaker: Ana\n---\n"
    cli("import", write(tmp_path / "long.md", text + f"EV1: Tell me.\n\nAna: {long}\n"))
    [(turn_id, start, turn_text)] = query(
        db_path, "SELECT id, start, text FROM turns WHERE interview_id = 'LONG' AND idx = 1"
    )
    assert len(turn_text) == 1_000_001
    cli("codebook", "load", write(tmp_path / "cb.yml", CB))
    r = cli("suggest", "--format", "json")
    assert json.loads(r.stdout)["turns scored"] == 1
    [(evidence,)] = query(db_path, "SELECT evidence FROM suggestions WHERE turn_id = ? AND unit = 'turn'", [turn_id])
    last = json.loads(evidence)[-1]
    assert last["start"] - start > 999_000  # found at the end of the turn, at its own offsets
    assert turn_text[last["start"] - start : last["end"] - start].lower() == "recruitment fee"


def test_long_texts_are_cut_at_sentences_and_joined_back_into_one_doc():
    import spacy

    from qualcode.suggest.score import Scorer, pieces

    text = "First one here. " * 10 + "x" * 40 + " tail"
    cut = pieces(text, "en", size=50)
    assert "".join(cut) == text and all(len(p) <= 50 for p in cut)
    assert all(p.startswith(("First", "x")) for p in cut[1:-1])  # sentence starts, else a hard cut

    # The model reads features of the whole turn's Doc (patterns found anywhere in it), so a long turn must come
    # back as one Doc with the turn's own text and offsets.
    nlp = spacy.blank("en")
    nlp.max_length = 60
    scorer = Scorer(nlp, None, [], None)
    [doc, short] = scorer.docs([text, "early"])
    assert doc.text == text and short.text == "early"
    assert doc[-1].text == "tail" and doc[-1].idx == len(text) - 4


# --- 12. options given twice merge ------------------------------------------------------------------------------------


def test_speaker_maps_given_twice_are_merged(cli, db_path, tmp_path):
    f = write(tmp_path / "talk.txt", "Ana: We met.\n\nBen: We did.\n\nAna: Twice.\n")
    cli("import", f, "--speaker-map", "Ana=P001", "--speaker-map", "Ben=P002", "--speaker-map", "Ana=P001")
    assert query(db_path, "SELECT id FROM participants ORDER BY id") == [("P001",), ("P002",)]


# --- 11. a project knows it is one ------------------------------------------------------------------------------------


def test_projects_carry_qualcodes_application_id_and_older_ones_get_it_at_their_first_write(project, db_path):
    from qualcode.store.db import APPLICATION_ID

    assert query(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA application_id = 0")  # as a project made before the mark
        conn.commit()
    project("interviews")  # reading leaves the file as it is
    assert query(db_path, "PRAGMA application_id") == [(0,)]
    project("apply", "INT-05", 1, "Relevance", "--coder", "newcomer")
    assert query(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]


def test_a_project_from_a_newer_qualcode_is_refused_but_can_be_inspected_and_backed_up(project, db_path, tmp_path):
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('qualcode', 'm999_x', 'now')"
        )
    r = project("interviews", expect=1)
    assert f"Error: {db_path}: made by a newer qualcode: migration m999_x unknown to this one" in r.stderr
    assert "m999_x" in project("db", "status").stdout
    project("backup", tmp_path / "safe.db")


def test_a_french_codebook_loads_and_scores(cli, tmp_path):
    """Found on the way: spaCy's French lemma table lists several lemmas a word, which crashed load and suggest."""
    cli("import", CORPUS / "INT-05.md")
    cli(
        "codebook",
        "load",
        write(
            tmp_path / "fr.yml",
            "codebook: fr\nlanguage: fr\ncodes:\n  - name: Argent\n    patterns: [argent, [{LEMMA: avoir}]]\n",
        ),
    )
    cli("suggest")


# --- 14. output that is not a regular file, a read-only one, a signal mid-write, a suffix ----------------------------


def run(args: list, *, cwd: Path, shell: str = "") -> subprocess.CompletedProcess:
    """qualcode in a process of its own, as a person runs it from a shell (SHELL: a redirection or a pipe)."""
    line = " ".join(shlex.quote(str(a)) for a in [sys.executable, "-m", "qualcode", *args])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(line + shell, shell=True, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_dev_stdout_a_pipe_and_a_fifo_are_written_in_place(project, db_path, tmp_path):
    folder = tmp_path / "out"
    log = write(folder / "log.txt", "what the log held\n")
    summary = ["--db", db_path, "export", "summary", "--coder", "coder-a", "-o", "/dev/stdout"]
    r = run(summary, cwd=folder, shell=" >> log.txt")
    assert r.returncode == 0, r.stderr
    assert log.read_text().startswith("what the log held\n# Findings annex")
    assert [p.name for p in folder.iterdir()] == ["log.txt"]
    r = run(summary, cwd=folder, shell=" | cat")
    assert r.returncode == 0 and r.stdout.startswith("# Findings annex"), r.stderr
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    for args, start in ((["export", "qdpx", fifo], b"PK"), (["report", "--coder", "coder-a", "-o", fifo], b"<!")):
        reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
        try:
            project(*args)
            got = reader.communicate(timeout=60)[0]
        finally:
            reader.kill()
        assert got.startswith(start) and len(got) > 1000
        assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in folder.iterdir()) == ["fifo", "log.txt"]


@pytest.mark.parametrize(
    ("shell", "said"), [(" > /dev/full", "standard output: No space left on device"), (" >&-", "standard output")]
)
def test_a_stdout_that_cannot_be_written_is_one_line(project, db_path, tmp_path, shell, said):
    for args in (["interviews"], ["codings", "export"], ["report", "--coder", "coder-a"], ["--help"], ["--version"]):
        r = run(["--db", db_path, *args], cwd=tmp_path, shell=shell)
        assert r.returncode == 1 and said in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_file_name_too_long_is_one_line(project, db_path, tmp_path):
    long = "a" * 300
    for args in (
        ["codings", "export", "-o", f"{long}.csv"],
        ["backup", f"{long}.db"],
        ["export", "qdpx", f"{long}.qdpx"],
    ):
        r = project(*args, expect=1)
        assert "File name too long" in r.stderr and r.exception is None or isinstance(r.exception, SystemExit)
    assert list(tmp_path.glob("a*")) == []


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--coder", "coder-a", "-o", "r.pdf"],
        ["export", "qdpx", "o.csv"],
        ["codings", "export", "-o", "t.xls"],
        ["codebook", "export", "-o", "c.html"],
        ["export", "summary", "--coder", "coder-a", "-o", "s.docx"],
    ],
)
def test_a_suffix_naming_a_format_the_command_does_not_write_is_refused(project, tmp_path, args, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = project(*args, expect=2)
    assert "name the file accordingly" in r.stderr
    assert list(tmp_path.iterdir()) == [] or all(p.suffix == ".db" or "db-" in p.name for p in tmp_path.iterdir())


SLOW_FSYNC = """
import os, sys, time
from pathlib import Path

real, marker = os.fsync, Path(sys.argv[1])


def fsync(fd):
    marker.touch()  # the output is written under its temporary name, about to be flushed
    time.sleep(60)
    real(fd)


os.fsync = fsync
sys.argv = ["qualcode", *sys.argv[2:]]
from qualcode.cli import main

main()
"""


@pytest.mark.parametrize("args", [["export", "qdpx", "study.qdpx"], ["report", "--coder", "coder-a", "-o", "r.html"]])
def test_sigterm_during_a_write_leaves_no_temporary_file(project, db_path, tmp_path, args):
    folder = tmp_path / "out"
    folder.mkdir()
    writing = tmp_path / "writing"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    p = subprocess.Popen(
        [sys.executable, "-c", SLOW_FSYNC, writing, "--db", db_path, *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if writing.exists() or p.poll() is not None:
                break
            time.sleep(0.1)
        assert writing.exists(), p.communicate()[1]
        assert [f.name for f in folder.iterdir() if f.name.endswith(".tmp")]  # the write is under way
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("name", ["summary-md", "report", "codings", "qdpx", "backup"])
def test_a_read_only_output_file_is_refused_and_left_as_it_was(project, tmp_path, name):
    args, filename = WRITES[name]
    out = write(tmp_path / filename, "mine, and read-only\n")
    out.chmod(0o444)
    r = project(*args, out, expect=1)
    assert f"Error: {out} is read-only" in r.stderr
    assert out.read_text() == "mine, and read-only\n" and out.stat().st_mode & 0o777 == 0o444
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_codings_and_codebook_exports_write_the_format_their_suffix_names(project, tmp_path):
    project("codings", "export", "-o", tmp_path / "codings.json")
    assert json.loads((tmp_path / "codings.json").read_text())[0]["coder"] == "coder-a"
    project("codebook", "export", "-o", tmp_path / "dac.qdc")
    assert (tmp_path / "dac.qdc").read_text().startswith("<?xml")
    project("codebook", "export", "-o", tmp_path / "dac.CSV")
    assert (tmp_path / "dac.CSV").read_text().startswith("tag,description")
    project("codebook", "export", "-o", tmp_path / "dac.yaml")
    assert (tmp_path / "dac.yaml").read_text().startswith("codebook: ")
    project("codings", "export", "-o", tmp_path / "codings")  # no suffix: the default format
    assert (tmp_path / "codings").read_text().startswith("interview,turn")


def test_check_on_a_read_only_project_checks_its_search_index(project, db_path):
    from tests.test_bad_input import run_readonly

    def searched() -> dict:
        code, out, err = run_readonly(db_path, ["check", "--format", "json"])
        assert code in (0, 1) and "Traceback" not in err, err
        return {c["check"]: c for c in json.loads(out)["checks"] if c["problems"]}

    assert searched() == {}
    db_path.chmod(0o644)
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "INSERT INTO turns_fts(turns_fts, rowid, text) SELECT 'delete', id, text FROM turns WHERE idx = 5 LIMIT 1"
        )
    found = searched()
    assert list(found) == ["search index"]
    assert "out of step with the turns" in found["search index"]["examples"][0]


# --- a read-only project: a colleague's share, an archive, a mounted backup -----------------------------------------

READ_ONLY = {"file": (0o444, 0o755), "folder": (0o644, 0o555), "both": (0o444, 0o555)}


@pytest.fixture
def shared(project, tmp_path) -> Iterator[Callable[[str], Path]]:
    """The coded project (two coders) copied into a folder of its own, which READ_ONLY[where] takes write access
    from: the file, its folder or both. The permissions come back at the end so that the folder can be removed."""
    project("apply", "INT-05", 2, "Relevance", "--coder", "coder-b")
    folder = tmp_path / "share"
    folder.mkdir()
    db = copy_db(project.db_path, folder / "study.db")

    def share(where: str) -> Path:
        file_mode, folder_mode = READ_ONLY[where]
        db.chmod(file_mode)
        folder.chmod(folder_mode)
        return db

    yield share
    folder.chmod(0o755)
    db.chmod(0o644)


def as_reader(db: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    """qualcode in a process for which DB, or its folder, is read-only (even for root: see `unprivileged`)."""
    from tests.test_bad_input import unprivileged

    locked = db.parent if not db.parent.stat().st_mode & 0o200 else db
    return subprocess.run(
        [*unprivileged(locked), sys.executable, "-m", "qualcode", "--db", str(db), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def as_it_was(db: Path) -> dict:
    """The folder's listing, and each file's bytes, mode and modification time."""
    folder = db.parent
    files = {p.name: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}
    return {"folder": (folder.stat().st_mode, folder.stat().st_mtime_ns), "files": files}


READS = {
    "interviews": ["interviews", "--format", "csv"],
    "matrix": ["export", "matrix", "--by", "gender", "--coder", "coder-a", "--format", "csv", "-o", "matrix.csv"],
    "audit": ["audit", "--coders", "coder-a,coder-b", "--format", "json"],
    "check": ["check", "--format", "json"],
    "show": ["show", "INT-05"],
    "codebook": ["codebook", "show"],
    "search": ["search", "recruitment"],
    "status": ["db", "status"],
}


@pytest.mark.parametrize("where", list(READ_ONLY))
def test_a_read_only_project_can_be_read_and_is_left_as_it_was(shared, project, tmp_path, where):
    db = shared(where)
    out = tmp_path / "out"
    out.mkdir()
    before = as_it_was(db)
    for name, args in READS.items() if where == "both" else [("interviews", READS["interviews"])]:
        r = as_reader(db, *args, cwd=out)
        assert r.returncode == 0 and "Traceback" not in r.stderr, f"{name}: exit {r.returncode}\n{r.stderr}"
        assert as_it_was(db) == before, name
        if name == "interviews":
            assert r.stdout == project("interviews", "--format", "csv").stdout
    if where == "both":
        project("export", "matrix", "--by", "gender", "--coder", "coder-a", "--format", "csv", "-o", tmp_path / "m.csv")
        assert (out / "matrix.csv").read_text() == (tmp_path / "m.csv").read_text()


WRITES_REFUSED = {
    "apply": ["apply", "INT-05", 3, "Relevance", "--coder", "coder-a"],
    "import": ["import", CORPUS / "INT-08.md"],
    "codebook load": ["codebook", "load", CODEBOOK],
    "undo": ["undo", "--coder", "coder-a"],
    "suggest": ["suggest"],
    "train": ["train", "--coder", "coder-a"],
    "code": ["code", "--coder", "coder-a"],  # refused before the session starts, not at the first decision
}


@pytest.mark.parametrize("where", list(READ_ONLY))
def test_a_command_that_writes_to_a_read_only_project_is_refused_in_one_line(shared, tmp_path, where):
    db = shared(where)
    before = as_it_was(db)
    for name, args in WRITES_REFUSED.items() if where == "both" else [("apply", WRITES_REFUSED["apply"])]:
        r = as_reader(db, *args, cwd=tmp_path)
        assert r.returncode == 1, f"{name}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        assert r.stderr.splitlines() == [
            f"Error: {db}: the project is read-only ({'its folder' if where == 'folder' else 'the file'} cannot be "
            "written): this command would change it, so it was refused and nothing changed; work on a copy, or ask "
            "for write access"
        ], name
        assert as_it_was(db) == before, name


def test_no_project_is_made_in_a_folder_that_cannot_be_written(shared, tmp_path):
    db = shared("folder")
    before = as_it_was(db)
    r = as_reader(db.with_name("new.db"), "import", CORPUS / "INT-08.md", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.splitlines() == [
        f"Error: {db.with_name('new.db')}: cannot make a project there: its folder cannot be written"
    ]
    assert as_it_was(db) == before


def test_a_read_only_project_of_an_older_qualcode_cannot_be_upgraded(shared, tmp_path):
    db = shared("file")
    db.chmod(0o644)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        last, name = conn.execute("SELECT rowid, name FROM _sqlite_migrations ORDER BY rowid DESC LIMIT 1").fetchone()
        conn.execute("DELETE FROM _sqlite_migrations WHERE rowid = ?", [last])
    db = shared("both")
    before = as_it_was(db)
    r = as_reader(db, "interviews", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith(f"Error: {db}: made by an older qualcode") and len(r.stderr.splitlines()) == 1
    assert f"lacks {name} and needs upgrading, which needs write access: work on a copy" in r.stderr
    assert "qualcode (" not in r.stderr  # made by this version's earlier build: no "older (0.1.0) than (0.1.0)"
    r = as_reader(db, "db", "status", "--format", "json", cwd=tmp_path)  # says what is pending, changing nothing
    assert r.returncode == 0 and len(json.loads(r.stdout)["pending"]) == 1
    assert as_it_was(db) == before


def test_a_read_only_project_written_to_while_it_is_read_is_not_trusted(project, db_path, tmp_path, monkeypatch):
    """A read-only project nobody has open is read without a lock (immutable): a colleague with write access who
    changes it meanwhile checkpoints into the file under the reader. What was read may then mix two states of it,
    so the command fails instead, and writes no file."""
    import qualcode.ingest.interviews as interviews
    import qualcode.store.db as store_db

    monkeypatch.setattr(store_db, "read_only_reason", lambda path: "the file cannot be written")
    read = interviews.listing

    def written():
        with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
            conn.execute("UPDATE interviews SET title = title || '.' WHERE id = 'INT-05'")

    def read_while_written(db):
        rows = read(db)
        written()
        return rows

    assert project("interviews", "--format", "csv").stdout.startswith("id,kind")  # unchanged: read as it is
    monkeypatch.setattr(interviews, "listing", read_while_written)
    r = project("interviews", expect=1)
    assert f"Error: {db_path}: it changed while it was read" in r.stderr
    monkeypatch.setattr(interviews, "listing", read)
    import qualcode.coding.files as coding_files

    export = coding_files.export
    monkeypatch.setattr(coding_files, "export", lambda db, *a: (read_while_written(db), export(db, *a))[1])
    r = project("codings", "export", "-o", tmp_path / "codings.csv", expect=1)
    assert "it changed while it was read" in r.stderr and not (tmp_path / "codings.csv").exists()
    # The two files written by the library itself, after reading and before the rename.
    import qualcode.refi.export as refi_export
    import qualcode.store.maintenance as maintenance

    build, counts = refi_export._build, maintenance._counts
    monkeypatch.setattr(refi_export, "_build", lambda db, *a, **k: (read_while_written(db), build(db, *a, **k))[1])
    r = project("export", "qdpx", tmp_path / "p.qdpx", expect=1)
    assert "it changed while it was read" in r.stderr and not (tmp_path / "p.qdpx").exists()
    monkeypatch.setattr(maintenance, "_counts", lambda conn: (written(), counts(conn))[1])
    r = project("backup", tmp_path / "b.db", expect=1)
    assert "it changed while it was read" in r.stderr and not list(tmp_path.glob("*b.db*"))


def test_a_read_only_project_reached_through_a_link_is_read_with_what_its_wal_holds(
    project, db_path, tmp_path, monkeypatch
):
    """SQLite keeps -wal and -shm beside the file a link points to: looked for beside the link, the project seemed
    closed, was read without its WAL, and showed what was there before the last commits."""
    import qualcode.store.db as store_db

    monkeypatch.setattr(store_db, "read_only_reason", lambda path: "the file cannot be written")
    link = tmp_path / "link.db"
    link.symlink_to(db_path)
    with contextlib.closing(sqlite3.connect(db_path)) as holder:  # open, so the commit stays in its WAL
        with holder:
            holder.execute("UPDATE interviews SET title = 'Held in the WAL' WHERE id = 'INT-05'")
        assert "Held in the WAL" in Cli(link)("interviews", "--format", "csv").stdout


def test_a_failed_database_write_leaves_neither_its_file_nor_its_journal(tmp_path):
    """A backup on a full disk fails with SQLite's rollback journal beside the temporary file: both go."""
    from qualcode.errors import QualcodeError
    from qualcode.output.files import replacing

    with pytest.raises(QualcodeError), replacing(tmp_path / "b.db", project=None) as tmp:
        Path(f"{tmp}-journal").write_bytes(b"journal")
        raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_refuses_is_not_called_a_foreign_file(project, db_path, monkeypatch):
    """On a full disk SQLite says "disk I/O error" while opening: the project is fine, the disk is not."""
    import qualcode.store.db as store_db

    def refuse(*_):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store_db, "_require_project", refuse)
    with pytest.raises(Exception) as failed:
        store_db.connect(db_path)
    assert "is it full? The project was not changed" in str(failed.value) and "not a qualcode" not in str(failed.value)
