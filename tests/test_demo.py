"""The main job end to end: `qualcode demo` on the shipped corpus."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from tests.conftest import CODEBOOK, CODINGS, CORPUS


@pytest.mark.slow
def test_demo_runs_the_whole_workflow(cli, tmp_path):
    out = tmp_path / "demo"  # run from a folder that is not the repository: the material comes with qualcode
    r = cli("demo", "--out", out)
    assert r.stderr == ""  # stderr is not a terminal here: no running commentary of the steps
    assert "Participants: 108 (65 women, 43 men)." in r.stdout
    assert (
        "Beside 64 interviews: 2 surveys (115 respondents: 59 women, 51 men, 5 not recorded), 5 documents." in r.stdout
    )
    assert (
        "Agreement (572 units in 16 interviews, 2 surveys and 2 documents decided by coder-a and coder-b; no unit was "
        "decided by only one coder)" in r.stdout.replace("\n", " ")
    )
    for name in (
        "summary.md",
        "summary.xlsx",
        "matrix-gender.csv",
        "matrix-case-study.csv",
        "matrix-source.csv",
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
    coded = []
    for path in (CODINGS / "coder-a.csv", CODINGS / "evidence" / "coder-a.csv"):
        with open(path, encoding="utf-8") as f:
            coded += [row for row in csv.DictReader(f) if row["code"]]
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
    r = cli("demo", "--out", tmp_path / "d", "--transcripts", tmp_path / "nowhere", expect=1)
    assert f"cannot find {tmp_path / 'nowhere'}: name the material with --transcripts" in r.stderr
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
