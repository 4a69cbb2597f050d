"""The shipped study corpus: its published shape, fresh writing, and the two coders' files."""

from __future__ import annotations

import collections
import csv
import json
import re

import pytest
import yaml

from tests.conftest import CODEBOOK, CODINGS, CORPUS, Cli

FILES = sorted(CORPUS.glob("INT-*.md"))
LABEL = re.compile(r"^([^:\n]{1,48}):\s")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+")


def parts(path):
    _, fm, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(fm), body


def body_words(body: str) -> int:
    return sum(len(LABEL.sub("", line).split()) for line in body.splitlines())


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    cli = Cli(tmp_path_factory.mktemp("corpus") / "c.db")
    cli("import", CORPUS)
    cli("codebook", "load", CODEBOOK)
    return cli


def test_64_interviews_and_108_participants_65_women_43_men(project):
    assert len(FILES) == 64
    assert len(json.loads(project("interviews", "--format", "json").stdout)) == 64
    counts = json.loads(project("participants", "--format", "json").stdout)
    assert counts == {"total": 108, "by_gender": {"woman": 65, "man": 43}}


def test_counts_from_the_files_themselves():
    """An independent count straight from the front matter, without qualcode."""
    people = {}
    for f in FILES:
        fm, _ = parts(f)
        for p in fm["participants"]:
            assert people.setdefault(p["id"], p) == p, f"{p['id']} differs between interviews"
    assert len(people) == 108
    assert collections.Counter(p["gender"] for p in people.values()) == {"woman": 65, "man": 43}
    sizes = collections.Counter(len(parts(f)[0]["participants"]) for f in FILES)
    assert sizes[1] > 30 and max(sizes) == 5  # mostly one-to-one, some group interviews up to five people


def test_metadata_is_complete():
    cases = collections.Counter()
    interviewers = set()
    for f in FILES:
        fm, _ = parts(f)
        a = fm["attributes"]
        assert a["case_study"] and a["region"] and a["stakeholder_group"], f.name
        assert a["mode"] in ("video call", "phone", "written answers"), f.name
        assert "2020-01-01" <= str(fm["date"]) <= "2021-12-31", f.name
        cases[a["case_study"]] += 1
        interviewers |= set(fm["interviewers"])
        for p in fm["participants"]:
            assert p["gender"] in ("woman", "man") and p["stakeholder_group"] and p["role"], (f.name, p["id"])
            assert p.get("organisation_type"), (f.name, p["id"])
    assert set(cases) == {
        "Global",
        "Ethiopia",
        "Thailand",
        "Tunisia",
        "Regional Conference on Migration",
        "FMM West Africa",
        "Fair recruitment: Philippines–Hong Kong",
        "Fair recruitment: Nepal–Jordan",
        "Fair recruitment: Guatemala–Mexico",
    }
    assert 2 <= len(interviewers) <= 4
    participant_ids = {p["id"] for f in FILES for p in parts(f)[0]["participants"]}
    assert not interviewers & participant_ids  # the evaluation team are not participants


def test_lengths():
    words = {f.name: body_words(parts(f)[1]) for f in FILES}
    assert all(600 <= n <= 2000 for n in words.values()), {k: v for k, v in words.items() if not 600 <= v <= 2000}
    assert sum(words.values()) >= 60_000


def test_no_sentence_of_eight_or_more_words_appears_in_two_transcripts():
    seen: dict[str, set[str]] = collections.defaultdict(set)
    for f in FILES:
        for para in re.split(r"\n\s*\n", parts(f)[1]):
            for s in SENTENCE_END.split(" ".join(LABEL.sub("", para.strip()).split())):
                words = re.findall(r"[\w’'-]+", s.lower())
                if len(words) >= 8:
                    seen[" ".join(words)].add(f.name)
    repeated = {s: sorted(n) for s, n in seen.items() if len(n) > 1}
    assert not repeated
    assert len(seen) > 4000


def test_every_turn_speaker_resolves(project):
    from qualcode.store.db import open_project

    db = open_project(project.db_path)
    unresolved = db.execute(
        "SELECT count(*) FROM turns t LEFT JOIN speakers s ON s.id = t.speaker_id "
        "WHERE s.id IS NULL OR (s.participant_id IS NULL AND s.interviewer_id IS NULL)"
    ).fetchone()
    assert unresolved == (0,)
    # Only declared people speak: every speaker is a participant or interviewer named in the front matter.
    declared = {
        (parts(f)[0]["interview"], p.get("speaker", p["id"])) for f in FILES for p in parts(f)[0]["participants"]
    }
    declared |= {(parts(f)[0]["interview"], i) for f in FILES for i in parts(f)[0]["interviewers"]}
    spoken = set(db.execute("SELECT interview_id, label FROM speakers").fetchall())
    assert spoken == declared


