"""Every figure `qualcode demo` publishes, counted again from the transcript files and the coding CSVs.

The expected numbers come from tests/shipped.py, which reads the files with the csv and yaml modules and nothing of
qualcode; only running qualcode and reading its output files uses it. The same recount is made for a consensus
reviewed to the end, whose expected coding follows from the two coding files and the reviewer's rule.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import openpyxl
import pytest

from tests import shipped
from tests.conftest import ROOT, Cli

CODER = "coder-a"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.chdir(ROOT)
    out = tmp_path_factory.mktemp("recount") / "demo"
    Cli(out / "unused.db")("demo", "--out", out)
    return out


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _evidence(coder: str, keys=None) -> list[dict]:
    rows = shipped.evidence(coder)
    return [r for r in rows if keys is None or (r["interview"], r["turn"]) in keys]


def _people(rows, attribute: str) -> dict[str, dict[str, set]]:
    out: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        value = shipped.participants()[r["participant"]].get(attribute) or r.get(attribute)
        out[r["criterion"]][value or "not recorded"].add(r["participant"])
    return out


def test_participants(demo):
    book = openpyxl.load_workbook(demo / "participants.xlsx")
    sheet = book["By gender"]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    people = shipped.participants()
    women = sum(p["gender"] == "woman" for p in people.values())
    assert len(people) == 108 and women == 65
    head = [c.value for c in sheet[1]]
    assert dict(zip(head[1:], rows["all"], strict=True)) == {"total": 108, "woman": 65, "man": 43}
    by_group = book["By stakeholder group"]
    expected = defaultdict(lambda: defaultdict(int))
    for p in people.values():
        expected[p["stakeholder_group"]][p["gender"]] += 1
    for value, total, *genders in by_group.iter_rows(min_row=2, values_only=True):
        if value != "all":
            assert total == sum(expected[value].values())
            assert genders[0] == expected[value]["woman"] and genders[1] == expected[value]["man"]


@pytest.mark.parametrize("by", ["gender", "stakeholder_group", "case_study"])
def test_matrix_cells_totals_and_bases(demo, by):
    with open(demo / f"matrix-{by.replace('_', '-')}.csv", encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    rows = _evidence(CODER)
    cells = _people(rows, by) if by != "gender" else _by_gender(rows)
    for criterion in (c["path"] for c in shipped.codebook() if c["depth"] == 0):
        got = next(r for r in table if r["criterion"] == criterion)
        for value, n in got.items():
            if value not in ("criterion", "total"):
                assert int(n) == len(cells[criterion].get(value, ())), (criterion, value)
        assert int(got["total"]) == len(set().union(*cells[criterion].values()) if cells[criterion] else set())
    decided = {k[0] for k in shipped.decisions(CODER)}
    base = next(r for r in table if r["criterion"].endswith(f"{CODER} decided"))
    study = next(r for r in table if r["criterion"].endswith("in the study"))
    everyone, everyone_decided = set(), set()
    for value in (v for v in base if v not in ("criterion", "total")):
        in_study = {pid for pid, p in shipped.participants().items() if _value(p, by) == value}
        in_base = {pid for pid in in_study if any(iid in decided for iid in shipped.participants()[pid]["interviews"])}
        if by == "case_study":  # an interview attribute: a person counts under each case study they spoke in
            in_base = {
                pid
                for pid, p in shipped.participants().items()
                for iid, attrs in p["interviews"].items()
                if iid in decided and attrs.get("case_study") == value
            }
            in_study = {
                pid
                for pid, p in shipped.participants().items()
                for attrs in p["interviews"].values()
                if attrs.get("case_study") == value
            }
        assert int(base[value]) == len(in_base), value
        assert int(study[value]) == len(in_study), value
        everyone |= in_study
        everyone_decided |= in_base
    # The totals count people once, whatever number of columns they are in (a person in two case studies).
    assert (int(base["total"]), int(study["total"])) == (len(everyone_decided), len(everyone))


def _value(p: dict, attribute: str):
    return p.get(attribute) or next(iter(p["interviews"].values())).get(attribute)


def _by_gender(rows) -> dict[str, dict[str, set]]:
    out: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        out[r["criterion"]][r["gender"]].add(r["participant"])
    return out


def test_summary_counts_and_rates(demo):
    sheet = openpyxl.load_workbook(demo / "summary.xlsx")["Summary"]
    head = [c.value for c in sheet[1]]
    rows = [dict(zip(head, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    rows = [r for r in rows if r["level"] in ("criterion", "code")]  # the notes under the table are not figures
    assert len(rows) > 40
    evidence = _evidence(CODER)
    base = shipped.base_by_gender(CODER)
    for row in rows:
        mine = [
            r
            for r in evidence
            if (r["criterion"] == row["code"] if row["level"] == "criterion" else r["code"] == row["code"])
        ]
        assert row["segments"] == len(mine), row["code"]
        assert row["interviews"] == len({r["interview"] for r in mine}), row["code"]
        assert row["participants"] == len({r["participant"] for r in mine}), row["code"]
        for g in ("woman", "man"):
            n = len({r["participant"] for r in mine if r["gender"] == g})
            assert row[f"participants_{g}"] == n and row[f"participants_{g}_of"] == base[g]
            assert row[f"participants_{g}_share"] == pytest.approx(round(n / base[g], 4))


def test_segments_file(demo):
    with open(demo / "segments.csv", encoding="utf-8", newline="") as f:
        segments = list(csv.DictReader(f))
    rows = [*_evidence(CODER), *shipped.other_evidence(CODER)]
    expected = sorted((r["interview"], r["turn"], r["code"]) for r in rows)
    assert sorted((s["interview"], int(s["turn"]), s["code"]) for s in segments) == expected
    # Who said each: the participant, the respondent, or no one for a document's paragraph.
    who = {(r["interview"], r["turn"], r["code"]): r["participant"] or "" for r in rows}
    assert all(who[s["interview"], int(s["turn"]), s["code"]] == s["participant"] for s in segments)


def test_triangulation_by_source(demo):
    """Survey answers and documents beside the interviews: segments per kind in matrix-source.csv, and in the
    summary each criterion's respondents against the respondents coder-a decided an answer of."""
    with open(demo / "matrix-source.csv", encoding="utf-8", newline="") as f:
        table = {r["criterion"]: r for r in csv.DictReader(f)}
    kinds = {"interview": _evidence(CODER)}
    for r in shipped.other_evidence(CODER):
        kinds.setdefault("survey" if r["role"] == "respondent" else "document", []).append(r)
    for criterion in (c["path"] for c in shipped.codebook() if c["depth"] == 0):
        for kind, rows in kinds.items():
            assert int(table[criterion][kind]) == sum(r["criterion"] == criterion for r in rows), (criterion, kind)
    summary = json.loads(Cli(demo / "project.db")("export", "summary", "--coder", CODER, "--format", "json").stdout)
    surveys = shipped.surveys()
    decided = {
        r for (sid, turn) in shipped.other_decisions(CODER) if sid in surveys for r in [surveys[sid]["units"][turn][0]]
    }
    genders = {rid: g for s in surveys.values() for rid, g in s["respondents"].items()}
    respondents = summary["base"]["respondents"]
    assert respondents["total"] == len(decided) == 40  # a sample of the 115: the others are not in the base
    assert respondents["by_gender"] == {g: sum(genders[r] == g for r in decided) for g in respondents["by_gender"]}
    for section in summary["sections"]:
        c = section["criterion"]
        said = {r["participant"] for r in kinds["survey"] if r["criterion"] == c["code"]}
        survey = c["by_source"]["survey"]
        assert (survey["people"], survey["people_of"]) == (len(said), 40), c["code"]
        for g, rate in survey["rates"].items():
            assert rate["n"] == sum(genders[r] == g for r in said), (c["code"], g)
        docs = {r["interview"] for r in kinds["document"] if r["criterion"] == c["code"]}
        assert (c["by_source"]["document"]["sources"], c["by_source"]["document"]["of"]) == (len(docs), 2)


