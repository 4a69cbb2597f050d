"""Retrieval: segments, full-text search and lexical autocoding, co-occurrence, bulk acceptance of suggestions."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import CORPUS, dump, write
from tests.conftest import query as rows

CODEBOOK = """\
codebook: Retrieval test
min_score: 0.5
codes:
  - name: Relevance
    children:
      - name: Data and statistics
      - name: Gender
        threshold: 0.95
  - name: Efficiency
    threshold: 0.7
    children:
      - name: Funding
  - name: Impact
"""

# INT-01: Ayesha (P001, woman, UN agency, case study Global). INT-04: Hatem (P004, man, Employers' organisation,
# Tunisia). INT-07 (Ethiopia): Mahlet, Tigist, Rahel (women), Tewodros (man); turn 3 is the interviewer EV3.
CODINGS = """\
interview,turn,code,coder,memo
INT-01,9,Relevance/Data and statistics,ana,
INT-01,9,Relevance,ana,
INT-01,13,Efficiency,ana,
INT-04,11,Relevance/Data and statistics,ana,survey late
INT-04,11,Efficiency,ana,
INT-07,34,Efficiency/Funding,ana,
INT-07,36,Efficiency/Funding,ana,seven weeks
INT-07,36,Efficiency,ana,
INT-07,38,Relevance/Gender,ana,
INT-07,40,Relevance/Gender,ana,
INT-07,38,Impact,ana,
INT-07,40,Impact,ana,
INT-07,45,Impact,ana,
INT-07,47,,ana,
INT-07,34,Efficiency/Funding,ben,
INT-07,38,Impact,ben,
INT-07,3,,ben,
"""

SYNTHETIC = """\
---
interview: INT-90
attributes: {case_study: Test}
interviewers: [EV9]
participants:
  - {id: P090, speaker: Ana, gender: f, stakeholder_group: Government}
  - {id: P091, speaker: Ben, gender: m, stakeholder_group: Government}
---
EV9: Tell me about the tranche, each tranche.

Ana: We had one tranche for salaries and one for rent, and the rest came later.

Ben: The tranche was late, the tranche was small, the tranche was split again.

