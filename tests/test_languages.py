"""A study in several languages: each source's language (declared or detected), patterns keyed by language,
suggestions read with the turn's own pipeline, search folding accents, quotes marked with their language, coders'
translations carried to the exports, and the shipped French and Spanish interviews with their coding.

Expected figures come from the shipped files themselves (front matter and coding files read here with yaml and csv).
"""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
import yaml

from tests.conftest import CODEBOOK, CODINGS, CORPUS, Cli, copy_db, dump, query, write

LANGUAGE_CODINGS = CODINGS / "languages"

CB = """codebook: t
language: en
codes:
  - key: fees
    name: Fees
    patterns:
      en: [recruitment fee]
      fr: [frais de recrutement, [{LEMMA: payer}, {LOWER: {IN: [des, les]}}, {LOWER: frais}]]
      es: [{phrase: cobro de reclutamiento, weight: 0.7}]
  - key: funding
    name: Funding
    patterns: [[{LEMMA: money}, {LEMMA: {IN: [come, arrive]}}, {LOWER: late}]]
"""

FRENCH = """---
interview: FR-01
language: fr
participants:
  - {id: P900, speaker: Amina, gender: woman}
interviewers: [{id: EV1, speaker: EV1}]
---
EV1: Bonjour, merci d'être là.

Amina: Les travailleurs ont payé des frais énormes à l'agence, et personne n'a contrôlé.
Pour l'évaluation, c'est le point central.

EV1: Et ensuite ?

Amina: Les frais de recrutement existent toujours, ils ont seulement changé de nom.
"""

UNDECLARED = """Amina: Les travailleurs ont payé des frais énormes à l'agence,
et personne n'a contrôlé les agences privées.

EV1: Et ensuite, qu'est-ce qui a changé pour les travailleuses domestiques dans votre région ?

Amina: Rien, les frais de recrutement existent toujours, ils ont seulement changé de nom depuis le projet.
"""

SPANISH = """---
interview: ES-01
language: es
participants:
  - {id: P901, speaker: Rosa, gender: woman}
interviewers: [{id: EV1, speaker: EV1}]
---
EV1: Buenos días.

Rosa: Nadie hizo una evaluación seria del proyecto; los trabajadores siguen pagando el cobro de reclutamiento.
"""

ENGLISH = """---
interview: EN-01
language: en
participants:
  - {id: P902, speaker: Bo, gender: man}
interviewers: [{id: EV1, speaker: EV1}]
---
EV1: Hello.

Bo: The money came late, every single year, and workers paid a recruitment fee anyway.
"""


