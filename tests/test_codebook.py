"""Codebook load/show/export and the code operations that keep codings."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CODEBOOK, CORPUS, dump, write
from tests.session_helpers import query

CB = """codebook: Test codebook
version: "1"
codes:
  - key: rel
    name: Relevance
    colour: steelblue
    definition: Fit with needs.
    patterns:
      - national priority
      - [{LEMMA: need}]
    children:
      - key: rel.needs
        name: Needs
        patterns: [{phrase: constituent need, weight: 0.8}]
  - key: eff
    name: Efficiency
    colour: "#f00"
    children:
      - key: eff.funding
        name: Funding
        patterns: [[{LEMMA: money}, {LOWER: late}]]
  - key: assessment
    name: Assessment
    codable: false
    exclusive: true
    children:
      - {key: assessment.positive, name: Positive, value: 3}
      - {key: assessment.negative, name: Negative, value: 1}
"""


@pytest.fixture
def project(cli, tmp_path):
    cli("import", CORPUS / "INT-01.md", CORPUS / "INT-02.md")
    cli("codebook", "load", write(tmp_path / "cb.yml", CB))
    return tmp_path


def paths(cli, *extra):
    data = json.loads(cli("codebook", "show", "--format", "json", *extra).stdout)

    def walk(nodes):
        for n in nodes:
            yield n["path"], n["codings"]
            yield from walk(n["children"])

    return dict(walk(data["codes"]))


def test_load_reports_and_show_counts(cli, project):
    cli("apply", "INT-01", "3", "Needs", "Funding", "--coder", "ana")
    assert paths(cli) == {
        "Relevance": 0,
        "Relevance/Needs": 1,
        "Efficiency": 0,
        "Efficiency/Funding": 1,
        "Assessment": 0,
        "Assessment/Positive": 0,
        "Assessment/Negative": 0,
    }
    tree = cli("codebook", "show").stdout
    assert "Needs  1 coding, 0 suggestions" in tree and "Assessment (folder) (exclusive)" in tree
    md = cli("codebook", "show", "--format", "md").stdout
    assert "## Relevance" in md and "**Definition.** Fit with needs." in md


def test_show_counts_one_coders_codings(cli, project):
    cli("apply", "INT-01", "3", "Needs", "Funding", "--coder", "ana")
    cli("apply", "INT-01", "3", "Needs", "--coder", "ben")
    assert paths(cli)["Relevance/Needs"] == 2  # pooled: the turn counts once per coder
    assert paths(cli, "--coder", "ben") == {**dict.fromkeys(paths(cli), 0), "Relevance/Needs": 1}
    assert "codings by ana" in cli("codebook", "show", "--coder", "ana").stdout
    assert "Codings by ana: 1." in cli("codebook", "show", "--coder", "ana", "-f", "md").stdout
    r = cli("codebook", "show", "--coder", "cat", expect=1)
    assert "no coder 'cat' in this project (coders: ana, ben)" in r.stderr


def test_reload_renames_by_key_and_keeps_codings(cli, project, tmp_path):
    cli("apply", "INT-01", "3", "Needs", "--coder", "ana")
    changed = CB.replace("name: Needs", "name: Constituent needs").replace(
        "      - key: eff.funding\n        name: Funding\n",
        "      - key: eff.funding\n        name: Funding\n        definition: Money.\n",
    )
    r = cli("codebook", "load", write(tmp_path / "cb2.yml", changed))
    assert "renamed  Relevance/Needs → Relevance/Constituent needs" in r.stdout
    assert "updated  Efficiency/Funding" in r.stdout
    assert paths(cli)["Relevance/Constituent needs"] == 1


def test_removing_a_code_with_codings_needs_a_decision(cli, db_path, project, tmp_path):
    cli("apply", "INT-01", "3", "Needs", "--coder", "ana")
    without = CB.replace(
        "    children:\n      - key: rel.needs\n        name: Needs\n        patterns: [{phrase: constituent need, "
        "weight: 0.8}]\n",
        "",
    )
    f = write(tmp_path / "cb3.yml", without)
    before = dump(db_path)
    r = cli("codebook", "load", f, expect=1)
    assert "removes codes that have codings: Relevance/Needs (1 coding)" in r.stderr
    assert dump(db_path) == before
    r = cli("codebook", "load", f, "--move-to", "Relevance")
    assert "removed  Relevance/Needs" in r.stdout and "moved 1 coding of removed codes" in r.stdout
    assert paths(cli)["Relevance"] == 1


def test_delete_codings_is_reported(cli, project, tmp_path):
    cli("apply", "INT-01", "3", "Funding", "--coder", "ana")
    without = CB.replace(
        "    children:\n      - key: eff.funding\n        name: Funding\n        patterns: [[{LEMMA: money}, {LOWER: "
        "late}]]\n",
        "",
    )
    r = cli("codebook", "load", write(tmp_path / "cb4.yml", without), "--delete-codings")
    assert "deleted 1 coding of removed codes" in r.stdout
    assert "Efficiency/Funding" not in paths(cli)


def newest_batch(cli, *extra) -> dict:
    return json.loads(cli("history", "--format", "json", "--limit", "1", *extra).stdout)[0]


def test_delete_codings_is_one_batch_in_history(cli, db_path, project, tmp_path):
    cli("apply", "INT-01", "3", "Funding", "--coder", "ana")
    cli("apply", "INT-01", "5", "Funding", "Relevance", "--coder", "ben")
    without = CB.replace(
        "    children:\n      - key: eff.funding\n        name: Funding\n        patterns: [[{LEMMA: money}, {LOWER: "
        "late}]]\n",
        "",
    )
    cli("codebook", "load", write(tmp_path / "cb4.yml", without), "--delete-codings")
    b = newest_batch(cli)
    assert (b["kind"], b["coder"], b["coders"], b["added"], b["removed"]) == (
        "codebook-load",
        None,
        ["ana", "ben"],
        0,
        2,
    )
    assert "Efficiency/Funding" in b["description"] and "2 deleted" in b["description"]
    assert newest_batch(cli, "--coder", "ana")["batch"] == b["batch"]  # each coder's history shows it
    assert "ana, ben" in cli("history").stdout
    before = dump(db_path)
    r = cli("undo", "--coder", "ana", "--batch", b["batch"], expect=2)
    assert f"batch {b['batch']} (codebook-load) changed the code tree" in r.stderr
    assert dump(db_path) == before


def test_move_to_says_how_many_moved_and_how_many_were_duplicates(cli, project, tmp_path):
    cli("apply", "INT-01", "3", "Funding", "Efficiency", "--coder", "ana")
    cli("apply", "INT-01", "5", "Funding", "--coder", "ana")
    without = CB.replace(
        "    children:\n      - key: eff.funding\n        name: Funding\n        patterns: [[{LEMMA: money}, {LOWER: "
        "late}]]\n",
        "",
    )
    r = cli("codebook", "load", write(tmp_path / "cb5.yml", without), "--move-to", "eff")  # its key
    assert "moved 1 coding of removed codes, 1 already had Efficiency (retired)" in r.stdout
    assert paths(cli)["Efficiency"] == 2
    b = newest_batch(cli)
    assert (b["kind"], b["coders"], b["added"], b["removed"]) == ("codebook-load", ["ana"], 0, 1)
    assert "1 moved to Efficiency, 1 retired" in b["description"]


def test_a_coded_code_cannot_become_a_folder(cli, db_path, project, tmp_path):
    """codable: false on a code with codings would leave them counted by the summary and not by the audit."""
    cli("apply", "INT-01", "3", "Efficiency", "--coder", "ana")
    before = query(db_path, "SELECT * FROM codes ORDER BY id")
    folder = CB.replace('    colour: "#f00"\n', '    colour: "#f00"\n    codable: false\n')
    r = cli("codebook", "load", write(tmp_path / "cb6.yml", folder), expect=1)
    assert "makes codes that have codings not codable (codable: false): Efficiency (1 coding)" in r.stderr
    assert query(db_path, "SELECT * FROM codes ORDER BY id") == before
    cli(
        "codebook",
        "load",
        write(tmp_path / "cb7.yml", CB.replace("Fit with needs.", "Fit with needs.\n    codable: false")),
    )


def test_merge_counts_what_it_did_and_records_a_batch(cli, db_path, project):
    cli("apply", "INT-01", "3", "Needs", "--coder", "ana")
    cli("apply", "INT-01", "5", "Needs", "Relevance", "--coder", "ana")
    cli("apply", "INT-01", "5", "Needs", "--coder", "ben")
    r = cli("code", "merge", "Needs", "Relevance")
    assert "2 codings moved, 1 already had Relevance (retired)" in r.stderr
    assert paths(cli)["Relevance"] == 3
    b = newest_batch(cli)
    assert (b["kind"], b["coder"], b["coders"], b["added"], b["removed"]) == ("code-merge", None, ["ana", "ben"], 0, 1)
    assert newest_batch(cli, "--coder", "ben")["batch"] == b["batch"]
    before = dump(db_path)
    r = cli("undo", "--coder", "ana", "--batch", b["batch"], expect=2)
    assert "changed the code tree" in r.stderr
    assert dump(db_path) == before
    cli("undo", "--coder", "ana")  # ana's own latest batch, not the merge
    assert paths(cli)["Relevance"] == 2


def test_a_merge_that_touches_no_coding_records_no_batch(cli, project):
    cli("apply", "INT-01", "3", "Funding", "--coder", "ana")
    cli("code", "merge", "Needs", "Relevance")
    assert newest_batch(cli)["kind"] == "apply"


BAD = [
    (
        "dup",
        CB.replace("name: Funding", "name: funding\n      - name: Funding"),
        ":21:",
        "duplicate code name 'Funding' under 'Efficiency' (first on line 19)",
    ),
    ("unknown-key", CB.replace("definition: Fit", "defintion: Fit"), ":7:", "unknown key 'defintion' in a code"),
    (
        "bad-pattern",
        CB.replace("{LEMMA: need}", "{LEMMA: need, POSS: x}"),
        ":10:",
        "invalid token pattern (unknown attribute POSS)",
    ),
    (
        "bool-value",
        CB.replace("{LEMMA: need}", "{LOWER: {IN: [yes, no]}}"),
        ":10:",
        "token pattern value True under LOWER is not text",
    ),
    ("empty-name", CB.replace("name: Funding", "name: ''"), ":19:", "code without a name"),
    ("colour", CB.replace("steelblue", "steelblu"), ":6:", "unknown colour 'steelblu'"),
    ("weight", CB.replace("weight: 0.8", "weight: 2"), ":14:", "pattern weight must be between 0 and 1, got 2"),
    ("slash", CB.replace("name: Funding", "name: Funding/Money"), ":19:", "contains '/'"),
    ("yaml", CB.replace("codes:", "codes: [\n"), ":", "invalid YAML"),
    (
        "exclusive-one-child",
        CB.replace("      - {key: assessment.negative, name: Negative, value: 1}\n", ""),
        ":22:",
        "exclusive but has fewer than two children",
    ),
]


@pytest.mark.parametrize(("name", "text", "where", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_codebooks_name_file_and_line(cli, db_path, project, tmp_path, name, text, where, message):
    before = dump(db_path)
    f = write(tmp_path / f"{name}.yml", text)
    r = cli("codebook", "load", f, expect=1)
    line = r.stderr.strip()
    assert line.startswith(f"Error: {f}")
    assert message in line and (where in line if where.startswith(":") else True)
    assert "Traceback" not in r.output
    assert dump(db_path) == before


def test_yaml_export_round_trips(cli, project, tmp_path):
    first = cli("codebook", "export").stdout
    assert first.startswith("codebook: Test codebook\n")
    write(tmp_path / "again.yml", first)
    cli2_db = tmp_path / "other.db"
    from tests.conftest import Cli

    other = Cli(cli2_db)
    other("codebook", "load", tmp_path / "again.yml")
    assert other("codebook", "export").stdout == first


def test_shipped_codebook_loads_without_warnings(cli):
    r = cli("codebook", "load", CODEBOOK)
    assert "warning" not in r.stderr
    data = json.loads(cli("codebook", "show", "--format", "json").stdout)
    top = [c["name"] for c in data["codes"]]
    assert top == [
        "Relevance",
        "Coherence",
        "Effectiveness",
        "Efficiency",
        "Impact",
        "Sustainability",
        "Cross-cutting themes",
        "Assessment",
    ]
    for c in data["codes"][:6]:
        assert c["codable"] and not c["exclusive"] and 2 <= len(c["children"]) <= 4
        for node in [c, *c["children"]]:
            assert node["definition"] and node["include"] and node["exclude"] and node["colour"]
            assert node["patterns"], node["path"]
    assert [c["name"] for c in data["codes"][6]["children"]] == [
        "Gender equality",
        "Disability inclusion",
        "Social dialogue",
        "International labour standards",
        "Environmental sustainability",
    ]
    assert data["codes"][7]["exclusive"] and [c["value"] for c in data["codes"][7]["children"]] == [3, 2, 1]


def test_pattern_lint_warns_about_patterns_that_never_match(cli, tmp_path):
    text = CB.replace("[{LEMMA: need}]", "[{LEMMA: paid}, {LOWER: follow-up}]")
    r = cli("codebook", "load", write(tmp_path / "lint.yml", text))
    assert "Relevance: pattern 2: LEMMA 'paid' never matches: the lookup table lemmatises 'paid' to 'pay'" in r.stderr
    assert "LOWER 'follow-up' is split into several tokens" in r.stderr


def test_rename_merge_move_keep_codings(cli, project):
    cli("apply", "INT-01", "3", "Needs", "--coder", "ana")
    cli("apply", "INT-01", "5", "Funding", "--coder", "ana")
    cli("apply", "INT-01", "5", "Relevance", "--coder", "ana")
    cli("code", "rename", "Needs", "Constituent needs")
    cli("code", "move", "Funding", "--parent", "Relevance")
    assert paths(cli)["Relevance/Funding"] == 1
    cli("code", "merge", "Relevance/Funding", "Relevance/Constituent needs")
    p = paths(cli)
    assert "Relevance/Funding" not in p and p["Relevance/Constituent needs"] == 2 and p["Relevance"] == 1
    rows = cli("codings", "export").stdout.splitlines()
    assert rows == [
        "interview,turn,code,coder,memo",
        "INT-01,3,Relevance/Constituent needs,ana,",
        "INT-01,5,Relevance,ana,",
        "INT-01,5,Relevance/Constituent needs,ana,",
    ]
    r = cli("code", "move", "Relevance", "--parent", "Relevance/Constituent needs", expect=2)
    assert "under itself or its descendant" in r.stderr
    r = cli("code", "rename", "Efficiency", "Relevance", expect=1)
    assert "already called 'Relevance'" in r.stderr
    r = cli("code", "rename", "Nonexistent", "X", expect=1)
    assert "no code 'Nonexistent' in the codebook" in r.stderr


PATTERN_TRANSCRIPT = """---
interview: T-01
language: en
interviewers: [{id: EV1, speaker: EV}]
participants: [{id: P1, speaker: Ana, gender: woman}]
---