@pytest.mark.parametrize("name", ["coder-a.csv", "coder-b.csv"])
def test_coding_files_import_and_export_unchanged(project, name):
    path = CODINGS / name
    coder = name[:-4]
    project("codings", "import", path)
    assert project("codings", "export", "--coder", coder).stdout == path.read_text(encoding="utf-8")


def test_both_coders_decided_every_participant_turn_of_the_same_16_interviews(project):
    from qualcode.store.db import open_project

    decided = {}
    for name in ("coder-a", "coder-b"):
        with open(CODINGS / f"{name}.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert {r["coder"] for r in rows} == {name}
        decided[name] = {(r["interview"], int(r["turn"])) for r in rows}
    assert decided["coder-a"] == decided["coder-b"]
    interviews = {i for i, _ in decided["coder-a"]}
    assert len(interviews) == 16
    db = open_project(project.db_path)
    participant_turns = set(
        db.execute(
            f"""SELECT t.interview_id, t.idx FROM turns t JOIN speakers s ON s.id = t.speaker_id
            WHERE s.participant_id IS NOT NULL AND t.interview_id IN ({",".join("?" * len(interviews))})""",
            sorted(interviews),
        ).fetchall()
    )
    assert decided["coder-a"] == participant_turns
    cases = {parts(CORPUS / f"{i}.md")[0]["attributes"]["case_study"] for i in interviews}
    assert len(cases) == 9  # spread over every case study


HELDOUT = CORPUS.parent / "heldout"


def participant_turns(db_path, interviews: set[str]) -> set[tuple[str, int]]:
    from qualcode.store.db import open_project

    db = open_project(db_path)
    rows = db.execute(
        f"""SELECT t.interview_id, t.idx FROM turns t JOIN speakers s ON s.id = t.speaker_id
        WHERE s.participant_id IS NOT NULL AND t.interview_id IN ({",".join("?" * len(interviews))})""",
        sorted(interviews),
    ).fetchall()
    db.close()
    return set(rows)


def decisions(path) -> set[tuple[str, int]]:
    """The turns a coding file decides; every code it names is a codable code of the shipped codebook."""
    from tests import shipped

    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["coder"] for r in rows} == {path.stem}
    codable = {c["path"] for c in shipped.codebook() if c["codable"]}
    assert {r["code"] for r in rows if r["code"]} <= codable
    return {(r["interview"], int(r["turn"])) for r in rows}


@pytest.mark.parametrize(
    ("name", "coders", "turns", "women", "men"),
    [
        ("dev", ["coder-f"], 135, 6, 7),
        ("dev2", ["coder-g", "coder-h"], 187, 10, 6),
        ("test", ["coder-k", "coder-l"], 276, 10, 8),
        ("test2", ["coder-m", "coder-n"], 302, 9, 9),
    ],
)
def test_each_heldout_set_is_what_its_readme_says_and_every_coder_decided_every_turn(
    tmp_path, name, coders, turns, women, men
):
    cli = Cli(tmp_path / "h.db")
    cli("import", HELDOUT / name)
    counts = json.loads(cli("participants", "--format", "json").stdout)
    assert counts == {"total": women + men, "by_gender": {"woman": women, "man": men}}
    interviews = {i["id"] for i in json.loads(cli("interviews", "--format", "json").stdout)}
    for coder in coders:
        assert decisions(HELDOUT / name / "codings" / f"{coder}.csv") == participant_turns(cli.db_path, interviews)
    assert len(participant_turns(cli.db_path, interviews)) == turns


def test_the_extra_codings_of_the_shipped_corpus_decide_every_turn_of_twenty_other_interviews(project):
    shipped = set()
    for name in ("coder-a", "coder-b"):
        shipped |= {i for i, _ in decisions(CODINGS / f"{name}.csv")}
    seen = set()
    for path in sorted((CODINGS / "more").glob("coder-*.csv")):
        mine = decisions(path)
        interviews = {i for i, _ in mine}
        assert len(interviews) == 10 and not interviews & (shipped | seen)
        assert mine == participant_turns(project.db_path, interviews)
        seen |= interviews