def test_agreement_counts(demo):
    audit = json.loads((demo / "audit.json").read_text(encoding="utf-8"))
    a = {**shipped.decisions("coder-a"), **shipped.other_decisions("coder-a")}
    b = {**shipped.decisions("coder-b"), **shipped.other_decisions("coder-b")}
    both = sorted(a.keys() & b.keys())
    assert audit["scope"]["turns"] == len(both) == 386 + 186  # interview turns, survey answers, paragraphs
    for row in (r for r in audit["rows"] if r["level"] == "criterion"):

        def has(codes, criterion=row["code"]):
            return any(c == criterion or c.startswith(criterion + "/") for c in codes)

        counts = row["counts"]
        assert counts["both"] == sum(has(a[k]) and has(b[k]) for k in both), row["code"]
        assert counts["a_only"] == sum(has(a[k]) and not has(b[k]) for k in both), row["code"]
        assert counts["b_only"] == sum(has(b[k]) and not has(a[k]) for k in both), row["code"]
        assert counts["neither"] == sum(not has(a[k]) and not has(b[k]) for k in both), row["code"]


def test_a_completed_consensus_recounted(tmp_path_factory):
    cli = shipped.build(tmp_path_factory, "recount-consensus")
    found = json.loads(cli("disagreements", "--coders", "coder-a,coder-b", "--format", "json").stdout)
    cli("review", "--coders", "coder-a,coder-b", input="1\n" * len(found) + "q\n")
    keys = set(shipped.decisions("coder-a")) & set(shipped.decisions("coder-b"))
    expected = _evidence(CODER, keys)  # the reviewer kept coder-a's version on every disagreement
    summary = json.loads(cli("export", "summary", "--coder", "consensus", "--format", "json").stdout)
    assert summary["consensus"]["complete"]
    assert summary["totals"]["segments"] == len(expected)
    assert summary["totals"]["participants"] == len({r["participant"] for r in expected})
    for section in summary["sections"]:
        c = section["criterion"]
        mine = [r for r in expected if r["criterion"] == c["code"]]
        assert c["segments"] == len(mine) and c["interviews"] == len({r["interview"] for r in mine}), c["code"]
    matrix = json.loads(cli("export", "matrix", "--by", "gender", "--level", "criterion", "--format", "json").stdout)
    cells = _by_gender(expected)
    for row in matrix["rows"]:
        assert row["cells"] == {g: len(cells[row["code"]].get(g, ())) for g in ("woman", "man")}, row["code"]


