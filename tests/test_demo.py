"""The main job end to end: `qualcode demo` on the shipped corpus."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from tests.conftest import CODEBOOK, CODINGS, CORPUS, ROOT


@pytest.mark.slow
def test_demo_runs_the_whole_workflow(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the README runs it from the repository folder
    out = tmp_path / "demo"
    r = cli("demo", "--out", out)
    assert "Participants: 108 (65 woman, 43 man)." in r.stdout
    assert "Scope: 386 turns in 16 interviews decided by coder-a and coder-b" in r.stdout
    for name in (
        "summary.md",
        "summary.xlsx",
        "matrix-gender.csv",
        "matrix-case-study.csv",
        "participants.xlsx",
        "segments.csv",
        "report.html",
        "audit.md",
        "audit.json",
    ):
        assert (out / name).stat().st_size > 0, name
    audit = json.loads((out / "audit.json").read_text())
    overall = next(x for x in audit["rows"] if x["level"] == "overall")
    assert f"α {overall['statistics']['krippendorff_alpha']['value']:.3f}" in r.stdout
    with open(out / "segments.csv", encoding="utf-8") as f:
        segments = list(csv.DictReader(f))
    with open(CODINGS / "coder-a.csv", encoding="utf-8") as f:
        coded = [row for row in csv.DictReader(f) if row["code"]]
    assert len(segments) == len(coded)
    book = openpyxl.load_workbook(out / "participants.xlsx")
    assert book.sheetnames[0] == "Participants" and book["Participants"].max_row == 109
    html = (out / "report.html").read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    project = out / "project.db"
    from tests.conftest import Cli

    again = Cli(project)
    suggestions = json.loads(again("suggest", "--format", "json").stdout)
    assert suggestions["turns scored"] == 0  # the demo left every suggestion up to date
    assert suggestions["model"].startswith("lr-")


def test_demo_names_the_missing_material(cli, tmp_path):
    r = cli("demo", "--out", tmp_path / "d", expect=1)
    assert "run 'qualcode demo' from the qualcode repository folder" in r.stderr
    r = cli(
        "demo",
        "--out",
        tmp_path / "d",
        "--transcripts",
        CORPUS,
        "--codebook",
        CODEBOOK,
        "--codings",
        tmp_path,
        expect=1,
    )
    assert f"no coding files (*.csv) in {tmp_path}" in r.stderr