def front(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> Cli:
    """The shipped corpus and codebook with coder-a's English coding and the French and Spanish coders' files."""
    cli = Cli(tmp_path_factory.mktemp("languages") / "shipped.db")
    cli("import", CORPUS)
    cli("codebook", "load", CODEBOOK)
    cli("codings", "import", CODINGS / "coder-a.csv")
    for coder in ("coder-c", "coder-d", "coder-e"):
        cli("codings", "import", LANGUAGE_CODINGS / f"{coder}.csv")
    return cli


@pytest.fixture
def mixed(cli, tmp_path) -> Cli:
    """A project with one interview in each language and the codebook above."""
    for name, text in (("fr.md", FRENCH), ("es.md", SPANISH), ("en.md", ENGLISH)):
        write(tmp_path / name, text)
    cli("import", tmp_path / "fr.md", tmp_path / "es.md", tmp_path / "en.md")
    cli("codebook", "load", write(tmp_path / "cb.yml", CB))
    return cli


def evidence(cli, interview: str) -> dict[str, list[str]]:
    """code → matched words of the turn-level suggestions in INTERVIEW, as `suggestions export` gives them."""
    out: dict[str, list[str]] = {}
    for line in cli("suggestions", "export").stdout.splitlines():
        r = json.loads(line)
        if r["interview"] == interview and r["unit"] == "turn":
            out.setdefault(r["code"], []).extend(e["text"] for e in r["evidence"])
    return out


# --- codebook --------------------------------------------------------------------------------------------------------


def test_patterns_keyed_by_language_are_stored_and_exported_as_written(mixed, db_path, tmp_path):
    stored = dict(query(db_path, "SELECT key, patterns FROM codes"))
    assert sorted(json.loads(stored["fees"])) == ["en", "es", "fr"]
    assert list(json.loads(stored["funding"])) == ["en"]  # a plain list is in the codebook's language
    out = mixed("codebook", "export", "--format", "yml").stdout
    exported = yaml.safe_load(out)["codes"]
    assert isinstance(exported[0]["patterns"], dict) and exported[0]["patterns"]["fr"][0] == "frais de recrutement"
    assert isinstance(exported[1]["patterns"], list)  # one language: the plain list a user writes
    before = query(db_path, "SELECT key, patterns, pattern_hash FROM codes ORDER BY id")
    mixed("codebook", "load", write(tmp_path / "again.yml", out))
    assert query(db_path, "SELECT key, patterns, pattern_hash FROM codes ORDER BY id") == before


def test_a_pattern_language_spacy_does_not_know_is_an_error_naming_the_line(cli, tmp_path):
    bad = CB.replace("      es: [", "      klingon: [")
    r = cli("codebook", "load", write(tmp_path / "cb.yml", bad), expect=1)
    assert "cb.yml:9: unknown language 'klingon'" in r.stderr
    assert not cli.db_path.exists() or query(cli.db_path, "SELECT count(*) FROM codes") == [(0,)]


def test_patterns_for_a_language_without_lemma_tables_warn(cli, tmp_path):
    text = CB.replace("      es: [", "      yo: [")
    r = cli("codebook", "load", write(tmp_path / "cb.yml", text))
    assert "no lemma table for 'yo'" in r.stderr


# --- import ----------------------------------------------------------------------------------------------------------


def test_an_unknown_declared_language_is_refused_with_file_and_line(cli, db_path, tmp_path):
    cli("import", write(tmp_path / "en.md", ENGLISH))
    before = dump(db_path)
    r = cli("import", write(tmp_path / "x.md", FRENCH.replace("language: fr", "language: french")), expect=1)
    assert "x.md:3" in r.stderr and "unknown language 'french'" in r.stderr
    assert dump(db_path) == before


def test_an_undeclared_language_is_detected_and_reported(cli, db_path, tmp_path):
    r = cli("import", write(tmp_path / "sans.txt", UNDECLARED))
    assert "language fr, detected from the text" in r.stderr
    assert query(db_path, "SELECT language, language_detected FROM interviews") == [("fr", 1)]
    listing = cli("interviews", "--format", "csv").stdout
    assert ",fr*," in listing
    assert "sources by language: fr 1; * detected from the text" in cli("interviews").stdout


def test_a_refi_qda_round_trip_keeps_each_sources_language(mixed, cli, tmp_path):
    """Each source's language travels as a source variable; a source without one gets its text's language."""
    import zipfile
    from xml.etree import ElementTree as ET

    cli("export", "qdpx", tmp_path / "p.qdpx")
    back = Cli(tmp_path / "back.db")
    back("import-qdpx", tmp_path / "p.qdpx")
    languages = "SELECT id, language, language_detected FROM interviews ORDER BY id"
    assert query(back.db_path, languages) == [("EN-01", "en", 0), ("ES-01", "es", 0), ("FR-01", "fr", 0)]
    assert not query(back.db_path, "SELECT * FROM interview_attributes WHERE name = 'language'")
    # A peer's project: no language variable, and one that is no language code ("French"), which stays an attribute.
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    ns = {"q": "urn:QDA-XML:project:1.0"}
    ET.register_namespace("", ns["q"])
    root = ET.fromstring(members["project.qde"])
    (variable,) = [v.get("guid") for v in root.iterfind(".//q:Variable", ns) if v.get("name") == "language"]
    for source in root.iterfind(".//q:TextSource", ns):
        for value in source.findall("q:VariableValue", ns):
            if value.find("q:VariableRef", ns).get("targetGUID") == variable:
                if source.get("name") == "FR-01":
                    value.find("q:TextValue", ns).text = "French"
                else:
                    source.remove(value)
    members["project.qde"] = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    with zipfile.ZipFile(tmp_path / "peer.qdpx", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    peer = Cli(tmp_path / "peer.db")
    r = peer("import-qdpx", tmp_path / "peer.qdpx")
    assert "language fr, detected from the text" in r.stderr and "source variable 'language'" in r.stderr
    assert query(peer.db_path, languages) == [("EN-01", "en", 1), ("ES-01", "es", 1), ("FR-01", "fr", 1)]
    assert query(peer.db_path, "SELECT interview_id, value FROM interview_attributes WHERE name = 'language'") == [
        ("FR-01", "French")
    ]


# --- suggestions -----------------------------------------------------------------------------------------------------


def test_each_turn_is_matched_with_its_own_language_patterns(mixed):
    mixed("suggest", "--no-model")
    fr, es, en = evidence(mixed, "FR-01"), evidence(mixed, "ES-01"), evidence(mixed, "EN-01")
    assert sorted(fr["Fees"]) == ["frais de recrutement", "payé des frais"]  # a lemma (payer) and a phrase
    assert es["Fees"] == ["cobro de reclutamiento"]
    assert sorted(en) == ["Fees", "Funding"] and en["Fees"] == ["recruitment fee"]
    assert "Funding" not in fr and "Funding" not in es  # English patterns never read a French turn


def test_the_shipped_codebook_suggests_in_french_and_spanish(cli):
    cli("import", CORPUS / "INT-04.md", CORPUS / "INT-28.md", CORPUS / "INT-05.md")
    r = cli("codebook", "load", CODEBOOK)
    assert "never matches" not in r.stderr, r.stderr  # every French and Spanish LEMMA is in its table
    cli("suggest", "--no-model")
    for iid in ("INT-04", "INT-28", "INT-05"):
        found = evidence(cli, iid)
        assert len({c.split("/")[0] for c in found}) >= 4, (iid, found)
    french = {w.lower() for ws in evidence(cli, "INT-04").values() for w in ws}
    english = {w.lower() for ws in evidence(cli, "INT-05").values() for w in ws}
    assert french and not french & english  # French turns are read with French patterns, not English ones


# --- search, retrieval -----------------------------------------------------------------------------------------------


def test_search_folds_accents_and_french_elisions(mixed):
    assert "ES-01" in mixed("search", "evaluacion").stdout  # "evaluación"
    hits = json.loads(mixed("search", "evaluation", "--format", "json").stdout)["hits"]
    assert [h["interview"] for h in hits] == ["FR-01"]  # "l'évaluation": the elided article is a word of its own
    assert "1 matching turn," in mixed("search", "controle").stdout  # "contrôlé", one turn


def test_where_language_narrows_retrieval_and_participants_break_down_by_language(mixed):
    mixed("apply", "FR-01", "1", "Fees", "--coder", "ana")
    mixed("apply", "EN-01", "1", "Fees", "--coder", "ana")
    out = json.loads(mixed("segments", "--code", "Fees", "--where", "language=fr", "--format", "json").stdout)
    assert [s["interview"] for s in out["segments"]] == ["FR-01"]
    people = json.loads(mixed("participants", "--by", "language", "--format", "json").stdout)
    assert {r["value"]: r["total"] for r in people["by"]["rows"]} == {"en": 1, "es": 1, "fr": 1}


# --- quotes and translations -----------------------------------------------------------------------------------------


def test_quotes_stay_as_spoken_marked_with_their_language_and_carry_the_coders_translation(mixed, tmp_path):
    mixed("apply", "FR-01", "3", "Fees", "--coder", "ana")
    mixed("apply", "EN-01", "1", "Fees", "--coder", "ana")
    english = "Recruitment fees still exist, they have only changed their name."
    mixed("translate", "FR-01", "3", english, "--coder", "ana")
    md = mixed("export", "summary", "--format", "md").stdout
    assert "Les frais de recrutement existent toujours" in md
    assert f"*Translation:* {english}" in md
    assert "FR-01, turn 3 · in French" in md and "EN-01, turn 1 · in" not in md
    rows = list(csv.DictReader(mixed("export", "segments", "--format", "csv").stdout.splitlines()))
    by = {r["interview"]: r for r in rows}
    assert (by["FR-01"]["language"], by["FR-01"]["translation"]) == ("fr", english)
    assert (by["EN-01"]["language"], by["EN-01"]["translation"]) == ("en", "")
    html = mixed("report", "-o", tmp_path / "r.html").stderr and (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Interviews by language: English 1, Spanish 1, French 1." in html
    assert '<p lang="fr">Les frais de recrutement' in html and f'<p class="translation">{english}</p>' in html

    # The translation travels with the coding file, and back into another project.
    out = mixed("codings", "export").stdout
    assert out.splitlines()[0] == "interview,turn,code,coder,memo,translation"
    other = Cli(tmp_path / "other.db")
    other("import", tmp_path / "fr.md")
    other("codebook", "load", tmp_path / "cb.yml")
    other("codings", "import", write(tmp_path / "codings.csv", "\n".join(
        line for line in out.splitlines() if not line.startswith("EN-01")) + "\n"))  # fmt: skip
    assert query(other.db_path, "SELECT translation FROM codings") == [(english,)]

    mixed("translate", "FR-01", "3", "--clear", "--coder", "ana")
    assert "*Translation:*" not in mixed("export", "summary", "--format", "md").stdout
    r = mixed("translate", "FR-01", "0", "x", "--coder", "ana", expect=1)
    assert "ana has no coding on FR-01 turn 0 to translate" in r.stderr


# --- the schema ------------------------------------------------------------------------------------------------------


def test_a_project_from_before_languages_keeps_its_patterns_in_the_codebook_language(cli, db_path, tmp_path):
    cli("codebook", "load", write(tmp_path / "cb.yml", CB.replace("      es: [{phrase", "      xx: [{phrase")))
    conn = sqlite3.connect(db_path)
    # Back to m012's shape: one list of patterns per code, no language columns.
    conn.execute('UPDATE codes SET patterns = \'[{"phrase": "money", "weight": 0.6}]\' WHERE key = \'funding\'')
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm013_languages'")
    conn.execute("ALTER TABLE interviews DROP COLUMN language_detected")
    conn.execute("ALTER TABLE codings DROP COLUMN translation")
    conn.commit()
    conn.close()
    cli("interviews")  # opening the project migrates it
    assert json.loads(query(db_path, "SELECT patterns FROM codes WHERE key = 'funding'")[0][0]) == {
        "en": [{"phrase": "money", "weight": 0.6}]
    }


# --- the shipped corpus ----------------------------------------------------------------------------------------------


def test_the_shipped_corpus_holds_french_and_spanish_interviews_and_still_108_people(shipped):
    cli = shipped
    declared = {f.stem: front(f)["language"] for f in CORPUS.glob("INT-*.md")}
    counts = {lang: list(declared.values()).count(lang) for lang in set(declared.values())}
    assert counts == {"en": 54, "fr": 5, "es": 5}
    people = json.loads(cli("participants", "--format", "json").stdout)
    assert people["total"] == 108 and people["by_gender"] == {"woman": 65, "man": 43}
    assert "sources by language: en 54, fr 5, es 5" in cli("interviews").stdout


@pytest.mark.parametrize("coder", ["coder-c", "coder-d", "coder-e"])
def test_the_french_and_spanish_coders_decided_every_participant_turn_of_their_interviews(shipped, coder):
    path = LANGUAGE_CODINGS / f"{coder}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    interviews = sorted({r["interview"] for r in rows})
    assert all(front(CORPUS / f"{i}.md")["language"] in ("fr", "es") for i in interviews)
    undecided = query(
        shipped.db_path,
        f"""SELECT t.interview_id, t.idx FROM turns t JOIN speakers s ON s.id = t.speaker_id
            WHERE s.participant_id IS NOT NULL AND t.interview_id IN ({",".join("?" * len(interviews))})
            AND t.id NOT IN (SELECT turn_id FROM live_codings WHERE coder = ?)""",
        [*interviews, coder],
    )
    assert undecided == []


def test_evaluate_reports_each_language_of_the_held_out_turns(shipped):
    """coder-e coded two French and two Spanish interviews that coder-a (English only) never decided."""
    cli = shipped
    args = ["suggest", "--evaluate", "--coder", "coder-a", "--folds", "2", "--heldout-coder", "coder-e"]
    result = json.loads(cli(*args, "--format", "json").stdout)
    assert list(result["languages"]) == ["en"]
    held = result["heldout"]["coder-e"]
    with (LANGUAGE_CODINGS / "coder-e.csv").open(encoding="utf-8", newline="") as f:
        turns = {(r["interview"], r["turn"]) for r in csv.DictReader(f)}
    by_language = {lang: sum(front(CORPUS / f"{i}.md")["language"] == lang for i, _ in turns) for lang in ("fr", "es")}
    assert {k: v["turns"] for k, v in held["languages"].items()} == by_language
    assert sum(v["turns"] for v in held["languages"].values()) == held["turns"] == len(turns)
    table = cli(*args).stdout
    assert "Suggestions by language" in table and "French" in table and "Spanish" in table


def test_the_vocabulary_feature_is_filled_in_for_a_turn_in_another_language(shipped, tmp_path):
    """The codebook's definitions are English: a French turn cannot share their words, and reading it as 0 made the
    English-trained model call every French turn off-topic. It takes the feature's mean over the English turns."""
    from qualcode.store.db import open_project
    from qualcode.suggest import models
    from qualcode.suggest.score import Scorer

    cli = Cli(copy_db(shipped.db_path, tmp_path / "v.db"))  # training makes a model active: on a copy
    cli("train", "--coder", "coder-a")
    db = open_project(tmp_path / "v.db")
    model = models.active(db)
    space = model.space
    assert space.language == "en" and sorted(space.fill) == sorted(n for n in space.names if n.startswith("vocab:"))
    assert all(0 < v < 1 for v in space.fill.values())
    scorer = Scorer.build(db)
    french = "Le BIT a financé la formation des inspecteurs du travail, mais les frais de recrutement continuent."
    english = "The ILO funded the training of labour inspectors, but recruitment fees go on."
    x = scorer.features(space, [french, english], ["", ""], ["fr", "en"])
    vocab = [i for i, n in enumerate(space.names) if n.startswith("vocab:")]
    assert [x[0, i] for i in vocab] == [space.fill[space.names[i]] for i in vocab]
    assert [x[1, i] for i in vocab] != [space.fill[space.names[i]] for i in vocab]  # read from its own words
    db.conn.close()


@pytest.mark.parametrize(
    ("pair", "interviews"),
    [(("coder-c", "coder-e"), ("INT-04", "INT-20")), (("coder-d", "coder-e"), ("INT-28", "INT-39"))],
)
def test_agreement_on_the_french_and_spanish_interviews_is_recounted_from_the_files(shipped, pair, interviews):
    """The audit of two coders in French (or Spanish) equals Cohen's kappa computed here from the coding files and
    the codebook alone (scikit-learn), over every (turn, code) item of the turns both decided."""
    from sklearn.metrics import cohen_kappa_score

    cli = shipped

    def codable(codes, parent=""):
        for c in codes:
            path = f"{parent}/{c['name']}" if parent else c["name"]
            if c.get("codable", True):
                yield path
            yield from codable(c.get("children") or [], path)

    codes = list(codable(yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))["codes"]))
    decided = []
    for coder in pair:
        turns: dict[tuple, set] = {}
        with (LANGUAGE_CODINGS / f"{coder}.csv").open(encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                if r["interview"] in interviews:
                    turns.setdefault((r["interview"], r["turn"]), set()).update([r["code"]] if r["code"] else [])
        decided.append(turns)
    both = sorted(set(decided[0]) & set(decided[1]))
    items = [[c in d[t] for t in both for c in codes] for d in decided]
    audit = json.loads(
        cli("audit", "--coders", ",".join(pair), "--interview", ",".join(interviews), "--format", "json").stdout
    )
    overall = next(r for r in audit["rows"] if r["level"] == "overall")
    assert audit["scope"]["turns"] == len(both) and overall["units"] == len(items[0])
    assert overall["statistics"]["cohen_kappa"]["value"] == pytest.approx(cohen_kappa_score(*items), abs=1e-12)