Ana: A tranche arrived in May, then the second tranche arrived in the autumn.
"""


def turn_text(db_path, iid, idx):
    return rows(db_path, "SELECT text FROM turns WHERE interview_id = ? AND idx = ?", [iid, idx])[0][0]


@pytest.fixture
def project(cli, tmp_path):
    cli("import", CORPUS / "INT-01.md", CORPUS / "INT-04.md", CORPUS / "INT-07.md")
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    cli("codings", "import", write(tmp_path / "codings.csv", CODINGS))
    return cli


def seg(r):
    return [(s["interview"], s["turn"], s["code"], s["coder"]) for s in json.loads(r.stdout)["segments"]]


# --- segments ------------------------------------------------------------------------------------------------------


def test_segments_include_the_subtree_with_each_rows_code_path(project, db_path):
    data = json.loads(project("segments", "--code", "Relevance", "--format", "json").stdout)
    assert data["code"] == "Relevance" and data["subcodes"] is True
    assert data["codes"] == ["Relevance", "Relevance/Data and statistics", "Relevance/Gender"]
    assert [(s["interview"], s["turn"], s["code"], s["coder"]) for s in data["segments"]] == [
        ("INT-01", 9, "Relevance", "ana"),
        ("INT-01", 9, "Relevance/Data and statistics", "ana"),
        ("INT-04", 11, "Relevance/Data and statistics", "ana"),
        ("INT-07", 38, "Relevance/Gender", "ana"),
        ("INT-07", 40, "Relevance/Gender", "ana"),
    ]
    hatem = data["segments"][2]
    assert {k: hatem[k] for k in ("speaker", "participant", "gender", "stakeholder_group", "memo", "start")} == {
        "speaker": "Hatem",
        "participant": "P004",
        "gender": "man",
        "stakeholder_group": "Employers' organisation",
        "memo": "survey late",
        "start": 0,
    }
    assert hatem["text"] == turn_text(db_path, "INT-04", 11) and hatem["end"] == len(hatem["text"])
    assert hatem["participant_attributes"]["role"] == "Economic adviser"
    assert hatem["interview_attributes"]["case_study"] == "Tunisia"
    only = project("segments", "--code", "relevance", "--no-subcodes", "--format", "json")
    assert seg(only) == [("INT-01", 9, "Relevance", "ana")]


def test_segments_where_filters_are_anded_and_normalised(project):
    def where(*pairs):
        args = [a for p in pairs for a in ("--where", p)]
        return seg(project("segments", "--code", "Relevance", *args, "--format", "json"))

    women = [
        ("INT-01", 9, "Relevance", "ana"),
        ("INT-01", 9, "Relevance/Data and statistics", "ana"),
        ("INT-07", 38, "Relevance/Gender", "ana"),
        ("INT-07", 40, "Relevance/Gender", "ana"),
    ]
    assert where("gender=woman") == women
    assert where("gender=F") == women  # normalised like the import
    assert where("gender=male") == [("INT-04", 11, "Relevance/Data and statistics", "ana")]
    assert where("case_study=ethiopia") == women[2:]  # interview attribute, case-insensitive
    assert where("gender=woman", "case_study=Global") == women[:2]
    assert where("role=Case worker") == women[2:]  # participant attribute (Tigist)
    assert where("stakeholder_group=Employers' organisation") == [
        ("INT-04", 11, "Relevance/Data and statistics", "ana")
    ]
    assert where("gender=man", "case_study=Ethiopia") == []


def test_segments_coder_interview_and_errors(project, db_path):
    r = project("segments", "--code", "Impact", "--coder", "ben", "--format", "json")
    assert seg(r) == [("INT-07", 38, "Impact", "ben")]
    r = project("segments", "--code", "Impact", "--interview", "INT-01", "--format", "json")
    assert seg(r) == []
    before = dump(db_path)
    r = project("segments", "--code", "Relevance", "--where", "religion=x", expect=1)
    assert r.stderr.strip() == (
        "Error: --where religion: no attribute 'religion' in this project (known: case_study, gender, "
        "interview_language, language, mode, organisation, organisation_type, region, role, source, "
        "stakeholder_group)"
    )
    r = project("segments", "--code", "Relevance", "--where", "gender", expect=2)
    assert r.stderr.strip() == "Error: --where expects ATTR=VALUE (for example gender=woman), got 'gender'"
    r = project("segments", "--code", "Relevance", "--coder", "zoe", expect=1)
    assert r.stderr.strip() == "Error: no coder 'zoe' in this project (coders: ana, ben)"
    r = project("segments", "--code", "Relevance", "--interview", "INT-99", expect=1)
    assert "no interview 'INT-99'" in r.stderr
    assert dump(db_path) == before


def test_segments_table_and_csv(project):
    out = project("segments", "--code", "Funding", "--interview", "INT-07", "--coder", "ana").stdout
    assert "[pause] Around seven weeks." in out  # transcript brackets are text, not Rich markup
    assert "2 segments coded Efficiency/Funding by ana" in out
    lines = project("segments", "--code", "Funding", "--coder", "ana", "--format", "csv").stdout.splitlines()
    assert lines[0] == (
        "interview,turn,speaker,participant,gender,stakeholder_group,code,coder,start,end,text,memo,case_study,"
        "mode,organisation,organisation_type,region,role"
    )
    assert lines[2].startswith("INT-07,36,Mahlet,P008,woman,Civil society,Efficiency/Funding,ana,0,102,")
    assert lines[2].endswith(
        ",seven weeks,Ethiopia,video call,Returnee reintegration organisation,"
        "Returnee support NGO,Africa,Programme manager"
    )


# --- search --------------------------------------------------------------------------------------------------------


def test_search_ranks_by_bm25_and_highlights(cli, tmp_path):
    # Another transcript, so that bm25's inverse document frequency for "tranche" is not zero.
    cli("import", write(tmp_path / "int90.md", SYNTHETIC), CORPUS / "INT-01.md")
    data = json.loads(cli("search", "tranche", "--format", "json").stdout)
    assert data["total"] == 3
    # Same length, more occurrences ranks higher; the interviewer's turn is left out by default.
    assert [(h["rank"], h["turn"], h["speaker"], h["gender"]) for h in data["hits"]] == [
        (1, 2, "Ben", "man"),
        (2, 3, "Ana", "woman"),
        (3, 1, "Ana", "woman"),
    ]
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert data["hits"][0]["snippet"] == (
        "The **tranche** was late, the **tranche** was small, the **tranche** was split again."
    )
    everyone = json.loads(cli("search", "tranche", "--all-turns", "--format", "json").stdout)
    assert everyone["total"] == 4 and {h["speaker"] for h in everyone["hits"]} == {"EV9", "Ana", "Ben"}
    md = cli("search", "tranche", "--limit", "1", "--format", "md").stdout
    assert md.splitlines()[2] == (
        "| 1 | INT-90 | 2 | Ben | P091 | man | 3.334 | The **tranche** was late, the **tranche** was small, the "
        "**tranche** was split again. |"
    )
    assert md.rstrip().endswith("1 of 3 matching turns, best first (--limit for more)")


def test_search_phrases_stemming_and_filters(project):
    def hits(*args):
        data = json.loads(project("search", *args, "--format", "json").stdout)
        return [(h["interview"], h["turn"]) for h in data["hits"]]

    # The only "institut de la statistique" (INT-04 is in French) is said by an interviewer: participants' turns
    # only by default.
    assert hits('"institut de la statistique"') == []
    assert hits('"institut de la statistique"', "--all-turns") == [("INT-04", 10)]
    assert hits('"statistique institut"', "--all-turns") == []  # a phrase keeps its order
    assert hits("statistique institut", "--all-turns") == [("INT-04", 10)]  # words: any order
    brokers = hits("broker*")
    assert sorted(brokers) == [("INT-07", t) for t in (11, 19, 21, 23, 26, 28, 47, 49)]
    assert hits("broker*", "--where", "gender=man") == [x for x in brokers if x[1] in (11, 26, 28)]
    assert hits("broker*", "--where", "gender=man", "--where", "role=Legal aid officer") == [
        x for x in brokers if x[1] in (11, 26, 28)
    ]
    assert hits("broker*", "--interview", "INT-01") == []
    # Stemming: "evaluation" finds "evaluators" too, and accents are folded: the French "l'évaluation" is found.
    # (A prefix* is matched against stems, so "evaluat*" finds nothing: the stem is "evalu".)
    assert set(hits("evaluation", "--all-turns")) >= {("INT-07", 3), ("INT-04", 21)}
    assert hits("evaluation", "--all-turns", "--where", "case_study=Tunisia") == [("INT-04", 21)]


@pytest.mark.parametrize(
    ("query", "detail"),
    [("foo AND", 'fts5: syntax error near ""'), ("Note: x", "no such column: Note"), ('"open', "unterminated string")],
)
def test_search_syntax_errors_are_one_line(project, db_path, query, detail):
    before = dump(db_path)
    r = project("search", query, expect=2)
    assert r.stderr.startswith(f"Error: cannot read the search query {query!r} ({detail}); the query is FTS5 syntax")
    assert "Traceback" not in r.output
    assert dump(db_path) == before


def test_search_code_as_codes_every_hit_as_one_undoable_batch(project, db_path):
    r = project(
        "search", "broker*", "--where", "gender=man", "--code-as", "Impact", "--coder", "carol", "--format", "json"
    )
    data = json.loads(r.stdout)
    [batch] = rows(db_path, "SELECT id FROM batches WHERE coder = 'carol'")[0]
    assert data["coded"] == {
        "code": "Impact",
        "coder": "carol",
        "batch": batch,
        "turns": 3,
        "added": 3,
        "already": 0,
        "no_code_withdrawn": 0,
    }
    assert r.stderr.strip().replace("\n", " ") == (
        f"batch {batch}: 3 turns coded Impact for carol (3 new, 0 already coded); "
        f"undo with: qualcode undo --coder carol --batch {batch}"
    )
    coded = rows(
        db_path,
        """SELECT t.idx, c.origin, c.start = t.start AND c.end = t.end FROM codings c
                             JOIN turns t ON t.id = c.turn_id WHERE c.coder = 'carol' ORDER BY t.idx""",
    )
    assert coded == [(11, "search", 1), (26, "search", 1), (28, "search", 1)]
    assert rows(db_path, "SELECT kind FROM batches WHERE id = ?", [batch]) == [("search",)]
    again = project("search", "broker*", "--where", "gender=man", "--code-as", "Impact", "--coder", "carol")
    assert "nothing to code: every hit is already coded Impact by carol" in again.stderr
    assert rows(db_path, "SELECT count(*) FROM batches WHERE coder = 'carol'") == [(1,)]
    project("undo", "--coder", "carol", "--batch", batch)
    assert seg(project("segments", "--code", "Impact", "--coder", "carol", "--format", "json")) == []


def test_search_code_as_withdraws_no_code_decisions_within_the_batch(project, db_path):
    r = project(
        "search",
        "evaluators",
        "--all-turns",
        "--interview",
        "INT-07",
        "--code-as",
        "Impact",
        "--coder",
        "ben",
        "--format",
        "json",
    )
    coded = json.loads(r.stdout)["coded"]
    assert (coded["turns"], coded["added"], coded["no_code_withdrawn"]) == (1, 1, 1)
    live = (
        "SELECT code_id IS NULL FROM codings c JOIN turns t ON t.id = c.turn_id "
        "WHERE c.coder = 'ben' AND t.idx = 3 AND t.interview_id = 'INT-07' AND c.deleted_at IS NULL"
    )
    assert rows(db_path, live) == [(0,)]
    project("undo", "--coder", "ben", "--batch", coded["batch"])
    assert rows(db_path, live) == [(1,)]  # the "no code" decision is back


def test_search_code_as_needs_a_coder_and_a_codable_code(project, db_path):
    before = dump(db_path)
    r = project("search", "broker", "--code-as", "Impact", expect=2)
    assert r.stderr.strip() == "Error: name the coder with --coder NAME or QUALCODE_CODER"
    r = project("search", "broker", "--code-as", "Nope", "--coder", "carol", expect=1)
    assert "no code 'Nope' in the codebook" in r.stderr
    assert dump(db_path) == before


# --- co-occurrence -------------------------------------------------------------------------------------------------


def test_cooccurrence_for_one_coder_by_hand(project):
    # ana's turns per code: Relevance {01-9}; Data and statistics {01-9, 04-11}; Gender {07-38, 07-40};
    # Efficiency {01-13, 04-11, 07-36}; Funding {07-34, 07-36}; Impact {07-38, 07-40, 07-45}.
    data = json.loads(project("cooccurrence", "--coder", "ana", "--format", "json").stdout)
    pairs = [(p["a"], p["b"], p["both"], p["either"], p["jaccard"]) for p in data["pairs"]]
    assert pairs == [
        ("Relevance/Gender", "Impact", 2, 3, 2 / 3),
        ("Relevance", "Relevance/Data and statistics", 1, 2, 1 / 2),
        ("Relevance/Data and statistics", "Efficiency", 1, 4, 1 / 4),
        ("Efficiency", "Efficiency/Funding", 1, 4, 1 / 4),
    ]
    assert data["units"] == 8  # ana's coded turns; the "no code" decision on 07-47 is not one
    labels = data["labels"]
    assert labels == [
        "Relevance",
        "Relevance/Data and statistics",
        "Relevance/Gender",
        "Efficiency",
        "Efficiency/Funding",
        "Impact",
    ]
    assert [data["matrix"][i][i] for i in range(6)] == [1, 2, 2, 3, 2, 3]
    i, j = labels.index("Relevance/Gender"), labels.index("Impact")
    assert data["matrix"][i][j] == data["matrix"][j][i] == 2 and data["jaccard"][i][j] == 2 / 3
    table = project("cooccurrence", "--coder", "ana").stdout
    assert "4 pairs among 8 turns coded by ana" in table and "0.667" in table


def test_cooccurrence_by_criterion_and_across_coders(project):
    data = json.loads(project("cooccurrence", "--coder", "ana", "--level", "criterion", "--format", "json").stdout)
    # Relevance {01-9, 04-11, 07-38, 07-40}; Efficiency {01-13, 04-11, 07-34, 07-36}; Impact {07-38, 07-40, 07-45}
    assert [(p["a"], p["b"], p["both"], p["either"], p["jaccard"]) for p in data["pairs"]] == [
        ("Relevance", "Impact", 2, 5, 2 / 5),
        ("Relevance", "Efficiency", 1, 7, 1 / 7),
    ]
    # Without --coder each coder's turn is its own unit: ben's Impact on 07-38 does not pair with ana's Gender there.
    data = json.loads(project("cooccurrence", "--format", "json").stdout)
    pairs = {(p["a"], p["b"]): (p["both"], p["either"]) for p in data["pairs"]}
    assert pairs[("Relevance/Gender", "Impact")] == (2, 4)
    assert pairs[("Efficiency", "Efficiency/Funding")] == (1, 5)
    assert data["units"] == 10
    r = project("cooccurrence", "--level", "theme", expect=2)
    assert "'theme' is not one of 'code', 'criterion'" in r.stderr


# --- accepting suggestions -----------------------------------------------------------------------------------------


def suggest(db_path, iid, idx, code, score, unit="turn"):
    conn = sqlite3.connect(db_path)
    try:
        tid, start, end = conn.execute(
            "SELECT id, start, end FROM turns WHERE interview_id = ? AND idx = ?", [iid, idx]
        ).fetchone()
        cid = conn.execute("SELECT id FROM codes WHERE name = ?", [code]).fetchone()[0]
        conn.execute(
            """INSERT INTO suggestions (interview_id, turn_id, code_id, unit, start, end, score, pattern_score,
               model_score, source, evidence, pattern_hash, model_version, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 'pattern', '[]', 'h', NULL, '2026-01-01T00:00:00.000Z')""",
            [iid, tid, cid, unit, start, end, score, score],
        )
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def suggested(project, db_path):
    suggest(db_path, "INT-07", 31, "Efficiency", 0.9)
    suggest(db_path, "INT-07", 31, "Impact", 0.85)
    suggest(db_path, "INT-07", 33, "Funding", 0.95)
    suggest(db_path, "INT-07", 33, "Funding", 0.85)  # a second row for the same pair: the best score counts
    suggest(db_path, "INT-07", 34, "Funding", 0.99)  # ana coded turn 34 already
    suggest(db_path, "INT-07", 47, "Impact", 0.9)  # ana decided "no code" on turn 47
    suggest(db_path, "INT-07", 42, "Efficiency", 0.75)  # below --min-score
    suggest(db_path, "INT-07", 39, "Gender", 0.9)  # below Gender's own threshold (0.95): never shown
    # Sentence suggestions are not bulk-accepted.
    suggest(db_path, "INT-07", 44, "Impact", 0.99, unit="sentence")
    return project


def test_accept_suggestions_one_batch_skipping_decided_turns(suggested, db_path):
    r = suggested("accept-suggestions", "--coder", "ana", "--min-score", "0.8", "--format", "json")
    data = json.loads(r.stdout)
    batch = data["batch"]
    assert data == {
        "coder": "ana",
        "min_score": 0.8,
        "batch": batch,
        "turns": 2,
        "codings": 3,
        "skipped_turns": 2,
        "lesser_options_left_out": 0,
        "by_code": {"Efficiency": 1, "Efficiency/Funding": 1, "Impact": 1},
    }
    assert r.stderr.replace("\n", " ").split("ana; ")[0] == f"batch {batch}: 2 turns, 3 codings accepted for "
    assert "2 turns skipped: already decided by ana" in r.stderr
    got = rows(
        db_path,
        """SELECT t.idx, k.name, c.origin, c.suggestion_score, c.start = t.start AND c.end = t.end
                           FROM codings c JOIN turns t ON t.id = c.turn_id JOIN codes k ON k.id = c.code_id
                           WHERE c.batch_id = ? ORDER BY t.idx, k.name""",
        [batch],
    )
    assert got == [
        (31, "Efficiency", "suggestion", 0.9, 1),
        (31, "Impact", "suggestion", 0.85, 1),
        (33, "Funding", "suggestion", 0.95, 1),
    ]
    again = suggested("accept-suggestions", "--coder", "ana", "--min-score", "0.8", "--format", "json")
    assert json.loads(again.stdout)["skipped_turns"] == 4 and json.loads(again.stdout)["batch"] is None
    suggested("undo", "--coder", "ana", "--batch", batch)
    assert rows(db_path, "SELECT count(*) FROM codings WHERE batch_id = ? AND deleted_at IS NULL", [batch]) == [(0,)]


def test_accept_suggestions_filters_and_errors(suggested, db_path):
    r = suggested(
        "accept-suggestions", "--coder", "ana", "--min-score", "0.8", "--code", "Efficiency", "--format", "json"
    )
    data = json.loads(r.stdout)
    assert (data["turns"], data["by_code"], data["skipped_turns"]) == (2, {"Efficiency": 1, "Efficiency/Funding": 1}, 1)
    before = dump(db_path)
    r = suggested("accept-suggestions", "--coder", "ben", "--min-score", "0.5", "--interview", "INT-01")
    assert "nothing to accept: no undecided turn has a shown suggestion scoring >= 0.5" in r.stderr
    assert dump(db_path) == before
    r = suggested("accept-suggestions", "--min-score", "0.8", expect=2)
    assert r.stderr.strip() == "Error: name the coder with --coder NAME or QUALCODE_CODER"
    r = suggested("accept-suggestions", "--coder", "ana", "--min-score", "1.5", expect=2)
    assert r.stderr.strip() == "Error: --min-score must be between 0 and 1, got 1.5"
    assert dump(db_path) == before


def test_accept_suggestions_takes_the_coder_from_the_environment(suggested, db_path, monkeypatch):
    monkeypatch.setenv("QUALCODE_CODER", "dan")
    r = suggested("accept-suggestions", "--min-score", "0.9", "--format", "json")
    data = json.loads(r.stdout)
    # Turns 31, 33, 34 and 47: dan has decided none of them.
    assert (data["coder"], data["turns"], data["codings"]) == ("dan", 4, 4)