EV: What held the work back?

Ana: We need more staff, and the money late every quarter hurt.

EV: Did it fit?

Ana: It matched the national priority.

EV: Anything else?

Ana: Again the money late, we need to plan.

EV: Thank you.

Ana: Goodbye, I need to go.

EV: Who asked for it?

Ana: Constituent needs drove it.
"""


def test_patterns_are_measured_against_a_coders_decisions(cli, tmp_path):
    """Each pattern's decided turns, and on how many the coder gave its code (or one below it) or its criterion."""
    cli("import", write(tmp_path / "T-01.md", PATTERN_TRANSCRIPT))
    cli("codebook", "load", write(tmp_path / "cb.yml", CB))
    decisions = "interview,turn,code,coder,memo\n" + "".join(
        f"T-01,{turn},{code},ana,\n"
        for turn, code in [
            (1, "Efficiency/Funding"),
            (3, "Relevance"),
            (5, "Efficiency/Funding"),
            (7, ""),
            (9, "Relevance/Needs"),
        ]  # fmt: skip
    )
    cli("codings", "import", write(tmp_path / "ana.csv", decisions))
    data = json.loads(cli("codebook", "patterns", "--coder", "ana", "--min-turns", "1", "-f", "json").stdout)
    assert data["coder"] == "ana" and data["turns decided"] == 5
    got = [(p["code"], p["pattern"], p["turns"], p["code right"], p["criterion right"]) for p in data["patterns"]]
    assert got == [
        ("Relevance", 2, 4, 1, 1),  # LEMMA need: the greeting and two Efficiency turns; right where Needs was given
        ("Efficiency/Funding", 1, 2, 2, 2),
        ("Relevance", 1, 1, 1, 1),
        ("Relevance/Needs", 1, 1, 1, 1),
    ]
    assert data["patterns"][0]["criterion precision"] == 0.25
    # --min-turns leaves out the rare ones; --code keeps a subtree's patterns
    data = json.loads(cli("codebook", "patterns", "--coder", "ana", "--min-turns", "2", "-f", "json").stdout)
    assert [(p["code"], p["pattern"]) for p in data["patterns"]] == [("Relevance", 2), ("Efficiency/Funding", 1)]
    data = json.loads(cli("codebook", "patterns", "--coder", "ana", "--code", "Efficiency", "-f", "json").stdout)
    assert [(p["code"], p["pattern"]) for p in data["patterns"]] == []  # its one pattern matches 2 turns, under 3
    table = cli("codebook", "patterns", "--coder", "ana", "--min-turns", "1").stdout
    assert "Patterns against ana's 5 decided turns, least precise first" in table
    r = cli("codebook", "patterns", "--coder", "nobody", expect=1)
    assert "no coder 'nobody' in this project (coders: ana)" in r.stderr


def test_a_token_flag_is_named_in_a_patterns_label_not_printed_as_true():
    from qualcode.codebook.patterns import _label

    assert _label([{"LIKE_NUM": True}, {"LOWER": {"IN": ["a", "b"]}, "OP": "?"}]) == "<LIKE_NUM> (a|b)?"
    assert _label([{"IS_PUNCT": False}]) == "<not IS_PUNCT>"