def test_a_half_reviewed_consensus_counts_what_is_left_one_way(demo, tmp_path):
    """With two disagreements reviewed, the export said "131 disagreements not yet reviewed" (the consensus's status,
    over the turns both coders decided) and on the next line "130 undecided units" (the base, over the sources the
    consensus itself had decided): a survey respondent whose only answer both decided is an open disagreement was in
    neither the base nor its undecided units. A consensus answers for what both of its pair decided."""
    from tests.conftest import copy_db

    cli = Cli(copy_db(demo / "project.db", tmp_path / "half.db"))
    cli("review", "--coders", "coder-a,coder-b", input="1\n1\nq\n")
    summary = json.loads(cli("export", "summary", "--allow-incomplete", "--format", "json").stdout)
    a = {**shipped.decisions("coder-a"), **shipped.other_decisions("coder-a")}
    b = {**shipped.decisions("coder-b"), **shipped.other_decisions("coder-b")}
    both = a.keys() & b.keys()
    open_ = sum(a[k] != b[k] for k in both) - 2
    assert (
        (summary["consensus"]["open_disagreements"], summary["consensus"]["both"]) == (open_, len(both)) == (131, 572)
    )
    assert (summary["base"]["undecided"], summary["base"]["units"]) == (open_, len(both))
    said = f"INCOMPLETE CODING: consensus has not decided {open_} units of the {len(both)} in the sources"
    assert (
        any(c.startswith(said) for c in summary["caveats"]) and f"{open_} disagreements not yet" in summary["method"][0]
    )
    # The base of respondents is the respondents both coders decided an answer of, settled or not.
    surveys = shipped.surveys()
    respondents = [{surveys[s]["units"][t][0] for s, t in coder if s in surveys} for coder in (a, b)]
    assert summary["base"]["respondents"]["total"] == len(respondents[0] & respondents[1]) == 40
    matrix = json.loads(
        cli("export", "matrix", "--by", "gender", "--source", "survey", "--allow-incomplete", "-f", "json").stdout
    )
    assert matrix["base_total"] == 40
    assert summary["base"]["undecided_by_pair"] == {"both": open_, "one": 0, "neither": 0}
    assert f"the sources coder-a and coder-b both coded ({open_} both decided, not yet settled)" in " ".join(
        summary["caveats"]
    )
    # A respondent nobody had decided (C016), now decided by both on one answer, by coder-a alone on another: the
    # base takes in all four of its answers, and the line says which of them a review can settle (QA: "4 units"
    # beside a status of 1 open disagreement, unexplained).
    cli("apply", "constituents-survey", "54", "Relevance", "--coder", "coder-a")
    cli("apply", "constituents-survey", "54", "Efficiency", "--coder", "coder-b")
    cli("apply", "constituents-survey", "55", "Relevance", "--coder", "coder-a")
    summary = json.loads(cli("export", "summary", "--allow-incomplete", "--format", "json").stdout)
    assert summary["base"]["undecided_by_pair"] == {"both": open_ + 1, "one": 1, "neither": 2}
    said = f"({open_ + 1} both decided, not yet settled; 1 only one of them decided; 2 neither decided)"
    assert said in " ".join(summary["caveats"])
