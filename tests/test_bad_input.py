"""Bad input, command by command: one catalogue, one case per input.

Every case runs on a copy of a project that already holds data (three interviews, the DAC codebook, two coders'
codings) and checks the whole contract: the message names the file (and line where there is one), the exit code
is 1 (2 for usage errors), no traceback, and the project is exactly as it was. The few inputs that are accepted
(BOM and CRLF) check what was stored instead.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CODEBOOK, CODINGS, CORPUS, ROOT, Cli, copy_db, dump, write
from tests.test_refi import TEXT, XXE, qde, qdpx, source

INTERVIEWS = ("INT-05", "INT-07", "INT-08")

FM = """---
interview: {id}
participants:
  - id: {pid}
    speaker: Ana
    gender: {gender}
interviewers: [EV1]
---
EV1: Thank you for joining us.

Ana: The money came late.
"""
CB = """codebook: test
codes:
  - name: A
    colour: steelblue
  - name: B
"""
HEAD = "interview,turn,code,coder,memo"


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    """'coded': three interviews, the DAC codebook, coder-a's and coder-b's codings of them. 'plain': one
    interview, no codebook. Each test works on a copy."""
    folder = tmp_path_factory.mktemp("projects")
    coded = Cli(folder / "coded.db")
    coded("import", *(CORPUS / f"{i}.md" for i in INTERVIEWS))
    coded("codebook", "load", CODEBOOK)
    for coder in ("coder-a", "coder-b"):
        with open(CODINGS / f"{coder}.csv", encoding="utf-8", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["interview"] in INTERVIEWS]
        out = folder / f"{coder}.csv"
        with open(out, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        coded("codings", "import", out)
    plain = Cli(folder / "plain.db")
    plain("import", CORPUS / "INT-05.md")
    return {"coded": coded.db_path, "plain": plain.db_path}


@dataclass(frozen=True)
class Case:
    id: str
    # Writes the case's input into the folder it is given; returns the command line and the file the message names.
    make: Callable[[Path], tuple[list, Path | None]]
    message: str  # expected in stderr; {f} is the file returned by make
    code: int = 1
    project: str = "coded"
    check: Callable[[Path], None] | None = None  # an accepted input: what must be stored
    readonly: bool = False  # run in a process that cannot write the project file


def cmd(*args, f: Path | None = None):
    return [*args], f


def one(command: list[str], name: str, content: str | bytes, *more: str):
    """COMMAND on a file NAME holding CONTENT."""

    def make(d: Path):
        f = d / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(content.encode() if isinstance(content, str) else content)
        return [*command, f, *more], f

    return make


def imp(name, content, *more):
    return one(["import"], name, content, *more)


def cbl(content):
    return one(["codebook", "load"], "codebook.yml", content)


def cbi(content, name="codebook.csv", *more):
    return one(["codebook", "import"], name, content, *more)


def cod(content, name="codings.csv"):
    return one(["codings", "import"], name, content)


def qd(build):
    def make(d: Path):
        f = build(d / "in.qdpx")
        return ["import-qdpx", f], f

    return make


def fm(id="INT-90", pid="P090", gender="woman"):
    return FM.format(id=id, pid=pid, gender=gender)


VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nAlice: hi there\n\n{cue}\nBob: hello\n"
SRT = "1\n00:00:01,000 --> 00:00:04,000\nAlice: hi\n\n2\n{cue}\nBob: hello\n"
BOMB = ["k0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"k{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)
]


def big(d: Path):
    f = d / "big.txt"
    line = b"A: " + b"a" * 96 + b"\n"
    with open(f, "wb") as out:
        out.write(line * (50 * 1024 * 1024 // len(line) + 1))
    return ["import", f], f


def sidecar(d: Path):
    f = d / "s1.txt"
    f.write_text("A: hello there\nB: hi\n")
    (d / "s1.yml").write_bytes(b"interview: S1\ntitle: caf\xe9\n")
    return ["import", f], d / "s1.yml"


def duplicates(d: Path):
    write(d / "in" / "a.md", fm("INT-90"))
    write(d / "in" / "b.md", fm("INT-90").replace("came late", "never came"))
    return ["import", d / "in"], d / "in" / "b.md"


def sidecar_twice(d: Path):
    write(d / "s9.yml", "interview: S9\ninterview: S10\n")
    return ["import", write(d / "s9.txt", "Ana: hi\n")], d / "s9.yml"


def fifo(d: Path):
    f = d / "pipe.txt"
    os.mkfifo(f)
    return ["import", f], f


def link_loop(*command: str):
    """COMMAND on a symbolic link to itself (`ln -s loop loop`): there, but never a file."""

    def make(d: Path):
        f = d / "loop"
        f.symlink_to(f.name)
        return [*command, f], f

    return make


def bom_crlf_stored(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        [(text,)] = conn.execute("SELECT text FROM interviews WHERE id = 'INT-91'").fetchall()
        turns = conn.execute("SELECT start, end, text FROM turns WHERE interview_id = 'INT-91'").fetchall()
    finally:
        conn.close()
    assert "\r" not in text and "\ufeff" not in text
    assert [t for *_, t in turns] == ["Thank you for joining us.", "The money came late."]
    assert all(text[a:b] == t for a, b, t in turns)


def db_file(content: bytes | None = None, *, folder: bool = False, foreign: bool = False, command=("interviews",)):
    """--db pointing at something that is not a project; the message names it."""

    def make(d: Path):
        f = d / "other.db"
        if folder:
            f.mkdir()
        elif foreign:
            conn = sqlite3.connect(f)
            conn.execute("CREATE TABLE foo (x)")
            conn.execute("INSERT INTO foo VALUES (1)")
            conn.commit()
            conn.close()
        else:
            f.write_bytes(content)
        return ["--db", f, *command], f

    return make


def merge_of(content: bytes | None = None, *, foreign: bool = False):
    def make(d: Path):
        args, f = db_file(content, foreign=foreign)(d)
        return ["merge", f], f

    return make


# --- helpers for the second round of hardening (issue 13) ------------------------------------------------------------


def project_file(d: Path) -> Path:
    """The project the case runs on (the test's --db), beside the input folder."""
    return d.parent / "test.db"


def over_project(*command: str, link: str | None = None, hard: str | None = None):
    """COMMAND writing its output over the project: by its path, through a symbolic link, or through a hard link.
    {out} in COMMAND is that path."""

    def make(d: Path):
        target = project_file(d)
        if link:
            target = d / link
            target.symlink_to(project_file(d))
        elif hard:
            target = d / hard
            os.link(project_file(d), target)
        return [str(target) if a == "{out}" else a for a in command], target

    return make


def xlsx_bomb(name: str):
    """A survey workbook whose sheet unpacks to 30 MB of the same row (a few dozen kB packed)."""

    def make(d: Path):
        import io
        import zipfile

        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(["rid", "q1"])
        book.active.append(["R1", "fine"])
        buf = io.BytesIO()
        book.save(buf)
        row = b'<row><c t="inlineStr"><is><t>R</t></is></c><c t="inlineStr"><is><t>fine</t></is></c></row>'
        f = d / name
        with zipfile.ZipFile(buf) as src, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</sheetData>", row * (30 * 1024 * 1024 // len(row)) + b"</sheetData>")
                out.writestr(info.filename, data)
        return ["import", f, "--id-column", "rid", "--question", "q1"], f

    return make


def docx_file(name: str, document_xml=None, extra: dict[str, bytes] | None = None):
    """A .docx made by python-docx, its word/document.xml passed through DOCUMENT_XML, more members added."""

    def make(d: Path):
        import io
        import zipfile

        import docx

        document = docx.Document()
        document.add_paragraph("Interviewer: Hello there.")
        document.add_paragraph("Ana: PLACEHOLDER")
        buf = io.BytesIO()
        document.save(buf)
        f = d / name
        with zipfile.ZipFile(buf) as src, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "word/document.xml" and document_xml:
                    data = document_xml(data)
                out.writestr(info.filename, data)
            for member, data in (extra or {}).items():
                out.writestr(member, data)
        return ["import", f], f

    return make


def demo_over(content: Callable[[Path], None]):
    """`demo --out DIR` where DIR/project.db is already something CONTENT made."""

    def make(d: Path):
        out = d / "demo"
        out.mkdir()
        content(out / "project.db")
        return ["demo", "--out", out, "--transcripts", CORPUS, "--codebook", CODEBOOK, "--codings", CODINGS], (
            out / "project.db"
        )

    return make


def views_only(f: Path) -> None:
    with contextlib.closing(sqlite3.connect(f)) as conn:
        conn.execute("CREATE VIEW answer AS SELECT 42 AS x")
        conn.commit()


def application_id_only(f: Path) -> None:
    with contextlib.closing(sqlite3.connect(f)) as conn:
        conn.execute("PRAGMA application_id = 1234")
        conn.commit()


def on_db(prepare: Callable[[Path], None], *command):
    def make(d: Path):
        f = d / "other.db"
        prepare(f)
        return ["--db", f, *command], f

    return make


def newer_project(*command):
    """The test project as a newer qualcode would leave it: one more migration, and that version recorded."""

    def make(d: Path):
        with contextlib.closing(sqlite3.connect(project_file(d))) as conn, conn:
            conn.execute(
                "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                "VALUES ('qualcode', 'm999_from_the_future', '2031-01-01')"
            )
            conn.execute("UPDATE project SET value = '9.0.0' WHERE key = 'qualcode_version'")
        return [*command], project_file(d)

    return make


def utf_stored(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        turns = [t for (t,) in conn.execute("SELECT text FROM turns WHERE interview_id = 'INT-91' ORDER BY idx")]
    finally:
        conn.close()
    assert turns == ["Thank you for joining us.", "The money came late."]


def deep_codebook(depth: int) -> str:
    lines, indent = ["codebook: deep", "codes:"], ""
    for i in range(depth):
        lines += [f"{indent}  - name: C{i}", f"{indent}    children:"]
        indent += "    "
    return "\n".join([*lines, f"{indent}  - name: leaf"]) + "\n"


def deep_qdc(depth: int) -> str:
    opening = "".join(f'<Code guid="00000000-0000-0000-0000-{i:012d}" name="C{i}">\n' for i in range(depth))
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="x"><Codes>\n'
        + opening
        + "</Code>" * depth
        + "</Codes></CodeBook>\n"
    )


QDC = (
    '<?xml version="1.0" encoding="bogus-enc"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="x"><Codes>'
    '<Code guid="00000000-0000-0000-0000-000000000001" name="A"/></Codes></CodeBook>\n'
)
HUGE = "99999999999999999999"  # past SQLite's 64-bit integers (2**63-1 is 9223372036854775807)


CASES = [
    # --- import ----------------------------------------------------------------------------------------------------
    Case("import-empty", imp("empty.md", b""), "{f}: file is empty"),
    Case("import-binary", imp("binary.txt", b"\x00\x01\x02PK\x03\x04"), "{f}: binary file, not a text transcript"),
    Case(
        "import-invalid-utf8",
        imp("latin1.md", fm().replace("Thank you", "Merci, caf\xe9").encode("latin-1")),
        "{f}:9: not valid utf-8 at byte 123 (line 9); name the file's encoding with --encoding",
    ),
    Case(
        "import-bom-crlf",
        imp("bom.md", b"\xef\xbb\xbf" + fm("INT-91").replace("\n", "\r\n").encode()),
        "",
        code=0,
        check=bom_crlf_stored,
    ),
    Case("import-50mb", big, "{f}: file is 50.0 MB; transcripts over 20 MB are refused"),
    Case(
        "import-vtt-bad-arrow",
        imp("a.vtt", VTT.format(cue="00:00:05.000 -> 00:00:08.000")),
        "{f}:6: malformed WebVTT cue timings '00:00:05.000 -> 00:00:08.000'",
    ),
    Case(
        "import-vtt-bad-time",
        imp("a.vtt", VTT.format(cue="00:00:75.000 --> 00:00:78.000")),
        "{f}:6: invalid WebVTT timestamp '00:00:75.000'",
    ),
    Case(
        "import-vtt-no-end",
        imp("a.vtt", VTT.format(cue="00:00:05.000 -->")),
        "{f}:6: malformed WebVTT cue timings '00:00:05.000 -->'",
    ),
    Case(
        "import-vtt-backwards",
        imp("a.vtt", VTT.format(cue="00:00:08.000 --> 00:00:05.000")),
        "{f}:6: cue ends (00:00:05.000) before it starts (00:00:08.000)",
    ),
    Case("import-vtt-no-cues", imp("a.vtt", "WEBVTT\n\nNOTE only a note\n"), "{f}: no cues"),
    Case(
        "import-vtt-no-header",
        imp("a.vtt", "00:00:01.000 --> 00:00:04.000\nhi\n"),
        "{f}:1: not a WebVTT file: the first line must be 'WEBVTT'",
    ),
    Case(
        "import-srt-bad-timing",
        imp("a.srt", SRT.format(cue="00:00:05,000 --> garbage")),
        "{f}:6: malformed SRT timings '00:00:05,000 --> garbage'",
    ),
    Case("import-srt-not-srt", imp("a.srt", "hello world\nthis is not srt\n"), "{f}:1: not a SubRip file"),
    Case("import-yaml-syntax", imp("a.md", fm().replace("[EV1]", "[EV1")), "{f}:7: invalid YAML: expected ',' or ']'"),
    Case(
        "import-front-matter-unclosed",
        imp("a.md", "---\ninterview: X\n"),
        "{f}:1: front matter opened with '---' but never closed",
    ),
    Case("import-front-matter-list", imp("a.md", "---\n- a\n- b\n---\nA: hi\n"), "{f}: front matter must be a mapping"),
    Case(
        "import-yaml-bomb",
        imp(
            "a.md",
            fm().replace(
                "interviewers: [EV1]\n", "interviewers: [EV1]\nattributes:\n" + "".join(f"  {x}\n" for x in BOMB)
            ),
        ),
        "{f}: invalid YAML: the document's aliases (*name) expand it to more than 200,000 values",
    ),
    Case(
        "import-yaml-too-deep",
        imp("a.md", fm().replace("[EV1]", "[EV1]\nattributes: {k: " + "[" * 5000 + "]" * 5000 + "}")),
        "{f}:8: invalid YAML: lists or mappings nested too deeply",
    ),
    Case("import-sidecar-invalid-utf8", sidecar, "{f}:2: not valid utf-8 at byte 24 (line 2)"),
    Case(
        "import-duplicate-ids",
        duplicates,
        "{f}: duplicate interview id INT-90: also in {d}/in/a.md in this import; none of the files claiming it",
    ),
    Case(
        "import-conflicting-participant",
        imp("a.md", fm("INT-90", "P005", "man")),
        "{f}: participant P005 has gender 'man' here but 'woman' in INT-05.md",
    ),
    Case(
        "import-changed-without-replace",
        imp("INT-05.md", (CORPUS / "INT-05.md").read_text().replace("Hello", "Hi", 1)),
        "{f}: interview INT-05 already exists (from INT-05.md) with different content; use --replace",
    ),
    Case("import-unknown-speaker", imp("a.md", fm() + "\nMr X: who am I?\n"), "{f}:13: unknown speaker label 'Mr X'"),
    # A listed label no turn uses would be a phantom person in the figures by gender (and the real speaker unknown).
    Case(
        "import-front-matter-silent-participant",
        imp("a.md", fm().replace("interviewers:", "  - id: P091\n    speaker: Bo\ninterviewers:")),
        "{f}:8: speaker label 'Bo' (participant P091) is not used in the text; the labels used there are 'EV1', 'Ana'",
    ),
    Case(
        "import-sidecar-silent-participant",
        lambda d: (
            ["import", write(d / "p1.txt", "A: hi\nB: yo\n")],
            write(d / "p1.yml", "interview: P1\nparticipants:\n  - id: P1\n    speaker: Bee\n"),
        ),
        "{f}:4: speaker label 'Bee' (participant P1) is not used in p1.txt; the labels used there are 'A', 'B'",
    ),
    Case(
        "import-duplicate-participant",
        imp("a.md", fm().replace("interviewers:", "  - id: P090\n    speaker: Anna\ninterviewers:")),
        "{f}:7: participant P090 is listed twice (first on line 4)",
    ),
    Case("import-unknown-extension", imp("notes.odt", b"PK\x03\x04"), "{f}: unknown extension '.odt'"),
    # A PDF is a document now: one that is not a PDF says so.
    Case("import-pdf-damaged", imp("notes.pdf", b"%PDF-1.4"), "{f}: not a readable PDF"),
    Case("import-no-text", imp("blank.txt", "\ufeff\u00a0\n"), "{f}: file has no text"),
    Case(
        "import-docx-not-zip", imp("a.docx", b"PK\x03\x04garbage"), "{f}: not a .docx document: the file is not a zip"
    ),
    Case("import-fifo", fifo, "{f}: not a regular file"),
    Case(
        "import-unknown-encoding",
        imp("a.md", fm(), "--encoding", "bogus"),
        "--encoding: unknown encoding 'bogus'",
        code=2,
    ),
    # A path that is not there is bad input (exit 1), as the README says of every bad input, not a misused option.
    Case(
        "import-missing-path",
        lambda d: cmd("import", d / "nowhere.md", f=d / "nowhere.md"),
        "{f}: no such file or folder",
    ),
    # A link that leads back to itself is there: the system's reason, as for any file that cannot be read.
    Case("import-symlink-loop", link_loop("import"), "{f}: cannot read file: Too many levels of symbolic links"),
    Case("qdpx-symlink-loop", link_loop("import-qdpx"), "{f}: cannot read file: Too many levels of symbolic links"),
    Case(
        "codebook-symlink-loop",
        link_loop("codebook", "load"),
        "{f}: cannot read codebook: Too many levels of symbolic links",
    ),
    Case(
        "codings-symlink-loop",
        link_loop("codings", "import"),
        "{f}: cannot read file: Too many levels of symbolic links",
    ),
    # Duplicate YAML keys: the last would silently win (issue 12, case 5).
    Case(
        "import-duplicate-key",
        imp("a.md", fm().replace("interview: INT-90\n", "interview: INT-90\ninterview: INT-91\n")),
        "{f}:3: key 'interview' appears twice (also on line 2)",
    ),
    Case("import-sidecar-duplicate-key", sidecar_twice, "{f}:2: key 'interview' appears twice (also on line 1)"),
    # An impossible date is the file's error, named with its line, not a crash (issue 12, case 6).
    Case(
        "import-invalid-date",
        imp("a.md", fm().replace("participants:", "date: 2026-13-45\nparticipants:")),
        "{f}:3: invalid value",
    ),
    Case(
        "import-february-30",
        imp("a.md", fm().replace("participants:", "date: 2026-02-30\nparticipants:")),
        "{f}:3: invalid value",
    ),
    # --- codebook ----------------------------------------------------------------------------------------------------
    Case(
        "codebook-duplicate-name",
        cbl(CB.replace("name: B", "name: A")),
        "{f}:5: duplicate code name 'A' at the top level (first on line 3)",
    ),
    Case("codebook-unknown-key", cbl(CB.replace("colour:", "color_:")), "{f}:4: unknown key 'color_' in a code"),
    Case(
        "codebook-unknown-attribute",
        cbl(CB + "    patterns: [[{LEMMA: need, POSS: x}]]\n"),
        "{f}:6: code 'B': invalid token pattern (unknown attribute POSS)",
    ),
    Case(
        "codebook-bad-regex",
        cbl(CB + '    patterns: [[{LOWER: {REGEX: "(("}}]]\n'),
        "{f}:6: code 'B': invalid token pattern (bad regular expression: missing ), unterminated subpattern",
    ),
    Case(
        "codebook-bad-operator",
        cbl(CB + '    patterns: [[{LOWER: a, OP: "{2,1}"}]]\n'),
        "{f}:6: code 'B': invalid token pattern ([E011] Unknown operator: '{{2,1}}'",
    ),
    Case("codebook-unknown-colour", cbl(CB.replace("steelblue", "steelblu")), "{f}:4: unknown colour 'steelblu'"),
    Case("codebook-empty-name", cbl(CB.replace("name: B", "name: ''")), "{f}:5: code without a name"),
    Case("codebook-yaml-syntax", cbl(CB.replace("codes:", "codes: [")), "{f}:3: invalid YAML"),
    Case("codebook-not-a-mapping", cbl("- A\n- B\n"), "{f}:1: a codebook is a mapping with codebook: and codes:"),
    Case("codebook-yaml-bomb", cbl(CB + "".join(f"{x}\n" for x in BOMB)), "{f}: invalid YAML: the document's aliases"),
    Case("codebook-invalid-utf8", cbl(CB.encode() + b"  - name: caf\xe9\n"), "{f}:6: not valid UTF-8 at byte"),
    # PyYAML's reader names a character position, which no editor shows: the line and column instead.
    Case(
        "codebook-control-character",
        cbl(CB.replace("name: B", "name: B\x07")),
        "{f}:5: invalid YAML: unacceptable character U+0007 at column 12: special characters are not allowed",
    ),
    Case(
        "codebook-duplicate-patterns",
        cbl(CB + "    patterns: [money]\n    patterns: []\n"),
        "{f}:7: key 'patterns' appears twice (also on line 6)",
    ),
    Case(
        "codebook-duplicate-codes",
        cbl(CB + "codes:\n  - name: C\n"),
        "{f}:6: key 'codes' appears twice (also on line 2)",
    ),
    Case("codebook-folder", lambda d: cmd("codebook", "load", d, f=d), "{f}: cannot read codebook: Is a directory"),
    # --- codebook import: CSV in Taguette's shape, a flat .qdc read as paths -----------------------------------------
    Case(
        "codebook-csv-no-name-column",
        cbi("label,description\nA,\n"),
        "{f}:1: a CSV codebook needs exactly one column named tag, name or path (Taguette's shape); this one has none",
    ),
    Case(
        "codebook-csv-two-name-columns",
        cbi("tag,path,description\nA,A,\n"),
        "{f}:1: a CSV codebook needs exactly one column named tag, name or path (Taguette's shape); this one has "
        "'tag' and 'path'",
    ),
    Case("codebook-csv-empty-tag", cbi("tag,description\nA,x\n,y\n"), "{f}:3: no tag in this row"),
    Case("codebook-csv-empty-level", cbi("Tag,Description\nA,\nA//B,\n"), "{f}:3: tag 'A//B' has an empty level"),
    Case(
        "codebook-csv-twice",
        cbi('tag,description\nA/B,"two\nlines"\nB,\na / b,\n'),
        "{f}:5: tag 'a / b' is listed twice (line 2)",
    ),
    Case("codebook-csv-empty", cbi(""), "{f}:1: a CSV codebook needs exactly one column named tag, name or path"),
    Case("codebook-csv-not-utf8-nor-cp1252", cbi(b"tag\nA\x81\n"), "{f}: not valid UTF-8 (byte 5)"),
    Case(
        "codebook-qdc-paths-twice",
        cbi(
            '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
            '<Code guid="A91C1820-840B-5C66-8662-C44FCFA4A023" name="A/B" isCodable="true"/>'
            '<Code guid="4FAA444B-B673-5868-9FA8-954AA1AFB4CA" name="A / B" isCodable="true"/></Codes></CodeBook>',
            "codes.qdc",
            "--paths",
        ),
        "{f}: two codes are named 'A/B'",
    ),
    # --- codings import --------------------------------------------------------------------------------------------
    Case(
        "codings-unknown-interview",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-99,1,Relevance,zed,\n"),
        "{f}:3: no interview 'INT-99'",
    ),
    Case(
        "codings-unknown-turn",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,999,Relevance,zed,\n"),
        "{f}:3: interview INT-05 has no turn 999 (turns are numbered 0 to",
    ),
    Case(
        "codings-unknown-code",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,3,Relevanse,zed,\n"),
        "{f}:3: no code 'Relevanse' in the codebook (did you mean Relevance?)",
    ),
    Case(
        "codings-folder-code",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,3,Assessment,zed,\n"),
        "{f}:3: code 'Assessment' is a folder (codable: false) and cannot be applied",
    ),
    Case(
        "codings-bad-turn",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,three,Relevance,zed,\n"),
        "{f}:3: turn must be a whole number, got 'three'",
    ),
    Case("codings-negative-turn", cod(f"{HEAD}\nINT-05,-1,Relevance,zed,\n"), "{f}:2: interview INT-05 has no turn -1"),
    Case(
        "codings-missing-columns",
        cod("interview,turn,coder\nINT-05,1,zed\n"),
        "{f}:1: missing column(s) code; expected interview,turn,code,coder,memo",
    ),
    Case(
        "codings-code-and-empty-code",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,1,,zed,\n"),
        "{f}:3: INT-05 turn 1 has both codes and an empty code for zed",
    ),
    Case(
        "codings-no-code-over-codes",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,5,,coder-a,\n"),
        "{f}:3: INT-05 turn 5 already has codes from coder-a; cannot record 'no code'",
    ),
    Case(
        "codings-bad-start",
        cod(f"{HEAD},start,end\nINT-05,1,Relevance,zed,,5,x\n"),
        "{f}:2: end must be a whole number (an offset in the turn's text), got 'x'",
    ),
    Case("codings-more-fields", cod(f"{HEAD}\nINT-05,1,Relevance,zed,,extra\n"), "{f}:2: more fields than columns"),
    # An open quote used to swallow the next row into a memo, and the import said "1 row".
    Case(
        "codings-open-quote",
        cod(f'{HEAD}\nINT-05,1,Relevance,zed,"note\nINT-05,2,Relevance,zed,\n'),
        "{f}:2: not readable as CSV: unexpected end of data",
    ),
    # ... and one respondent's answer into another's, so a quote went to the wrong person.
    Case(
        "survey-open-quote",
        one(
            ["import"],
            "s.csv",
            'rid,q1\nR1,"Fine, thanks\nR2,"Our union lost members"\nR3,Good\n',
            "--id-column",
            "rid",
            "--question",
            "q1",
        ),
        "{f}:2: not a readable CSV file (',' expected after '\"')",
    ),
    Case(
        "survey-more-fields",
        one(["import"], "s.csv", "rid,q1\nR1,fine,extra\n", "--id-column", "rid", "--question", "q1"),
        "{f}:2: more fields than columns",
    ),
    Case(
        "codings-huge-field",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,3,Relevance,zed,{'x' * 200_000}\n"),
        "{f}:3: not readable as CSV: field larger than field limit",
    ),
    Case("codings-no-rows", cod(f"{HEAD}\n"), "{f}: no rows"),
    Case(
        "codings-json-too-deep",
        cod("[" * 100_000 + "]" * 100_000, "codings.json"),
        "{f}: invalid JSON: lists or objects nested too deeply",
    ),
    Case("codings-json-syntax", cod('[{"interview": "INT-05",\n "turn": }]', "codings.json"), "{f}:2: invalid JSON"),
    # --- import-qdpx -----------------------------------------------------------------------------------------------
    Case(
        "qdpx-zip-slip",
        qd(lambda p: qdpx(p, qde(), {"../evil.txt": b"x"})),
        "{f}: archive member '../evil.txt' points outside the archive (zip-slip): refused",
    ),
    Case(
        "qdpx-zip-bomb",
        qd(lambda p: qdpx(p, qde(), {"sources/big.txt": b"\0" * (2 * 1024 * 1024)})),
        "{f}: zip bomb: 'sources/big.txt' unpacks to 2 MB from",
    ),
    Case("qdpx-xxe", qd(lambda p: qdpx(p, XXE)), "{f}:project.qde: XML with a DTD or entities is refused (XXE)"),
    Case(
        "qdpx-nul-in-source",
        qd(lambda p: qdpx(p, qde(source(14, 22)), {k: v.replace(b"so", b"s\0") for k, v in TEXT.items()})),
        "{f}:project.qde: the text of <TextSource name='Interview A'> holds a NUL character at 19: binary, not text",
    ),
    Case("qdpx-no-project-qde", qd(lambda p: qdpx(p, None, TEXT)), "{f}: no project.qde in the archive"),
    Case(
        "qdpx-dangling-coderef",
        qd(
            lambda p: qdpx(
                p, qde(source(14, 22, coding='<CodeRef targetGUID="AAAAAAAA-0000-0000-0000-000000000000"/>')), TEXT
            )
        ),
        "{f}: a <Coding> in <PlainTextSelection guid='11111111-2222-3333-4444-555555555555'> of source 'Interview A' "
        "refers to code AAAAAAAA-0000-0000-0000-000000000000, which is not in the file's <CodeBook>",
    ),
    Case(
        "qdpx-dangling-noteref",
        qd(
            lambda p: qdpx(
                p, qde(source(14, 22, extra='<NoteRef targetGUID="BBBBBBBB-0000-0000-0000-000000000000"/>')), TEXT
            )
        ),
        "{f}:project.qde: <PlainTextSelection guid='11111111-2222-3333-4444-555555555555'> in <TextSource "
        "name='Interview A'> has a NoteRef to BBBBBBBB-0000-0000-0000-000000000000, which is not among the file's "
        "<Notes>",
    ),
    Case(
        "qdpx-not-a-zip", qd(lambda p: write(p, "hello")), "{f}: not a REFI-QDA project: a .qdpx file is a zip archive"
    ),
    # --- other commands --------------------------------------------------------------------------------------------
    Case(
        "apply-missing-turn",
        lambda d: cmd("apply", "INT-05", 999, "Relevance", "--coder", "newcomer"),
        "interview INT-05 has no turn 999",
    ),
    Case(
        "apply-coder-twice",
        lambda d: cmd("apply", "INT-05", 1, "Relevance", "--coder", "alice", "--coder", "bob"),
        "Invalid value for '--coder' (env var: 'QUALCODE_CODER'): given twice: give it once",
        code=2,
    ),
    Case(
        "export-format-twice",
        lambda d: cmd("export", "summary", "--format", "md", "-f", "csv"),
        "Invalid value for '--format' / '-f': given twice: give it once",
        code=2,
    ),
    Case(
        "apply-missing-interview",
        lambda d: cmd("apply", "INT-99", 1, "Relevance", "--coder", "newcomer"),
        "no interview 'INT-99'",
    ),
    Case(
        "apply-folder-code",
        lambda d: cmd("apply", "INT-05", 1, "Assessment", "--coder", "newcomer"),
        "code 'Assessment' is a folder (codable: false) and cannot be applied",
        code=2,
    ),
    Case(
        "apply-bad-span",
        lambda d: cmd("apply", "INT-05", 1, "Relevance", "--coder", "newcomer", "--start", 5, "--end", 2),
        "--start/--end must satisfy 0 <= start < end",
        code=2,
    ),
    Case("undo-nothing", lambda d: cmd("undo", "--coder", "newcomer"), "newcomer has nothing to undo"),
    Case("undo-unknown-batch", lambda d: cmd("undo", "--coder", "coder-a", "--batch", 9999), "no batch 9999"),
    Case(
        "audit-one-coder",
        lambda d: cmd("audit", "--coders", "coder-a"),
        "name at least two coders to compare: --coders A,B",
        code=2,
    ),
    Case(
        "export-several-coders",
        lambda d: cmd("export", "summary"),
        "the project has 2 coders and no single consensus: which coder's codings?",
        code=2,
    ),
    Case(
        "history-bad-since",
        lambda d: cmd("history", "--since", "last week"),
        "--since expects a date such as 2026-11-01, got 'last week'",
        code=2,
    ),
    Case("search-bad-query", lambda d: cmd("search", '"unclosed'), "cannot read the search query", code=2),
    Case(
        "code-unknown-interview", lambda d: cmd("code", "--coder", "newcomer", "-i", "INT-99"), "no interview 'INT-99'"
    ),
    Case("suggest-no-codebook", lambda d: cmd("suggest"), "the project has no codebook yet", project="plain"),
    Case(
        "evaluate-bad-curve",
        lambda d: cmd("suggest", "--evaluate", "--coder", "coder-a", "--heldout-coder", "coder-b", "--curve", "four"),
        "--curve takes numbers of interviews separated by commas, such as 4,8,16; got 'four'",
        code=2,
    ),
    Case(
        "evaluate-curve-without-heldout",
        lambda d: cmd("suggest", "--evaluate", "--coder", "coder-a", "--curve", "4,8"),
        "a learning curve is measured on held-out coders: give --heldout-coder",
        code=2,
    ),
    Case(
        "evaluate-nothing-held-out",
        lambda d: cmd("suggest", "--evaluate", "--coder", "coder-a", "--heldout-coder", "coder-b"),
        "coder 'coder-b' decided no turn in an interview that coder-a did not decide: nothing is held out",
        code=2,
    ),
    Case("db-text-file", db_file(b"hello world\n"), "{f}: not a qualcode project (file is not a database)"),
    Case("db-folder", db_file(folder=True), "{f}: is a folder, not a project file"),
    Case(
        "db-foreign-sqlite",
        db_file(foreign=True, command=("import", CORPUS / "INT-01.md")),
        "{f}: not a qualcode project: an SQLite database of something else (tables foo)",
    ),
    Case(
        "db-read-only",
        lambda d: cmd("apply", "INT-05", 1, "Relevance", "--coder", "newcomer"),
        "{f}: the project is read-only (the file cannot be written): this command would change it, so it was refused",
        readonly=True,
    ),
    Case("merge-text-file", merge_of(b"hello world\n"), "{f}: not a qualcode project"),
    Case("merge-foreign-sqlite", merge_of(foreign=True), "{f}: not a qualcode project"),
    Case("merge-itself", lambda d: cmd("merge", d.parent / "test.db"), "cannot merge a project into itself", code=2),
    # --- second round (issue 13): output files never overwrite the project -----------------------------------------
    Case(
        "report-over-project",
        over_project("report", "-o", "{out}", "--coder", "coder-a"),
        "{f} is the project file itself (--db): writing there would destroy the project",
        code=2,
    ),
    Case(
        "summary-over-project-by-link",
        over_project("export", "summary", "--coder", "coder-a", "-o", "{out}", link="annex.md"),
        "{f} is the project file itself (--db)",
        code=2,
    ),
    Case(
        "codings-export-over-project-by-hard-link",
        over_project("codings", "export", "-o", "{out}", hard="codings.csv"),
        "{f} is the project file itself (--db)",
        code=2,
    ),
    Case("qdpx-over-project", over_project("export", "qdpx", "{out}"), "{f} is the project file itself (--db)", code=2),
    *(
        Case(
            f"{'-'.join(command[:2])}-over-project",
            over_project(*command, "-o", "{out}"),
            "{f} is the project file itself (--db)",
            code=2,
        )
        for command in (
            ("export", "segments", "--coder", "coder-a"),
            ("export", "matrix", "--by", "gender", "--coder", "coder-a"),
            ("export", "participants"),
            ("codebook", "export"),
            ("suggestions", "export"),
        )
    ),
    Case(
        "segments-over-project-wal",
        lambda d: cmd(
            "export", "segments", "--coder", "coder-a", "-o", f"{project_file(d)}-wal", f=Path(f"{project_file(d)}-wal")
        ),
        "{f} is the project file itself (--db)",
        code=2,
    ),
    Case(
        "demo-over-a-text-file",
        demo_over(lambda f: f.write_text("my notes, not a project\n")),
        "{f}: not a project 'qualcode demo' made, and the demo replaces only its own: it was left as it was",
    ),
    Case(
        "demo-over-a-users-project",
        demo_over(lambda f: copy_db(project_file(f.parent.parent), f)),
        "{f}: not a project 'qualcode demo' made",
    ),
    # --- archives, encodings, XML ----------------------------------------------------------------------------------
    Case(
        "import-docx-zip-bomb",
        docx_file("bomb.docx", lambda xml: xml.replace(b"PLACEHOLDER", b"a" * (30 * 1024 * 1024))),
        "{f}: zip bomb: 'word/document.xml' unpacks to 30 MB from",
    ),
    Case(
        "import-xlsx-survey-zip-bomb",
        xlsx_bomb("bomb.xlsx"),
        "{f}: zip bomb: 'xl/worksheets/sheet1.xml' unpacks to 30 MB from",
    ),
    *[
        Case(
            f"import-max-size-{value}",
            lambda d, value=value: cmd("import", "--max-size", value, CORPUS / "INT-05.md"),
            "--max-size must be a number of megabytes between 0 and 1000000",
            code=2,
        )
        for value in ("inf", "nan", "1e400", "0")
    ],
    Case(
        # Under the ratio a zip bomb has (varied text compresses about threefold), but a text part larger than
        # --max-size: python-docx would parse all of it in memory.
        "import-docx-text-part-over-max-size",
        lambda d: (
            [
                "import",
                "--max-size",
                "1",
                docx_file(
                    "big.docx", lambda xml: xml.replace(b"PLACEHOLDER", b" ".join(b"w%d" % i for i in range(400_000)))
                )(d)[1],
            ],
            d / "big.docx",
        ),  # fmt: skip
        "{f}: word/document.xml unpacks to 3 MB, more than --max-size (1 MB): refused",
    ),
    Case(
        "import-docx-entity",
        docx_file("entity.docx", lambda xml: xml.replace(b"PLACEHOLDER", b"X&amp;e;Y&e;Z")),
        "{f}: word/document.xml: not well-formed XML at line 2, column",
    ),
    Case("import-utf16-bom", imp("utf16.md", fm("INT-91").encode("utf-16")), "", code=0, check=utf_stored),
    Case("import-utf32-bom", imp("utf32.md", fm("INT-91").encode("utf-32")), "", code=0, check=utf_stored),
    Case(
        "import-utf16-encoding",
        imp("utf16le.md", fm("INT-91").encode("utf-16-le"), "--encoding", "utf-16-le"),
        "",
        code=0,
        check=utf_stored,
    ),
    Case(
        "import-nul-after-8k",
        imp("late-nul.txt", "A: hello\n" * 2000 + "B: \x00 bye\n"),
        "{f}: binary file, not a text transcript (NUL bytes found)",
    ),
    Case(
        "import-nul-with-encoding",
        imp("nul.txt", "A: hello\x00\nB: bye\n", "--encoding", "cp1252"),
        "{f}: binary file, not a text transcript (NUL bytes found)",
    ),
    Case(
        "qdpx-bogus-xml-encoding",
        qd(lambda p: qdpx(p, qde().replace('encoding="utf-8"', 'encoding="bogus-enc"'), TEXT)),
        "{f}:project.qde:1: the XML declaration names an unknown encoding (unknown encoding: bogus-enc)",
    ),
    Case(
        "qdc-bogus-xml-encoding",
        one(["codebook", "import"], "bogus.qdc", QDC),
        "{f}:1: the XML declaration names an unknown encoding (unknown encoding: bogus-enc)",
    ),
    Case(
        "qdc-nested-600",
        one(["codebook", "import"], "deep.qdc", deep_qdc(600)),
        "{f}:53: codes nested more than 50 levels deep: refused",
    ),
    Case(
        "codebook-nested-600",
        cbl(deep_codebook(600)),
        "{f}:201: invalid YAML: lists or mappings nested too deeply (more than 200 levels)",
    ),
    Case("codebook-nested-60", cbl(deep_codebook(60)), "{f}:103: codes nested more than 50 levels deep: refused"),
    Case(
        "codebook-unknown-language",
        cbl(CB.replace("codes:", "language: klingon\ncodes:")),
        "{f}:2: unknown language 'klingon'",
    ),
    # --- integers past SQLite's range -------------------------------------------------------------------------------
    Case(
        "apply-turn-past-sqlite",
        lambda d: cmd("apply", "INT-05", HUGE, "Relevance", "--coder", "newcomer"),
        f"Invalid value for 'turn': {HUGE} is out of range",
        code=2,
    ),
    Case(
        "unapply-turn-past-sqlite",
        lambda d: cmd("unapply", "INT-05", HUGE, "Relevance", "--coder", "coder-a"),
        f"Invalid value for 'turn': {HUGE} is out of range",
        code=2,
    ),
    Case(
        "apply-start-past-sqlite",
        lambda d: cmd("apply", "INT-05", 1, "Relevance", "--coder", "newcomer", "--start", f"-{HUGE}"),
        f"Invalid value for '--start': -{HUGE} is out of range",
        code=2,
    ),
    Case(
        "undo-batch-past-sqlite",
        lambda d: cmd("undo", "--coder", "coder-a", "--batch", HUGE),
        f"Invalid value for '--batch': {HUGE} is out of range",
        code=2,
    ),
    Case(
        "history-limit-past-sqlite",
        lambda d: cmd("history", "--limit", HUGE),
        f"Invalid value for '--limit': {HUGE} is out of range",
        code=2,
    ),
    Case(
        "search-limit-past-sqlite",
        lambda d: cmd("search", "money", "--limit", HUGE),
        f"Invalid value for '--limit': {HUGE} is out of range",
        code=2,
    ),
    Case(
        "codings-turn-past-sqlite",
        cod(f"{HEAD}\nINT-05,1,Relevance,zed,\nINT-05,{HUGE},Relevance,zed,\n"),
        f"{{f}}:3: interview INT-05 has no turn {HUGE} (turns are numbered 0 to",
    ),
    # --- what is a project ------------------------------------------------------------------------------------------
    Case(
        "db-views-only",
        on_db(views_only, "import", CORPUS / "INT-01.md"),
        "{f}: not a qualcode project: an SQLite database of something else (views answer); it was left as it was",
    ),
    Case(
        "db-other-application-id",
        on_db(application_id_only, "import", CORPUS / "INT-01.md"),
        "{f}: not a qualcode project: an SQLite database of another application (application_id 0x000004d2",
    ),
    Case(
        "db-newer-project",
        newer_project("apply", "INT-05", 1, "Relevance", "--coder", "newcomer"),
        "{f}: made by a newer qualcode (9.0.0): migration m999_from_the_future unknown to this one",
    ),
    Case(
        "db-dev-null", lambda d: cmd("--db", "/dev/null", "interviews", f=Path("/dev/null")), "{f}: not a regular file"
    ),
    # --- output files: a full device, a suffix naming another format ---------------------------------------------
    *(
        Case(f"{name}-to-dev-full", lambda d, c=command: cmd(*c, f=Path("/dev/full")), "cannot write {f}: No space")
        for name, command in (
            ("qdpx", ("export", "qdpx", "/dev/full")),
            ("report", ("report", "--coder", "coder-a", "-o", "/dev/full")),
            ("codings", ("codings", "export", "-o", "/dev/full")),
        )
    ),
    Case(
        "codings-export-to-xlsx",
        lambda d: cmd("codings", "export", "-o", d / "codings.xlsx", f=d / "codings.xlsx"),
        "codings.xlsx: codings export writes .csv or .json, not .xlsx: name the file accordingly",
        code=2,
    ),
    Case(
        "codebook-export-to-md",
        lambda d: cmd("codebook", "export", "-o", d / "codebook.md", f=d / "codebook.md"),
        "codebook.md: codebook export writes .yml, .yaml, .qdc or .csv, not .md: name the file accordingly",
        code=2,
    ),
    Case(
        "codings-export-json-suffix-csv-format",
        lambda d: cmd("codings", "export", "--format", "csv", "-o", d / "c.json", f=d / "c.json"),
        "--format csv but c.json ends in .json: give one or the other",
        code=2,
    ),
    # --- options given twice ----------------------------------------------------------------------------------------
    Case(
        "import-speaker-map-twice-conflicting",
        imp("a.md", fm(), "--speaker-map", "Ana=P090", "--speaker-map", "Ana=P091"),
        "--speaker-map maps 'Ana' twice, to 'P090' and to 'P091': choose one",
        code=2,
    ),
]


def flat(text: str) -> str:
    return " ".join(text.split())


def unprivileged(read_only: Path) -> list[str]:
    """The command prefix that runs a process for which READ_ONLY (a file or folder without write permission) is
    read-only, even for root (setpriv drops the capability that lets root write it anyway); skips the test when
    there is no way to."""
    if os.geteuid() != 0:
        return []
    caps = "-dac_override,-dac_read_search"
    prefix = [shutil.which("setpriv") or "setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]
    probe = subprocess.run([*prefix, "sh", "-c", f"test ! -w {read_only}"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("running as root without a way to drop write access to a read-only file")
    return prefix


def run_readonly(db: Path, args: list) -> tuple[int, str, str]:
    """The command in a process that cannot write DB: a read-only file, even for root (setpriv drops the
    capability that lets root write it anyway)."""
    db.chmod(0o444)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    p = subprocess.run(
        [*unprivileged(db), sys.executable, "-m", "qualcode", "--db", str(db), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, projects, db_path, tmp_path):
    copy_db(projects[case.project], db_path)
    inputs = tmp_path / "input"
    inputs.mkdir()
    args, f = case.make(inputs)
    target = f if f is not None and f.is_file() and f.suffix == ".db" else None
    target_before = target.read_bytes() if target else None
    before = dump(db_path)
    # A case that names its own --db runs on it alone: an option given twice is itself refused.
    project, args = (Path(args[1]), args[2:]) if args[:1] == ["--db"] else (db_path, args)
    if case.readonly:
        code, stdout, stderr = run_readonly(project, args)
        f = db_path
        exception = None
    else:
        r = Cli(project)(*args, expect=None)
        code, stdout, stderr, exception = r.exit_code, r.stdout, r.stderr, r.exception
    assert "Traceback" not in stdout + stderr
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert code == case.code, f"exit {code}, expected {case.code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    if case.check:
        case.check(db_path)
        return
    message = case.message.format(f=f, d=inputs)
    assert flat(f"Error: {message}") in flat(stderr), stderr
    assert dump(db_path) == before
    if target:
        assert target.read_bytes() == target_before  # another program's file is never touched


def test_a_stored_pattern_spacy_cannot_compile_is_named_not_a_traceback(cli, db_path, tmp_path):
    """A codebook stored before load checked patterns with spaCy's Matcher: suggest names the code and pattern."""
    cli("import", CORPUS / "INT-05.md")
    cli("codebook", "load", write(tmp_path / "cb.yml", CB))
    conn = sqlite3.connect(db_path)
    conn.execute("""UPDATE codes SET patterns = '{"en": [{"tokens": [{"LOWER": {"REGEX": "(("}}], "weight": 0.6}]}'
                    WHERE name = 'B'""")
    conn.commit()
    conn.close()
    before = dump(db_path)
    r = cli("suggest", expect=1)
    assert "Error: B: pattern 1 cannot be used (missing ), unterminated subpattern at position 1)" in r.stderr
    assert dump(db_path) == before
