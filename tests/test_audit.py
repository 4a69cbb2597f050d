"""`qualcode audit` through the CLI: published values reproduced from codings imported with `codings import`,
an independent computation on random codings of a real transcript, the definitions, and the degenerate cases."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import CORPUS, write
from tests.test_agreement import FLEISS_COUNTS, KRIPPENDORFF_C  # the published tables, defined once

SCALE = """codebook: scale
codes:
  - name: Rating
    exclusive: true
    codable: false
    children:
      - {name: v1, value: 1}
      - {name: v2, value: 2}
      - {name: v3, value: 3}
      - {name: v4, value: 4}
      - {name: v5, value: 5}
"""

DAC = """codebook: dac
codes:
  - name: Relevance
    codable: false
    children:
      - name: Needs
      - name: COVID-19 adaptation
  - name: Efficiency
    children:
      - name: Delays
  - name: Unused
  - name: Assessment
    exclusive: true
    codable: false
    children:
      - {name: Positive, value: 3}
      - {name: Mixed, value: 2}
      - {name: Negative, value: 1}
"""


# ---------------------------------------------------------------------------------------------------------------
# Building a project the way a team does: transcripts, a codebook, coding files


def answer_turn(i: int) -> int:
    """Generated transcripts alternate an interviewer question and a participant answer: answer i is turn 2i+1."""
    return 2 * i + 1


def transcript(tmp_path: Path, iid: str, answers: list[str]) -> Path:
    body = "\n\n".join(f"EV1: Question {i}?\n\nP1: {text}" for i, text in enumerate(answers))
    front = f"---\ninterview: {iid}\ninterviewers: [EV1]\nparticipants: [P1]\n---\n"
    return write(tmp_path / f"{iid}.md", front + body + "\n")


def project(cli, tmp_path: Path, codebook: str, *transcripts: Path) -> None:
    cli("import", *transcripts)
    cli("codebook", "load", write(tmp_path / "codebook.yml", codebook))


def import_codings(cli, tmp_path: Path, rows: list[dict], name: str = "codings.csv") -> Path:
    path = tmp_path / name
    columns = ["interview", "turn", "code", "coder", "memo", "start", "end"]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, restval="")
        w.writeheader()
        w.writerows(rows)
    cli("codings", "import", path)
    return path


def audit(cli, *args: str) -> dict:
    return json.loads(cli("audit", *args, "--format", "json").stdout)


def row(data: dict, level: str, code: str | None = None) -> dict:
    [hit] = [r for r in data["rows"] if r["level"] == level and r["code"] == code]
    return hit


def value(r: dict, statistic: str) -> float:
    stat = r["statistics"][statistic]
    assert stat["value"] is not None, stat["reason"]
    return stat["value"]


def r3(r: dict, statistic: str) -> float:
    return round(value(r, statistic), 3)


# ---------------------------------------------------------------------------------------------------------------
# Published values


def test_krippendorff_example_c_as_an_exclusive_parent_with_missing_values(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-K", [f"Answer {i}." for i in range(12)])
    project(cli, tmp_path, SCALE, gen)
    coders = ["A", "B", "C", "D"]
    rows = [
        {"interview": "GEN-K", "turn": answer_turn(unit), "code": f"Rating/v{v}", "coder": coder}
        for coder, values in zip(coders, KRIPPENDORFF_C, strict=True)
        for unit, v in enumerate(values)
        if v is not None  # '.' in the paper: that observer did not decide the unit
    ]
    import_codings(cli, tmp_path, rows)

    nominal = audit(cli, "--coders", "A,B,C,D")
    rating = row(nominal, "exclusive", "Rating")
    assert r3(rating, "krippendorff_alpha") == 0.743
    assert rating["statistics"]["krippendorff_alpha"]["metric"] == "nominal"
    assert rating["statistics"]["krippendorff_alpha"]["band"]["label"] == "tentative conclusions only"
    interval = row(audit(cli, "--coders", "A,B,C,D", "--metric", "interval"), "exclusive", "Rating")
    assert r3(interval, "krippendorff_alpha") == 0.849
    assert interval["statistics"]["krippendorff_alpha"]["band"]["label"] == "reliable"

    # Unit 12 was coded by observer B alone: out of scope, which leaves α unchanged (it was never pairable).
    scope = nominal["scope"]
    assert (scope["turns"], scope["turns_by_all"], scope["turns_by_one"]) == (11, 8, 1)
    assert scope["text"].endswith("1 turn decided by only one coder is treated as missing.")
    assert "at least two of A, B, C and D (8 by all 4)" in scope["text"]
    assert rating["counts"]["missing"] == {"A": 2, "B": 1, "C": 1, "D": 0}
    assert rating["counts"]["coders"]["B"] == {"v1": 2, "v2": 4, "v3": 2, "v4": 1, "v5": 1}
    assert "exactly two coders" in rating["statistics"]["cohen_kappa"]["reason"]
    assert "same number of coders on every unit" in rating["statistics"]["fleiss_kappa"]["reason"]


def test_cohen_kappa_on_a_published_two_by_two_over_fifty_turns(cli, tmp_path):
    # [[20, 5], [10, 15]]: both applied the code on 20 turns, A alone on 5, B alone on 10, neither on 15.
    gen = transcript(tmp_path, "GEN-C", [f"Answer {i}." for i in range(50)])
    project(cli, tmp_path, "codebook: one\ncodes:\n  - name: Theme\n", gen)
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    rows = [
        {"interview": "GEN-C", "turn": answer_turn(i), "code": "Theme" if applied else "", "coder": coder}
        for coder, values in (("coder-a", a), ("coder-b", b))
        for i, applied in enumerate(values)
    ]
    import_codings(cli, tmp_path, rows)

    data = audit(cli, "--coders", "coder-a,coder-b")
    theme = row(data, "code", "Theme")
    assert theme["counts"] == {"table": "2x2", "both": 20, "a_only": 5, "b_only": 10, "neither": 15}
    assert theme["units"] == 50
    assert r3(theme, "cohen_kappa") == 0.400
    assert theme["statistics"]["cohen_kappa"]["band"] == {
        "label": "fair",
        "rule": ".21–.40",
        "convention": "Landis & Koch (1977), Biometrics 33:159–174",
    }
    assert r3(theme, "percent_agreement") == 0.700
    assert r3(theme, "positive_agreement") == round(40 / 55, 3)
    # By hand: n0 = 2·15 + 15 = 45, n1 = 2·20 + 15 = 55, α = 1 − 99·15 / (45·55) = .400; π = (.70 − .505) / .495.
    assert r3(theme, "krippendorff_alpha") == 0.400
    assert r3(theme, "fleiss_kappa") == round(0.195 / 0.495, 3)
    assert data["scope"]["text"] == (
        "Scope: 50 turns in 1 interview decided by coder-a and coder-b; no turn was decided by only one coder."
    )


def test_fleiss_kappa_on_the_published_fourteen_rater_table(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-F", [f"Subject {i}." for i in range(10)])
    book = "codebook: f\ncodes:\n  - name: Category\n    exclusive: true\n    children:\n"
    book += "".join(f"      - {{name: c{k}, value: {k}}}\n" for k in range(1, 6))
    project(cli, tmp_path, book, gen)
    raters = [f"r{i:02d}" for i in range(1, 15)]
    rows = []
    for subject, counts in enumerate(FLEISS_COUNTS):
        categories = [k for k, n in enumerate(counts, start=1) for _ in range(n)]
        for rater, k in zip(raters, categories, strict=True):
            rows.append({"interview": "GEN-F", "turn": answer_turn(subject), "code": f"Category/c{k}", "coder": rater})
    import_codings(cli, tmp_path, rows)

    data = audit(cli, "--coders", ",".join(raters), "--level", "code")
    category = row(data, "exclusive", "Category")
    assert r3(category, "fleiss_kappa") == 0.210
    assert category["statistics"]["fleiss_kappa"]["band"]["label"] == "fair"
    assert data["scope"]["turns_by_all"] == 10
    assert category["counts"]["coders"]["r14"] == {"c1": 0, "c2": 1, "c3": 0, "c4": 3, "c5": 6}  # the last rater slot


def test_nvivo_character_example_on_a_turn_of_exactly_1000_characters(cli, tmp_path):
    # NVivo's help: of 1,000 characters, 50 coded by both users, 150 by one only, 800 by neither: 85 % agreement.
    text = ("The money came late and the team was small. " * 30)[:999] + "."
    gen = transcript(tmp_path, "GEN-N", [text])
    project(cli, tmp_path, "codebook: one\ncodes:\n  - name: Theme\n", gen)
    shown = json.loads(cli("show", "GEN-N", "--format", "json").stdout)
    assert len(shown["turns"][1]["text"]) == 1000
    turn = answer_turn(0)
    rows = [
        # A codes characters 0–149 as two overlapping spans, which count once; B codes 100–199.
        {"interview": "GEN-N", "turn": turn, "code": "Theme", "coder": "A", "start": 0, "end": 120},
        {"interview": "GEN-N", "turn": turn, "code": "Theme", "coder": "A", "start": 80, "end": 150},
        {"interview": "GEN-N", "turn": turn, "code": "Theme", "coder": "B", "start": 100, "end": 200},
    ]
    import_codings(cli, tmp_path, rows)

    data = audit(cli, "--coders", "A,B", "--unit", "character", "--interview", "GEN-N")
    theme = row(data, "code", "Theme")
    counts = {"table": "2x2", "both": 50, "a_only": 100, "b_only": 50, "neither": 800}
    assert theme["counts"] == counts
    assert r3(theme, "percent_agreement") == 0.850
    # NVivo's κ steps: EF = (150·100 + 850·900) / 1000 = 780; κ = (850 − 780) / (1000 − 780).
    assert r3(theme, "cohen_kappa") == round(70 / 220, 3) == 0.318
    # The stored interview text is longer (speaker labels, the question) but only the decided turn is compared.
    assert data["scope"]["units"] == 1000
    [per_interview] = theme["interviews"]
    assert per_interview["interview"] == "GEN-N" and per_interview["counts"] == counts
    assert round(per_interview["statistics"]["percent_agreement"]["value"], 3) == 0.850


# ---------------------------------------------------------------------------------------------------------------
# An independent computation on random codings of a real transcript


def kappa_by_hand(a: list[int], b: list[int]) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return (po - pe) / (1 - pe)


def alpha_by_hand(a: list[int], b: list[int]) -> float:
    """Binary α for two coders without gaps: the coincidence matrix has o01 = the disagreements."""
    disagreements = sum(x != y for x, y in zip(a, b, strict=True))
    n1 = sum(a) + sum(b)
    n0 = 2 * len(a) - n1
    return 1 - (2 * len(a) - 1) * disagreements / (n0 * n1)


@pytest.mark.parametrize("seed", [3, 4])
def test_turn_statistics_match_an_independent_computation_from_the_csv_rows(cli, tmp_path, seed):
    cli("import", CORPUS / "INT-07.md")
    cli("codebook", "load", write(tmp_path / "codebook.yml", DAC))
    turns = len(json.loads(cli("show", "INT-07", "--format", "json").stdout)["turns"])
    codes = ["Relevance/Needs", "Relevance/COVID-19 adaptation", "Efficiency", "Efficiency/Delays"]
    rng = random.Random(seed)
    rows, decided, applied = [], set(), {}
    for t in range(turns):
        truth = {c for c in codes if rng.random() < 0.35}
        for coder in ("ana", "ben"):
            if rng.random() < 0.15:
                continue  # this coder has not reached the turn
            mine = {c for c in codes if (c in truth) == (rng.random() < 0.85)}
            decided.add((coder, t))
            applied[coder, t] = mine
            rows += [{"interview": "INT-07", "turn": t, "code": c, "coder": coder} for c in sorted(mine)]
            if not mine:
                rows.append({"interview": "INT-07", "turn": t, "code": "", "coder": coder})
    rng.shuffle(rows)
    import_codings(cli, tmp_path, rows)

    data = audit(cli, "--coders", "ana,ben")
    both = [t for t in range(turns) if ("ana", t) in decided and ("ben", t) in decided]
    one = [t for t in range(turns) if (("ana", t) in decided) != (("ben", t) in decided)]
    assert (data["scope"]["turns"], data["scope"]["turns_by_one"]) == (len(both), len(one))

    def vectors(members: set[str]) -> tuple[list[int], list[int]]:
        a, b = ([int(bool(applied[coder, t] & members)) for t in both] for coder in ("ana", "ben"))
        return a, b

    checks = [("code", c, {c}) for c in codes] + [
        ("criterion", "Relevance", {"Relevance/Needs", "Relevance/COVID-19 adaptation"}),
        ("criterion", "Efficiency", {"Efficiency", "Efficiency/Delays"}),
    ]
    for level, code, members in checks:
        a, b = vectors(members)
        r = row(data, level, code)
        assert r["counts"]["both"] == sum(x and y for x, y in zip(a, b, strict=True))
        assert value(r, "cohen_kappa") == pytest.approx(kappa_by_hand(a, b), abs=1e-9), code
        assert value(r, "krippendorff_alpha") == pytest.approx(alpha_by_hand(a, b), abs=1e-9), code
        assert value(r, "percent_agreement") == pytest.approx(
            sum(x == y for x, y in zip(a, b, strict=True)) / len(both)
        )
    # Overall: every (turn, code) pair of the codable codes is one item.
    pooled_a, pooled_b = [], []
    assessment = ["Assessment/Positive", "Assessment/Mixed", "Assessment/Negative"]
    for c in [*codes, "Unused", *assessment]:
        a, b = vectors({c})
        pooled_a += a
        pooled_b += b
    overall = row(data, "overall")
    assert overall["units"] == len(pooled_a) == 8 * len(both)
    assert value(overall, "cohen_kappa") == pytest.approx(kappa_by_hand(pooled_a, pooled_b), abs=1e-9)
    assert value(overall, "krippendorff_alpha") == pytest.approx(alpha_by_hand(pooled_a, pooled_b), abs=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# Definitions: scope, units, exclusive parents, options


def test_a_turn_decided_by_one_coder_is_missing_not_a_disagreement(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-S", [f"Answer {i}." for i in range(4)])
    project(cli, tmp_path, "codebook: one\ncodes:\n  - name: Theme\n", gen)
    rows = [
        {"interview": "GEN-S", "turn": answer_turn(0), "code": "Theme", "coder": "A"},
        {"interview": "GEN-S", "turn": answer_turn(0), "code": "Theme", "coder": "B"},
        {"interview": "GEN-S", "turn": answer_turn(1), "code": "", "coder": "A"},
        {"interview": "GEN-S", "turn": answer_turn(1), "code": "", "coder": "B"},
        {"interview": "GEN-S", "turn": answer_turn(2), "code": "Theme", "coder": "A"},  # B has not read it
        {"interview": "GEN-S", "turn": answer_turn(3), "code": "Theme", "coder": "B"},  # A has not read it
    ]
    import_codings(cli, tmp_path, rows)
    data = audit(cli, "--coders", "A,B")
    line = "Scope: 2 turns in 1 interview decided by A and B; 2 turns decided by only one coder are treated as missing."
    assert data["scope"]["text"] == line
    assert data["scope"]["decided"] == {"A": 3, "B": 3}
    theme = row(data, "code", "Theme")
    assert theme["counts"] == {"table": "2x2", "both": 1, "a_only": 0, "b_only": 0, "neither": 1}
    assert value(theme, "cohen_kappa") == 1.0
    for fmt in ("table", "md"):
        out = cli("audit", "--coders", "A,B", "--format", fmt).stdout
        assert " ".join(out.split()).count(line) == 1  # once, under the tables (code, criterion, overall)
        assert out.count("Per code") == out.count("Per criterion") == out.count("Overall, all codes pooled") == 1
    out = cli("audit", "--coders", "A,B", "--format", "csv").stdout
    [header, *lines] = list(csv.DictReader(out.splitlines()))
    assert header["scope"] == line and header["level"] == "code" and header["cohen_kappa"] == "1.000"


def test_sentence_unit_counts_any_overlap_and_interview_unit_counts_presence(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-U", ["First sentence here. Second one follows. And a third.", "Another answer."])
    project(cli, tmp_path, "codebook: one\ncodes:\n  - name: Theme\n", gen)
    t0, t1 = answer_turn(0), answer_turn(1)
    rows = [
        # Sentences sit at 0–20, 21–40 and 41–53. A's span reaches one character into the second sentence.
        {"interview": "GEN-U", "turn": t0, "code": "Theme", "coder": "A", "start": 0, "end": 22},
        {"interview": "GEN-U", "turn": t0, "code": "Theme", "coder": "B", "start": 5, "end": 10},
        {"interview": "GEN-U", "turn": t1, "code": "", "coder": "A"},
        {"interview": "GEN-U", "turn": t1, "code": "Theme", "coder": "B"},
    ]
    import_codings(cli, tmp_path, rows)
    sentence = row(audit(cli, "--coders", "A,B", "--unit", "sentence"), "code", "Theme")
    assert sentence["counts"] == {"table": "2x2", "both": 1, "a_only": 1, "b_only": 1, "neither": 1}
    turn = row(audit(cli, "--coders", "A,B"), "code", "Theme")
    assert turn["counts"] == {"table": "2x2", "both": 1, "a_only": 0, "b_only": 1, "neither": 0}
    data = audit(cli, "--coders", "A,B", "--unit", "interview")
    assert row(data, "code", "Theme")["counts"] == {"table": "2x2", "both": 1, "a_only": 0, "b_only": 0, "neither": 0}
    assert data["scope"]["units"] == 1 and "code exists in the document" in data["scope"]["unit_text"]
    chars = row(audit(cli, "--coders", "A,B", "--unit", "character"), "code", "Theme")
    assert chars["counts"] == {"table": "2x2", "both": 5, "a_only": 17, "b_only": 15, "neither": 53 - 22}


def test_exclusive_parent_none_several_children_and_metrics(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-E", [f"Answer {i}." for i in range(8)])
    project(cli, tmp_path, DAC, gen)
    a = ["Positive", "Positive", "Mixed", "Negative", None, None, "Positive", "Positive+Mixed"]
    b = ["Positive", "Mixed", "Mixed", "Negative", None, "Negative", "Positive", "Positive"]
    rows = []
    for coder, values in (("A", a), ("B", b)):
        for i, v in enumerate(values):
            rows.append(
                {
                    "interview": "GEN-E",
                    "turn": answer_turn(i),
                    "coder": coder,
                    "code": f"Assessment/{v.split('+')[0]}" if v else "",
                }
            )
    import_codings(cli, tmp_path, rows)
    # Two options of one scale can no longer be stored; a project from before the rule may hold them, and the
    # audit still has to report them: the second option goes in as such a project has it.
    with sqlite3.connect(cli.db_path) as conn:
        conn.execute(
            """INSERT INTO codings (interview_id, turn_id, code_id, coder, start, end, quote, origin, created_at, guid)
               SELECT c.interview_id, c.turn_id, (SELECT id FROM codes WHERE name = 'Mixed'), c.coder, c.start, c.end,
                      c.quote, 'imported', c.created_at, 'LEGACY-MIXED'
               FROM codings c JOIN turns t ON t.id = c.turn_id WHERE c.coder = 'A' AND t.idx = ?""",
            [answer_turn(7)],
        )

    data = audit(cli, "--coders", "A,B", "--code", "Assessment")
    assessment = row(data, "exclusive", "Assessment")
    nominal_a = [v or "(none)" for v in a]
    nominal_b = [v or "(none)" for v in b]
    assert assessment["counts"]["values"] == ["Positive", "Mixed", "Negative", "Positive+Mixed", "(none)"]
    assert assessment["counts"]["confusion"]["Positive+Mixed"]["Positive"] == 1
    assert assessment["counts"]["confusion"]["(none)"]["Negative"] == 1
    n = len(a)
    po = sum(x == y for x, y in zip(nominal_a, nominal_b, strict=True)) / n
    ca, cb = Counter(nominal_a), Counter(nominal_b)
    pe = sum(ca[v] * cb[v] for v in ca) / n**2
    assert value(assessment, "cohen_kappa") == pytest.approx((po - pe) / (1 - pe))
    assert value(assessment, "percent_agreement") == pytest.approx(po)
    assert "one category" in assessment["statistics"]["positive_agreement"]["reason"]
    assert assessment["notes"] == [
        "1 coder-turn with more than one child: a category of its own ('A+B') for nominal statistics"
    ]

    interval = row(audit(cli, "--coders", "A,B", "--metric", "interval"), "exclusive", "Assessment")
    # Only turns where both coders gave exactly one child enter interval α: 0, 1, 2, 3 and 6.
    assert interval["statistics"]["krippendorff_alpha"]["units"] == 5
    assert interval["statistics"]["krippendorff_alpha"]["metric"] == "interval"
    assert any("with no child are missing for interval α" in note for note in interval["notes"])
    # Each child is also a binary code of its own, and the parent is a criterion.
    assert [r["code"] for r in data["rows"] if r["level"] == "code"] == [
        "Assessment/Positive",
        "Assessment/Mixed",
        "Assessment/Negative",
    ]
    assert [r["code"] for r in data["rows"] if r["level"] == "criterion"] == ["Assessment"]

    # A child without value: ordinal α is explained, not a crash.
    book = DAC.replace("{name: Mixed, value: 2}", "{name: Mixed}")
    cli("codebook", "load", write(tmp_path / "codebook.yml", book))
    ordinal = row(audit(cli, "--coders", "A,B", "--metric", "ordinal"), "exclusive", "Assessment")
    assert ordinal["statistics"]["krippendorff_alpha"]["reason"] == (
        "ordinal α needs a number for every child: Mixed has no value: in the codebook"
    )


def test_levels_code_option_and_overall(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-L", [f"Answer {i}." for i in range(6)])
    project(cli, tmp_path, DAC, gen)
    rows = [
        {"interview": "GEN-L", "turn": answer_turn(i), "code": code, "coder": coder}
        for i in range(6)
        for coder, code in (("A", "Relevance/Needs" if i % 2 else "Efficiency/Delays"), ("B", "Relevance/Needs"))
    ]
    import_codings(cli, tmp_path, rows)
    data = audit(cli, "--coders", "A,B")
    levels = Counter(r["level"] for r in data["rows"])
    assert levels == {"code": 8, "exclusive": 1, "criterion": 4, "overall": 1}
    assert [r["code"] for r in data["rows"] if r["level"] == "criterion"] == [
        "Relevance",
        "Efficiency",
        "Unused",
        "Assessment",
    ]
    assert row(data, "overall")["units"] == 8 * 6
    assert "every (turn, code) pair is one binary item" in data["overall"]

    only_codes = audit(cli, "--coders", "A,B", "--level", "code")
    assert {r["level"] for r in only_codes["rows"]} == {"code", "exclusive"}
    only_criteria = audit(cli, "--coders", "A,B", "--level", "criterion")
    assert {r["level"] for r in only_criteria["rows"]} == {"criterion"}

    relevance = audit(cli, "--coders", "A,B", "--code", "Relevance")
    assert relevance["code"] == "Relevance"
    assert [(r["level"], r["code"]) for r in relevance["rows"]] == [
        ("code", "Relevance/Needs"),
        ("code", "Relevance/COVID-19 adaptation"),
        ("criterion", "Relevance"),
        ("overall", None),
    ]
    pooled = row(relevance, "criterion", "Relevance")
    assert pooled["counts"] == {"table": "2x2", "both": 3, "a_only": 0, "b_only": 3, "neither": 0}
    leaf = audit(cli, "--coders", "A,B", "--code", "Needs")
    assert [r["level"] for r in leaf["rows"]] == ["code", "overall"]
    out = cli("audit", "--coders", "A,B", "--code", "Needs", "--level", "criterion").stdout
    assert out.splitlines() == [
        "Scope: 6 turns in 1 interview decided by A and B; no turn was decided by only one coder.",
        "Nothing to report: --code Relevance/Needs --level criterion selects no row.",
    ]


def test_more_than_two_coders_keep_turns_decided_by_two(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-M", [f"Answer {i}." for i in range(3)])
    project(cli, tmp_path, "codebook: one\ncodes:\n  - name: Theme\n", gen)
    rows = (
        [{"interview": "GEN-M", "turn": answer_turn(0), "code": "Theme", "coder": c} for c in ("A", "B", "C")]
        + [{"interview": "GEN-M", "turn": answer_turn(1), "code": "", "coder": c} for c in ("A", "B")]
        + [{"interview": "GEN-M", "turn": answer_turn(2), "code": "Theme", "coder": "C"}]
    )
    import_codings(cli, tmp_path, rows)
    data = audit(cli, "--coders", "A,B,C")
    theme = row(data, "code", "Theme")
    assert theme["counts"]["missing"] == {"A": 0, "B": 0, "C": 1}
    assert theme["counts"]["coders"]["C"] == {"0": 0, "1": 1}
    assert value(theme, "percent_agreement") == 1.0
    assert value(theme, "krippendorff_alpha") == pytest.approx(1.0)
    assert "found 2 to 3 per unit" in theme["statistics"]["fleiss_kappa"]["reason"]
    r = cli("audit", "--coders", "A,B,C", "--unit", "character", expect=2)
    assert "compares exactly two coders" in r.stderr


# ---------------------------------------------------------------------------------------------------------------
# Degenerate cases and bad arguments


def test_degenerate_codes_are_explained_not_crashed(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-D", [f"Answer {i}." for i in range(5)])
    project(cli, tmp_path, DAC, gen)
    rows = [
        {"interview": "GEN-D", "turn": answer_turn(i), "code": code, "coder": coder}
        for i in range(5)
        for coder, code in (("A", "Efficiency"), ("B", "Efficiency" if i < 2 else ""))
    ]
    import_codings(cli, tmp_path, rows)
    data = audit(cli, "--coders", "A,B")

    unused = row(data, "code", "Unused")
    assert unused["notes"] == ["nobody applied it in scope"]
    assert value(unused, "percent_agreement") == 1.0
    kappa = unused["statistics"]["cohen_kappa"]
    assert kappa["value"] is None and kappa["band"] is None
    assert kappa["reason"] == "no variation: neither coder applied the code, so chance agreement is 1 and κ is 0/0"
    assert unused["statistics"]["krippendorff_alpha"]["reason"].startswith("no variation")
    assert "positive agreement is 0/0" in unused["statistics"]["positive_agreement"]["reason"]

    everywhere = row(data, "code", "Efficiency")
    assert value(everywhere, "cohen_kappa") == 0.0
    assert everywhere["notes"] == [
        "A applied it to every turn: Cohen's κ is 0 whatever B did, because chance agreement then equals "
        "observed agreement"
    ]
    out = cli("audit", "--coders", "A,B").stdout
    assert "Needs [1]                     5   100.0%   n/a [2]   n/a [3]" in out  # the reasons are notes
    assert out.count("] no variation: neither coder applied the code, so chance agreement is 1 and κ is 0/0") == 1
    wide = cli("audit", "--coders", "A,B", "--wide").stdout
    assert "undefined [" in wide and "A only" in wide and "pos. agree" in wide


def test_no_turn_in_scope_is_undefined_with_the_reason(cli, tmp_path):
    one = transcript(tmp_path, "GEN-1", ["Answer."])
    two = transcript(tmp_path, "GEN-2", ["Answer."])
    project(cli, tmp_path, "codebook: one\ncodes:\n  - name: Theme\n", one, two)
    rows = [
        {"interview": "GEN-1", "turn": 1, "code": "Theme", "coder": "A"},
        {"interview": "GEN-2", "turn": 1, "code": "Theme", "coder": "B"},
    ]
    import_codings(cli, tmp_path, rows)
    data = audit(cli, "--coders", "A,B")
    assert data["scope"]["text"] == (
        "Scope: 0 turns in 0 interviews decided by A and B; 2 turns decided by only one coder are treated as missing."
    )
    for r in data["rows"]:
        for stat in r["statistics"].values():
            assert stat["value"] is None
            assert stat["reason"] == "no turn in scope: no turn was decided by two of the named coders"
    cli("audit", "--coders", "A,B")  # the table renders too


def test_bad_arguments(cli, tmp_path):
    gen = transcript(tmp_path, "GEN-X", ["Answer."])
    project(cli, tmp_path, "codebook: one\ncodes:\n  - name: Theme\n", gen)
    rows = [{"interview": "GEN-X", "turn": 1, "code": "Theme", "coder": c} for c in ("A", "B")]
    import_codings(cli, tmp_path, rows)
    assert "at least two coders" in cli("audit", "--coders", "A", expect=2).stderr
    assert "named twice" in cli("audit", "--coders", "A,A", expect=2).stderr
    assert "no coder 'Zed' in this project (coders: A, B)" in cli("audit", "--coders", "A,Zed", expect=1).stderr
    assert "no interview 'NOPE'" in cli("audit", "--coders", "A,B", "--interview", "NOPE", expect=1).stderr
    assert "no code 'Nope'" in cli("audit", "--coders", "A,B", "--code", "Nope", expect=1).stderr
    assert "Traceback" not in cli("audit", "--coders", "A,B", "--unit", "word", expect=2).output
